"""The bad-input matrix: each messy export gets the exact reason or message, and nothing else is lost."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

import pipeline.ingest as ingest_module
from pipeline.ingest import IngestResult, ingest
from pipeline.ingest.checks import REASON_SHOWN
from pipeline.upn import make_upn
from pipeline.warehouse import connect

TODAY = dt.date(2025, 11, 22)
SCHOOL = "100001"
A, B, C = (make_upn(801, 4000, 14, n) for n in (1, 2, 3))
PUPILS = "upn,surname,forename,date_of_birth,sex,year_group,leaving_date,sen_provision,fsm_eligible\n" + "".join(
    f"{u},Example,Pupil{n},2014-03-0{n},F,7,,N,N\n" for n, u in enumerate((A, B, C), start=1)
)
MARKS = "upn,date,session,mark\n" + "".join(f"{u},2025-11-03,AM,/\n{u},2025-11-03,PM,\\\n" for u in (A, B, C))


def _deliver(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    folder = tmp_path / SCHOOL
    folder.mkdir(parents=True, exist_ok=True)
    base: dict[str, str | bytes] = {"pupils.csv": PUPILS, "attendance.csv": MARKS}
    for name, content in {**base, **files}.items():
        path = folder / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return tmp_path


def _ingest(tmp_path: Path, files: dict[str, str | bytes]) -> tuple[IngestResult, duckdb.DuckDBPyConnection]:
    con = connect()
    result = ingest(con, _deliver(tmp_path, files), today=TODAY)
    for outcome in result.files:
        assert outcome.status == "failed" or outcome.reconciles
    return result, con


def _file(result: IngestResult, name: str):  # type: ignore[no-untyped-def]
    return next(f for f in result.files if f.file == name)


def _quarantine(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int, str | None, str]]:
    return con.execute(
        "select file, line_number, column_name, reason from quarantine where outcome = 'row quarantined' "
        "order by file, line_number"
    ).fetchall()


def test_a_clean_delivery_loads_every_row(tmp_path: Path) -> None:
    result, con = _ingest(tmp_path, {})
    assert (_file(result, "pupils.csv").rows_loaded, _file(result, "attendance.csv").rows_loaded) == (3, 6)
    assert _quarantine(con) == []


def test_bad_check_letter(tmp_path: Path) -> None:
    bad = "Z" + A[1:]
    result, con = _ingest(tmp_path, {"pupils.csv": PUPILS.replace(A, bad, 1)})
    quarantined = _quarantine(con)
    assert quarantined[-1] == ("pupils.csv", 2, "upn", f"UPN check letter should be {A[0]}, not Z")
    assert _file(result, "pupils.csv").rows_loaded == 2
    # Their marks cannot be attached to a pupil on roll, and say so.
    assert quarantined[:2] == [("attendance.csv", n, "upn", "pupil not in pupils.csv") for n in (2, 3)]
    assert _file(result, "attendance.csv").rows_loaded == 4


def test_eleven_character_upn(tmp_path: Path) -> None:
    _, con = _ingest(tmp_path, {"pupils.csv": PUPILS.replace(A, A[:11], 1)})
    assert _quarantine(con)[-1] == ("pupils.csv", 2, "upn", "UPN should have 13 characters, has 11")


def test_unknown_code(tmp_path: Path) -> None:
    result, con = _ingest(tmp_path, {"attendance.csv": MARKS.replace(f"{B},2025-11-03,AM,/", f"{B},2025-11-03,AM,Q9")})
    assert _quarantine(con) == [("attendance.csv", 4, "mark", "unknown attendance code 'Q9'")]
    assert _file(result, "attendance.csv").rows_loaded == 5


def test_dash_means_no_mark_and_is_loaded(tmp_path: Path) -> None:
    result, con = _ingest(tmp_path, {"attendance.csv": MARKS.replace(f"{B},2025-11-03,AM,/", f"{B},2025-11-03,AM,-")})
    assert _quarantine(con) == []
    assert _file(result, "attendance.csv").rows_loaded == 6
    assert con.execute(
        "select mark, category from attendance where upn = $u and session = 'AM'", {"u": B}
    ).fetchall() == [("", "no_mark")]


def test_month_first_date(tmp_path: Path) -> None:
    _, con = _ingest(tmp_path, {"attendance.csv": MARKS.replace(f"{C},2025-11-03,PM", f"{C},03/25/2025,PM")})
    # the one date month first among ISO ones: its line is quarantined, saying it can only be month first
    assert _quarantine(con) == [
        (
            "attendance.csv",
            7,
            "date",
            "date '03/25/2025' is not a valid DD/MM/YYYY or YYYY-MM-DD date: it can only be month first (MM/DD/YYYY), "
            "as Excel set to US English saves dates",
        )
    ]


def test_uk_dates_are_day_first(tmp_path: Path) -> None:
    _, con = _ingest(tmp_path, {"attendance.csv": MARKS.replace("2025-11-03", "03/11/2025")})
    assert con.execute("select distinct date from attendance").fetchall() == [(dt.date(2025, 11, 3),)]


def test_future_date(tmp_path: Path) -> None:
    _, con = _ingest(tmp_path, {"attendance.csv": MARKS.replace(f"{A},2025-11-03,AM", f"{A},2031-01-01,AM")})
    assert _quarantine(con) == [("attendance.csv", 2, "date", "date 2031-01-01 is in the future (after 2025-11-22)")]


def test_duplicate_key_with_conflicting_values(tmp_path: Path) -> None:
    result, con = _ingest(tmp_path, {"attendance.csv": MARKS + f"{A},2025-11-03,AM,O\n"})
    reason = "the same upn + date + session is on lines 2, 8 with different values"
    assert _quarantine(con) == [("attendance.csv", 2, "session", reason), ("attendance.csv", 8, "session", reason)]
    assert _file(result, "attendance.csv").rows_loaded == 5


def test_identical_duplicate_lines_load_once(tmp_path: Path) -> None:
    result, con = _ingest(tmp_path, {"attendance.csv": MARKS + f"{A},2025-11-03,AM,/\n"})
    assert _quarantine(con) == []
    outcome = _file(result, "attendance.csv")
    assert (outcome.rows_read, outcome.rows_loaded, outcome.duplicates_dropped) == (7, 7, 1)
    assert con.execute("select count(*) from attendance").fetchone() == (6,)


def test_pupil_not_on_roll(tmp_path: Path) -> None:
    stranger = make_upn(801, 4000, 14, 99)
    _, con = _ingest(tmp_path, {"attendance.csv": MARKS + f"{stranger},2025-11-03,AM,/\n"})
    assert _quarantine(con) == [("attendance.csv", 8, "upn", "pupil not in pupils.csv")]


def test_a_upn_with_a_hidden_character_or_a_wrong_check_letter_is_named_as_such_not_as_a_missing_pupil(
    tmp_path: Path,
) -> None:
    """A UPN copied with a zero-width space read "pupil not in pupils.csv": the data lead looked for a pupil."""
    wrong_letter = "Z" + A[1:] if A[0] != "Z" else "Y" + A[1:]
    lines = f"{A}\u200b,2025-11-03,AM,/\n{wrong_letter},2025-11-03,PM,/\n"
    _, con = _ingest(tmp_path, {"attendance.csv": MARKS + lines})
    reasons = [reason for *_, reason in _quarantine(con)]
    assert reasons[0].startswith("UPN holds a hidden character (a zero-width space or the like")
    assert reasons[1].startswith("UPN check letter should be ")
    assert len(reasons) == 2


def test_the_marks_of_a_pupil_whose_pupils_csv_lines_conflict_say_so_not_that_the_pupil_is_missing(
    tmp_path: Path,
) -> None:
    """An MIS report joined to SEN needs gave a pupil two rows with different SEN values: both were quarantined, and
    every mark of the pupil read "pupil not in pupils.csv", which sent the data lead to the wrong file."""
    second = f"{A},Example,Pupil1,2014-03-01,F,7,,K,N\n"
    _, con = _ingest(tmp_path, {"pupils.csv": PUPILS + second})
    conflict = "the same upn is on lines 2, 5 with different values"
    cascade = (
        f"pupil not loaded from pupils.csv, whose line for them was quarantined: {conflict}; correct pupils.csv, and "
        "this line loads"
    )
    assert _quarantine(con) == [
        ("attendance.csv", 2, "upn", cascade),
        ("attendance.csv", 3, "upn", cascade),
        ("pupils.csv", 2, "upn", conflict),
        ("pupils.csv", 5, "upn", conflict),
    ]
    # The reason as mentor check and the run report show it keeps its words (REASON_SHOWN hides quoted values only).
    shown = con.execute(f"select distinct {REASON_SHOWN} from quarantine where file = 'attendance.csv'").fetchall()
    assert shown == [(cascade,)]


def test_the_marks_of_a_pupil_whose_pupils_csv_upn_holds_a_hidden_character_point_at_that_line(
    tmp_path: Path,
) -> None:
    """A UPN typed into the MIS with a zero-width space copied from a web page: its pupils.csv line was quarantined
    (the UPN named as holding a hidden character), and the pupil's marks, whose UPN is clean, read "pupil not in
    pupils.csv", as if the pupil were missing, not one character of one line."""
    pupils = PUPILS.replace(f"{A},Example,Pupil1", f"{A[:6]}\u200b{A[6:]},Example,Pupil1")
    _, con = _ingest(tmp_path, {"pupils.csv": pupils})
    rows = _quarantine(con)
    hidden = rows[-1][3]
    assert rows[-1][:3] == ("pupils.csv", 2, "upn")
    assert hidden.startswith("UPN holds a hidden character")
    cascade = (
        f"pupil not loaded from pupils.csv, whose line for them was quarantined: {hidden}; correct pupils.csv, and "
        "this line loads"
    )
    assert rows[:-1] == [("attendance.csv", 2, "upn", cascade), ("attendance.csv", 3, "upn", cascade)]


