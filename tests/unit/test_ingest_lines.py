"""Every physical line of a delivery accounted for: damaged lines quarantined alone, damaged files refused."""

from __future__ import annotations

import datetime as dt
import os
import time
import zipfile
from pathlib import Path

import duckdb
import pytest

from pipeline.ingest import IngestResult, ingest
from pipeline.ingest.load import FileLoad
from pipeline.ingest.read import ExportsFolderError
from pipeline.upn import make_upn
from pipeline.warehouse import connect

TODAY = dt.date(2025, 11, 22)
SCHOOL = "100001"
ROLL = [make_upn(801, 4000, 14, n) for n in range(1, 11)]
A, B, C = ROLL[:3]
HEADER = "upn,surname,forename,date_of_birth,sex,year_group,leaving_date,sen_provision,fsm_eligible\n"
PUPILS = HEADER + "".join(f"{u},Example,Pupil{n},2014-03-01,F,7,,N,N\n" for n, u in enumerate(ROLL))
MARK_LINES = [f"{u},2025-11-{day:02d},{s},/" for u in ROLL for day in (3, 4, 5) for s in ("AM", "PM")]
MARKS = "upn,date,session,mark\n" + "\n".join(MARK_LINES) + "\n"


def _ingest(
    tmp_path: Path, files: dict[str, str | bytes], con: duckdb.DuckDBPyConnection | None = None
) -> tuple[IngestResult, duckdb.DuckDBPyConnection]:
    folder = tmp_path / SCHOOL
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in {"pupils.csv": PUPILS, "attendance.csv": MARKS, **files}.items():
        (folder / name).write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    con = con or connect()
    return ingest(con, tmp_path, today=TODAY), con


def _file(result: IngestResult, name: str) -> FileLoad:
    return next(f for f in result.files if f.file == name)


def _quarantined(con: duckdb.DuckDBPyConnection, file: str = "attendance.csv") -> list[tuple[int, str, str, str]]:
    return con.execute(
        "select line_number, column_name, value, reason from quarantine "
        "where file = $file and outcome = 'row quarantined' order by line_number",
        {"file": file},
    ).fetchall()


def _counts(outcome: FileLoad) -> tuple[str, int, int, int]:
    return outcome.status, outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined


def _damage(line_number: int, damaged: str) -> str:
    """MARKS with its line ``line_number`` (the header is line 1) replaced."""
    lines = MARKS.split("\n")
    lines[line_number - 1] = damaged
    return "\n".join(lines)


def test_a_stray_quote_quarantines_its_line_alone(tmp_path: Path) -> None:
    line = MARK_LINES[5].replace(",/", ',"/')
    result, con = _ingest(tmp_path, {"attendance.csv": _damage(7, line)})
    assert _counts(_file(result, "attendance.csv")) == ("loaded", 60, 59, 1)
    reason = 'line has a quote in the wrong place (a stray " or a quoted field not closed on its line)'
    assert _quarantined(con) == [(7, "(whole line)", line, reason)]
    assert con.execute("select count(*) from attendance").fetchone() == (59,)


def test_quoted_fields_may_hold_the_delimiter_and_quotes(tmp_path: Path) -> None:
    pupils = PUPILS.replace(f"{A},Example,Pupil0", f'"{A}","O\'Brien, ""Jr""",Pupil0')
    result, con = _ingest(tmp_path, {"pupils.csv": pupils})
    assert _counts(_file(result, "pupils.csv")) == ("loaded", 10, 10, 0)
    assert con.execute("select surname from pupils where upn = $u", {"u": A}).fetchone() == ('O\'Brien, "Jr"',)


def test_lines_with_too_many_fields_a_nul_byte_or_control_characters(tmp_path: Path) -> None:
    marks = _damage(3, MARK_LINES[1] + ",extra")
    marks = marks.replace(MARK_LINES[3], MARK_LINES[3][:5] + "\x00" + MARK_LINES[3][5:])
    marks = marks.replace(MARK_LINES[4], MARK_LINES[4].replace(",/", ",\x07"))
    result, con = _ingest(tmp_path, {"attendance.csv": marks})
    assert _counts(_file(result, "attendance.csv")) == ("loaded", 60, 57, 3)
    nul_shown = MARK_LINES[3][:5] + "\u2400" + MARK_LINES[3][5:]
    assert _quarantined(con) == [
        (3, "(whole line)", MARK_LINES[1] + ",extra",
         "line has 5 fields, the header 4 (a stray delimiter or an unquoted comma?)"),
        (5, "(whole line)", nul_shown, "line holds a NUL byte (a damaged file?)"),
        (6, "mark", "\u2407", "unknown attendance code '\x07'"),
    ]  # fmt: skip


