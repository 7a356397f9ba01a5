"""Baselines and top-k metrics on tiny literal examples, computed by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.evaluate import abc_flags, abc_score, attendance_score, precision_at_k, recall_at_k


def test_precision_and_recall_at_k_match_hand_counts() -> None:
    outcome = np.array([1, 0, 1, 1, 0, 0])
    score = np.array([0.9, 0.8, 0.1, 0.7, 0.2, 0.3])
    # top 3 by score: rows 0, 1, 3 -> two of three have the outcome; three pupils have it in all
    assert precision_at_k(outcome, score, 3) == pytest.approx(2 / 3)
    assert recall_at_k(outcome, score, 3) == pytest.approx(2 / 3)
    assert precision_at_k(outcome, score, 1) == 1.0
    assert recall_at_k(outcome, score, 6) == 1.0
    assert precision_at_k(outcome, score, 10) == pytest.approx(0.5)


def test_ties_keep_the_order_rows_are_given_in() -> None:
    assert precision_at_k([0, 1], [1.0, 1.0], 1) == 0.0


def _features(**columns: list[object]) -> pd.DataFrame:
    base: dict[str, list[object]] = {
        "attendance_rate_term": [0.97, 0.85, 0.97, 0.97, None],
        "suspensions_year": [0, 0, 1, 0, 0],
        "negative_points_term": [0, 0, 0, 12, 0],
        "english_grade_gap": [0.0, 0.0, 0.0, -1.0, None],
        "maths_grade_gap": [0.0, -0.5, 0.0, 0.0, None],
    }
    base.update(columns)
    return pd.DataFrame(base)


def test_abc_flags_follow_the_documented_thresholds_and_missing_data_raises_none() -> None:
    flags = abc_flags(_features())
    assert flags.to_dict("list") == {
        "attendance": [False, True, False, False, False],
        "behaviour": [False, False, True, True, False],
        "course": [False, False, False, True, False],
    }


def test_abc_score_counts_indicators_and_breaks_ties_by_attendance() -> None:
    score = abc_score(_features(attendance_rate_term=[0.97, 0.85, 0.93, 0.97, None]))
    assert score.round(3).tolist() == [0.015, 1.075, 1.035, 2.015, 0.0]
    assert attendance_score(_features()).round(2).tolist() == [0.03, 0.15, 0.03, 0.03, 0.0]