def test_empty_file_fails_alone(tmp_path: Path) -> None:
    result, _con = _ingest(tmp_path, {"attendance.csv": b""})
    failed = _file(result, "attendance.csv")
    assert failed.status == "failed"
    assert failed.notes == [f"{SCHOOL}/attendance.csv is empty: re-export it with a header row and the data"]
    assert _file(result, "pupils.csv").rows_loaded == 3


def _marks_on(*days: str) -> str:
    return "upn,date,session,mark\n" + "".join(f"{u},{day},AM,/\n" for u in (A, B, C) for day in days)


def test_a_file_of_month_first_dates_is_refused_not_half_read_with_day_and_month_swapped(tmp_path: Path) -> None:
    """Excel set to US English writes 3 November as 11/03/2025. Read day first, a date after the 12th failed on its
    line and the others loaded as another day: 11/03/2025 as 11 March. The file is refused, saying why."""
    result, con = _ingest(tmp_path, {"attendance.csv": _marks_on("11/03/2025", "10/14/2025", "10/15/2025")})
    failed = _file(result, "attendance.csv")
    assert failed.status == "failed"
    assert failed.notes == [
        f"{SCHOOL}/attendance.csv was not loaded: its dates are written month first, as Excel set to US English saves "
        "them (10/14/2025 on line 3), so the day and month of a date such as 07/03/2025 cannot be told apart: save it "
        "again with dates as DD/MM/YYYY (Excel set to English (United Kingdom)) or YYYY-MM-DD"
    ]
    assert con.execute("select count(*) from attendance").fetchone() == (0,)


def test_one_month_first_date_in_a_file_with_none_day_first_refuses_the_file_its_other_dates_being_swapped(
    tmp_path: Path,
) -> None:
    """A US-format week early in November: 11/03/2025 to 11/07/2025 read as 11 March to 11 July, and only the one date
    after the 12th (10/14/2025) was quarantined, as "not a valid DD/MM/YYYY" date."""
    result, con = _ingest(tmp_path, {"attendance.csv": _marks_on("11/03/2025", "11/04/2025", "10/14/2025")})
    failed = _file(result, "attendance.csv")
    assert failed.status == "failed"
    assert failed.notes == [
        f"{SCHOOL}/attendance.csv was not loaded: its dates look written month first, as Excel set to US English saves "
        "them: 10/14/2025 on line 4 can only be month first, none can only be day first, and 2 other dates (such as "
        "11/03/2025) would be another day if read day first: save it again with dates as DD/MM/YYYY (Excel set to "
        "English (United Kingdom)) or YYYY-MM-DD; if the file is day first and 10/14/2025 is a typo, correct line 4 "
        "instead"
    ]
    assert con.execute("select count(*) from attendance").fetchone() == (0,)


