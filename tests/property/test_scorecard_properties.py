"""Properties the scorecard must keep for any pupil: monotone in absence, and explanations that add up."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from pipeline.model import PointsScorecard, Scorecard

CARD = Scorecard.load(Path(__file__).resolve().parents[2] / "models" / "scorecard-v1.yaml")
MODEL = PointsScorecard(CARD).fit(pd.DataFrame({name: [0.0] for name in CARD.feature_names}))

value = st.one_of(st.none(), st.floats(-40, 40, allow_nan=False))
rate = st.one_of(st.none(), st.floats(0, 1, allow_nan=False))
pupil = st.fixed_dictionaries({name: rate if name.endswith(("rate_term",)) else value for name in CARD.feature_names})


@given(pupil, st.floats(0, 1))
def test_lower_attendance_never_lowers_the_score(row: dict[str, float | None], drop: float) -> None:
    base = pd.DataFrame([row])
    worse = base.copy()
    current = row["attendance_rate_term"]
    worse["attendance_rate_term"] = (current if current is not None else 1.0) * (1 - drop)
    if current is None:
        base["attendance_rate_term"] = 1.0
    assert MODEL.decision_function(worse)[0] >= MODEL.decision_function(base)[0]


@given(st.lists(pupil, min_size=1, max_size=8))
def test_every_pupils_points_add_up_to_their_score(rows: list[dict[str, float | None]]) -> None:
    pupils = pd.DataFrame(rows)
    totals = MODEL.explain(pupils).groupby("row")["points"].sum().sort_index()
    assert totals.tolist() == MODEL.decision_function(pupils).tolist()
