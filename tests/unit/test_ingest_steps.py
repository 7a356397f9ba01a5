"""The steps of a load, one at a time, on small literal files and tables."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import pytest

from pipeline.contract import FILES_BY_NAME
from pipeline.ingest.lines import FileRefusedError, read_lines
from pipeline.ingest.read import PreparedFile, UnreadableFileError, prepare
from pipeline.ingest.steps import dedupe_step

ATTENDANCE = FILES_BY_NAME["attendance.csv"]


def _prepared(tmp_path: Path, content: bytes) -> PreparedFile:
    path = tmp_path / "attendance.csv"
    path.write_bytes(content)
    return prepare("100001", ATTENDANCE, path, tmp_path)


def test_read_lines_numbers_every_line_as_in_the_file(tmp_path: Path) -> None:
    prepared = _prepared(tmp_path, b'upn,date,session,mark\r\nA,2025-11-03,AM,/\r\n\r\nB,2025-11-03,AM,"x\r\n')
    assert (prepared.physical_lines, prepared.ends_with_line_end) == (4, True)
    con = duckdb.connect()
    counts = read_lines(con, prepared)
    assert (counts.data, counts.blank, counts.last) == (2, 1, 4)
    assert con.execute("select position, line from incoming order by position").fetchall() == [
        (2, "A,2025-11-03,AM,/"),
        (4, 'B,2025-11-03,AM,"x'),
    ]


def test_read_lines_refuses_a_file_cut_off_mid_line(tmp_path: Path) -> None:
    prepared = _prepared(tmp_path, b"upn,date,session,mark\nA,2025-11-03,AM,/\nB,2025-1")
    with pytest.raises(FileRefusedError, match=r"may be truncated: its last line \(line 3\) has no line end"):
        read_lines(duckdb.connect(), prepared)


def test_read_lines_refuses_a_file_that_changed_after_it_was_counted(tmp_path: Path) -> None:
    prepared = _prepared(tmp_path, b"upn,date,session,mark\nA,2025-11-03,AM,/\n")
    prepared.readable_path.write_bytes(b"upn,date,session,mark\nA,2025-11-03,AM,/\nB,2025-11-03,AM,/\n")
    with pytest.raises(FileRefusedError, match="changed while it was read"):
        read_lines(duckdb.connect(), prepared)


def test_dedupe_loads_identical_repeats_once_and_quarantines_conflicting_ones() -> None:
    con = duckdb.connect()
    con.execute(
        """
        create temp table checked as
        select * from (values
            (2, 'A', date '2025-11-03', 'AM', '/', null::integer),
            (3, 'A', date '2025-11-03', 'AM', '/', null),
            (4, 'B', date '2025-11-03', 'AM', '/', null),
            (5, 'B', date '2025-11-03', 'AM', 'L', 5),
            (6, 'C', date '2025-11-03', 'AM', '/', null)
        ) as t(line_number, upn, date, session, mark, minutes_late),
        lateral (select null::varchar as problem_column, null::varchar as problem_value,
                 null::varchar as problem_reason, []::varchar[] as warnings)
        """
    )
    assert dedupe_step(con, ATTENDANCE) == 3  # lines 2, 3 (a copy, loaded once) and 6
    assert con.execute("select line_number from clean order by 1").fetchall() == [(2,), (6,)]
    reason = "the same upn + date + session is on lines 4, 5 with different values"
    assert con.execute(
        "select line_number, problem_value, problem_reason from checked where problem_reason is not null order by 1"
    ).fetchall() == [(4, "B + 2025-11-03 + AM", reason), (5, "B + 2025-11-03 + AM", reason)]


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"])
def test_the_line_reader_and_the_text_split_read_the_same_lines(tmp_path: Path, newline: bytes) -> None:
    lines = [b"upn,date,session,mark", b"A,2025-11-03,AM,/", b"  ", b'B,"2025-11-03",AM,\\', b"C,2025-11-03,PM,x;y"]
    prepared = _prepared(tmp_path, newline.join(lines) + newline)
    assert prepared.plain
    seen = []
    for plain in (True, False):
        con = duckdb.connect()
        read_lines(con, dataclasses.replace(prepared, plain=plain))
        seen.append(con.execute("select * from incoming order by position").fetchall())
    assert seen[0] == seen[1]
    # a line of spaces alone holds no value: a blank line, in either reader
    assert [row[:2] for row in seen[0]] == [(n + 2, line.decode()) for n, line in enumerate(lines[1:]) if line.strip()]


def test_a_file_with_a_blank_line_is_read_as_text(tmp_path: Path) -> None:
    prepared = _prepared(tmp_path, b"upn,date,session,mark\nA,2025-11-03,AM,/\n\nB,2025-11-03,AM,/\n")
    assert prepared.plain  # (the bytes do not tell; the line reader skips the blank line, and the count says so)
    con = duckdb.connect()
    counts = read_lines(con, prepared)
    assert (counts.data, counts.blank) == (2, 1)
    assert con.execute("select position from incoming order by 1").fetchall() == [(2,), (4,)]


def test_a_file_that_cannot_be_read_is_refused_with_a_plain_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def denied(path: Path, label: str) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("pipeline.ingest.read._scan", denied)
    with pytest.raises(UnreadableFileError) as refused:
        _prepared(tmp_path, b"upn,date,session,mark\n")
    assert str(refused.value) == (
        "100001/attendance.csv could not be read (Permission denied): check that it is there and that the "
        "pipeline's user may read it"
    )
