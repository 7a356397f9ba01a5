"""A school held back by the data-quality gate is told the value it failed with in words and units: a share as a
percentage of what it counts, and no sentinel (a school with no attendance mark at all read "(9999)")."""

from __future__ import annotations

from pipeline.validate.gate import NO_MARK_DAYS, checks


def _shown(start: str) -> dict[object, str]:
    check = next(c for c in checks() if c.name.startswith(start))
    return {value: check.shown(value) for value in _VALUES[start]}


_VALUES: dict[str, list[object]] = {
    "no file has more than": [0.0837708830548926],
    "roll size within": [0.6950],
    "every school's attendance marks": [21, NO_MARK_DAYS],
    "no school day in the last 20": [0],
    "99% of each school's KS2": [0.975],
    "99% of each school's CAT4": [0.9],
    "every file delivered was read": ["failed"],
}


def test_each_blocking_check_says_its_failing_value_in_words() -> None:
    assert _shown("no file has more than") == {0.0837708830548926: "8.4% of a file's rows"}
    assert _shown("roll size within") == {0.6950: "tonight's roll is 69.5% of that night's"}
    assert _shown("every school's attendance marks") == {
        21: "its latest mark 21 days before",
        NO_MARK_DAYS: "no mark on or before the night",
    }
    assert _shown("no school day in the last 20") == {0: ""}  # always 0: the check's name says it
    assert _shown("99% of each school's KS2") == {0.975: "97.5% are"}
    assert _shown("99% of each school's CAT4") == {0.9: "90.0% are"}
    assert _shown("every file delivered was read") == {"failed": "failed"}
