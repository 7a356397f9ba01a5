"""One run at a time: an exclusive lock on a file beside the warehouse.

The lock is an ``flock`` on ``<warehouse>.lock``, so the operating system releases it when the process that holds
it ends, however it ends (a crash or ``kill -9`` included): a killed run never leaves a stale lock behind. The
file keeps the holder's process id and start time so that a refused run can say who holds it.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class RunLockedError(RuntimeError):
    """Another run holds the lock."""


@contextmanager
def run_lock(path: Path) -> Iterator[Path]:
    """Hold the lock at ``path`` for the duration of the ``with`` block, or raise :class:`RunLockedError` at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunLockedError(f"another run holds {path} ({_holder(path)}); this run did nothing") from None
        holder = {"pid": os.getpid(), "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _holder(path: Path) -> str:
    try:
        holder = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return "holder unknown"
    return f"process {holder.get('pid', '?')}, started {holder.get('started', '?')}"
