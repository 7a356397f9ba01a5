"""Write a generated school's exports again as a DfE Common Transfer File, for the CTF route's twin test and demo.

``write_ctf_school(school_dir, out_dir, made)`` reads the school's pupils.csv, attendance.csv and assessments.csv
(either sample flavour) and writes ``out_dir/<LAESTAB>_CTF_<LAESTAB>_001.xml`` with the same pupils, session
marks and KS2 scaled scores, in the element layout docs/contract.md describes; the school's other CSV files
(assessments, behaviour, exclusions, interventions) are copied beside it, as a school sending a CTF would send
them. A CTF has no MIS number, registration group, pupil premium or minutes late, so those are lost.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

from pipeline.contract import FILES_BY_NAME, read_header

BESIDE = ("assessments.csv", "behaviour.csv", "exclusions.csv", "interventions.csv")
"""The files a school sends as CSV beside its CTF."""
TRUE = frozenset({"Y", "YES", "TRUE", "T", "1"})
KS2_CODES = {"Reading": "REA", "Maths": "MAT", "GPS": "GPS"}
OTHER_LANGUAGE = "OTL"
"""First language other than English (a pupil with EAL; the sample does not say which language)."""


def write_ctf_school(school_dir: Path, out_dir: Path, made: dt.date) -> Path:
    """Write the school in ``school_dir`` as a CTF (plus its other CSV files) into ``out_dir``; return the CTF."""
    pupils = list(_rows(school_dir / "pupils.csv"))
    first = pupils[0]["upn"] if pupils else "A000000000000"
    lea, estab = first[1:4], first[4:8]
    root = ET.Element("CTfile")
    header = ET.SubElement(root, "Header")
    _add(header, "DocumentName", "Common Transfer File")
    _add(header, "CTFversion", "25.0")
    _add(header, "DateTime", f"{made.isoformat()}T18:00:00")
    _add(header, "DocumentQualifier", "full")
    _add(header, "SupplierID", "mentor-pipeline sample")
    source = ET.SubElement(header, "SourceSchool")
    for tag, text in (("LEA", lea), ("Estab", estab), ("URN", school_dir.name), ("SchoolName", "Sample School"),
                      ("AcademicYear", str(made.year if made.month >= 9 else made.year - 1))):  # fmt: skip
        _add(source, tag, text)
    dest = ET.SubElement(header, "DestSchool")
    _add(dest, "LEA", lea)
    _add(dest, "Estab", estab)
    marks = _by_pupil(_rows(school_dir / "attendance.csv"))
    results = _by_pupil(r for r in _rows(school_dir / "assessments.csv") if r["result_type"] == "ks2_scaled")
    data = ET.SubElement(root, "CTFpupilData")
    for pupil in pupils:
        _pupil(data, pupil, lea, estab, made, marks.get(pupil["upn"], []), results.get(pupil["upn"], []))
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{lea}{estab}_CTF_{lea}{estab}_001.xml"
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    for name in BESIDE:
        if (school_dir / name).exists():
            shutil.copyfile(school_dir / name, out_dir / name)
    return path


def _add(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = text
    return element


def _rows(path: Path) -> Iterator[dict[str, str]]:
    """The file's rows by contract column name, whatever its flavour (headers, encoding, delimiter)."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252")
    rows = csv.reader(text.splitlines())
    header = read_header(FILES_BY_NAME[path.name], next(rows))
    names = [m.column for m in header.matches]
    for row in rows:
        yield {name: value.strip() for name, value in zip(names, row, strict=True) if name is not None}


def _iso(text: str) -> str:
    """A sample date (ISO or DD/MM/YYYY) as ISO; blank stays blank."""
    if "/" in text:
        day, month, year = text.split(" ")[0].split("/")
        return f"{year}-{month}-{day}"
    return text


