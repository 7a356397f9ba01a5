"""Made-up UPNs for synthetic pupils, from the generator's own reading of the DfE's UPN rules.

Written apart from :mod:`pipeline.upn` (which ingest checks UPNs with) on purpose: if both were the same code, a
mistake in it would make the sample's UPNs pass the pipeline's check whatever the rule really is, and the realism
test that checks the sample's UPNs would prove nothing.

The DfE's rule: a UPN is a check letter followed by 12 characters (LA number, establishment number, year, serial).
Multiply the k-th character (k = 2 to 13) by k, a digit by its value and a letter in 13th place by its position in
the 23-letter alphabet below, add them up, and the check letter is that alphabet's letter at the remainder mod 23.
"""

from __future__ import annotations

LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # the alphabet of UPN letters: no I, O or S


def new_upn(la_code: int, establishment: int, year: int, serial: int | str) -> str:
    """A UPN for a pupil given a permanent (3-digit) or temporary (2 digits and a letter) serial number.

    >>> new_upn(801, 2000, 1, 1), new_upn(801, 2000, 1, "01A")
    ('H801200001001', 'G80120000101A')
    """
    tail = serial if isinstance(serial, str) else str(serial).zfill(3)
    body = str(la_code).zfill(3) + str(establishment).zfill(4) + str(year % 100).zfill(2) + tail
    weighted = sum(
        position * (LETTERS.index(char) if char.isalpha() else int(char))
        for position, char in zip(range(2, 14), body, strict=True)
    )
    return LETTERS[weighted % len(LETTERS)] + body
