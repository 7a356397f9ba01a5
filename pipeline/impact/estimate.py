"""Does mentoring work? The effect of starting a learning mentor, from the school's own history (issue #24).

Design (docs/impact.md explains it for a head teacher): for each start of a learning mentor, the mentees are
compared with pupils of the same school on the same date who were not being mentored then, nor started mentoring
before the follow-up ended, and whose record before the start looked alike. "Alike" is a propensity score: a
logistic regression (scikit-learn) of being started on the pre-period record (attendance and negative behaviour
points in each of the six fortnights before the start, the English and maths gap to target, disadvantage and SEN),
fitted on every cohort together. Each mentee is matched with its five nearest comparison pupils on that score,
within the same school and start date, with replacement, within a caliper of half a standard deviation of the
score's logit. Then difference-in-differences: the mentee's change from the half-term before the start (30 school
days) to the half-term after it, minus the mean change of its comparison pupils, with the Abadie-Imbens regression
correction for what the matching left unequal. The 95% interval is a Poisson-weighted bootstrap of mentees and
comparison pupils alike.

Why the comparison: mentees are chosen because their record fell recently; much of such a fall is chance and
reverses anyway, so a mentee's own before/after change (reported too, as "naive") overstates the effect when that
is how they were chosen. Pupils whose record showed the same fall and who were not mentored reverse as much only
in so far as the record shows what staff chose on (docs/impact.md, "What it cannot mean").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from pipeline.sql import sql_file

if TYPE_CHECKING:
    from pipeline.config import Settings

OUTCOMES: dict[str, str] = {
    "attendance": "percentage points of attendance",
    "negative_behaviour_points": "negative behaviour points per 30 school days",
    "attainment_gap": "grades, English and maths working-at minus target",
}
DIRECTIONS: dict[str, str] = {
    "attendance": "positive: the mentees attended more than without mentoring (better); negative: less (worse)",
    "negative_behaviour_points": (
        "negative: fewer negative behaviour points than without mentoring (better); positive: more (worse)"
    ),
    "attainment_gap": (
        "positive: the gap to target closed, or the mentees got further above target (better); "
        "negative: the gap widened (worse)"
    ),
}
"""Which way is better, for each outcome, in the words impact.csv, the console and report.html use."""
WITHOUT_OUTCOME = {
    "attendance": "no attendance before and after the start",
    "negative_behaviour_points": "no behaviour record",
    "attainment_gap": "no English and maths gap to target from a data drop before and soon after the start",
}
COLUMNS = [
    "outcome", "barrier", "estimate", "ci_low", "ci_high", "treated", "controls", "starts", "unmatched", "method",
    "unit", "direction", "note",
]  # fmt: skip
OPTIONAL_FILES = ("behaviour.csv", "interventions.csv")
"""Export files whose absence the estimate must not read as "nothing happened" (docs/contract.md: optional)."""
BARRIERS = ("severe absence", "persistent absence", "behaviour", "other")
METHOD = (
    "matched: 5 nearest pupils on a propensity score of the pre-period record, same school and start date, "
    "then difference-in-differences (bias-corrected); bootstrap 95% of mentees and comparison pupils"
)
NAIVE_METHOD = "naive: mentees' own change from before to after, no comparison (biased by regression to the mean)"


@dataclass(frozen=True)
class ImpactSettings:
    """Choices of the design; the defaults are those docs/impact.md describes."""

    mentor_interventions: tuple[str, ...] = ("Learning mentor",)
    """Interventions that are learning mentoring: the ``mentor_interventions`` setting, compared trimmed and in any
    case, as the rest of the pipeline compares them."""
    bins: int = 6
    bin_days: int = 10
    pre_bins: int = 3
    """Bins that make the pre-period of the difference-in-differences (3 x 10 = a half-term)."""
    break_days: int = 7
    washout_days: int = 60
    gap_before_days: int = 150
    gap_after_days: int = 120
    neighbours: int = 5
    caliper: float = 0.5
    min_mentees: int = 20
    """Fewer mentees than this (overall, or in a barrier group) and the table says so instead of a number."""
    bootstrap: int = 2000
    seed: int = 24
    min_post_share: float = 0.5
    """A pupil counts for a cohort if they have at least this share of its possible sessions after the start."""

    @property
    def names(self) -> list[str]:
        """``mentor_interventions`` as the SQL compares intervention names: trimmed, in lower case.

        >>> ImpactSettings(mentor_interventions=(" Learning Mentor", "MENTOR time")).names
        ['learning mentor', 'mentor time']
        """
        return [name.strip().lower() for name in self.mentor_interventions]

    @classmethod
    def of(cls, settings: Settings, **choices: Any) -> ImpactSettings:
        """The design's defaults, with the pipeline settings' ``mentor_interventions``."""
        return cls(mentor_interventions=tuple(settings.mentor_interventions), **choices)


@dataclass(frozen=True)
class Matched:
    """The matched comparison: one row per mentee (cohort, upn, barrier, its ``row`` in ``pool``, per-outcome
    changes and effects), the comparison pupils each was matched with (``mentee``: position in ``mentees``;
    ``control``: row in ``pool``), and ``pool``: every usable unit with its propensity ``logit``."""

    mentees: pd.DataFrame
    controls: pd.DataFrame
    pool: pd.DataFrame
    candidates: int
    unmatched: int
    residuals: dict[str, np.ndarray] = field(default_factory=dict)
    """Per outcome, each pool row's change minus what the correction's regression predicts for it."""


@dataclass(frozen=True)
class ImpactResult:
    table: pd.DataFrame
    matched: Matched | None
    notes: list[str] = field(default_factory=list)


def _sql(name: str) -> str:
    return sql_file("pipeline.impact", name)


def undelivered(con: duckdb.DuckDBPyConnection, files: Sequence[str] = OPTIONAL_FILES) -> dict[str, list[str]]:
    """For each of ``files``, the schools on roll that never delivered it (no delivery of it was ever loaded, as the
    warehouse's ``loads`` table records): their record of it is unknown, not empty."""
    found: dict[str, list[str]] = {file: [] for file in files}
    for school, file in con.execute(_sql("undelivered.sql"), {"files": list(files)}).fetchall():
        found[str(file)].append(str(school))
    return found


def load_units(con: duckdb.DuckDBPyConnection, settings: ImpactSettings | None = None) -> pd.DataFrame:
    """One row per learning-mentor cohort (school, start date) and pupil with a record around it.

    Columns: school_id, start_date, upn, treated, other_mentoring, started_in_window, disadvantaged, sen, gap_before,
    gap_change, post_days, post_end, att_post, points_post, att_b1..att_bN and points_b1..points_bN (attendance as a
    share of possible sessions; negative points as a positive count), att_pre and points_pre (the pre-period of the
    comparison). ``started_in_window``: a pupil not started on the date whose mentoring starts before the cohort's
    follow-up ends (by ``post_end``); such a pupil is no comparison for the cohort. A comparison pupil whose mentoring
    starts before the data drop that gives the gap's change has no ``gap_change``. Negative points are missing (NaN)
    at a school that never delivered behaviour.csv: unknown, not 0.
    """
    s = settings or ImpactSettings()
    windows = con.execute(
        _sql("windows.sql"),
        {"break_days": s.break_days, "bins": s.bins, "bin_days": s.bin_days, "names": s.names},
    ).df()
    pupils = con.execute(
        _sql("pupils.sql"),
        {
            "names": s.names,
            "washout_days": s.washout_days,
            "gap_before_days": s.gap_before_days,
            "gap_after_days": s.gap_after_days,
        },
    ).df()
    keys = ["school_id", "start_date", "upn"]
    if windows.empty:
        return pd.DataFrame(columns=[*keys, "treated", "other_mentoring", "started_in_window"])
    wide = windows.pivot_table(
        index=[*keys, "post_days", "post_end"],
        columns="period",
        values=["possible", "attended", "negative_points"],
        aggfunc="sum",
    )
    wide = wide.fillna(0)
    units = pd.DataFrame(index=wide.index)
    periods = ["post", *[f"b{k}" for k in range(1, s.bins + 1)]]
    for period in periods:
        possible = _column(wide, "possible", period)
        units[f"possible_{period}"] = possible
        units[f"att_{period}"] = np.where(
            possible > 0, _column(wide, "attended", period) / np.maximum(possible, 1), np.nan
        )
        units[f"points_{period}"] = _column(wide, "negative_points", period)
    pre = [f"b{k}" for k in range(1, s.pre_bins + 1)]
    pre_possible = sum(_column(wide, "possible", p) for p in pre)
    pre_attended = sum(_column(wide, "attended", p) for p in pre)
    units["att_pre"] = np.where(pre_possible > 0, pre_attended / np.maximum(pre_possible, 1), np.nan)
    units["points_pre"] = sum(units[f"points_{p}"] for p in pre) * 30 / (s.pre_bins * s.bin_days)
    units = units.reset_index()
    units["points_post"] = units["points_post"] * 30 / units["post_days"]
    units["possible_share_post"] = units["possible_post"] / (2 * units["post_days"])
    for frame in (units, pupils):
        frame["start_date"] = pd.to_datetime(frame["start_date"]).dt.date
    units = units.merge(pupils, on=keys, how="inner")
    # A pupil whose own mentoring starts during the follow-up is not "not mentored" over it: no comparison pupil
    # (docs/impact.md: "Who counts"). For the gap, whose follow-up ends at the first data drop after the start
    # (often after the half-term), such a pupil still compares for attendance and behaviour, not for the gap.
    next_start = pd.to_datetime(units.pop("next_start"))
    comparison = ~units["treated"].astype(bool)
    units["started_in_window"] = comparison & (next_start <= pd.to_datetime(units["post_end"])).to_numpy()
    gap_mentored = comparison & (next_start <= pd.to_datetime(units.pop("gap_after_date"))).to_numpy()
    units["gap_change"] = units["gap_change"].astype(float).mask(gap_mentored)
    unknown = units["school_id"].astype(str).isin(undelivered(con, ["behaviour.csv"])["behaviour.csv"])
    points = [c for c in units.columns if c.startswith("points_")]
    units[points] = units[points].astype(float)
    units.loc[unknown, points] = np.nan
    return units


def _column(wide: pd.DataFrame, value: str, period: str) -> np.ndarray:
    if (value, period) in wide.columns:
        return wide[(value, period)].to_numpy(dtype=float)
    return np.zeros(len(wide))


def barrier_of(units: pd.DataFrame) -> pd.Series:
    """What the record showed in the half-term before the start, first that applies: severe absence (attendance
    under 50%), persistent absence (under 90%), behaviour (6 or more negative points), otherwise other."""
    return pd.Series(
        np.select(
            [units["att_pre"] < 0.5, units["att_pre"] < 0.9, units["points_pre"] >= 6],
            list(BARRIERS[:3]),
            BARRIERS[3],
        ),
        index=units.index,
    )


def _features(units: pd.DataFrame, settings: ImpactSettings) -> np.ndarray:
    columns = []
    pre = units["att_pre"].to_numpy(dtype=float)
    points_pre = units["points_pre"].to_numpy(dtype=float)
    for k in range(1, settings.bins + 1):
        att = units[f"att_b{k}"].to_numpy(dtype=float)
        points = np.nan_to_num(units[f"points_b{k}"].to_numpy(dtype=float))
        columns += [np.where(np.isnan(att), pre, att), np.isnan(att).astype(float), points]
    gap = units["gap_before"].to_numpy(dtype=float)
    columns += [
        np.nan_to_num(gap),
        np.isnan(gap).astype(float),
        units["disadvantaged"].to_numpy(dtype=float),
        units["sen"].to_numpy(dtype=float),
        np.minimum(np.nan_to_num(points_pre), 30) ** 0.5,
        (1 - pre) ** 2,
    ]
    if np.isnan(points_pre).any():  # a school that never delivered behaviour.csv: its points are unknown, not 0
        columns.append(np.isnan(points_pre).astype(float))
    return np.column_stack(columns)


def _changes(units: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "attendance": 100 * (units["att_post"] - units["att_pre"]),
            "negative_behaviour_points": units["points_post"] - units["points_pre"],
            "attainment_gap": units["gap_change"],
        },
        index=units.index,
    )


