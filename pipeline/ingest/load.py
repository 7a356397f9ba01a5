"""Load one prepared file into the warehouse, in steps a reader can follow (and test) one at a time:

1. read (:func:`read_step`): every line as text, numbered and counted (:mod:`pipeline.ingest.lines`); lines
   unchanged since an earlier delivery paired with the raw layer; the rest split into fields, and whole lines that
   cannot be read put aside (``bad_lines``);
2. check (:func:`check_step`): each row's values against the contract's rules (``checked``);
3. de-duplicate (:func:`dedupe_step`): identical repeats loaded once, a key on lines with different values
   quarantined (``clean``);
4. quarantine (:func:`quarantine_step`), upsert (:func:`upsert_step`) and record raw (:func:`record_raw_step`);
5. reconcile: the lines read must equal the lines loaded plus the lines the quarantine table holds, or the file
   fails (:class:`FileRefusedError`) and its transaction is rolled back.

Everything happens in DuckDB; rows never pass through pandas. The SQL that does not depend on the contract's
columns is in ``pipeline/ingest/sql``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb

from pipeline.codes import WITHDRAWN_CODES
from pipeline.contract import ExportFile
from pipeline.ingest.checks import Problem, parsed, problems
from pipeline.ingest.lines import FileRefusedError, LineCounts, _sql, columns, fields, line_problem, read_lines, visible
from pipeline.ingest.read import PreparedFile
from pipeline.warehouse import STAGED_COLUMNS

QUARANTINE_ROWS = _sql("quarantine_rows.sql")
QUARANTINED_LINES = _sql("reconcile.sql")
WITHDRAWN_MARKS = _sql("withdrawn_marks.sql")
INSERT_ORDER = dict.fromkeys(("pupils", "assessments", "behaviour", "exclusions", "interventions"), "line_number")
INSERT_ORDER["attendance"] = "date, upn, session"
"""Marks are stored in date order, so that queries on recent weeks or this year skip the older row groups."""
RULES_VERSION = "3"
"""Bump when parsing or checking changes in a way the generated SQL does not show; every line is then re-checked."""


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
    rows_unchanged: int = 0
    """Lines identical to clean lines loaded before (kept in the raw layer): counted as loaded, not checked again."""
    withdrawn_codes_mapped: int = 0
    roll_not_listed: int = 0
    """For pupils.csv: pupils on roll in the warehouse (no leaving date) that the file does not list (kept)."""
    blank_lines: int = 0
    """Empty lines (not data: neither read nor loaded, and reported in a note)."""
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def reconciles(self) -> bool:
        return self.rows_read == self.rows_loaded + self.rows_quarantined


def load_file(
    con: duckdb.DuckDBPyConnection,
    prepared: PreparedFile,
    load_id: str,
    today: dt.date,
    loaded_at: dt.datetime,
    recheck_all: bool = False,
) -> FileLoad:
    """Load ``prepared`` inside the caller's transaction; return its counts. Raises :class:`FileRefusedError` when
    the file cannot be loaded (truncated, changed while read) or its counts do not add up.

    Row-level incremental: a line identical to a clean line of the raw layer (loaded cleanly from an earlier delivery of
    this file: same text, checked under the same rules, on or before ``today``, with neither the line nor its key
    repeated in that delivery, and no line with its key checked since; and the line not repeated in this one) is
    already in the staged table with exactly the values it would get again, so it is counted as loaded and not
    checked again. Every other line (new, changed, or quarantined, blanked or repeated before) is checked, together
    with every unchanged line that shares its key (so that a key delivered twice with different values is still
    caught). The result is the same as checking the whole file (tested). ``recheck_all`` checks every line.
    """
    export = prepared.export
    result = FileLoad(prepared.school_id, export.name, prepared.sha256, "loaded", notes=list(prepared.notes))
    present = _present(prepared)
    rules = rules_fingerprint(export, present)
    lines = read_step(con, prepared, rules, today, recheck_all)
    result.rows_read = lines.read
    result.blank_lines = lines.blank
    result.rows_unchanged = lines.read - lines.rejected - lines.to_check
    result.withdrawn_codes_mapped = lines.withdrawn
    if lines.blank:
        result.notes.append(f"{lines.blank:,} blank line(s) skipped")
    if lines.read == 0:
        result.notes.append("no data lines: the file has a header only, so nothing was loaded from it")

    check_step(con, prepared, present, today)
    good = dedupe_step(con, export)
    blanked = quarantine_step(con, prepared, load_id)
    result.values_blanked = blanked
    kept = _scalar(con, "select count(*) from clean")
    result.duplicates_dropped = good - kept
    result.rows_loaded = result.rows_unchanged + good
    result.rows_quarantined = _scalar(
        con, QUARANTINED_LINES, {"school": prepared.school_id, "file": export.name, "load_id": load_id}
    )
    if export.table == "pupils":
        result.roll_not_listed, on_roll = roll_step(con, prepared)
        if result.roll_not_listed:
            result.notes.append(
                f"{result.roll_not_listed:,} of the {on_roll:,} pupils on roll in the warehouse are not in this "
                "pupils.csv: they are kept on roll (a delta may leave pupils out); if they left, deliver them with "
                "their leaving date"
            )
    upsert_step(con, export.table, export.key, prepared.school_id, load_id)
    if export.table == "pupils":
        con.execute("create or replace temp table incoming_pupils as select upn from pupils where school_id = $school",
                    {"school": prepared.school_id})  # fmt: skip
    record_raw_step(con, prepared, load_id, loaded_at, rules, today)
    if not result.reconciles:
        raise FileRefusedError(
            f"{prepared.label} was not loaded: {result.rows_read:,} lines read but {result.rows_loaded:,} loaded "
            f"+ {result.rows_quarantined:,} quarantined (a fault of the pipeline: please report it)"
        )
    return result


def check_step(con: duckdb.DuckDBPyConnection, prepared: PreparedFile, present: set[str], today: dt.date) -> None:
    """Check each row of ``numbered`` against the contract's rules into the temp table ``checked``: the typed
    columns, the first problem that quarantines the row (column, value and reason) and the values to blank."""
    export = prepared.export
    hard_and_soft = problems(export, present, typed=lambda name: f'"__typed_{name}"')
    hard = [p for p in hard_and_soft if p.quarantine]
    soft = [p for p in hard_and_soft if not p.quarantine]
    roll = "true" if export.table == "pupils" else "upper(nullif(trim(upn), '')) in (select upn from pupils_in_scope)"
    con.execute(
        "create or replace temp table pupils_in_scope as "
        "select upn from pupils where school_id = $school union select upn from incoming_pupils",
        {"school": prepared.school_id},
    )
    typed_inner = ", ".join(f'({parsed(export.column(c))}) as "__typed_{c}"' for c in sorted(present))
    # A value with a problem that blanks it (a descriptive pupil field) is loaded as NULL.
    blanking = {c: " or ".join(f"({p.condition})" for p in soft if p.column == c) for c in {p.column for p in soft}}
    typed = ", ".join(
        (f'case when {blanking[c.name]} then null else "__typed_{c.name}" end' if c.name in blanking
         else f'"__typed_{c.name}"') + f" as {c.name}"
        if c.name in present else f"null as {c.name}"
        for c in export.columns
    )  # fmt: skip
    # The conditions are evaluated once per row, giving the number of the first that holds; its column, value and
    # reason are then looked up (only rows with a problem pay for building the reason text).
    first = "case " + " ".join(f"when {p.condition} then {n}" for n, p in enumerate(hard)) + " end" if hard else "null"
    by_problem = (
        "case problem " + " ".join(f"when {n} then {{}}" for n in range(len(hard))) + " end" if hard else "null"
    )

    def pick(part: Callable[[Problem], str]) -> str:
        return by_problem.format(*(part(p) for p in hard)) if hard else "null"

    warnings = "[" + ", ".join(f"case when {p.condition} then '{p.column}: ' || {p.reason} end" for p in soft) + "]"
    warned = f"list_filter({warnings}::varchar[], lambda w: w is not null)" if soft else "[]::varchar[]"
    today_used = any("$today" in p.condition for p in hard_and_soft)
    con.execute(
        f"""
        create or replace temp table checked as
        select
            line_number,
            {typed},
            {pick(lambda p: f"'{p.column}'")} as problem_column,
            {pick(lambda p: visible(f"coalesce(trim({p.column}), '')"))} as problem_value,
            {pick(lambda p: p.reason)} as problem_reason,
            {warned} as warnings
        from (select *, {first} as problem from (select *, {typed_inner}, {roll} as on_roll from numbered))
        """,
        {"today": today} if today_used else {},
    )


def dedupe_step(con: duckdb.DuckDBPyConnection, export: ExportFile) -> int:
    """Resolve keys on more than one good line of ``checked``: identical copies are loaded once (the first line); a
    key delivered twice with different values cannot be resolved, so every copy is quarantined. Makes the temp
    tables ``repeated`` (each repeated key) and ``clean`` (the rows to upsert); returns the good lines (loaded,
    identical repeats included)."""
    key = ", ".join(export.key)
    same_key = " and ".join(f"c.{k} is not distinct from r.{k}" for k in export.key)
    con.execute(
        f"""
        create or replace temp table repeated as
        with keys as (
            select {key} from checked where problem_reason is null group by {key} having count(*) > 1
        )
        select {", ".join(f"c.{k}" for k in export.key)}, min(c.line_number) as first_line,
            string_agg(c.line_number::varchar, ', ' order by c.line_number) as lines,
            count(distinct struct_pack({", ".join(f"c.{c.name}" for c in export.columns)})) > 1 as conflicting
        from checked as c join keys as r on {same_key}
        where c.problem_reason is null
        group by all
        """
    )
    key_match = " and ".join(f"c.{k} is not distinct from k.{k}" for k in export.key)
    con.execute(
        f"""
        update checked as c
        set problem_column = '{export.key[-1]}',
            problem_value = '',
            problem_reason = 'the same {" + ".join(export.key)} is on lines ' || k.lines || ' with different values'
        from (select * from repeated where conflicting) as k
        where c.problem_reason is null and {key_match}
        """
    )
    # Identical repeats of a row are loaded once; the copies count as loaded (nothing was lost).
    con.execute(
        f"""
        create or replace temp table clean as
        select * exclude (problem_column, problem_value, problem_reason, warnings)
        from checked
        where problem_reason is null and line_number not in (
            select c.line_number from checked as c join repeated as r on {same_key}
            where not r.conflicting and c.line_number <> r.first_line
        )
        """
    )
    return _scalar(con, "select count(*) from checked where problem_reason is null")


def quarantine_step(con: duckdb.DuckDBPyConnection, prepared: PreparedFile, load_id: str) -> int:
    """Record tonight's unreadable lines, quarantined rows and blanked values; return the values blanked."""
    params = {"school": prepared.school_id, "file": prepared.export.name, "load_id": load_id}
    con.execute(QUARANTINE_ROWS, params)
    return _scalar(con, "select coalesce(sum(len(warnings)), 0) from checked where problem_reason is null")


