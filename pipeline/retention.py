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

from pipeline.warehouse import STAGED_TYPES, table_exists

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


def rewrite(path: Path) -> None:
    """Copy the warehouse at ``path`` whole into a new file (under its own key, from the environment) and put it in
    place of the old one, so that no page of a deleted row is left in it. The caller holds the run lock and no
    connection to the file."""
    from pipeline.keys import key_from_environment, rekey

    key = key_from_environment()
    rekey(path, key, key)
