"""The nightly job: ingest -> gate -> features -> score -> shortlists, under a lock, publishing nothing on bad data.

Outputs in ``out``: ``run.json`` (what happened, counts, every check, timings), ``quarantine.csv`` (every row not
loaded and every value blanked, with the reason), and per school ``<school>/shortlist.csv`` and
``<school>/under_challenged.csv``. Each file is written atomically and owner-only. When the gate fails, the
shortlists from the last good run stay exactly as they were and the exit code is 3.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb

from pipeline import __version__
from pipeline.config import Settings
from pipeline.exit_codes import ExitCode
from pipeline.faults import checkpoint
from pipeline.features import build_features
from pipeline.ingest import IngestResult, ingest
from pipeline.model.card import Scorecard
from pipeline.runlock import run_lock
from pipeline.safe_csv import write_csv, write_json
from pipeline.validate.gate import GateResult, run_gate
from pipeline.warehouse import connect, worker_connection

if TYPE_CHECKING:
    from pipeline.report.trends import Trends

log = logging.getLogger(__name__)
T = TypeVar("T")

QUARANTINE_OF_LOAD = """
select school_id, file, line_number, column_name, value, reason, outcome
from quarantine where load_id = $load_id order by school_id, file, line_number
"""
LATEST_MARK = "select max(date) from attendance where date <= $today"


@dataclass
class RunResult:
    exit_code: ExitCode
    as_of: dt.date | None
    out: Path
    shortlists: dict[str, Path] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)


def run_pipeline(
    exports: Path,
    db: Path,
    out: Path,
    as_of: dt.date | None = None,
    settings: Settings | None = None,
    today: dt.date | None = None,
    progress: Callable[[str], None] | None = None,
) -> RunResult:
    """Run the whole nightly job once; see the module notes. Raises ``RunLockedError`` if a run is going on.

    ``progress`` is told the name of each stage as it starts (the command line shows it on a terminal).
    """
    settings = settings or Settings()

    def stage(name: str) -> float:
        checkpoint(name.split(" ")[0].rstrip(","))
        log.info("stage: %s", name)
        if progress is not None:
            progress(name)
        return time.perf_counter()

    today = today or dt.date.today()
    card = Scorecard.load(settings.scorecard)
    started = time.perf_counter()
    timings: dict[str, float] = {}
    with run_lock(db.with_name(db.name + ".lock")), ThreadPoolExecutor(1, "mentor-background") as background:
        # While the main thread waits on DuckDB (which releases the GIL), one worker thread imports the libraries of
        # the later stages during ingest, then builds the gate's data docs and draws the weekly trend charts while
        # the features run.
        warm = background.submit(_timed, _import_later_libraries)
        con = connect(db)
        try:
            mark = stage("ingest")
            loaded = ingest(con, exports, today=today)
            timings["ingest"] = time.perf_counter() - mark
            # Nothing is imported by this thread while the worker imports: two threads importing modules that
            # import each other can deadlock (Python then hands one of them a half-made module).
            mark = time.perf_counter()
            background_seconds = {"importing the gate's, scores' and report's libraries": warm.result()[1]}
            # On a small trust ingest can end before the libraries are imported: the wait is a stage of its own.
            timings["waiting for the libraries"] = time.perf_counter() - mark
            totals = loaded.totals()
            log.info(
                "ingest: %d files, %d rows read, %d loaded, %d quarantined, %d files unchanged since the last load",
                len(loaded.files),
                totals["rows_read"],
                totals["rows_loaded"],
                totals["rows_quarantined"],
                sum(f.status == "unchanged" for f in loaded.files),
            )
            as_of = as_of or _latest_mark(con, today)
            report = _report(loaded, as_of, settings, card)
            write_csv(con.execute(QUARANTINE_OF_LOAD, {"load_id": loaded.load_id}).df(), out / "quarantine.csv")
            if as_of is None:
                report["status"] = "gate failed: no attendance marks loaded"
                return _finish(RunResult(ExitCode.GATE_FAILED, None, out, report=report), timings, started, con, card,
                               None, background_seconds)  # fmt: skip
            mark = stage("data-quality gate")
            gate = run_gate(
                con,
                loaded.load_id,
                as_of,
                settings.max_quarantined_share,
                settings.roll_tolerance,
                docs_dir=out / "data_docs",
                background=background,
            )
            timings["gate"] = time.perf_counter() - mark
            # Drawn after the gate, not during it: the gate's Great Expectations code and the charts' query would
            # share the cores; the features that follow mostly wait on DuckDB.
            trends = background.submit(_timed, _draw_trends, worker_connection(con), as_of)
            report["checks"] = _checks(gate)
            if not gate.passed:
                failed = "; ".join(c.name for c in gate.failed_blocking)
                report["status"] = f"gate failed: {failed}. No new shortlist was published; the last good one stays."
                log.error("gate failed: %s", failed)
                return _finish(RunResult(ExitCode.GATE_FAILED, as_of, out, report=report), timings, started, con, card,
                               trends, background_seconds, gate.docs)  # fmt: skip

            result = RunResult(ExitCode.OK, as_of, out, report=report)
            mark = stage(f"features, score and shortlists for {as_of}")
            publish(con, as_of, card, settings, out, result)
            timings["features, scores and shortlists"] = time.perf_counter() - mark
            report["status"] = "ok"
            return _finish(result, timings, started, con, card, trends, background_seconds, gate.docs)
        finally:
            con.close()


def publish(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, card: Scorecard, settings: Settings, out: Path, result: RunResult
) -> None:
    """Features, then scores, then every school's shortlists; fill ``result`` with what was written."""
    from pipeline.model.scoring import score_features  # scikit-learn: imported in the background during ingest
    from pipeline.report import write_reports

    # The feature table is read and validated once, here, and handed to the next two stages.
    features = build_features(con, as_of).table
    score_features(con, card, features)
    written = write_reports(con, card, settings, out, features)
    result.shortlists.update(written["paths"])
    result.report["schools"] = written["schools"]
    result.report["versions"] = written["versions"]


