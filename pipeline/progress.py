"""Progress on long work: a bar on a terminal, plain log lines for schedulers and pipes (never a bar in a log).

>>> with steps(2, "schools", terminal=False) as step:
...     step("school 1")
...     step("school 2")
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

log = logging.getLogger(__name__)


@contextmanager
def steps(
    total: int, what: str, terminal: bool | None = None, console: Console | None = None
) -> Iterator[Callable[[str], None]]:
    """Yield ``step(text)``, to be called after each of ``total`` pieces of work (schools, sizes, windows).

    On a terminal (``console`` on stderr by default) it draws a bar with the count and the elapsed time; otherwise,
    or with ``terminal=False``, each step is one log line ("schools 3/50: school 100003"). ``text`` must never hold a
    pupil's name or UPN.
    """
    console = console or Console(stderr=True)
    if not (console.is_terminal if terminal is None else terminal):
        done = 0

        def log_step(text: str) -> None:
            nonlocal done
            done += 1
            log.info("%s %d/%d: %s", what, done, total, text)

        yield log_step
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(what, total=total)

        def bar_step(text: str) -> None:
            progress.update(task, advance=1, description=f"{what}: {text}")
            progress.console.print(f"{what}: {text}", highlight=False, markup=False)  # stays above the bar

        yield bar_step
