"""Read a DfE Common Transfer File (CTF) as contract CSV files, so that it loads through the normal route.

A school folder may hold a CTF (XML, root element ``CTfile``) instead of, or beside, its CSV exports. Its pupils,
attendance session marks and KS2 results are written as ``pupils.csv``, ``attendance.csv`` and
``assessments.csv`` (the contract's own column names, ISO dates, UTF-8) into the ingest's private scratch folder,
and those files are then read, checked, quarantined and loaded exactly as a school's own CSV files would be. The
mapping from CTF elements to contract columns is documented in docs/contract.md.

The XML is parsed with defusedxml: a document with a DTD, an entity declaration or an external reference is
refused (billion laughs, external entities), and read pupil by pupil so that a large file is never held whole.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import defusedxml
import defusedxml.ElementTree as SafeET

from pipeline.contract import SCHOOL_FOLDER

CTF_FILES = ("pupils.csv", "attendance.csv", "assessments.csv")
"""The contract files a CTF gives."""
ROOT = "CTfile"
SNIFF_BYTES = 4096
PUPIL_COLUMNS = (
    "upn", "surname", "forename", "date_of_birth", "sex", "year_group", "admission_date", "leaving_date",
    "sen_provision", "fsm_eligible", "eal", "looked_after", "ethnicity",
)  # fmt: skip
"""What a CTF says about a pupil; a CTF has no MIS number, registration group or pupil premium."""
ATTENDANCE_COLUMNS = ("upn", "date", "session", "mark")
ASSESSMENT_COLUMNS = ("upn", "subject", "assessment_point", "date", "result_type", "result")
ENGLISH = frozenset({"ENG", "ENB"})
"""First-language codes meaning English (ENB: not known but believed to be English)."""
KS2_SUBJECTS = {"REA": "Reading", "MAT": "Maths", "GPS": "GPS"}
"""KS2 test subjects whose scaled scores are read (ResultQualifier SS)."""
SESSION_MARK = re.compile(r"[A-Za-z][1-9]|.", re.DOTALL)
"""One session's mark in ``AttendSessions``: a letter and a digit (C1, C2, J1, Y1-Y7) or one character."""
SESSIONS = ("AM", "PM")
NO_REGISTER = " "
"""A session with no register taken (no line is made for it)."""


class CTFError(Exception):
    """A CTF that cannot be read; the message says why."""


def is_ctf(path: Path) -> bool:
    """Whether ``path`` looks like a Common Transfer File (an XML file whose root element is ``CTfile``)."""
    if path.suffix.lower() != ".xml" or not path.is_file():
        return False
    with path.open("rb") as handle:
        start = handle.read(SNIFF_BYTES)
    # UTF-8 (or ASCII), or UTF-16 either way round, as an XML file may be saved
    return any(f"<{ROOT}".encode(encoding) in start for encoding in ("utf-8", "utf-16-le", "utf-16-be"))


@dataclass
class Converted:
    """The contract files written from one CTF, and what to tell the data lead about it."""

    source: Path
    files: dict[str, Path]
    pupils: int
    version: str
    notes: list[str] = field(default_factory=list)


_LOCK = threading.Lock()
_DONE: dict[tuple[Path, Path, int, int], Converted] = {}


def converted(path: Path, workdir: Path, school_id: str) -> Converted:
    """The contract files of the CTF at ``path``, written into ``workdir`` once (later calls reuse them)."""
    stat = path.stat()
    key = (path.resolve(), workdir.resolve(), stat.st_mtime_ns, stat.st_size)
    with _LOCK:
        if key not in _DONE:
            _DONE[key] = convert(path, workdir, school_id)
        return _DONE[key]


