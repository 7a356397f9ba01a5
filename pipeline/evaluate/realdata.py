"""The learner on real, public data: 10-fold cross-validation of the points scorecard against well-kept models.

Data sets (all but the last bundled in ``data/public/``, CC BY 4.0, see its README; the last shipped by
scikit-learn):

- ``uci-maths`` and ``uci-portuguese``: UCI Student Performance, setup C (the period grades G1 and G2 are dropped),
  at risk = final grade G3 below 10. Yes/no and two-valued columns become 0/1 flags, the four nominal columns
  (mother's and father's job, reason, guardian) are passed one-hot. ``uci-maths-g1`` and ``uci-portuguese-g1``:
  the same with the first period's grade G1 (setup B: what a school knows after the first term; the learner's
  defaults were not tuned on them).
- ``oulad``: the Open University Learning Analytics Dataset, one row per registration: what is known at
  registration and from the assessments of the first 60 days; registrations withdrawn by day 60 are left out; at
  risk = Fail or Withdrawn. :func:`build_oulad` derives the table from the published tables.
- ``dropout``: Predict Students' Dropout and Academic Success (a Portuguese polytechnic's undergraduates, 4,424),
  what is known at enrolment and from the first two semesters' curricular units; at risk = dropped out.
  ``dropout-first-semester``: the same without the second semester (an early warning). The coded nominal columns
  (course, application mode, parents' qualifications and occupations, ...) are passed one-hot (:func:`load_dropout`).
  Added after the learner's defaults were set: none was tuned on it.
- ``breast-cancer``: not about pupils; the Wisconsin diagnostic breast cancer table scikit-learn ships, whose
  measurements come in near-copies (:func:`load_breast_cancer_table`).

Every model sees the same numeric table. Folds: ``StratifiedKFold(10, shuffle=True, random_state=0)``. Per model:
ROC AUC and precision at the top 10% (mean over folds; ties at the cut shared out as a random order would),
Brier score (mean over folds) and the expected calibration error (10 equal-width bins, pooled over all folds'
held-out predictions), beside its noise floor: the ECE a perfectly calibrated predictor with the same probabilities
would show from sampling noise alone (:func:`ece_noise_floor`). Then the points scorecard against its goals (within
0.01 AUC of gradient boosting and not below logistic regression, fold by fold; an ECE of at most 0.03):
:func:`against_goals`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

PUBLIC = Path(__file__).resolve().parents[2] / "data" / "public"
SAVED = Path(__file__).resolve().parents[2] / "models" / "learner-benchmark.csv"
"""The last full run's table (``make benchmark-model`` saves it), quoted by the model card of a learned card."""
OURS = "points scorecard"
"""The benchmark's name for ``PointsScorecard()``; its variants' names begin with it."""

UCI_FLAGS = {
    "school": "MS",
    "sex": "M",
    "address": "U",
    "famsize": "GT3",
    "Pstatus": "T",
}
"""Two-valued UCI columns as 0/1 flags: the column is 1 where it holds this value."""
UCI_NOMINAL = ("Mjob", "Fjob", "reason", "guardian")
"""UCI columns with more than two unordered values, passed one-hot (one 0/1 column per value)."""

OULAD_DAYS = 60
"""The early-warning point: what is known by this day of the module presentation."""
OULAD_EDUCATION = {
    "No Formal quals": 0,
    "Lower Than A Level": 1,
    "A Level or Equivalent": 2,
    "HE Qualification": 3,
    "Post Graduate Qualification": 4,
}
OULAD_AGE = {"0-35": 0, "35-55": 1, "55<=": 2}

DROPOUT_NOMINAL = (
    "Marital status",
    "Application mode",
    "Course",
    "Previous qualification",
    "Nacionality",
    "Mother's qualification",
    "Father's qualification",
    "Mother's occupation",
    "Father's occupation",
)
"""Dropout columns that hold codes of unordered categories, passed one-hot (one 0/1 column per code present)."""


@dataclass(frozen=True)
class Dataset:
    """A feature table (numeric columns, NaN for missing) and the outcome (1 = at risk)."""

    name: str
    X: pd.DataFrame
    y: np.ndarray


# -- data ---------------------------------------------------------------------------------------------------------


def one_hot(values: pd.Series, prefix: str) -> dict[str, pd.Series]:
    """A 0/1 column for each value present, in sorted order, named ``prefix`` and the value."""
    return {f"{prefix}{level}": (values == level).astype(float) for level in sorted(values.unique())}