def test_a_one_megabyte_line_is_quarantined_at_once(tmp_path: Path) -> None:
    long_line = MARK_LINES[0][:-1] + "x" * 1_048_576
    started = time.perf_counter()
    result, con = _ingest(tmp_path, {"attendance.csv": _damage(2, long_line)})
    seconds = time.perf_counter() - started
    assert _counts(_file(result, "attendance.csv")) == ("loaded", 60, 59, 1)
    [(line, column, value, reason)] = _quarantined(con)
    assert (line, column) == (2, "(whole line)")
    assert reason == f"line is {len(long_line)} bytes long, over the limit of 65,536 (a damaged file?)"
    assert value == long_line[:200] + "…"
    assert seconds < 10  # the whole ingest (of the two files), well under a second on a quiet machine


def test_a_long_value_is_cut_in_the_quarantine(tmp_path: Path) -> None:
    result, con = _ingest(tmp_path, {"attendance.csv": _damage(2, MARK_LINES[0][:-1] + "Q" * 5000)})
    assert _counts(_file(result, "attendance.csv")) == ("loaded", 60, 59, 1)
    [(line, column, value, reason)] = _quarantined(con)
    assert (line, column, value) == (2, "mark", "Q" * 200 + "…")
    assert reason.startswith("unknown attendance code 'QQQ")


def test_utf16_is_refused_with_a_plain_message(tmp_path: Path) -> None:
    for name, content in (("bom", PUPILS.encode("utf-16")), ("no-bom", PUPILS.encode("utf-16-le"))):
        result, _ = _ingest(tmp_path / name, {"pupils.csv": content})
        assert _file(result, "pupils.csv").notes == [
            f"{SCHOOL}/pupils.csv is UTF-16 text: export it again as CSV (UTF-8)"
        ]


def test_an_excel_workbook_saved_as_csv_is_refused_as_a_workbook(tmp_path: Path) -> None:
    """It was refused for lacking every required column, which sent the data lead looking for columns."""
    workbook = tmp_path / "book.xlsx"
    with zipfile.ZipFile(workbook, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    old_excel = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)  # an .xls: an OLE compound file
    for name, content in (("xlsx", workbook.read_bytes()), ("xls", old_excel)):
        result, _ = _ingest(tmp_path / name, {"pupils.csv": content})
        assert _file(result, "pupils.csv").notes == [
            f"{SCHOOL}/pupils.csv is an Excel workbook (or another zip or Office file), not CSV text: open it in "
            "Excel and save it as CSV UTF-8 (comma delimited)"
        ]


def test_one_windows_1252_byte_in_a_utf8_file_quarantines_its_line_only(tmp_path: Path) -> None:
    # A UTF-8 file (with a byte order mark and a UTF-8 name) with one Windows-1252 byte pasted in.
    pupils = ("\ufeff" + PUPILS.replace("Pupil1", "Zoë")).encode("utf-8").replace(b"Pupil2", b"Ren\xe9e")
    result, con = _ingest(tmp_path, {"pupils.csv": pupils})
    outcome = _file(result, "pupils.csv")
    assert _counts(outcome) == ("loaded", 10, 9, 1)
    assert [r[0] for r in _quarantined(con, "pupils.csv")] == [4]
    assert con.execute("select forename from pupils where upn = $u", {"u": ROLL[1]}).fetchone() == ("Zoë",)


def test_a_windows_1252_file_is_transcoded_with_a_note(tmp_path: Path) -> None:
    result, con = _ingest(tmp_path, {"pupils.csv": PUPILS.replace("Pupil2", "Renée").encode("cp1252")})
    assert _counts(_file(result, "pupils.csv")) == ("loaded", 10, 10, 0)
    assert "read as Windows-1252" in _file(result, "pupils.csv").notes
    assert con.execute("select forename from pupils where upn = $u", {"u": ROLL[2]}).fetchone() == ("Renée",)


