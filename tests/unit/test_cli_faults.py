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


def test_a_path_that_cannot_be_used_and_options_that_go_with_others_are_bad_input(tmp_path: Path) -> None:
    """An output folder under a file, --card without a world, a negative seed: exit 2, saying what to fix (each
    was exit 1, "unexpected error", or, for --card, silently the configured card's figures)."""
    done = _mentor("sample", "--out", "/dev/null/x")
    assert (done.returncode, done.stderr.strip()) == (
        2,
        "mentor cannot use /dev/null/x: Not a directory; give another path",
    )
    done = _mentor("evaluate", "--db", str(tmp_path / "w.duckdb"), "--out", str(tmp_path), "--card", "/no.yaml")
    assert done.returncode == 2
    assert done.stderr.startswith("--card go with --world or --sample-seed")
    done = _mentor("evaluate", "--sample-seed", "-1", "--out", str(tmp_path))
    assert (done.returncode, done.stderr.strip()) == (2, "a seed is a whole number of 0 or more, not -1")