def load_uci(path: Path, name: str, grades: tuple[str, ...] = ()) -> Dataset:
    """UCI Student Performance: every column but G3 and the period grades not in ``grades`` as numbers (setup C
    with none, setup B with G1); at risk = G3 below 10."""
    raw = pd.read_csv(path, sep=";")
    y = (raw["G3"] < 10).to_numpy(dtype=int)
    frame = raw.drop(columns=[c for c in ("G1", "G2", "G3") if c in raw.columns and c not in grades])
    columns: dict[str, pd.Series] = {}
    for column in frame.columns:
        values = frame[column]
        if column in UCI_FLAGS:
            columns[f"{column}_{UCI_FLAGS[column]}"] = (values == UCI_FLAGS[column]).astype(float)
        elif column in UCI_NOMINAL:
            columns |= one_hot(values, f"{column}_")
        elif not pd.api.types.is_numeric_dtype(values):
            columns[column] = (values == "yes").astype(float)
        else:
            columns[column] = values.astype(float)
    return Dataset(name, pd.DataFrame(columns), y)


def build_oulad(source: Path) -> pd.DataFrame:
    """One row per registration still registered on day 60: registration facts and the first 60 days' assessments.

    ``source`` holds the published ``studentInfo.csv``, ``studentRegistration.csv``, ``assessments.csv`` and
    ``studentAssessment.csv``. Columns: the module (one-hot), February presentation, registration day, previous
    attempts, credits studied, gender, disability, highest education (0-4), IMD band (0-9, from most deprived),
    age band (0-2); assessments (not exams) due by day 60, and of those submitted by day 60: how many, their share,
    the mean and lowest score, how many scored below 40, how many were late, and their mean days early;
    ``at_risk`` (Fail or Withdrawn).
    """
    info = pd.read_csv(source / "studentInfo.csv")
    registration = pd.read_csv(source / "studentRegistration.csv")
    assessments = pd.read_csv(source / "assessments.csv")
    submitted = pd.read_csv(source / "studentAssessment.csv")
    key = ["code_module", "code_presentation", "id_student"]
    people = info.merge(registration, on=key, how="left")
    people = people[~(people["date_unregistration"] <= OULAD_DAYS)].reset_index(drop=True)

    early = assessments[(assessments["assessment_type"] != "Exam") & (assessments["date"] <= OULAD_DAYS)]
    due = early.groupby(["code_module", "code_presentation"]).size().rename("assessments_due").reset_index()
    work = submitted.merge(early, on="id_assessment")
    work = work[work["date_submitted"] <= OULAD_DAYS].copy()
    work["late"] = (work["date_submitted"] > work["date"]).astype(float)
    work["days_early"] = (work["date"] - work["date_submitted"]).astype(float)
    work["below_40"] = (work["score"] < 40).astype(float)
    summary = (
        work.groupby(key)
        .agg(
            assessments_submitted=("id_assessment", "size"),
            mean_score=("score", "mean"),
            lowest_score=("score", "min"),
            scores_below_40=("below_40", "sum"),
            late_submissions=("late", "sum"),
            mean_days_early=("days_early", "mean"),
        )
        .reset_index()
    )
    people = people.merge(due, on=["code_module", "code_presentation"], how="left").merge(summary, on=key, how="left")
    people["assessments_due"] = people["assessments_due"].fillna(0)
    for column in ("assessments_submitted", "scores_below_40", "late_submissions"):
        people[column] = people[column].fillna(0)
    table = pd.DataFrame(index=people.index)
    for module in sorted(people["code_module"].unique()):
        table[f"module_{module}"] = (people["code_module"] == module).astype(int)
    table["february_start"] = people["code_presentation"].str.endswith("B").astype(int)
    table["registration_day"] = people["date_registration"]
    table["previous_attempts"] = people["num_of_prev_attempts"]
    table["credits"] = people["studied_credits"]
    table["male"] = (people["gender"] == "M").astype(int)
    table["disability"] = (people["disability"] == "Y").astype(int)
    table["education"] = people["highest_education"].map(OULAD_EDUCATION)
    table["imd_band"] = people["imd_band"].map(_imd_band)
    table["age_band"] = people["age_band"].map(OULAD_AGE)
    table["assessments_due"] = people["assessments_due"].astype(int)
    table["assessments_submitted"] = people["assessments_submitted"].astype(int)
    table["share_submitted"] = np.where(
        people["assessments_due"] > 0, people["assessments_submitted"] / people["assessments_due"].clip(lower=1), np.nan
    )
    table["share_submitted"] = table["share_submitted"].clip(upper=1).round(3)
    table["mean_score"] = people["mean_score"].round(1)
    table["lowest_score"] = people["lowest_score"]
    table["scores_below_40"] = people["scores_below_40"].astype(int)
    table["late_submissions"] = people["late_submissions"].astype(int)
    table["mean_days_early"] = people["mean_days_early"].round(1)
    table["at_risk"] = people["final_result"].isin(["Fail", "Withdrawn"]).astype(int)
    return table


