"""The nightly job, under a lock: ingest -> judge each school -> gate -> features -> score -> shortlists.

Each school is judged on its own. A school gets no new shortlist (it is *held back*, its last good shortlist stays
on disk untouched and is marked stale in run.json and report.html) when tonight's delivery has no folder for it (a
school the warehouse knows counts), when one of its files failed or a required file is missing, when it fails a
blocking data-quality check, or when its features break the feature contract. The other schools publish.

Outputs in ``out``: ``run.json`` (written for every run, whatever its end: a ``running`` record first, so it is
never a past night's), ``mentor.log`` (this run's log lines, and the traceback of an unexpected error),
``quarantine.csv``, ``report.html`` and per published school ``<school>/shortlist.csv`` and
``<school>/under_challenged.csv``. Each file is written atomically and owner-only. The exit code
(:mod:`pipeline.exit_codes`): 0 when every expected school published fresh data, 3 when any was held back, 1 on
an unexpected error, 2 on bad input.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import errno
import functools
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pandas as pd
from pandera.errors import SchemaErrors

from pipeline import __version__
from pipeline.background import Background
from pipeline.config import SCHOOL_TABLES, Settings
from pipeline.contract import STAFF_FILES
from pipeline.evaluate.dataset import learnable
from pipeline.exit_codes import ExitCode
from pipeline.faults import checkpoint
from pipeline.features import FEATURES_TABLE, FeatureResult, build_features
from pipeline.ingest import IngestResult, ingest
from pipeline.ingest.read import ExportsFolderError
from pipeline.keys import WarehouseKeyError
from pipeline.model.card import Scorecard, ScorecardError
from pipeline.runlock import run_lock
from pipeline.safe_csv import make_private_folder, write_csv, write_json
from pipeline.validate.feature_contract import validate_by_school
from pipeline.validate.gate import FILES_CHECK, GateResult, record_rolls, run_gate
from pipeline.warehouse import WarehouseDamagedError, connect, known_schools, latest_mark, worker_connection

log = logging.getLogger(__name__)

LOG_FILE = "mentor.log"
RUN_REPORT = "run.json"

QUARANTINE_OF_LOAD = """
select school_id, file, line_number, column_name, value, reason, outcome
from quarantine where load_id = $load_id order by school_id, file, line_number
"""
FEATURES_OF_TRUST = f"select * from {FEATURES_TABLE} order by school_id, upn"
KEEP_FEATURES_OF = f"delete from {FEATURES_TABLE} where not list_contains($schools, school_id)"


@dataclass
class SchoolStatus:
    """What tonight's run did for one school."""

    school_id: str
    published: bool = False
    reasons: list[str] = field(default_factory=list)
    """Why it was held back, in plain words (empty when published)."""
    shortlist: str | None = None
    """The shortlist on disk after the run: tonight's, or the last good one that stays (None if there is none)."""
    shortlist_as_of: str | None = None
    """The night that shortlist is for."""

    @property
    def stale(self) -> bool:
        return not self.published

    def hold_back(self, reason: str) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)


@dataclass
class RunReport:
    """Everything ``run.json`` records, filled in stage by stage."""

    config_hash: str = ""
    scorecard: str = ""
    pipeline_version: str = __version__
    started: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    status: str = "running"
    exit_code: int | None = None
    error: str | None = None
    """An unexpected error or bad input, in one plain sentence."""
    log: str | None = None
    load_id: str | None = None
    as_of: dt.date | None = None
    totals: dict[str, int] = field(default_factory=dict)
    files: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)
    schools: dict[str, Any] = field(default_factory=dict)
    """Per published school: roll, places and how they are filled, list sizes, the mix of main barriers, the caseload's
    statuses and the score distribution (pipeline.report.write_reports)."""
    versions: dict[str, str] = field(default_factory=dict)
    history: dict[str, Any] = field(default_factory=dict)
    """What ``mentor fit`` could learn from tonight (pipeline.evaluate.dataset.Learnable): past nights with a known
    outcome (for a learned card in use, those after its own), the first and last, and whether that is worth a fit."""
    school_status: dict[str, SchoolStatus] = field(default_factory=dict)
    timings_seconds: dict[str, float] = field(default_factory=dict)
    background_seconds: dict[str, float] = field(default_factory=dict)
    """Work done by the worker thread alongside the stages (inside the total, not added to it)."""

    @property
    def held_back(self) -> list[SchoolStatus]:
        return [s for _, s in sorted(self.school_status.items()) if not s.published]

    def school(self, school_id: str) -> SchoolStatus:
        return self.school_status.setdefault(school_id, SchoolStatus(school_id))

    def warn(self, note: str) -> None:
        """A warning for the data lead: on the console and in the log, and in run.json's (and report.html's) notes."""
        log.warning(note)
        self.notes.append(note)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["school_status"] = {
            school: {**asdict(status), "status": "published" if status.published else "held back",
                     "stale": status.stale}
            for school, status in sorted(self.school_status.items())
        }  # fmt: skip
        data["held_back"] = [status.school_id for status in self.held_back]
        data["timings_seconds"] = {k: round(v, 3) for k, v in self.timings_seconds.items()}
        data["background_seconds"] = {k: round(v, 3) for k, v in self.background_seconds.items()}
        return data


