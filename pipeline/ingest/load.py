"""Load one prepared file into the warehouse: read, number lines, check, quarantine, de-duplicate, upsert.

Everything happens in DuckDB; rows never pass through pandas. Every data line of the file ends up either in the
staged table or in the quarantine table, and the counts are checked to add up before the load is committed.
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
from pipeline.ingest.read import PreparedFile
from pipeline.warehouse import STAGED_COLUMNS

REJECT_REASONS = {
    "TOO MANY COLUMNS": "line has more fields than the header (a stray delimiter or an unquoted comma?)",
    "MISSING COLUMNS": "line has fewer fields than the header (the file may be truncated)",
    "UNQUOTED VALUE": "line has a quote in the wrong place",
    "INVALID UNICODE": "line has text that is not valid UTF-8",
}
INSERT_ORDER = dict.fromkeys(
    ("pupils", "assessments", "behaviour", "exclusions", "interventions", "decisions"), "line_number"
)
INSERT_ORDER["attendance"] = "date, upn, session"
"""Marks are stored in date order, so that queries on recent weeks or this year skip the older row groups."""
RULES_VERSION = "2"
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
    """Load ``prepared`` inside the caller's transaction; return its counts. Raises if the counts do not add up.

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
    lines = _read_lines(con, prepared, rules, today, recheck_all)
    result.rows_read = lines.accepted + lines.rejected
    result.rows_unchanged = lines.accepted - lines.to_check
    result.withdrawn_codes_mapped = lines.withdrawn
    school = {"school": prepared.school_id}

    hard_and_soft = problems(export, present, typed=lambda name: f'"__typed_{name}"')
    hard = [p for p in hard_and_soft if p.quarantine]
    soft = [p for p in hard_and_soft if not p.quarantine]
    roll = "true" if export.table == "pupils" else "upper(nullif(trim(upn), '')) in (select upn from pupils_in_scope)"
    con.execute(
        "create or replace temp table pupils_in_scope as "
        "select upn from pupils where school_id = $school union select upn from incoming_pupils",
        school,
    )
    typed_inner = ", ".join(f'({parsed(export.column(c))}) as "__typed_{c}"' for c in sorted(present))
    typed = ", ".join(f'"__typed_{c.name}" as {c.name}' if c.name in present else f"null as {c.name}"
                      for c in export.columns)  # fmt: skip
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
            {pick(lambda p: f"coalesce(trim({p.column}), '')")} as problem_value,
            {pick(lambda p: p.reason)} as problem_reason,
            {warned} as warnings
        from (select *, {first} as problem from (select *, {typed_inner}, {roll} as on_roll from numbered))
        """,
        {"today": today} if today_used else {},
    )

    key = ", ".join(export.key)
    same_key = " and ".join(f"c.{k} is not distinct from r.{k}" for k in export.key)
    # Keys on more than one good line: identical copies are loaded once (the first line); a key delivered twice
    # with different values cannot be resolved, so every copy is quarantined.
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
            **school,
            "file": export.name,
            "load_id": load_id,
            "too_many": REJECT_REASONS["TOO MANY COLUMNS"],
            "missing": REJECT_REASONS["MISSING COLUMNS"],
        },
    )
    row = con.execute(
        """
        select count(*) filter (where problem_reason is not null), count(*) filter (where problem_reason is null),
            coalesce(sum(len(warnings)) filter (where problem_reason is null), 0)
        from checked
        """
    ).fetchone()
    assert row is not None
    quarantined, good, blanked = (int(v) for v in row)
    result.rows_quarantined = quarantined + lines.rejected
    result.values_blanked = blanked

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
    kept = _scalar(con, "select count(*) from clean")
    result.duplicates_dropped = good - kept
    result.rows_loaded = result.rows_unchanged + good
    _upsert(con, export.table, export.key, prepared.school_id, load_id)
    if export.table == "pupils":
        con.execute("create or replace temp table incoming_pupils as select upn from pupils where school_id = $school",
                    school)  # fmt: skip
    _record_raw(con, prepared, load_id, loaded_at, rules, today)
    if not result.reconciles:
        raise AssertionError(
            f"{prepared.label}: {result.rows_read} rows read but {result.rows_loaded} loaded "
            f"+ {result.rows_quarantined} quarantined"
        )
    return result


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
    accepted: int
    """Lines DuckDB split into the header's fields."""
    rejected: int
    """Lines it could not split (quarantined)."""
    to_check: int
    """Accepted lines to check tonight (in ``numbered``); the others are unchanged since they loaded before."""
    withdrawn: int
    """Lines with a withdrawn attendance code (mapped to its replacement)."""


