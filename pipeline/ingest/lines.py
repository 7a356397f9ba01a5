"""Read a file's lines as text and check each on its own: the first step of a load.

Every physical line of a file is read once as text (``sql/read_lines.sql``), numbered as in the file, and counted;
the count must equal the one made from the file's bytes (:mod:`pipeline.ingest.read`), so no CSV parser decides how
many lines a file has. A line is then checked on its own, in SQL, before anything else looks at it:

- longer than :data:`MAX_LINE_BYTES`: quarantined at once (nothing else is done with it);
- holding a NUL byte, or a byte that is not UTF-8 (in a file read with such bytes marked): quarantined;
- with a quote in the wrong place (a stray ``"``, or a quoted field not closed on its line): quarantined;
- with more or fewer fields than the header: quarantined.

A line without quotes is split at the delimiter; a line with quotes is split by a regular expression of a CSV line
(RE2, linear in the line's length), and its quoted fields unquoted. So one bad line is quarantined alone, and every
other line of the file is read. An empty field is NULL, as a CSV reader reads it.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from pipeline.ingest.read import NOT_UTF8, PreparedFile
from pipeline.sql import sql_file, sql_string

MAX_LINE_BYTES = 65_536
"""A line longer than this (64 KB; an export's lines are well under 1 KB) is quarantined without being split."""
VALUE_CHARS = 200
"""How much of a quarantined value (or line) the quarantine keeps."""
DELIMITERS = {",": "','", ";": "';'", "\t": "chr(9)"}
"""SQL literals of the delimiters ``prepare`` recognises."""
_IN_REGEX = {",": ",", ";": ";", "\t": "\\t"}
LINE_REASONS = {
    "long": f"'line is ' || strlen(line) || ' bytes long, over the limit of {MAX_LINE_BYTES:,} (a damaged file?)'",
    "nul": "'line holds a NUL byte (a damaged file?)'",
    "bytes": f"'line has bytes that are not UTF-8 (shown as {NOT_UTF8}): export the file again as CSV (UTF-8)'",
    "quote": "'line has a quote in the wrong place (a stray \" or a quoted field not closed on its line)'",
    "many": "'line has ' || len(fields) || ' fields, the header {columns} (a stray delimiter or an unquoted comma?)'",
    "few": "'line has ' || len(fields) || ' fields, the header {columns} (a line cut short?)'",
    "header": "'the header row again (two exports joined into one file?)'",
}
"""What a data lead reads for each problem of a whole line (SQL; ``{columns}`` is the header's field count)."""


class FileRefusedError(Exception):
    """A file that is not loaded at all (truncated, changed while read, counts that do not add up); the message
    names the file and says what to do."""


def sql_text(name: str) -> str:
    """The text of ``pipeline/ingest/sql/<name>``."""
    return sql_file("pipeline.ingest", name)


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object] | None = None) -> int:
    """The first value of the first row of ``sql``, as an int (0 for none or NULL)."""
    row = con.execute(sql, params or {}).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


READ_LINES = sql_text("read_lines.sql")
READ_PLAIN_LINES = sql_text("read_plain_lines.sql")
DROP_REJECTS = "drop table if exists reject_errors; drop table if exists reject_scans"
"""Forget the lines the last read rejected (DuckDB's CSV reader adds to these tables; each read starts afresh)."""
PLAIN_NUMBERED = """
    create or replace temp view incoming_lines as
    select rowid - {first} + 2 as line_number, line, line_hash, line_hash2 from plain_lines
"""
"""Each line of ``plain_lines`` with its number in the file: rows keep the file's order in the table (their rowids
start at a large offset inside a transaction, hence the subtraction; a view cannot take parameters)."""
LINE_COUNTS = sql_text("line_counts.sql")
INCOMING = """
    select line_number as position, line, line_hash, line_hash2 from incoming_lines
    where not blank_line(line) and line_number <= {last_line}
"""
"""The data lines of ``incoming_lines`` (a view cannot take parameters: the number of lines is written in)."""


@dataclass(frozen=True)
class LineCounts:
    data: int
    """Lines after the header that are not blank: the file's rows read."""
    blank: int
    last: int
    """The number of the last data line (0 when there is none)."""


def read_lines(con: duckdb.DuckDBPyConnection, prepared: PreparedFile) -> LineCounts:
    """Read every line of ``prepared`` into the temp view ``incoming_lines`` and the view ``incoming`` (its data
    lines, ``position`` being the line number); raise :class:`FileRefusedError` when the file is truncated or its
    lines are not the ones counted from its bytes."""
    physical = {"physical_lines": prepared.physical_lines}
    con.execute(VISIBLE)
    if not (prepared.plain and _read_plain(con, prepared)):
        con.execute(READ_LINES, {"path": str(prepared.readable_path), "line_end": prepared.line_end, **physical})
        con.execute("create or replace temp view incoming_lines as select * from text_lines")
    counted = con.execute(LINE_COUNTS, physical).fetchone()
    data, blank, beyond, last = (int(v) for v in counted or (0, 0, 0, 0))
    con.execute(f"create or replace temp view incoming as {INCOMING.format(last_line=int(prepared.physical_lines))}")
    if beyond or data + blank != max(prepared.physical_lines - 1, 0):
        raise FileRefusedError(
            f"{prepared.label} changed while it was read ({prepared.physical_lines:,} lines counted in its bytes, "
            f"{data + blank + beyond + 1:,} read): load it again once it is complete"
        )
    if data and not prepared.ends_with_line_end:
        raise FileRefusedError(
            f"{prepared.label} may be truncated: its last line (line {prepared.physical_lines:,}) has no line end "
            "(an interrupted copy?): re-export it"
        )
    return LineCounts(data, blank, last)


