"""The SQL files of every stage: read in one way, the grade scale and whole numbers stated once."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pytest

from pipeline.codes import ABSENT, ATTENDED, POSSIBLE, Category
from pipeline.sql import render_sql, sql_file, sql_macro

PIPELINE = Path(__file__).resolve().parents[2] / "pipeline"
STAGE_FILES = sorted(p for p in PIPELINE.glob("*/sql/*.sql"))
GRADE_FILES = [p for p in STAGE_FILES if '{% from "grades.sql" import grade' in p.read_text(encoding="utf-8")]


@pytest.mark.parametrize("path", STAGE_FILES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_a_file_without_macros_reads_exactly_as_written(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    rendered = sql_file(f"pipeline.{path.parent.parent.name}", path.name)
    if "{%" in text or "{{" in text:
        assert "{%" not in rendered  # every macro expanded
        assert "{{" not in rendered
    else:
        assert rendered == text


def test_every_query_that_reads_grades_uses_the_one_scale() -> None:
    # The four queries that turn a result into a grade (features, caseload review, outcomes, impact) import it;
    # no SQL file spells the primary steps out again.
    assert {p.parent.parent.name for p in GRADE_FILES} == {"features", "caseload", "evaluate", "impact"}
    for path in STAGE_FILES:
        assert not re.search(r"'PKS'\)?\s+then", path.read_text(encoding="utf-8")), path


GRADES = [
    ("BLW", 0.0), ("U", 0.0), ("PKS", 1.0), ("WTS", 2.0), ("EXS", 3.0), ("GDS", 4.0),
    ("6", 6.0), ("6+", 6 + 1 / 3), ("5-", 5 - 1 / 3), ("4.5", 4.5), ("X", None), (None, None),
    ("exs", 3.0), ("Wts", 2.0), ("u", 0.0),  # a step in another case: it was no grade, and the gap "no data"
    # written as no MIS writes a number: DuckDB's cast would read each of these as one, Spark's not all of them
    ("+-0", None), ("+-1.5", None), ("1_000", None), ("1e3", None), ("nan", None), ("inf", None), ("-1", None),
    ("5.", None), ("0x10", None),
    # a number from 0 to 9 is a grade; one above is not (a percentage, "65", read as grade 65 was 59 above target)
    ("9", 9.0), ("0", 0.0), ("9.5", None), ("65", None), ("104", None),
]  # fmt: skip


def _read_by(file: str, macro: str, texts: Sequence[str | None]) -> dict[str | None, object]:
    """What ``file``'s ``macro`` makes of each of ``texts`` in DuckDB."""
    sql = render_sql(f'{{% from "{file}" import {macro} -%}}\nselect v, {{{{ {macro}("v") }}}} from t')
    con = duckdb.connect()
    con.execute("create table t (v varchar)")
    con.executemany("insert into t values (?)", [[v] for v in texts])
    return dict(con.execute(sql).fetchall())


def test_the_grade_scale() -> None:
    assert _read_by("grades.sql", "grade", [r for r, _ in GRADES]) == pytest.approx(dict(GRADES))


WHOLE_NUMBERS = [
    ("131", 131), ("0", 0), ("007", 7), ("-3", -3), ("+2", 2), ("12.0", 12), ("12.00", 12), (None, None), ("", None),
    # DuckDB's own cast reads these as 13 (rounded), 10, 1000, 16, 12 and 0; the others are no whole number either
    ("12.5", None), ("1_0", None), ("1e3", None), ("0x10", None), ("12.", None), (".0", None), ("+-0", None),
    ("nan", None), ("inf", None), ("9:06", None), ("99999999999", None),  # too large for an integer
]  # fmt: skip


def test_a_whole_number_is_read_only_when_written_as_one() -> None:
    assert _read_by("grades.sql", "whole_number", [r for r, _ in WHOLE_NUMBERS]) == dict(WHOLE_NUMBERS)


def test_code_built_sql_expands_the_same_macro() -> None:
    # ingest's checks build their SQL in Python: sql_macro gives them the file's macro, not a copy of it
    expanded = sql_macro("grades.sql", "whole_number")("t.r")
    assert expanded == render_sql('{% from "grades.sql" import whole_number -%}\n{{ whole_number("t.r") }}')
    assert "regexp_full_match(t.r, " in expanded


@pytest.mark.parametrize(("macro", "categories"), [("attended", ATTENDED), ("absent", ABSENT), ("possible", POSSIBLE)])
def test_the_attendance_macros_are_the_code_table_s(macro: str, categories: frozenset[Category]) -> None:
    # The SQL macros and pipeline/codes.py say the same thing: a session is possible when the pupil attended or
    # was absent (authorised or not); any other category (not possible, no mark) is neither.
    inside = _read_by("attendance.sql", macro, [c.value for c in Category] + ["no_mark"])
    assert {c for c, yes in inside.items() if yes} == {c.value for c in categories}
