"""The DuckDB warehouse: one file, its tables, and the only place their names and columns are written down.

Layers: ``raw_<file>`` keeps each export file's lines as read, with their school, line number and delivery: the
lines of the latest delivery, and the clean lines of earlier deliveries whose key was not delivered since (a delta
leaves them in place); a line unchanged since an earlier delivery keeps that delivery. ``deliveries`` holds each
delivered file's lineage once (school, source file, sha256, load id, loaded-at, the rules its lines were checked
under and the day they were checked against), referenced from the raw layer by number: repeated as text on every
line it was a sixth of a first load's ingest (docs/performance.md, "Lineage by number"). The staged tables
(``pupils``, ``attendance``, ...) are typed, keyed and accumulate across deliveries (a re-delivered key replaces the
old value, absent rows are kept); ``quarantine`` holds every row not loaded and every value blanked, with a reason;
``loads`` records each file of each load.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from pathlib import Path

import duckdb
from duckdb.func import FunctionNullHandling

from pipeline.codes import ATTENDANCE_CODES
from pipeline.contract import EXPORT_FILES
from pipeline.keys import KEY_FILE_VARIABLE, KEY_VARIABLE, WarehouseKeyError, key_from_environment, open_encrypted
from pipeline.sql import render_sql
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
)
"""What row-level incremental loading compares a new delivery's lines against (see ingest/pairing.py)."""
DELIVERIES = (
    "create table if not exists deliveries (delivery ubigint, school_id varchar, source_file varchar, "
    "file_sha256 varchar, load_id varchar, loaded_at timestamp, "
    "rules varchar, "  # fingerprint of the parsing and checking rules its lines passed
    "checked_on date)"  # the "today" they were checked against (no date after it was allowed)
)


def delivery_number(school: str, file: str, load_id: str) -> str:
    """SQL for a delivered file's number from these three SQL expressions: one file of a school per load, so no
    two deliveries share it (64 bits of hash), and concurrent loads of several schools need no shared counter."""
    return f"hash({school}, {file}, {load_id})"


DELIVERY_NUMBER = delivery_number("$school", "$file", "$load_id")
"""A delivery's number from the parameters of its load."""
REUSABLE = render_sql('{% from "raw_layer.sql" import reusable %}{{ reusable() }}')
"""A raw line of ``$school`` that a new delivery's identical line can pair with: clean, checked under tonight's rules
(``$rules``) on or before ``$today``."""
STAGED_COLUMNS = {table: list(types) for table, types in STAGED_TYPES.items()}

_CATEGORY = (
    "case mark "
    + " ".join(
        f"when '{code.replace(chr(39), chr(39) * 2)}' then '{c.category.value}'" for code, c in ATTENDANCE_CODES.items()
    )
    + " else 'no_mark' end"
)


def _ddl() -> list[str]:
    statements = []
    for export in EXPORT_FILES:
        table = export.table
        columns = ", ".join(f"{name} {kind}" for name, kind in STAGED_TYPES[table].items())
        extra = f", category varchar generated always as ({_CATEGORY}) virtual" if table == "attendance" else ""
        statements.append(
            f"create table if not exists {table} "
            f"(school_id varchar, {columns}{extra}, load_id varchar, line_number bigint)"
        )
        raw_columns = ", ".join(f"{c.name} varchar" for c in export.columns)
        match = ", ".join(f"{name} {kind}" for name, kind in RAW_MATCH_COLUMNS)
        statements.append(
            f"create table if not exists raw_{table} (school_id varchar, delivery ubigint, line_number bigint, "
            f"{raw_columns}, {match})"
        )
    statements += [
        DELIVERIES,
        "create table if not exists quarantine (school_id varchar, file varchar, line_number bigint, "
        "column_name varchar, value varchar, reason varchar, load_id varchar, outcome varchar)",
        "create table if not exists loads (load_id varchar, school_id varchar, file varchar, sha256 varchar, "
        "status varchar, rows_read bigint, rows_loaded bigint, rows_quarantined bigint, values_blanked bigint, "
        "loaded_at timestamp, message varchar)",
        "create table if not exists roll_history (school_id varchar, load_id varchar, as_of date, roll bigint, "
        "recorded_at timestamp)",
        # What the last completed publications listed, for each school's "change since last run" column: the
        # latest night's, and the one before it (a night made again compares with that).
        "create table if not exists published (school_id varchar, listing varchar, upn varchar, rank integer, "
        "as_of date, place_for varchar)",
        "alter table published add column if not exists as_of date",  # a warehouse from before nights were kept
        "alter table published add column if not exists place_for varchar",  # (and before a row's place was)
        # Each pupil's score on each night the lists were made, and the card that scored it: the score on the list
        # staff decided on, and a rise since (pipeline/caseload/decisions.py).
        "create table if not exists night_scores (school_id varchar, upn varchar, as_of date, scorecard varchar, "
        "score integer)",
        # Before night_scores: the score a pupil had on the first night a staff decision on them was read, still
        # read for those decisions.
        "create table if not exists decision_scores (school_id varchar, upn varchar, decision_date date, "
        "score integer, recorded_on date)",
    ]
    return statements