def _imd_band(band: object) -> float:
    """``"0-10%"`` -> 0, ..., ``"90-100%"`` -> 9 (the published file writes ``10-20`` without the sign)."""
    if not isinstance(band, str):
        return math.nan
    return float(int(band.split("-")[0]) // 10)


def load_oulad(path: Path) -> Dataset:
    table = pd.read_csv(path)
    y = table.pop("at_risk").to_numpy(dtype=int)
    return Dataset("oulad", table.astype(float), y)


def load_dropout(path: Path, name: str = "dropout", first_semester_only: bool = False) -> Dataset:
    """Predict Students' Dropout and Academic Success as published (``;``-separated): every column but Target as
    numbers, the nominal codes one-hot (``DROPOUT_NOMINAL``), without the second semester's columns if
    ``first_semester_only``; at risk = Target "Dropout" (against "Graduate" and "Enrolled")."""
    raw = pd.read_csv(path, sep=";")
    raw.columns = [str(c).strip() for c in raw.columns]  # the published header has "Daytime/evening attendance\t"
    y = (raw.pop("Target") == "Dropout").to_numpy(dtype=int)
    if first_semester_only:
        raw = raw.drop(columns=[c for c in raw.columns if "2nd sem" in c])
    columns: dict[str, pd.Series] = {}
    for column in raw.columns:
        if column in DROPOUT_NOMINAL:
            columns |= one_hot(raw[column], f"{column} = ")
        else:
            columns[column] = raw[column].astype(float)
    return Dataset(name, pd.DataFrame(columns), y)


def load_breast_cancer_table() -> Dataset:
    """Not about pupils: the Wisconsin diagnostic breast cancer table scikit-learn ships (569 tumours, 30
    measurements, many of them near-copies of each other: radius, perimeter and area; mean and worst), at risk =
    malignant. A table of another kind, for the learner's promise to work on any numeric table."""
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return Dataset("breast-cancer", X.astype(float), (y.to_numpy() == 0).astype(int))


def datasets(root: Path = PUBLIC) -> dict[str, Callable[[], Dataset]]:
    """The bundled data sets by name, each loaded when called."""
    return {
        "uci-maths": lambda: load_uci(root / "uci_student" / "student-mat.csv", "uci-maths"),
        "uci-portuguese": lambda: load_uci(root / "uci_student" / "student-por.csv", "uci-portuguese"),
        "uci-maths-g1": lambda: load_uci(root / "uci_student" / "student-mat.csv", "uci-maths-g1", ("G1",)),
        "uci-portuguese-g1": lambda: load_uci(root / "uci_student" / "student-por.csv", "uci-portuguese-g1", ("G1",)),
        "oulad": lambda: load_oulad(root / "oulad" / "oulad-first60.csv.gz"),
        "dropout": lambda: load_dropout(root / "dropout" / "data.csv.gz"),
        "dropout-first-semester": lambda: load_dropout(
            root / "dropout" / "data.csv.gz", "dropout-first-semester", first_semester_only=True
        ),
        "breast-cancer": load_breast_cancer_table,
    }


# -- metrics ------------------------------------------------------------------------------------------------------


def expected_calibration_error(y: np.ndarray, probability: np.ndarray, n_bins: int = 10) -> float:
    """Mean |observed rate - mean probability| over 10 equal-width probability bins, weighted by bin size.

    >>> expected_calibration_error(np.array([0, 1, 0, 1]), np.array([0.5, 0.5, 0.5, 0.5]))
    0.0
    >>> round(expected_calibration_error(np.array([0, 0, 1, 1]), np.array([0.1, 0.1, 0.3, 0.3])), 3)
    0.4
    """
    bins = np.minimum((probability * n_bins).astype(int), n_bins - 1)
    total = 0.0
    for b in np.unique(bins):
        inside = bins == b
        total += inside.sum() * abs(float(y[inside].mean()) - float(probability[inside].mean()))
    return float(total / len(y))


ECE_GOAL = 0.03
"""The scorecard's goal for its probabilities on every data set: an expected calibration error at most this."""


def ece_noise_floor(probability: np.ndarray, draws: int = 1000, seed: int = 0) -> tuple[float, float, float]:
    """The ECE a perfectly calibrated predictor would show from sampling noise alone: outcomes drawn from
    ``probability`` itself ``draws`` times, scored with the same binning; the mean, the 95th percentile, and the
    share of draws whose ECE is at most :data:`ECE_GOAL` (how often such a predictor would meet the goal).

    A measured ECE below the 95th percentile cannot be told apart from perfect calibration on this many pupils.
    """
    rng = np.random.default_rng(seed)
    found = np.array(
        [
            expected_calibration_error((rng.random(len(probability)) < probability).astype(int), probability)
            for _ in range(draws)
        ]
    )
    return float(found.mean()), float(np.quantile(found, 0.95)), float(np.mean(found <= ECE_GOAL))


def precision_at(y: np.ndarray, score: np.ndarray, share: float = 0.1) -> float:
    """Share with the outcome among the top ``share`` by score; pupils tied at the cut count pro rata.

    >>> precision_at(np.array([1, 0, 1, 0]), np.array([4.0, 3.0, 3.0, 1.0]), share=0.5)
    0.75
    """
    k = max(1, math.ceil(share * len(y)))
    order = np.sort(score)[::-1]
    cut = order[k - 1]
    above = score > cut
    tied = score == cut
    taken_from_tie = k - int(above.sum())
    hits = float(y[above].sum()) + taken_from_tie * float(y[tied].mean())
    return hits / k


# -- models -------------------------------------------------------------------------------------------------------


def models(quick: bool = False) -> dict[str, Callable[[], ClassifierMixin]]:
    """The models compared, each made fresh (default settings, as an analyst would use them)."""
    from pipeline.model import PointsScorecard

    found: dict[str, Callable[[], ClassifierMixin]] = {
        OURS: PointsScorecard,
        f"{OURS}, no band limit": lambda: PointsScorecard(max_bands=None),
        "logistic regression": lambda: make_pipeline(
            SimpleImputer(strategy="median", add_indicator=True), StandardScaler(), LogisticRegression(max_iter=5000)
        ),
        "gradient boosting": lambda: HistGradientBoostingClassifier(random_state=0),
    }
    try:
        from optbinning import BinningProcess, Scorecard
    except ImportError:  # the benchmark extra is not installed
        pass
    else:
        found["optbinning scorecard"] = lambda: _OptbinningScorecard(BinningProcess, Scorecard)
    try:
        from interpret.glassbox import ExplainableBoostingClassifier
    except ImportError:
        pass
    else:
        found["EBM"] = lambda: ExplainableBoostingClassifier(
            interactions=0, random_state=0, **({"outer_bags": 4, "max_rounds": 2000} if quick else {})
        )
    return found


class _OptbinningScorecard(ClassifierMixin):  # type: ignore[misc]
    """optbinning's ``Scorecard`` (monotone optimal binning, WoE logistic regression, integer points 0-100)."""

    def __init__(self, binning_process: Any, scorecard: Any) -> None:
        self.binning_process = binning_process
        self.scorecard = scorecard

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> _OptbinningScorecard:
        names = [str(c) for c in X.columns]
        self.model_ = self.scorecard(
            binning_process=self.binning_process(names),
            estimator=LogisticRegression(max_iter=5000),
            scaling_method="min_max",
            scaling_method_params={"min": 0, "max": 100},
            intercept_based=False,
            rounding=True,
        ).fit(X, y)
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        result: np.ndarray = self.model_.predict_proba(X)
        return result


@dataclass(frozen=True)
class Result:
    dataset: str
    model: str
    n: int
    auc: float
    auc_sd: float
    precision_at_10: float
    ece: float
    ece_floor: float
    ece_floor_95: float
    brier: float
    fit_seconds: float
    lines: float | None = None
    """A points scorecard's scoring lines (bands and "no data" that give points), mean over folds."""
    repeats: int = 1
    """How many times the k-fold CV was run, each with its own fold seed."""
    fold_aucs: str = ""
    """Each fold's AUC, space-separated, repeat by repeat and fold by fold: the same folds for every model, so two
    models can be compared fold by fold (:func:`against_goals`)."""
    ece_goal_chance: float = math.nan
    """How often a perfectly calibrated predictor with the same probabilities shows an ECE at most
    :data:`ECE_GOAL` by chance (the share of :func:`ece_noise_floor`'s draws; mean over repeats)."""


def cross_validate(
    data: Dataset, make: Callable[[], ClassifierMixin], name: str, folds: int = 10, seed: int = 0, repeats: int = 1
) -> Result:
    """Stratified k-fold CV of one model on one data set (see the module notes for the metrics), ``repeats`` times
    with the fold seeds ``seed``, ``seed + 1``, ...: AUC, precision and Brier are means over every fold of every
    repeat; the ECE and its noise floor are each repeat's (pooled over its folds), averaged."""
    aucs, precisions, briers, lines, eces, floors = [], [], [], [], [], []
    seconds = 0.0
    for repeat in range(repeats):
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed + repeat)
        pooled_y, pooled_p = [], []
        for train, test in splitter.split(data.X, data.y):
            started = time.perf_counter()
            model = make()
            model.fit(data.X.iloc[train], data.y[train])
            seconds += time.perf_counter() - started
            probability = model.predict_proba(data.X.iloc[test])[:, 1]
            ranking = model.score(data.X.iloc[test]) if name.startswith(OURS) else probability
            if name.startswith(OURS):
                lines.append(model.card_.scoring_lines)
            y = data.y[test]
            aucs.append(roc_auc_score(y, ranking))
            precisions.append(precision_at(y, np.asarray(ranking, dtype=float)))
            briers.append(brier_score_loss(y, probability))
            pooled_y.append(y)
            pooled_p.append(probability)
        eces.append(expected_calibration_error(np.concatenate(pooled_y), np.concatenate(pooled_p)))
        floors.append(ece_noise_floor(np.concatenate(pooled_p)))
    return Result(
        data.name,
        name,
        len(data.y),
        float(np.mean(aucs)),
        float(np.std(aucs)),
        float(np.mean(precisions)),
        float(np.mean(eces)),
        float(np.mean([floor[0] for floor in floors])),
        float(np.mean([floor[1] for floor in floors])),
        float(np.mean(briers)),
        seconds / (folds * repeats),
        float(np.mean(lines)) if lines else None,
        repeats,
        " ".join(f"{a:.6f}" for a in aucs),
        float(np.mean([floor[2] for floor in floors])),
    )