@dataclass
class RunResult:
    exit_code: ExitCode
    as_of: dt.date | None
    out: Path
    report: RunReport
    shortlists: dict[str, Path] = field(default_factory=dict)


class Stages:
    """The stage under way: logged, shown on a terminal, a kill point for the crash tests, and named in the
    sentence an unexpected error prints."""

    def __init__(self, progress: Callable[[str], None] | None) -> None:
        self.current = "starting"
        self.progress = progress

    def detail(self, text: str) -> None:
        """Progress within the stage under way, on a terminal only (the log has the stage's own lines)."""
        if self.progress is not None:
            self.progress(f"{self.current}: {text}")

    def begin(self, name: str) -> float:
        """Start stage ``name``; return the time it started (``time.perf_counter``)."""
        self.current = name
        checkpoint(name.split(" ")[0].rstrip(","))
        log.info("stage: %s", name)
        if self.progress is not None:
            self.progress(name)
        return time.perf_counter()


class Engine(Protocol):
    """Where the features and scores are computed, when not in DuckDB (:class:`pipeline.spark.SparkEngine`).

    Each method leaves the warehouse as its DuckDB twin does: the ``features`` table, then the ``scores`` table;
    then ``rank_shortlists`` ranks every school's candidates (the shortlists' SQL) for the report stage."""

    def describe(self) -> dict[str, str]: ...

    def build_features(self, con: duckdb.DuckDBPyConnection, as_of: dt.date) -> FeatureResult: ...

    def score_features(self, con: duckdb.DuckDBPyConnection, card: Scorecard, features: pd.DataFrame) -> object: ...

    def rank_shortlists(
        self, card: Scorecard, settings: Settings, decisions: pd.DataFrame, cuts: pd.DataFrame
    ) -> pd.DataFrame: ...


class BadInputError(Exception):
    """Input the run cannot start from (exit code 2); the message says what to fix."""


def run_pipeline(
    exports: Path,
    db: Path,
    out: Path,
    settings: Settings,
    as_of: dt.date | None = None,
    today: dt.date | None = None,
    progress: Callable[[str], None] | None = None,
    engine: Engine | None = None,
) -> RunResult:
    """Run the whole nightly job once; see the module notes. ``engine`` computes the features and scores (DuckDB,
    in the warehouse, by default).

    Raises ``RunLockedError`` if a run is going on (run.json is then that run's, and is left alone). Every other
    failure ends in a result with exit code 1 or 2 and a run.json saying what happened. ``progress`` is told the
    name of each stage as it starts (the command line shows it on a terminal).
    """
    with run_lock(db.with_name(db.name + ".lock")), _run_log(out) as log_handler:
        log_file = out / LOG_FILE if log_handler else None
        report = RunReport(log=str(log_file) if log_file else None)
        result = RunResult(ExitCode.FAILED, as_of, out, report)
        stages = Stages(progress)
        started = time.perf_counter()
        try:
            report.config_hash = settings.fingerprint()
            _write_report(report, out)  # "running": from here on run.json is never a past night's
            card = Scorecard.load(settings.scorecard)
            report.scorecard = f"{card.name} {card.version}"
            if not exports.is_dir():
                raise BadInputError(f"the exports folder {exports} does not exist or is not a folder")
            if as_of is not None:
                _refuse_to_overwrite_later_lists(out, as_of)
            _night(exports, db, out, settings, card, today or dt.date.today(), result, stages, engine)
        except (BadInputError, ExportsFolderError, ScorecardError, WarehouseKeyError) as error:
            result.exit_code = ExitCode.USAGE
            report.error = str(error)
            report.status = f"bad input: {error}"
        except Exception as error:  # any other failure: one plain sentence, the traceback to the log
            result.exit_code = ExitCode.FAILED
            report.error = _plain_error(error, stages.current, log_file)
            report.status = f"failed: {report.error}"
            _log_traceback(log_handler, stages.current)
        except (KeyboardInterrupt, SystemExit) as stop:  # SIGTERM (pipeline.cli) or Ctrl-C: stopped, and said so
            code = stop.code if isinstance(stop, SystemExit) and isinstance(stop.code, int) else ExitCode.FAILED
            report.exit_code = int(code)
            report.status = report.error = f"stopped during {stages.current}: nothing more was published"
            log.error("the run was %s", report.status)
            with contextlib.suppress(OSError):
                _write_report(report, out)
            raise
        report.exit_code = int(result.exit_code)
        report.timings_seconds["total"] = time.perf_counter() - started
        try:
            _write_report(report, out)
        except OSError as error:  # the folder cannot be written: the exit code and the console say what happened
            result.exit_code = ExitCode.FAILED
            report.error = f"{report.error or report.status}; and {RUN_REPORT} could not be written in {out} ({error})"
        return result