def _by_pupil(rows: Iterator[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    grouped: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        grouped.setdefault(row["upn"], []).append(row)
    return grouped


def _pupil(
    data: ET.Element,
    row: dict[str, str],
    lea: str,
    estab: str,
    made: dt.date,
    marks: list[dict[str, str]],
    results: list[dict[str, str]],
) -> None:
    pupil = ET.SubElement(data, "Pupil")
    _add(pupil, "UPN", row["upn"])
    _add(pupil, "Surname", row["surname"])
    _add(pupil, "Forename", row["forename"])
    _add(pupil, "DOB", _iso(row["date_of_birth"]))
    _add(pupil, "Gender", row["sex"][:1].upper())
    basic = ET.SubElement(pupil, "BasicDetails")
    _add(basic, "NCyearActual", row["year_group"])
    if row.get("ethnicity"):
        _add(basic, "Ethnicity", row["ethnicity"])
    if row.get("eal"):
        language = ET.SubElement(ET.SubElement(basic, "Languages"), "Type")
        _add(language, "LanguageType", "F")
        _add(language, "Language", OTHER_LANGUAGE if row["eal"].upper() in TRUE else "ENG")
    _add(basic, "EnrolStatus", "C")
    if row.get("looked_after"):
        looked_after = ET.SubElement(pupil, "LookedAfter")
        _add(looked_after, "InCare", "true" if row["looked_after"].upper() in TRUE else "false")
    if row["fsm_eligible"].upper() in TRUE:
        instance = ET.SubElement(ET.SubElement(pupil, "FSMhistory"), "FSMinstance")
        _add(instance, "FSMstartDate", _iso(row.get("admission_date", "")) or made.isoformat())
        _add(instance, "UKcountry", "ENG")
    sen = row["sen_provision"][:1].upper()
    if sen in ("K", "E"):
        _add(ET.SubElement(ET.SubElement(pupil, "SENhistory"), "SEN"), "SENprovision", sen)
    if marks:
        _attendance(ET.SubElement(pupil, "Attendance"), marks, lea, estab)
    if results:
        stage = ET.SubElement(ET.SubElement(pupil, "StageAssessments"), "KeyStage")
        _add(stage, "Stage", "KS2")
        for result in results:
            assessment = ET.SubElement(stage, "StageAssessment")
            day = _iso(result["date"])
            fields = {"Locale": "ENG", "Year": day[:4], "Subject": KS2_CODES[result["subject"]], "Method": "TT",
                      "Component": "SS", "ResultStatus": "R", "ResultQualifier": "SS", "Result": result["result"],
                      "ResultDate": day}  # fmt: skip
            for tag, text in fields.items():
                _add(assessment, tag, text)
    history = ET.SubElement(ET.SubElement(pupil, "SchoolHistory"), "School")
    _add(history, "LEA", lea)
    _add(history, "Estab", estab)
    _add(history, "EntryDate", _iso(row.get("admission_date", "")))
    if row.get("leaving_date"):
        _add(history, "LeavingDate", _iso(row["leaving_date"]))


def _attendance(attendance: ET.Element, marks: list[dict[str, str]], lea: str, estab: str) -> None:
    """One ``YearData`` per academic year, its sessions as one string from the year's first marked day (a space for
    each session without a register: weekends, holidays, days before the pupil joined)."""
    slots = sorted((dt.date.fromisoformat(_iso(m["date"])), m["session"].upper(), m["mark"] or "-") for m in marks)

    def academic(slot: tuple[dt.date, str, str]) -> int:
        return slot[0].year if slot[0].month >= 9 else slot[0].year - 1

    for year, in_year in itertools.groupby(slots, key=academic):
        sessions = list(in_year)
        start = sessions[0][0]
        text = [" "] * ((sessions[-1][0] - start).days * 2 + 2)
        for day, session, mark in sessions:
            text[(day - start).days * 2 + (session == "PM")] = mark
        year_data = ET.SubElement(attendance, "YearData")
        _add(year_data, "Year", str(year))
        _add(year_data, "LEA", lea)
        _add(year_data, "Estab", estab)
        details = ET.SubElement(ET.SubElement(year_data, "SessionAttendance"), "SessionDetails")
        _add(details, "AttendStartDate", start.isoformat())
        _add(details, "AttendSessions", "".join(text).rstrip())