def test_old_mac_line_ends_and_blank_lines(tmp_path: Path) -> None:
    result, _ = _ingest(tmp_path, {"pupils.csv": PUPILS.replace("\n", "\r"), "attendance.csv": _damage(4, "")})
    assert _counts(_file(result, "pupils.csv")) == ("loaded", 10, 10, 0)
    outcome = _file(result, "attendance.csv")
    assert _counts(outcome) == ("loaded", 59, 59, 0)
    assert "1 blank line(s) skipped" in outcome.notes


def test_a_line_of_delimiters_alone_is_a_blank_line_not_a_row_of_blanks(tmp_path: Path) -> None:
    """Excel leaves ",,,," lines below a table's last row: each was quarantined as "UPN is blank", and report.html
    told staff to correct lines of their decisions.csv they could not see."""
    marks = _damage(4, ",,,") + ' , ,"",\n;;;\n'
    decisions = f"upn,date,decision,review_date\n{A},03/11/2025,declined,\n,,,\n,,,\n"
    result, con = _ingest(tmp_path, {"attendance.csv": marks, "decisions.csv": decisions})
    outcome = _file(result, "attendance.csv")
    assert _counts(outcome) == ("loaded", 59, 59, 0)
    assert "3 blank line(s) skipped" in outcome.notes
    assert _counts(_file(result, "decisions.csv")) == ("loaded", 1, 1, 0)
    assert con.execute("select count(*) from quarantine").fetchone() == (0,)


def test_symlinks_and_other_files_are_refused_never_followed(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "behaviour.csv").write_text("upn,incident_id,date,category,points\n")
    exports = tmp_path / "exports"
    _ingest(exports, {})  # writes the school's folder
    (exports / SCHOOL / "behaviour.csv").symlink_to(outside / "behaviour.csv")
    os.mkfifo(exports / SCHOOL / "exclusions.csv")
    (exports / "100002").symlink_to(exports / SCHOOL)
    result = ingest(connect(), exports, today=TODAY)
    assert result.schools == [SCHOOL]
    assert "refused 100002: a symbolic link (links in the export folder are never followed)" in result.notes
    # A contract file refused unopened fails (the school is held back, as for any file that cannot be read), where
    # it counted as not delivered and the school published without it.
    assert _counts(_file(result, "behaviour.csv"))[0] == "failed"
    assert _file(result, "behaviour.csv").notes == [
        f"{SCHOOL}/behaviour.csv was refused unopened: a symbolic link (links in the export folder are never "
        "followed); deliver the file itself"
    ]
    assert (
        _file(result, "exclusions.csv")
        .notes[0]
        .startswith(f"{SCHOOL}/exclusions.csv was refused unopened: not a regular file (a device, pipe or socket)")
    )
    assert {f.file for f in result.files if f.status == "loaded"} == {"pupils.csv", "attendance.csv"}


