"""A command that meets a damaged warehouse, or a fault of its own, says so in one line with exit 1: never a
traceback on the console (a traceback can quote a pupil's data), unless MENTOR_TRACEBACK asks for it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from pipeline.ingest.read import TEMPORARY_PREFIX, temporary_workdir

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


def test_a_command_sent_sigterm_cleans_up_and_says_so(tmp_path: Path) -> None:
    """A job's time limit sends SIGTERM: `mentor check` died with its plain-text copies of pupils' files left in
    the temporary folder for good; now it removes them, says why it stopped, and exits 143 as a killed job does."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    sample = Path(__file__).resolve().parents[2] / "data" / "sample"
    # SIGTERM once the first school's pupils.csv has loaded (pipeline.faults): the scratch folder holds copies then
    done = _mentor("check", str(sample), TMPDIR=str(scratch), MENTOR_TERM_AT="ingest:105854/pupils.csv")
    assert done.returncode == 143, done.stderr
    assert done.stderr.strip().endswith("mentor stopped: it was sent SIGTERM; nothing more was done")
    assert list(scratch.iterdir()) == []


def test_a_killed_load_s_temporary_folder_is_removed_by_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGKILL cannot be cleaned up after: the next temporary scratch folder removes those whose process ended."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    orphan, alive = tmp_path / f"{TEMPORARY_PREFIX}orphan", tmp_path / f"{TEMPORARY_PREFIX}alive"
    for folder, pid in ((orphan, ended.stdout.strip()), (alive, str(os.getpid()))):
        folder.mkdir()
        (folder / "pid").write_text(pid, encoding="ascii")
        (folder / "127510-pupils.csv").write_text("a copy of pupils.csv\n", encoding="utf-8")
    legacy, fresh = tmp_path / f"{TEMPORARY_PREFIX}legacy", tmp_path / f"{TEMPORARY_PREFIX}fresh"
    for folder in (legacy, fresh):  # made before folders recorded their process: a day old, and just made
        folder.mkdir()
        (folder / "127510-pupils.csv").write_text("a copy of pupils.csv\n", encoding="utf-8")
    os.utime(legacy, (time.time() - 2 * 86400, time.time() - 2 * 86400))
    with temporary_workdir() as made:
        assert Path(made).parent == tmp_path
    assert not orphan.exists()
    assert not legacy.exists()
    assert fresh.exists()
    assert alive.exists()  # a load under way in another process
    assert not Path(made).exists()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full, a device whose every write fails")
def test_a_log_that_cannot_be_written_does_not_flood_the_console(tmp_path: Path) -> None:
    """A full disk: every log line printed Python's "--- Logging error ---" report (991 console lines, each quoting
    the message's values), and closing the log stopped the run with "unexpected error" after it had published."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "mentor.log").symlink_to("/dev/full")
    sample = Path(__file__).resolve().parents[2] / "data" / "sample"
    done = _mentor("run", "--exports", str(sample), "--db", str(tmp_path / "w.duckdb"), "--out", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Logging error" not in done.stderr
    assert f"the log {out / 'mentor.log'} could not be written in full (No space left on device)" in done.stderr
    assert len(done.stderr.splitlines()) < 60


def test_a_run_sent_sigterm_says_so_in_run_json(tmp_path: Path) -> None:
    """run.json stayed "running" with no exit code: a monitor could not tell a stopped run from one under way."""
    sample = Path(__file__).resolve().parents[2] / "data" / "sample"
    out = tmp_path / "out"
    args = ["run", "--exports", str(sample), "--db", str(tmp_path / "w.duckdb"), "--out", str(out)]
    done = _mentor(*args, MENTOR_TERM_AT="ingest:127510/attendance.csv")
    assert done.returncode == 143, done.stderr
    report = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert report["status"] == "stopped during ingest: nothing more was published"
    assert report["exit_code"] == 143
