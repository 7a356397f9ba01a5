"""Reading a DfE Common Transfer File: what each element becomes, and attacks refused."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pipeline.ingest import ingest
from pipeline.upn import make_upn
from pipeline.warehouse import connect

TODAY = dt.date(2025, 11, 22)
SCHOOL = "100001"
A, B = (make_upn(801, 4000, 14, n) for n in (1, 2))


def _pupil(upn: str, extra: str, languages: str = "") -> str:
    return f"""<Pupil><UPN>{upn}</UPN><Surname>Example</Surname><Forename>Pupil</Forename><DOB>2014-03-01</DOB>
      <Gender>F</Gender><BasicDetails><NCyearActual>7</NCyearActual><Ethnicity>WIRI</Ethnicity>{languages}
      </BasicDetails>{extra}</Pupil>"""


FIRST = _pupil(
    A,
    """
      <LookedAfter><InCare>true</InCare></LookedAfter>
      <FSMhistory><FSMinstance><FSMstartDate>2024-01-01</FSMstartDate></FSMinstance></FSMhistory>
      <SENhistory><SEN><StartDate>2023-09-01</StartDate><SENprovision>E</SENprovision></SEN></SENhistory>
      <Attendance><YearData><Year>2025</Year><SessionAttendance><SessionDetails>
        <AttendStartDate>2025-11-03</AttendStartDate><AttendSessions>/\\C1N -L\\</AttendSessions>
      </SessionDetails></SessionAttendance></YearData></Attendance>
      <StageAssessments><KeyStage><Stage>KS2</Stage>
        <StageAssessment><Year>2025</Year><Subject>MAT</Subject><Method>TT</Method><ResultQualifier>SS</ResultQualifier>
          <Result>104</Result><ResultDate>2025-07-08</ResultDate></StageAssessment>
        <StageAssessment><Year>2025</Year><Subject>REA</Subject><Method>TA</Method><ResultQualifier>TA</ResultQualifier>
          <Result>EXS</Result></StageAssessment>
        <StageAssessment><Year>2025</Year><Subject>GPS</Subject><ResultQualifier>SS</ResultQualifier>
          <Result>97</Result></StageAssessment>
      </KeyStage></StageAssessments>
      <SchoolHistory>
        <School><LEA>999</LEA><Estab>1234</Estab><EntryDate>2019-09-01</EntryDate><LeavingDate>2025-07-20</LeavingDate></School>
        <School><LEA>801</LEA><Estab>4000</Estab><EntryDate>2025-09-03</EntryDate></School>
      </SchoolHistory>""",
)
SECOND = _pupil(
    B,
    """<FSMhistory><FSMinstance><FSMstartDate>2023-01-01</FSMstartDate><FSMendDate>2024-12-31</FSMendDate>
      </FSMinstance></FSMhistory>""",
    "<Languages><Type><LanguageType>F</LanguageType><Language>POL</Language></Type></Languages>",
)
SECOND = SECOND.replace("<Gender>F</Gender>", "<Sex>F</Sex>")  # (the element's newer name in some files)
CTF = f"""<?xml version="1.0" encoding="UTF-8"?>
<CTfile><Header><DocumentName>Common Transfer File</DocumentName><CTFversion>25.0</CTFversion>
  <DateTime>2025-11-21T17:00:00</DateTime><SourceSchool><LEA>801</LEA><Estab>4000</Estab></SourceSchool></Header>
  <CTFpupilData>{FIRST}{SECOND}</CTFpupilData></CTfile>"""


def _school(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "exports" / SCHOOL
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return tmp_path / "exports"


def test_a_ctf_alone_gives_pupils_marks_and_ks2_results(tmp_path: Path) -> None:
    con = connect()
    result = ingest(con, _school(tmp_path, {"801_CTF_transfer.xml": CTF}), today=TODAY)
    assert [(f.file, f.status, f.rows_read, f.rows_quarantined) for f in result.files] == [
        ("pupils.csv", "loaded", 2, 0),
        ("attendance.csv", "loaded", 7, 0),
        ("assessments.csv", "loaded", 2, 0),
    ]
    pupils = con.execute(
        "select upn, sex, year_group, sen_provision, fsm_eligible, looked_after, eal, ethnicity, admission_date, "
        "leaving_date from pupils order by upn"
    ).fetchall()
    assert sorted(pupils) == sorted([
        (A, "F", "7", "E", True, True, None, "WIRI", dt.date(2025, 9, 3), None),
        (B, "F", "7", "N", False, None, True, "WIRI", None, None),  # FSM ended before the CTF's date; no SEN history
    ])  # fmt: skip
    marks = con.execute("select date, session, mark from attendance order by date, session").fetchall()
    day, next_day = dt.date(2025, 11, 3), dt.date(2025, 11, 4)
    # /, \, C1, N, then a session with no register (a space: no line), no mark entered (-), L, \
    assert marks == [
        (day, "AM", "/"), (day, "PM", "\\"), (next_day, "AM", "C1"), (next_day, "PM", "N"),
        (dt.date(2025, 11, 5), "PM", ""), (dt.date(2025, 11, 6), "AM", "L"), (dt.date(2025, 11, 6), "PM", "\\"),
    ]  # fmt: skip
    results = con.execute("select subject, assessment_point, date, result_type, result from assessments order by 1")
    assert results.fetchall() == [
        ("GPS", "KS2", dt.date(2025, 7, 1), "ks2_scaled", "97"),
        ("Maths", "KS2", dt.date(2025, 7, 8), "ks2_scaled", "104"),
    ]
    notes = next(f for f in result.files if f.file == "pupils.csv").notes
    assert notes[0] == "read from the Common Transfer File 801_CTF_transfer.xml (CTF 25.0, made 2025-11-21, 2 pupils)"
    assert "no pupil_premium column: pupil premium unknown for every pupil (never taken as no)" in notes


def test_a_ctf_saved_as_utf_16_is_read_as_one(tmp_path: Path) -> None:
    """A CTF saved in UTF-16 (well-formed XML) was "not an export file", and its school failed with "pupils.csv is
    missing"."""
    exports = _school(tmp_path, {})
    utf16 = CTF.replace('encoding="UTF-8"', 'encoding="UTF-16"')
    (exports / SCHOOL / "801_CTF_transfer.xml").write_text(utf16, encoding="utf-16")
    result = ingest(connect(), exports, today=TODAY)
    assert [(f.file, f.status, f.rows_read) for f in result.files][:1] == [("pupils.csv", "loaded", 2)]


