"""Keep each school's raw lines together on disk, so that a school's queries read only its own row groups.

Every query of a school's load reads its raw lines with ``school_id = $school``, and DuckDB skips the row groups
whose range of ``school_id`` excludes the school. A first load writes each school's lines together. But each night
appends the lines checked that night, school after school, to the end of the table: one row group holds a night of
every school (at 50,000 pupils, about 100,000 lines, one row group a night), and every school's queries read all of
those. Measured on a copy of a 50,000-pupil warehouse, one school's scan of its raw lines took 4.7 ms as loaded,
15 ms after 50 such nights and 45-52 ms after 100-190 (a school year), and a night makes five such scans per school.
So when more of a raw table's row groups hold several schools than the boundaries between schools explain, by a
fifth of the row groups its rows need, it is written again in school order, in one transaction. At 50,000 pupils
that is about once every 38 nights, and it costs about 20 s (39 s for the 42.5 million rows of the measurement
above).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import duckdb

log = logging.getLogger(__name__)

ROW_GROUP_ROWS = 122_880
"""Rows in a DuckDB row group (its default, which the warehouse keeps)."""
SLACK = 0.20
"""Extra row groups allowed, as a share of those the rows need, before a raw table is written again."""

LAYOUT = """
with segments as (
    -- DuckDB's statistics of each stored segment of school_id, e.g. '[Min: 101770, Max: 148664, Has Unicode: ...]'.
    select row_group_id,
        regexp_extract(stats, '^\\[Min: ([^,\\]]*)', 1) as low,
        regexp_extract(stats, ', Max: ([^,\\]]*)', 1) as high
    from pragma_storage_info('{table}')
    where column_name = 'school_id' and stats like '[Min: %'
),
row_groups as (
    select row_group_id, min(low) as low, max(high) as high from segments group by row_group_id
)
select (select count(*) from row_groups where low <> high),
    (select count(distinct school_id) from {table}),
    (select count(*) from {table})
"""
CLUSTER = """
create table {table}__clustered as select * from {table} order by school_id;
drop table {table};
alter table {table}__clustered rename to {table};
"""


@dataclass(frozen=True)
class Clustered:
    """A raw table written again in school order."""

    table: str
    mixed_before: int
    mixed_after: int
    seconds: float

    def note(self) -> str:
        return (
            f"{self.table}: written again in school order (row groups holding several schools: "
            f"{self.mixed_before} -> {self.mixed_after}) in {self.seconds:.1f} s"
        )


def needs_clustering(mixed: int, schools: int, rows: int, slack: float = SLACK) -> bool:
    """Whether a table whose ``rows`` of ``schools`` schools lie in ``mixed`` row groups that hold more than one
    school has more of those than the boundaries between schools explain, by more than ``slack`` of the row groups
    the rows need (and at least one).

    >>> needs_clustering(mixed=49, schools=50, rows=23_000_000)  # as the rewrite leaves it at 50,000 pupils
    False
    >>> needs_clustering(mixed=49 + 38, schools=50, rows=23_000_000)  # after about 38 nights
    True
    """
    packed = math.ceil(rows / ROW_GROUP_ROWS)
    return mixed > max(schools - 1, 0) + max(1, math.floor(slack * packed))


def cluster_if_scattered(con: duckdb.DuckDBPyConnection, table: str, slack: float = SLACK) -> Clustered | None:
    """Write ``table`` (a raw layer table; its name comes from the warehouse's list, never from data) again in school
    order if :func:`needs_clustering` says so; say what was done. Rowids change, so no load may be under way."""
    row = con.execute(LAYOUT.format(table=table)).fetchone()
    mixed, schools, rows = (int(v or 0) for v in row or (0, 0, 0))
    if not needs_clustering(mixed, schools, rows, slack):
        return None
    started = time.perf_counter()
    con.execute("begin transaction")
    try:
        con.execute(CLUSTER.format(table=table))
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    after = con.execute(LAYOUT.format(table=table)).fetchone()
    done = Clustered(table, mixed, int(after[0]) if after else 0, time.perf_counter() - started)
    log.info("%s", done.note())
    return done
