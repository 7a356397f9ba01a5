import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.runlock import RunLockedError, run_lock

HOLD = """
import sys, time
from pathlib import Path
from pipeline.runlock import run_lock
with run_lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(60)
"""


def _holder(lock: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(lock)], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_second_run_is_refused_while_the_first_holds_the_lock(tmp_path: Path) -> None:
    lock = tmp_path / "warehouse.lock"
    holder = _holder(lock)
    try:
        refused = rf"process {holder.pid}, started .*this run did nothing"
        with pytest.raises(RunLockedError, match=refused), run_lock(lock):
            pass
    finally:
        holder.terminate()
        holder.wait()


def test_a_killed_run_leaves_no_stale_lock(tmp_path: Path) -> None:
    lock = tmp_path / "warehouse.lock"
    holder = _holder(lock)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    with run_lock(lock):
        assert lock.exists()


def test_the_lock_is_released_after_the_block_and_is_owner_only(tmp_path: Path) -> None:
    lock = tmp_path / "warehouse.lock"
    with run_lock(lock):
        pass
    started = time.monotonic()
    with run_lock(lock):
        assert time.monotonic() - started < 1
    assert lock.stat().st_mode & 0o777 == 0o600
