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

from pipeline.warehouse import STAGED_TYPES, duckdb_identifier, known_schools, table_exists

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
    "night_scores",
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
    con.execute(LEAVERS, {"before": before})
    deletes = {
        table: f"delete from {table} as t using purge_leavers as l "  # table names are our constants
        "where t.school_id = l.school_id and t.upn = l.upn"
        for table in PUPIL_TABLES
        if table_exists(con, table)
    }
    return _delete_in_one_transaction(con, deletes | {"quarantine": QUARANTINED_OF_LEAVERS}, {})


TABLES_WITH_SCHOOL_ROWS = """
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
    if school_id not in known_schools(con):
        raise ValueError(f"the warehouse holds no pupil or list of school {school_id}: nothing to remove")
    deletes = {
        table: f"delete from {duckdb_identifier(table)} where school_id = $s"
        for (table,) in con.execute(TABLES_WITH_SCHOOL_ROWS).fetchall()
    }
    removed = _delete_in_one_transaction(con, deletes, {"s": school_id})
    return dict(sorted(removed.items(), key=lambda item: item[0] != "pupils"))


def _delete_in_one_transaction(
    con: duckdb.DuckDBPyConnection, deletes: dict[str, str], params: dict[str, object]
) -> dict[str, int]:
    """Run each table's delete in one transaction (all or none) and return the rows each removed; then write the
    deletions into the file (a checkpoint), so the old pages are reused."""
    removed: dict[str, int] = {}
    con.execute("begin transaction")
    try:
        for table, delete in deletes.items():
            result = con.execute(delete, params).fetchone()
            removed[table] = int(result[0]) if result else 0
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("checkpoint")
    return removed


def rewrite(path: Path) -> None:
    """Copy the warehouse at ``path`` whole into a new file (under its own key, from the environment) and put it in
    place of the old one, so that no page of a deleted row is left in it. The caller holds the run lock and no
    connection to the file."""
    from pipeline.keys import key_from_environment, rekey

    key = key_from_environment()
    rekey(path, key, key)