def test_a_school_is_named_by_its_folder_s_whole_name_in_ascii_digits(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    _ingest(exports, {})
    for odd in ("100002\n", "\uff11\uff10\uff10\uff10\uff10\uff13", "1000040"[:6] + "x"):
        (exports / odd).mkdir()
        (exports / odd / "pupils.csv").write_text(PUPILS, encoding="utf-8")
    result = ingest(connect(), exports, today=TODAY)
    assert result.schools == [SCHOOL]
    assert len([n for n in result.notes if "not a school folder" in n]) == 3


def test_a_folder_of_export_files_is_one_school_only_when_named_by_a_urn(tmp_path: Path) -> None:
    """`--exports ..` from inside a school's sub-folder named the school "..", and its lists were written beside the
    output folder; a trust folder with a stray CTF or pupils.csv at its top was read as one school named after the
    trust's folder, its schools' folders ignored."""
    school = tmp_path / SCHOOL
    _ingest(tmp_path, {})
    (school / "sub").mkdir()
    result = ingest(connect(), school / "sub" / "..", today=TODAY)
    assert result.schools == [SCHOOL]  # the folder's own name, resolved
    (tmp_path / "pupils.csv").write_text(PUPILS, encoding="utf-8")  # a stray file beside the school's folder
    result = ingest(connect(), tmp_path, today=TODAY)
    assert result.schools == [SCHOOL]
    assert "ignored pupils.csv: not a school folder (named by a 6-digit URN or 7-digit LAESTAB)" in result.notes
    alone = tmp_path / "oak-academy"
    alone.mkdir()
    (alone / "pupils.csv").write_text(PUPILS, encoding="utf-8")
    with pytest.raises(ExportsFolderError, match="its name is not a school's URN"):
        ingest(connect(), alone, today=TODAY)


def test_implausible_dates_of_birth_are_blanked_and_reading_ages_quarantined(tmp_path: Path) -> None:
    pupils = PUPILS.replace(f"{A},Example,Pupil0,2014-03-01", f"{A},Example,Pupil0,01/01/1900").replace(
        f"{B},Example,Pupil1,2014-03-01", f"{B},Example,Pupil1,2024-01-01"
    )
    # DuckDB's own cast would read 1_31, 0x83 and 131.4 as 131, 1e2 as 100 and 10:0_3 as 10:03 (all plausible)
    ages = ["131", "10:11", "9999", "10:75", "1_31", "1e2", "0x83", "131.4", "10:0_3", "131.0"]
    results = "upn,subject,assessment_point,date,result_type,result\n" + "".join(
        f"{u},Reading,Autumn,2025-10-01,reading_age,{r}\n" for u, r in zip(ROLL, ages, strict=True)
    )
    result, con = _ingest(tmp_path, {"pupils.csv": pupils, "assessments.csv": results})
    assert _counts(_file(result, "pupils.csv")) == ("loaded", 10, 10, 0)
    blanked = con.execute(
        "select line_number, column_name, reason from quarantine where outcome = 'value blanked' order by 1"
    ).fetchall()
    assert blanked == [
        (2, "date_of_birth", "date of birth 1900-01-01 makes the pupil 125 years old on 2025-11-22, not 3 to 25: "
         "implausible"),
        (3, "date_of_birth", "date of birth 2024-01-01 makes the pupil 1 years old on 2025-11-22, not 3 to 25: "
         "implausible"),
    ]  # fmt: skip
    assert con.execute("select count(*) from pupils where date_of_birth is null").fetchone() == (2,)
    assert _counts(_file(result, "assessments.csv")) == ("loaded", 10, 3, 7)
    quarantined = _quarantined(con, "assessments.csv")
    assert [(r[0], r[1], r[2]) for r in quarantined] == [
        (4, "result", "9999"),
        (5, "result", "10:75"),
        *((line, "result", age) for line, age in enumerate(ages[4:9], start=6)),
    ]
    assert quarantined[3][3] == "reading age '1e2' is not plausible (whole months 24-240, or years:months 2:00-20:00)"
    assert sorted(r for (r,) in con.execute("select result from assessments").fetchall()) == ["10:11", "131", "131.0"]


def test_a_count_is_read_only_when_written_as_a_whole_number(tmp_path: Path) -> None:
    # DuckDB's own cast would read 12.5 minutes as 13, 0.5 sessions as 1 and 2.5 points as 3 (rounded), 1_0 as 10,
    # 1e3 as 1000 and 0x10 as 16: each value is refused instead (the row quarantined, or for minutes late the value
    # blanked). 12.0 and +5 are whole numbers.
    late = ["12.5", "1_0", "1e3", "0x10", "12.0", "+5", "-5", "7"]
    lines = [line.replace(",/", f",L,{m}") for line, m in zip(MARK_LINES, late, strict=False)]
    marks = "upn,date,session,mark,minutes_late\n" + "\n".join(lines + [f"{line}," for line in MARK_LINES[8:]])
    exclusions = "upn,start_date,category,sessions\n" + "".join(
        f"{u},2025-11-0{n + 3},SUSP,{s}\n" for n, (u, s) in enumerate(zip(ROLL, ["0.5", "2.0", "1e0"], strict=False))
    )
    behaviour = "upn,incident_id,date,category,points\n" + "".join(
        f"{u},{n},2025-11-03,Praise,{p}\n" for n, (u, p) in enumerate(zip(ROLL, ["2.5", "+2", "-3"], strict=False))
    )
    files = {"attendance.csv": marks + "\n", "exclusions.csv": exclusions, "behaviour.csv": behaviour}
    result, con = _ingest(tmp_path, files)
    # Minutes late are a detail of a late mark: a value that cannot be read is blanked and the mark loads (the mark
    # itself was quarantined with it, and the pupil's late mark lost).
    assert _counts(_file(result, "attendance.csv")) == ("loaded", 60, 60, 0)
    blanked = "select column_name, reason from quarantine where outcome = 'value blanked' order by line_number"
    assert con.execute(blanked).fetchall() == [
        *(("minutes_late", f"'{m}' is not a whole number") for m in late[:4]),
        ("minutes_late", "minutes late cannot be negative"),
    ]
    assert con.execute("select count(*) from attendance where mark = 'L'").fetchall() == [(8,)]
    loaded = "select minutes_late from attendance where minutes_late is not null order by 1"
    assert con.execute(loaded).fetchall() == [(5,), (7,), (12,)]
    assert _quarantined(con, "exclusions.csv") == [
        (2, "sessions", "0.5", "'0.5' is not a whole number"),
        (4, "sessions", "1e0", "'1e0' is not a whole number"),
    ]
    assert con.execute("select sessions from exclusions").fetchall() == [(2,)]
    assert [r[1:] for r in _quarantined(con, "behaviour.csv")] == [("points", "2.5", "'2.5' is not a whole number")]
    assert con.execute("select points from behaviour order by points").fetchall() == [(-3,), (2,)]


DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_the_docs_say_what_the_loader_does_with_minutes_late_and_the_behaviour_key(tmp_path: Path) -> None:
    """docs/ingest.md said a non-whole or negative minutes-late value quarantines the row (the value is blanked, as
    above), and docs/contract.md that an incident_id is "unique per school" (the key is incident_id + upn: one
    incident of two pupils is two lines under one ID, and both load)."""
    ingest_md = " ".join((DOCS / "ingest.md").read_text(encoding="utf-8").split())
    quarantined_for = ingest_md.split("Rows are quarantined for", 1)[1].split("The quarantined value", 1)[0]
    assert "minutes late" not in quarantined_for
    assert "Minutes late not written as a whole number, or negative, do not quarantine the row" in ingest_md
    contract_md = (DOCS / "contract.md").read_text(encoding="utf-8")
    incident = next(line for line in contract_md.splitlines() if line.startswith("| `incident_id`"))
    assert "unique per school" not in incident
    assert "the key is `incident_id` + `upn`" in incident
    behaviour = "upn,incident_id,date,category,points\n" + "".join(f"{u},77,2025-11-03,Disruption,-3\n" for u in (A, B))
    result, con = _ingest(tmp_path, {"behaviour.csv": behaviour})
    assert _counts(_file(result, "behaviour.csv")) == ("loaded", 2, 2, 0)
    assert con.execute("select count(*) from behaviour where incident_id = '77'").fetchone() == (2,)


def test_a_refused_pupils_file_fails_the_schools_other_files_with_one_message(tmp_path: Path) -> None:
    result, con = _ingest(tmp_path, {"pupils.csv": PUPILS.replace("upn,", "pupil,", 1)})
    assert _file(result, "pupils.csv").status == "failed"
    outcome = _file(result, "attendance.csv")
    assert outcome.status == "failed"
    assert outcome.notes[0].startswith(f"{SCHOOL}/attendance.csv was not loaded: pupils.csv was refused (")
    assert con.execute("select count(*) from quarantine").fetchone() == (0,)


def test_pupils_missing_from_a_later_pupils_file_are_kept_and_counted(tmp_path: Path) -> None:
    _, con = _ingest(tmp_path / "first", {})
    half = HEADER + "".join(line + "\n" for line in PUPILS.splitlines()[1:6])
    result, _ = _ingest(tmp_path / "second", {"pupils.csv": half}, con=con)
    outcome = _file(result, "pupils.csv")
    assert outcome.roll_not_listed == 5
    assert (
        "5 of the 10 pupils on roll in the warehouse are not in this pupils.csv: they are kept on roll (a delta may "
        "leave pupils out); if they left, deliver them with their leaving date"
    ) in outcome.notes
    assert con.execute("select count(*) from pupils").fetchone() == (10,)


def test_a_repaired_file_after_a_damaged_one_gives_what_a_fresh_load_gives(tmp_path: Path) -> None:
    damaged = _damage(7, MARK_LINES[5].replace(",/", ',"/'))
    repaired = MARKS.replace(MARK_LINES[9], MARK_LINES[9].replace(",/", ",L"))
    con = connect()
    _ingest(tmp_path / "1", {"attendance.csv": damaged}, con=con)
    result, _ = _ingest(tmp_path / "2", {"attendance.csv": repaired}, con=con)
    _, fresh = _ingest(tmp_path / "3", {"attendance.csv": repaired})
    assert _counts(_file(result, "attendance.csv")) == ("loaded", 60, 60, 0)
    marks = "select upn, date, session, mark from attendance order by all"
    assert con.execute(marks).fetchall() == fresh.execute(marks).fetchall()


def test_a_date_whose_year_is_not_four_digits_is_not_read_as_the_first_century(tmp_path: Path) -> None:
    # Excel may show and save 01/09/2025 as 01/09/25; DuckDB's %Y reads "25" as the year 25.
    marks = _damage(2, f"{A},03/11/25,AM,/").replace(f"{A},2025-11-03,PM,/", f"{A},25-11-03,PM,/")
    pupils = PUPILS.replace(f"{B},Example,Pupil1,2014-03-01", f"{B},Example,Pupil1,01/03/14")
    result, con = _ingest(tmp_path, {"attendance.csv": marks, "pupils.csv": pupils})
    assert _counts(_file(result, "attendance.csv")) == ("loaded", 60, 58, 2)
    assert [r[:3] for r in _quarantined(con)] == [(2, "date", "03/11/25"), (3, "date", "25-11-03")]
    assert con.execute("select count(*) from attendance where year(date) < 2000").fetchone() == (0,)
    assert con.execute("select date_of_birth from pupils where upn = $b", {"b": B}).fetchone() == (None,)


def test_a_file_without_a_column_the_school_delivered_before_says_how_many_values_it_unknows(tmp_path: Path) -> None:
    """A school that moved from CSV to a CTF (no pupil premium, no registration group, no minutes late) lost them
    all with exit 0 and a note; the loss is now counted, on the file's result (and the run's console)."""
    with_premium = HEADER.replace("fsm_eligible\n", "fsm_eligible,pupil_premium\n") + "".join(
        f"{u},Example,Pupil{n},2014-03-01,F,7,,N,N,Y\n" for n, u in enumerate(ROLL)
    )
    _, con = _ingest(tmp_path / "first", {"pupils.csv": with_premium})
    result, con = _ingest(tmp_path / "second", {"pupils.csv": PUPILS.replace("2014-03-01", "2014-03-02")}, con)
    assert _file(result, "pupils.csv").values_lost == {"pupil_premium": 10}
    assert any("no pupil_premium values (10 delivered before)" in n for n in _file(result, "pupils.csv").notes)
    assert con.execute("select count(pupil_premium) from pupils").fetchone() == (0,)  # as the file without it says
    # the same file again (no column, nothing known before): nothing to say
    result, _ = _ingest(tmp_path / "third", {"pupils.csv": PUPILS}, con)
    assert _file(result, "pupils.csv").values_lost == {}


def test_a_column_delivered_blank_loses_the_values_delivered_before_and_says_so(tmp_path: Path) -> None:
    """An export that kept the pupil_premium column but left it empty made 719 pupils' pupil premium unknown with
    exit 0 and no word: only a file without the column was counted."""
    header = HEADER.replace("fsm_eligible\n", "fsm_eligible,pupil_premium\n")
    with_premium = header + "".join(f"{u},Example,Pupil{n},2014-03-01,F,7,,N,N,Y\n" for n, u in enumerate(ROLL))
    _, con = _ingest(tmp_path / "first", {"pupils.csv": with_premium})
    blank = header + "".join(f"{u},Example,Pupil{n},2014-03-02,F,7,,N,N,\n" for n, u in enumerate(ROLL))
    result, con = _ingest(tmp_path / "second", {"pupils.csv": blank}, con)
    assert _file(result, "pupils.csv").values_lost == {"pupil_premium": 10}
    assert con.execute("select count(pupil_premium) from pupils").fetchone() == (0,)
