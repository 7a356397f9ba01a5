"""Damage random lines of a real sample attendance.csv in random ways: every physical line is still accounted for,
and every undamaged line is loaded unchanged."""

from __future__ import annotations

import datetime as dt
import tempfile
from functools import cache
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.ingest import ingest
from pipeline.warehouse import connect

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
LINES = 300
"""Data lines of the sample's attendance.csv used (its first ones, of a few pupils)."""
TODAY = dt.date(2025, 12, 1)


@cache
def _sample() -> tuple[bytes, bytes, list[bytes]]:
    """The first sample school's pupils.csv, and its attendance.csv's header and first data lines (as bytes)."""
    school = sorted(p for p in SAMPLE.iterdir() if p.is_dir())[0]
    header, *lines = (school / "attendance.csv").read_bytes().split(b"\n")[: LINES + 1]
    return (school / "pupils.csv").read_bytes(), header, [line.rstrip(b"\r") for line in lines]


DAMAGE = st.sampled_from(["quote", "nul", "cut", "extra field", "fewer fields", "long", "cp1252", "bad byte", "blank"])


def _damaged(line: bytes, how: str, where: int) -> bytes:
    at = where % (len(line) + 1)
    match how:
        case "quote":
            return line[:at] + b'"' + line[at:]
        case "nul":
            return line[:at] + b"\x00" + line[at:]
        case "cut":
            return line[:at]
        case "extra field":
            return line + b",extra"
        case "fewer fields":
            return line.rsplit(b",", 2)[0]
        case "long":
            return line + b"x" * 70_000
        case "cp1252":
            return line[:at] + b"\xe9" + line[at:]
        case "bad byte":
            return line[:at] + b"\x81" + line[at:]
        case _:
            return b""


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.integers(0, LINES - 2),  # (never the last line: a damaged last line may rightly fail the whole file)
        st.tuples(DAMAGE, st.integers(0, 200)),
        min_size=1,
        max_size=8,
    )
)
def test_every_line_of_a_damaged_file_is_accounted_for(damage: dict[int, tuple[str, int]]) -> None:
    pupils, header, lines = _sample()
    written = [_damaged(line, *damage[n]) if n in damage else line for n, line in enumerate(lines)]
    with tempfile.TemporaryDirectory() as folder:
        school = Path(folder) / "100001"
        school.mkdir()
        (school / "pupils.csv").write_bytes(pupils)
        (school / "attendance.csv").write_bytes(b"\n".join([header, *written]) + b"\n")
        con = connect()
        result = ingest(con, Path(folder), today=TODAY)
    outcome = next(f for f in result.files if f.file == "attendance.csv")
    assert outcome.status == "loaded", outcome.notes
    blank = sum(1 for line in written if line.rstrip(b"\r") == b"")
    # Every physical line: the header, the blank ones, and the rows read, each loaded or quarantined.
    assert 1 + blank + outcome.rows_read == 1 + len(written)
    assert outcome.rows_read == outcome.rows_loaded + outcome.rows_quarantined
    quarantined = _lines(con, "select line_number from quarantine where outcome = 'row quarantined'")
    loaded = _lines(con, "select line_number from raw_attendance where clean")
    staged = _lines(con, "select line_number from attendance")
    assert len(quarantined) == outcome.rows_quarantined
    data_lines = {n + 2 for n, line in enumerate(written) if line != b""}
    # Each data line is in exactly one of: quarantined, or loaded (in the raw layer, or an identical repeat).
    assert quarantined.isdisjoint(staged)
    assert quarantined | _lines(con, "select line_number from raw_attendance") == data_lines
    # Every undamaged line (of a pupil on roll, as all the sample's are) is loaded with its values unchanged.
    undamaged = {n + 2 for n in range(len(lines)) if n not in damage}
    assert undamaged <= loaded | staged
    rows = con.execute(
        "select line_number, upn, strftime(date, '%Y-%m-%d'), session, mark from attendance order by line_number"
    ).fetchall()
    by_line = {row[0]: row[1:] for row in rows}
    for n in undamaged & set(by_line):
        upn, date, session, mark = lines[n - 2].decode().split(",")[:4]
        assert by_line[n] == (upn, _iso(date), session.upper(), mark)


def _lines(con: duckdb.DuckDBPyConnection, sql: str) -> set[int]:
    return {int(row[0]) for row in con.execute(sql).fetchall()}


def _iso(date: str) -> str:
    return "-".join(reversed(date.split("/"))) if "/" in date else date
