"""Fault injection for the crash-safety tests: kill this process at a named point of a run.

Set ``MENTOR_KILL_AT`` to a point's name (e.g. ``gate``, ``publish:127510``, ``ingest:105854/attendance.csv``) and
the process sends itself SIGKILL when it gets there, exactly as a power cut or the OOM killer would stop it; set
``MENTOR_TERM_AT`` and it sends itself SIGTERM there, as a job's time limit would. Unset, as in every real run,
:func:`checkpoint` does nothing.
"""

from __future__ import annotations

import os
import signal

KILL_AT = "MENTOR_KILL_AT"
TERM_AT = "MENTOR_TERM_AT"


def checkpoint(name: str) -> None:
    """Die here, at once and without cleaning up, or be told to stop (SIGTERM), if the tests asked for it."""
    if os.environ.get(KILL_AT) == name:
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get(TERM_AT) == name:
        os.kill(os.getpid(), signal.SIGTERM)
