"""The read step of a load: which lines of a file are checked tonight, and which cannot be read as a row.

Every line is read as text (:mod:`pipeline.ingest.lines`). A line identical to a clean line of the raw layer is
unchanged since an earlier delivery and not checked again; the others are split into fields, and those that
cannot be read as a row are put aside (``bad_lines``: each quarantined with its reason).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from pipeline.codes import WITHDRAWN_CODES
from pipeline.ingest.checks import parsed
from pipeline.ingest.lines import (
    FileRefusedError,
    LineCounts,
    columns,
    fields,
    line_problem,
    read_lines,
    scalar,
    sql_text,
    visible,
)
from pipeline.ingest.read import PreparedFile
from pipeline.warehouse import REUSABLE

WITHDRAWN_MARKS = sql_text("withdrawn_marks.sql")


@dataclass(frozen=True)
class _Lines:
    read: int
    """Data lines (not blank) of the file: its rows read."""
    blank: int
    """Blank lines (not data)."""
    rejected: int
    """Lines to check that could not be read as a row (in ``bad_lines``: quarantined)."""
    to_check: int
    """Readable lines to check tonight (in ``numbered``); the others are unchanged since they loaded before."""
    withdrawn: int
    """Lines with a withdrawn attendance code (mapped to its replacement)."""


def read_step(
    con: duckdb.DuckDBPyConnection,
    prepared: PreparedFile,
    rules: str,
    today: dt.date,
    recheck_all: bool,
) -> _Lines:
    """Read the file's lines (the view ``incoming``), and put the lines to check into the temp table ``numbered``
    and those of them that cannot be read as a row into ``bad_lines``.

    ``numbered`` has, for each line to check, its line number, its contract columns as text, its two hashes (of its
    text) and whether an identical line is in the file too. A line is left out of ``numbered`` (unchanged: already
    in the staged table with exactly the values it would get again) when the raw layer has a clean line of the
    school with both of its hashes (checked under the same rules, on or before ``today``, neither it nor its key
    repeated in its delivery), the line is not repeated in this file, and no line to check shares its key. Lines
    are compared on 128 bits of hash, so the raw layer's text is never read, and a line that pairs was read as a
    row when it was loaded (a line that could not be is never in the raw layer). Raises
    :class:`FileRefusedError` for a truncated file (see :func:`pipeline.ingest.lines.read_lines`, and a last line
    with too few fields).
    """
    export = prepared.export
    counts = read_lines(con, prepared)
    params = {"school": prepared.school_id, "rules": rules, "today": today, "recheck_all": recheck_all}
    previous = f"""
        select rowid as raw_rowid, line_hash, line_hash2, key_hash from raw_{export.table}
        where school_id = $school and {REUSABLE} and not $recheck_all
    """
    before = scalar(con, f"select count(*) from ({previous})", params)
    short = False
    if before == 0:  # a first load (or a forced one): every line is checked, and none needs pairing
        con.execute("create or replace temp table unmatched (position bigint, raw_rowid bigint)")
        among, fresh = "incoming", "true"
    else:
        # One pass pairs each line with the raw layer's clean line of the same hashes, keeping what is left over on
        # either side: new or changed lines, and clean raw rows not delivered tonight (a delta leaves most out).
        con.execute(
            f"""
            create or replace temp table unmatched as
            select i.position, p.raw_rowid
            from incoming as i
            full join ({previous}) as p on i.line_hash = p.line_hash and i.line_hash2 = p.line_hash2
            where i.position is null or p.raw_rowid is null
            """,
            params,
        )
        row = con.execute("select count(position), count(raw_rowid) from unmatched").fetchone()
        new, gone = (int(v) for v in row or (0, 0))
        # Clean raw lines are never repeated in their delivery, so each pairs with one line at most. When as many
        # raw lines found a partner as lines did, no two identical lines share one; else look for repeats in the
        # whole file.
        fresh = "position in (select position from unmatched where position is not null)"
        among = "incoming" if counts.data - new != before - gone else f"(select * from incoming where {fresh})"
        short = gone >= counts.data  # a delta, most likely
    # The lines to check: the new and changed ones, every copy of a line repeated in the file ...
    if before == 0:
        # ... which on a first load is every line. A line repeated in the file only matters for pairing it with the
        # raw layer later, and the raw layer marks it through its key (see record_raw_step): nothing to look for.
        con.execute(f"create or replace temp table numbered as {_to_check(prepared, 'incoming', 'false')}")
    else:
        repeated = "(line_hash, line_hash2) in (select * from twice)"
        con.execute(
            f"""
            create or replace temp table numbered as
            with twice as (select line_hash, line_hash2 from {among} group by all having count(*) > 1)
            {_to_check(prepared, f"incoming where {fresh} or {repeated}", repeated)}
            """
        )
    _put_aside_bad_lines(con, prepared, counts)
    if before > 0:
        # ... and the unchanged lines that share a key with one of them (so that a key on two lines is still caught).
        key_hash = f"hash({', '.join(parsed(export.column(k)) for k in export.key)})"
        con.execute(
            f"""
            create or replace temp table partners as
            select line_hash, line_hash2 from ({previous})
            where key_hash in (select {key_hash} from numbered)
                and (line_hash, line_hash2) not in (select line_hash, line_hash2 from numbered)
            """,
            params,
        )
        if scalar(con, "select count(*) from partners"):
            partner_lines = "incoming semi join partners using (line_hash, line_hash2)"
            con.execute(f"insert into numbered by name {_to_check(prepared, partner_lines, repeated='false')}")
    rejected = scalar(con, "select count(*) from bad_lines")
    to_check = scalar(con, "select count(*) from numbered")
    withdrawn = 0
    if export.table == "attendance":
        # A short file's marks are read from its lines; a long one's mostly from the raw lines they paired with.
        codes: dict[str, object] = {"withdrawn": sorted(WITHDRAWN_CODES)}
        if before == 0:  # every line is in numbered
            withdrawn = scalar(con, WITHDRAWN_CHECKED, codes)
        elif short:
            withdrawn = scalar(con, WITHDRAWN_IN_FILE.format(columns=columns(prepared), fields=fields(prepared)), codes)
        else:
            withdrawn = scalar(con, WITHDRAWN_MARKS, {**params, **codes})
    return _Lines(counts.data, counts.blank, rejected, to_check, withdrawn)


WITHDRAWN_CHECKED = "select count(*) from numbered where upper(trim(mark)) in $withdrawn"
"""The count of ``sql/withdrawn_marks.sql`` when every line of the file is checked (a first or forced load)."""
WITHDRAWN_IN_FILE = """
    select count(*) from (select {columns} from (select *, {fields} as fields from incoming))
    where upper(trim(mark)) in $withdrawn
