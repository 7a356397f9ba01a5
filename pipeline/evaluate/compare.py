"""Rolling-origin temporal validation of five ways to rank pupils, and the list the shortlist publishes, on the
same windows.

Windows follow the school calendar: each half-term (school days between breaks of more than four days) from the
third one on is a test window. A model for that window is fitted only on nights whose whole outcome horizon
ended before the window's first night, so nothing it learns comes from the test period.

Models: the learned scorecard (fitted on the window's training nights), the released expert scorecard (points as
released; its probability curve fitted on the training nights), each scorecard's **published list** (its list as
the shortlist publishes it, its places filled as ``barrier_places`` says:
:func:`pipeline.caseload.policy.published_order`, every pupil a candidate; measured by precision and recall at
capacity only, as its ranking measures would be the scorecard's), the ABC rules, rank by attendance, and
scikit-learn's HistGradientBoostingClassifier as the black-box challenger (all the numeric features the scorecards
could use; context such as SEN or FSM is not scored by any model). Rules get probabilities from a logistic curve
fitted on the training nights, so every model has a Brier score.

Metrics per window: ROC AUC, average precision, precision and recall at capacity (each school's top pupils on each
night, as many as its mentoring places: pipeline.caseload.policy), Brier score, expected calibration error (ECE:
10 equal-width bins, pooled over the window's pupil-nights) and a reliability curve (``calibration_curve``).
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from pipeline.caseload.policy import capacity, published_order, scored_with_need, top_places
from pipeline.config import Settings
from pipeline.evaluate import abc_score, attendance_score, expected_calibration_error
from pipeline.model import PointsScorecard, Scorecard
from pipeline.model.scorecard import history_learner

log = logging.getLogger(__name__)
CHALLENGER_FEATURES = (
    "attendance_rate_year", "attendance_rate_term", "attendance_rate_4wk", "attendance_change_4wk",
    "unauthorised_rate_term", "late_marks_term", "longest_absence_spell", "monday_friday_absence_share",
    "unexplained_n_marks", "sessions_suspended_year", "negative_points_term", "negative_points_4wk",
    "negative_points_trend", "incidents_term", "suspensions_year", "english_grade_gap", "maths_grade_gap",
    "subjects_below_target", "core_grade_gap", "ks2_mean_scaled_score", "cat4_mean_sas", "reading_age_gap_months",
    "attendance_rate_term_ex_holiday", "late_marks_4wk", "core_grade_change", "other_absence_rate_year",
)  # fmt: skip
"""What the black-box challenger sees: every numeric behaviour, attendance and attainment feature; no context."""
PUBLISHED = ", published list"
"""Appended to a scorecard's name for the list it publishes (places shared between barriers by need)."""
MODELS = (
    "learned scorecard", "learned scorecard" + PUBLISHED, "expert scorecard", "expert scorecard" + PUBLISHED,
    "ABC rules", "attendance alone", "gradient boosting",
)  # fmt: skip


@dataclass(frozen=True)
class Window:
    name: str
    test_nights: tuple[dt.date, ...]

    @property
    def start(self) -> dt.date:
        return self.test_nights[0]


def windows(nights: list[dt.date], school_days: list[dt.date], skip: int = 2) -> list[Window]:
    """Test windows: the nights of each half-term after the first ``skip`` half-terms that hold any night."""
    breaks = [later for earlier, later in itertools.pairwise(school_days) if (later - earlier).days > 4]
    found: dict[dt.date, list[dt.date]] = {}
    for night in nights:
        starts = [b for b in breaks if b <= night]
        found.setdefault(starts[-1] if starts else school_days[0], []).append(night)
    ordered = sorted(found.items())[skip:]
    return [Window(f"half-term from {start:%d %b %Y}", tuple(sorted(group))) for start, group in ordered]


def training_rows(history: pd.DataFrame, before: dt.date) -> pd.DataFrame:
    """Rows whose whole outcome horizon ended before ``before`` (no overlap with a test window)."""
    return history[pd.to_datetime(history["horizon_end"]).dt.date < before]


def fit_models(
    train: pd.DataFrame, card: Scorecard, seed: int = 0
) -> tuple[dict[str, Callable[[pd.DataFrame], np.ndarray]], dict[str, Scorecard]]:
    """Fit each model on ``train``; return for each a function giving (score, probability) stacked column-wise, and
    the two scorecards' cards by model name."""
    y = train["outcome"].astype(int).to_numpy()
    learned = history_learner(card).fit(train, y)
    expert = PointsScorecard(card=card).fit(train, y)
    cards = {"learned scorecard": learned.card_, "expert scorecard": expert.card_}
    challenger = Challenger(seed).fit(train, y)
    abc_curve = _curve(abc_score(train).to_numpy(), y)
    attendance_curve = _curve(attendance_score(train).to_numpy(), y)
    return {
        "learned scorecard": lambda X: np.column_stack([learned.score(X), learned.predict_proba(X)[:, 1]]),
        "expert scorecard": lambda X: np.column_stack([expert.score(X), expert.predict_proba(X)[:, 1]]),
        "ABC rules": lambda X: _with_curve(abc_score(X).to_numpy(), abc_curve),
        "attendance alone": lambda X: _with_curve(attendance_score(X).to_numpy(), attendance_curve),
        "gradient boosting": lambda X: np.column_stack(
            [challenger.predict_proba(X)[:, 1], challenger.predict_proba(X)[:, 1]]
        ),
    }, cards


