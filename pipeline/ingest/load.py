"""Load one prepared file into the warehouse, in steps a reader can follow (and test) one at a time:

1. read (:func:`pipeline.ingest.pairing.read_step`): every line as text, numbered and counted
   (:mod:`pipeline.ingest.lines`); lines unchanged since an earlier delivery paired with the raw layer; the rest
   split into fields, and whole lines that cannot be read put aside (``bad_lines``);
2. check (:mod:`pipeline.ingest.steps`, as are the steps below): each row's values against the contract's rules
   (``checked``);
3. de-duplicate: identical repeats loaded once, a key on lines with different values quarantined (``clean``);
4. quarantine, roll (pupils.csv: pupils on roll it does not list), upsert and record raw;
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

from pipeline.contract import ExportFile
from pipeline.ingest.checks import either_way_round, parsed, problems, slash_date_order
from pipeline.ingest.lines import FileRefusedError, column_text, fields, scalar, sql_text
from pipeline.ingest.pairing import read_step
from pipeline.ingest.read import PreparedFile
from pipeline.ingest.steps import (
    blank_columns,
    check_step,
    dedupe_step,
    quarantine_step,
    record_raw_step,
    roll_step,
    set_aside_step,
    upsert_step,
    values_lost_step,
)
from pipeline.warehouse import REUSABLE, STAGED_COLUMNS

QUARANTINED_LINES = sql_text("reconcile.sql")
RULES_VERSION = "3"
"""Bump when parsing or checking changes in a way the generated SQL does not show; every line is then re-checked."""

LAST_LOADED = """
select sha256, rows_quarantined, loaded_at from loads
where school_id = $school and file = $file and status = 'loaded'
order by loaded_at desc limit 1
"""
"""The content (its SHA-256) of the school's last loaded delivery of a file, how many lines it quarantined, and
when it was loaded."""


SUPERSEDED = """
with latest as (
    select sha256, loaded_at, load_id from loads
    where school_id = $school and file = $file and status = 'loaded'
    order by loaded_at desc limit 1
)
select max(o.loaded_at)::date as loaded_on, any_value(l.loaded_at)::date as replaced_on
from loads as o, latest as l
where o.school_id = $school and o.file = $file and o.status = 'loaded' and o.sha256 = $sha256
    and l.sha256 <> $sha256
    and exists (select 1 from roll_history as r where r.school_id = $school and r.load_id = l.load_id)
