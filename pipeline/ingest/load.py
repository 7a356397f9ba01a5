"""Load one prepared file into the warehouse: read, number lines, check, quarantine, de-duplicate, upsert.

Everything happens in DuckDB; rows never pass through pandas. Every data line of the file ends up either in the
staged table or in the quarantine table, and the counts are checked to add up before the load is committed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb

from pipeline.ingest.checks import Problem, parsed, problems
from pipeline.ingest.read import PreparedFile
from pipeline.warehouse import STAGED_COLUMNS

REJECT_REASONS = {
    "TOO MANY COLUMNS": "line has more fields than the header (a stray delimiter or an unquoted comma?)",
    "MISSING COLUMNS": "line has fewer fields than the header (the file may be truncated)",
    "UNQUOTED VALUE": "line has a quote in the wrong place",
    "INVALID UNICODE": "line has text that is not valid UTF-8",
}


@dataclass
class FileLoad:
    """What happened to one file."""

    school_id: str
    file: str
    sha256: str
    status: str  # loaded, unchanged, failed
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    values_blanked: int = 0
    duplicates_dropped: int = 0
    withdrawn_codes_mapped: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def reconciles(self) -> bool:
        return self.rows_read == self.rows_loaded + self.rows_quarantined


def load_file(
    con: duckdb.DuckDBPyConnection, prepared: PreparedFile, load_id: str, today: dt.date, loaded_at: dt.datetime
) -> FileLoad:
    """Load ``prepared`` inside the caller's transaction; return its counts. Raises if the counts do not add up."""
    export = prepared.export
    result = FileLoad(prepared.school_id, export.name, prepared.sha256, "loaded", notes=list(prepared.notes))
    columns = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in prepared.columns) + "}"
    con.execute("drop table if exists reject_errors; drop table if exists reject_scans")
    con.execute(
        "create or replace temp table incoming as select * from read_csv($path, header = true, all_varchar = true, "
        f"auto_detect = false, delim = $delim, quote = '\"', escape = '\"', columns = {columns}, "
        "store_rejects = true, strict_mode = true)",
        {"path": str(prepared.readable_path), "delim": prepared.delimiter},
    )
    accepted = _scalar(con, "select count(*) from incoming")
    rejected = _scalar(con, "select count(distinct line) from reject_errors")
    result.rows_read = accepted + rejected

    # File line of each accepted row: data lines start at 2 and skip the lines DuckDB rejected. Rows keep the
    # file's order in the table; inside a transaction their rowids start at a large offset, hence the subtraction.
    con.execute(
        """
        create or replace temp table numbered as
        with lines as (
            select line, row_number() over (order by line) - 1 as position
            from range(2, $total + 2) as r(line)
            where line not in (select line from reject_errors)
        )
        select l.line as line_number, i.*
        from (select rowid - (select min(rowid) from incoming) as position, * from incoming) as i
        join lines as l using (position)
        """,
        {"total": result.rows_read},
    )
    present = {c for c in prepared.columns if not c.startswith("ignored_")}
    found = problems(export, present)
    hard = [p for p in found if p.quarantine]
    soft = [p for p in found if not p.quarantine]
    roll = "true" if export.table == "pupils" else "upper(nullif(trim(upn), '')) in (select upn from pupils_in_scope)"
    con.execute(
        "create or replace temp table pupils_in_scope as "
        "select upn from pupils where school_id = $school union select upn from incoming_pupils",
        {"school": prepared.school_id},
    )
    typed = ", ".join(
        f"({parsed(export.column(c.name))}) as {c.name}" if c.name in present else f"null as {c.name}"
        for c in export.columns
    )
    first_column = _first(hard, lambda p: f"'{p.column}'")
    first_value = _first(hard, lambda p: f"coalesce(trim({p.column}), '')")
    first_reason = _first(hard, lambda p: p.reason)
    warnings = "[" + ", ".join(f"case when {p.condition} then '{p.column}: ' || {p.reason} end" for p in soft) + "]"
    today_used = any("$today" in p.condition for p in found)
    con.execute(
        f"""
        create or replace temp table checked as
        select
            line_number,
            {typed},
            {first_column} as problem_column,
            {first_value} as problem_value,
            {first_reason} as problem_reason,
            list_filter({warnings}::varchar[], lambda w: w is not null) as warnings
        from (select *, {roll} as on_roll from numbered)
        """,
        {"today": today} if today_used else {},
    )

    key = ", ".join(export.key)
    values = ", ".join(c.name for c in export.columns)
    # A key delivered twice with different values cannot be resolved: quarantine every copy.
    con.execute(
        f"""
        create or replace temp table conflicting as
        select {key}, string_agg(line_number::varchar, ', ' order by line_number) as lines
        from checked
        where problem_reason is null
        group by {key}
        having count(distinct struct_pack({values})) > 1
        """
    )
    key_match = " and ".join(f"c.{k} is not distinct from k.{k}" for k in export.key)
    con.execute(
        f"""
        update checked as c
        set problem_column = '{export.key[-1]}',
            problem_value = '',
            problem_reason = 'the same {" + ".join(export.key)} is on lines ' || k.lines || ' with different values'
        from conflicting as k
        where c.problem_reason is null and {key_match}
        """
    )
    con.execute(
        """
        insert into quarantine
        select $school, $file, line_number, problem_column, problem_value, problem_reason, $load_id, 'row quarantined'
        from checked where problem_reason is not null
        union all
        select $school, $file, line_number, null, null,
            case error_type when 'TOO MANY COLUMNS' then $too_many when 'MISSING COLUMNS' then $missing
                else 'line could not be read: ' || error_message end,
            $load_id, 'row quarantined'
        from (select line, arg_min(error_type, column_idx) as error_type, arg_min(error_message, column_idx)
                as error_message from reject_errors group by line) as r(line_number, error_type, error_message)
        union all
        select $school, $file, line_number, split_part(w, ':', 1), null, trim(substr(w, strpos(w, ':') + 1)),
            $load_id, 'value blanked'
        from (select line_number, unnest(warnings) as w from checked where problem_reason is null)
        """,
        {
            "school": prepared.school_id,
            "file": export.name,
            "load_id": load_id,
            "too_many": REJECT_REASONS["TOO MANY COLUMNS"],
            "missing": REJECT_REASONS["MISSING COLUMNS"],
        },
    )
    result.rows_quarantined = _scalar(
        con,
        "select count(*) from quarantine where load_id = $load_id and file = $file and school_id = $school "
        "and outcome = 'row quarantined'",
        {"load_id": load_id, "file": export.name, "school": prepared.school_id},
    )
    result.values_blanked = _scalar(
        con,
        "select count(*) from quarantine where load_id = $load_id and file = $file and school_id = $school "
        "and outcome = 'value blanked'",
        {"load_id": load_id, "file": export.name, "school": prepared.school_id},
    )
    if export.table == "attendance" and "mark" in present:
        result.withdrawn_codes_mapped = _scalar(
            con, "select count(*) from numbered where upper(trim(mark)) in ('H', 'J', 'Y')"
        )

    # Identical repeats of a row are loaded once; the copies count as loaded (nothing was lost).
    con.execute(
        f"""
        create or replace temp table clean as
        select * exclude (problem_column, problem_value, problem_reason, warnings)
        from checked where problem_reason is null
        qualify row_number() over (partition by {key} order by line_number) = 1
        """
    )
    good = _scalar(con, "select count(*) from checked where problem_reason is null")
    kept = _scalar(con, "select count(*) from clean")
    result.duplicates_dropped = good - kept
    result.rows_loaded = good
    _upsert(con, export.table, export.key, prepared.school_id, load_id)
    if export.table == "pupils":
        con.execute("create or replace temp table incoming_pupils as select upn from clean")
    _record_raw(con, prepared, load_id, loaded_at)
    if not result.reconciles:
        raise AssertionError(
            f"{prepared.label}: {result.rows_read} rows read but {result.rows_loaded} loaded "
            f"+ {result.rows_quarantined} quarantined"
        )
    return result


