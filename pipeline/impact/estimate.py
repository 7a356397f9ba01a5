"""Does mentoring work? The effect of starting a learning mentor, from the school's own history (issue #24).

Design (docs/impact.md explains it for a head teacher): for each start of a learning mentor, the mentees are
compared with pupils of the same school on the same date who were not being mentored then and whose record before
the start looked alike. "Alike" is a propensity score: a logistic regression (scikit-learn) of being started on the
pre-period record (attendance and negative behaviour points in each of the six fortnights before the start, the
English and maths gap to target, disadvantage and SEN), fitted on every cohort together. Each mentee is matched
with its five nearest comparison pupils on that score, within the same school and start date, with replacement,
within a caliper of half a standard deviation of the score's logit. Then difference-in-differences: the
mentee's change from the half-term before the start (30 school days) to the half-term after it, minus the mean
change of its comparison pupils, with the Abadie-Imbens regression correction for what the matching left unequal.
The 95% interval is a Poisson-weighted bootstrap of mentees and comparison pupils alike.

Why the comparison: mentees are chosen because their record fell recently; much of such a fall is chance and
reverses anyway, so a mentee's own before/after change (reported too, as "naive") overstates the effect. Pupils
with the same recent fall who were not mentored reverse just as much, and the difference removes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from pipeline.sql import sql_file

MENTOR = "Learning mentor"
OUTCOMES: dict[str, str] = {
    "attendance": "percentage points of attendance",
    "negative_behaviour_points": "negative behaviour points per 30 school days",
    "attainment_gap": "grades, English and maths working-at minus target",
}
BARRIERS = ("severe absence", "persistent absence", "behaviour", "other")
METHOD = (
    "matched: 5 nearest pupils on a propensity score of the pre-period record, same school and start date, "
    "then difference-in-differences (bias-corrected); bootstrap 95% of mentees and comparison pupils"
)
NAIVE_METHOD = "naive: mentees' own change from before to after, no comparison (biased by regression to the mean)"


Row = tuple[str, str, float | None, float | None, float | None, int, int, str, str, str]


@dataclass(frozen=True)
class ImpactSettings:
    """Choices of the design; the defaults are those docs/impact.md describes."""

    intervention: str = MENTOR
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


def load_units(con: duckdb.DuckDBPyConnection, settings: ImpactSettings | None = None) -> pd.DataFrame:
    """One row per learning-mentor cohort (school, start date) and pupil with a record around it.

    Columns: school_id, start_date, upn, treated, other_mentoring, disadvantaged, sen, gap_before, gap_change,
    post_days, att_post, points_post, att_b1..att_bN and points_b1..points_bN (attendance as a share of possible
    sessions; negative points as a positive count), att_pre and points_pre (the pre-period of the comparison).
    """
    s = settings or ImpactSettings()
    windows = con.execute(
        _sql("windows.sql"),
        {"break_days": s.break_days, "bins": s.bins, "bin_days": s.bin_days, "intervention": s.intervention},
    ).df()
    pupils = con.execute(
        _sql("pupils.sql"),
        {
            "intervention": s.intervention,
            "washout_days": s.washout_days,
            "gap_before_days": s.gap_before_days,
            "gap_after_days": s.gap_after_days,
        },
    ).df()
    keys = ["school_id", "start_date", "upn"]
    if windows.empty:
        return pd.DataFrame(columns=[*keys, "treated"])
    wide = windows.pivot_table(
        index=[*keys, "post_days"], columns="period", values=["possible", "attended", "negative_points"], aggfunc="sum"
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
    units["start_date"] = pd.to_datetime(units["start_date"]).dt.date
    pupils["start_date"] = pd.to_datetime(pupils["start_date"]).dt.date
    return units.merge(pupils, on=keys, how="inner")


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
    for k in range(1, settings.bins + 1):
        att = units[f"att_b{k}"].to_numpy(dtype=float)
        columns += [np.where(np.isnan(att), pre, att), np.isnan(att).astype(float), units[f"points_b{k}"].to_numpy()]
    gap = units["gap_before"].to_numpy(dtype=float)
    columns += [
        np.nan_to_num(gap),
        np.isnan(gap).astype(float),
        units["disadvantaged"].to_numpy(dtype=float),
        units["sen"].to_numpy(dtype=float),
        np.minimum(units["points_pre"].to_numpy(dtype=float), 30) ** 0.5,
        (1 - pre) ** 2,
    ]
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


def match(units: pd.DataFrame, settings: ImpactSettings | None = None) -> Matched:
    """Match each mentee with comparison pupils of the same cohort on the propensity score (see module doc)."""
    s = settings or ImpactSettings()
    usable = units[
        ~units["other_mentoring"]
        & units["att_pre"].notna()
        & units["att_post"].notna()
        & (units["possible_share_post"] >= s.min_post_share)
    ].reset_index(drop=True)
    treated = usable["treated"].to_numpy(dtype=bool)
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


def estimate(units: pd.DataFrame, settings: ImpactSettings | None = None) -> ImpactResult:
    """The impact table: per outcome, overall and by barrier, the matched estimate and the naive change."""
    s = settings or ImpactSettings()
    rng = np.random.default_rng(s.seed)
    columns = ["outcome", "barrier", "estimate", "ci_low", "ci_high", "treated", "controls", "method", "unit", "note"]
    starts = int(units["treated"].sum()) if len(units) else 0
    if starts < s.min_mentees:
        note = (
            f"too few learning-mentor starts with a full half-term before and after them in the data ({starts}; "
            f"at least {s.min_mentees} are needed): no estimate"
        )
        too_few: list[Row] = [(o, "all", None, None, None, starts, 0, METHOD, u, note) for o, u in OUTCOMES.items()]
        return ImpactResult(pd.DataFrame(too_few, columns=columns), None, [note])
    matched = match(units, s)
    rows: list[Row] = []
    groups = [("all", np.ones(len(matched.mentees), dtype=bool))] + [
        (b, (matched.mentees["barrier"] == b).to_numpy()) for b in BARRIERS
    ]
    for outcome, unit in OUTCOMES.items():
        effect = matched.mentees[f"effect_{outcome}"].to_numpy()
        change = matched.mentees[f"change_{outcome}"].to_numpy()
        for barrier, members in groups:
            keep = members & ~np.isnan(effect)
            n = int(keep.sum())
            # Comparison pupils are counted once per cohort they were matched in.
            n_controls = int(
                matched.controls.loc[matched.controls["mentee"].isin(np.flatnonzero(keep)), "control"].nunique()
            )
            if n < s.min_mentees:
                note = f"too few mentees with this outcome ({n}; at least {s.min_mentees} are needed): no estimate"
                if barrier != "all" and n == 0:
                    continue
                rows.append((outcome, barrier, None, None, None, n, n_controls, METHOD, unit, note))
                continue
            low, high = _bootstrap_matched(matched, np.flatnonzero(keep), outcome, s.bootstrap, rng)
            rows.append((outcome, barrier, float(effect[keep].mean()), low, high, n, n_controls, METHOD, unit, ""))
            if barrier == "all":
                n_low, n_high = _bootstrap(change[keep], s.bootstrap, rng)
                rows.append((outcome, barrier, float(change[keep].mean()), n_low, n_high, n, 0, NAIVE_METHOD, unit, ""))
    notes = []
    if matched.unmatched:
        notes.append(
            f"{matched.unmatched} of {matched.candidates} mentees had no comparison pupil close enough and are left out"
        )
    table = pd.DataFrame(rows, columns=columns)
    for column in ("estimate", "ci_low", "ci_high"):
        table[column] = table[column].astype(float).round(3)
    return ImpactResult(table, matched, notes)


def impact(con: duckdb.DuckDBPyConnection, settings: ImpactSettings | None = None) -> ImpactResult:
    """Load the record around every learning-mentor start in the warehouse and estimate the effect."""
    return estimate(load_units(con, settings), settings)


__all__ = ["ImpactResult", "ImpactSettings", "Matched", "barrier_of", "estimate", "impact", "load_units", "match"]
