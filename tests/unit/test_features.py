"""Feature SQL models on tiny literal warehouses: windows, DfE rates, spells, N marks, grades, no leakage."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from pipeline.codes import ATTENDANCE_CODES
from pipeline.config import Settings
from pipeline.features import build_features
from pipeline.model import Scorecard
from pipeline.upn import make_upn

UPN_A = make_upn(801, 4000, 14, 1)
UPN_B = make_upn(801, 4000, 14, 2)
MONDAY = dt.date(2025, 9, 1)


def _school_days(start: dt.date, count: int) -> list[dt.date]:
    days, day = [], start
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def _warehouse(marks: dict[str, list[str]], days: list[dt.date], **tables: pd.DataFrame) -> duckdb.DuckDBPyConnection:
    """A warehouse with two pupils; ``marks`` holds one AM and one PM mark per day, as 'AM/PM' strings."""
    con = duckdb.connect()
    pupils = pd.DataFrame(
        {
            "school_id": "100001",
            "upn": [UPN_A, UPN_B],
            "forename": ["Ann", "Ben"],
            "surname": ["Example", "Sample"],
            "date_of_birth": [dt.date(2014, 3, 1)] * 2,
            "year_group": ["7", "7"],
            "reg_group": ["7A", "7A"],
            "admission_date": [dt.date(2025, 9, 1)] * 2,
            "leaving_date": [None, None],
            "sen_provision": ["N", "K"],
            "fsm_eligible": [False, True],
            "pupil_premium": [False, True],
            "looked_after": [False, False],
            "eal": [False, False],
        }
    )
    rows = []
    for upn, day_marks in marks.items():
        for day, pair in zip(days, day_marks, strict=True):
            for session, mark in zip(("AM", "PM"), pair.split("|"), strict=True):
                category = ATTENDANCE_CODES[mark].category.value if mark in ATTENDANCE_CODES else "no_mark"
                rows.append({"school_id": "100001", "upn": upn, "date": day, "session": session, "mark": mark,
                             "category": category})  # fmt: skip
    columns = {
        "assessments": ["subject", "assessment_point", "date", "result_type", "result"],
        "behaviour": ["incident_id", "date", "category", "points", "action"],
        "exclusions": ["start_date", "category", "sessions", "reason"],
        "interventions": ["intervention", "start_date", "end_date", "outcome"],
    }
    empty = {name: pd.DataFrame(columns=["school_id", "upn", *cols]) for name, cols in columns.items()}
    frames = {"pupils": pupils, "attendance": pd.DataFrame(rows), **empty, **tables}
    types = {"date": "date", "start_date": "date", "end_date": "date", "points": "integer", "sessions": "integer",
             "leaving_date": "date", "admission_date": "date", "date_of_birth": "date"}  # fmt: skip
    for name, frame in frames.items():
        con.register("frame", frame)
        casts = ", ".join(
            f"cast({c} as {types[c]}) as {c}"
            if c in types
            else f"cast({c} as varchar) as {c}"
            if frame[c].dtype == object and name != "pupils"
            else c
            for c in frame.columns
        )
        con.execute(f"create table {name} as select {casts} from frame")
        con.unregister("frame")
    return con


def _results(rows: list[tuple[object, ...]]) -> pd.DataFrame:
    """An assessments export of school 100001: (upn, subject, assessment point, date, result type, result) rows."""
    columns = ["upn", "subject", "assessment_point", "date", "result_type", "result"]
    return pd.DataFrame(rows, columns=columns).assign(school_id="100001")


def _features(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> pd.DataFrame:
    return build_features(con, as_of).table.set_index("upn")


def test_year_groups_move_back_when_an_earlier_year_is_reproduced() -> None:
    # The export is of 2025-26 (marks from September 2025); the pupils' context as of June 2025 (a past night of
    # the history) shows the year groups they were in then: nursery and reception count as years -2, -1 and 0.
    groups = {1: "N1", 2: "N2", 3: "R", 4: "1", 5: "7", 6: "14"}
    upns = {i: make_upn(801, 4000, 14, i) for i in groups}
    pupils = pd.DataFrame(
        {"school_id": "100001", "upn": list(upns.values()), "forename": "Example", "surname": "Pupil",
         "date_of_birth": dt.date(2014, 3, 1), "year_group": list(groups.values()), "reg_group": "A",
         "admission_date": None, "leaving_date": None, "sen_provision": "N", "fsm_eligible": False,
         "pupil_premium": False, "looked_after": False, "eal": False}
    )  # fmt: skip
    days = _school_days(MONDAY, 5)
    con = _warehouse({UPN_A: ["/|\\"] * 5}, days, pupils=pupils)
    then = build_features(con, dt.date(2025, 6, 30)).table.set_index("upn")["year_group"]
    was = {groups[i]: None if pd.isna(then[upn]) else then[upn] for i, upn in upns.items()}
    assert was == {"N1": None, "N2": "N1", "R": "N2", "1": "R", "7": "6", "14": "13"}
    now = build_features(con, days[-1]).table.set_index("upn")["year_group"]
    assert [now[upn] for upn in upns.values()] == list(groups.values())


def test_attendance_rates_follow_the_dfe_definition() -> None:
    days = _school_days(MONDAY, 10)
    # Ann: 2 illness days, 1 unauthorised morning, 1 late, 1 visit (attended), 1 INSET (not possible).
    ann = ["#|#", "/|\\", "I|I", "I|I", "O|\\", "L|\\", "V|V", "/|\\", "/|\\", "/|\\"]
    ben = ["#|#"] + ["/|\\"] * 9
    features = _features(_warehouse({UPN_A: ann, UPN_B: ben}, days), days[-1])
    a = features.loc[UPN_A]
    assert a["possible_sessions_term"] == 18
    assert a["attendance_rate_term"] == pytest.approx(13 / 18)
    assert a["unauthorised_rate_term"] == pytest.approx(1 / 18)
    assert a["other_absence_rate_year"] == pytest.approx(4 / 18)  # the illness days; the O has a feature of its own
    assert a["late_marks_term"] == 1
    assert a["longest_absence_spell"] == 5  # I I I I O: the unauthorised morning continues the illness spell
    assert bool(a["persistent_absence"])
    assert not bool(a["severe_absence"])
    assert features.loc[UPN_B, "attendance_rate_term"] == 1.0
    assert features.loc[UPN_B, "other_absence_rate_year"] == 0.0


def test_nothing_after_the_as_of_date_changes_the_features() -> None:
    days = _school_days(MONDAY, 30)
    ann = ["/|\\"] * 20 + ["O|O"] * 10
    ben = ["/|\\"] * 30
    incident_after = pd.DataFrame(
        {"school_id": ["100001"], "upn": [UPN_A], "incident_id": ["9"], "date": [days[25]], "category": ["Defiance"],
         "points": [-3], "action": [""]}
    )  # fmt: skip
    as_of = days[19]
    before = _features(_warehouse({UPN_A: ann[:20], UPN_B: ben[:20]}, days[:20]), as_of)
    after = _features(_warehouse({UPN_A: ann, UPN_B: ben}, days, behaviour=incident_after), as_of)
    pd.testing.assert_frame_equal(before, after)


def test_only_n_marks_older_than_five_school_days_count_as_unexplained() -> None:
    days = _school_days(MONDAY, 12)
    ann = ["N|N", "/|\\", "/|\\", "/|\\", "/|\\", "/|\\", "/|\\", "/|\\", "N|N", "/|\\", "/|\\", "/|\\"]
    features = _features(_warehouse({UPN_A: ann, UPN_B: ["/|\\"] * 12}, days), days[-1])
    assert features.loc[UPN_A, "unexplained_n_marks"] == 2


def test_the_four_week_change_compares_the_last_20_school_days_with_the_term() -> None:
    days = _school_days(MONDAY, 40)
    ann = ["/|\\"] * 20 + ["O|O", "/|\\", "/|\\", "/|\\"] * 5
    features = _features(_warehouse({UPN_A: ann, UPN_B: ["/|\\"] * 40}, days), days[-1])
    assert features.loc[UPN_A, "attendance_rate_4wk"] == pytest.approx(0.75)
    assert features.loc[UPN_A, "attendance_change_4wk"] == pytest.approx(0.75 - 70 / 80)


def test_recent_lateness_and_attendance_with_holidays_aside() -> None:
    days = _school_days(MONDAY, 40)
    # Ann: late twice early in the term and three times in the last 4 weeks; a week's holiday not agreed (G).
    ann = ["L|\\", "L|\\"] + ["/|\\"] * 8 + ["G|G"] * 5 + ["/|\\"] * 10 + ["U|\\", "L|\\", "L|\\"] + ["/|\\"] * 12
    features = _features(_warehouse({UPN_A: ann, UPN_B: ["/|\\"] * 40}, days), days[-1])
    a = features.loc[UPN_A]
    assert a["late_marks_term"] == 5
    assert a["late_marks_4wk"] == 3
    assert a["attendance_rate_term"] == pytest.approx((80 - 10 - 1) / 80)  # G and U are absences (DfE)
    assert a["attendance_rate_term_ex_holiday"] == pytest.approx((80 - 1) / 80)
    assert a["other_absence_rate_year"] == 0.0  # the holiday (G) and the U are this term's unauthorised absence
    assert features.loc[UPN_B, "late_marks_4wk"] == 0
    assert features.loc[UPN_B, "attendance_rate_term_ex_holiday"] == 1.0


def test_behaviour_windows_and_suspensions() -> None:
    days = _school_days(MONDAY, 45)
    behaviour = pd.DataFrame(
        {
            "school_id": "100001", "upn": UPN_A, "incident_id": ["1", "2", "3", "4"],
            "date": [days[2], days[10], days[30], days[44]], "category": "Disruption",
            "points": [-1, -2, -3, 2], "action": "",
        }
    )  # fmt: skip
    exclusions = pd.DataFrame(
        {"school_id": "100001", "upn": [UPN_A, UPN_A], "start_date": [days[31], days[40]], "category": ["SUSP", "LNCH"],
         "sessions": [2, 1], "reason": ["PD", "PD"]}
    )  # fmt: skip
    con = _warehouse({UPN_A: ["/|\\"] * 45, UPN_B: ["/|\\"] * 45}, days, behaviour=behaviour, exclusions=exclusions)
    a = _features(con, days[-1]).loc[UPN_A]
    assert a["negative_points_term"] == 6
    assert a["negative_points_4wk"] == 3  # the last 20 school days: only the -3 on day 31
    assert a["negative_points_trend"] == 3 - 2  # the 20 school days before them held the -2
    assert a["incidents_term"] == 3
    assert a["suspensions_year"] == 1  # a lunchtime exclusion is not a suspension


def test_a_clean_record_at_a_school_that_keeps_records_is_zero_not_no_data() -> None:
    days = _school_days(MONDAY, 25)
    marks = {UPN_A: ["/|\\"] * 25, UPN_B: ["/|\\"] * 25}
    good_work = pd.DataFrame(
        {"school_id": "100001", "upn": [UPN_A], "incident_id": ["1"], "date": [days[3]], "category": "Merit",
         "points": [2], "action": ""}
    )  # fmt: skip
    kept = _features(_warehouse(marks, days, behaviour=good_work), days[-1])
    behaviour = ["negative_points_4wk", "negative_points_term", "incidents_term", "suspensions_year"]
    assert (kept[behaviour] == 0).all().all()  # both pupils: no negative incident and no suspension, so none
    assert not kept["permanent_exclusion"].any()
    neither_file = _features(_warehouse(marks, days), days[-1])
    assert neither_file[behaviour].isna().all().all()  # a school that sends neither file: not known


def test_grades_targets_reading_age_and_prior_attainment() -> None:
    days = _school_days(MONDAY, 5)
    when = days[2]
    results = _results(
        [
            (UPN_A, "English", "2025-26 Autumn", when, "working_at", "4-"),
            (UPN_A, "English", "2025-26 Targets", days[0], "target", "6"),
            (UPN_A, "Maths", "2025-26 Autumn", when, "working_at", "5.5"),
            (UPN_A, "Maths", "2025-26 Targets", days[0], "target", "6"),
            (UPN_A, "Reading", "KS2", dt.date(2025, 7, 8), "ks2_scaled", "112"),
            (UPN_A, "Maths", "KS2", dt.date(2025, 7, 8), "ks2_scaled", "110"),
            (UPN_A, "Reading", "2025-26 Autumn", when, "reading_age", "10:03"),
            (UPN_B, "Maths", "KS2", dt.date(2025, 7, 8), "ks2_scaled", "98"),
            (UPN_B, "Reading", "2025-26 Autumn", when, "reading_age", "150"),
        ]
    )
    con = _warehouse({UPN_A: ["/|\\"] * 5, UPN_B: ["/|\\"] * 5}, days, assessments=results)
    features = _features(con, days[-1])
    a, b = features.loc[UPN_A], features.loc[UPN_B]
    assert a["english_grade_gap"] == pytest.approx(11 / 3 - 6)
    assert a["maths_grade_gap"] == pytest.approx(-0.5)
    assert a["subjects_below_target"] == 2
    assert a["ks2_mean_scaled_score"] == 111
    assert bool(a["high_prior_attainment"])
    assert a["reading_age_gap_months"] == 123 - 138  # born March 2014, tested September 2025: 138 months old
    assert bool(b["ks2_below_expected"])
    assert not bool(b["high_prior_attainment"])
    assert b["reading_age_gap_months"] == 150 - 138
    assert pd.isna(b["english_grade_gap"])  # no assessment is no data, not on target


def test_a_number_that_is_no_grade_is_no_data_not_a_gap_of_dozens_of_grades() -> None:
    """A percentage written where a grade goes ("65") read as grade 65, 59 grades above a target of 6."""
    days = _school_days(MONDAY, 5)
    results = _results(
        [
            (UPN_A, "Maths", "2025-26 Autumn", days[2], "working_at", "65"),
            (UPN_A, "Maths", "2025-26 Targets", days[0], "target", "6"),
            (UPN_B, "Maths", "2025-26 Autumn", days[2], "working_at", "9"),
            (UPN_B, "Maths", "2025-26 Targets", days[0], "target", "0"),
        ]
    )
    features = _features(_warehouse({UPN_A: ["/|\\"] * 5, UPN_B: ["/|\\"] * 5}, days, assessments=results), days[-1])
    assert pd.isna(features.loc[UPN_A, "maths_grade_gap"])
    assert features.loc[UPN_B, "maths_grade_gap"] == 9  # the scale's ends are grades


@pytest.mark.parametrize(
    ("tested", "months_old"),
    [(dt.date(2025, 9, 30), 138), (dt.date(2025, 10, 1), 139), (dt.date(2025, 9, 10), 138)],
)
def test_a_reading_age_is_compared_with_the_whole_months_the_pupil_has_lived(tested: dt.date, months_old: int) -> None:
    # The pupils were born on 1 March 2014: on 30 September 2025 they are 138 months old, and 139 only from 1 October.
    # Born on the 26th, a pupil tested on the 17th has not had that month's birthday-of-the-month yet.
    days = _school_days(MONDAY, 5)
    results = _results([(UPN_A, "Reading", "2025-26 Autumn", tested, "reading_age", "120")])
    con = _warehouse({UPN_A: ["/|\\"] * 5, UPN_B: ["/|\\"] * 5}, days, assessments=results)
    assert _features(con, max(days[-1], tested)).loc[UPN_A, "reading_age_gap_months"] == 120 - months_old
    results = _results([(UPN_A, "Reading", "2025-26 Autumn", dt.date(2025, 10, 17), "reading_age", "5:10")])
    con = _warehouse({UPN_A: ["/|\\"] * 5, UPN_B: ["/|\\"] * 5}, days, assessments=results)
    con.execute("update pupils set date_of_birth = date '2018-11-26' where upn = ?", [UPN_A])
    assert _features(con, dt.date(2025, 10, 17)).loc[UPN_A, "reading_age_gap_months"] == 70 - 82


@pytest.mark.parametrize(
    ("age", "months"),
    [("10:03", 123), ("123", 123), ("123.0", 123), ("10:03.0", 123),
     # DuckDB's own cast would read each of these as 123 months (1_23, 0x7B and 122.5 rounded; 10:0_3 as 10:03)
     ("1_23", None), ("0x7B", None), ("122.5", None), ("10:0_3", None), ("1_0:03", None), ("1.23e2", None),
     ("10:03:99", None)],  # a third part is no years:months
)  # fmt: skip
def test_a_reading_age_is_read_only_from_whole_numbers(age: str, months: int | None) -> None:
    days = _school_days(MONDAY, 5)
    results = _results([(UPN_A, "Reading", "2025-26 Autumn", days[2], "reading_age", age)])
    features = _features(_warehouse({UPN_A: ["/|\\"] * 5, UPN_B: ["/|\\"] * 5}, days, assessments=results), days[-1])
    gap = features.loc[UPN_A, "reading_age_gap_months"]
    assert pd.isna(gap) if months is None else gap == months - 138  # born March 2014, tested September 2025


def test_the_grade_change_is_the_move_between_the_last_two_assessments() -> None:
    days = _school_days(MONDAY, 10)
    results = _results(
        [
            # Ann: English 6 -> 5 -> 4+ (the last move: -2/3), Maths 5 -> 5 (no move): on average -1/3.
            (UPN_A, "English", "Autumn 1", days[0], "working_at", "6"),
            (UPN_A, "English", "Autumn 2", days[3], "working_at", "5"),
            (UPN_A, "English", "Spring 1", days[6], "working_at", "4+"),
            (UPN_A, "Maths", "Autumn 1", days[0], "working_at", "5"),
            (UPN_A, "Maths", "Autumn 2", days[3], "working_at", "5"),
            # Ben: one Maths assessment is no change to measure; a later one is not seen yet.
            (UPN_B, "Maths", "Autumn 1", days[0], "working_at", "3"),
            (UPN_B, "Maths", "Autumn 2", days[9], "working_at", "2"),
        ]
    )
    con = _warehouse({UPN_A: ["/|\\"] * 10, UPN_B: ["/|\\"] * 10}, days, assessments=results)
    features = _features(con, days[8])
    assert features.loc[UPN_A, "core_grade_change"] == pytest.approx(((4 + 1 / 3 - 5) + 0) / 2)
    assert pd.isna(features.loc[UPN_B, "core_grade_change"])


def test_a_move_of_exactly_half_a_grade_or_a_grade_is_exact_on_the_cards_band_edges() -> None:
    """English 2+ -> 1+ is a grade down and maths steady: half a grade on average, which the card scores 0 ("slipped
    half a grade or less"). In floating point 1+ less 2+ is -1.0000000000000002, and the average fell below -0.5:
    the pupil got +10 for "slipped more than half a grade". Working at 4+ against a 5+ target is a grade below,
    not more."""
    days = _school_days(MONDAY, 10)
    results = _results(
        [
            (UPN_A, "English", "Autumn 1", days[0], "working_at", "2+"),
            (UPN_A, "English", "Autumn 2", days[3], "working_at", "1+"),
            (UPN_A, "Maths", "Autumn 1", days[0], "working_at", "1+"),
            (UPN_A, "Maths", "Autumn 2", days[3], "working_at", "1+"),
            (UPN_B, "English", "Autumn 2", days[3], "working_at", "4+"),
            (UPN_B, "English", "Autumn 2", days[3], "target", "5+"),
        ]
    )
    con = _warehouse({UPN_A: ["/|\\"] * 10, UPN_B: ["/|\\"] * 10}, days, assessments=results)
    features = _features(con, days[8])
    assert features.loc[UPN_A, "core_grade_change"] == -0.5
    assert features.loc[UPN_B, "english_grade_gap"] == -1.0
    card = Scorecard.load(Settings().scorecard)
    assert card.feature("core_grade_change").points_of(-0.5) == 0
    assert card.feature("english_grade_gap").points_of(-1.0) == 0


def test_the_latest_grade_and_target_count_even_when_the_latest_is_not_a_grade() -> None:
    days = _school_days(MONDAY, 10)
    results = _results(
        [
            # Ann: English rose from 4 to 6 (the later one counts) against a target of 5 then 7.
            (UPN_A, "English", "Autumn 1", days[0], "working_at", "4"),
            (UPN_A, "English", "Autumn 2", days[5], "working_at", "6"),
            (UPN_A, "English", "Targets 1", days[0], "target", "5"),
            (UPN_A, "English", "Targets 2", days[6], "target", "7"),
            # ... and Maths' latest working-at is not a grade: no gap, not the older one's.
            (UPN_A, "Maths", "Autumn 1", days[0], "working_at", "5"),
            (UPN_A, "Maths", "Autumn 2", days[5], "working_at", "absent"),
            (UPN_A, "Maths", "Targets 1", days[0], "target", "6"),
            # Ben: a result after the as-of date is not seen yet.
            (UPN_B, "Maths", "Autumn 1", days[0], "working_at", "5"),
            (UPN_B, "Maths", "Autumn 2", days[9], "working_at", "2"),
            (UPN_B, "Maths", "Targets 1", days[0], "target", "6"),
        ]
    )
    con = _warehouse({UPN_A: ["/|\\"] * 10, UPN_B: ["/|\\"] * 10}, days, assessments=results)
    features = _features(con, days[8])
    a, b = features.loc[UPN_A], features.loc[UPN_B]
    assert a["english_grade_gap"] == -1
    assert pd.isna(a["maths_grade_gap"])
    assert a["subjects_below_target"] == 1
    assert b["maths_grade_gap"] == -1
