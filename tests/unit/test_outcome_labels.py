"""Outcome labels on a tiny literal warehouse: each component, the horizon, and what the label never reads."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.config import Settings
from pipeline.evaluate.dataset import history, outcome_labels
from tests.unit.test_features import MONDAY, UPN_A, UPN_B, _school_days, _warehouse

DAYS = _school_days(MONDAY, 40)
AS_OF = DAYS[19]  # 20 school days of history, 20 after
SETTINGS = Settings(outcome_horizon_school_days=10)


def _marks(before: str, after: str) -> list[str]:
    return [before] * 20 + [after] * 20


def test_absence_in_the_horizon_is_persistent_absence_and_absence_before_it_is_not() -> None:
    con = _warehouse({UPN_A: _marks("/|\\", "O|O"), UPN_B: _marks("I|I", "/|\\")}, DAYS)
    labels = outcome_labels(con, AS_OF, SETTINGS).set_index("upn")
    assert labels.loc[UPN_A, "outcome_persistent_absence"]
    assert not labels.loc[UPN_B, "outcome_persistent_absence"]
    assert labels.loc[UPN_A, "horizon_absence_rate"] == 1.0
    assert labels["horizon_complete"].all()
    assert (labels["horizon_start"] == pd.Timestamp(DAYS[20])).all()
    assert (labels["horizon_end"] == pd.Timestamp(DAYS[29])).all()


def test_a_suspension_counts_only_inside_the_horizon() -> None:
    exclusions = pd.DataFrame(
        {
            "school_id": "100001",
            "upn": [UPN_A, UPN_B],
            "start_date": [DAYS[25], DAYS[35]],  # A inside the 10-day horizon, B after it
            "category": "SUSP",
            "sessions": 2,
            "reason": "PD",
        }
    )
    con = _warehouse({UPN_A: _marks("/|\\", "/|\\"), UPN_B: _marks("/|\\", "/|\\")}, DAYS, exclusions=exclusions)
    labels = outcome_labels(con, AS_OF, SETTINGS).set_index("upn")
    assert labels.loc[UPN_A, "outcome_suspension"]
    assert not labels.loc[UPN_B, "outcome_suspension"]
    assert labels.loc[UPN_A, "outcome"]
    assert not labels.loc[UPN_B, "outcome"]


def test_falling_half_a_grade_further_below_target_in_english_and_maths() -> None:
    rows = []
    for upn, before, after in ((UPN_A, "5", "4"), (UPN_B, "5", "5+")):
        for subject in ("English", "Maths"):
            rows += [
                {"subject": subject, "date": DAYS[0], "result_type": "target", "result": "6", "upn": upn},
                {"subject": subject, "date": DAYS[5], "result_type": "working_at", "result": before, "upn": upn},
                {"subject": subject, "date": DAYS[24], "result_type": "working_at", "result": after, "upn": upn},
            ]
    assessments = pd.DataFrame(rows).assign(school_id="100001", assessment_point="AP")
    con = _warehouse({UPN_A: _marks("/|\\", "/|\\"), UPN_B: _marks("/|\\", "/|\\")}, DAYS, assessments=assessments)
    labels = outcome_labels(con, AS_OF, SETTINGS).set_index("upn")
    assert labels.loc[UPN_A, "outcome_fell_below_target"]  # from -1 to -2 grades
    assert not labels.loc[UPN_B, "outcome_fell_below_target"]  # from -1 to -0.67: better
    assert labels.loc[UPN_A, "gap_before"] == -1.0
    assert labels.loc[UPN_A, "gap_after"] == -2.0


def test_a_horizon_beyond_the_data_is_marked_incomplete_and_left_out_of_history() -> None:
    con = _warehouse({UPN_A: _marks("/|\\", "O|O"), UPN_B: _marks("/|\\", "/|\\")}, DAYS)
    late = DAYS[34]  # only 5 school days after it
    assert not outcome_labels(con, late, SETTINGS)["horizon_complete"].any()
    assert len(history(con, [AS_OF], SETTINGS)) == 2
    with pytest.raises(ValueError, match="no past night has a complete outcome horizon"):
        history(con, [late], SETTINGS)


def test_the_configured_outcome_decides_which_components_count() -> None:
    exclusions = pd.DataFrame(
        {"school_id": "100001", "upn": [UPN_B], "start_date": [DAYS[25]], "category": "SUSP", "sessions": 2,
         "reason": "PD"}
    )  # fmt: skip
    con = _warehouse({UPN_A: _marks("/|\\", "O|O"), UPN_B: _marks("/|\\", "/|\\")}, DAYS, exclusions=exclusions)
    only_suspension = Settings(outcome_horizon_school_days=10, outcome=("suspension",))
    labels = outcome_labels(con, AS_OF, only_suspension).set_index("upn")
    assert labels["outcome"].to_dict() == {UPN_A: False, UPN_B: True}