NOT_LISTED = """
    select count(*) filter (where upn not in (select upper(trim({upn})) from (select {fields} as fields, *
                                                                              from incoming))),
        count(*)
    from pupils where school_id = $school and leaving_date is null
"""
"""Pupils on roll in the warehouse (no leaving date) that tonight's pupils.csv does not list, and all on roll."""


def roll_step(con: duckdb.DuckDBPyConnection, prepared: PreparedFile) -> tuple[int, int]:
    """Before a pupils.csv is upserted: how many pupils on roll in the warehouse it does not list, of how many.

    The contract allows a delta, so they are kept on roll (nothing is deleted); a note says how many, so that a
    roll that half vanished is seen (and the gate's roll check can judge it)."""
    upn = f"fields[{prepared.columns.index('upn') + 1}]"
    row = con.execute(NOT_LISTED.format(upn=upn, fields=fields(prepared)), {"school": prepared.school_id}).fetchone()
    missing, on_roll = (int(v) for v in row or (0, 0))
    return missing, on_roll


def still_current(con: duckdb.DuckDBPyConnection, prepared: PreparedFile, today: dt.date) -> bool:
    """Whether ``prepared`` is the school's last loaded delivery of this file and loading it again would change
    nothing: the same bytes as that delivery, and every line of the raw layer clean, checked under tonight's rules
    and on or before ``today``. A line quarantined or blanked before may load tonight (a pupil joined the roll, a
    date is no longer in the future), so a delivery with such a line is read again (only those lines are checked)."""
    export = prepared.export
    params = {"school": prepared.school_id, "file": export.name}
    last = con.execute(
        "select arg_max(sha256, loaded_at) from loads where school_id = $school and file = $file and status = 'loaded'",
        params,
    ).fetchone()
    if last is None or last[0] != prepared.sha256:  # new content (most nights' attendance): no need to look further
        return False
    row = con.execute(
        f"""
        select not exists (select 1 from raw_{export.table}
                           where school_id = $school
                               and (clean and rules = $rules and checked_on <= $today) is not true)
        """,
        {"school": prepared.school_id, "rules": rules_fingerprint(export, _present(prepared)), "today": today},
    ).fetchone()
    return bool(row and row[0])