def test_a_csv_file_beside_the_ctf_wins_and_the_run_says_so(tmp_path: Path) -> None:
    marks = "upn,date,session,mark\n" + "".join(f"{u},2025-11-03,AM,/\n" for u in (A, B))
    con = connect()
    result = ingest(con, _school(tmp_path, {"transfer.xml": CTF, "attendance.csv": marks}), today=TODAY)
    assert next(f for f in result.files if f.file == "attendance.csv").rows_read == 2
    assert (
        f"{SCHOOL}: attendance.csv read from the CSV file in the folder, not from the Common Transfer File transfer.xml"
        in result.notes
    )


ATTACKS = {
    "billion laughs": """<?xml version="1.0"?>
<!DOCTYPE CTfile [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<CTfile><Header/><CTFpupilData><Pupil><UPN>&lol3;</UPN></Pupil></CTFpupilData></CTfile>""",
    "external entity": """<?xml version="1.0"?>
<!DOCTYPE CTfile [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<CTfile><Header/><CTFpupilData><Pupil><UPN>&secret;</UPN></Pupil></CTFpupilData></CTfile>""",
    "a DTD alone": """<?xml version="1.0"?>
<!DOCTYPE CTfile SYSTEM "http://example.invalid/ctf.dtd">
<CTfile><Header/><CTFpupilData/></CTfile>""",
}


def test_entity_attacks_are_refused_and_read_nothing(tmp_path: Path) -> None:
    for n, (attack, text) in enumerate(ATTACKS.items()):
        con = connect()
        result = ingest(con, _school(tmp_path / str(n), {"ctf.xml": text}), today=TODAY)
        pupils = next(f for f in result.files if f.file == "pupils.csv")
        assert pupils.status == "failed", attack
        assert "was refused: it declares a DTD, entities or an external reference" in pupils.notes[0], attack
        assert con.execute("select count(*) from pupils").fetchone() == (0,)