def taking_part(units: pd.DataFrame, settings: ImpactSettings | None = None) -> pd.Series:
    """Which rows of ``units`` take part, as mentee or comparison pupil: not in (or just out of) an earlier mentoring
    (so a renewal or re-start is no new start), not starting mentoring during the follow-up, with attendance before
    and after the start and at least ``min_post_share`` of the possible sessions after it."""
    s = settings or ImpactSettings()
    if units.empty:
        return pd.Series(False, index=units.index)
    keep = (
        ~units["other_mentoring"].astype(bool)
        & units["att_pre"].notna()
        & units["att_post"].notna()
        & (units["possible_share_post"] >= s.min_post_share)
    )
    if "started_in_window" in units:
        keep &= ~units["started_in_window"].astype(bool)
    return keep


def match(units: pd.DataFrame, settings: ImpactSettings | None = None) -> Matched:
    """Match each mentee with comparison pupils of the same cohort on the propensity score (see module doc).

    ValueError when there are no mentees or no pupils to compare them with (:func:`estimate` says "too few" first).
    """
    s = settings or ImpactSettings()
    usable = units[taking_part(units, s)]
    # A cohort with no new start (every start on its date a renewal) has no one to match: its pupils would only
    # move the propensity model's fit, and so every other cohort's matches.
    cohorts = usable["school_id"].astype(str) + "|" + usable["start_date"].astype(str)
    usable = usable[usable["treated"].astype(bool).groupby(cohorts).transform("any")].reset_index(drop=True)
    treated = usable["treated"].to_numpy(dtype=bool)
    if treated.all() or not treated.any():
        raise ValueError("matching needs learning-mentor starts and pupils not mentored then to compare them with")
    X = _features(usable, s)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
    model.fit(X, treated)
    score = np.clip(model.predict_proba(X)[:, 1], 1e-6, 1 - 1e-6)
    logit = np.log(score / (1 - score))
    caliper = s.caliper * float(np.std(logit))
    changes = _changes(usable)
    cohort = usable["school_id"].astype(str) + "|" + usable["start_date"].astype(str)
    mentee_rows: list[int] = []
    control_rows: list[tuple[int, int, int]] = []
    unmatched = 0
    for _, index in cohort.groupby(cohort).groups.items():
        rows = np.asarray(index)
        t_rows, c_rows = rows[treated[rows]], rows[~treated[rows]]
        for t in t_rows:
            if len(c_rows) == 0:
                unmatched += 1
                continue
            distance = np.abs(logit[c_rows] - logit[t])
            nearest = c_rows[np.argsort(distance, kind="stable")[: s.neighbours]]
            nearest = nearest[np.abs(logit[nearest] - logit[t]) <= caliper]
            if len(nearest) == 0:
                unmatched += 1
                continue
            control_rows += [(len(mentee_rows), t, c) for c in nearest]
            mentee_rows.append(t)
    controls = pd.DataFrame(control_rows, columns=["mentee", "row", "control"])
    mentees = usable.loc[mentee_rows, ["school_id", "start_date", "upn"]].copy()
    mentees["barrier"] = barrier_of(usable).loc[mentee_rows].to_numpy()
    mentees["logit"] = logit[mentee_rows]
    mentees["row"] = mentee_rows
    corrected, residuals = _bias_corrected(X, changes, treated, mentee_rows, controls)
    for outcome in OUTCOMES:
        mentees[f"change_{outcome}"] = changes[outcome].to_numpy()[mentee_rows]
        mentees[f"effect_{outcome}"] = corrected[outcome]
    controls["control_upn"] = usable["upn"].to_numpy()[controls["control"]]
    pool = usable.assign(logit=logit, barrier=barrier_of(usable))
    return Matched(mentees.reset_index(drop=True), controls, pool, int(treated.sum()), unmatched, residuals)


