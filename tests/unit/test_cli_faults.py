"""A command that meets a damaged warehouse, or a fault of its own, says so in one line with exit 1: never a
traceback on the console (a traceback can quote a pupil's data), unless MENTOR_TRACEBACK asks for it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

DAMAGED = b"not a warehouse " * 400


def _mentor(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MENTOR_")}
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args], env={**clean, **env}, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("command", [["features"], ["ingest", "--exports", "."], ["explain", "X"]])
def test_a_damaged_warehouse_is_named_with_what_to_do(tmp_path: Path, command: list[str]) -> None:
    db = tmp_path / "w.duckdb"
    db.write_bytes(DAMAGED)
    done = _mentor(*command, "--db", str(db))
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"the warehouse {db} is not a DuckDB database (damaged, or another kind of file): restore it from its "
        "backup, or give a new --db path to build a warehouse again from the exports"
    )


def test_any_other_fault_is_one_line_and_the_traceback_is_there_when_asked_for(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    db.write_bytes(DAMAGED)
    done = _mentor("rekey", "--decrypt", "--db", str(db))  # (rekey reads the file through DuckDB's own attach)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "mentor stopped with an unexpected error (IOException); nothing more was done. Run it again with "
        "MENTOR_TRACEBACK=1 to see where: the details may quote pupil data, so keep them private"
    )
    asked = _mentor("rekey", "--decrypt", "--db", str(db), MENTOR_TRACEBACK="1")
    assert asked.returncode == 1
    assert "Traceback (most recent call last)" in asked.stderr
