"""The audit over the warehouse: the shortlist published tonight and every evaluation window (see :mod:`.audit`).

The ``current shortlist`` rows describe the pupils actually published: the warehouse's ``published`` table, which
the report stage replaces once every school's files are written. They are never re-ranked here, so whatever rule
chose the list (capacity, tie-breaks, pupils left out or places reserved) the audit counts exactly the pupils on
it. The evaluation windows have no published list: their rows re-rank each window's pupils with the model fitted
before it, and are labelled as what the model would have chosen.
"""

from __future__ import annotations

import logging

import duckdb
import numpy as np
import pandas as pd

from pipeline.config import Settings
from pipeline.evaluate.audit import PUPIL_GROUPS, audit, groups
from pipeline.evaluate.compare import top_at_capacity
from pipeline.evaluate.release import evaluation_data
from pipeline.model import PointsScorecard, Scorecard
from pipeline.model.scoring import StageOrderError, read_features
from pipeline.warehouse import published_night

log = logging.getLogger(__name__)

PUBLISHED_SHORTLIST = f"""
select school_id, upn from published where listing = 'shortlist'
qualify {published_night()} = max({published_night()}) over (partition by school_id)
"""
"""Who is on each school's published shortlist (its last completed publication, of the latest night)."""
WINDOW_SCOPE = "what the model would have chosen in {window}"


def audit_all(con: duckdb.DuckDBPyConnection, settings: Settings, n_boot: int = 200) -> pd.DataFrame:
    """Audit rows for the ``current shortlist`` (the published one) and for each evaluation window."""
    card = Scorecard.load(settings.scorecard)
    demographics = con.execute(PUPIL_GROUPS).df()
    parts = []
    published = con.execute(PUBLISHED_SHORTLIST).df()
    if published.empty:
        log.warning("nothing is published yet: the audit has the evaluation windows only")
    else:
        features = read_features(con)
        tonight = set(features["school_id"].astype(str))
        held = sorted(set(published["school_id"].astype(str)) - tonight)
        if held:
            # A school the nightly run held back keeps its last lists, of an earlier night, and has no feature rows:
            # its list cannot be set beside its roll tonight.
            log.warning(
                "school(s) %s: published lists of an earlier night (held back tonight) and no rows in the feature "
                "table: not in the current shortlist's audit",
                ", ".join(held),
            )
        published = published[published["school_id"].astype(str).isin(tonight)]
        if not published.empty:
            parts.append(audit_published(features, demographics, published, n_boot, held))
    data, windows = evaluation_data(con, settings)
    data = data.merge(demographics, on=["school_id", "upn"], how="left")
    for window in windows:
        test = data[data["as_of"].isin(pd.to_datetime(list(window.test_nights)))].reset_index(drop=True)
        train = data[pd.to_datetime(data["horizon_end"]).dt.date < window.start]
        model = PointsScorecard(card=card).fit(train, train["outcome"].astype(int))
        chosen = np.zeros(len(test), dtype=bool)
        chosen[top_at_capacity(test, model.score(test), settings)] = True
        part = audit(groups(test), chosen, test["outcome"].astype(bool).to_numpy(), n_boot)
        part.insert(0, "scope", WINDOW_SCOPE.format(window=window.name))
        parts.append(part)
    if not parts:
        raise StageOrderError("nothing to audit: no shortlist is published and the history has no evaluation window")
    return pd.concat(parts, ignore_index=True)


def audit_published(
    features: pd.DataFrame,
    demographics: pd.DataFrame,
    published: pd.DataFrame,
    n_boot: int = 200,
    left_out: list[str] | None = None,
) -> pd.DataFrame:
    """Audit rows of the published shortlist: every pupil in ``features`` (the night's feature table), selected
    when ``published`` (school_id, upn) lists them. Refuses a publication of pupils the feature table lacks (it is
    then of another night). ``left_out``: schools whose lists were left out (held back tonight), named in the
    rows' scope."""
    pupils = features.merge(demographics, on=["school_id", "upn"], how="left")
    on_roll = pd.MultiIndex.from_frame(pupils[["school_id", "upn"]].astype(str))
    listed = pd.MultiIndex.from_frame(published[["school_id", "upn"]].astype(str))
    if len(listed.difference(on_roll)):
        raise StageOrderError(
            f"{len(listed.difference(on_roll))} published pupils are not in the feature table, which is of another "
            "night than the published shortlists: run `mentor run` (or `mentor report`) again"
        )
    chosen = on_roll.isin(listed)
    nights = sorted({pd.Timestamp(day).date().isoformat() for day in pupils["as_of"].dropna().unique()})
    current = audit(groups(pupils), np.asarray(chosen, dtype=bool), None, n_boot)
    held = f"; school {', '.join(left_out)} held back, not audited" if left_out else ""
    current.insert(0, "scope", f"current shortlist (published, {', '.join(nights) or 'no night'}{held})")
    return current