def evaluate(
    history: pd.DataFrame,
    all_windows: list[Window],
    card: Scorecard,
    settings: Settings,
    progress: Callable[[str], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The comparison table (window x model) and the reliability curves, for every window. ``progress`` is told as
    each window starts (fitting five models a window takes seconds to minutes)."""
    rows, curves = [], []
    for number, window in enumerate(all_windows, start=1):
        step = f"evaluation window {number} of {len(all_windows)}: {window.name}"
        log.info(step)
        if progress is not None:
            progress(step)
        train = training_rows(history, window.start)
        test = history[history["as_of"].isin(pd.to_datetime(list(window.test_nights)))].reset_index(drop=True)
        if train["outcome"].nunique() < 2 or test["outcome"].nunique() < 2:
            continue
        y = test["outcome"].astype(int).to_numpy()
        base = {
            "window": window.name,
            "train_rows": len(train),
            "test_rows": len(test),
            "base_rate": round(float(y.mean()), 3),
        }
        predictors, cards = fit_models(train, card)
        for name, predict in predictors.items():
            result = predict(test)
            score, probability = result[:, 0], result[:, 1]
            rows.append(
                base
                | {
                    "model": name,
                    "roc_auc": round(float(roc_auc_score(y, score)), 3),
                    "average_precision": round(float(average_precision_score(y, score)), 3),
                    **_at_capacity(y, top_at_capacity(test, score, settings)),
                    "brier": round(float(brier_score_loss(y, probability)), 4),
                    "ece": round(expected_calibration_error(y, probability), 4),
                }
            )
            if name in cards:  # and the list the scorecard publishes, beside it
                published = published_at_capacity(test, cards[name], settings)
                rows.append(base | {"model": name + PUBLISHED, **_at_capacity(y, published)})
            observed, predicted = calibration_curve(y, probability, n_bins=10, strategy="quantile")
            curves += [
                {"window": window.name, "model": name, "predicted": round(float(p), 4), "observed": round(float(o), 4)}
                for p, o in zip(predicted, observed, strict=True)
            ]
    return pd.DataFrame(rows), pd.DataFrame(curves)


def _at_capacity(y: np.ndarray, chosen: np.ndarray) -> dict[str, float]:
    return {
        "precision_at_capacity": round(float(y[chosen].mean()), 3),
        "recall_at_capacity": round(float(y[chosen].sum() / max(y.sum(), 1)), 3),
    }


def top_at_capacity(pupils: pd.DataFrame, score: np.ndarray, settings: Settings) -> np.ndarray:
    """Positions of each school's top pupils on each night, as many as its mentoring places, in the rank order of
    :mod:`pipeline.caseload.policy` (the one place that sizes and ranks a list)."""
    frame = pd.DataFrame(
        {
            "night": pupils["as_of"].to_numpy(),
            "school_id": pupils["school_id"].to_numpy(),
            "upn": pupils["upn"].to_numpy(),
            "attendance_rate_term": pupils["attendance_rate_term"].to_numpy(),
            "negative_points_4wk": pupils["negative_points_4wk"].to_numpy(),
            "score": score,
        }
    )
    chosen: list[int] = []
    for (_, school), group in frame.groupby(["night", "school_id"], sort=True):
        chosen += top_places([(str(school), group)], group["score"], settings)
    return np.array(sorted(chosen), dtype=int)


def published_at_capacity(pupils: pd.DataFrame, card: Scorecard, settings: Settings) -> np.ndarray:
    """Positions of the pupils each school's shortlist gives its places to on each night under ``card`` (as many as
    its places, filled as ``barrier_places`` says), every pupil a candidate."""
    points = PointsScorecard(card=card).fit(pupils).points(pupils)
    chosen: list[int] = []
    for _, group in pupils.groupby(["as_of", "school_id"], sort=True):
        places = capacity(str(group["school_id"].iloc[0]), len(group), settings)
        school, school_points = group.reset_index(drop=True), points.loc[group.index].reset_index(drop=True)
        scored = scored_with_need(school, school_points, card, settings)
        chosen += group.index[published_order(scored, settings, places)[0][:places]].tolist()
    return np.array(sorted(chosen), dtype=int)


def summary_table(table: pd.DataFrame) -> pd.DataFrame:
    """Mean of each metric over the windows, per model, in the order of ``MODELS``."""
    metrics = ["roc_auc", "average_precision", "precision_at_capacity", "recall_at_capacity", "brier", "ece"]
    if "model" not in table.columns:  # no evaluation window (a history too short to judge a model on)
        return pd.DataFrame(columns=metrics, index=pd.Index([], name="model"), dtype=float)
    mean = table.groupby("model")[metrics].mean().round(3)
    return mean.reindex([m for m in MODELS if m in mean.index])


class Challenger:
    """scikit-learn's gradient boosting on :data:`CHALLENGER_FEATURES`, leaving out the features that have no value
    in the training rows (its binning cannot bin an empty column: a feature the history is too short to have, such
    as a grade change before a pupil's second assessment)."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def fit(self, frame: pd.DataFrame, y: np.ndarray | pd.Series) -> Challenger:
        X = _numeric(frame)
        self.used_ = ~np.isnan(X).all(axis=0)
        self.model_ = HistGradientBoostingClassifier(random_state=self.seed).fit(X[:, self.used_], y)
        return self

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        result: np.ndarray = self.model_.predict_proba(_numeric(frame)[:, self.used_])
        return result


def _numeric(frame: pd.DataFrame) -> np.ndarray:
    return np.column_stack(
        [pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float) for c in CHALLENGER_FEATURES]
    )


def _curve(score: np.ndarray, y: np.ndarray) -> LogisticRegression:
    return LogisticRegression(C=1e6, max_iter=5000).fit(score.reshape(-1, 1), y)


def _with_curve(score: np.ndarray, curve: LogisticRegression) -> np.ndarray:
    return np.column_stack([score, curve.predict_proba(score.reshape(-1, 1))[:, 1]])