def benchmark(
    names: list[str], model_names: list[str] | None = None, quick: bool = False, root: Path = PUBLIC, repeats: int = 1
) -> pd.DataFrame:
    """The comparison table: one row per data set and model (``repeats``: see :func:`cross_validate`)."""
    loaders = datasets(root)
    makers = models(quick)
    rows = []
    for name in names:
        data = loaders[name]()
        if quick and len(data.y) > 10_000:
            keep = np.random.default_rng(0).permutation(len(data.y))[:8000]
            data = Dataset(f"{name} (8,000 of {len(data.y):,})", data.X.iloc[keep].reset_index(drop=True), data.y[keep])
        for model in model_names or list(makers):
            if model not in makers:
                raise SystemExit(f"unknown model {model!r} (installed: {', '.join(makers)})")
            rows.append(cross_validate(data, makers[model], model, repeats=repeats).__dict__)
            print(markdown(pd.DataFrame(rows[-1:])).splitlines()[-1], file=sys.stderr, flush=True)
    return pd.DataFrame(rows)


GOALS: tuple[tuple[str, float, str], ...] = (
    ("gradient boosting", -0.01, "within 0.01 AUC of"),
    ("logistic regression", 0.0, "not below"),
)
"""The scorecard's goals for its ranking on every data set: against which model, the least AUC difference that
meets the goal, and the goal in words."""
NOISE_SE = 2.0
"""A shortfall smaller than this many standard errors of the paired difference is "within noise": the goal lies
inside the difference's 95% interval, so the folds cannot tell the shortfall from chance."""


