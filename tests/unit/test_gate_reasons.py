"""A school held back by the data-quality gate is told the value it failed with in words and units: a share as a
percentage of what it counts, and no sentinel (a school with no attendance mark at all read "(9999)"); and what the
warning checks' queries find."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pipeline.ingest import ingest
from pipeline.upn import make_upn
from pipeline.validate.gate import (
    LEAST_INCIDENTS,
    MARKS_BEHIND_OTHERS,
    NEGATIVE_POINTS,
    NO_MARK_DAYS,
    GateResult,
    checks,
    run_gate,
)
from pipeline.warehouse import connect

PUPIL = make_upn(801, 4000, 14, 1)

WORDED: list[tuple[str, object, str]] = [
    ("no file has more than", 0.0837708830548926, "8.4% of a file's rows"),
    (
        "roll size within",
        0.6950,
        "tonight's roll is 69.5% of that night's: if pupils really left or joined (their leaving and admission dates "
        "say so), raise roll_tolerance in the settings for one night to accept it",
    ),
    ("every school's attendance marks", 21, "its latest mark 21 days before"),
    ("every school's attendance marks", NO_MARK_DAYS, "no mark on or before the night"),
    ("no school day in the last 20", 0, ""),  # always 0: the check's name says it
    (
        "each pupil on roll has an MIS number",
        2.0,
        "2 pupils on roll share one with another UPN: one child counted twice (a temporary UPN replaced by a "
        "permanent one?); deliver the old UPN with a leaving date",
    ),
    (
        "tonight's pupils.csv lists pupils",
        0,
        "no pupil in it; the pupils on roll would be kept as they were: export it again",
    ),
    (
        "tonight's pupils.csv lists at least",
        1 / 207,
        "it lists 0.5%; those it leaves out are kept on roll (a delta may leave pupils out; an export cut short "
        "does too)",
    ),
    (
        "tonight's pupils.csv lists at least",
        0.25,
        "it lists 25%; those it leaves out are kept on roll (a delta may leave pupils out; an export cut short "
        "does too)",
    ),
    (
        "no school's attendance marks stop more than",
        5,
        "the other schools have marks for 5 school days after its latest: a holiday of its own, or its export has "
        "stopped (it is held back at 14 days)",
    ),
    ("99% of each school's KS2", 0.975, "97.5% are"),
    ("99% of each school's CAT4", 0.9, "90.0% are"),
    ("every file delivered was read", "failed", "failed"),
    ("every line of the files staff write", 1, "1 line set aside, listed in quarantine.csv"),
    (
        "behaviour points are negative for negative behaviour",
        0,
        "no incident has negative points, so no pupil's behaviour counts",
    ),
    (
        "at least 50% of the English, Reading and Maths",
        0.75,
        "75% read as no grade, so their gaps to target read as no data",
    ),
    (
        "working-at and target results are for",
        0,
        "none is, so every gap to target reads as no data; mentor check names the subjects",
    ),
    ("every line of the files staff write", 3, "3 lines set aside, listed in quarantine.csv"),
    (
        "at least 50% of each school's KS2 scaled scores are numbers",
        1.0,
        "100% are not, so they read as no result and their range is not checked (a decimal comma or a % sign?); "
        "mentor check shows how they are written",
    ),
    (
        "at least 50% of each school's CAT4 standard age scores are numbers",
        0.75,
        "75% are not, so they read as no result and their range is not checked (a decimal comma or a % sign?); "
        "mentor check shows how they are written",
    ),
]
"""A check (by the start of its name), a value a school could fail it with, and how the school's reason shows it."""


def test_each_check_says_its_failing_value_in_words() -> None:
    for start, value, words in WORDED:
        check = next(c for c in checks() if c.name.startswith(start))
        assert check.shown(value) == words, (start, value)


def test_a_school_recording_every_behaviour_point_as_positive_is_found(tmp_path: Path) -> None:
    """An MIS writing 3 for a detention's -3 (the type saying which are negative): every pupil had 0 negative points."""
    pupils = (
        "upn,surname,forename,date_of_birth,sex,year_group,sen_provision,fsm_eligible\n"
        + f"{PUPIL},A,B,2012-01-01,F,8,N,N\n"
    )
    marks = f"upn,date,session,mark\n{PUPIL},2025-11-03,AM,/\n"

    def behaviour(points: list[int]) -> str:
        return "upn,incident_id,date,category,points\n" + "".join(
            f"{PUPIL},{n},2025-10-{1 + n % 28:02d},Disruption,{p}\n" for n, p in enumerate(points)
        )

    for school, points in (("100001", [3] * LEAST_INCIDENTS), ("100002", [3] * 49 + [-3]), ("100003", [3] * 10)):
        folder = tmp_path / school
        folder.mkdir()
        for name, text in (("pupils.csv", pupils), ("attendance.csv", marks), ("behaviour.csv", behaviour(points))):
            (folder / name).write_text(text, encoding="utf-8")
    con = connect()
    ingest(con, tmp_path, today=dt.date(2025, 11, 7))
    found = con.execute(NEGATIVE_POINTS, {"as_of": dt.date(2025, 11, 7), "least_incidents": LEAST_INCIDENTS})
    assert sorted(found.fetchall()) == [("100001", 50, 0), ("100002", 50, 1)]  # 100003: too few to tell


