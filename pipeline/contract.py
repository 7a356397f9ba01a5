"""The export contract (docs/contract.md) as data: files, columns, aliases, types, keys and what a column's
absence means. tests/unit/test_contract_doc.py keeps the two in step."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal[
    "upn",
    "text",
    "date",
    "bool",
    "int",
    "sex",
    "year_group",
    "sen",
    "session",
    "mark",
    "exclusion",
    "decision",
    "result_type",
    "subject",
]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    aliases: tuple[str, ...] = ()
    required: bool = True
    """The header must be present (values may still be blank where the contract allows)."""
    nullable: bool = False
    """A blank value is allowed (and means unknown, never false)."""
    absent_means: str = ""
    """For an optional column: what the pipeline takes a file without it to mean (noted in run.json and the report)."""
    blank_if_wrong: bool = False
    """A value that cannot be read is blanked and reported, and the row loads: a detail of a row whose substance is
    another column (the minutes of a late mark, not the mark)."""


SCHEDULED_DAYS_AHEAD = 92
"""How far ahead of the night a planned start may be (about a school term): see ExportFile.date_columns_scheduled."""


@dataclass(frozen=True)
class DatesInOrder:
    """Two date columns of a row that cannot run backwards: a row whose ``later`` date is before its ``earlier``
    one is quarantined (which of the two is wrong cannot be told), or, where ``blank_later`` (a pupil's dates: one
    odd cell never takes a child off the list), loaded with its ``later`` date blank, saying what that means."""

    earlier: str
    later: str
    earlier_words: str
    later_words: str
    blank_later: str | None = None
    """What loading the row with its ``later`` date blank means, to say in the reason; None to quarantine it."""


@dataclass(frozen=True)
class ExportFile:
    name: str
    table: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    required_file: bool
    date_columns_not_future: tuple[str, ...] = ()
    date_columns_scheduled: tuple[str, ...] = ()
    """Dates that may be a little ahead of the night, as a start planned (a suspension from Monday, mentoring from
    next week, a pupil admitted after half-term): up to ``SCHEDULED_DAYS_AHEAD`` ahead they load, and count from
    that day on, as every feature reads data dated up to its night; further ahead they are a problem."""
    dates_in_order: tuple[DatesInOrder, ...] = ()
    written_by_staff: bool = False
    """A file staff write by hand, not an MIS export: a line of it that cannot be read is set aside and the rest
    used, however many such lines there are (the gate's share of lines quarantined is a test of an export)."""

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


UNIT = re.compile(r"(\s*\([^()]*\))+\s*$")
"""A trailing unit in brackets, as in ``Length (sessions)`` or ``Minutes Late (mins)``."""


def normalise_header(text: str) -> str:
    """Headers match case-insensitively, with surrounding spaces, a trailing unit in brackets, and spaces,
    underscores and hyphens between words treated alike.

    >>> normalise_header("\\ufeffLegal_Surname "), normalise_header("AM/PM"), normalise_header(" Length (sessions)")
    ('legal surname', 'am/pm', 'length')
    """
    text = text.replace("\ufeff", "").strip().strip('"').strip()
    text = UNIT.sub("", text) or text
    return re.sub(r"[\s_\-]+", " ", text).strip().lower()


UPN = Column("upn", "upn", ("UPN", "Unique Pupil Number"))

SCHOOL_FOLDER = re.compile(r"[0-9]{6,7}")
"""A school folder's name, whole (``fullmatch``): its URN (6 digits) or LAESTAB (7 digits), ASCII digits only."""

EXPORT_FILES: tuple[ExportFile, ...] = (
    ExportFile(
        "pupils.csv",
        "pupils",
        (
            UPN,
            Column("mis_id", "text", ("Adno", "Admission No", "Admission Number", "Pupil ID", "Student ID"),
                   required=False, nullable=True, absent_means="no MIS number: pupils are known by UPN alone"),
            Column("surname", "text", ("Legal Surname", "Last Name", "Family Name")),
            Column("forename", "text", ("Legal Forename", "First Name", "Preferred Forename")),
            Column("date_of_birth", "date", ("DOB", "Birth Date")),
            Column("sex", "sex", ("Gender",)),
            Column("year_group", "year_group", ("Year", "NC Year", "Year Group", "Curriculum Year")),
            Column("reg_group", "text", ("Reg", "Reg Group", "Form", "Tutor Group"), required=False, nullable=True,
                   absent_means="no registration group: the shortlist's reg group column is blank"),
            Column("admission_date", "date", ("Admission Date", "Date of Admission"), required=False, nullable=True,
                   absent_means="no admission dates: every pupil listed counts as on roll from the start of the data"),
            Column("leaving_date", "date", ("Leaving Date", "Date of Leaving"), required=False, nullable=True,
                   absent_means="no leaving dates: everyone listed is on roll (an on-roll report)"),
            Column("sen_provision", "sen", ("SEN", "SEN Status", "SEN Provision")),
            Column("fsm_eligible", "bool", ("FSM", "FSM Eligible"), nullable=True),
            Column("pupil_premium", "bool", ("PP", "Pupil Premium", "Pupil Premium Indicator"), required=False,
                   nullable=True, absent_means="pupil premium unknown for every pupil (never taken as no)"),
            Column("eal", "bool", ("EAL", "English as Additional Language"), required=False, nullable=True,
                   absent_means="EAL unknown for every pupil (never taken as no)"),
            Column("looked_after", "bool", ("CLA", "Looked After", "In LA Care"), required=False, nullable=True,
                   absent_means="looked-after status unknown for every pupil (never taken as no)"),
            Column("ethnicity", "text", ("Ethnicity", "Ethnic Code"), required=False, nullable=True,
                   absent_means="no ethnicity: the fairness audit cannot compare ethnic groups"),
        ),
        key=("upn",),
        required_file=True,
        date_columns_not_future=("date_of_birth",),
        date_columns_scheduled=("admission_date",),
        dates_in_order=(
            DatesInOrder("admission_date", "leaving_date", "the admission date", "leaving date",
                         blank_later="the leaving date is not used, so the pupil counts as on roll"),
        ),
    ),
    ExportFile(
        "attendance.csv",
        "attendance",
        (
            UPN,
            Column("date", "date", ("Date", "Session Date", "Attendance Date")),
            Column("session", "session", ("Session", "AM/PM", "Session Name")),
            Column("mark", "mark", ("Mark", "Attendance Mark", "Code"), nullable=True),
            Column("minutes_late", "int", ("Minutes Late", "Mins Late"), required=False, nullable=True,
                   absent_means="minutes late unknown: late marks still count, their minutes do not",
                   blank_if_wrong=True),
        ),
        key=("upn", "date", "session"),
        required_file=True,
        date_columns_not_future=("date",),
    ),
    ExportFile(
        "assessments.csv",
        "assessments",
        (
            UPN,
            Column("subject", "subject", ("Subject", "Aspect")),
            Column("assessment_point", "text", ("Assessment", "Result Set", "Collection")),
            Column("date", "date", ("Date", "Result Date")),
            Column("result_type", "result_type", ("Type", "Result Type")),
            Column("result", "text", ("Result", "Grade", "Score")),
        ),
        key=("upn", "subject", "assessment_point", "result_type"),
        required_file=False,
        date_columns_not_future=("date",),
    ),
    ExportFile(
        "behaviour.csv",
        "behaviour",
        (
            UPN,
            Column("incident_id", "text", ("Incident ID", "Event ID")),
            Column("date", "date", ("Date", "Incident Date")),
            Column("category", "text", ("Type", "Behaviour Type", "Category")),
            Column("points", "int", ("Points", "Behaviour Points")),
            Column("action", "text", ("Action", "Outcome"), required=False, nullable=True,
                   absent_means="no action recorded for any incident"),
        ),
        key=("incident_id", "upn"),
        required_file=False,
        date_columns_not_future=("date",),
    ),
    ExportFile(
        "exclusions.csv",
        "exclusions",
        (
            UPN,
            Column("start_date", "date", ("Start Date",)),
            Column("category", "exclusion", ("Type", "Exclusion Type")),
            Column("sessions", "int", ("Length", "Sessions", "Length (sessions)")),
            Column("reason", "text", ("Reason", "Reason Code"), required=False, nullable=True,
                   absent_means="no reason codes for any exclusion"),
        ),
        key=("upn", "start_date", "category"),
        required_file=False,
        date_columns_scheduled=("start_date",),
    ),
    ExportFile(
        "interventions.csv",
        "interventions",
        (
            UPN,
            Column("intervention", "text", ("Intervention", "Type")),
            Column("start_date", "date", ("Start Date",)),
            Column("end_date", "date", ("End Date",), required=False, nullable=True,
                   absent_means="no end dates: every intervention counts as ongoing"),
            Column("outcome", "text", ("Outcome",), required=False, nullable=True,
                   absent_means="no outcomes recorded for any intervention"),
        ),
        key=("upn", "intervention", "start_date"),
        required_file=False,
        dates_in_order=(DatesInOrder("start_date", "end_date", "the start date", "end date"),),
    ),
    # Staff decisions on the shortlist, kept with history (one decision per pupil per day); see
    # docs/contract.md and pipeline/caseload/decisions.py.
    ExportFile(
        "decisions.csv",
        "decisions",
        (
            UPN,
            Column("date", "date", ("Date", "Decision Date")),
            Column("decision", "decision", ("Decision",)),
            Column("review_date", "date", ("Review Date", "Review"), required=False, nullable=True,
                   absent_means="no review dates: a held pupil comes back after decision_review_weeks (6) "
                   "or a score rise"),
        ),
        key=("upn", "date"),
        required_file=False,
        date_columns_not_future=("date",),
        dates_in_order=(DatesInOrder("date", "review_date", "the decision's date", "review date"),),
        written_by_staff=True,
    ),
)  # fmt: skip
STAFF_FILES = tuple(f.name for f in EXPORT_FILES if f.written_by_staff)
"""The files staff write by hand (decisions.csv): see :attr:`ExportFile.written_by_staff`."""
PRIMARY_YEARS = frozenset({"N1", "N2", "R", "1", "2", "3", "4", "5", "6"})
"""The year groups (``year_group`` as the contract reads it) of the primary phase: nursery to Year 6."""


def in_primary(year_group: object) -> bool:
    """Whether a pupil's year group is in the primary phase, where attainment is in steps (BLW, PKS, WTS, EXS, GDS).

    >>> in_primary("6"), in_primary(7), in_primary(None)
    (True, False, False)
    """
    return str(year_group) in PRIMARY_YEARS


DECISIONS = ("referred", "declined", "not now", "supported elsewhere")
"""What staff can record against a pupil on the shortlist (decisions.csv)."""
DECISION_SYNONYMS = {
    "not appropriate": "declined",
    "already supported elsewhere": "supported elsewhere",
    "refer": "referred",
    "referral": "referred",
    "decline": "declined",
}
"""Other words staff use, read as one of :data:`DECISIONS`."""
SESSIONS = {"am": "AM", "pm": "PM", "morning": "AM", "afternoon": "PM"}
"""A register's session (attendance.csv ``session``) as written, in any case, and as stored."""
SUBJECTS_READ = {
    "english": "English",
    "english language": "English",
    "eng": "English",
    "en": "English",
    "reading": "Reading",
    "rdg": "Reading",
    "writing": "Writing",
    "wri": "Writing",
    "maths": "Maths",
    "mathematics": "Maths",
    "math": "Maths",
    "mat": "Maths",
    "ma": "Maths",
    "mean": "Mean",
}
"""The subjects the features read (English and maths working-at and target, Reading and Writing at primary, the
CAT4 mean), by their names in any case and with any spacing, and the other names MIS reports give them; any other
subject is kept as written (it is loaded, and no feature reads it)."""
EXCLUSION_TYPES = {
    "susp": "SUSP",
    "fixd": "SUSP",
    "suspension": "SUSP",
    "fixed term": "SUSP",
    "fixed term exclusion": "SUSP",
    "fixed period": "SUSP",
    "fixed period exclusion": "SUSP",
    "perm": "PERM",
    "permanent": "PERM",
    "permanent exclusion": "PERM",
    "lnch": "LNCH",
    "lunchtime": "LNCH",
    "lunchtime exclusion": "LNCH",
}
"""An exclusion's type (exclusions.csv ``category``), by its DfE code or the words MIS reports use, in any case and
with spaces, hyphens or underscores alike, and the code it is stored as."""
RESULT_TYPES = ("ks2_scaled", "working_at", "target", "reading_age", "cat4_sas")
"""What an assessment result is (assessments.csv ``result_type``), as stored: any case, with spaces, hyphens or
underscores between its words, is read as one of these."""
RESULT_TYPE_SYNONYMS = {
    "working_at_grade": "working_at",
    "target_grade": "target",
    "ks2_scaled_score": "ks2_scaled",
    "cat4_standard_age_score": "cat4_sas",
}
"""Longer names a report may give a result type, read as one of :data:`RESULT_TYPES`."""

FILES_BY_NAME = {f.name: f for f in EXPORT_FILES}


def header_map(export: ExportFile) -> dict[str, str]:
    """Normalised header text -> canonical column name, for every name and alias of the file's columns."""
    return {key: name for key, (name, _) in _header_lookup(export).items()}


def _header_lookup(export: ExportFile) -> dict[str, tuple[str, str]]:
    """Normalised header text -> (canonical column name, the name or alias it normalises from)."""
    mapping: dict[str, tuple[str, str]] = {}
    for column in export.columns:
        for text in (column.name, *column.aliases):
            mapping.setdefault(normalise_header(text), (column.name, text))
    return mapping


@dataclass(frozen=True)
class HeaderMatch:
    """How one header cell was read."""

    position: int
    header: str
    """The header text as the file has it (without a byte-order mark or surrounding spaces)."""
    column: str | None
    """The contract column it is, or None for a column the contract does not use (or a second copy of one)."""
    via: str = ""
    """The contract name or alias it matched."""
    again: tuple[str, str] | None = None
    """For a second header naming a column already read: the column, and the header it is read from."""

    def describe(self) -> str:
        if self.again is not None:
            return f"{self.header!r} names {self.again[0]} again, which is read from {self.again[1]!r} (ignored)"
        if self.column is None and not self.header:
            return f"number {self.position + 1} has no name in the header (ignored)"
        if self.column is None:
            return f"{self.header!r} is not a contract column (ignored)"
        how = "its own name" if self.via == self.column else f"alias {self.via!r}"
        return f"{self.header!r} -> {self.column} (through {how})"


@dataclass(frozen=True)
class HeaderReading:
    """What a file's header row gives: each cell's match, and the contract columns it lacks."""

    export: ExportFile
    matches: tuple[HeaderMatch, ...]

    @property
    def present(self) -> set[str]:
        return {m.column for m in self.matches if m.column is not None}

    @property
    def unknown(self) -> list[str]:
        return [m.header for m in self.matches if m.column is None and m.again is None]

    @property
    def repeated(self) -> list[HeaderMatch]:
        """Headers naming a column that an earlier header already gave (ignored: the first is read)."""
        return [m for m in self.matches if m.again is not None]

    @property
    def missing_required(self) -> list[Column]:
        return [c for c in self.export.columns if c.required and c.name not in self.present]

    @property
    def missing_optional(self) -> list[Column]:
        return [c for c in self.export.columns if not c.required and c.name not in self.present]

    def alias_note(self) -> str:
        """One note naming the headers read through an alias (empty when every header is a column's own name)."""
        through = [m for m in self.matches if m.column and normalise_header(m.via) != normalise_header(m.column)]
        if not through:
            return ""
        return "headers read through aliases: " + ", ".join(f"{m.header!r} as {m.column}" for m in through)

    def absent_notes(self) -> list[str]:
        """One note per optional column the file lacks, saying what that is taken to mean."""
        return [f"no {c.name} column: {c.absent_means}" for c in self.missing_optional]


def read_header(export: ExportFile, header: list[str]) -> HeaderReading:
    """Match each header cell to a contract column (by name or alias, see :func:`normalise_header`); a cell that
    matches a column already matched is ignored, like an unknown one.

    >>> reading = read_header(FILES_BY_NAME["attendance.csv"], ["UPN ", "session_date", "AM/PM", "Mark", "Room"])
    >>> [m.describe() for m in reading.matches][1:3]
    ["'session_date' -> date (through alias 'Session Date')", "'AM/PM' -> session (through alias 'AM/PM')"]
    >>> reading.unknown, [c.name for c in reading.missing_optional]
    (['Room'], ['minutes_late'])
    """
    lookup = _header_lookup(export)
    matches: list[HeaderMatch] = []
    seen: dict[str, str] = {}  # column -> the header it is read from
    for position, text in enumerate(header):
        shown = text.replace("\ufeff", "").strip()
        found = lookup.get(normalise_header(text))
        if found is None:
            matches.append(HeaderMatch(position, shown, None))
        elif found[0] in seen:
            matches.append(HeaderMatch(position, shown, None, again=(found[0], seen[found[0]])))
        else:
            column = export.column(found[0])
            names = (column.name, *column.aliases)
            exact = [t for t in names if t == shown] or [t for t in names if t.lower() == shown.lower()]
            matches.append(HeaderMatch(position, shown, column.name, exact[0] if exact else found[1]))
            seen[column.name] = shown
    return HeaderReading(export, tuple(matches))