def _read_lines(
    con: duckdb.DuckDBPyConnection,
    prepared: PreparedFile,
    rules: str,
    today: dt.date,
    recheck_all: bool,
    whole_lines: bool = True,
) -> _Lines:
    """Read the file into the temp view ``incoming`` and put the lines to check into the temp table ``numbered``.

    ``numbered`` has, for each line to check, its file line number, its contract columns as text, its two hashes
    and whether an identical line is in the file too. A line is left out of ``numbered`` (unchanged: already in the
    staged table with exactly the values it would get again) when the raw layer has a clean line of the school with
    both of its hashes (checked under the same rules, on or before ``today``, neither it nor its key repeated in its
    delivery), the line is not repeated in this file, and no line to check shares its key. Lines are compared on
    128 bits of hash, so the raw layer's text is never read.

    With ``whole_lines`` the file is read as whole lines if it can be (see ``_read_incoming``). A line to check
    that does not split into the header's number of fields sends the whole file to the CSV reader instead. Lines
    that pair with the raw layer need no such check: their text is that of lines which split cleanly when they were
    loaded, since a file is only loaded as whole lines if all its lines to check split cleanly, and a line hashed
    as text never pairs with one hashed as fields.
    """
    export = prepared.export
    incoming = _read_incoming(con, prepared, whole_lines)
    counts = con.execute(
        "select count(*), coalesce(min(position), 0), (select count(distinct line) from reject_errors) from incoming"
    ).fetchone()
    accepted, first_rowid, rejected = (int(v) for v in counts or (0, 0, 0))
    # File line of each accepted row: data lines start at 2 and skip the lines DuckDB rejected. Rows keep the
    # file's order in the table (their rowids start at a large offset inside a transaction, hence the subtraction).
    numbering: dict[str, object] = {"first": first_rowid}
    line_number = "position - $first + 2"
    if rejected:  # (rare)
        con.execute(
            """
            create or replace temp table line_numbers as
            select line, row_number() over (order by line) - 1 + $first as position
            from range(2, $total + 2) as r(line)
            where line not in (select line from reject_errors)
            """,
            {**numbering, "total": accepted + rejected},
        )
        numbering = {}
        line_number = "(select line from line_numbers as n where n.position = incoming.position)"
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
        counts = con.execute("select count(position), count(raw_rowid) from unmatched").fetchone()
        new, gone = (int(v) for v in counts or (0, 0))
        # Clean raw lines are never repeated in their delivery, so each pairs with one line at most. When as many
        # raw lines found a partner as lines did, no two identical lines share one; else look for repeats in the
        # whole file.
        fresh = "position in (select position from unmatched where position is not null)"
        among = "incoming" if accepted - new != before - gone else f"(select * from incoming where {fresh})"
        short = gone >= accepted  # a delta, most likely
    # The lines to check: the new and changed ones, every copy of a line repeated in the file ...
    repeated = "(line_hash, line_hash2) in (select * from twice)"
    lines = _to_check(incoming, line_number, f"incoming where {fresh} or {repeated}", repeated)
    con.execute(
        f"""
        create or replace temp table numbered as
        with twice as (select line_hash, line_hash2 from {among} group by all having count(*) > 1)
        {lines}
        """,
        numbering,
    )
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
            con.execute(
                f"insert into numbered by name {_to_check(incoming, line_number, partner_lines, repeated='false')}",
                numbering,
            )
    if incoming.whole_lines and _scalar(con, "select count(*) from numbered where not splits"):
        return _read_lines(con, prepared, rules, today, recheck_all, whole_lines=False)
    to_check = _scalar(con, "select count(*) from numbered")
    withdrawn = 0
    if export.table == "attendance":
        # A short file's marks are read from its lines; a long one's mostly from the raw lines they paired with.
        codes: dict[str, object] = {"withdrawn": sorted(WITHDRAWN_CODES)}
        withdrawn = (
            _scalar(con, WITHDRAWN_IN_FILE.format(columns=incoming.columns, split=incoming.split), codes)
            if short
            else _scalar(con, WITHDRAWN_MARKS, {**params, **codes})
        )
    return _Lines(accepted, rejected, to_check, withdrawn)


