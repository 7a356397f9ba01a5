"""Shortlists from literal feature rows: ranking, tie-breaks, reasons, focus, context and changes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.config import Settings
from pipeline.model import PointsScorecard, Scorecard
from pipeline.report.shortlist import build_held_off, build_shortlist, build_under_challenged, change_since

CARD = Scorecard.load(Path(__file__).resolve().parents[2] / "models" / "scorecard-v1.yaml")
CALM = {
    "attendance_rate_term": 0.98, "attendance_change_4wk": 0.0, "unauthorised_rate_term": 0.0,
    "longest_absence_spell": 2, "negative_points_4wk": 0, "suspensions_year": 0, "english_grade_gap": 0.0,
    "maths_grade_gap": 0.0, "reading_age_gap_months": 0, "sen_provision": "N", "fsm_eligible": False,
    "pupil_premium": False, "looked_after": False, "eal": False, "current_interventions": "",
    "high_prior_attainment": False, "core_grade_gap": 0.0, "ks2_mean_scaled_score": 104.0, "cat4_mean_sas": np.nan,
}  # fmt: skip
SETTINGS = Settings(shortlist_minimum=0)


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
    shortlist = build_shortlist(pupils, model, 3, SETTINGS).table
    assert shortlist["upn"].tolist() == ["C", "B", "E"]
    assert shortlist["rank"].tolist() == [1, 2, 3]
    assert shortlist["score"].tolist() == [45, 20, 8]
    assert shortlist.loc[1, "reasons"] == "Attendance 84.2% this term — persistent absence (+20)"
    # Bands are the calibrated chance of the outcome (expert card: 1 / (1 + exp(3 - 0.07 score))), so they differ.
    assert shortlist["band"].tolist() == ["about 55%", "about 15%", "about 10%"]


def test_ties_are_broken_by_attendance_then_behaviour_then_upn(model: PointsScorecard) -> None:
    pupils = pd.DataFrame(
        [
            _pupil("Z", attendance_rate_term=0.85),
            _pupil("Y", attendance_rate_term=0.80),
            _pupil("X", attendance_rate_term=0.80, negative_points_4wk=2),
            _pupil("W", attendance_rate_term=0.80, negative_points_4wk=2),
        ]
    )
    shortlist = build_shortlist(pupils, model, 4, SETTINGS).table
    assert shortlist["score"].nunique() == 1
    assert shortlist["upn"].tolist() == ["W", "X", "Y", "Z"]
    shuffled = build_shortlist(pupils.sample(frac=1, random_state=3), model, 4, SETTINGS).table
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
                current_interventions="Maths tutoring",
                reading_age_gap_months=np.nan,
            )
        ]
    )
    row = build_shortlist(pupils, model, 5, SETTINGS).table.iloc[0]
    assert row["main_barrier"] == "behaviour and exclusion"
    assert row["need"] == "behaviour and exclusion 22, attendance 6"
    assert row["suggested_focus"] == "behaviour in lessons and staying out of exclusion"
    assert row["context"] == "SEN support; FSM"
    assert row["in_intervention"] == "Maths tutoring"
    assert row["no_data"] == "Reading age against age"
    assert row["reasons"].split("; ")[0] == (
        "16 negative behaviour points in the last 4 weeks — very frequent negative behaviour (+12)"
    )
    assert sum(int(r.rsplit("(+", 1)[1].rstrip(")")) for r in row["reasons"].split("; ")) == row["score"]


def test_half_of_sessions_missed_is_severe_absence_for_the_attendance_team(model: PointsScorecard) -> None:
    pupils = pd.DataFrame(
        [
            _pupil("A", attendance_rate_term=0.5),  # 20 of 40 sessions: DfE severe absence (missing half or more)
            _pupil("B", attendance_rate_term=0.5 + 1 / 40),
            _pupil("C", attendance_rate_term=0.3),
        ]
    )
    shortlist = build_shortlist(pupils, model, 3, SETTINGS).table.set_index("upn")
    flagged = "severe absence: attendance {} this term, holiday counted (50% or less): for the attendance team too"
    assert shortlist["attendance_team"].to_dict() == {
        "C": flagged.format("30.0%"),
        "A": flagged.format("50.0%"),
        "B": "",
    }


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
    listing, why = build_under_challenged(pupils)
    assert listing["upn"].tolist() == ["D", "A"]
    assert listing.loc[1, "reasons"] == (
        "Able (KS2 average 113) but English and maths 1.5 grades below target; attendance 98.0% this term"
    )
    assert listing.loc[0, "prior_attainment"] == "CAT4 mean 121"
    assert why == ""


def test_an_able_pupil_whose_attendance_explains_the_gap_is_not_under_challenged() -> None:
    pupils = pd.DataFrame(
        [
            _pupil("A", high_prior_attainment=True, core_grade_gap=-1.5, attendance_rate_term=0.155),
            _pupil("B", high_prior_attainment=True, core_grade_gap=-1.0, attendance_rate_term=0.89),
            _pupil("C", high_prior_attainment=True, core_grade_gap=-0.2),
        ]
    )
    listing, why = build_under_challenged(pupils)
    assert listing.empty
    assert why == (
        "No pupil met the rule tonight: 3 able pupils, 2 of them below target; of those 2 have attendance below 90% "
        "or none this term and 0 are on the shortlist."
    )


def test_primary_pupils_are_able_by_teacher_assessment_and_worded_in_steps() -> None:
    pupils = pd.DataFrame(
        [
            _pupil("A", year_group="5", core_grade_gap=-1.5, ks2_mean_scaled_score=np.nan),
            _pupil("B", year_group="6", core_grade_gap=-0.5, ks2_mean_scaled_score=np.nan),
            _pupil("C", year_group="4", core_grade_gap=-1.0, reading_age_gap_months=15, ks2_mean_scaled_score=np.nan),
            _pupil("D", year_group="4", core_grade_gap=-1.0, ks2_mean_scaled_score=np.nan),
            _pupil("E", year_group="6", core_grade_gap=-0.5, ks2_mean_scaled_score=np.nan),
        ]
    )
    able = pd.DataFrame(
        {
            "upn": ["A", "B", "C", "D", "E"],
            "gds_target": [True, False, False, False, False],
            "gds_earlier": [False, True, False, False, True],
            "below_expected_now": [False, True, False, False, True],
            "slipped_from_gds": [False, True, False, False, False],  # E: GDS in maths, below expected in writing
            "gds_target_in": ["maths", "", "", "", ""],
            "gds_earlier_in": ["", "writing", "", "", "maths"],
            "slipped_in": ["", "writing (WTS)", "", "", ""],
        }
    )
    listing, _ = build_under_challenged(pupils, able)
    assert listing["upn"].tolist() == ["A", "C", "B"]
    assert listing.loc[0, "reasons"] == (
        "Able (GDS target in maths) but English and maths 1.5 steps below target (on the BLW, PKS, WTS, EXS, GDS "
        "scale); attendance 98.0% this term"
    )  # one subject a step below, the other two: the half step shows, where rounding read "2 steps"
    assert listing.loc[1, "reasons"].startswith("Able (reading age 15 months ahead) but English and maths 1 step below")
    assert listing.loc[2, "reasons"] == (
        "Able (GDS earlier in writing) but working below the expected standard in Year 6 in writing (WTS), after "
        "working at GDS in it earlier; attendance 98.0% this term"
    )
    # E (Year 6, GDS in maths earlier and now, writing down to WTS) has not fallen from greater depth
    shortlisted, _ = build_under_challenged(pupils, able, shortlisted=frozenset({"A"}))
    assert "A" not in shortlisted["upn"].tolist()
    # At secondary a reading age ahead alone is not "able": KS2 107 and CAT4 101 say otherwise
    secondary = pd.DataFrame([_pupil("E", year_group="9", core_grade_gap=-1.5, reading_age_gap_months=16,
                                     ks2_mean_scaled_score=107.0, cat4_mean_sas=101.0)])  # fmt: skip
    assert build_under_challenged(secondary)[0].empty


def test_reasons_fit_the_phase_and_say_percentage_points(model: PointsScorecard) -> None:
    pupils = pd.DataFrame(
        [
            _pupil("A", year_group="4", english_grade_gap=-3.0, attendance_change_4wk=-0.12, suspensions_year=1),
            _pupil("B", year_group="10", maths_grade_gap=-1.33, suspensions_year=2),
        ]
    )
    shortlist = build_shortlist(pupils, model, 5, SETTINGS).table.set_index("upn")
    primary, secondary = shortlist.loc["A", "reasons"], shortlist.loc["B", "reasons"]
    assert (
        "Reading 3 steps below target (on the BLW, PKS, WTS, EXS, GDS scale) — two steps or more below target"
        in primary
    )
    assert "-12.0 percentage points against the term" in primary
    assert "1 suspension this year" in primary
    assert "Maths 1.3 grades below target" in secondary
    assert "2 suspensions this year" in secondary
    assert not shortlist["reasons"].str.contains(r"\(s\)|grades against").any()


def test_the_pupils_a_decision_holds_off_are_listed_with_their_review_date_and_whether_they_would_be_listed() -> None:
    """Staff could not see who their decisions held off, nor until when: report.html gave a count."""
    pupils = pd.DataFrame(
        {"upn": ["P1", "P2", "P3", "P4"], "forename": "Ann", "surname": "Example", "year_group": "9",
         "reg_group": "9A", "score": [40, 12, 55, 30]}
    )  # fmt: skip
    decisions = pd.DataFrame(
        {
            "upn": ["P1", "P2", "P3"],
            "decision_status": ["held", "held", "back"],
            "last_decision": [
                "declined on 2025-10-01: off the list until 2025-11-12 unless the score rises by 10 points or more",
                "not now on 2025-10-02: off the list until 2025-11-13 unless the score rises by 10 points or more",
                "declined on 2025-09-01: back on the list, review date 2025-10-13 reached",
            ],
        }
    )
    shortlist = pd.DataFrame(
        {"upn": ["P3", "P4"], "score": [55, 30], "place_for": ["by rank", "next in line: no free place now"]}
    )
    held = build_held_off(pupils, decisions, shortlist)
    assert held["upn"].tolist() == ["P1", "P2"]
    # 40 beats the lowest new candidate listed (30, next in line: held off, P1 would take that row); 12 does not
    assert held["would_be_listed"].tolist() == ["yes: shortlist.csv", "no"]
    assert held.loc[0, "last_decision"].endswith(
        "off the list until 2025-11-12 unless the score rises by 10 points or more"
    )
    # P2 meets the under-challenged rule (it would be on that list); P1 has a mentor now: caseload.csv has P1
    held = build_held_off(pupils, decisions, shortlist, under_challenged=frozenset({"P2"}), mentees=frozenset({"P1"}))
    assert held[["upn", "would_be_listed"]].values.tolist() == [["P2", "yes: under_challenged.csv"]]