def convert(path: Path, workdir: Path, school_id: str) -> Converted:
    """Write the CTF's pupils, session marks and KS2 results as contract CSV files in ``workdir``."""
    targets = {name: workdir / f"{school_id}-ctf-{name}" for name in CTF_FILES}
    columns = {"pupils.csv": PUPIL_COLUMNS, "attendance.csv": ATTENDANCE_COLUMNS, "assessments.csv": ASSESSMENT_COLUMNS}
    handles = {name: target.open("w", encoding="utf-8", newline="") for name, target in targets.items()}
    try:
        writers = {name: csv.writer(handle, lineterminator="\n") for name, handle in handles.items()}
        for name, writer in writers.items():
            writer.writerow(columns[name])
        header = _Header()
        pupils = 0
        for element in _elements(path):
            tag = _local(element.tag)
            if tag == "Header":
                header = _Header.read(element)
                other = header.other_school(school_id)
                if other:
                    raise CTFError(
                        f"it was made by another school ({other}), not {school_id}, whose folder it is in: a CTF in "
                        "the wrong school's folder? Move it to its own school's folder"
                    )
            elif tag == "Pupil":
                pupils += 1
                writers["pupils.csv"].writerow(_pupil(element, header))
                upn = _text(element, "UPN")
                writers["attendance.csv"].writerows((upn, *mark) for mark in _marks(element))
                writers["assessments.csv"].writerows((upn, *result) for result in _ks2_results(element))
                element.clear()
    finally:
        for handle in handles.values():
            handle.close()
    notes = [f"read from the Common Transfer File {path.name} (CTF {header.version or 'version not given'}, "
             f"made {header.made or 'on an unknown date'}, {pupils:,} pupils)"]  # fmt: skip
    return Converted(path, targets, pupils, header.version, notes)


def _elements(path: Path) -> Iterator[ET.Element]:
    """Each ``Header`` and ``Pupil`` element as it ends, read through defusedxml."""
    try:
        root_seen = False
        for event, element in SafeET.iterparse(str(path), events=("start", "end"), forbid_dtd=True):
            if event == "start":
                if not root_seen:
                    root_seen = True
                    if _local(element.tag) != ROOT:
                        raise CTFError(f"{path.name} is XML but not a Common Transfer File (root {element.tag})")
                continue
            if _local(element.tag) in ("Header", "Pupil"):
                yield element
    except defusedxml.DefusedXmlException as error:
        raise CTFError(
            f"{path.name} was refused: it declares a DTD, entities or an external reference ({type(error).__name__}),"
            " which a Common Transfer File never needs"
        ) from error
    except ET.ParseError as error:
        raise CTFError(f"{path.name} is not well-formed XML ({error}): export the CTF again") from error


def made_at(path: Path) -> str:
    """The CTF's ``Header/DateTime`` as written (ISO 8601, so it sorts in time order), read without the pupils; ""
    when it has none or cannot be read (the load then says why)."""
    try:
        for element in _elements(path):
            return _text(element, "DateTime") if _local(element.tag) == "Header" else ""
    except (CTFError, OSError):
        return ""
    return ""


def _local(tag: str) -> str:
    """An element's name without its namespace."""
    return tag.rsplit("}", 1)[-1]


def _child(element: ET.Element | None, *path: str) -> ET.Element | None:
    """The first element down ``path`` (names without namespace), or None."""
    for name in path:
        if element is None:
            return None
        element = next((c for c in element if _local(c.tag) == name), None)
    return element


def _children(element: ET.Element | None, name: str) -> list[ET.Element]:
    return [] if element is None else [c for c in element if _local(c.tag) == name]


def _text(element: ET.Element | None, *path: str) -> str:
    found = _child(element, *path)
    return (found.text or "").strip() if found is not None else ""


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


@dataclass(frozen=True)
class _Header:
    version: str = ""
    made: dt.date | None = None
    lea: str = ""
    estab: str = ""
    urn: str = ""

    @classmethod
    def read(cls, header: ET.Element) -> _Header:
        return cls(
            version=_text(header, "CTFversion"),
            made=_date(_text(header, "DateTime")),
            lea=_text(header, "SourceSchool", "LEA"),
            estab=_text(header, "SourceSchool", "Estab"),
            urn=_text(header, "SourceSchool", "URN"),
        )

    def other_school(self, school_id: str) -> str | None:
        """Words naming the school that made the CTF, when it is not ``school_id``: a folder named by a URN is
        compared with the header's URN, one named by a LAESTAB with its LEA and Estab. None when they match, or when
        the header does not give that number (a URN cannot be told from a LAESTAB without a register of schools).

        >>> _Header(lea="916", estab="2578", urn="105854").other_school("9162578"), _Header(lea="801", estab="4000"
        ...     ).other_school("105854")
        (None, None)
        >>> _Header(lea="916", estab="2578", urn="105854").other_school("127510")
        'URN 105854, LAESTAB 9162578'
        """
        laestab = self.lea + self.estab if self.lea and self.estab else ""
        own = {6: self.urn, 7: laestab}.get(len(school_id)) if SCHOOL_FOLDER.fullmatch(school_id) else None
        if not own or own == school_id:
            return None
        return ", ".join(f"{kind} {value}" for kind, value in (("URN", self.urn), ("LAESTAB", laestab)) if value)


