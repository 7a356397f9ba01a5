"""`mentor check`: what tonight's run would do with a delivery, from the real loader, and nothing written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from typer.testing import CliRunner

from pipeline.check import check_delivery, render
from pipeline.cli import app
from pipeline.upn import make_upn

TODAY = dt.date(2025, 11, 22)
A, B, C = (make_upn(801, 4000, 14, n) for n in (1, 2, 3))
EXCEL = "8.01200E+12"
SIMS_PUPILS = (
    "UPN,Legal Surname,Legal Forename,DOB,Gender,Year,SEN Provision,FSM Eligible,Favourite Colour\r\n"
    + "".join(
        f"{u},Surname{n},Forename{n},0{n}/03/2014,Female,7,N,No,blue\r\n" for n, u in enumerate((A, B, C), start=1)
    )
)
MARKS = "Upn;Session_Date;AM/PM;Mark\n" + "".join(f"{u};2025-11-03;AM;/\n{u};2025-11-03;PM;\\\n" for u in (A, B, C))


def _delivery(tmp_path: Path) -> Path:
    good, bad = tmp_path / "exports" / "100001", tmp_path / "exports" / "100002"
    good.mkdir(parents=True)
    bad.mkdir()
    pupils = SIMS_PUPILS.replace(f"{C},", f"{EXCEL},", 1).replace("Forename1", "Zo\u00eb")
    pupils = pupils.replace("Forename2,02/03/2014,Female", "Forename2,02/03/2014,Smithson")  # a surname in Gender
    (good / "pupils.csv").write_bytes(pupils.encode("cp1252"))
    bad_marks = MARKS.replace(f"{B};2025-11-03;PM;\\", f"{B};2025-11-03;PM;Q9")
    (good / "attendance.csv").write_text(bad_marks, encoding="utf-8")
    (bad / "pupils.csv").write_text(SIMS_PUPILS.replace(",FSM Eligible", "").replace(",No,", ","), encoding="utf-8")
    (bad / "attendance.csv").write_text(MARKS, encoding="utf-8")
    return tmp_path / "exports"


def _school(tmp_path: Path, pupils: str = SIMS_PUPILS) -> Path:
    """One school's folder with a clean pupils.csv and attendance.csv: each test adds the file it is about."""
    folder = tmp_path / "100001"
    folder.mkdir()
    (folder / "pupils.csv").write_text(pupils, encoding="utf-8", newline="")
    (folder / "attendance.csv").write_text(MARKS, encoding="utf-8")
    return folder


def test_the_check_reports_layout_matches_gaps_and_quarantine_per_file(tmp_path: Path) -> None:
    check = check_delivery(_delivery(tmp_path), TODAY)
    good, bad = check.schools
    # 100001 loads but half its marks would be quarantined; 100002's pupils.csv would be refused
    assert check.held_back == [good.school_id, bad.school_id] == ["100001", "100002"]
    pupils, marks = good.files[:2]
    assert pupils.layout is not None
    assert pupils.layout.describe() == "Windows-1252, comma-separated, CRLF line ends, dates DD/MM/YYYY"
    assert marks.layout is not None
    assert marks.layout.describe() == "UTF-8, semicolon-separated, LF line ends, dates YYYY-MM-DD"
    assert pupils.header is not None
    assert pupils.header.unknown == ["Favourite Colour"]
    assert "leaving_date" in [c.name for c in pupils.header.missing_optional]
    assert (pupils.rows_read, pupils.rows_loaded, pupils.rows_quarantined) == (3, 2, 1)
    assert [(r.column, r.lines, r.first_lines) for r in pupils.quarantined] == [("upn", 1, (4,))]
    # the pupil whose UPN was mangled has no place on the roll: both marks are quarantined, and the unknown code
    assert sorted((r.reason, r.first_lines) for r in marks.quarantined) == [
        ("pupil not in pupils.csv", (6, 7)),
        ("unknown attendance code '…'", (5,)),
    ]
    assert [(r.reason, r.first_lines) for r in pupils.blanked] == [("sex '…' is not M or F", (3,))]
    assert marks.verdict == "HELD BACK: 3 of 6 lines quarantined (50.0%, more than the gate's 5%)"
    assert bad.files[0].verdict.startswith("HELD BACK: 100002/pupils.csv lacks required column(s): fsm_eligible")


