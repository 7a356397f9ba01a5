"""Optional columns and tolerant header matching, through the real loader."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from pipeline.contract import EXPORT_FILES, FILES_BY_NAME, normalise_header, read_header
from pipeline.ingest import ingest
from pipeline.upn import make_upn
from pipeline.warehouse import connect

TODAY = dt.date(2025, 11, 22)
SCHOOL = "100001"
A, B = (make_upn(801, 4000, 14, n) for n in (1, 2))
ON_ROLL = "UPN,Legal Surname,Legal Forename,DOB,Gender,Year,SEN,FSM\n" + "".join(
    f"{u},Example,Pupil{n},0{n}/03/2014,F,7,N,N\n" for n, u in enumerate((A, B), start=1)
)
MARKS = "upn,date,session,mark\n" + "".join(f"{u},2025-11-03,AM,/\n" for u in (A, B))


def _deliver(tmp_path: Path, pupils: str, marks: str = MARKS) -> Path:
    folder = tmp_path / SCHOOL
    folder.mkdir(parents=True)
    (folder / "pupils.csv").write_text(pupils, encoding="utf-8")
    (folder / "attendance.csv").write_text(marks, encoding="utf-8")
    return tmp_path


def test_an_on_roll_report_without_leaving_dates_loads_everyone_and_says_so(tmp_path: Path) -> None:
    con = connect()
    result = ingest(con, _deliver(tmp_path, ON_ROLL), today=TODAY)
    pupils, marks = (next(f for f in result.files if f.file == name) for name in ("pupils.csv", "attendance.csv"))
    assert (pupils.status, pupils.rows_loaded, marks.rows_loaded, marks.rows_quarantined) == ("loaded", 2, 2, 0)
    assert "no leaving_date column: no leaving dates: everyone listed is on roll (an on-roll report)" in pupils.notes
    assert any(note.startswith("no pupil_premium column:") for note in pupils.notes)
    assert any(note.startswith("no minutes_late column:") for note in marks.notes)
    assert con.execute("select count(*), count(leaving_date), count(pupil_premium) from pupils").fetchone() == (2, 0, 0)


def test_a_missing_required_column_still_fails_the_file_with_its_message(tmp_path: Path) -> None:
    result = ingest(connect(), _deliver(tmp_path, ON_ROLL.replace(",FSM\n", "\n").replace(",N,N\n", ",N\n")),
                    today=TODAY)  # fmt: skip
    pupils = next(f for f in result.files if f.file == "pupils.csv")
    assert pupils.status == "failed"
    assert pupils.notes == [
        f"{SCHOOL}/pupils.csv lacks required column(s): fsm_eligible (or FSM, FSM Eligible). "
        "Add them to the export and send it again"
    ]


def test_headers_as_real_exports_write_them(tmp_path: Path) -> None:
    header = " upn ,LEGAL_SURNAME,legal-forename,Dob (dd/mm/yyyy),gender,Year Group (NC),sen status,Fsm_Eligible\n"
    marks = "Upn,Session_Date,am/pm,MARK,Minutes Late (mins)\n" + "".join(f"{u},2025-11-03,AM,L,5\n" for u in (A, B))
    con = connect()
    result = ingest(con, _deliver(tmp_path, header + ON_ROLL.split("\n", 1)[1], marks), today=TODAY)
    assert [(f.file, f.status, f.rows_loaded) for f in result.files] == [
        ("pupils.csv", "loaded", 2),
        ("attendance.csv", "loaded", 2),
    ]
    assert con.execute("select sum(minutes_late) from attendance").fetchone() == (10,)


def test_every_match_is_reported_with_the_alias_it_went_through() -> None:
    reading = read_header(FILES_BY_NAME["exclusions.csv"], ["UPN", "Start_Date", "Exclusion Type", "Length (sessions)",
                                                            "Length", "Notes"])  # fmt: skip
    assert [m.describe() for m in reading.matches] == [
        "'UPN' -> upn (through alias 'UPN')",
        "'Start_Date' -> start_date (through its own name)",
        "'Exclusion Type' -> category (through alias 'Exclusion Type')",
        "'Length (sessions)' -> sessions (through alias 'Length (sessions)')",
        # an alias of a column already read: it said "is not a contract column", sending the reader to the contract
        "'Length' names sessions again, which is read from 'Length (sessions)' (ignored)",
        "'Notes' is not a contract column (ignored)",
    ]
    assert reading.unknown == ["Notes"]
    assert [c.name for c in reading.missing_optional] == ["reason"]
    assert reading.alias_note() == (
        "headers read through aliases: 'Exclusion Type' as category, 'Length (sessions)' as sessions"
    )


def test_an_empty_header_cell_is_a_column_with_no_name_not_one_called_nothing() -> None:
    """Excel saves the used range: a column once typed in and cleared is an empty header cell, its values blank."""
    reading = read_header(FILES_BY_NAME["attendance.csv"], ["upn", "date", "session", "mark", "", " "])
    assert [m.describe() for m in reading.matches[4:]] == [
        "number 5 has no name in the header (ignored)",
        "number 6 has no name in the header (ignored)",
    ]


NAMES = [(export, text) for export in EXPORT_FILES for c in export.columns for text in (c.name, *c.aliases)]


@given(
    st.sampled_from(NAMES),
    st.sampled_from(["", " ", "  "]),
    st.sampled_from(["", " (units)", "(x)", " (DD/MM/YYYY)"]),
    st.sampled_from([str.lower, str.upper, str.title, lambda s: s]),
    st.sampled_from([" ", "_", "-"]),
)
def test_every_name_and_alias_matches_whatever_the_case_spacing_separator_and_unit(
    named,
    pad,
    unit,
    case,
    separator,  # type: ignore[no-untyped-def]
) -> None:
    export, text = named
    written = pad + case(text.replace(" ", separator)) + unit + pad
    expected = read_header(export, [text]).matches[0].column
    assert expected is not None
    assert read_header(export, [written]).matches[0].column == expected
    assert normalise_header(written) == normalise_header(text)


def test_the_html_report_shows_each_files_notes() -> None:
    from pipeline.pages.render import render
    from pipeline.report.html import _files

    note = "no leaving_date column: no leaving dates: everyone listed is on roll (an on-roll report)"
    notes = [note, "ignored columns the contract does not use: <Colour>"]
    files = [{"school": SCHOOL, "file": "pupils.csv", "status": "loaded", "rows_read": 2, "rows_loaded": 2,
              "rows_quarantined": 0, "notes": notes}]  # fmt: skip
    section = _files({"files": files})
    html = render(section.template, section=section)
    assert f"<td>{note}; ignored columns the contract does not use: &lt;Colour&gt;</td>" in html


def test_an_unchanged_file_still_says_which_optional_columns_it_lacks(tmp_path: Path) -> None:
    con = connect()
    exports = _deliver(tmp_path, ON_ROLL)
    ingest(con, exports, today=TODAY)
    again = ingest(con, exports, today=TODAY)
    pupils = next(f for f in again.files if f.file == "pupils.csv")
    assert pupils.status == "unchanged"
    assert pupils.notes[0] == "same content as the last load"
    assert any(note.startswith("no leaving_date column:") for note in pupils.notes)
