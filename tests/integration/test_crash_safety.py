"""Killing `mentor run` (SIGKILL) at several points leaves the warehouse consistent and the last published
outputs intact, and the next run publishes exactly what an uninterrupted run would have.

Each scenario: night 1 (17 October) is published; night 2 (the latest) is killed at a point; the outputs must be
night 1's, byte for byte; a second attempt at night 2 must then publish the same shortlists as a reference
warehouse where night 2 ran uninterrupted.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.warehouse import connect

pytestmark = pytest.mark.slow

NIGHT_1 = "2025-10-17"
LISTINGS = [f"{school}/{name}" for school in ("105854", "127510") for name in ("shortlist.csv", "under_challenged.csv")]


def _run(root: Path, name: str, as_of: str | None = None, kill_at: str | None = None) -> int:
    env = {k: v for k, v in os.environ.items() if k != "MENTOR_KILL_AT"}
    if kill_at:
        env["MENTOR_KILL_AT"] = kill_at
    command = [sys.executable, "-m", "pipeline", "run", "--exports", str(root / "exports"),
               "--db", str(root / f"{name}.duckdb"), "--out", str(root / f"{name}-out"), "--quiet"]  # fmt: skip
    if as_of:
        command += ["--as-of", as_of]
    return subprocess.run(command, env=env, capture_output=True, timeout=300).returncode


def _outputs(folder: Path) -> dict[str, bytes]:
    return {listing: (folder / listing).read_bytes() for listing in LISTINGS}


@pytest.fixture(scope="module")
def nights(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A reference warehouse that ran night 1 then night 2, and a copy of it taken after night 1."""
    root = tmp_path_factory.mktemp("crash")
    shutil.copytree(sample_dir, root / "exports")
    assert _run(root, "reference", NIGHT_1) == 0
    shutil.copy(root / "reference.duckdb", root / "after-night-1.duckdb")
    shutil.copytree(root / "reference-out", root / "after-night-1-out")
    assert _run(root, "reference") == 0
    return root


@pytest.mark.parametrize(
    "kill_at",
    ["ingest:105854/attendance.csv", "ingest:127510/behaviour.csv", "data-quality", "features", "publish:105854"],
)
def test_a_run_killed_anywhere_keeps_the_last_outputs_and_the_next_run_catches_up(nights: Path, kill_at: str) -> None:
    name = "killed-" + kill_at.replace(":", "-").replace("/", "-").replace(",", "")
    shutil.copy(nights / "after-night-1.duckdb", nights / f"{name}.duckdb")
    shutil.copytree(nights / "after-night-1-out", nights / f"{name}-out")
    before = _outputs(nights / f"{name}-out")

    assert _run(nights, name, kill_at=kill_at) == -signal.SIGKILL

    after_kill = _outputs(nights / f"{name}-out")
    if kill_at.startswith("publish:"):
        # killed between two files: each file is whole (written to a temporary file and renamed), old or new
        assert after_kill["127510/shortlist.csv"] == before["127510/shortlist.csv"]
    else:
        assert after_kill == before
    con = connect(nights / f"{name}.duckdb")  # opens and replays its log: the warehouse is consistent
    assert con.execute("select count(*) from pupils").fetchone()[0] > 0  # type: ignore[index]
    con.close()
    assert not list((nights / f"{name}-out").rglob(".*.tmp"))

    assert _run(nights, name) == 0  # the lock of the killed run is not in the way
    assert _outputs(nights / f"{name}-out") == _outputs(nights / "reference-out")