def _present(prepared: PreparedFile) -> set[str]:
    """The contract columns the file has."""
    return {c for c in prepared.columns if not c.startswith("ignored_")}


def rules_fingerprint(export: ExportFile, present: set[str]) -> str:
    """A digest of how a file's lines are parsed and checked; a line checked under other rules is checked again."""
    parts = [RULES_VERSION, export.name, repr(export.key), repr(sorted(present))]
    parts += [f"{c.name}={parsed(c)}" for c in export.columns if c.name in present]
    parts += [f"{p.column}|{p.condition}|{p.reason}|{p.quarantine}" for p in problems(export, present)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


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
        where school_id = $school and clean and rules = $rules and checked_on <= $today and not $recheck_all
    """
    before = _scalar(con, f"select count(*) from ({previous})", params)
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
        if _scalar(con, "select count(*) from partners"):
            partner_lines = "incoming semi join partners using (line_hash, line_hash2)"
            con.execute(f"insert into numbered by name {_to_check(prepared, partner_lines, repeated='false')}")
    rejected = _scalar(con, "select count(*) from bad_lines")
    to_check = _scalar(con, "select count(*) from numbered")
    withdrawn = 0
    if export.table == "attendance":
        # A short file's marks are read from its lines; a long one's mostly from the raw lines they paired with.
        codes: dict[str, object] = {"withdrawn": sorted(WITHDRAWN_CODES)}
        withdrawn = (
            _scalar(con, WITHDRAWN_IN_FILE.format(columns=columns(prepared), fields=fields(prepared)), codes)
            if short
            else _scalar(con, WITHDRAWN_MARKS, {**params, **codes})
        )
    return _Lines(counts.data, counts.blank, rejected, to_check, withdrawn)


WITHDRAWN_IN_FILE = """
    select count(*) from (select {columns} from (select *, {fields} as fields from incoming))
    where upper(trim(mark)) in $withdrawn
"""
"""The count of ``sql/withdrawn_marks.sql`` from the file's own lines, for a file shorter than what the raw layer
holds of it (a delta)."""


def _to_check(prepared: PreparedFile, rows: str, repeated: str) -> str:
    """SQL for ``rows`` (of ``incoming``, with what follows ``from``) as ``numbered`` holds them: line number,
    contract columns as text, hashes, ``repeated``, and what is wrong with the whole line (NULL for a line read as
    a row) with the line as the quarantine shows it."""
    return f"""
        select position as line_number, {columns(prepared)}, line_hash, line_hash2, repeated, line_problem,
            case when line_problem is not null then {visible("line")} end as bad_line,
            case when line_problem is not null then len(fields) end as field_count
        from (
            select *, {line_problem(prepared)} as line_problem
            from (select *, {fields(prepared)} as fields, {repeated} as repeated from {rows})
        ) as incoming
    """


def _put_aside_bad_lines(con: duckdb.DuckDBPyConnection, prepared: PreparedFile, counts: LineCounts) -> None:
    """Move the lines of ``numbered`` that cannot be read as a row to ``bad_lines`` (each quarantined with its
    reason). A last line with too few fields means the file was cut short: raise :class:`FileRefusedError`."""
    con.execute(
        "create or replace temp table bad_lines as "
        "select line_number, bad_line as value, line_problem as reason, field_count from numbered "
        "where line_problem is not null"
    )
    row = con.execute(
        "select field_count from bad_lines where line_number = $last and field_count < $columns",
        {"last": counts.last, "columns": len(prepared.columns)},
    ).fetchone()
    if row is not None:
        raise FileRefusedError(
            f"{prepared.label} may be truncated: its last line (line {counts.last:,}) has {row[0]} of the header's "
            f"{len(prepared.columns)} fields: re-export it"
        )
    con.execute("delete from numbered where line_problem is not null")


def upsert_step(con: duckdb.DuckDBPyConnection, table: str, key: tuple[str, ...], school_id: str, load_id: str) -> None:
    """Replace rows with the same key (amended marks), add new ones, never delete what a snapshot left out."""
    columns = STAGED_COLUMNS[table]
    match = " and ".join(f"s.{k} is not distinct from c.{k}" for k in key)
    params: dict[str, object] = {"school": school_id}
    dates = ""
    if "date" in key:
        # Marks are stored in date order, so a range given as constants lets DuckDB skip the row groups outside it
        # (a normal night replaces one day's marks, not a scan of every school's two years).
        row = con.execute("select min(date), max(date), count(*) filter (where date is null) from clean").fetchone()
        first, last, undated = row or (None, None, 0)
        if first is not None and undated == 0:
            params.update(first=first, last=last)
            dates = " and s.date between $first and $last"
    con.execute(
        f"delete from {table} as s where s.school_id = $school{dates} "
        f"and exists (select 1 from clean as c where {match})",
        params,
    )
    con.execute(
        f"insert into {table} ({', '.join(columns)}, school_id, load_id, line_number) "
        f"select {', '.join(columns)}, $school, $load_id, line_number from clean order by {INSERT_ORDER[table]}",
        {"school": school_id, "load_id": load_id},
    )


def record_raw_step(
    con: duckdb.DuckDBPyConnection,
    prepared: PreparedFile,
    load_id: str,
    loaded_at: dt.datetime,
    rules: str,
    today: dt.date,
) -> None:
    """Make the raw layer hold, for each key, the line whose values the staged table holds: keep the clean lines
    not checked tonight (delivered unchanged, or not delivered at all: a delta, or a snapshot that left them out;
    each keeps the lineage of the delivery that brought it), drop every line whose key was checked tonight (it is
    replaced or superseded) and every line that can never be reused, and add the lines checked tonight with
    tonight's lineage. So a clean raw line always has its key's staged values, and a later delivery of it is
    unchanged, whatever was delivered in between."""
    export = prepared.export
    table = f"raw_{export.table}"
    typed_key = ", ".join(f"c.{k}" for k in export.key)
    con.execute(
        f"""
        delete from {table} as r
        where r.school_id = $school and (
            (r.clean and r.rules = $rules and r.checked_on <= $today) is not true
            or r.key_hash in (select hash({typed_key}) from checked as c)
            or (r.line_hash, r.line_hash2) in (select line_hash, line_hash2 from numbered)
        )
        """,
        {"school": prepared.school_id, "rules": rules, "today": today},
    )
    known = ", ".join(f"n.{c.name}" for c in export.columns)
    same_key = " and ".join(f"c.{k} is not distinct from r.{k}" for k in export.key)
    con.execute(
        f"""
        insert into {table} by name
        select $school as school_id, $file as source_file, $sha as file_sha256, n.line_number,
            $load_id as load_id, $loaded_at as loaded_at, {known}, n.line_hash, n.line_hash2,
            hash({typed_key}) as key_hash,
            c.problem_reason is null and len(c.warnings) = 0 and not n.repeated
                and not exists (select 1 from repeated as r where {same_key}) as clean,
            $rules as rules, $today as checked_on
        from numbered as n join checked as c using (line_number)
        """,
        {
            "school": prepared.school_id,
            "file": export.name,
            "sha": prepared.sha256,
            "load_id": load_id,
            "loaded_at": loaded_at,
            "rules": rules,
            "today": today,
        },
    )


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object] | None = None) -> int:
    row = con.execute(sql, params or {}).fetchone()
    return int(row[0]) if row and row[0] is not None else 0