def _night(
    exports: Path,
    db: Path,
    out: Path,
    settings: Settings,
    card: Scorecard,
    today: dt.date,
    result: RunResult,
    stages: Stages,
    engine: Engine | None = None,
) -> None:
    """The stages, in order; ``result`` is filled in as they go (and says how far they got if one fails)."""
    report = result.report
    timings = report.timings_seconds
    with Background() as background:
        background.import_later_libraries()
        stages.current = "opening the warehouse"
        con = connect(db)
        try:
            mark = stages.begin("ingest")
            loaded = ingest(con, exports, today=today, progress=stages.detail)
            timings["ingest"] = time.perf_counter() - mark
            mark = time.perf_counter()
            background.wait_for_imports()  # (on a small trust ingest can end before the libraries are imported)
            timings["waiting for the libraries"] = time.perf_counter() - mark
            _record_ingest(report, loaded)
            write_csv(con.execute(QUARANTINE_OF_LOAD, {"load_id": loaded.load_id}).df(), out / "quarantine.csv")
            judge_deliveries(report, loaded, known_schools(con), exports)
            _note_unknown_schools(report, settings)

            night_given = result.as_of is not None
            result.as_of = report.as_of = result.as_of or latest_mark(con, today)
            if report.as_of is not None and not night_given:
                _note_old_night(report, report.as_of, today)
            gate: GateResult | None = None
            if report.as_of is None:
                for school in report.school_status.values():
                    school.hold_back("no attendance marks were loaded for any school")
            else:
                mark = stages.begin("data-quality gate")
                gate = run_gate(con, loaded.load_id, report.as_of, settings.max_quarantined_share,
                                settings.roll_tolerance, docs_dir=out / "data_docs",
                                background=background.executor)  # fmt: skip
                timings["gate"] = time.perf_counter() - mark
                # Drawn after the gate, not during it: the gate's Great Expectations code and the charts' query
                # would share the cores; the features that follow mostly wait on DuckDB.
                background.draw_trends(worker_connection(con), report.as_of)
                report.checks = _checks(gate)
                judge_gate(report, gate)

                publishable = sorted(s.school_id for s in report.school_status.values() if not s.reasons)
                if publishable:
                    mark = stages.begin(f"features, score and shortlists for {report.as_of}")
                    # A night given (--as-of) is reproduced: staff decisions count up to it, as on its own night.
                    # The nightly run's night counts them up to today (a decision made in a holiday acts at once).
                    decided = report.as_of if night_given else today
                    result.shortlists.update(publish(con, report.as_of, card, settings, out, report, publishable,
                                                   engine, decided))  # fmt: skip
                    record_rolls(con, loaded.load_id, report.as_of, sorted(result.shortlists))
                    timings["features, scores and shortlists"] = time.perf_counter() - mark
                    mark = time.perf_counter()
                    report.history = learnable(con, settings, card, report.as_of).to_json()
                    timings["past nights to learn from"] = time.perf_counter() - mark
            _last_good_shortlists(report, out)
            result.exit_code = verdict(report)

            from pipeline.report.html import write_html_report

            mark = time.perf_counter()
            stages.current = "writing report.html"
            trends = background.trends()
            background.wait_for_docs(gate.docs if gate else None)
            write_html_report(con, report.to_json(), card, out, trends=trends)
            timings["report.html"] = time.perf_counter() - mark
            report.background_seconds.update(background.seconds)
        finally:
            con.close()