@pytest.mark.parametrize(
    ("days", "loaded"),
    [
        (("03/11/2025", "13/11/2025", "05/13/2025"), 6),  # one typo: its lines are quarantined, the file loads
        (("10/14/2025", "10/15/2025", "14/10/2025"), 3),  # both orders: no order can be told, each line judged
    ],
)
def test_a_month_first_date_or_two_among_day_first_ones_is_a_line_problem_not_the_files(
    tmp_path: Path, days: tuple[str, ...], loaded: int
) -> None:
    result, _ = _ingest(tmp_path, {"attendance.csv": _marks_on(*days)})
    read = _file(result, "attendance.csv")
    assert (read.status, read.rows_loaded, read.rows_quarantined) == ("loaded", loaded, 3 * len(days) - loaded)


def test_columns_with_no_name_are_counted_in_the_notes_and_the_rows_load(tmp_path: Path) -> None:
    marks = "".join(line + ",,\n" for line in MARKS.splitlines())  # Excel's used range: two cleared columns
    result, _ = _ingest(tmp_path, {"attendance.csv": marks})
    read = _file(result, "attendance.csv")
    assert (read.rows_loaded, read.rows_quarantined) == (6, 0)
    assert "ignored 2 column(s) with no name in the header (empty header cells)" in read.notes
    assert not any(note.startswith("ignored columns the contract does not use") for note in read.notes)


def test_a_second_header_row_is_named_as_one(tmp_path: Path) -> None:
    """Two exports joined into one file: the second's header row was quarantined as "pupil not in pupils.csv"."""
    header, *lines = MARKS.splitlines()
    joined = "\n".join([header, *lines[:3], "\ufeff" + header, *lines[3:]]) + "\n"
    result, con = _ingest(tmp_path, {"attendance.csv": joined})
    read = _file(result, "attendance.csv")
    assert (read.rows_read, read.rows_loaded, read.rows_quarantined) == (7, 6, 1)
    assert _quarantine(con) == [
        ("attendance.csv", 5, "(whole line)", "the header row again (two exports joined into one file?)")
    ]


@pytest.mark.parametrize(
    "written", ["2025-11-03", "03/11/2025", "2025-11-03 08:45:00", "03/11/2025 08:45", "2025-11-03T00:00:00",
                "2025-11-03T08:45:00Z", "2025-11-03T08:45:00+00:00"],
)  # fmt: skip
def test_a_date_is_read_with_any_time_after_it(tmp_path: Path, written: str) -> None:
    """ISO 8601's T before the time (as an API export writes it) was read as no date, and the mark quarantined."""
    result, con = _ingest(tmp_path, {"attendance.csv": f"upn,date,session,mark\n{A},{written},AM,/\n"})
    assert _file(result, "attendance.csv").rows_loaded == 1
    assert con.execute("select date from attendance").fetchall() == [(dt.date(2025, 11, 3),)]


def test_header_only_loads_nothing_and_loses_nothing(tmp_path: Path) -> None:
    result, _ = _ingest(tmp_path, {"attendance.csv": "upn,date,session,mark\n"})
    outcome = _file(result, "attendance.csv")
    assert (outcome.status, outcome.rows_read, outcome.rows_loaded) == ("loaded", 0, 0)
    assert "no data lines: the file has a header only, so nothing was loaded from it" in outcome.notes


def test_a_title_above_the_header_is_named_as_such(tmp_path: Path) -> None:
    """A report's title on line 1 was refused as a file lacking every required column."""
    result, _ = _ingest(tmp_path, {"attendance.csv": "Attendance report, autumn term\n\n" + MARKS})
    assert _file(result, "attendance.csv").notes == [
        f"{SCHOOL}/attendance.csv has its header row on line 3, not line 1: the line(s) above it (a report's title?) "
        "must go; take them out of the report's layout and send it again"
    ]


def test_missing_required_column(tmp_path: Path) -> None:
    result, _ = _ingest(tmp_path, {"attendance.csv": "upn,date,session\n" + f"{A},2025-11-03,AM\n"})
    failed = _file(result, "attendance.csv")
    assert failed.status == "failed"
    assert failed.notes == [
        f"{SCHOOL}/attendance.csv lacks required column(s): mark (or Mark, Attendance Mark, Code). "
        "Add them to the export and send it again"
    ]


def test_a_file_cut_off_mid_line_fails(tmp_path: Path) -> None:
    result, con = _ingest(tmp_path, {"attendance.csv": MARKS + f"{A},2025-11-04"})
    outcome = _file(result, "attendance.csv")
    assert outcome.status == "failed"
    assert outcome.notes == [
        f"{SCHOOL}/attendance.csv may be truncated: its last line (line 8) has no line end (an interrupted copy?): "
        "re-export it"
    ]
    assert con.execute("select count(*) from attendance").fetchone() == (0,)
    assert _quarantine(con) == []


def test_a_last_line_with_too_few_fields_fails_the_file(tmp_path: Path) -> None:
    result, con = _ingest(tmp_path, {"attendance.csv": MARKS + f"{A},2025-11-04\n"})
    outcome = _file(result, "attendance.csv")
    assert outcome.status == "failed"
    assert outcome.notes == [
        f"{SCHOOL}/attendance.csv may be truncated: its last line (line 8) has 2 of the header's 4 fields: re-export it"
    ]
    assert con.execute("select count(*) from attendance").fetchone() == (0,)


def test_a_last_line_of_one_field_may_be_a_reports_footer_and_the_refusal_says_so(tmp_path: Path) -> None:
    """A report's "Total records: 6" line was refused as a cut-short file alone: re-exporting brought it back."""
    result, _ = _ingest(tmp_path, {"attendance.csv": MARKS + "Total records: 6\n"})
    assert _file(result, "attendance.csv").notes == [
        f"{SCHOOL}/attendance.csv may be truncated: its last line (line 8) has 1 of the header's 4 fields (one field, "
        "no delimiter: if the report adds a total or footer line, take it out of the report's layout): re-export it"
    ]