def test_a_limit_set_to_a_tenth_of_a_percent_is_named_as_set() -> None:
    names = [c.name for c in checks(max_quarantined_share=0.055, roll_tolerance=0.125)]
    assert "no file has more than 5.5% of its rows quarantined" in names  # it read "6%", and a file at 5.8% failed
    assert "roll size within 12.5% of the last night the school was published" in names


def test_a_school_whose_marks_stop_while_the_others_move_on_is_found(tmp_path: Path) -> None:
    """100002's export stopped after Monday 3 November: the others have four school days more (a closure day of
    all of them is no school day); 100003 missed only Friday (an INSET day?)."""
    week = [dt.date(2025, 11, 3) + dt.timedelta(days=k) for k in range(5)]
    pupils = "upn,surname,forename,date_of_birth,sex,year_group,sen_provision,fsm_eligible\n" + (
        f"{PUPIL},A,B,2012-01-01,F,8,N,N\n"
    )
    for school, days in (("100001", week), ("100002", week[:1]), ("100003", week[:4])):
        folder = tmp_path / school
        folder.mkdir()
        marks = "upn,date,session,mark\n" + "".join(f"{PUPIL},{day},AM,/\n" for day in days)
        (folder / "pupils.csv").write_text(pupils, encoding="utf-8")
        (folder / "attendance.csv").write_text(marks, encoding="utf-8")
    con = connect()
    ingest(con, tmp_path, today=dt.date(2025, 11, 7))
    found = con.execute(MARKS_BEHIND_OTHERS, {"as_of": dt.date(2025, 11, 7), "lookback_days": 45}).fetchall()
    assert sorted(found) == [("100001", 0), ("100002", 4), ("100003", 1)]
    check = next(c for c in checks() if c.sql == MARKS_BEHIND_OTHERS)
    assert not check.blocking


def _gate_on_ks2(tmp_path: Path, sep: str, results: tuple[tuple[str, str], ...]) -> GateResult:
    """The gate on one school of one pupil whose KS2 scaled scores are ``results`` (subject, result as written), in
    files separated by ``sep``."""
    folder = tmp_path / "100001"
    folder.mkdir()
    pupils = ("upn", "surname", "forename", "date_of_birth", "sex", "year_group", "sen_provision", "fsm_eligible")
    files = {
        "pupils.csv": [pupils, (PUPIL, "A", "B", "2012-01-01", "F", "8", "N", "N")],
        "attendance.csv": [("upn", "date", "session", "mark"), (PUPIL, "2025-11-03", "AM", "/")],
        "assessments.csv": [("upn", "subject", "assessment_point", "date", "result_type", "result")]
        + [(PUPIL, subject, "KS2", "2025-07-08", "ks2_scaled", result) for subject, result in results],
    }
    for name, lines in files.items():
        (folder / name).write_text("".join(sep.join(line) + "\n" for line in lines), encoding="utf-8")
    con = connect()
    loaded = ingest(con, tmp_path, today=dt.date(2025, 11, 7))
    return run_gate(con, loaded.load_id, dt.date(2025, 11, 7))


def test_scores_written_with_a_decimal_comma_are_warned_of_and_a_range_with_nothing_to_check_says_so(
    tmp_path: Path,
) -> None:
    """KS2 scaled scores saved by Excel set to a European language ("104,0", in a semicolon-separated file) read as no
    result: the range check passed, having checked 0 rows, and nothing said so."""
    gate = _gate_on_ks2(tmp_path, ";", (("Reading", "104,0"), ("Maths", "98,5")))
    by_name = {c.name: c for c in gate.checks}
    numbers = by_name["at least 50% of each school's KS2 scaled scores are numbers (written as digits: 104, 104.5)"]
    assert (numbers.blocking, numbers.success, numbers.rows_checked) == (False, False, 1)
    assert numbers.schools_failed == {
        "100001": "100% are not, so they read as no result and their range is not checked (a decimal comma or a % "
        "sign?); mentor check shows how they are written"
    }
    assert numbers in gate.warnings
    ranged = by_name["99% of each school's KS2 scaled scores are between 80 and 120 (no rows to check)"]
    assert (ranged.success, ranged.rows_checked) == (True, 0)
    assert gate.passed  # a warning: the school publishes


def test_a_few_scores_written_with_a_decimal_comma_are_warned_of_though_most_are_numbers(tmp_path: Path) -> None:
    """A KS2 score typed in by hand as "98,5" beside three exported ones read as no result, and nothing said so: the
    check of numbers warns only above half (a code such as "A" for absent is a right way to write no result), but no
    score with a decimal comma or a % sign is right."""
    gate = _gate_on_ks2(tmp_path, ",", (("Reading", "104"), ("Maths", '"98,5"'), ("GPS", "101"), ("Science", "A")))
    by_name = {c.name: c for c in gate.checks}
    numbers = by_name["at least 50% of each school's KS2 scaled scores are numbers (written as digits: 104, 104.5)"]
    assert numbers.success  # half are not numbers: "A" and "98,5"
    comma = by_name["no KS2 scaled score of a school is written with a decimal comma or a % sign (104,5 or 95%)"]
    assert (comma.blocking, comma.success) == (False, False)
    assert comma.schools_failed == {"100001": "1 is, so it reads as no result; mentor check shows how they are written"}
    assert comma in gate.warnings
    assert gate.passed