OLD_LINEAGE = {
    "source_file": "varchar",
    "file_sha256": "varchar",
    "load_id": "varchar",
    "loaded_at": "timestamp",
    "rules": "varchar",
    "checked_on": "date",
}
"""The raw layer's per-line lineage before ``deliveries`` held it, with its types."""
OLD_NUMBER = delivery_number("school_id", "source_file", "load_id")
MOVE_LINEAGE = f"""
insert into deliveries
select {OLD_NUMBER}, school_id, source_file, any_value(file_sha256), load_id,
    max(loaded_at), any_value(rules), max(checked_on)
from {{table}}
group by school_id, source_file, load_id
"""
MOVED_RAW = f"""
create table {{table}}_moved as
select school_id, {OLD_NUMBER} as delivery, line_number, {{columns}}
from {{table}}
order by rowid
"""

OLD_LAYOUT = """
select table_name from duckdb_columns()
where column_name = 'source_file' and database_name = current_database() and schema_name = current_schema()
"""
"""The raw tables still in the old layout (their lineage on every line): one catalogue query on every open."""


def _move_lineage_to_deliveries(con: duckdb.DuckDBPyConnection) -> None:
    """Move a warehouse made before ``deliveries`` to it, in place and in one transaction: each delivered file's
    lineage into ``deliveries`` once, each raw line keeping its number (every line, its values and hashes kept).
    A warehouse from before row-level incremental loading has no hashes: its lines are all checked once more."""
    with_lineage = {name for (name,) in con.execute(OLD_LAYOUT).fetchall()}
    old = [export for export in EXPORT_FILES if f"raw_{export.table}" in with_lineage]
    if not old:
        return
    con.execute("begin transaction")
    try:
        for export in old:
            table = f"raw_{export.table}"
            for name, kind in (*RAW_MATCH_COLUMNS, *OLD_LINEAGE.items()):
                con.execute(f"alter table {table} add column if not exists {name} {kind}")
            con.execute(MOVE_LINEAGE.format(table=table))
            columns = ", ".join([*(c.name for c in export.columns), *(name for name, _ in RAW_MATCH_COLUMNS)])
            con.execute(MOVED_RAW.format(table=table, columns=columns))
            con.execute(f"drop table {table}")
            con.execute(f"alter table {table}_moved rename to {table}")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("checkpoint")


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


class WarehouseDamagedError(Exception):
    """The warehouse file exists but is not a DuckDB database: the message says what to do."""


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
    _move_lineage_to_deliveries(con)
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
        if "not a valid DuckDB database file" in str(error):
            raise WarehouseDamagedError(
                f"the warehouse {path} is not a DuckDB database (damaged, or another kind of file): restore it from "
                "its backup, or give a new --db path to build a warehouse again from the exports"
            ) from None
        raise


def published_night(table: str = "") -> str:
    """SQL: a ``published`` row's night (of ``table``, an alias, when given); a row recorded before nights were kept
    counts as earlier than any."""
    return f"coalesce({table + '.' if table else ''}as_of, date '1900-01-01')"


LATEST_MARK = "select max(date) from attendance where date <= $today"


def latest_mark(con: duckdb.DuckDBPyConnection, today: dt.date) -> dt.date | None:
    """The last day with an attendance mark on or before ``today``, of any school: the nightly run's night."""
    row = con.execute(LATEST_MARK, {"today": today}).fetchone()
    return row[0] if row and row[0] is not None else None


def warehouse_file(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The file of ``con``'s warehouse (the database in use, attached when encrypted), or None in memory."""
    row = con.execute("select path from duckdb_databases() where database_name = current_database()").fetchone()
    return Path(row[0]) if row and row[0] else None


KNOWN_SCHOOLS = "select distinct school_id from pupils union select distinct school_id from published"


def known_schools(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The schools the warehouse knows: every school with pupils loaded or a shortlist published (the nightly run
    expects each of them; ``mentor purge --school`` removes one)."""
    return {str(row[0]) for row in con.execute(KNOWN_SCHOOLS).fetchall()}
