"""DfE attendance codes (School Attendance (Pupil Registration) (England) Regulations 2024).

One table that the generator, ingest and features all read, so a code means the same thing everywhere.
Possible sessions are those coded present, approved educational activity, or absent; attendance and absence
rates divide by them (DfE methodology; the codes are listed in docs/contract.md).
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class Category(StrEnum):
    """What a mark counts as for the DfE attendance measures."""

    PRESENT = "present"
    APPROVED_ACTIVITY = "approved_activity"
    AUTHORISED = "authorised"
    UNAUTHORISED = "unauthorised"
    NOT_POSSIBLE = "not_possible"
    ADMINISTRATIVE = "administrative"


class Code(NamedTuple):
    code: str
    category: Category
    meaning: str


ATTENDANCE_CODES: dict[str, Code] = {
    c.code: c
    for c in (
        Code("/", Category.PRESENT, "present (AM)"),
        Code("\\", Category.PRESENT, "present (PM)"),
        Code("L", Category.PRESENT, "late before registers closed"),
        Code("K", Category.APPROVED_ACTIVITY, "attending education provision arranged by the local authority"),
        Code("V", Category.APPROVED_ACTIVITY, "attending an educational visit or trip"),
        Code("P", Category.APPROVED_ACTIVITY, "participating in a sporting activity"),
        Code("W", Category.APPROVED_ACTIVITY, "attending work experience"),
        Code("B", Category.APPROVED_ACTIVITY, "attending any other approved educational activity"),
        Code("C1", Category.AUTHORISED, "leave for a regulated performance or regulated employment abroad"),
        Code("M", Category.AUTHORISED, "leave for a medical or dental appointment"),
        Code("J1", Category.AUTHORISED, "leave for an interview"),
        Code("S", Category.AUTHORISED, "study leave"),
        Code("C2", Category.AUTHORISED, "leave for part-time timetable"),
        Code("C", Category.AUTHORISED, "leave for exceptional circumstances"),
        Code("T", Category.AUTHORISED, "parent travelling for occupational purposes"),
        Code("R", Category.AUTHORISED, "religious observance"),
        Code("I", Category.AUTHORISED, "illness (not medical or dental appointment)"),
        Code("E", Category.AUTHORISED, "suspended or permanently excluded and no alternative provision made"),
        Code("G", Category.UNAUTHORISED, "holiday not agreed, or days in excess of those agreed"),
        Code("N", Category.UNAUTHORISED, "reason not yet provided"),
        Code("O", Category.UNAUTHORISED, "absent in other or unknown circumstances"),
        Code("U", Category.UNAUTHORISED, "arrived in school after registers closed"),
        Code("D", Category.NOT_POSSIBLE, "dual registered, at another school"),
        Code("X", Category.NOT_POSSIBLE, "not of compulsory school age"),
        Code("Q", Category.NOT_POSSIBLE, "unable to attend because of a lack of access arrangements"),
        *(
            Code(f"Y{n}", Category.NOT_POSSIBLE, meaning)
            for n, meaning in enumerate(
                (
                    "unable to attend because transport normally provided is not available",
                    "unable to attend because of widespread disruption to travel",
                    "unable to attend because part of the school premises is closed",
                    "unable to attend because the whole school site is unexpectedly closed",
                    "unable to attend as pupil is in criminal justice detention",
                    "unable to attend in accordance with public health guidance or law",
                    "unable to attend because of other unavoidable cause",
                ),
                start=1,
            )
        ),
        Code("Z", Category.ADMINISTRATIVE, "prospective pupil not on admission register"),
        Code("#", Category.ADMINISTRATIVE, "planned whole or partial school closure"),
    )
}

WITHDRAWN_CODES: dict[str, str] = {"H": "C", "J": "J1", "Y": "Y7"}
"""Codes withdrawn in August 2024, mapped to their successors (and reported when found)."""

NO_MARK = frozenset({"", "-"})
"""What an export holds when no mark was entered: not a possible session."""

ATTENDED = frozenset({Category.PRESENT, Category.APPROVED_ACTIVITY})
ABSENT = frozenset({Category.AUTHORISED, Category.UNAUTHORISED})
POSSIBLE = ATTENDED | ABSENT


def codes_in(*categories: Category) -> list[str]:
    """The codes of the given categories, in table order."""
    return [c.code for c in ATTENDANCE_CODES.values() if c.category in categories]
