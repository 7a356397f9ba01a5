"""The pupils a card's list and attendance alone's list do not share, where the card loses."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from pipeline.config import Settings
from pipeline.evaluate.futures import WorldData
from pipeline.evaluate.losses import ATTENDANCE_ONLY, CARD_ONLY, losses, swaps
from pipeline.model import Scorecard

LATENESS_CARD = """
name: lateness-only
version: 0.0.1
kind: expert
description: Ranks by lateness alone (a test card).
features:
  - name: late_marks_4wk
    description: Late marks in the last 4 school weeks
    reason: "{value} late marks"
    focus: attendance
    unit: count
    rationale: A test feature.
    missing: {points: 0, label: no sessions}
    bands:
      - {from: null, to: 2, points: 0, label: rarely late}
      - {from: 2, to: null, points: 20, label: often late}
score_bands:
  - {min_score: 0, label: no concerns}
  - {min_score: 1, label: high}
calibration: {intercept: -2.0, slope: 0.05}
"""


def _school() -> pd.DataFrame:
    """20 pupils (5 places): five rarely late at 60% attendance who had the outcome, five often late at 90% who
    did not, ten at 97% who did not."""
    attendance = [0.60] * 5 + [0.90] * 5 + [0.97] * 10
    late = [0] * 5 + [5] * 5 + [0] * 10
    return pd.DataFrame(
        {
            "school_id": "100001",
            "upn": [f"P{i:03d}" for i in range(20)],
            "attendance_rate_term": attendance,
            "late_marks_4wk": late,
            "negative_points_4wk": 0.0,
            "negative_points_term": 0.0,
            "suspensions_year": 0.0,
            "english_grade_gap": 0.0,
            "maths_grade_gap": 0.0,
            "adverse_outcome": [True] * 5 + [False] * 15,
        }
    )


def test_a_lost_school_names_the_swapped_pupils_with_their_outcomes(tmp_path: Path) -> None:
    path = tmp_path / "card.yaml"
    path.write_text(LATENESS_CARD, encoding="utf-8")
    data = WorldData("world", 1, dt.date(2025, 11, 21), _school(), None, pd.DataFrame())
    schools, swapped = losses(data, Scorecard.load(path), Settings())
    (row,) = schools.to_dict("records")
    assert (row["capacity"], row["card"], row["attendance"], row["lost"]) == (5, 0.0, 1.0, True)
    assert row["tie_at_cut"] is False  # the five late pupils score 20, the sixth 0
    counts = swapped.groupby("side")["outcome"].agg(["size", "sum"])
    assert counts.loc[CARD_ONLY].tolist() == [5, 0]
    assert counts.loc[ATTENDANCE_ONLY].tolist() == [5, 5]
    assert set(swapped.loc[swapped["side"] == CARD_ONLY, "late_marks_4wk"]) == {5}
    assert "upn" not in swapped.columns


def test_a_school_the_card_wins_has_no_swaps(tmp_path: Path) -> None:
    path = tmp_path / "card.yaml"
    path.write_text(LATENESS_CARD, encoding="utf-8")
    pupils = _school().assign(adverse_outcome=[False] * 5 + [True] * 5 + [False] * 10)
    data = WorldData("world", 1, dt.date(2025, 11, 21), pupils, None, pd.DataFrame())
    schools, swapped = losses(data, Scorecard.load(path), Settings())
    assert schools["lost"].tolist() == [False]
    assert swapped.empty


@given(
    st.integers(2, 30).flatmap(
        lambda n: st.tuples(st.permutations(range(n)), st.permutations(range(n)), st.integers(1, n))
    )
)
def test_both_sides_are_as_many_and_lie_in_one_top_only(case: tuple[list[int], list[int], int]) -> None:
    ours, theirs, capacity = case
    outcome = np.arange(len(ours)) % 2 == 0
    table = swaps(outcome, np.array(ours), np.array(theirs), capacity)
    mine = table.loc[table["side"] == CARD_ONLY, "position"]
    other = table.loc[table["side"] == ATTENDANCE_ONLY, "position"]
    assert len(mine) == len(other)
    assert set(mine) <= set(ours[:capacity]) - set(theirs[:capacity])
    assert set(other) == set(theirs[:capacity]) - set(ours[:capacity])
    assert (table["outcome"].to_numpy() == outcome[table["position"].to_numpy()]).all()