def corrected_standard_error(differences: np.ndarray, folds: int) -> float:
    """The standard error of the mean of paired per-fold ``differences`` from (repeated) ``folds``-fold
    cross-validation, corrected for the folds' overlapping training rows (Nadeau and Bengio's corrected resampled
    t-test; Bouckaert and Frank for repeats): the variance over the folds times 1/J + 1/(folds - 1), J the folds
    in all, where independent folds would have 1/J. The plain standard error is too small by a factor of about 2.

    >>> round(corrected_standard_error(np.array([0.01, -0.01] * 5), 10), 4)
    0.0048
    """
    if len(differences) < 2:
        return float("nan")
    return float(np.std(differences, ddof=1) * math.sqrt(1 / len(differences) + 1 / (folds - 1)))


def against_goals(table: pd.DataFrame, folds: int = 10) -> pd.DataFrame:
    """The points scorecard against its goals, data set by data set. Its ranking against each model of
    :data:`GOALS`, paired fold by fold (the same folds: ``fold_aucs``): the mean AUC difference (``value``), its
    :func:`corrected_standard_error`, the folds the scorecard won, and the verdict: "met", "within noise" (short of
    the goal by less than ``NOISE_SE`` standard errors) or "not met". Its probabilities against
    :data:`ECE_GOAL`: the ECE (``value``) and "met", "within noise" (above the goal but within the 95th percentile
    of what a perfectly calibrated predictor with the same probabilities shows by chance, ``ece_floor_95``) or
    "not met", and how often such a predictor would meet the goal (``chance``: ``ece_goal_chance``; NaN for a
    table saved before it was measured). Empty for a table without fold AUCs (saved before they were)."""
    columns = ["dataset", "against", "goal", "value", "se", "won", "folds", "verdict", "floor", "chance"]
    if "fold_aucs" not in table:
        return pd.DataFrame(columns=columns)
    found = []
    for dataset, rows in table.groupby("dataset", sort=False):
        aucs = {
            str(model): np.array([float(v) for v in str(text).split()])
            for model, text in zip(rows["model"], rows["fold_aucs"], strict=True)
            if isinstance(text, str) and text.strip()
        }
        ours = aucs.get(OURS)
        for rival, bound, words in GOALS:
            theirs = aucs.get(rival)
            if ours is None or theirs is None or len(ours) != len(theirs):
                continue
            difference = ours - theirs
            mean, se = float(difference.mean()), corrected_standard_error(difference, folds)
            verdict = "met" if mean >= bound else "within noise" if mean >= bound - NOISE_SE * se else "not met"
            won = int((difference > 0).sum())
            found.append([dataset, rival, f"{words} {rival}", mean, se, won, len(ours), verdict, math.nan, math.nan])
        scorecard = rows[rows["model"] == OURS]
        if ours is not None and {"ece", "ece_floor_95"} <= set(rows.columns):  # ours: the scorecard has a row
            ece, floor = float(scorecard["ece"].iloc[0]), float(scorecard["ece_floor_95"].iloc[0])
            chance = float(scorecard["ece_goal_chance"].iloc[0]) if "ece_goal_chance" in rows else math.nan
            verdict = "met" if ece <= ECE_GOAL else "within noise" if ece <= floor else "not met"
            found.append([dataset, "", f"ECE at most {ECE_GOAL:g}", ece, math.nan, 0, 0, verdict, floor, chance])
    return pd.DataFrame(found, columns=columns)