def judge_deliveries(report: RunReport, loaded: IngestResult, known: set[str], exports: Path) -> None:
    """Hold back each school absent from tonight's delivery, and each school with a failed or missing file. A file
    staff write (decisions.csv) that failed does not hold its school back: the decisions read from it before stay
    in use, and a warning says tonight's were not read."""
    delivered = set(loaded.schools)
    for school in sorted(known | delivered):
        report.school(school)
    for school in sorted(known - delivered):
        report.school(school).hold_back(f"tonight's delivery has no folder for it (looked in {exports})")
    for failed in loaded.failed:
        note = failed.notes[0] if failed.notes else "it could not be loaded"
        if failed.file in STAFF_FILES:
            report.warn(
                f"{failed.school_id}: {failed.file} could not be read ({note}); the decisions in it are not used "
                "tonight (those read before stay in use) and the school publishes: correct the file"
            )
        else:
            report.school(failed.school_id).hold_back(f"{failed.file} failed: {note}")


def unknown_schools(settings: Settings, schools: set[str]) -> list[str]:
    """A note for each table of settings naming a school that neither tonight's delivery nor the warehouse has: a
    mistyped URN would otherwise leave the real school on the default places, or unnamed, without a word."""
    tables: dict[str, Mapping[str, object]] = {table: getattr(settings, table) for table in SCHOOL_TABLES}
    notes = []
    for table, values in tables.items():
        stray = sorted(set(values) - schools)
        if stray:
            notes.append(
                f"settings [{table}] name{'s' if len(stray) == 1 else ''} {', '.join(stray)}, which no delivery has "
                "brought, so no school here gets what is set there: check each against the school folders' names"
            )
    return notes


OLD_NIGHT_DAYS = 21
"""A night (the latest mark of any school) more days than this before today is warned of: longer than any school
holiday but the summer's, so in term time the whole trust's exports have stopped (each school's marks are judged
against the night by the gate, which cannot see a trust that stopped together)."""


def old_night(night: dt.date, today: dt.date) -> str | None:
    """The warning for a night more than :data:`OLD_NIGHT_DAYS` before ``today``, else None.

    >>> old_night(dt.date(2025, 11, 7), dt.date(2025, 11, 10)) is None
    True
    >>> old_night(dt.date(2025, 11, 7), dt.date(2025, 12, 10))[:84]
    'the latest attendance mark of any school is 33 days before today (7 November 2025): '
    """
    days = (today - night).days
    if days <= OLD_NIGHT_DAYS:
        return None
    return (
        f"the latest attendance mark of any school is {days} days before today ({night.day} {night:%B %Y}): "
        "tonight's lists are for that day. In the summer holiday that is expected; in term time the exports have "
        "stopped: check the MIS export job"
    )


def _note_old_night(report: RunReport, night: dt.date, today: dt.date) -> None:
    note = old_night(night, today)
    if note:
        report.warn(note)


def _note_unknown_schools(report: RunReport, settings: Settings) -> None:
    for note in unknown_schools(settings, set(report.school_status)):
        report.warn(note)


def judge_gate(report: RunReport, gate: GateResult) -> None:
    """Hold back each school that failed a blocking check (a school held back already for its files is not told
    again that they were not read)."""
    for school, checks in gate.failed_schools().items():
        status = report.school(school)
        files_judged = bool(status.reasons)
        for check in checks:
            if files_judged and check.name == FILES_CHECK:
                continue
            value = check.schools_failed.get(school)
            status.hold_back(f"data-quality check failed: {check.name}{_failed_value(value)}")


def _failed_value(shown: str | None) -> str:
    """The value a school failed a check with, as the check shows it (``pipeline.validate.gate.Check.shown``: "8.4% of
    a file's rows", where it read 0.0837708830548926), in brackets after the check's name; nothing if none."""
    return f" ({shown})" if shown else ""