def test_broken_xml_fails_the_files_it_gives_with_a_message(tmp_path: Path) -> None:
    result = ingest(connect(), _school(tmp_path, {"ctf.xml": CTF[: len(CTF) // 2]}), today=TODAY)
    assert {f.file: f.status for f in result.files} == {
        "pupils.csv": "failed", "attendance.csv": "failed", "assessments.csv": "failed"
    }  # fmt: skip
    assert "is not well-formed XML" in result.files[0].notes[0]


def test_a_ctf_made_by_another_school_is_refused_and_loads_nothing(tmp_path: Path) -> None:
    other = CTF.replace("<LEA>801</LEA><Estab>4000</Estab></SourceSchool>",
                        "<LEA>916</LEA><Estab>2578</Estab><URN>105854</URN></SourceSchool>")  # fmt: skip
    con = connect()
    result = ingest(con, _school(tmp_path, {"ctf.xml": other}), today=TODAY)
    assert {f.file: f.status for f in result.files} == {
        "pupils.csv": "failed", "attendance.csv": "failed", "assessments.csv": "failed"
    }  # fmt: skip
    assert f"made by another school (URN 105854, LAESTAB 9162578), not {SCHOOL}" in result.files[0].notes[0]
    assert con.execute("select count(*) from pupils").fetchone() == (0,)
    # the school's own CTF: its header gives no URN to compare with the folder's
    assert {f.status for f in ingest(connect(), _school(tmp_path / "own", {"ctf.xml": CTF}), today=TODAY).files} == {
        "loaded"
    }


def test_of_two_ctfs_the_newest_by_its_header_is_read_whatever_the_names(tmp_path: Path) -> None:
    older = CTF.replace("<DateTime>2025-11-21T17:00:00</DateTime>", "<DateTime>2025-11-07T17:00:00</DateTime>")
    older = older.replace(FIRST, "")  # a week earlier: the first pupil had not joined
    con = connect()
    result = ingest(con, _school(tmp_path, {"CTF Nov 28.xml": CTF, "CTF Nov 7.xml": older}), today=TODAY)
    assert con.execute("select count(*) from pupils").fetchone() == (2,)
    assert any("ignored CTF Nov 7.xml: a second Common Transfer File (only CTF Nov 28.xml" in n for n in result.notes)


def _one_pupil(tmp_path: Path, extra: str) -> tuple[str, dt.date | None, dt.date | None]:
    """(SEN provision, admission date, leaving date) loaded for one pupil of a CTF with ``extra`` in its record."""
    ctf = CTF.replace(f"{FIRST}{SECOND}", _pupil(A, extra))
    con = connect()
    ingest(con, _school(tmp_path, {"ctf.xml": ctf}), today=TODAY)
    row = con.execute("select sen_provision, admission_date, leaving_date from pupils").fetchone()
    assert row is not None
    return row


def test_a_readmitted_pupil_is_on_roll_from_the_current_stint_not_the_first_in_the_file(tmp_path: Path) -> None:
    """Two stints at the school itself: read by the first, the pupil left in March 2020 and was never scored."""
    stints = """<SchoolHistory>
        <School><LEA>801</LEA><Estab>4000</Estab><EntryDate>2019-09-02</EntryDate><LeavingDate>2020-03-31</LeavingDate></School>
        <School><LEA>999</LEA><Estab>1234</Estab><EntryDate>2020-04-20</EntryDate><LeavingDate>2024-07-19</LeavingDate></School>
        <School><LEA>801</LEA><Estab>4000</Estab><EntryDate>2024-09-02</EntryDate></School>
      </SchoolHistory>"""
    assert _one_pupil(tmp_path / "open", stints)[1:] == (dt.date(2024, 9, 2), None)
    # with no open stint (a leaver), the latest one
    left = stints.replace("<EntryDate>2024-09-02</EntryDate>", "<EntryDate>2024-09-02</EntryDate>"
                          "<LeavingDate>2025-10-31</LeavingDate>")  # fmt: skip
    assert _one_pupil(tmp_path / "left", left)[1:] == (dt.date(2024, 9, 2), dt.date(2025, 10, 31))


def test_of_several_sen_records_the_current_one_is_read(tmp_path: Path) -> None:
    """CTF 17 on dates each SEN record: the first in the file was an old provision (an EHC plan since ended)."""
    history = """<SENhistory>
        <SEN><StartDate>2021-09-01</StartDate><EndDate>2023-08-31</EndDate><SENprovision>E</SENprovision></SEN>
        <SEN><StartDate>2023-09-01</StartDate><SENprovision>K</SENprovision></SEN>
        <SEN><StartDate>2019-09-01</StartDate><EndDate>2021-08-31</EndDate><SENprovision>N</SENprovision></SEN>
      </SENhistory>"""
    assert _one_pupil(tmp_path / "open", history)[0] == "K"
    # every record ended: the latest started
    ended = history.replace("<StartDate>2023-09-01</StartDate>", "<StartDate>2023-09-01</StartDate>"
                            "<EndDate>2025-07-18</EndDate>")  # fmt: skip
    assert _one_pupil(tmp_path / "ended", ended)[0] == "K"
    # an undated record (before CTF 17) is read as before
    assert (
        _one_pupil(tmp_path / "undated", "<SENhistory><SEN><SENprovision>E</SENprovision></SEN></SENhistory>")[0] == "E"
    )