having count(*) > 0
"""
"""When the school's delivery of a file with this content was last loaded, and when a later delivery of different
content, the last loaded, replaced it and the school published on it (no row when the content was never loaded, is
the last loaded, or the delivery that replaced it was held back: sending the earlier file again then corrects it)."""


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
    values_lost: dict[str, int] = field(default_factory=dict)
    """Columns the file does not have -> values the rows it replaced held there, now unknown."""
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

    refuse_month_first(con, prepared, present)
    check_step(con, prepared, present, today)
    good = dedupe_step(con, export)
    if export.table == "pupils":
        set_aside_step(con, prepared.school_id)
    blanked = quarantine_step(con, prepared, load_id)
    result.values_blanked = blanked
    kept = scalar(con, "select count(*) from clean")
    result.duplicates_dropped = good - kept
    result.rows_loaded = result.rows_unchanged + good
    result.rows_quarantined = scalar(
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
    absent = [c for c in STAGED_COLUMNS[export.table] if c not in present]
    absent += blank_columns(con, [c for c in STAGED_COLUMNS[export.table] if c in present and c not in export.key])
    result.values_lost = values_lost_step(con, export.table, export.key, prepared.school_id, absent)
    if result.values_lost:
        result.notes.append(
            "no "
            + ", ".join(f"{column} values ({n:,} delivered before)" for column, n in result.values_lost.items())
            + ": the rows it replaces have those values no more (unknown), as a file without them (no column, or a "
            "column left blank) says"
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


MONTH_FIRST_LEAST = 2
"""Distinct dates that can only be month first (07/16/2025), with none that can only be day first, that make a file
read as month first, whatever its other dates. One such date makes it so too when the file has dates that read as
two different days (07/03/2025) and none that can only be day first: read day first, those would load as other days
(see :func:`refuse_month_first`). One such date among day-first ones is a typo of a line, quarantined on its own."""


def refuse_month_first(con: duckdb.DuckDBPyConnection, prepared: PreparedFile, present: set[str]) -> None:
    """Refuse a file whose slash dates are written month first (as Excel set to US English saves them): raise
    :class:`FileRefusedError`. Read day first, its dates after the 12th of a month are quarantined, and the others
    load with day and month swapped, 07/03/2025 as 7 March for 3 July, without a word.

    The file is read as month first when it has no date that can only be day first (16/07/2025) and either two or
    more that can only be month first, or one with dates that read either way round (07/03/2025): one tell-tale date
    in a file whose every other date is before the 13th of its month (a week's marks early in a month) was quarantined
    alone, and the week's marks loaded on other days. An MIS never writes a date month first, so a file with nothing
    day first and a date that can only be month first is taken to be month first; the message says which line to
    correct if that one date is a typo instead."""
    dates = [c.name for c in prepared.export.columns if c.kind == "date" and c.name in present]
    if not dates:
        return
    # The distinct texts of the lines to check (a year of marks has a few hundred), judged one by one.
    found = con.execute(" union ".join(f"select distinct {name} from numbered" for name in dates)).fetchall()
    texts = [text for (text,) in found if text is not None]
    orders = {text: slash_date_order(text) for text in texts}
    month_first = sorted(text for text, order in orders.items() if order == "month first")
    if not month_first or "day first" in orders.values():
        return
    unchecked = _unchecked_dates(con, prepared, dates)
    if any(slash_date_order(text) == "day first" for text in unchecked):
        return
    if len(month_first) < MONTH_FIRST_LEAST and not any(either_way_round(text) for text in texts + unchecked):
        return  # one date month first, and none that its order changes: its line is quarantined, saying so
    where = " or ".join(f"list_contains($texts, {name})" for name in dates)
    line = scalar(con, f"select min(line_number) from numbered where {where}", {"texts": month_first})
    on_line = con.execute(f"select {', '.join(dates)} from numbered where line_number = $line", {"line": line})
    text = next(t for t in (on_line.fetchone() or ()) if t in month_first).strip()
    save = "save it again with dates as DD/MM/YYYY (Excel set to English (United Kingdom)) or YYYY-MM-DD"
    if len(month_first) >= MONTH_FIRST_LEAST:
        raise FileRefusedError(
            f"{prepared.label} was not loaded: its dates are written month first, as Excel set to US English saves "
            f"them ({text} on line {line}), so the day and month of a date such as 07/03/2025 cannot be told apart: "
            f"{save}"
        )
    either = sorted({t for t in texts + unchecked if either_way_round(t)})
    raise FileRefusedError(
        f"{prepared.label} was not loaded: its dates look written month first, as Excel set to US English saves "
        f"them: {text} on line {line} can only be month first, none can only be day first, and {len(either):,} "
        f"other date{'s' if len(either) > 1 else ''} (such as {either[0]}) would be another day if read day first: "
        f"{save}; if the file is day first and {text} is a typo, correct line {line} instead"
    )


def _unchecked_dates(con: duckdb.DuckDBPyConnection, prepared: PreparedFile, dates: list[str]) -> list[str]:
    """The distinct dates on the lines of the file not checked tonight (unchanged since an earlier delivery loaded
    them). Every month-first date is on a line checked tonight (it cannot load, so its line is checked every night),
    but a day-first one, or one that reads either way round, may not be: without these, the file delivered again with
    a few new lines would be judged otherwise than the same file read whole. It splits every unchanged line: asked only
    of a file with a month-first date and no day-first one on the lines checked."""
    texts = con.execute(
        f"select distinct unnest([{', '.join(column_text(prepared, name) for name in dates)}]) "
        f"from (select {fields(prepared)} as fields from incoming "
        "where position not in (select line_number from numbered))"
    ).fetchall()
    return [text for (text,) in texts if text is not None]


def last_loaded(con: duckdb.DuckDBPyConnection, school_id: str, file: str) -> tuple[str, int, dt.datetime] | None:
    """The school's last loaded delivery of ``file`` (:data:`LAST_LOADED`), or None if none was ever loaded."""
    row = con.execute(LAST_LOADED, {"school": school_id, "file": file}).fetchone()
    return None if row is None else (str(row[0]), int(row[1]), row[2])


LOADED_BEFORE = """
select count(*) > 0 from loads
where school_id = $school and file = $file and sha256 = $sha256 and status = 'loaded' and load_id <> $load_id
"""


def loaded_before(con: duckdb.DuckDBPyConnection, school_id: str, file: str, sha256: str, load_id: str) -> bool:
    """Whether the school's delivery of ``file`` with these bytes was loaded before the load ``load_id``."""
    params = {"school": school_id, "file": file, "sha256": sha256, "load_id": load_id}
    row = con.execute(LOADED_BEFORE, params).fetchone()
    return bool(row and row[0])


def superseded(
    con: duckdb.DuckDBPyConnection, prepared: PreparedFile, tonight_is_new: Callable[[], bool] = lambda: False
) -> str | None:
    """Why ``prepared`` must not load, when it is an older delivery sent again: the same bytes as a delivery loaded
    before, which a later delivery of different content replaced, and the school's lists were published on that
    later delivery. Loading it would undo that delivery's changes (a leaver back on roll, corrected marks back to
    absences) and publish the result as tonight's. None otherwise: when the later delivery was held back, the earlier
    file sent again corrects it; when ``tonight_is_new()`` (the school's attendance.csv tonight is new content, so the
    delivery is tonight's and the file was put back as it was, a correction undone); and always for a file staff
    write (a decision once read stays, so an older copy undoes nothing)."""
    export = prepared.export
    if export.written_by_staff:
        return None
    row = con.execute(
        SUPERSEDED, {"school": prepared.school_id, "file": export.name, "sha256": prepared.sha256}
    ).fetchone()
    if row is None or (export.name != "attendance.csv" and tonight_is_new()):
        return None
    loaded_on, replaced_on = row
    return (
        f"{prepared.school_id}/{export.name} is the same, byte for byte, as the delivery loaded on "
        f"{loaded_on:%d %B %Y}, which a later one (loaded on {replaced_on:%d %B %Y}) replaced: an old export sent "
        "again? Loading it would undo the later delivery's changes. Send tonight's export; if the file really is back "
        "as it was, load it with `mentor ingest --force`"
    )


def still_current(con: duckdb.DuckDBPyConnection, prepared: PreparedFile, today: dt.date) -> bool:
    """Whether ``prepared`` is the school's last loaded delivery of this file and loading it again would change
    nothing: the same bytes as that delivery, which quarantined no line, and every line of the raw layer clean,
    checked under tonight's rules and on or before ``today``. A line quarantined or blanked before may load tonight
    (a pupil joined the roll, a date is no longer in the future), so a delivery with such a line is read again (only
    those lines are checked). A line that could not be read at all (a stray quote, a field too many) is in no table,
    so the delivery is read again for it too: tonight's quarantine lists it, and the data-quality gate counts it,
    every night the same broken file comes."""
    export = prepared.export
    last = last_loaded(con, prepared.school_id, export.name)
    if last is None or last[0] != prepared.sha256:  # new content (most nights' attendance): no need to look further
        return False
    if last[1] > 0:  # lines quarantined from these very bytes: quarantined again tonight, not passed over
        return False
    row = con.execute(
        f"""
        select not exists (select 1 from raw_{export.table} where school_id = $school and ({REUSABLE}) is not true)
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
