"""Shortlists from literal feature rows: ranking, tie-breaks, reasons, focus, context and changes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.model import PointsScorecard, Scorecard
from pipeline.report.shortlist import build_shortlist, build_under_challenged, change_since, mentoring_capacity

CARD = Scorecard.load(Path(__file__).resolve().parents[2] / "models" / "scorecard-v1.yaml")
CALM = {
    "attendance_rate_term": 0.98, "attendance_change_4wk": 0.0, "unauthorised_rate_term": 0.0,
    "longest_absence_spell": 2, "negative_points_4wk": 0, "suspensions_year": 0, "english_grade_gap": 0.0,
    "maths_grade_gap": 0.0, "reading_age_gap_months": 0, "sen_provision": "N", "fsm_eligible": False,
    "pupil_premium": False, "looked_after": False, "eal": False, "current_interventions": "",
    "high_prior_attainment": False, "core_grade_gap": 0.0, "ks2_mean_scaled_score": 104.0, "cat4_mean_sas": np.nan,
}  # fmt: skip


def _pupil(upn: str, **changes: object) -> dict[str, object]:
    return {
        "upn": upn,
        "forename": "Ann",
        "surname": "Example",
        "year_group": "9",
        "reg_group": "9A",
        **CALM,
        **changes,
    }


@pytest.fixture
def model() -> PointsScorecard:
    return PointsScorecard(CARD).fit(pd.DataFrame([_pupil("A")]))


def test_the_highest_scores_come_first_and_the_list_stops_at_capacity(model: PointsScorecard) -> None:
    pupils = pd.DataFrame(
        [
            _pupil("B", attendance_rate_term=0.842),
            _pupil("C", attendance_rate_term=0.40, suspensions_year=2),
            _pupil("D"),
            _pupil("E", negative_points_4wk=9),
        ]
    )
    shortlist = build_shortlist(pupils, model, capacity=3)
    assert shortlist["upn"].tolist() == ["C", "B", "E"]
    assert shortlist["rank"].tolist() == [1, 2, 3]
    assert shortlist["score"].tolist() == [45, 20, 8]
    assert shortlist.loc[1, "reasons"] == "Attendance 84.2% this term — persistent absence (+20)"
    assert shortlist.loc[0, "band"] == "high"


def test_ties_are_broken_by_attendance_then_behaviour_then_upn(model: PointsScorecard) -> None:
    pupils = pd.DataFrame(
        [
            _pupil("Z", attendance_rate_term=0.85),
            _pupil("Y", attendance_rate_term=0.80),
            _pupil("X", attendance_rate_term=0.80, negative_points_4wk=2),
            _pupil("W", attendance_rate_term=0.80, negative_points_4wk=2),
        ]
    )
    shortlist = build_shortlist(pupils, model, capacity=4)
    assert shortlist["score"].nunique() == 1
    assert shortlist["upn"].tolist() == ["W", "X", "Y", "Z"]
    shuffled = build_shortlist(pupils.sample(frac=1, random_state=3), model, capacity=4)
    assert shuffled["upn"].tolist() == ["W", "X", "Y", "Z"]


def test_each_row_names_its_barrier_context_and_support(model: PointsScorecard) -> None:
    pupils = pd.DataFrame(
        [
            _pupil(
                "A",
                negative_points_4wk=16,
                suspensions_year=1,
                attendance_rate_term=0.93,
                sen_provision="K",
                fsm_eligible=True,
                current_interventions="Learning mentor",
                reading_age_gap_months=np.nan,
            )
        ]
    )
    row = build_shortlist(pupils, model, capacity=5).iloc[0]
    assert row["mentoring_focus"] == "behaviour, then attendance"
    assert row["context"] == "SEN support; FSM"
    assert row["in_intervention"] == "Learning mentor"
    assert row["no_data"] == "Reading age against age"
    assert row["reasons"].split("; ")[0] == (
        "16 negative behaviour points in the last 4 weeks — very frequent negative behaviour (+12)"
    )
    assert sum(int(r.rsplit("(+", 1)[1].rstrip(")")) for r in row["reasons"].split("; ")) == row["score"]


def test_change_since_last_run() -> None:
    current = pd.DataFrame({"upn": ["A", "B", "C", "D"], "rank": [1, 2, 3, 4]})
    previous = pd.DataFrame({"upn": ["B", "A", "C", "Q"], "rank": [1, 3, 3, 4]})
    assert change_since(current, previous) == ["up 2", "down 1", "same", "new"]
    assert change_since(current, None) == ["", "", "", ""]


def test_able_pupils_below_target_get_their_own_list() -> None:
    pupils = pd.DataFrame(
        [
            _pupil("A", high_prior_attainment=True, core_grade_gap=-1.5, ks2_mean_scaled_score=113.0),
            _pupil("B", high_prior_attainment=True, core_grade_gap=-0.5),
            _pupil("C", high_prior_attainment=False, core_grade_gap=-2.0),
            _pupil(
                "D", high_prior_attainment=True, core_grade_gap=-2.2, ks2_mean_scaled_score=np.nan, cat4_mean_sas=121
            ),
        ]
    )
    listing = build_under_challenged(pupils, capacity=5)
    assert listing["upn"].tolist() == ["D", "A"]
    assert (
        listing.loc[1, "reasons"]
        == "High prior attainment (KS2 average 113) but English and maths -1.5 grades against target"
    )
    assert listing.loc[0, "prior_attainment"] == "CAT4 mean 121"


@pytest.mark.parametrize(("roll", "capacity"), [(0, 5), (99, 5), (100, 5), (101, 6), (716, 36), (1400, 70)])
def test_capacity_is_five_percent_of_roll_and_at_least_five(roll: int, capacity: int) -> None:
    assert mentoring_capacity(roll) == capacity