def _pupil(pupil: ET.Element, header: _Header) -> tuple[str, ...]:
    basic = _child(pupil, "BasicDetails")
    first_language = next(
        (
            _text(t, "Language")
            for t in _children(_child(basic, "Languages"), "Type")
            if _text(t, "LanguageType") == "F"
        ),
        "",
    )
    eal = "" if not first_language else "N" if first_language.upper() in ENGLISH else "Y"
    in_care = _text(pupil, "LookedAfter", "InCare").lower()
    looked_after = {"true": "Y", "1": "Y", "false": "N", "0": "N"}.get(in_care, "")
    sen = _text(_current(_children(_child(pupil, "SENhistory"), "SEN"), "StartDate", "EndDate"), "SENprovision")
    stints = [
        school
        for school in _children(_child(pupil, "SchoolHistory"), "School")
        if (_text(school, "LEA"), _text(school, "Estab")) == (header.lea, header.estab)
    ]
    here = _current(stints, "EntryDate", "LeavingDate")
    return (
        _text(pupil, "UPN"),
        _text(pupil, "Surname"),
        _text(pupil, "Forename"),
        _text(pupil, "DOB"),
        _text(pupil, "Gender") or _text(pupil, "Sex"),  # (some suppliers' recent files name it Sex)
        _text(basic, "NCyearActual"),
        _text(here, "EntryDate"),
        _text(here, "LeavingDate"),
        sen or "N",
        "Y" if _fsm_on(pupil, header.made) else "N",
        eal,
        looked_after,
        _text(basic, "Ethnicity"),
    )


def _current(entries: list[ET.Element], start: str, end: str) -> ET.Element | None:
    """The current one of a pupil's dated entries (stints at a school, SEN records): of those with no ``end`` date
    (still open), else of all, the one with the latest ``start`` date; the first in the file among equals (an entry
    whose start cannot be read counts as the earliest). None when there is no entry.

    A re-admitted pupil has two stints at the school: the first in the file was an old one, whose leaving date took the
    pupil off roll. A CTF (version 17 on) dates its SEN records; the first was an old provision.
    """
    open_ = [e for e in entries if not _text(e, end)]

    def started(entry: ET.Element) -> dt.date:
        return _date(_text(entry, start)) or dt.date.min

    return max(open_ or entries, key=started, default=None)


def _fsm_on(pupil: ET.Element, day: dt.date | None) -> bool:
    """Whether an FSM instance covers ``day`` (the CTF's date): started on or before it, not ended before it."""
    for instance in _children(_child(pupil, "FSMhistory"), "FSMinstance"):
        start, end = _date(_text(instance, "FSMstartDate")), _date(_text(instance, "FSMendDate"))
        if day is None:
            if end is None:
                return True
        elif start is not None and start <= day and (end is None or end >= day):
            return True
    return False


def _marks(pupil: ET.Element) -> Iterator[tuple[str, str, str]]:
    """(date, session, mark) for each register session in the pupil's ``Attendance``: every element holding an
    ``AttendStartDate`` and ``AttendSessions`` gives marks AM then PM of each day from that date."""
    attendance = _child(pupil, "Attendance")
    if attendance is None:
        return
    for block in attendance.iter():
        start_text, sessions = _text(block, "AttendStartDate"), _child(block, "AttendSessions")
        if not start_text or sessions is None:
            continue
        start = _date(start_text)
        marks = SESSION_MARK.findall(sessions.text or "")
        if start is None:  # an unreadable date: pass it on, so that its lines are quarantined with it
            days = [start_text] * ((len(marks) + 1) // 2)
        else:
            days = [(start + dt.timedelta(days=n)).isoformat() for n in range((len(marks) + 1) // 2)]
        yield from ((days[n >> 1], SESSIONS[n & 1], mark) for n, mark in enumerate(marks) if mark != NO_REGISTER)


def _ks2_results(pupil: ET.Element) -> Iterator[tuple[str, str, str, str, str]]:
    """(subject, assessment_point, date, result_type, result) for each KS2 scaled score."""
    for stage in _children(_child(pupil, "StageAssessments"), "KeyStage"):
        if _text(stage, "Stage").upper() != "KS2":
            continue
        for result in _children(stage, "StageAssessment"):
            subject = KS2_SUBJECTS.get(_text(result, "Subject").upper())
            if subject is None or _text(result, "ResultQualifier").upper() != "SS":
                continue
            day = _text(result, "ResultDate")[:10] or (
                f"{_text(result, 'Year')}-07-01" if _text(result, "Year") else ""
            )
            yield subject, "KS2", day, "ks2_scaled", _text(result, "Result")
