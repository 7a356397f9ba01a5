"""The audit over the warehouse: the current shortlist and every evaluation window (see :mod:`.audit`)."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from pipeline.config import Settings
from pipeline.evaluate.audit import PUPIL_GROUPS, audit, groups
from pipeline.evaluate.compare import top_at_capacity
from pipeline.evaluate.release import evaluation_data
from pipeline.model import PointsScorecard, Scorecard
from pipeline.model.scoring import read_features, read_scores


def audit_all(con: duckdb.DuckDBPyConnection, settings: Settings, n_boot: int = 200) -> pd.DataFrame:
    """Audit rows for ``current shortlist`` (from the last published scores) and each evaluation window."""
    card = Scorecard.load(settings.scorecard)
    demographics = con.execute(PUPIL_GROUPS).df()
    parts = []
    features = read_features(con)
    scores = read_scores(con, card)
    pupils = features.merge(demographics, on=["school_id", "upn"], how="left")
    chosen = np.zeros(len(pupils), dtype=bool)
    chosen[top_at_capacity(pupils, scores["score"].to_numpy(dtype=float), settings)] = True
    current = audit(groups(pupils), chosen, None, n_boot)
    current.insert(0, "scope", f"current shortlist ({pd.Timestamp(features['as_of'].iloc[0]).date()})")
    parts.append(current)
    data, windows = evaluation_data(con, settings)
    data = data.merge(demographics, on=["school_id", "upn"], how="left")
    for window in windows:
        test = data[data["as_of"].isin(pd.to_datetime(list(window.test_nights)))].reset_index(drop=True)
        train = data[pd.to_datetime(data["horizon_end"]).dt.date < window.start]
        model = PointsScorecard(card=card).fit(train, train["outcome"].astype(int))
        chosen = np.zeros(len(test), dtype=bool)
        chosen[top_at_capacity(test, model.score(test), settings)] = True
        part = audit(groups(test), chosen, test["outcome"].astype(bool).to_numpy(), n_boot)
        part.insert(0, "scope", window.name)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)