WITHDRAWN_MARKS = """
    select (select count(*) from numbered where upper(trim(mark)) in $withdrawn)
        + (select count(*) from raw_attendance
           where school_id = $school and clean and rules = $rules and checked_on <= $today and not $recheck_all
               and upper(trim(mark)) in $withdrawn
               and rowid not in (select raw_rowid from unmatched where raw_rowid is not null)
               and (line_hash, line_hash2) not in (select line_hash, line_hash2 from numbered))
"""
"""The file's lines with a withdrawn attendance code (each mapped to its successor when checked): the lines to check,
from their text, and the unchanged lines, from the clean raw line each paired with (which has the same text), so
that the whole year to date is not split to find its marks."""
WITHDRAWN_IN_FILE = """
    select count(*) from (select {columns} from (select *, {split} as fields from incoming))
    where upper(trim(mark)) in $withdrawn
"""
"""The same count from the file's own lines, for a file shorter than what the raw layer holds of it (a delta)."""


LINE_DELIMITER = "chr(1)"
"""What splits a line into columns when a file is read as whole lines: a control character no export should hold
(a line that does hold it is rejected by the line reader, and the file is read field by field instead)."""
DELIMITERS = {",": "','", ";": "';'", "\t": "chr(9)"}
"""SQL literals of the delimiters ``prepare`` recognises."""
DROP_REJECTS = "drop table if exists reject_errors; drop table if exists reject_scans"
"""Forget the lines the last read rejected (DuckDB's CSV reader adds to these tables; each read starts afresh)."""


@dataclass(frozen=True)
class _Incoming:
    """How the rows of the temp view ``incoming`` give a line's contract columns."""

    whole_lines: bool
    split: str
    """SQL for what a row's columns are taken from (``fields``)."""
    columns: str
    """SQL for the contract columns as text, from a row and its ``fields``."""
    splits: str
    """SQL for whether the row's ``fields`` are the line's fields as the CSV reader would read them."""


def _to_check(incoming: _Incoming, line_number: str, rows: str, repeated: str) -> str:
    """SQL for ``rows`` (of ``incoming``, with what follows ``from``) as ``numbered`` holds them: line number,
    contract columns as text, hashes, ``repeated`` and whether the line splits into the header's fields."""
    return f"""
        select {line_number} as line_number, {incoming.columns}, line_hash, line_hash2, repeated,
            {incoming.splits} as splits
        from (select *, {incoming.split} as fields, {repeated} as repeated from {rows}) as incoming
    """