"""
"""The count of ``sql/withdrawn_marks.sql`` from the file's own lines, for a file shorter than what the raw layer
holds of it (a delta)."""


def _to_check(prepared: PreparedFile, rows: str, repeated: str) -> str:
    """SQL for ``rows`` (of ``incoming``, with what follows ``from``) as ``numbered`` holds them: line number,
    contract columns as text, hashes, ``repeated``, and what is wrong with the whole line (NULL for a line read as
    a row)."""
    return f"""
        select position as line_number, {columns(prepared)}, line_hash, line_hash2, repeated,
            {line_problem(prepared)} as line_problem
        from (select *, {fields(prepared)} as fields, {repeated} as repeated from {rows}) as incoming
    """


def _put_aside_bad_lines(con: duckdb.DuckDBPyConnection, prepared: PreparedFile, counts: LineCounts) -> None:
    """Move the lines of ``numbered`` that cannot be read as a row to ``bad_lines`` (each quarantined with its
    reason). A last line with too few fields means the file was cut short: raise :class:`FileRefusedError`."""
    if not scalar(con, "select count(*) from numbered where line_problem is not null"):
        con.execute("create or replace temp table bad_lines (line_number bigint, value varchar, reason varchar)")
        return
    con.execute(
        f"""
        create or replace temp table bad_lines as
        select line_number, {visible("line")} as value, line_problem as reason,
            len({fields(prepared)}) as field_count
        from (select line_number, line_problem from numbered where line_problem is not null) as n
        join incoming as i on i.position = n.line_number
        """
    )
    row = con.execute(
        "select field_count from bad_lines where line_number = $last and field_count < $columns",
        {"last": counts.last, "columns": len(prepared.columns)},
    ).fetchone()
    if row is not None:
        footer = (
            " (one field, no delimiter: if the report adds a total or footer line, take it out of the report's layout)"
            if row[0] == 1
            else ""
        )
        raise FileRefusedError(
            f"{prepared.label} may be truncated: its last line (line {counts.last:,}) has {row[0]} of the header's "
            f"{len(prepared.columns)} fields{footer}: re-export it"
        )
    con.execute("delete from numbered where line_problem is not null")