def publish(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    card: Scorecard,
    settings: Settings,
    out: Path,
    report: RunReport,
    schools: list[str],
    engine: Engine | None = None,
    today: dt.date | None = None,
) -> dict[str, Path]:
    """Features, then scores, then the shortlists of ``schools`` (staff decisions counted up to ``today``, see
    ``write_reports``); return school -> shortlist path.

    The features are built for the whole trust; a school whose features break the contract is held back (its
    rows go, with the rows of every school not in ``schools``, from the feature table before scoring).
    """
    from pipeline.model.scoring import score_features  # scikit-learn: imported in the background during ingest
    from pipeline.report import write_reports

    try:
        features = (engine.build_features if engine else build_features)(con, as_of).table
    except SchemaErrors:
        judged = validate_by_school(con.execute(FEATURES_OF_TRUST).df())
        for school, message in judged.failed.items():
            report.school(school).hold_back(message)
        features = judged.table
    keep = [school for school in schools if not report.school(school).reasons]
    features = features[features["school_id"].astype(str).isin(keep)].reset_index(drop=True)
    con.execute(KEEP_FEATURES_OF, {"schools": keep})
    if features.empty:
        return {}
    (engine.score_features if engine else score_features)(con, card, features)
    ranker = functools.partial(engine.rank_shortlists, card, settings) if engine else None
    written = write_reports(con, card, settings, out, features, ranker, today)
    report.schools = written["schools"]
    report.versions = written["versions"]
    if engine:
        report.versions.update(engine.describe())
    for school in written["paths"]:
        report.school(school).published = True
    return dict(written["paths"])


def verdict(report: RunReport) -> ExitCode:
    """The exit code and status line: 0 only when every expected school published fresh data."""
    held = report.held_back
    expected = len(report.school_status)
    if expected == 0:
        report.status = "nothing to do: the delivery holds no school folder and the warehouse knows no school"
        report.error = report.status
        return ExitCode.USAGE
    if not held:
        report.status = "ok"
        return ExitCode.OK
    names = ", ".join(s.school_id for s in held)
    if len(held) == expected:
        report.status = f"held back every school ({names}): nothing new was published; the last good lists stay"
    else:
        report.status = (
            f"held back {len(held)} of {expected} schools ({names}); the other schools published; "
            "the held-back schools' last good lists stay"
        )
    return ExitCode.HELD_BACK


def write_refused_run(db: Path, out: Path, message: str) -> None:
    """run.json for a run refused before it could start (bad settings: exit 2), unless another run holds the lock
    (run.json is then that run's)."""
    from pipeline.runlock import RunLockedError

    with contextlib.suppress(RunLockedError, OSError), run_lock(db.with_name(db.name + ".lock")):
        report = RunReport(status=f"bad input: {message}", exit_code=int(ExitCode.USAGE), error=message)
        _write_report(report, out)


def _record_ingest(report: RunReport, loaded: IngestResult) -> None:
    totals = loaded.totals()
    log.info(
        "ingest: %d files, %d rows read, %d loaded, %d quarantined, %d files unchanged since the last load",
        len(loaded.files),
        totals["rows_read"],
        totals["rows_loaded"],
        totals["rows_quarantined"],
        sum(f.status == "unchanged" for f in loaded.files),
    )
    set_aside = [note for note in loaded.notes if note.startswith(("ignored ", "refused "))]
    if set_aside:  # counted, not named: an entry's name is the sender's and may name a pupil
        log.warning(
            "ingest: %d %s of the exports folder not read (not a school folder, a link): run.json and report.html "
            "name them",
            len(set_aside),
            "entry" if len(set_aside) == 1 else "entries",
        )
    report.load_id = loaded.load_id
    report.totals = totals
    report.notes = list(loaded.notes)
    for school, exports in loaded.named_like_exports.items():  # counted, not named (as above)
        report.warn(
            f"school {school}: {len(exports)} file(s) named like {', '.join(sorted(set(exports)))} not read: only "
            "the contract's own names are read, so if one holds tonight's export, rename it (run.json names them)"
        )
    for f in loaded.files:
        if f.values_lost:
            report.warn(
                f"school {f.school_id}: {f.file} has no "
                + ", ".join(f"{column} ({n:,} values delivered before)" for column, n in f.values_lost.items())
                + ": those values are unknown from tonight (a change of MIS export, or a CTF in place of CSV files?)"
            )
        if f.status == "loaded" and f.rows_read and f.values_blanked * 2 >= f.rows_read:
            report.warn(
                f"school {f.school_id}: {f.file}: {f.values_blanked} values blanked in {f.rows_read} lines (unreadable "
                "or implausible: quarantine.csv says which); check how the file was saved"
            )
    report.files = [
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
            "roll_not_listed": f.roll_not_listed,
            "duplicate_lines": f.duplicates_dropped,
            "withdrawn_codes_mapped": f.withdrawn_codes_mapped,
            "reconciles": f.status != "loaded" or f.reconciles,
            "seconds": round(f.seconds, 3),
            "notes": f.notes,
        }
        for f in loaded.files
    ]


