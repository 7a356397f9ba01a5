"""Measuring shortlists against what happened: baselines (ABC rules, rank by attendance) and top-k metrics.

A shortlist is judged the way a school uses it: of the pupils a school has room to mentor (its capacity), how many
went on to have the outcome (precision at capacity), and how many of the pupils who had it were on the list
(recall at capacity). Baselines rank pupils by a single score, ties broken by lower attendance this term.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ABC_ATTENDANCE_BELOW = 0.90
"""A: attendance below 90% this term (the DfE persistent-absence line, and the ABC indicators' threshold)."""
ABC_NEGATIVE_POINTS_TERM = 10
"""B: a suspension this year, or 10 or more negative behaviour points this term."""
ABC_GRADES_BELOW_TARGET = -1.0
"""C: English or maths a grade or more below target (course performance)."""


def abc_flags(features: pd.DataFrame) -> pd.DataFrame:
    """The three ABC early-warning indicators per pupil (missing data never raises a flag)."""
    attendance = features["attendance_rate_term"].astype(float)
    behaviour = (features["suspensions_year"].fillna(0).astype(float) > 0) | (
        features["negative_points_term"].fillna(0).astype(float) >= ABC_NEGATIVE_POINTS_TERM
    )
    english = features["english_grade_gap"].astype(float)
    maths = features["maths_grade_gap"].astype(float)
    course = (english <= ABC_GRADES_BELOW_TARGET) | (maths <= ABC_GRADES_BELOW_TARGET)
    return pd.DataFrame(
        {"attendance": (attendance < ABC_ATTENDANCE_BELOW).fillna(False), "behaviour": behaviour, "course": course},
        index=features.index,
    ).astype(bool)


def abc_score(features: pd.DataFrame) -> pd.Series:
    """Number of ABC indicators met (0-3), plus less than half a point for lower attendance to break ties."""
    flags = abc_flags(features).sum(axis=1).astype(float)
    return flags + _attendance_tiebreak(features)


def attendance_score(features: pd.DataFrame) -> pd.Series:
    """Absence this term as a score: rank pupils by attendance alone, lowest first (no data counts as 100%)."""
    return 1.0 - features["attendance_rate_term"].astype(float).fillna(1.0)


def precision_at_k(outcome: np.ndarray | pd.Series, score: np.ndarray | pd.Series, k: int) -> float:
    """Share of the ``k`` highest-scored pupils with the outcome (ties: earlier rows first, as ranked)."""
    top = _top_k(score, k)
    return float(np.asarray(outcome, dtype=bool)[top].mean()) if len(top) else float("nan")


def recall_at_k(outcome: np.ndarray | pd.Series, score: np.ndarray | pd.Series, k: int) -> float:
    """Share of the pupils with the outcome who are among the ``k`` highest-scored."""
    positives = np.asarray(outcome, dtype=bool)
    if not positives.any():
        return float("nan")
    return float(positives[_top_k(score, k)].sum() / positives.sum())


def expected_calibration_error(
    outcome: np.ndarray | pd.Series, probability: np.ndarray | pd.Series, bins: int = 10
) -> float:
    """Expected calibration error: over ``bins`` equal-width bins of the predicted probability (pooled, the last
    bin closed), the share of pupils in each bin times the gap between its mean prediction and its outcome rate.

    >>> round(expected_calibration_error([0, 0, 1, 1], [0.1, 0.1, 0.9, 0.7]), 3)
    0.15
    """
    y = np.asarray(outcome, dtype=float)
    p = np.asarray(probability, dtype=float)
    if not len(y):
        return float("nan")
    which = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in np.unique(which):
        members = which == b
        total += members.sum() / len(y) * abs(p[members].mean() - y[members].mean())
    return float(total)


def _top_k(score: np.ndarray | pd.Series, k: int) -> np.ndarray:
    order: np.ndarray = np.argsort(-np.asarray(score, dtype=float), kind="stable")
    return order[: max(0, min(k, len(order)))]


def _attendance_tiebreak(features: pd.DataFrame) -> pd.Series:
    return (1.0 - features["attendance_rate_term"].astype(float).fillna(1.0)) * 0.499
