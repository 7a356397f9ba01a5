"""The SQL that splits a line into fields reads what Python's csv module writes, for any text in any field."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.contract import FILES_BY_NAME
from pipeline.ingest.lines import fields, line_problem
from pipeline.ingest.read import PreparedFile

FIELD = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\n\x00"), max_size=12)


def _prepared(delimiter: str, width: int) -> PreparedFile:
    return PreparedFile(
        school_id="100001",
        export=FILES_BY_NAME["attendance.csv"],
        path=Path("attendance.csv"),
        sha256="",
        encoding="utf-8",
        delimiter=delimiter,
        columns=[f"ignored_{n}" for n in range(width)],
        unknown_columns=[],
        readable_path=Path("attendance.csv"),
    )


@settings(max_examples=150, deadline=None)
@given(st.sampled_from([",", ";", "\t"]), st.lists(FIELD, min_size=1, max_size=6), st.booleans())
def test_a_written_line_is_read_back_field_by_field(delimiter: str, values: list[str], quote_all: bool) -> None:
    buffer = io.StringIO()
    quoting = csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL
    csv.writer(buffer, delimiter=delimiter, quoting=quoting, lineterminator="").writerow(values)
    line = buffer.getvalue()
    prepared = _prepared(delimiter, len(values))
    row = duckdb.execute(
        f"select fields, {line_problem(prepared)} from (select {fields(prepared)} as fields, line "
        "from (select $line as line))",
        {"line": line},
    ).fetchone()
    assert row is not None
    if len(values) == 1 and values[0] == "" and not quote_all:
        assert row == ([""], None)  # (an empty line: the load skips it as blank)
        return
    assert row == (values, None)


@given(st.lists(FIELD.filter(lambda v: '"' not in v), min_size=2, max_size=5), st.integers(0, 100))
@settings(max_examples=60, deadline=None)
def test_a_stray_quote_is_found(values: list[str], where: int) -> None:
    line = ",".join(v.replace(",", "") for v in values)
    at = where % (len(line) + 1)
    damaged = line[:at] + '"' + line[at:]
    prepared = _prepared(",", len(values))
    row = duckdb.execute(
        f"select {line_problem(prepared)} from (select {fields(prepared)} as fields, line from (select $line as line))",
        {"line": damaged},
    ).fetchone()
    assert row is not None
    assert row[0] is not None  # one quote can never be a well-formed line
