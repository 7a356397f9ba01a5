"""The steps of a load after the read step: check, de-duplicate, quarantine, upsert and record raw.

Each works on the temp tables the step before it left (``numbered`` -> ``checked`` -> ``clean``), inside the
caller's transaction, and can be run and tested on its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import duckdb

from pipeline.contract import ExportFile
from pipeline.ingest.checks import Problem, parsed, problems, raw
from pipeline.ingest.lines import fields, scalar, sql_text
from pipeline.ingest.read import PreparedFile
from pipeline.sql import sql_string
from pipeline.upn import HIDDEN_CATEGORIES
from pipeline.warehouse import DELIVERY_NUMBER, REUSABLE, STAGED_COLUMNS

QUARANTINE_ROWS = sql_text("quarantine_rows.sql")
INSERT_ORDER = dict.fromkeys(
    ("pupils", "assessments", "behaviour", "exclusions", "interventions", "decisions"), "line_number"
)
INSERT_ORDER["attendance"] = "date, upn, session"
"""Marks are stored in date order, so that queries on recent weeks or this year skip the older row groups."""


def check_step(con: duckdb.DuckDBPyConnection, prepared: PreparedFile, present: set[str], today: dt.date) -> None:
    """Check each row of ``numbered`` against the contract's rules into the temp table ``checked``: the typed
    columns, the first problem that quarantines the row (column, value and reason) and the values to blank."""
    export = prepared.export
    hard_and_soft = problems(
        export, present, typed=lambda name: f'"__typed_{name}"', text=lambda name: f'"__text_{name}"'
    )
    hard = [p for p in hard_and_soft if p.quarantine]
    soft = [p for p in hard_and_soft if not p.quarantine]
    roll = "true" if export.table == "pupils" else "upper(nullif(trim(upn), '')) in (select upn from pupils_in_scope)"
    set_aside = (
        "null::varchar"
        if export.table == "pupils"
        else "(select min(s.reason) from pupils_set_aside as s "
        f"where s.school_id = {sql_string(prepared.school_id)} and s.pupil = upper(nullif(trim(upn), '')))"
    )
    con.execute(
        "create or replace temp table pupils_in_scope as "
        "select upn from pupils where school_id = $school union select upn from incoming_pupils",
        {"school": prepared.school_id},
    )
    con.execute(f"create temp table if not exists pupils_set_aside ({SET_ASIDE_COLUMNS})")
    # Each column's text is trimmed and parsed once per distinct value (a file of 480,000 marks has about 300
    # dates, 30 codes and 1,000 pupils), and the rows are joined to the results.
    with_values = " ".join(
        f'left join (select {c}, {raw(c)} as "__text_{c}", ({parsed(export.column(c))}) as "__typed_{c}"'
        + (f", {roll} as on_roll, {set_aside} as pupil_set_aside" if c == "upn" else "")
        + f' from (select distinct {c} from numbered)) as "__{c}" on n.{c} is not distinct from "__{c}".{c}'
        for c in sorted(present)
    )
    typed_inner = ", ".join(f'"__{c}"."__text_{c}", "__{c}"."__typed_{c}"' for c in sorted(present))
    if "upn" in present:
        typed_inner += ', "__upn".on_roll, "__upn".pupil_set_aside'
    else:
        typed_inner += f", {roll} as on_roll, {set_aside} as pupil_set_aside"
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
            {pick(lambda p: f"coalesce(trim({p.column}), '')")} as problem_value,
            {pick(lambda p: p.reason)} as problem_reason,
            {warned} as warnings
        from (select *, {first} as problem from (select n.*, {typed_inner} from numbered as n {with_values}))
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
            problem_value = concat_ws(' + ', {", ".join(f"c.{k}::varchar" for k in export.key)}),
            problem_reason = 'the same {" + ".join(export.key)} is on lines ' || k.lines || ' with different values'
        from (select * from repeated where conflicting) as k
        where c.problem_reason is null and {key_match}
        """
    )
    # Identical repeats of a row are loaded once; the copies count as loaded (nothing was lost). ``clean`` is a view:
    # the rows are not copied once more (most files have no repeat, and then the anti join has nothing to look up).
    con.execute(
        f"""
        create or replace temp view clean as
        select * exclude (problem_column, problem_value, problem_reason, warnings)
        from checked
        where problem_reason is null and line_number not in (
            select c.line_number from checked as c join repeated as r on {same_key}
            where not r.conflicting and c.line_number <> r.first_line
        )
        """
    )
    return scalar(con, "select count(*) from checked where problem_reason is null")


SET_ASIDE_COLUMNS = "school_id varchar, pupil varchar, reason varchar"
"""(``pupil``, not ``upn``: the look-up in :func:`check_step` reads the ``upn`` of the line it is made for.)"""


def set_aside_step(con: duckdb.DuckDBPyConnection, school_id: str) -> None:
    """After a pupils.csv is checked and de-duplicated: the temp table ``pupils_set_aside`` holds each pupil none of
    whose lines in it is loaded, with the reason one of them was quarantined (two lines with different values, a
    blank surname), so that the school's other files can say why the pupil is not on roll (:func:`check_step`)."""
    con.execute(f"create or replace temp table pupils_set_aside ({SET_ASIDE_COLUMNS})")
    con.execute(SET_ASIDE, {"school": school_id, "hidden": HIDDEN_CHARACTERS})


