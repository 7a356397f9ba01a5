"""Unique Pupil Number (UPN) check letter, as defined by the DfE.

A UPN is 13 characters: a check letter, the 3-digit LA code, the 4-digit establishment number, the 2-digit
year of allocation and a 3-character serial. A permanent UPN's serial is 3 digits; a temporary UPN's serial
is 2 digits and a letter.
"""

from __future__ import annotations

import re
import unicodedata

CHECK_ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ"
"""Letters used for check letters and temporary-UPN suffixes (no I, O or S)."""

HIDDEN_CATEGORIES = ("Cf", "Cc", "Zs")
"""Unicode categories of the characters a UPN cannot hold and a reader cannot see: format characters (a zero-width
space), controls and spaces of any width."""

_UPN_SHAPE = re.compile(rf"^[{CHECK_ALPHABET}]\d{{11}}[0-9{CHECK_ALPHABET}]$")


def check_letter(body: str) -> str:
    """Return the check letter for the 12 characters that follow it.

    Character k (k = 2..13 in the full UPN) is weighted by k; digits count by value, a final letter by its
    index in :data:`CHECK_ALPHABET`.

    >>> check_letter("801200001001")
    'H'
    >>> check_letter("80120000101A")
    'G'
    """
    if len(body) != 12:
        raise ValueError(f"a UPN body has 12 characters, got {len(body)}")
    total = 0
    for weight, char in enumerate(body, start=2):
        if char.isdigit():
            total += int(char) * weight
        elif weight == 13 and char in CHECK_ALPHABET:
            total += CHECK_ALPHABET.index(char) * weight
        else:
            raise ValueError(f"character {weight} of a UPN cannot be {char!r}")
    return CHECK_ALPHABET[total % 23]


def upn_problem(upn: str) -> str | None:
    """Say in plain words what is wrong with a UPN, or return None when it is valid.

    >>> upn_problem("H801200001001") is None
    True
    >>> upn_problem("Z801200001001")
    'UPN check letter should be H, not Z'
    >>> upn_problem("H8012000\u200b01001").startswith("UPN holds a hidden character")
    True
    """
    if any(unicodedata.category(character) in HIDDEN_CATEGORIES and character != " " for character in upn):
        return (
            "UPN holds a hidden character (a zero-width space or the like, which a copy from a web page or a "
            "document brings): retype it"
        )
    if len(upn) != 13:
        return f"UPN should have 13 characters, has {len(upn)}"
    if not _UPN_SHAPE.match(upn):
        return "UPN should be a letter, 11 digits, then a digit or letter (no I, O or S)"
    expected = check_letter(upn[1:])
    if upn[0] != expected:
        return f"UPN check letter should be {expected}, not {upn[0]}"
    return None


def make_upn(la_code: int, establishment: int, year: int, serial: int | str) -> str:
    """Build a valid UPN; ``serial`` is a number (permanent) or 2 digits and a letter (temporary).

    >>> make_upn(801, 2000, 1, 1)
    'H801200001001'
    >>> make_upn(801, 2000, 1, "01A")
    'G80120000101A'
    """
    serial_text = f"{serial:03d}" if isinstance(serial, int) else serial
    body = f"{la_code:03d}{establishment:04d}{year % 100:02d}{serial_text}"
    return check_letter(body) + body
