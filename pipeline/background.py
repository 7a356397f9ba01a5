"""Work the nightly run does in one worker thread while the main thread waits on DuckDB (which releases the GIL).

Kept apart from :mod:`pipeline.run` so the job there reads as its stages. During ingest the worker imports the
libraries of the later stages (Great Expectations, scikit-learn, matplotlib: seconds of imports); while the
features run it builds the gate's data docs and draws the report's weekly trend charts. Every piece of work is
timed, and the times go to run.json as ``background_seconds`` (work done alongside the stages, inside the total).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb

if TYPE_CHECKING:
    from pipeline.report.trends import Trends

T = TypeVar("T")

IMPORTS = "importing the gate's, scores' and report's libraries"
DATA_DOCS = "the gate's data docs"
TRENDS = "trend charts"


class Background:
    """One worker thread for the nightly run; use as a context manager (it waits for its work on the way out)."""

    def __init__(self) -> None:
        self.executor = ThreadPoolExecutor(1, "mentor-background")
        self.seconds: dict[str, float] = {}
        self._imports: Future[tuple[None, float]] | None = None
        self._trends: Future[tuple[Trends, float]] | None = None

    def __enter__(self) -> Background:
        return self

    def __exit__(self, *exc: object) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)

    def import_later_libraries(self) -> None:
        self._imports = self.executor.submit(_timed, _import_later_libraries)

    def wait_for_imports(self) -> None:
        """Block until the imports are done. Nothing may be imported by the calling thread meanwhile: two threads
        importing modules that import each other can deadlock (Python then hands one of them a half-made module)."""
        if self._imports is not None:
            self.seconds[IMPORTS] = self._imports.result()[1]
            self._imports = None

    def draw_trends(self, con: duckdb.DuckDBPyConnection, as_of: dt.date) -> None:
        """Draw the report's weekly trends from ``con`` (a connection of the worker's own, closed when done)."""
        self._trends = self.executor.submit(_timed, _draw_trends, con, as_of)

    def trends(self) -> Trends | None:
        """The weekly-trends section drawn by :meth:`draw_trends`, or None if none was asked for."""
        if self._trends is None:
            return None
        drawn, self.seconds[TRENDS] = self._trends.result()
        return drawn

    def wait_for_docs(self, docs: Future[float] | None) -> None:
        """Wait for the gate's data docs (built by this worker: ``run_gate(..., background=self.executor)``)."""
        if docs is not None:
            self.seconds[DATA_DOCS] = docs.result()


def _import_later_libraries() -> None:
    """Great Expectations (the gate), scikit-learn (scores) and matplotlib (the report) take seconds to import."""
    import great_expectations  # noqa: F401
    import matplotlib.backends.backend_agg
    import matplotlib.figure  # noqa: F401

    import pipeline.model.scoring
    import pipeline.report  # noqa: F401


def _draw_trends(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> Trends:
    from pipeline.report.html import weekly_attendance
    from pipeline.report.trends import draw_trends

    try:
        return draw_trends(weekly_attendance(con, as_of))
    finally:
        con.close()


def _timed(function: Callable[..., T], *args: Any) -> tuple[T, float]:
    """``function(*args)`` and the seconds it took."""
    started = time.perf_counter()
    return function(*args), time.perf_counter() - started