def _bias_corrected(
    X: np.ndarray, changes: pd.DataFrame, treated: np.ndarray, mentees: list[int], controls: pd.DataFrame
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Each mentee's change minus its comparison pupils' mean change, corrected (Abadie and Imbens, 2011) by a
    linear regression of the change on the pre-period record among comparison pupils, for what matching left
    unequal. NaN where the outcome is missing for the mentee or all its comparison pupils."""
    result: dict[str, np.ndarray] = {}
    residuals: dict[str, np.ndarray] = {}
    scale = X.std(axis=0)
    Z = np.column_stack([np.ones(len(X)), (X - X.mean(axis=0)) / np.where(scale > 0, scale, 1)])
    pool = ~treated
    for outcome in OUTCOMES:
        y = changes[outcome].to_numpy(dtype=float)
        fit = pool & ~np.isnan(y)
        if fit.sum() > Z.shape[1]:
            coefficients = np.linalg.lstsq(Z[fit], y[fit], rcond=None)[0]
            predicted = Z @ coefficients
        else:
            predicted = np.zeros(len(y))
        effects = np.full(len(mentees), np.nan)
        groups = controls.groupby("mentee")["control"].apply(np.asarray)
        for k, t in enumerate(mentees):
            c = groups[k]
            c = c[~np.isnan(y[c])]
            if np.isnan(y[t]) or len(c) == 0:
                continue
            effects[k] = (y[t] - y[c].mean()) - (predicted[t] - predicted[c].mean())
        result[outcome] = effects
        residuals[outcome] = y - predicted
    return result, residuals


def _bootstrap(values: np.ndarray, draws: int, rng: np.random.Generator) -> tuple[float, float]:
    picks = rng.integers(0, len(values), size=(draws, len(values)))
    means = values[picks].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def _bootstrap_matched(
    matched: Matched, members: np.ndarray, outcome: str, draws: int, rng: np.random.Generator
) -> tuple[float, float]:
    """95% interval of the mean effect over the mentees at positions ``members``: a Poisson-weighted bootstrap
    that weights mentees and comparison pupils independently, so that a comparison pupil shared by several
    mentees moves all their effects together (resampling mentees alone made the interval too narrow)."""
    r = matched.residuals[outcome]
    sets = matched.controls[matched.controls["mentee"].isin(members)]
    used = np.unique(sets["control"].to_numpy())
    width = int(sets.groupby("mentee").size().max())
    column = np.zeros((len(members), width), dtype=int)
    valid = np.zeros((len(members), width), dtype=bool)
    position = {m: k for k, m in enumerate(members)}
    for mentee, group in sets.groupby("mentee"):
        ids = np.searchsorted(used, group["control"].to_numpy())
        column[position[mentee], : len(ids)] = ids
        valid[position[mentee], : len(ids)] = True
    valid &= ~np.isnan(r[used][column])
    residual = np.where(valid, r[used][column], 0.0)
    own = r[matched.mentees["row"].to_numpy()[members]]
    mentee_weights = rng.poisson(1.0, (draws, len(members)))
    pupil_weights = rng.poisson(1.0, (draws, len(used)))[:, column] * valid
    total = pupil_weights.sum(axis=2)
    plain = residual.sum(axis=1) / np.maximum(valid.sum(axis=1), 1)
    compared = np.where(total > 0, (pupil_weights * residual).sum(axis=2) / np.maximum(total, 1), plain)
    means = ((own - compared) * mentee_weights).sum(axis=1) / np.maximum(mentee_weights.sum(axis=1), 1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def _schools(schools: Sequence[str]) -> str:
    """The schools named in a sentence.

    >>> _schools(["100001"]), _schools(["100001", "100002"])
    ('school 100001', 'schools 100001, 100002')
    """
    return ("school " if len(schools) == 1 else "schools ") + ", ".join(schools)


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(f"\u201c{name}\u201d" for name in names)


def _too_few_starts(
    units: pd.DataFrame, taking: pd.Series, starts: int, compared: int, s: ImpactSettings, missing: dict[str, list[str]]
) -> str:
    """Why there is no estimate at all, counting the starts as matching would use them."""
    if units.empty and "interventions.csv" in missing:
        return (
            f"no estimate: {_schools(missing['interventions.csv'])} never delivered interventions.csv, so no "
            "learning-mentor start is known there (unknown, not none)"
        )
    if starts < s.min_mentees:
        note = (
            f"too few learning-mentor starts with a full half-term before and after them in the data ({starts}; "
            f"at least {s.min_mentees} are needed): no estimate"
        )
    else:
        note = f"no pupil who was not mentored then to compare the {starts} learning-mentor starts with: no estimate"
    treated = units["treated"].astype(bool) if len(units) else pd.Series(dtype=bool)
    renewed = int((treated & units["other_mentoring"].astype(bool)).sum()) if len(units) else 0
    thin = int((treated & ~units["other_mentoring"].astype(bool) & ~taking).sum()) if len(units) else 0
    if renewed:
        note += (
            f"; {renewed} more were renewals or re-starts of a mentoring still running or ended less than "
            f"{s.washout_days} days before, which are not new starts"
        )
    if thin:
        note += f"; {thin} more had no attendance before or after the start, or too little after it"
    if not len(units) or not treated.any():
        note += (
            f"; no start of an intervention named {_quoted(s.mentor_interventions)} (the mentor_interventions "
            "setting, in any case) has the 60 school days before it and the end of its half-term in the data"
        )
    return note


def estimate(
    units: pd.DataFrame, settings: ImpactSettings | None = None, undelivered: Mapping[str, Sequence[str]] | None = None
) -> ImpactResult:
    """The impact table: per outcome, overall and by barrier, the matched estimate and the naive change.

    ``undelivered``: export file -> schools that never delivered it (:func:`undelivered`); a school without
    interventions.csv or behaviour.csv is named in the notes rather than read as having no mentoring or no points.
    """
    s = settings or ImpactSettings()
    rng = np.random.default_rng(s.seed)
    missing = {file: sorted(str(x) for x in schools) for file, schools in (undelivered or {}).items() if schools}
    in_units = set(units["school_id"].astype(str)) if len(units) else set()
    unknown_points = [school for school in missing.get("behaviour.csv", []) if school in in_units]
    shared = []  # said on every row
    if "interventions.csv" in missing and len(units):
        shared.append(
            f"{_schools(missing['interventions.csv'])} never delivered interventions.csv: mentoring there is "
            "unknown and not in the estimate"
        )
    notes = list(shared)
    taking = taking_part(units, s)
    starts = int(units.loc[taking, "treated"].astype(bool).sum()) if len(units) else 0
    compared = int(taking.sum()) - starts
    if starts < s.min_mentees or compared == 0:
        note = _too_few_starts(units, taking, starts, compared, s, missing)
        rows = []
        for outcome in OUTCOMES:
            said = [note, *shared]
            if outcome == "negative_behaviour_points" and unknown_points:
                said.append(f"{_schools(unknown_points)} never delivered behaviour.csv: no behaviour record there")
            rows.append(_row(outcome, "all", METHOD, starts, 0, starts, None, "; ".join(said)))
        return ImpactResult(_table(rows), None, [note, *notes])
    matched = match(units, s)
    started = matched.pool[matched.pool["treated"].astype(bool)]
    left_out = ~started.index.isin(matched.mentees["row"].to_numpy())
    rows = []
    groups = [("all", np.ones(len(matched.mentees), dtype=bool))] + [
        (b, (matched.mentees["barrier"] == b).to_numpy()) for b in BARRIERS
    ]
    for outcome in OUTCOMES:
        effect = matched.mentees[f"effect_{outcome}"].to_numpy()
        change = matched.mentees[f"change_{outcome}"].to_numpy()
        for barrier, members in groups:
            keep = members & ~np.isnan(effect)
            n = int(keep.sum())
            # Comparison pupils are counted once per cohort they were matched in.
            n_controls = int(
                matched.controls.loc[matched.controls["mentee"].isin(np.flatnonzero(keep)), "control"].nunique()
            )
            in_group = (
                np.ones(len(started), dtype=bool) if barrier == "all" else started["barrier"].to_numpy() == barrier
            )
            n_starts, n_unmatched = int(in_group.sum()), int((in_group & left_out).sum())
            lacking = int(members.sum()) - n
            no_points = outcome == "negative_behaviour_points" and bool(unknown_points) and lacking > 0
            said = []
            if no_points:
                said.append(
                    f"leaves out the {lacking} mentees at {_schools(unknown_points)}, which never delivered "
                    "behaviour.csv: negative behaviour points are unknown there, not 0"
                )
            if n < s.min_mentees:
                if barrier != "all" and n_starts == 0:
                    continue
                if no_points and n == 0:
                    said = [
                        f"no estimate: {_schools(unknown_points)} never delivered behaviour.csv, so the mentees' "
                        "negative behaviour points are unknown (not 0)"
                    ]
                else:
                    said.insert(
                        0, f"too few mentees with this outcome ({n}; at least {s.min_mentees} are needed): no estimate"
                    )
                    if n_unmatched:
                        said.insert(
                            1,
                            f"{n_unmatched} of the {n_starts} learning-mentor starts had no comparison pupil close "
                            "enough and are left out",
                        )
                    if lacking and not no_points:
                        said.append(
                            f"{lacking} more have {WITHOUT_OUTCOME[outcome]} (or none of their comparison pupils has)"
                        )
                note = "; ".join([*said, *shared])
                rows.append(_row(outcome, barrier, METHOD, n, n_controls, n_starts, n_unmatched, note))
                continue
            note = "; ".join([*said, *shared])
            low, high = _bootstrap_matched(matched, np.flatnonzero(keep), outcome, s.bootstrap, rng)
            rows.append(
                _row(
                    outcome, barrier, METHOD, n, n_controls, n_starts, n_unmatched, note, effect[keep].mean(), low, high
                )
            )
            if barrier == "all":
                n_low, n_high = _bootstrap(change[keep], s.bootstrap, rng)
                rows.append(
                    _row(
                        outcome,
                        barrier,
                        NAIVE_METHOD,
                        n,
                        0,
                        n_starts,
                        n_unmatched,
                        note,
                        change[keep].mean(),
                        n_low,
                        n_high,
                    )
                )
    if matched.unmatched:
        notes.append(
            f"{matched.unmatched} of {matched.candidates} mentees had no comparison pupil close enough and are left out"
        )
    if unknown_points:
        notes.append(
            f"{_schools(unknown_points)} never delivered behaviour.csv: their mentees have no behaviour estimate "
            "(points unknown, not 0)"
        )
    if "started_in_window" in units and (mentored := int((units["started_in_window"].astype(bool)).sum())):
        notes.append(
            f"{mentored} pupils were no comparison for a start because their own mentoring started before its "
            "follow-up ended"
        )
    return ImpactResult(_table(rows), matched, notes)


def _row(
    outcome: str,
    barrier: str,
    method: str,
    treated: int,
    controls: int,
    starts: int,
    unmatched: int | None,
    note: str,
    value: float | None = None,
    low: float | None = None,
    high: float | None = None,
) -> dict[str, object]:
    return {
        "outcome": outcome,
        "barrier": barrier,
        "estimate": value,
        "ci_low": low,
        "ci_high": high,
        "treated": treated,
        "controls": controls,
        "starts": starts,
        "unmatched": unmatched,
        "method": method,
        "unit": OUTCOMES[outcome],
        "direction": DIRECTIONS[outcome],
        "note": note,
    }


def _table(rows: list[dict[str, object]]) -> pd.DataFrame:
    """The rows as impact.csv's columns: estimates as numbers (missing where there is none), counts as integers."""
    table = pd.DataFrame(rows, columns=COLUMNS)
    for column in ("estimate", "ci_low", "ci_high"):
        table[column] = table[column].astype(float).round(3)
    for column in ("treated", "controls", "starts"):
        table[column] = table[column].astype(int)
    table["unmatched"] = table["unmatched"].astype("Int64")
    return table


def impact(con: duckdb.DuckDBPyConnection, settings: ImpactSettings | None = None) -> ImpactResult:
    """Load the record around every learning-mentor start in the warehouse and estimate the effect."""
    s = settings or ImpactSettings()
    return estimate(load_units(con, s), s, undelivered(con))


__all__ = [
    "COLUMNS",
    "DIRECTIONS",
    "ImpactResult",
    "ImpactSettings",
    "Matched",
    "barrier_of",
    "estimate",
    "impact",
    "load_units",
    "match",
    "taking_part",
    "undelivered",
]