def _ece_measured(ece: float, floor: float, chance: float) -> str:
    """An ECE beside what chance gives a perfectly calibrated model with the same probabilities."""
    shown = f"ECE {ece:.3f} (a calibrated model, by chance: up to {floor:.3f}"
    return shown + ("" if math.isnan(chance) else f"; at most {ECE_GOAL:g} in {chance:.0%} of samples") + ")"


def goals_formatted(goals: pd.DataFrame) -> pd.DataFrame:
    """:func:`against_goals` as text, one column each, as the benchmark prints it and the model card quotes it."""
    ranking = goals["against"] != ""
    return pd.DataFrame(
        {
            "data": goals["dataset"],
            "goal": goals["goal"],
            "measured": [
                f"AUC {v:+.4f}, paired by fold" if r else _ece_measured(v, f, c)
                for v, r, f, c in zip(goals["value"], ranking, goals["floor"], goals["chance"], strict=True)
            ],
            "standard error (corrected)": [f"{e:.4f}" if r else "" for e, r in zip(goals["se"], ranking, strict=True)],
            "folds won": [
                f"{w} of {n}" if r else "" for w, n, r in zip(goals["won"], goals["folds"], ranking, strict=True)
            ],
            "verdict": goals["verdict"],
        }
    )


def formatted(table: pd.DataFrame) -> pd.DataFrame:
    """The table's figures as text, one column each as the benchmark prints them: AUC (sd), precision at 10%, ECE,
    its noise floor, Brier, fit seconds per fold and a scorecard's scoring lines (empty for the other models)."""
    lines = table["lines"] if "lines" in table else pd.Series(np.nan, index=table.index)
    return pd.DataFrame(
        {
            "data": [
                f"{d} (n={n:,}{'' if r == 1 else f', {r} repeats'})"
                for d, n, r in zip(table["dataset"], table["n"], table.get("repeats", [1] * len(table)), strict=True)
            ],
            "model": table["model"],
            "AUC (sd over folds)": [f"{a:.3f} ({s:.3f})" for a, s in zip(table["auc"], table["auc_sd"], strict=True)],
            "precision at top 10%": table["precision_at_10"].map("{:.3f}".format),
            "ECE (pooled)": table["ece"].map("{:.3f}".format),
            "ECE noise floor (mean, 95%)": [
                f"{m:.3f}, {h:.3f}" for m, h in zip(table["ece_floor"], table["ece_floor_95"], strict=True)
            ],
            "Brier": table["brier"].map("{:.4f}".format),
            "fit s/fold": table["fit_seconds"].map("{:.2f}".format),
            "scoring lines": [("" if pd.isna(v) else f"{float(v):.1f}") for v in lines],
        }
    )


