"""The world's own small tables: UPNs, the attendance codes it writes, names, terms and data drops.

Written apart from pipeline.upn, pipeline.codes and pipeline.sample on purpose: a second world must not inherit the
first one's mistakes. Everything here follows the export contract (docs/contract.md, pipeline/contract.py) and
the DfE rules quoted in it, nothing more.
"""

from __future__ import annotations

import datetime as dt

UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
"""Check letters of a UPN: the alphabet without I, O and S."""


def upn_check_letter(body: str) -> str:
    """The check letter of a 12-digit UPN body: weight the k-th character (k = 2..13) by k, sum, mod 23.

    >>> upn_check_letter("801200001001")
    'H'
    """
    total = sum(weight * int(char) for weight, char in enumerate(body, start=2))
    return UPN_LETTERS[total % 23]


def make_upn(la: int, establishment: int, year: int, serial: int) -> str:
    """A permanent UPN: check letter, LA code, establishment number, two-digit year and a 3-digit serial.

    >>> make_upn(801, 2000, 1, 1)
    'H801200001001'
    """
    body = f"{la:03d}{establishment:04d}{year % 100:02d}{serial:03d}"
    return upn_check_letter(body) + body


# Marks this world writes, by what they count as (DfE 2024 codes).
PRESENT_AM, PRESENT_PM, LATE = "/", "\\", "L"
ILLNESS, MEDICAL, SUSPENDED, EXCEPTIONAL = "I", "M", "E", "C"
NO_REASON_YET, UNAUTHORISED_OTHER, AFTER_REGISTERS, HOLIDAY = "N", "O", "U", "G"
EDUCATIONAL_VISIT = "V"
ABSENT_MARKS = frozenset({ILLNESS, MEDICAL, SUSPENDED, EXCEPTIONAL, NO_REASON_YET, UNAUTHORISED_OTHER,
                          AFTER_REGISTERS, HOLIDAY})  # fmt: skip
POSSIBLE_MARKS = ABSENT_MARKS | {PRESENT_AM, PRESENT_PM, LATE, EDUCATIONAL_VISIT}

# Half-terms of an academic year starting in September of year Y: (month, day) of first and last day, and
# whether the range is in year Y (True) or Y + 1 (False). Weekdays in these ranges are school days.
HALF_TERMS = (
    ((9, 3), (10, 24), True),
    ((11, 3), (12, 19), True),
    ((1, 6), (2, 13), False),
    ((2, 23), (3, 27), False),
    ((4, 13), (5, 22), False),
    ((6, 1), (7, 21), False),
)

# Data drops of an academic year: name, (month, day), in year Y. Targets are set in late September.
DATA_DROPS = (
    ("Targets", (9, 26), True),
    ("Autumn 1", (10, 17), True),
    ("Autumn 2", (12, 10), True),
    ("Spring", (3, 13), False),
    ("Summer", (6, 26), False),
)


def school_days(first_year: int, last_year: int) -> list[dt.date]:
    """Every school day of the academic years starting in September of ``first_year`` .. ``last_year``."""
    days: list[dt.date] = []
    for year in range(first_year, last_year + 1):
        for (m1, d1), (m2, d2), autumn in HALF_TERMS:
            y = year if autumn else year + 1
            day, end = dt.date(y, m1, d1), dt.date(y, m2, d2)
            while day <= end:
                if day.weekday() < 5:
                    days.append(day)
                day += dt.timedelta(days=1)
    return days


def data_drops(first_year: int, last_year: int) -> list[tuple[str, dt.date]]:
    """(assessment point, date) of every data drop, e.g. ``("2025-26 Autumn 1", 2025-10-17)``."""
    drops = []
    for year in range(first_year, last_year + 1):
        for name, (m, d), autumn in DATA_DROPS:
            drops.append((f"{year}-{(year + 1) % 100:02d} {name}", dt.date(year if autumn else year + 1, m, d)))
    return drops


PRIMARY_GRADES = ("BLW", "PKS", "WTS", "EXS", "GDS")
"""Primary steps, worth 0..4 grades."""


def secondary_grade_text(value: float) -> str:
    """A fine GCSE grade to the nearest third: 4.67 -> ``5-``, 5.0 -> ``5``, 5.33 -> ``5+``; below 1 is ``U``.

    >>> [secondary_grade_text(v) for v in (4.7, 5.0, 5.3, 0.4, 9.6)]
    ['5-', '5', '5+', 'U', '9']
    """
    thirds = round(min(value, 9.0) * 3)
    if thirds < 2:
        return "U"
    whole, rest = divmod(thirds, 3)
    if rest == 0:
        return str(whole)
    return f"{whole}+" if rest == 1 else f"{whole + 1}-"


def secondary_grade_value(text: str) -> float:
    """The number a fine grade stands for (``5-`` is 4 2/3), as the project's outcome definition reads it."""
    if text == "U":
        return 0.0
    if text.endswith("+"):
        return int(text[0]) + 1 / 3
    if text.endswith("-"):
        return int(text[0]) - 1 / 3
    return float(text)


FORENAMES_F = (
    "Ava",
    "Maya",
    "Isla",
    "Zoë",
    "Amara",
    "Freya",
    "Nadia",
    "Ruby",
    "Leah",
    "Aisha",
    "Chloé",
    "Erin",
    "Hana",
    "Ivy",
    "Jade",
    "Lola",
    "Mia",
    "Nia",
    "Orla",
    "Priya",
    "Rosa",
    "Sofia",
    "Tia",
    "Zara",
)
FORENAMES_M = (
    "Aaron",
    "Bilal",
    "Caleb",
    "Dev",
    "Elliot",
    "Finn",
    "Gabriel",
    "Hamza",
    "Idris",
    "Jonah",
    "Kai",
    "Luca",
    "Mason",
    "Nathan",
    "Oscar",
    "Rhys",
    "Sami",
    "Theo",
    "Umar",
    "Victor",
    "Wes",
    "Yusuf",
)
SURNAMES = (
    "Adeyemi",
    "Barker",
    "Chowdhury",
    "Dawson",
    "Ellison",
    "Fraser",
    "Gill",
    "Hartley",
    "Iqbal",
    "Jennings",
    "Kowalski",
    "Lam",
    "Mensah",
    "Novak",
    "O'Brien",
    "Pearce",
    "Quinn",
    "Rahman",
    "Sutton",
    "Turner",
    "Uddin",
    "Vaughan",
    "Walsh",
    "Yates",
    "Zielinski",
    "Brennan",
    "Castro",
    "Doyle",
    "Ekwueme",
    "Foster",
)
ETHNICITIES = ("WBRI", "WBRI", "WBRI", "WBRI", "WOTH", "AIND", "APKN", "ABAN", "BAFR", "BCRB", "MWBC", "CHNE", "WIRI")