def test_a_line_with_too_few_fields_before_the_last_is_quarantined_alone(tmp_path: Path) -> None:
    marks = MARKS.replace(f"{B},2025-11-03,AM,/\n", f"{B},2025-11-03\n")
    result, con = _ingest(tmp_path, {"attendance.csv": marks})
    assert _quarantine(con) == [
        ("attendance.csv", 4, "(whole line)", "line has 2 fields, the header 4 (a line cut short?)")
    ]
    outcome = _file(result, "attendance.csv")
    assert (outcome.status, outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined) == ("loaded", 6, 5, 1)


def test_windows_1252_names_keep_their_accents(tmp_path: Path) -> None:
    pupils = PUPILS.replace("Example,Pupil1", "O\u2019Brien,Zo\u00eb").encode("cp1252")
    result, con = _ingest(tmp_path, {"pupils.csv": pupils})
    assert "read as Windows-1252" in _file(result, "pupils.csv").notes
    assert con.execute("select surname, forename from pupils where upn = $u", {"u": A}).fetchone() == ("O’Brien", "Zoë")


@pytest.mark.parametrize("chunk", [7, 8, 9, 1 << 20])
def test_utf8_is_recognised_whatever_falls_on_a_chunk_boundary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    # Files are hashed and checked in chunks; plain-ASCII chunks skip the decoder, and a character may be split
    # between two chunks. Neither may change how the file is read.
    monkeypatch.setattr("pipeline.ingest.read.CHUNK", chunk)
    pupils = PUPILS.replace("Example,Pupil1", "O\u2019Brien,Zo\u00eb").replace("Pupil2", "\u00c5sa\u00e9")
    result, con = _ingest(tmp_path, {"pupils.csv": pupils})
    assert not any("Windows-1252" in note for note in _file(result, "pupils.csv").notes)
    assert con.execute("select surname, forename from pupils where upn = $u", {"u": A}).fetchone() == ("O’Brien", "Zoë")
    assert con.execute("select forename from pupils where upn = $u", {"u": B}).fetchone() == ("Åsaé",)


@pytest.mark.parametrize("chunk", [5, 1 << 20])
def test_a_byte_that_is_neither_utf8_nor_windows_1252_quarantines_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr("pipeline.ingest.read.CHUNK", chunk)
    pupils = PUPILS.encode("utf-8").replace(b"Pupil2", b"Pupil\x81")  # 0x81: not a character in either
    result, con = _ingest(tmp_path, {"pupils.csv": pupils})
    outcome = _file(result, "pupils.csv")
    assert (outcome.status, outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined) == ("loaded", 3, 2, 1)
    assert outcome.notes[0] == (
        "read as UTF-8 with 1 byte(s) that are not UTF-8 (the lines holding them are quarantined): export the file "
        "again as CSV (UTF-8)"
    )
    assert _quarantine(con)[-1] == (
        "pupils.csv",
        3,
        "(whole line)",
        "line has bytes that are not UTF-8 (shown as \ufffd): export the file again as CSV (UTF-8)",
    )