def markdown(table: pd.DataFrame) -> str:
    """The table as Markdown (the columns of :func:`formatted`)."""
    return _markdown(formatted(table))


def _markdown(shown: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(shown.columns) + " |", "|" + "---|" * len(shown.columns)]
    lines += ["| " + " | ".join(row) + " |" for row in shown.itertuples(index=False)]
    return "\n".join(lines)


def _at_least_one(text: str) -> int:
    """A whole number of 1 or more, for argparse (0 repeats divided by zero; -1 printed a table of nan)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--data", nargs="+", choices=list(datasets()), default=list(datasets()), help="data sets (default: all)"
    )
    parser.add_argument("--models", nargs="*", default=None, help="models (default: all installed)")
    parser.add_argument("--quick", action="store_true", help="OULAD: a random 8,000 rows; EBM: 4 bags")
    parser.add_argument(
        "--repeats",
        type=_at_least_one,
        default=1,
        help="run the 10-fold CV this many times, fold seeds 0, 1, ... (default 1); the ECE is each repeat's, averaged",
    )
    parser.add_argument("--build-oulad", type=Path, default=None, help="derive oulad-first60.csv.gz from the source")
    parser.add_argument(
        "--save",
        type=Path,
        default=None,
        help=f"also write the table as CSV, for the model card `mentor fit` writes (its default: {SAVED})",
    )
    args = parser.parse_args(argv)
    if args.build_oulad is not None:
        target = PUBLIC / "oulad" / "oulad-first60.csv.gz"
        target.parent.mkdir(parents=True, exist_ok=True)
        build_oulad(args.build_oulad).to_csv(target, index=False, compression={"method": "gzip", "mtime": 0})
        print(f"wrote {target}")
        return
    table = benchmark(args.data, args.models, args.quick, repeats=args.repeats)
    print(markdown(table))
    goals = against_goals(table)
    if not goals.empty:
        print("\nThe points scorecard against its goals, paired fold by fold (docs/model.md):\n")
        print(_markdown(goals_formatted(goals)))
    if args.save is not None:
        save_table(table, args.save, args.quick)
        print(f"wrote {args.save}", file=sys.stderr)


def save_table(table: pd.DataFrame, path: Path, quick: bool = False) -> None:
    """Write the benchmark's table as CSV with the date it was measured, its figures to 6 places: the model card
    quotes it through :func:`formatted`, which must show what the benchmark printed (saved to 4 places, OULAD's ECE
    read 0.0065 and was shown as 0.006 where the benchmark had printed 0.007)."""
    table.assign(measured_on=dt.date.today().isoformat(), quick=quick).to_csv(path, index=False, float_format="%.6f")


def saved_table(path: Path = SAVED) -> pd.DataFrame | None:
    """The table a full run saved with ``--save`` (None when there is none): what the model card quotes."""
    return pd.read_csv(path, dtype={"dataset": str, "model": str, "fold_aucs": str}) if path.exists() else None


if __name__ == "__main__":
    main()
