"""A school held back by the data-quality gate is told the value it failed with in words and units: a share as a
percentage of what it counts, and no sentinel (a school with no attendance mark at all read "(9999)")."""

from __future__ import annotations

from pipeline.validate.gate import NO_MARK_DAYS, checks

WORDED: list[tuple[str, object, str]] = [
    ("no file has more than", 0.0837708830548926, "8.4% of a file's rows"),
    ("roll size within", 0.6950, "tonight's roll is 69.5% of that night's"),
    ("every school's attendance marks", 21, "its latest mark 21 days before"),
    ("every school's attendance marks", NO_MARK_DAYS, "no mark on or before the night"),
    ("no school day in the last 20", 0, ""),  # always 0: the check's name says it
    ("99% of each school's KS2", 0.975, "97.5% are"),
    ("99% of each school's CAT4", 0.9, "90.0% are"),
    ("every file delivered was read", "failed", "failed"),
    ("every line of the files staff write", 1, "1 line set aside, listed in quarantine.csv"),
    (
        "working-at and target results are for",
        0,
        "none is, so every gap to target reads as no data; mentor check names the subjects",
    ),
    ("every line of the files staff write", 3, "3 lines set aside, listed in quarantine.csv"),
]
"""A check (by the start of its name), a value a school could fail it with, and how the school's reason shows it."""


def test_each_check_says_its_failing_value_in_words() -> None:
    for start, value, words in WORDED:
        check = next(c for c in checks() if c.name.startswith(start))
        assert check.shown(value) == words, (start, value)
