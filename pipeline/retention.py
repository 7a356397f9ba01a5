"""Retention: remove from the warehouse every pupil who left before a date, and everything recorded about them.

Removes the pupils' rows from the staged tables (staff decisions too), the raw layer, the feature and score tables,
the scores kept at staff decisions, the record of what was published, and quarantined values that were their UPN
or a line naming it, in one transaction, and returns the count per table. :func:`rewrite` then copies the warehouse
into a new file: DuckDB reuses the pages the deleted rows were on but does not wipe them, so without it their bytes
stay in the file. It never reads or touches the export folder. A pupil still
present in a later delivery is loaded again: retention for the exports themselves is set in the MIS.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from pipeline.warehouse import STAGED_TYPES, duckdb_identifier, table_exists

LEAVERS = """
create or replace temp table purge_leavers as
select school_id, upn from pupils where leaving_date is not null and leaving_date < $before
"""
QUARANTINED_OF_LEAVERS = """
delete from quarantine as q using purge_leavers as l
where q.school_id = l.school_id and contains(upper(q.value), l.upn)
"""
"""Quarantined values naming a leaver: the UPN itself, or a whole line quarantined as it was (its text)."""
PUPIL_TABLES = (
    *STAGED_TYPES,
    *(f"raw_{table}" for table in STAGED_TYPES),
    "features",
    "scores",
    "published",
    "decision_scores",
)


def purge_leavers(con: duckdb.DuckDBPyConnection, before: dt.date, today: dt.date | None = None) -> dict[str, int]:
    """Delete every pupil who left before ``before``; return rows removed per table (and ``pupils`` first).

    ``before`` after ``today`` (default: the system's date) raises ValueError and removes nothing: a pupil whose
    leaving date is still ahead is on roll, and would have gone with the leavers."""
    today = today or dt.date.today()
    if before > today:
        raise ValueError(
            f"--before {before} is after today ({today}): a pupil whose leaving date is still ahead is on roll, and "
            "would be removed with the leavers; give a date on or before today"
        )
    removed: dict[str, int] = {}
    con.execute("begin transaction")
    try:
        con.execute(LEAVERS, {"before": before})
        for table in PUPIL_TABLES:
            if not table_exists(con, table):
                continue
            result = con.execute(
                f"delete from {table} as t using purge_leavers as l "  # table names are our constants
                "where t.school_id = l.school_id and t.upn = l.upn"
            ).fetchone()
            removed[table] = int(result[0]) if result else 0
        result = con.execute(QUARANTINED_OF_LEAVERS).fetchone()
        removed["quarantine"] = int(result[0]) if result else 0
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("checkpoint")  # write the deletions into the file, so the old pages are reused
    return removed


SCHOOL_TABLES = """
select table_name from information_schema.columns
where column_name = 'school_id' and table_schema = 'main' and table_catalog = current_database()
order by table_name
"""
"""Every table of the warehouse that holds a school's rows (staged, raw, features, scores, quarantine, loads, the
record of what was published, roll sizes...)."""


def purge_school(con: duckdb.DuckDBPyConnection, school_id: str) -> dict[str, int]:
    """Delete everything the warehouse holds about ``school_id`` (a school that has left the trust), in one
    transaction; return rows removed per table. A school the warehouse does not know raises ValueError and removes
    nothing. Afterwards the nightly run no longer expects the school, so it is not held back night after night."""
    known = con.execute("select count(*) from pupils where school_id = $s", {"s": school_id}).fetchone()
    published = (
        con.execute("select count(*) from published where school_id = $s", {"s": school_id}).fetchone()
        if table_exists(con, "published")
        else (0,)
    )
    if not (known and known[0]) and not (published and published[0]):
        raise ValueError(f"the warehouse holds no pupil or list of school {school_id}: nothing to remove")
    removed: dict[str, int] = {}
    con.execute("begin transaction")
    try:
        for (table,) in con.execute(SCHOOL_TABLES).fetchall():
            result = con.execute(
                f"delete from {duckdb_identifier(table)} where school_id = $s", {"s": school_id}
            ).fetchone()
            removed[table] = int(result[0]) if result else 0
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("checkpoint")
    return dict(sorted(removed.items(), key=lambda item: item[0] != "pupils"))


def rewrite(path: Path) -> None:
    """Copy the warehouse at ``path`` whole into a new file (under its own key, from the environment) and put it in
    place of the old one, so that no page of a deleted row is left in it. The caller holds the run lock and no
    connection to the file."""
    from pipeline.keys import key_from_environment, rekey

    key = key_from_environment()
    rekey(path, key, key)
