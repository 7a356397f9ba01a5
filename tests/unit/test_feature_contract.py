"""The feature contract judged school by school: a bad value holds back its school, never the trust."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.features.schema import FeatureTable
from pipeline.run import RunReport, verdict
from pipeline.validate.feature_contract import validate_by_school

FLOATS = [name for name in FeatureTable.to_schema().columns if name not in ("school_id", "upn", "year_group")]
BAD = {"reading_age_gap_months": -1500.0, "attendance_rate_year": 1.5, "ks2_mean_scaled_score": 12.0}


def _features(pupils_per_school: list[int]) -> pd.DataFrame:
    rows = [
        {"school_id": f"10000{s}", "upn": f"A{s:02d}{p:010d}", "year_group": "7", **dict.fromkeys(FLOATS, None)}
        for s, n in enumerate(pupils_per_school)
        for p in range(n)
    ]
    table = pd.DataFrame(rows)
    table["attendance_rate_year"] = 0.95
    return table


def test_a_century_old_pupil_holds_back_their_school_and_the_other_passes() -> None:
    table = _features([3, 2])
    table.loc[1, "reading_age_gap_months"] = -1500.0
    judged = validate_by_school(table)
    assert list(judged.failed) == ["100000"]
    assert "reading_age_gap_months must satisfy greater_than_or_equal_to(-240) (1 pupil)" in judged.failed["100000"]
    assert "date of birth" in judged.failed["100000"]
    assert "A00" not in judged.failed["100000"]  # no UPN in the message
    assert judged.table["school_id"].tolist() == ["100001", "100001"]


def test_a_table_that_passes_is_returned_whole() -> None:
    judged = validate_by_school(_features([2, 2]))
    assert judged.failed == {}
    assert len(judged.table) == 4


def test_a_failure_no_row_can_be_blamed_for_holds_back_every_school() -> None:
    table = _features([1, 1]).drop(columns=["attendance_rate_year"])
    judged = validate_by_school(table)
    assert sorted(judged.failed) == ["100000", "100001"]
    assert judged.table.empty


@settings(max_examples=20, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 4), min_size=1, max_size=5),
    bad=st.lists(st.tuples(st.integers(0, 19), st.sampled_from(sorted(BAD))), max_size=6),
)
def test_exactly_the_schools_with_a_bad_row_are_held_back(sizes: list[int], bad: list[tuple[int, str]]) -> None:
    table = _features(sizes)
    for row, column in bad:
        table.loc[row % len(table), column] = BAD[column]
    bad_schools = {str(table.loc[row % len(table), "school_id"]) for row, _ in bad}
    judged = validate_by_school(table)
    assert set(judged.failed) == bad_schools
    assert set(judged.table["school_id"]) == set(table["school_id"]) - bad_schools
    assert len(judged.table) == (~table["school_id"].isin(bad_schools)).sum()


def test_the_exit_code_is_0_only_when_every_expected_school_published() -> None:
    report = RunReport()
    assert int(verdict(report)) == 2  # no school delivered, none known: nothing to do is bad input
    report.school("100000").published = True
    assert int(verdict(report)) == 0
    assert report.status == "ok"
    report.school("100001").hold_back("tonight's delivery has no folder for it")
    assert int(verdict(report)) == 3
    assert report.status.startswith("held back 1 of 2 schools (100001)")
    report.school("100000").published = False
    assert int(verdict(report)) == 3
    assert report.status.startswith("held back every school (100000, 100001)")
