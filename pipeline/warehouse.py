"""The DuckDB warehouse: one file, its tables, and the only place their names and columns are written down.

Layers: ``raw_<file>`` keeps each export file's lines as read, each with its school, line number and the number of
its delivery in ``deliveries``, which holds the delivery's school, source file, sha256, load id, loaded-at and rules
once (the view ``raw_<file>_lineage`` shows each line with them). It holds the lines of the latest delivery, and the
clean lines of earlier deliveries whose key was not delivered since (a delta leaves them in place); a line unchanged
since an earlier delivery keeps that delivery's number. The staged tables (``pupils``, ``attendance``, ...) are
typed, keyed and accumulate across deliveries (a re-delivered key replaces the old value, absent rows are kept),
each row with the line and delivery it came from;
``quarantine`` holds every row not loaded and every value blanked, with a reason; ``loads`` records each file of
each load.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import duckdb
from duckdb.func import FunctionNullHandling

from pipeline.codes import ATTENDANCE_CODES
from pipeline.contract import EXPORT_FILES
from pipeline.keys import KEY_FILE_VARIABLE, KEY_VARIABLE, WarehouseKeyError, key_from_environment, open_encrypted
from pipeline.upn import upn_problem

DEFAULT_WAREHOUSE = Path("data") / "warehouse.duckdb"
MEMORY_LIMIT_VARIABLE = "MENTOR_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "1GB"
"""DuckDB's own memory (its buffer pool); beyond it, large joins and sorts spill to a temporary folder next to the
warehouse. The whole process then stays within about 2 GB at 50,000 pupils (``make bench``)."""

SCHOOL_DAYS_LOOKBACK = 200
"""Calendar days before a night in which the gate and the features look for its recent school days (the SQL's
``$lookback_days``): enough for the longest term and 60 school days across the summer break. Marks are stored in
date order, so the older row groups are not scanned."""

STAGED_TYPES: dict[str, dict[str, str]] = {
    "pupils": {
        "upn": "varchar", "mis_id": "varchar", "surname": "varchar", "forename": "varchar",
        "date_of_birth": "date", "sex": "varchar", "year_group": "varchar", "reg_group": "varchar",
        "admission_date": "date", "leaving_date": "date", "sen_provision": "varchar", "fsm_eligible": "boolean",
        "pupil_premium": "boolean", "eal": "boolean", "looked_after": "boolean", "ethnicity": "varchar",
    },
    "attendance": {
        "upn": "varchar", "date": "date", "session": "varchar", "mark": "varchar", "minutes_late": "integer",
    },
    "assessments": {
        "upn": "varchar", "subject": "varchar", "assessment_point": "varchar", "date": "date",
        "result_type": "varchar", "result": "varchar",
    },
    "behaviour": {
        "upn": "varchar", "incident_id": "varchar", "date": "date", "category": "varchar", "points": "integer",
        "action": "varchar",
    },
    "exclusions": {
        "upn": "varchar", "start_date": "date", "category": "varchar", "sessions": "integer", "reason": "varchar",
    },
    "interventions": {
        "upn": "varchar", "intervention": "varchar", "start_date": "date", "end_date": "date", "outcome": "varchar",
    },
    "decisions": {"upn": "varchar", "date": "date", "decision": "varchar", "review_date": "date"},
}  # fmt: skip
RAW_MATCH_COLUMNS = (
    ("line_hash", "ubigint"),  # hash of the line's text, column by column
    ("line_hash2", "ubigint"),  # a second, independent hash of it (of the columns joined by a separator)
    ("key_hash", "ubigint"),  # hash of the parsed key
    ("clean", "boolean"),  # loaded with no problem and no blanked value, and not repeated in its delivery
    ("checked_on", "date"),  # the "today" it was checked against (no date after it was allowed)
)
STAGED_COLUMNS = {table: list(types) for table, types in STAGED_TYPES.items()}
DELIVERY_COLUMNS = (
    ("school_id", "varchar"),
    ("file", "varchar"),  # the export file's name (source_file in the raw layer before deliveries)
    ("sha256", "varchar"),
    ("load_id", "varchar"),
    ("loaded_at", "timestamp"),
    ("rules", "varchar"),  # fingerprint of the parsing and checking rules its lines were checked under
)
"""Lineage of one delivered file, held once in ``deliveries`` and referenced by number from each of its raw lines
(DuckDB's commit compresses every column of every new line: five text columns the same on every line of a file cost
as much to write as the export's own)."""
NEXT_DELIVERY = "nextval('delivery_ids')"
CURRENT_RULES = "delivery in (select delivery from deliveries where rules = $rules)"
"""A raw line's condition (SQL, parameter ``$rules``): it was checked under these parsing and checking rules."""

_CATEGORY = (
    "case mark "
    + " ".join(
        f"when '{code.replace(chr(39), chr(39) * 2)}' then '{c.category.value}'" for code, c in ATTENDANCE_CODES.items()
    )
    + " else 'no_mark' end"
)


def _staged_table(table: str, name: str) -> str:
    """DDL of the staged table ``table`` (created as ``name``)."""
    columns = ", ".join(f"{column} {kind}" for column, kind in STAGED_TYPES[table].items())
    extra = f", category varchar generated always as ({_CATEGORY}) virtual" if table == "attendance" else ""
    return (
        f"create table if not exists {name} (school_id varchar, {columns}{extra}, line_number bigint, delivery integer)"
    )


def _ddl() -> list[str]:
    statements = []
    for export in EXPORT_FILES:
        table = export.table
        statements.append(_staged_table(table, table))
        raw_columns = ", ".join(f"{c.name} varchar" for c in export.columns)
        statements.append(
            f"create table if not exists raw_{table} (school_id varchar, delivery integer, line_number bigint, "
            f"{raw_columns})"
        )
        # What row-level incremental loading compares a new delivery's lines against (see ingest/load.py);
        # added to warehouses made before it, whose lines are then all checked once more.
        statements += [
            f"alter table raw_{table} add column if not exists {name} {kind}" for name, kind in RAW_MATCH_COLUMNS
        ]
    statements += [
        "create sequence if not exists delivery_ids",
        "create table if not exists deliveries (delivery integer, "
        + ", ".join(f"{name} {kind}" for name, kind in DELIVERY_COLUMNS)
        + ")",
        "create table if not exists quarantine (school_id varchar, file varchar, line_number bigint, "
        "column_name varchar, value varchar, reason varchar, load_id varchar, outcome varchar)",
        "create table if not exists loads (load_id varchar, school_id varchar, file varchar, sha256 varchar, "
        "status varchar, rows_read bigint, rows_loaded bigint, rows_quarantined bigint, values_blanked bigint, "
        "loaded_at timestamp, message varchar)",
        "create table if not exists roll_history (school_id varchar, load_id varchar, as_of date, roll bigint, "
        "recorded_at timestamp)",
        # What the last completed publication listed, for each school's "change since last run" column.
        "create table if not exists published (school_id varchar, listing varchar, upn varchar, rank integer)",
        # The score a pupil had on the first night a staff decision on them was read (pipeline/caseload/decisions.py).
        "create table if not exists decision_scores (school_id varchar, upn varchar, decision_date date, "
        "score integer, recorded_on date)",
    ]
    return statements


def _lineage_views() -> list[str]:
    lineage = ", ".join(f"d.{name}" for name, _ in DELIVERY_COLUMNS if name != "school_id")
    return [
        f"create view if not exists raw_{export.table}_lineage as "
        f"select r.*, {lineage} from raw_{export.table} as r left join deliveries as d using (delivery)"
        for export in EXPORT_FILES
    ]


OLD_LINEAGE = ("source_file", "file_sha256", "load_id", "loaded_at", "rules")
"""The raw layer's lineage columns before ``deliveries`` (on every line)."""
MIGRATE_DELIVERIES = """
insert into deliveries
select {next}, school_id, source_file, file_sha256, load_id, loaded_at, rules
from (select distinct school_id, source_file, file_sha256, load_id, loaded_at, rules from {table}
      order by loaded_at, school_id)
"""
MIGRATE_RAW = """
create table {table}__migrated as
select r.school_id, d.delivery, r.line_number, {columns}
from {table} as r join deliveries as d
    on r.school_id is not distinct from d.school_id and r.source_file is not distinct from d.file
    and r.file_sha256 is not distinct from d.sha256 and r.load_id is not distinct from d.load_id
    and r.loaded_at is not distinct from d.loaded_at and r.rules is not distinct from d.rules
order by r.rowid
"""


def migrate_raw_lineage(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Move the lineage of a raw layer written before ``deliveries`` (source file, sha256, load id, loaded-at and
    rules on every line) into ``deliveries``, each line keeping a reference to it; every line and value is kept, in
    the same order. One transaction; returns the raw tables migrated (none on a warehouse already migrated)."""
    old = [f"raw_{export.table}" for export in EXPORT_FILES if _has_column(con, f"raw_{export.table}", "source_file")]
    if not old:
        return []
    con.execute("begin transaction")
    try:
        for table in old:
            con.execute(f"alter table {table} add column if not exists rules varchar")
            kept = [
                str(name)
                for (name,) in con.execute(
                    "select column_name from duckdb_columns() where table_name = $table and not internal "
                    "and database_name = current_database() order by column_index",
                    {"table": table},
                ).fetchall()
                if name not in (*OLD_LINEAGE, "school_id", "line_number")
            ]
            con.execute(MIGRATE_DELIVERIES.format(next=NEXT_DELIVERY, table=table))
            con.execute(MIGRATE_RAW.format(table=table, columns=", ".join(f"r.{c}" for c in kept)))
            con.execute(REPLACE_TABLE.format(table=table))
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return old


MIGRATE_STAGED_DELIVERIES = """
insert into deliveries
select {next}, s.school_id, $file, l.sha256, s.load_id, l.loaded_at, null
from (select distinct school_id, load_id from {table}) as s
left join (select school_id, load_id, arg_max(sha256, loaded_at) as sha256, max(loaded_at) as loaded_at from loads
           where file = $file and status = 'loaded' group by all) as l
    on s.school_id is not distinct from l.school_id and s.load_id is not distinct from l.load_id
where not exists (select 1 from deliveries as d where d.file = $file and d.school_id is not distinct from s.school_id
                  and d.load_id is not distinct from s.load_id)
order by l.loaded_at, s.school_id
"""
MIGRATE_STAGED = """
insert into {table}__migrated (school_id, {columns}, line_number, delivery)
select s.school_id, {typed}, s.line_number, d.delivery
from {table} as s
left join (select school_id, load_id, max(delivery) as delivery from deliveries where file = $file group by all) as d
    on s.school_id is not distinct from d.school_id and s.load_id is not distinct from d.load_id
order by s.rowid
"""
REPLACE_TABLE = "drop table {table}; alter table {table}__migrated rename to {table};"


def migrate_staged_lineage(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Replace the load id on every row of a staged table written before ``deliveries`` by the number of its
    delivery (a delivery found in the raw layer's lineage, else one made from ``loads``, with no rules); one
    transaction; returns the staged tables migrated."""
    old = [export for export in EXPORT_FILES if _has_column(con, export.table, "load_id")]
    if not old:
        return []
    con.execute("begin transaction")
    try:
        for export in old:
            con.execute(MIGRATE_STAGED_DELIVERIES.format(next=NEXT_DELIVERY, table=export.table), {"file": export.name})
            con.execute(_staged_table(export.table, f"{export.table}__migrated"))
            columns = STAGED_COLUMNS[export.table]
            typed = ", ".join(f"s.{c}" for c in columns)
            con.execute(
                MIGRATE_STAGED.format(table=export.table, columns=", ".join(columns), typed=typed),
                {"file": export.name},
            )
            con.execute(REPLACE_TABLE.format(table=export.table))
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return [export.table for export in old]


def _has_column(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    row = con.execute(
        "select count(*) from duckdb_columns() where table_name = $table and column_name = $column and not internal "
        "and database_name = current_database()",
        {"table": table, "column": column},
    ).fetchone()
    return bool(row and row[0])


TABLE_EXISTS = "select count(*) from duckdb_tables() where table_name = $name and not temporary"


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether the warehouse has a (non-temporary) table of that name."""
    row = con.execute(TABLE_EXISTS, {"name": table}).fetchone()
    return bool(row and row[0])


def _upn_problem(upn: str | None) -> str | None:
    return None if upn is None else upn_problem(upn)


FROM_ENVIRONMENT = "from the environment"


NO_PROGRESS_BAR = "set enable_progress_bar = false"
"""DuckDB draws a progress bar on the terminal for a statement that runs for seconds (the raw layer written again in
school order takes 20 s at 50,000 pupils): noise in a nightly job's log. It is a setting of each connection."""


def connect(path: Path | None = None, key: str | None = FROM_ENVIRONMENT) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed, owner-only) the warehouse file and make sure every table exists.

    By default the key comes from ``MENTOR_DB_KEY`` or ``MENTOR_DB_KEY_FILE`` (see :mod:`pipeline.keys`); with a key
    the file is encrypted by DuckDB, with ``key=None`` it is not. Raises :class:`WarehouseKeyError` when the key is
    missing, wrong or unusable.
    """
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": os.environ.get(MEMORY_LIMIT_VARIABLE, DEFAULT_MEMORY_LIMIT)
    }
    if path is None:
        con = duckdb.connect(config=config)
    else:
        if key == FROM_ENVIRONMENT:
            key = key_from_environment()
        path.parent.mkdir(parents=True, exist_ok=True)
        config["temp_directory"] = str(path.with_name(path.name + ".tmp"))  # spills, when memory runs short
        old = os.umask(0o077)  # the warehouse, its write-ahead log and temporary files are created owner-only
        try:
            con = open_encrypted(path, key, config) if key is not None else _open_plain(path, config)
        finally:
            os.umask(old)
    _no_progress_bar(con)
    for statement in _ddl():
        con.execute(statement)
    migrate_raw_lineage(con)
    migrate_staged_lineage(con)
    for statement in _lineage_views():
        con.execute(statement)
    con.create_function("upn_problem", _upn_problem, ["VARCHAR"], "VARCHAR", null_handling=FunctionNullHandling.SPECIAL)
    return con


def worker_connection(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Another connection to ``con``'s warehouse, for a worker thread: a DuckDB connection serves one thread at a
    time, and each connection has its own transaction and temporary tables. Close it when the work is done."""
    row = con.execute("select current_database()").fetchone()
    worker = con.cursor()
    _no_progress_bar(worker)
    if row is not None:
        worker.execute(f"use {duckdb_identifier(str(row[0]))}")  # the encrypted warehouse is attached, not default
    return worker


def _no_progress_bar(con: duckdb.DuckDBPyConnection) -> None:
    # In Jupyter without ipywidgets DuckDB refuses the setting (and draws no bar there).
    with contextlib.suppress(duckdb.InvalidInputException):
        con.execute(NO_PROGRESS_BAR)


def duckdb_identifier(name: str) -> str:
    """``name`` quoted as a DuckDB identifier."""
    return '"' + name.replace('"', '""') + '"'


def _open_plain(path: Path, config: dict[str, str | bool | int | float | list[str]]) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path), config=config)
    except duckdb.Error as error:
        if "without a key" in str(error):
            raise WarehouseKeyError(
                f"the warehouse {path} is encrypted: set {KEY_VARIABLE} or {KEY_FILE_VARIABLE} to its key"
            ) from None
        raise
