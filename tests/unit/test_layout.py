"""The raw layer is written again in school order when nights have scattered its schools' lines."""

from __future__ import annotations

import duckdb

from pipeline.ingest.layout import LAYOUT, cluster_if_scattered
from pipeline.warehouse import connect

SCHOOLS = ("100001", "100002", "100003")
CONTENT = "select school_id, count(*), sum(hash(line_number, line_hash)) from raw_attendance group by all order by 1"


def _append(con: duckdb.DuckDBPyConnection, school: str | None, rows: int, offset: int) -> None:
    """``rows`` raw lines of ``school``, or of every school in turn (as a night appends them) when it is None."""
    which = f"'{school}'" if school else f"list_extract({list(SCHOOLS)}, (i % {len(SCHOOLS)})::int + 1)"
    con.execute(
        f"insert into raw_attendance (school_id, line_number, line_hash, clean) "
        f"select {which}, i, hash(i), true from range({offset}, {offset + rows}) as r(i)"
    )


def _mixed(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute(LAYOUT.format(table="raw_attendance")).fetchone()
    assert row is not None
    return int(row[0])


def test_nights_that_scatter_the_schools_lines_are_gathered_again_and_nothing_is_lost() -> None:
    con = connect(None)
    offset = 0
    for school in SCHOOLS:  # a first load: each school's lines together
        _append(con, school, 150_000, offset)
        offset += 150_000
    assert cluster_if_scattered(con, "raw_attendance") is None
    for _ in range(5):  # five nights, each a row group's worth of every school's lines
        _append(con, None, 130_000, offset)
        offset += 130_000
    assert _mixed(con) >= 5
    before = con.execute(CONTENT).fetchall()
    done = cluster_if_scattered(con, "raw_attendance")
    assert done is not None
    assert done.mixed_before >= 5
    assert done.mixed_after <= len(SCHOOLS) - 1  # only where one school's lines end and the next one's start
    assert _mixed(con) == done.mixed_after
    assert con.execute(CONTENT).fetchall() == before
    # Each school's lines are together: its rowids run without a gap.
    spans = con.execute("select max(rowid) - min(rowid) + 1 = count(*) from raw_attendance group by school_id")
    assert all(together for (together,) in spans.fetchall())
    assert cluster_if_scattered(con, "raw_attendance") is None  # and it is not done again


def test_a_few_scattered_row_groups_are_left_as_they_are() -> None:
    con = connect(None)
    for index, school in enumerate(SCHOOLS):
        _append(con, school, 150_000, index * 150_000)
    _append(con, None, 130_000, 450_000)
    assert _mixed(con) >= 1
    assert cluster_if_scattered(con, "raw_attendance") is None