def test_no_name_or_upn_is_printed_and_nothing_is_written(tmp_path: Path) -> None:
    exports = _delivery(tmp_path)
    before = sorted((p.relative_to(tmp_path), p.stat().st_mtime_ns) for p in tmp_path.rglob("*"))
    result = CliRunner().invoke(app, ["check", str(exports), "--today", TODAY.isoformat()])
    assert result.exit_code == 3, result.output
    text = result.output
    assert "School 100002: HELD BACK" in text
    assert "column 'Legal Surname' -> surname (through alias 'Legal Surname')" in text
    assert "no optional column leaving_date: no leaving dates: everyone listed is on roll" in text
    # a value is shown as '…' (it may be anything, a surname in a file whose headers were swapped): the line says
    # where it is
    assert "quarantined 1 x mark: unknown attendance code '…' (line 5)" in text
    assert "value blanked 1 x sex: sex '…' is not M or F (line 3)" in text
    for secret in (A, B, C, EXCEL, "8.012", "Surname1", "Forename2", "Zo\u00eb", "Smithson", "Q9"):
        assert secret not in text
    assert sorted((p.relative_to(tmp_path), p.stat().st_mtime_ns) for p in tmp_path.rglob("*")) == before


def test_a_clean_delivery_exits_0(tmp_path: Path) -> None:
    _school(tmp_path)
    result = CliRunner().invoke(app, ["check", str(tmp_path), "--today", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert "Verdict: tonight's run would load every school." in result.output
    lines = render(check_delivery(tmp_path, TODAY))
    assert "  pupils.csv: OK: all 3 lines would load" in lines


def test_a_mistyped_line_of_decisions_csv_is_set_aside_and_the_school_would_publish(tmp_path: Path) -> None:
    """A file staff write by hand is not judged by the gate's share of lines quarantined: one typo in three lines
    is set aside, the rest used, and the run publishes (the check said HELD BACK, as the run then did)."""
    folder = _school(tmp_path)
    decisions = f"upn,date,decision\n{A},2025-11-03,referred\n{B},2025-11-03,declined\n{C},2025-11-03,maybe\n"
    (folder / "decisions.csv").write_text(decisions, encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(tmp_path), "--today", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert (
        "  decisions.csv: OK: 2 of 3 lines would load, 1 set aside (a file staff write: its other lines are used, "
        "whatever the share)"
    ) in result.output.splitlines()
    assert "Verdict: tonight's run would load every school." in result.output


def test_a_decisions_csv_that_cannot_be_read_is_named_and_the_school_would_publish(tmp_path: Path) -> None:
    folder = _school(tmp_path)
    (folder / "decisions.csv").write_text(f"{A},2025-11-03,declined\n", encoding="utf-8")  # no header row
    result = CliRunner().invoke(app, ["check", str(tmp_path), "--today", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert any(
        line.startswith("  decisions.csv: NOT READ: ")
        and "the school would publish without tonight's decisions" in line
        for line in result.output.splitlines()
    ), result.output
    assert "Verdict: tonight's run would load every school." in result.output


def test_a_file_saved_with_classic_mac_line_ends_is_described_so_and_loads(tmp_path: Path) -> None:
    """Excel's "CSV (Macintosh)" ends lines with CR alone: the file loaded, and the check said it had "no" line ends."""
    _school(tmp_path, pupils=SIMS_PUPILS.replace("\r\n", "\r"))
    pupils = check_delivery(tmp_path, TODAY).schools[0].files[0]
    assert pupils.layout is not None
    assert pupils.layout.describe() == "UTF-8, comma-separated, CR line ends, dates DD/MM/YYYY"
    assert pupils.verdict == "OK: all 3 lines would load"


def test_grades_for_no_subject_the_features_read_are_named_before_they_go_unread(tmp_path: Path) -> None:
    """An MIS naming English and maths "LIT" and "NUM": every result loads, and every gap to target reads as no data.
    ("EN" and "MA", the short codes, are read as English and Maths.)"""
    folder = _school(tmp_path)
    grades = "".join(
        f"{u},{s},Autumn 1,2025-10-20,{t},5\n"
        for u in (A, B)
        for s in ("NUM", "LIT", "Art")
        for t in ("working_at", "target")
    )
    (folder / "assessments.csv").write_text("upn,subject,assessment_point,date,result_type,result\n" + grades)
    school = check_delivery(tmp_path, TODAY).schools[0]
    assert school.notes[-1] == (
        "no working-at or target result is for English, Reading or Maths (the subjects they are for: Art, LIT, NUM), "
        "so every pupil's gap to target would read as no data: name the subjects as docs/contract.md does"
    )
    (folder / "assessments.csv").write_text(
        "upn,subject,assessment_point,date,result_type,result\n" + grades.replace(",NUM,", ",MA,")
    )
    assert not any("no working-at" in note for note in check_delivery(tmp_path, TODAY).schools[0].notes)


def test_grades_written_as_words_are_named_before_they_go_unread(tmp_path: Path) -> None:
    folder = _school(tmp_path)
    grades = "".join(f"{u},Maths,Autumn 1,2025-10-20,{t},{g}\n" for u in (A, B, C) for t, g in
                     (("working_at", "Expected Standard"), ("target", "Greater Depth")))  # fmt: skip
    (folder / "assessments.csv").write_text("upn,subject,assessment_point,date,result_type,result\n" + grades)
    assert check_delivery(tmp_path, TODAY).schools[0].notes[-1] == (
        "100% of the English, Reading and Maths working-at and target results are no grade (such as 'Expected "
        "Standard'), so their gaps to target would read as no data: write grades as 9-1, U or the primary steps "
        "(BLW, PKS, WTS, EXS, GDS), as docs/contract.md does"
    )


def test_scores_written_with_a_decimal_comma_or_a_percent_sign_are_named_by_their_shape_before_they_go_unread(
    tmp_path: Path,
) -> None:
    """Excel set to a European language writes 104.0 as "104,0" (in a semicolon-separated file): every line loaded,
    the check said so and nothing more, and every score read as no result."""
    folder = _school(tmp_path)
    scores = "".join(
        f"{u};{s};KS2;2025-07-08;ks2_scaled;{r}\n"
        for u in (A, B, C)
        for s, r in (("Reading", "104,0"), ("Maths", "98,5"))
    )
    cat4 = "".join(f"{u};Mean;Year 7 CAT4;2025-10-01;cat4_sas;{r}\n" for u, r in ((A, "95%"), (B, "101"), (C, "88")))
    (folder / "assessments.csv").write_text("upn;subject;assessment_point;date;result_type;result\n" + scores + cat4)
    school = check_delivery(tmp_path, TODAY).schools[0]
    assert school.files[2].verdict == "OK: all 9 lines would load"
    ks2 = (
        "100% of the KS2 scaled scores are not numbers (written like '99,9', each digit shown as 9 and each letter as "
        "x), so they would be read as no result and their range would go unchecked: write them as digits with a "
        "decimal point (104, 104.5), with no decimal comma or % sign, as docs/contract.md does"
    )
    assert [n for n in school.notes if "are not numbers" in n] == [ks2]  # a third of the CAT4 scores is not enough
    cat4 = (
        "1 of the 3 CAT4 standard age scores is written with a decimal comma or a % sign (like '99%', each digit "
        "shown as 9), so would be read as no result: write them as digits with a decimal point (104, 104.5), as "
        "docs/contract.md does"
    )
    assert [n for n in school.notes if "decimal comma" in n and n != ks2] == [cat4]  # but any one written so is told
    assert "104,0" not in "\n".join(render(check_delivery(tmp_path, TODAY)))  # a pupil's score is never shown


def test_behaviour_points_all_positive_are_named_before_they_go_unread(tmp_path: Path) -> None:
    folder = _school(tmp_path)
    incidents = "".join(f"{A},{n},2025-10-{1 + n % 28:02d},Disruption,3\n" for n in range(60))
    (folder / "behaviour.csv").write_text("upn,incident_id,date,category,points\n" + incidents, encoding="utf-8")
    assert check_delivery(tmp_path, TODAY).schools[0].notes[-1] == (
        "none of the 60 behaviour incidents has negative points, so no pupil's behaviour would count: write negative "
        "behaviour as negative points (-3), as docs/contract.md does"
    )


def test_the_folder_may_be_given_as_mentor_run_takes_it_and_must_be_given_once(tmp_path: Path) -> None:
    folder = _school(tmp_path)
    day = ["--today", TODAY.isoformat()]
    as_run = CliRunner().invoke(app, ["check", "--exports", str(tmp_path), *day])
    assert as_run.exit_code == 0, as_run.output
    assert as_run.output == CliRunner().invoke(app, ["check", str(tmp_path), *day]).output
    missing = CliRunner().invoke(app, ["check", *day])
    assert missing.exit_code == 2
    assert (
        missing.output.strip()
        == "give the exports folder to check: mentor check DIR (or --exports DIR, as mentor run takes it)"
    )
    twice = CliRunner().invoke(app, ["check", str(tmp_path), "--exports", str(folder), *day])
    assert twice.exit_code == 2
    assert twice.output.strip() == f"two exports folders given ({tmp_path} and --exports {folder}): give one"


def test_a_stray_quote_spoils_its_own_line_in_the_check_not_the_rest_of_the_file(tmp_path: Path) -> None:
    """The date-style sampler read the file with a CSV reader: a quote opened on line 2 ran its field on over the
    lines after it, past csv's field limit (131,072 characters), and `mentor check` ended in a traceback."""
    folder = tmp_path / "100001"
    folder.mkdir()
    (folder / "pupils.csv").write_text(SIMS_PUPILS, encoding="utf-8")
    marks = [f"{u},{day:%Y-%m-%d},{s},/" for u in (A, B, C) for day in _school_days(3000) for s in ("AM", "PM")]
    marks[0] = marks[0].replace(",", ',"', 1)  # the stray quote
    (folder / "attendance.csv").write_text("upn,date,session,mark\n" + "\n".join(marks) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(tmp_path), "--today", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert "read as UTF-8, comma-separated, LF line ends, dates YYYY-MM-DD" in result.output
    assert "quarantined 1 x (whole line): line has a quote in the wrong place" in result.output


def _school_days(n: int) -> list[dt.date]:
    """The last ``n`` weekdays up to TODAY."""
    days, day = [], TODAY
    while len(days) < n:
        if day.weekday() < 5:
            days.append(day)
        day -= dt.timedelta(days=1)
    return days[::-1]


def test_an_unreadable_optional_file_holds_the_school_back_in_the_check_as_in_the_run(tmp_path: Path) -> None:
    """The check said "REFUSED" and "would publish" for an empty behaviour.csv and exited 0; the run held the school
    back (its check "every file delivered was read") and exited 3."""
    folder = tmp_path / "exports" / "100001"
    folder.mkdir(parents=True)
    (folder / "pupils.csv").write_text(SIMS_PUPILS, encoding="utf-8")
    (folder / "attendance.csv").write_text(MARKS, encoding="utf-8")
    (folder / "behaviour.csv").write_bytes(b"")
    checked = CliRunner().invoke(app, ["check", str(tmp_path / "exports"), "--today", TODAY.isoformat()])
    assert checked.exit_code == 3, checked.output
    assert "School 100001: HELD BACK: no new shortlist tonight" in checked.output
    assert "  behaviour.csv: HELD BACK: 100001/behaviour.csv is empty" in checked.output
    run = CliRunner().invoke(app, ["run", "--exports", str(tmp_path / "exports"), "--db", str(tmp_path / "w.duckdb"),
                                   "--out", str(tmp_path / "out"), "--as-of", TODAY.isoformat()])  # fmt: skip
    assert run.exit_code == 3, run.output
    assert "held back: school 100001: behaviour.csv failed" in run.output


def test_a_school_whose_marks_stop_weeks_before_the_others_is_held_back_in_the_check_as_in_the_run(
    tmp_path: Path,
) -> None:
    """The check said "would publish" of a school whose attendance export had stopped; the run held it back."""
    for school, day in (("100001", "2025-11-21"), ("100002", "2025-11-03")):
        folder = tmp_path / "exports" / school
        folder.mkdir(parents=True)
        (folder / "pupils.csv").write_text(SIMS_PUPILS, encoding="utf-8")
        (folder / "attendance.csv").write_text(MARKS.replace("2025-11-03", day), encoding="utf-8")
    checked = CliRunner().invoke(app, ["check", str(tmp_path / "exports"), "--today", TODAY.isoformat()])
    assert checked.exit_code == 3, checked.output
    assert "School 100001: would publish" in checked.output
    assert "School 100002: HELD BACK: no new shortlist tonight" in checked.output
    assert (
        "  HELD BACK: its latest attendance mark is 18 days before the night of 2025-11-21 (the latest mark of any "
        "school), more than 14: has its export stopped?"
    ) in checked.output
    run = CliRunner().invoke(app, ["run", "--exports", str(tmp_path / "exports"), "--db", str(tmp_path / "w.duckdb"),
                                   "--out", str(tmp_path / "out")])  # fmt: skip
    assert run.exit_code == 3, run.output
    assert "held back: school 100002:" in run.output


def test_a_line_longer_than_csv_s_field_limit_is_checked_as_the_run_quarantines_it(tmp_path: Path) -> None:
    """A field over 128 KiB among the first lines stopped `mentor check` with "unexpected error" (exit 1)."""
    folder = _school(tmp_path)
    (folder / "attendance.csv").write_text(MARKS + f"{A};2025-11-04;AM;{'x' * 140_000}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(tmp_path), "--today", TODAY.isoformat()])
    assert result.exit_code in (0, 3), result.output
    assert "dates YYYY-MM-DD" in result.output
    assert "quarantined 1 x" in result.output