def _first(found: list[Problem], part: Callable[[Problem], str]) -> str:
    """A CASE expression giving ``part`` of the first problem whose condition holds (NULL if none)."""
    if not found:
        return "null"
    return "case " + " ".join(f"when {p.condition} then {part(p)}" for p in found) + " end"


def _upsert(con: duckdb.DuckDBPyConnection, table: str, key: tuple[str, ...], school_id: str, load_id: str) -> None:
    """Replace rows with the same key (amended marks), add new ones, never delete what a snapshot left out."""
    columns = STAGED_COLUMNS[table]
    match = " and ".join(f"s.{k} is not distinct from c.{k}" for k in key)
    con.execute(
        f"delete from {table} as s where s.school_id = $school and exists (select 1 from clean as c where {match})",
        {"school": school_id},
    )
    con.execute(
        f"insert into {table} ({', '.join(columns)}, school_id, load_id, line_number) "
        f"select {', '.join(columns)}, $school, $load_id, line_number from clean",
        {"school": school_id, "load_id": load_id},
    )


def _record_raw(con: duckdb.DuckDBPyConnection, prepared: PreparedFile, load_id: str, loaded_at: dt.datetime) -> None:
    """Keep the latest delivery of each file as read, with its lineage."""
    table = f"raw_{prepared.export.table}"
    con.execute(f"delete from {table} where school_id = $school", {"school": prepared.school_id})
    known = [c.name for c in prepared.export.columns]
    select = ", ".join(c if c in prepared.columns else f"null as {c}" for c in known)
    con.execute(
        f"insert into {table} select $school, $file, $sha, line_number, $load_id, $loaded_at, {select} from numbered",
        {
            "school": prepared.school_id,
            "file": prepared.export.name,
            "sha": prepared.sha256,
            "load_id": load_id,
            "loaded_at": loaded_at,
        },
    )


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object] | None = None) -> int:
    row = con.execute(sql, params or {}).fetchone()
    return int(row[0]) if row and row[0] is not None else 0