def _read_plain(con: duckdb.DuckDBPyConnection, prepared: PreparedFile) -> bool:
    """Read a plain file's lines with DuckDB's line reader into ``incoming_lines``, if that gives every line of
    the file (as many lines as its bytes have, none rejected, so no blank line was skipped); say whether it did.
    If not, nothing of the attempt is left."""
    con.execute(DROP_REJECTS)
    con.execute(READ_PLAIN_LINES, {"path": str(prepared.readable_path)})
    row = con.execute(
        "select count(*), coalesce(min(rowid), 0), (select count(*) from reject_errors), "
        "count(*) filter (where coalesce(line, '') = '') from plain_lines"
    ).fetchone()
    lines, first, rejected, empty = (int(v) for v in row or (0, 0, 0, 0))
    con.execute(DROP_REJECTS)
    if rejected or empty or lines != prepared.physical_lines - 1:
        con.execute("drop table plain_lines")
        return False
    con.execute(PLAIN_NUMBERED.format(first=first))
    return True


def fields(prepared: PreparedFile) -> str:
    """SQL for a ``line``'s fields as text (a list; NULL when the line is too long or its quotes are broken)."""
    delimiter, d = DELIMITERS[prepared.delimiter], _IN_REGEX[prepared.delimiter]
    field = f'"(?:[^"]|"")*"|[^"{d}]*'
    whole = f"(?:{field})(?:{d}(?:{field}))*"
    one = f"{d}({field})"  # each field, after a delimiter put before the line (so that no match is empty)
    if prepared.plain and not prepared.quotes:  # no long line, no quote: the common case, split at the delimiter
        return f"string_split(line, {delimiter})"
    return (
        f"case when strlen(line) > {MAX_LINE_BYTES} then null "
        f"when not contains(line, '\"') then string_split(line, {delimiter}) "
        f"when regexp_full_match(line, '{whole}') then list_transform(regexp_extract_all({delimiter} || line, "
        f"'{one}', 1), lambda f: case when starts_with(f, '\"') then replace(f[2:-2], '\"\"', '\"') else f end) end"
    )


def columns(prepared: PreparedFile) -> str:
    """SQL for the contract's columns as text, from a row's ``fields`` (an empty field, or a column the file does
    not have, is NULL)."""
    return ", ".join(f"{column_text(prepared, c.name)} as {c.name}" for c in prepared.export.columns)


def column_text(prepared: PreparedFile, name: str) -> str:
    """SQL for one contract column's text, from a row's ``fields`` (NULL when empty or not in the file)."""
    if name not in prepared.columns:
        return "null::varchar"
    return f"nullif(fields[{prepared.columns.index(name) + 1}], '')"


def line_problem(prepared: PreparedFile) -> str:
    """SQL for what is wrong with a whole ``line`` (with its ``fields``), or NULL."""
    marked = prepared.bytes_not_utf8 > 0
    n = len(prepared.columns)
    plain = prepared.plain  # (no line over the limit and no NUL: see PreparedFile.plain)
    again = sql_string(prepared.header_line) if prepared.header_line else ""
    return (
        "case "
        + ("" if plain else f"when strlen(line) > {MAX_LINE_BYTES} then {LINE_REASONS['long']} ")
        + ("" if plain else f"when contains(line, chr(0)) then {LINE_REASONS['nul']} ")
        + (f"when contains(line, '{NOT_UTF8}') then {LINE_REASONS['bytes']} " if marked else "")
        + (f"when line in ({again}, chr(65279) || {again}) then {LINE_REASONS['header']} " if again else "")
        + f"when fields is null then {LINE_REASONS['quote']} "
        f"when len(fields) > {n} then {LINE_REASONS['many'].format(columns=n)} "
        f"when len(fields) < {n} then {LINE_REASONS['few'].format(columns=n)} end"
    )


VISIBLE = sql_text("visible.sql")
"""Defines the macro ``visible_text`` (in each connection that reads lines; see :func:`visible`)."""


def visible(text: str) -> str:
    """SQL for ``text`` as the quarantine shows it: its first :data:`VALUE_CHARS` characters, control characters
    shown as their Unicode pictures (NUL as ␀, tab as ␉), and "…" when it was cut (``sql/visible.sql``)."""
    return f"visible_text({text})"
