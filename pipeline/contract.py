"""The export contract (shared/contracts/exports.md) as data: files, columns, aliases, types and keys."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal[
    "upn", "text", "date", "bool", "int", "sex", "year_group", "sen", "session", "mark", "exclusion", "decision"
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


@dataclass(frozen=True)
class ExportFile:
    name: str
    table: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    required_file: bool
    date_columns_not_future: tuple[str, ...] = ()

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def normalise_header(text: str) -> str:
    """Headers match case-insensitively, with spaces, underscores and hyphens treated alike.

    >>> normalise_header("\\ufeffLegal_Surname "), normalise_header("AM/PM"), normalise_header("Length (sessions)")
    ('legal surname', 'am/pm', 'length (sessions)')
    """
    return re.sub(r"[\s_\-]+", " ", text.replace("\ufeff", "")).strip().lower()


UPN = Column("upn", "upn", ("UPN", "Unique Pupil Number"))

EXPORT_FILES: tuple[ExportFile, ...] = (
    ExportFile(
        "pupils.csv",
        "pupils",
        (
            UPN,
            Column("mis_id", "text", ("Adno", "Admission No", "Admission Number", "Pupil ID", "Student ID"),
                   required=False, nullable=True),
            Column("surname", "text", ("Legal Surname", "Last Name", "Family Name")),
            Column("forename", "text", ("Legal Forename", "First Name", "Preferred Forename")),
            Column("date_of_birth", "date", ("DOB", "Birth Date")),
            Column("sex", "sex", ("Gender",)),
            Column("year_group", "year_group", ("Year", "NC Year", "Year Group", "Curriculum Year")),
            Column("reg_group", "text", ("Reg", "Reg Group", "Form", "Tutor Group"), required=False, nullable=True),
            Column("admission_date", "date", ("Admission Date", "Date of Admission"), required=False, nullable=True),
            Column("leaving_date", "date", ("Leaving Date", "Date of Leaving"), nullable=True),
            Column("sen_provision", "sen", ("SEN", "SEN Status", "SEN Provision")),
            Column("fsm_eligible", "bool", ("FSM", "FSM Eligible"), nullable=True),
            Column("pupil_premium", "bool", ("PP", "Pupil Premium", "Pupil Premium Indicator"), required=False,
                   nullable=True),
            Column("eal", "bool", ("EAL", "English as Additional Language"), required=False, nullable=True),
            Column("looked_after", "bool", ("CLA", "Looked After", "In LA Care"), required=False, nullable=True),
            Column("ethnicity", "text", ("Ethnicity", "Ethnic Code"), required=False, nullable=True),
        ),
        key=("upn",),
        required_file=True,
        date_columns_not_future=("date_of_birth", "admission_date"),
    ),
    ExportFile(
        "attendance.csv",
        "attendance",
        (
            UPN,
            Column("date", "date", ("Date", "Session Date", "Attendance Date")),
            Column("session", "session", ("Session", "AM/PM", "Session Name")),
            Column("mark", "mark", ("Mark", "Attendance Mark", "Code"), nullable=True),
            Column("minutes_late", "int", ("Minutes Late", "Mins Late"), required=False, nullable=True),
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
            Column("subject", "text", ("Subject", "Aspect")),
            Column("assessment_point", "text", ("Assessment", "Result Set", "Collection")),
            Column("date", "date", ("Date", "Result Date")),
            Column("result_type", "text", ("Type", "Result Type")),
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
            Column("action", "text", ("Action", "Outcome"), required=False, nullable=True),
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
            Column("reason", "text", ("Reason", "Reason Code"), required=False, nullable=True),
        ),
        key=("upn", "start_date", "category"),
        required_file=False,
        date_columns_not_future=("start_date",),
    ),
    ExportFile(
        "interventions.csv",
        "interventions",
        (
            UPN,
            Column("intervention", "text", ("Intervention", "Type")),
            Column("start_date", "date", ("Start Date",)),
            Column("end_date", "date", ("End Date",), required=False, nullable=True),
            Column("outcome", "text", ("Outcome",), required=False, nullable=True),
        ),
        key=("upn", "intervention", "start_date"),
        required_file=False,
    ),
    # Staff decisions on the shortlist, kept with history (one decision per pupil per day); see
    # docs/contract-decisions.md and pipeline/caseload/decisions.py.
    ExportFile(
        "decisions.csv",
        "decisions",
        (
            UPN,
            Column("date", "date", ("Date", "Decision Date")),
            Column("decision", "decision", ("Decision",)),
            Column("review_date", "date", ("Review Date", "Review"), required=False, nullable=True),
        ),
        key=("upn", "date"),
        required_file=False,
        date_columns_not_future=("date",),
    ),
)  # fmt: skip
DECISIONS = ("referred", "declined", "not now", "supported elsewhere")
"""What staff can record against a pupil on the shortlist (decisions.csv)."""
DECISION_SYNONYMS = {"not appropriate": "declined", "already supported elsewhere": "supported elsewhere"}
"""Other words staff use, read as one of :data:`DECISIONS`."""

FILES_BY_NAME = {f.name: f for f in EXPORT_FILES}


def header_map(export: ExportFile) -> dict[str, str]:
    """Normalised header text -> canonical column name, for every name and alias of the file's columns."""
    mapping: dict[str, str] = {}
    for column in export.columns:
        for text in (column.name, *column.aliases):
            mapping[normalise_header(text)] = column.name
    return mapping