def test_a_character_split_by_plain_ascii_is_not_utf8(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A lead byte ends one chunk, a chunk of plain ASCII follows, and the next chunk starts with a continuation
    # byte: the pair is not a UTF-8 character, however the bytes fall into chunks.
    start = PUPILS.index("Example")
    chunk = start + 1
    monkeypatch.setattr("pipeline.ingest.read.CHUNK", chunk)
    pupils = PUPILS.encode("utf-8")
    pupils = pupils[:start] + b"\xc3" + b"x" * chunk + b"\xa9" + pupils[start:]
    result, con = _ingest(tmp_path, {"pupils.csv": pupils})
    assert "read as Windows-1252" in _file(result, "pupils.csv").notes
    surname = con.execute("select surname from pupils where upn = $u", {"u": A}).fetchone()
    assert surname == ("Ã" + "x" * chunk + "©Example",)


def test_a_character_cut_off_at_the_end_is_not_utf8(tmp_path: Path) -> None:
    pupils = PUPILS.encode("utf-8")[:-1] + "\u00e9".encode("utf-8")[:1] + b"\n"  # a lead byte with nothing after it
    result, _ = _ingest(tmp_path, {"pupils.csv": pupils})
    assert "read as Windows-1252" in _file(result, "pupils.csv").notes


def test_byte_order_mark_crlf_and_semicolons(tmp_path: Path) -> None:
    pupils = "\ufeff" + PUPILS.replace(",", ";").replace("\n", "\r\n")
    marks = "\ufeff" + MARKS.replace("\n", "\r\n")
    result, con = _ingest(tmp_path, {"pupils.csv": pupils, "attendance.csv": marks})
    assert (_file(result, "pupils.csv").rows_loaded, _file(result, "attendance.csv").rows_loaded) == (3, 6)
    assert con.execute("select count(*) from attendance where mark = '\\'").fetchone() == (3,)


def test_a_file_whose_line_ends_are_mixed_loads_every_line(tmp_path: Path) -> None:
    """A Windows export with a line added, and blank lines left at its end, by an editor that writes bare line feeds:
    DuckDB's line reader stopped on the mix and the whole file failed, with its parser's message."""
    lines = MARKS.splitlines()
    marks = "\r\n".join(lines[:4]) + "\r\n" + "\n".join(lines[4:]) + "\n\n\n"
    result, con = _ingest(tmp_path, {"attendance.csv": marks})
    attendance = _file(result, "attendance.csv")
    assert (attendance.status, attendance.rows_read, attendance.rows_loaded) == ("loaded", 6, 6)
    assert "2 blank line(s) skipped" in attendance.notes
    assert con.execute("select count(*) from attendance where mark = '\\'").fetchone() == (3,)


def test_an_unexpected_duckdb_error_fails_the_file_in_one_line_that_quotes_no_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole of DuckDB's message went into the note, the console and the log: the reader's settings, its
    "Possible fixes" and the line it was reading, a pupil's UPN and name among them."""

    def fails(*_: object, **__: object) -> None:
        raise duckdb.ConversionException(
            f"Conversion Error: Could not convert string '{A}' to INT32\n\nPossible fixes:\n* strict_mode=false\n"
            f"Original Line: {A},Example,Pupil1"
        )

    monkeypatch.setattr(ingest_module, "load_file", fails)
    result, _ = _ingest(tmp_path, {})
    pupils = _file(result, "pupils.csv")
    assert pupils.status == "failed"
    assert pupils.notes == [
        f"{SCHOOL}/pupils.csv could not be loaded: Conversion Error: Could not convert string (a fault of the "
        "pipeline or of the file: please report it)"
    ]
    assert A not in " ".join(note for f in result.files for note in f.notes)


def test_an_intervention_that_ends_before_it_starts_is_quarantined(tmp_path: Path) -> None:
    """It loaded as an intervention that had ended, so the pupil was neither a mentee nor said to be in doubt."""
    interventions = (
        "upn,intervention,start_date,end_date,outcome\n"
        f"{A},Learning mentor,2025-11-03,2025-10-01,\n"  # ends before it starts
        f"{B},Learning mentor,2025-11-03,2025-11-03,\n"  # a single day
        f"{C},Learning mentor,2025-11-03,,\n"  # ongoing
    )
    result, con = _ingest(tmp_path, {"interventions.csv": interventions})
    assert (_file(result, "interventions.csv").rows_loaded, _file(result, "interventions.csv").rows_quarantined) == (
        2,
        1,
    )
    assert _quarantine(con) == [
        (
            "interventions.csv",
            2,
            "end_date",
            "end date 2025-10-01 is before the start date 2025-11-03: which one is wrong cannot be told",
        )
    ]


def test_a_decision_whose_review_comes_before_it_is_quarantined(tmp_path: Path) -> None:
    """A "not now" of 4 November to be reviewed on 1 October (a typed month) was read as a decision whose review
    had passed: the pupil came straight back to the list, with no word of the date."""
    decisions = (
        "upn,date,decision,review_date\n"
        f"{A},2025-11-04,not now,2025-10-01\n"  # reviewed before it was made
        f"{B},2025-11-04,not now,2025-11-04\n"  # reviewed the same day
        f"{C},2025-11-04,declined,\n"  # no review date
    )
    result, con = _ingest(tmp_path, {"decisions.csv": decisions})
    read = _file(result, "decisions.csv")
    assert (read.rows_loaded, read.rows_quarantined) == (2, 1)
    assert _quarantine(con) == [
        (
            "decisions.csv",
            2,
            "review_date",
            "review date 2025-10-01 is before the decision's date 2025-11-04: which one is wrong cannot be told",
        )
    ]


def test_aliased_headers_in_sims_style(tmp_path: Path) -> None:
    pupils = PUPILS.replace(
        "upn,surname,forename,date_of_birth,sex,year_group,leaving_date,sen_provision,fsm_eligible",
        "UPN,Legal Surname,Legal Forename,DOB,Gender,Year,Leaving Date,SEN Provision,FSM Eligible,Favourite Colour",
    ).replace(",N,N\n", ",K - SEN Support,Yes,blue\n")
    result, con = _ingest(tmp_path, {"pupils.csv": pupils})
    assert _file(result, "pupils.csv").rows_loaded == 3
    assert "ignored columns the contract does not use: Favourite Colour" in _file(result, "pupils.csv").notes
    assert con.execute("select distinct sen_provision, fsm_eligible from pupils").fetchall() == [("K", True)]


def test_excel_scientific_notation_upn(tmp_path: Path) -> None:
    _, con = _ingest(tmp_path, {"pupils.csv": PUPILS.replace(A, "8.01200E+12", 1)})
    assert _quarantine(con)[-1] == (
        "pupils.csv",
        2,
        "upn",
        "UPN looks like Excel scientific notation (8.01200E+12): re-export with the column as text",
    )


def test_formula_looking_name_is_kept_as_text(tmp_path: Path) -> None:
    formula = '"=HYPERLINK(""http://example.invalid"",""click"")"'
    _result, con = _ingest(tmp_path, {"pupils.csv": PUPILS.replace("Pupil2", formula)})
    assert _quarantine(con) == []
    assert con.execute("select forename from pupils where upn = $u", {"u": B}).fetchone() == (
        '=HYPERLINK("http://example.invalid","click")',
    )


def test_withdrawn_codes_are_mapped_and_counted(tmp_path: Path) -> None:
    result, con = _ingest(tmp_path, {"attendance.csv": MARKS.replace(f"{A},2025-11-03,AM,/", f"{A},2025-11-03,AM,H")})
    assert _file(result, "attendance.csv").withdrawn_codes_mapped == 1
    assert con.execute("select mark from attendance where upn = $u and session = 'AM'", {"u": A}).fetchone() == ("C",)


def test_odd_descriptive_values_are_blanked_not_dropped(tmp_path: Path) -> None:
    result, con = _ingest(
        tmp_path, {"pupils.csv": PUPILS.replace(f"{A},Example,Pupil1,2014-03-01,F", f"{A},Example,Pupil1,2014-03-01,X")}
    )
    assert _file(result, "pupils.csv").rows_loaded == 3
    blanked = con.execute("select column_name, reason from quarantine where outcome = 'value blanked'").fetchall()
    assert blanked == [("sex", "sex 'X' is not M or F")]


def test_a_leaving_date_before_the_admission_date_is_blanked_and_the_pupil_kept_on_roll(tmp_path: Path) -> None:
    """Left on 1 January 2019, admitted on 1 September 2025: one of the two is wrong, or the leaving date is an
    earlier spell's. The pupil was loaded as gone since 2019, and fell off every list without a word."""
    pupils = PUPILS.replace("leaving_date,", "admission_date,leaving_date,").replace(",7,,", ",7,2025-09-01,,")
    pupils = pupils.replace(
        f"{A},Example,Pupil1,2014-03-01,F,7,2025-09-01,,", f"{A},Example,Pupil1,2014-03-01,F,7,2025-09-01,2019-01-01,"
    )
    result, con = _ingest(tmp_path, {"pupils.csv": pupils})
    assert _file(result, "pupils.csv").rows_loaded == 3
    assert con.execute("select leaving_date from pupils where upn = $u", {"u": A}).fetchone() == (None,)
    blanked = con.execute("select column_name, reason from quarantine where outcome = 'value blanked'").fetchall()
    assert blanked == [
        (
            "leaving_date",
            "leaving date 2019-01-01 is before the admission date 2025-09-01: the leaving date is not used, so the "
            "pupil counts as on roll",
        )
    ]


def test_a_start_planned_within_a_term_loads_and_counts_from_its_day(tmp_path: Path) -> None:
    """A suspension from Monday was quarantined as "in the future", on a primary's short file enough to hold the
    school back (one line in 19 is over 5%); a pupil admitted after half-term counted as on roll from the start of
    the data (the date blanked). Both load as dated, and count from that day; a date beyond a term is a problem."""
    from pipeline.features import build_features

    soon, far = TODAY + dt.timedelta(days=3), TODAY + dt.timedelta(days=100)
    exclusions = f"upn,start_date,category,sessions\n{A},{soon},SUSP,2\n{B},{far},SUSP,2\n"
    pupils = PUPILS.replace("leaving_date,", "admission_date,leaving_date,").replace(",7,,", ",7,2025-09-01,,")
    pupils = pupils.replace(
        f"{C},Example,Pupil3,2014-03-03,F,7,2025-09-01,", f"{C},Example,Pupil3,2014-03-03,F,7,{soon},"
    )
    _, con = _ingest(tmp_path, {"exclusions.csv": exclusions, "pupils.csv": pupils})
    assert con.execute("select upn, start_date from exclusions").fetchall() == [(A, soon)]
    assert _quarantine(con) == [
        ("exclusions.csv", 3, "start_date",
         f"date {far} is more than 92 days ahead (after {TODAY + dt.timedelta(days=92)}): too far ahead for a start "
         "already planned"),
    ]  # fmt: skip
    assert con.execute("select admission_date from pupils where upn = $u", {"u": C}).fetchone() == (soon,)
    tonight = build_features(con, TODAY, persist=False).table.set_index("upn")
    assert C not in tonight.index  # not on roll until admitted
    assert tonight["suspensions_year"].fillna(0).loc[A] == 0  # the suspension counts from Monday
    monday = build_features(con, soon, persist=False).table.set_index("upn")
    assert (monday.loc[A, "suspensions_year"], C in monday.index) == (1, True)


@pytest.mark.parametrize(
    ("written", "read"),
    [("K - SEN Support", "K"), ("SEN Support", "K"), ("sen support", "K"), ("EHC plan", "E"), ("E", "E"),
     ("None", "N"), ("No SEN", "N"), ("N", "N"), ("Not known", None), ("NK", None)],
)  # fmt: skip
def test_sen_provision_as_mis_write_it(tmp_path: Path, written: str, read: str | None) -> None:
    """ "SEN Support" without its K was blanked; "Not known", which starts with N, was read as no SEN."""
    result, con = _ingest(
        tmp_path,
        {
            "pupils.csv": PUPILS.replace(
                f"{A},Example,Pupil1,2014-03-01,F,7,,N,", f"{A},Example,Pupil1,2014-03-01,F,7,,{written},"
            )
        },
    )
    assert _file(result, "pupils.csv").rows_loaded == 3
    assert con.execute("select sen_provision from pupils where upn = $u", {"u": A}).fetchone() == (read,)
    blanked = con.execute("select reason from quarantine where outcome = 'value blanked'").fetchall()
    assert blanked == ([] if read else [(f"SEN provision '{written}' is not N, K or E",)])


def test_a_result_type_in_another_case_or_spelling_is_stored_as_the_features_read_it(tmp_path: Path) -> None:
    """ "Working_At" and "TARGET" passed the check (any case) but were stored as written, and every query asks for
    'working_at' and 'target': 23,499 results "loaded" and no pupil had a gap to target, without a word."""
    assessments = (
        "upn,subject,assessment_point,date,result_type,result\n"
        f"{A},Maths,Autumn 1,2025-10-20,Working_At,5\n"
        f"{A},Maths,Autumn 1,2025-10-20,TARGET,6\n"
        f"{A},English,Autumn 1,2025-10-20,Working At Grade,4\n"
        f"{A},English,Autumn 1,2025-10-20,target-grade,5\n"
        f"{A},Reading,KS2,2025-07-08,KS2 Scaled Score,101\n"
        f"{A},Reading,Autumn 1,2025-10-20, Reading Age ,1e2\n"  # read as a reading age, so checked as one
        f"{A},Maths,Autumn 2,2025-10-20,Grade,5\n"  # no result type of the contract
    )
    result, con = _ingest(tmp_path, {"assessments.csv": assessments})
    assert _file(result, "assessments.csv").rows_loaded == 5
    assert sorted(con.execute("select subject, result_type from assessments").fetchall()) == [
        ("English", "target"), ("English", "working_at"), ("Maths", "target"), ("Maths", "working_at"),
        ("Reading", "ks2_scaled"),
    ]  # fmt: skip
    assert [reason for *_, reason in _quarantine(con)] == [
        "reading age '1e2' is not plausible (whole months 24-240, or years:months 2:00-20:00)",
        "result type 'Grade' is not one of ks2_scaled, working_at, target, reading_age, cat4_sas",
    ]


@pytest.mark.parametrize(
    ("written", "stored"),
    [("Math", "Maths"), ("MA", "Maths"), ("Mat", "Maths"), ("Eng", "English"), ("EN", "English"), ("Rdg", "Reading"),
     ("Wri", "Writing"), ("Ma Ths", "Ma Ths")],
)  # fmt: skip
def test_a_core_subject_by_its_short_code_is_read_as_the_subject(tmp_path: Path, written: str, stored: str) -> None:
    """A school whose MIS names maths "Ma" or "Math" had every pupil's gap to target as no data, with no note (the
    note counts a school whose results are all for no subject the features read)."""
    assessments = (
        f"upn,subject,assessment_point,date,result_type,result\n{A},{written},Autumn 1,2025-10-20,working_at,5\n"
    )
    _, con = _ingest(tmp_path, {"assessments.csv": assessments})
    assert con.execute("select subject from assessments").fetchall() == [(stored,)]


def test_a_core_subject_in_another_case_or_name_is_stored_as_the_features_read_it(tmp_path: Path) -> None:
    """ "Mathematics" and "ENGLISH" loaded as written, and the features read 'Maths' and 'English' alone: the
    pupils had no gap to target, without a word. Another subject is kept as the school writes it."""
    assessments = "upn,subject,assessment_point,date,result_type,result\n" + "".join(
        f"{A},{subject},Autumn 1,2025-10-20,working_at,5\n"
        for subject in ("Mathematics", "ENGLISH", " english  language ", "reading", "MEAN", "Art and Design")
    )
    result, con = _ingest(tmp_path, {"assessments.csv": assessments})
    read = _file(result, "assessments.csv")
    # "ENGLISH" and "english language" are both English: one key on two lines, with the same values
    assert (read.rows_loaded, read.rows_quarantined) == (6, 0)
    assert sorted(con.execute("select distinct subject from assessments").fetchall()) == [
        ("Art and Design",), ("English",), ("Maths",), ("Mean",), ("Reading",),
    ]  # fmt: skip


def test_an_exclusion_type_in_words_is_read_as_its_code(tmp_path: Path) -> None:
    """ "Suspension", "Fixed Term" and "Permanent Exclusion" were quarantined, holding a school back for words any
    MIS report may use; they are the DfE's SUSP and PERM."""
    written = [
        "Suspension",
        "Fixed-Term",
        "fixed period exclusion",
        "SUSP",
        "Permanent Exclusion",
        "Lunchtime",
        "Expelled",
    ]
    exclusions = "upn,start_date,category,sessions\n" + "".join(
        f"{A},2025-10-{n + 1:02d},{word},2\n" for n, word in enumerate(written)
    )
    _, con = _ingest(tmp_path, {"exclusions.csv": exclusions})
    assert [c for (c,) in con.execute("select category from exclusions order by start_date").fetchall()] == [
        "SUSP", "SUSP", "SUSP", "SUSP", "PERM", "LNCH",
    ]  # fmt: skip
    assert [reason for *_, reason in _quarantine(con)] == ["exclusion type 'Expelled' is not SUSP, PERM or LNCH"]


def test_a_session_in_words_is_read_as_am_or_pm(tmp_path: Path) -> None:
    marks = "upn,date,session,mark\n" + "".join(
        f"{A},2025-11-0{day},{session},/\n"
        for day, session in ((3, "Morning"), (3, "afternoon"), (4, " pm "), (5, "Eve"))
    )
    _, con = _ingest(tmp_path, {"attendance.csv": marks})
    read = "select date::varchar, session from attendance where upn = $u order by all"
    assert con.execute(read, {"u": A}).fetchall() == [
        ("2025-11-03", "AM"), ("2025-11-03", "PM"), ("2025-11-04", "PM"),
    ]  # fmt: skip
    assert [reason for *_, reason in _quarantine(con)] == ["session 'Eve' is not AM or PM"]


def test_missing_required_file_and_missing_optional_file(tmp_path: Path) -> None:
    folder = tmp_path / SCHOOL
    folder.mkdir()
    (folder / "pupils.csv").write_text(PUPILS)
    result = ingest(connect(), tmp_path, today=TODAY)
    assert _file(result, "attendance.csv").notes == [
        f"{SCHOOL}/attendance.csv is missing: it is required in every delivery"
    ]
    assert f"{SCHOOL}: behaviour.csv not delivered (optional)" in result.notes


def test_an_optional_file_not_delivered_after_earlier_deliveries_says_their_rows_stay_in_use(tmp_path: Path) -> None:
    """A file a school delivered before and not tonight: its rows stay (a school may send only what changed), and
    the note says so and since when, where it said only "not delivered", as of a school that never sent one."""
    behaviour = f"upn,incident_id,date,category,points,action\n{A},1,2025-11-03,Disruption,-1,Detention\n"
    con = connect()
    ingest(con, _deliver(tmp_path / "1", {"behaviour.csv": behaviour}), today=TODAY)
    read_on = con.execute("select max(loaded_at)::date from loads where file = 'behaviour.csv'").fetchone()
    assert read_on is not None
    result = ingest(con, _deliver(tmp_path / "2", {}), today=TODAY)
    assert result.notes == [
        f"{SCHOOL}: assessments.csv not delivered (optional)",
        f"{SCHOOL}: behaviour.csv not delivered (optional); what its earlier deliveries brought stays in use (last "
        f"read on {read_on[0].day} {read_on[0]:%B %Y})",
        *(
            f"{SCHOOL}: {name} not delivered (optional)"
            for name in ("exclusions.csv", "interventions.csv", "decisions.csv")
        ),
    ]
    assert con.execute("select upn, points from behaviour").fetchall() == [(A, -1)]


def test_the_export_folder_is_never_written_to(tmp_path: Path) -> None:
    pupils = PUPILS.encode("utf-8").replace(b"Pupil1", "Zo\u00eb".encode("cp1252"))
    _deliver(tmp_path, {"pupils.csv": pupils})
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    ingest(connect(), tmp_path, today=TODAY)
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")} == before


@pytest.mark.parametrize("force", [False, True])
def test_loading_the_same_files_twice_changes_nothing(tmp_path: Path, force: bool) -> None:
    con = connect()
    exports = _deliver(tmp_path, {})
    ingest(con, exports, today=TODAY)
    snapshot = con.execute("select * exclude (load_id) from attendance order by all").fetchall()
    second = ingest(con, exports, today=TODAY, force=force)
    assert con.execute("select * exclude (load_id) from attendance order by all").fetchall() == snapshot
    assert {f.status for f in second.files} == ({"loaded"} if force else {"unchanged"})


def test_amended_marks_replace_and_missing_rows_are_kept(tmp_path: Path) -> None:
    con = connect()
    ingest(con, _deliver(tmp_path, {}), today=TODAY)
    amended = "upn,date,session,mark\n" + f"{A},2025-11-03,AM,M\n" + f"{A},2025-11-04,AM,/\n"
    ingest(con, _deliver(tmp_path, {"attendance.csv": amended}), today=TODAY)
    marks = {
        (d.isoformat(), s, u): m
        for u, d, s, m in con.execute("select upn, date, session, mark from attendance").fetchall()
    }
    assert marks[("2025-11-03", "AM", A)] == "M"  # the amended mark replaced the first one
    assert marks[("2025-11-03", "PM", A)] == "\\"  # a snapshot without the row does not delete it
    assert len(marks) == 7


TRICKY_PUPILS = [
    ["upn", "surname", "forename", "date_of_birth", "sex", "year_group", "leaving_date", "sen_provision",
     "fsm_eligible", "house"],
    [A, " O'Neill ", "Zoë", "2014-03-01", " f ", "Y7", "", "K - SEN Support", "Yes", "Red"],
    [B, "=1+2", "Amy", "01/03/2014", "X", "07", "", "", "", ""],
    ["Z" + C[1:], "Example", "Pupil", "2014-03-03", "M", "7", "", "N", "N", "Blue"],
    [C, "Smith-Jones", "Ann Marie", "2014-02-30", "F", "R", "2025-12-01", "n", "0", "Green"],
]  # fmt: skip
TRICKY_MARKS = [
    ["UPN", "Date", "Session", "Mark", "Minutes Late"],
    [A, "03/11/2025", "AM", "L", " 5 "],
    [A, "03/11/2025", "PM", "", ""],
    [B, "2025-11-03", "am", "-", ""],
    [B, "2025-11-03", "AM", "/", ""],
    [C, "2025-11-03", "AM", "Q9", ""],
    [C.lower(), "2025-11-04", "PM", "\\", ""],
    [A, "03/11/2025", "PM", "", ""],
]


@pytest.mark.parametrize(
    ("delimiter", "newline", "bom", "blank_lines_at_end"),
    [(",", "\n", False, 0), (";", "\r\n", True, 2), ("\t", "\n", False, 1)],
)
def test_a_file_loads_the_same_whether_or_not_its_fields_are_quoted(
    tmp_path: Path, delimiter: str, newline: str, bom: bool, blank_lines_at_end: int
) -> None:
    """A file without quotes is read as whole lines split at the delimiter; one with quotes by the CSV reader. Both
    give the same rows, values, quarantine (with line numbers), counts and raw text (an empty field is NULL)."""

    def text(rows: list[list[str]], quoted: bool) -> str:
        lines = [delimiter.join(f'"{v}"' if quoted else v for v in row) for row in rows]
        return ("\ufeff" if bom else "") + newline.join(lines) + newline * (1 + blank_lines_at_end)

    seen = []
    for quoted in (False, True):
        result, con = _ingest(
            tmp_path / str(quoted),
            {"pupils.csv": text(TRICKY_PUPILS, quoted), "attendance.csv": text(TRICKY_MARKS, quoted)},
        )
        counts = [(f.file, f.status, f.rows_read, f.rows_loaded, f.rows_quarantined, f.values_blanked,
                   f.duplicates_dropped, f.notes) for f in result.files]  # fmt: skip
        tables = [
            con.execute(f"select * exclude (load_id) from {table} order by all").fetchall()
            for table in ("pupils", "attendance", "quarantine")
        ] + [
            # the file's bytes and so its digest differ, and so do the line hashes (of the text, or of the fields)
            con.execute(
                f"select r.* exclude (delivery, line_hash, line_hash2), d.source_file, d.rules, d.checked_on "
                f"from {raw} as r join deliveries as d using (delivery) order by all"
            ).fetchall()
            for raw in ("raw_pupils", "raw_attendance")
        ]
        seen.append((counts, tables))
    (counts, (pupils, marks, quarantine, *raw)), quoted_load = seen
    assert (counts, [pupils, marks, quarantine, *raw]) == quoted_load
    assert sorted((p[1], p[3]) for p in pupils) == sorted([(A, "O'Neill"), (B, "=1+2"), (C, "Smith-Jones")])
    assert sorted((m[1], m[3], m[4], m[5]) for m in marks) == sorted(
        [(A, "AM", "L", 5), (A, "PM", "", None), (C, "PM", "\\", None)]
    )
    assert sorted((q[1], q[2], q[5]) for q in quarantine if q[6] == "row quarantined") == [
        ("attendance.csv", 4, "the same upn + date + session is on lines 4, 5 with different values"),
        ("attendance.csv", 5, "the same upn + date + session is on lines 4, 5 with different values"),
        ("attendance.csv", 6, "unknown attendance code 'Q9'"),
        ("pupils.csv", 4, "UPN check letter should be P, not Z"),
    ]


def test_loading_schools_side_by_side_leaves_duckdbs_threads_as_they_were(tmp_path: Path) -> None:
    for school in ("100001", "100002"):
        folder = tmp_path / school
        folder.mkdir()
        (folder / "pupils.csv").write_text(PUPILS)
        (folder / "attendance.csv").write_text(MARKS)
    con = connect()
    con.execute("set threads = 3")
    result = ingest(con, tmp_path, today=TODAY, workers=2)
    assert sorted(result.schools) == ["100001", "100002"]
    assert {f.status for f in result.files} == {"loaded"}
    assert con.execute("select current_setting('threads')").fetchone() == (3,)


def test_a_suspension_longer_than_a_school_year_allows_is_quarantined(tmp_path: Path) -> None:
    exclusions = (
        "upn,start_date,category,sessions\n"
        f"{A},2025-11-03,SUSP,999\n{B},2025-11-03,Suspension,90\n{C},2025-11-03,PERM,999\n"
    )
    _, con = _ingest(tmp_path, {"exclusions.csv": exclusions})
    assert con.execute("select upn, sessions from exclusions order by upn").fetchall() == sorted([(B, 90), (C, 999)])
    assert _quarantine(con) == [
        ("exclusions.csv", 2, "sessions",
         "a suspension of 999 sessions is more than the 90 (45 school days) a pupil can be suspended for in a school "
         "year"),
    ]  # fmt: skip