def _import_later_libraries() -> None:
    """Great Expectations (the gate), scikit-learn (scores) and matplotlib (the report) take seconds to import."""
    import great_expectations  # noqa: F401
    import matplotlib.backends.backend_agg
    import matplotlib.figure  # noqa: F401

    import pipeline.model.scoring
    import pipeline.report  # noqa: F401


def _draw_trends(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> Trends:
    """The report's weekly-trends section, from a connection of its own (closed when done)."""
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


def _latest_mark(con: duckdb.DuckDBPyConnection, today: dt.date) -> dt.date | None:
    row = con.execute(LATEST_MARK, {"today": today}).fetchone()
    return row[0] if row and row[0] is not None else None


def _report(loaded: IngestResult, as_of: dt.date | None, settings: Settings, card: Scorecard) -> dict[str, Any]:
    return {
        "pipeline_version": __version__,
        "scorecard": f"{card.name} {card.version}",
        "config_hash": settings.fingerprint(),
        "load_id": loaded.load_id,
        "as_of": as_of,
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "totals": loaded.totals(),
        "files": [
            {
                "school": f.school_id,
                "file": f.file,
                "status": f.status,
                "sha256": f.sha256,
                "rows_read": f.rows_read,
                "rows_loaded": f.rows_loaded,
                "rows_quarantined": f.rows_quarantined,
                "values_blanked": f.values_blanked,
                "rows_unchanged": f.rows_unchanged,
                "duplicate_lines": f.duplicates_dropped,
                "withdrawn_codes_mapped": f.withdrawn_codes_mapped,
                "reconciles": f.status != "loaded" or f.reconciles,
                "seconds": round(f.seconds, 3),
                "notes": f.notes,
            }
            for f in loaded.files
        ],
        "notes": loaded.notes,
    }


def _checks(gate: GateResult) -> list[dict[str, Any]]:
    return [
        {
            "check": c.name,
            "blocking": c.blocking,
            "passed": c.success,
            "rows_checked": c.rows_checked,
            "unexpected": c.unexpected,
            "examples": c.examples,
        }
        for c in gate.checks
    ]


def _finish(
    result: RunResult,
    timings: dict[str, float],
    started: float,
    con: duckdb.DuckDBPyConnection | None = None,
    card: Scorecard | None = None,
    trends: Future[tuple[Trends, float]] | None = None,
    background_seconds: dict[str, float] | None = None,
    docs: Future[float] | None = None,
) -> RunResult:
    result.report["exit_code"] = int(result.exit_code)
    background_seconds = dict(background_seconds or {})
    if docs is not None:  # the gate's data docs, built in the worker thread while the features ran
        background_seconds["the gate's data docs"] = docs.result()
    if con is not None:
        from pipeline.report.html import write_html_report

        mark = time.perf_counter()
        drawn = None
        if trends is not None:
            drawn, background_seconds["trend charts"] = trends.result()
        write_html_report(con, result.report, card, result.out, trends=drawn)
        timings["report.html"] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - started
    result.report["timings_seconds"] = {k: round(v, 3) for k, v in timings.items()}
    # Work done by the worker thread alongside the stages above (not part of the total, already inside it).
    result.report["background_seconds"] = {k: round(v, 3) for k, v in background_seconds.items()}
    write_json(result.report, result.out / "run.json")
    return result