def _read_incoming(con: duckdb.DuckDBPyConnection, prepared: PreparedFile, whole_lines: bool) -> _Incoming:
    """Make the temp view ``incoming``: for each line DuckDB accepts, its ``position`` (in file order) and two
    independent 64-bit hashes of the line; say how its contract columns are read. Lines DuckDB rejects are in
    ``reject_errors``.

    Most exports have no quotes, and then a line's fields are its text split at the delimiter, with an empty field
    read as NULL, as DuckDB's CSV reader reads it. So, with ``whole_lines``, the file is read as whole lines and
    hashed as text: that is about four times faster than splitting every line into fields, and a night that repeats
    the year to date pairs most lines with the raw layer by those hashes alone; only the lines read further are
    split. A file with a quote (a quoted field may hold the delimiter or a line break), a line the line reader
    rejects (one holding its control character) or a blank line before the last data line (the CSV reader skips
    blank lines, so a line's position would no longer give its line number) is read by the CSV reader, field by
    field and hashed as fields, as is any file without ``whole_lines``; the CSV reader quarantines the lines it
    cannot read.
    """
    export = prepared.export
    con.execute(f"{DROP_REJECTS}; drop view if exists incoming")
    if whole_lines and _whole_lines(con, prepared):
        con.execute(
            "create temp view incoming as "
            "select rowid as position, line, line_hash, line_hash2 from incoming_lines where line is not null"
        )
        delimiter = DELIMITERS[prepared.delimiter]
        position = {c.name: prepared.columns.index(c.name) + 1 for c in export.columns if c.name in prepared.columns}
        columns = ", ".join(
            f"nullif(fields[{position[c.name]}], '') as {c.name}" if c.name in position
            else f"null::varchar as {c.name}"
            for c in export.columns
        )  # fmt: skip
        return _Incoming(
            whole_lines=True,
            split=f"string_split(line, {delimiter})",
            columns=columns,
            splits=f"len(fields) = {len(prepared.columns)}",
        )
    types = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in prepared.columns) + "}"
    text = ", ".join(c.name if c.name in prepared.columns else f"null::varchar as {c.name}" for c in export.columns)
    content = ", ".join(c.name for c in export.columns)
    con.execute(
        f"""
        create or replace temp table incoming_rows as
        select *, hash({content}) as line_hash, hash(concat_ws(chr(31), {content})) as line_hash2
        from (
            select {text} from read_csv($path, header = true, all_varchar = true, auto_detect = false,
                delim = $delim, quote = '"', escape = '"', columns = {types}, store_rejects = true,
                strict_mode = true)
        )
        """,
        {"path": str(prepared.readable_path), "delim": prepared.delimiter},
    )
    con.execute("create temp view incoming as select rowid as position, * from incoming_rows")
    names = [c.name for c in export.columns]
    return _Incoming(False, "null", ", ".join(names), "true")


def _whole_lines(con: duckdb.DuckDBPyConnection, prepared: PreparedFile) -> bool:
    """Read the file into the temp table ``incoming_lines`` (each line's text and hashes, in file order) unless it
    has a quote, the line reader rejects a line, or a blank line comes before the last data line. Say whether it
    did; if not, nothing of the attempt is left."""
    con.execute(
        f"""
        create or replace temp table incoming_lines as
        select line, hash(line) as line_hash, hash(line || chr(31)) as line_hash2
        from read_csv($path, header = true, auto_detect = false, delim = {LINE_DELIMITER}, quote = '', escape = '',
            columns = {{'line': 'VARCHAR'}}, store_rejects = true, strict_mode = true)
        """,
        {"path": str(prepared.readable_path)},
    )
    row = con.execute(
        """
        select coalesce(max(rowid) filter (where line is not null) > min(rowid) filter (where line is null), false),
            bool_or(contains(line, '"')), (select count(*) from reject_errors)
        from incoming_lines
        """
    ).fetchone()
    if row is not None and not row[0] and not row[1] and row[2] == 0:
        return True
    con.execute(f"{DROP_REJECTS}; drop table incoming_lines")
    return False


def _upsert(con: duckdb.DuckDBPyConnection, table: str, key: tuple[str, ...], school_id: str, load_id: str) -> None:
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


def _record_raw(
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