def _checks(gate: GateResult) -> list[dict[str, Any]]:
    return [
        {
            "check": c.name,
            "blocking": c.blocking,
            "passed": c.success,
            "rows_checked": c.rows_checked,
            "unexpected": c.unexpected,
            "examples": c.examples,
            "schools_failed": sorted(c.schools_failed),
        }
        for c in gate.checks
    ]


def _last_good_shortlists(report: RunReport, out: Path) -> None:
    """Each school's shortlist on disk and its night: tonight's for a published school, the one that stays for a
    school held back (or none)."""
    for school in report.school_status.values():
        path = out / school.school_id / "shortlist.csv"
        if not path.is_file():
            continue
        school.shortlist = str(path)
        school.shortlist_as_of = report.as_of.isoformat() if school.published and report.as_of else _night_of(path)
        if not school.published:
            log.warning("school %s held back: %s", school.school_id, "; ".join(school.reasons))


def _refuse_to_overwrite_later_lists(out: Path, night: dt.date) -> None:
    """An earlier night reproduced with ``--as-of`` must not replace the lists staff have for a later one: refuse
    when ``out`` holds a school's shortlist for a night after ``night``."""
    later = sorted(
        (found, path.parent.name)
        for path in out.glob("*/shortlist.csv")
        if (found := _night_of(path)) and found > night.isoformat()
    )
    if later:
        found, school = later[-1]
        raise BadInputError(
            f"{out} holds shortlists for a later night than --as-of {night} (school {school}'s is for {found}): "
            "reproduce an earlier night into another folder (--out), so that staff keep the latest lists"
        )


def _night_of(shortlist: Path) -> str | None:
    """The ``as_of`` of a shortlist file (its first column), without reading any pupil's row beyond the first."""
    try:
        with shortlist.open(encoding="utf-8-sig", newline="") as handle:
            rows = csv.DictReader(handle)
            first = next(rows, None)
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    return first.get("as_of") if first else None


def _write_report(report: RunReport, out: Path) -> None:
    write_json(report.to_json(), out / RUN_REPORT)


@contextlib.contextmanager
def _run_log(out: Path) -> Iterator[logging.FileHandler | None]:
    """This run's log lines also go to ``out/mentor.log`` (owner-only, appended night after night); None if the
    file cannot be opened (the console still has them)."""
    path = out / LOG_FILE
    handler: logging.FileHandler | None = None
    try:
        make_private_folder(out)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        path.chmod(0o600)
        handler = logging.FileHandler(path, mode="a", encoding="utf-8")
    except OSError:
        pass
    if handler is None:
        yield None
        return
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        try:
            handler.close()
        except OSError as error:  # a full disk: the run's outcome stands, and the console has every line
            log.warning("the log %s could not be written in full (%s): the console has every line", path,
                        error.strerror)  # fmt: skip


def _log_traceback(handler: logging.FileHandler | None, stage: str) -> None:
    """The traceback of the error being handled, to the log file only (the console gets one sentence)."""
    if handler is not None:
        handler.handle(log.makeRecord(log.name, logging.ERROR, __file__, 0, "unexpected error during %s", (stage,),
                                      sys.exc_info()))  # fmt: skip


def _plain_error(error: Exception, stage: str, log_file: Path | None) -> str:
    """One sentence: what went wrong, in which stage, and where the details are. Only a file error's path is
    repeated from the error (other errors' messages can quote a value from the data: they stay in the log)."""
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        what = "the disk is full"
    elif isinstance(error, OSError) and error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        what = f"permission denied on {error.filename or 'a file'} (is the folder writable by this user?)"
    elif isinstance(error, OSError):
        what = f"a file error ({os.strerror(error.errno) if error.errno else type(error).__name__})"
    elif isinstance(error, WarehouseDamagedError):  # our own words: no value from the data in them
        what = str(error)
    else:
        what = f"{type(error).__name__}"
    where = f"the details are in {log_file}" if log_file else "no log file could be written; see the console log"
    return f"the run stopped with an unexpected error during {stage}: {what}; nothing more was published, {where}"