HIDDEN_CHARACTERS = "[" + "".join(rf"\p{{{category}}}" for category in HIDDEN_CATEGORIES) + "]"
"""Characters a UPN cannot hold and a reader cannot see (:data:`pipeline.upn.HIDDEN_CATEGORIES`), as a regular
expression: a pupils.csv line is set aside under its UPN without them, so that the pupil's
lines in other files, whose UPN is clean, point at it (:data:`SET_ASIDE`)."""

SET_ASIDE = """
    insert into pupils_set_aside
    select $school, pupil, min(problem_reason)
    from (select regexp_replace(upn, $hidden, '', 'g') as pupil, problem_reason from checked where upn is not null)
    where problem_reason is not null
        and pupil not in (select regexp_replace(upn, $hidden, '', 'g') from checked
                          where problem_reason is null and upn is not null)
    group by pupil
"""
"""Each pupil none of whose pupils.csv lines is loaded, with the reason one of them was quarantined
(:func:`set_aside_step`)."""


def quarantine_step(con: duckdb.DuckDBPyConnection, prepared: PreparedFile, load_id: str) -> int:
    """Record tonight's unreadable lines, quarantined rows and blanked values; return the values blanked."""
    params = {"school": prepared.school_id, "file": prepared.export.name, "load_id": load_id}
    con.execute(QUARANTINE_ROWS, params)
    return scalar(con, "select coalesce(sum(len(warnings)), 0) from checked where problem_reason is null")


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


def blank_columns(con: duckdb.DuckDBPyConnection, columns: list[str]) -> list[str]:
    """Of ``columns`` (staged columns the file has), those blank on every line of ``clean``: a column exported
    empty says as little as no column (an MIS report whose pupil premium field was left out of the export)."""
    if not columns:
        return []
    counts = ", ".join(f"count({column})" for column in columns)  # (column names are the contract's constants)
    row = con.execute(f"select count(*), {counts} from clean").fetchone()
    if not row or not row[0]:
        return []
    return [column for column, n in zip(columns, row[1:], strict=True) if n == 0]


def values_lost_step(
    con: duckdb.DuckDBPyConnection, table: str, key: tuple[str, ...], school_id: str, absent: list[str]
) -> dict[str, int]:
    """Before the upsert: for each staged column the file does not have (``absent``), how many of the rows it
    replaces hold a value there, which the upsert makes unknown (a school switching from CSV to a CTF, which has no
    pupil premium or minutes late)."""
    if not absent or not _has_rows(con, table, school_id):
        return {}
    match = _same_key(key)
    counts = ", ".join(f"count(s.{column})" for column in absent)  # (column names are the contract's constants)
    row = con.execute(
        f"select {counts} from {table} as s where s.school_id = $school "
        f"and exists (select 1 from clean as c where {match})",
        {"school": school_id},
    ).fetchone()
    return {column: int(n) for column, n in zip(absent, row or (), strict=False) if n}


def upsert_step(con: duckdb.DuckDBPyConnection, table: str, key: tuple[str, ...], school_id: str, load_id: str) -> None:
    """Replace rows with the same key (amended marks), add new ones, never delete what a snapshot left out."""
    columns = STAGED_COLUMNS[table]
    match = _same_key(key)
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
    if _has_rows(con, table, school_id):  # (a first load has nothing to replace)
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


def _same_key(key: tuple[str, ...]) -> str:
    """SQL: a staged row ``s`` has the key of a row ``c`` of ``clean`` (a blank key part matches a blank)."""
    return " and ".join(f"s.{k} is not distinct from c.{k}" for k in key)


def _has_rows(con: duckdb.DuckDBPyConnection, table: str, school_id: str) -> bool:
    """Whether ``table`` holds any row of the school (in this transaction)."""
    row = con.execute(f"select exists (select 1 from {table} where school_id = $school)", {"school": school_id})
    found = row.fetchone()
    return bool(found and found[0])


RECORD_DELIVERY = (
    f"insert into deliveries values ({DELIVERY_NUMBER}, $school, $file, $sha, $load_id, $loaded_at, $rules, $today)"
)
"""A delivered file's lineage, once (the raw layer's lines refer to it by its number)."""


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
    lineage = {"school": prepared.school_id, "file": export.name, "load_id": load_id}
    if _has_rows(con, table, prepared.school_id):  # (a first load has nothing to replace)
        con.execute(
            f"""
            delete from {table} as r
            where r.school_id = $school and (
                ({REUSABLE}) is not true
                or r.key_hash in (select hash({typed_key}) from checked as c)
                or (r.line_hash, r.line_hash2) in (select line_hash, line_hash2 from numbered)
            )
            """,
            {"school": prepared.school_id, "rules": rules, "today": today},
        )
    con.execute(
        RECORD_DELIVERY,
        lineage | {"sha": prepared.sha256, "loaded_at": loaded_at, "rules": rules, "today": today},
    )
    known = ", ".join(f"n.{c.name}" for c in export.columns)
    same_key = " and ".join(f"c.{k} is not distinct from r.{k}" for k in export.key)
    con.execute(
        f"""
        insert into {table} by name
        select $school as school_id, {DELIVERY_NUMBER} as delivery, n.line_number, {known}, n.line_hash,
            n.line_hash2, hash({typed_key}) as key_hash,
            c.problem_reason is null and len(c.warnings) = 0 and not n.repeated
                and not exists (select 1 from repeated as r where {same_key}) as clean
        from numbered as n join checked as c using (line_number)
        """,
        lineage,
    )
