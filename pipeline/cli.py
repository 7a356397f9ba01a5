"""The `mentor` command: thin typer wrappers around the pipeline's stage functions."""

from __future__ import annotations

import datetime as dt
import errno
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import duckdb
import pandas as pd
import typer
from rich.console import Console

from pipeline import __version__
from pipeline.exit_codes import EXIT_CODES_HELP, ExitCode
from pipeline.warehouse import DEFAULT_WAREHOUSE

app = typer.Typer(
    name="mentor",
    help=(
        "Find the pupils who would benefit from a learning mentor, from a school's or trust's MIS exports.\n\n"
        f"Exit codes:\n\n{EXIT_CODES_HELP.replace(chr(10), chr(10) * 2)}"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
# Plain text: messages quote settings' tables ("[places]") and paths, which rich's markup would take as its own tags.
err = Console(stderr=True, soft_wrap=True, highlight=False, markup=False)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mentor {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    pass


@app.command()
def sample(
    out: Annotated[Path, typer.Option(help="Folder for the trust's exports: one sub-folder per school (URN).")],
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same files.")] = 20241,
    schools: Annotated[int, typer.Option(min=1, help="Number of schools; they alternate primary, secondary.")] = 2,
    pupils_per_school: Annotated[
        int, typer.Option(min=20, help="Pupils on roll per school (leavers and joiners come on top).")
    ] = 600,
    years: Annotated[
        int, typer.Option(min=1, max=10, help="Academic years of history; the last runs to --end-date.")
    ] = 2,
    end_date: Annotated[
        dt.datetime,
        typer.Option(
            formats=["%Y-%m-%d"],
            show_default=False,
            help="Last day the exports cover (the extract date); default 2025-11-07.",
        ),
    ] = dt.datetime(2025, 11, 7),
    truth_out: Annotated[
        Path | None,
        typer.Option(help="Folder for the simulation truth (outcomes); default: OUT followed by '-truth'."),
    ] = None,
    mentoring_effect: Annotated[
        float,
        typer.Option(
            help="Average effect of a learning mentor on the mentee's attendance over the half-term after the start, "
            "in percentage points (0: mentoring changes nothing). The truth folder records each mentee's true effect."
        ),
    ] = 0.0,
    varied_needs: Annotated[
        bool,
        typer.Option(help="Schools whose needs differ: in turn typical, mostly behaviour, mostly attendance."),
    ] = False,
    ctf_out: Annotated[
        Path | None,
        typer.Option(
            help="Also write the first school as a DfE Common Transfer File school (the CTF, with its other CSV "
            "files beside it) into CTF_OUT/<URN>/: the same pupils as OUT/<URN>, for trying the CTF route."
        ),
    ] = None,
) -> None:
    """Write synthetic MIS exports for a trust of schools, plus the simulation truth kept apart.

    The exports follow the export contract (docs/contract.md); every name and UPN is made up. The truth folder
    holds what each pupil goes on to do after the extract date: it is for evaluating models and is never read by
    the pipeline.
    """
    from pipeline.progress import steps
    from pipeline.sample import SampleSpec, generate_trust
    from pipeline.sample.generator import SchoolSummary

    spec = SampleSpec(
        seed=seed,
        schools=schools,
        pupils_per_school=pupils_per_school,
        years=years,
        end_date=end_date.date(),
        mentoring_effect=mentoring_effect,
        varied_needs=varied_needs,
    )
    truth_dir = truth_out if truth_out is not None else out.with_name(out.name + "-truth")

    _logging(quiet=False)
    with steps(schools, "schools written", console=err) as step:

        def report(school: SchoolSummary) -> None:
            step(
                f"{school.urn} ({school.phase}), {school.pupils:,} pupils, {school.attendance_rows:,} attendance marks"
            )

        result = generate_trust(spec, out, truth_dir, progress=report)
    err.print(f"exports written to {out}; simulation truth to {truth_dir}")
    if ctf_out is not None:
        from pipeline.sample.ctf import write_ctf_school

        urn = str(result.schools[0].urn)
        ctf = write_ctf_school(out / urn, ctf_out / urn, spec.end_date)
        err.print(f"school {urn} written again as a Common Transfer File school: {ctf}")


DB_OPTION = typer.Option(
    envvar="MENTOR_DB",
    help="The DuckDB warehouse file (created owner-only if absent): MENTOR_DB if set, else data/warehouse.duckdb "
    "under the folder the command is run from (a nightly job should give an absolute path). Encrypted by DuckDB when "
    "MENTOR_DB_KEY, or MENTOR_DB_KEY_FILE naming an owner-only file, holds a key (never give the key on the command "
    "line).",
)
AS_OF_OPTION = typer.Option(
    formats=["%Y-%m-%d"],
    help="Reproduce the night of this date (only data dated up to it is used, staff decisions and review dates too).",
)


class JsonLines(logging.Formatter):
    """One JSON object per log line, for a scheduler's log collector."""

    def format(self, record: logging.LogRecord) -> str:
        import json

        return json.dumps(
            {
                "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
                "level": record.levelname.lower(),
                "logger": record.name,
                "message": record.getMessage(),
            }
        )


def _logging(quiet: bool) -> None:
    """Log lines on stderr: timestamps, stages and counts; never names or UPNs.

    On a terminal they go through rich (so they print above the progress display); otherwise (cron, systemd, a
    pipe) they are plain lines, one per event, or JSON lines when MENTOR_LOG_FORMAT=json.
    """
    level = logging.WARNING if quiet else logging.INFO
    if os.environ.get("MENTOR_LOG_FORMAT", "").lower() == "json":
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonLines())
        logging.basicConfig(level=level, handlers=[handler], force=True)
    elif err.is_terminal:
        from rich.logging import RichHandler

        rich_handler = RichHandler(console=err, show_path=False, markup=False)
        logging.basicConfig(level=level, format="%(name)s: %(message)s", handlers=[rich_handler], force=True)
    else:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    logging.getLogger("great_expectations").setLevel(logging.WARNING)


@app.command()
def ingest(
    exports: Annotated[Path, typer.Option(help="A trust folder (one sub-folder per school) or one school's folder.")],
    db: Annotated[Path, DB_OPTION] = DEFAULT_WAREHOUSE,
    out: Annotated[Path, typer.Option(help="Where run.json and quarantine.csv go.")] = Path("out"),
    force: Annotated[bool, typer.Option(help="Load files again even if the same content was loaded before.")] = False,
    quiet: Annotated[bool, typer.Option(help="Log warnings and errors only.")] = False,
) -> None:
    """Load every export file into the warehouse; every row is loaded or quarantined with a reason.

    Writes OUT/run.json (per school and file: rows read, loaded, quarantined) and OUT/quarantine.csv. Exit code 3
    if a file could not be read at all (its message says what to fix).
    """
    from pipeline.ingest import ingest as run_ingest
    from pipeline.ingest.read import ExportsFolderError
    from pipeline.keys import WarehouseKeyError
    from pipeline.runlock import RunLockedError, run_lock
    from pipeline.safe_csv import write_csv, write_json
    from pipeline.warehouse import WarehouseDamagedError, connect

    _logging(quiet)
    try:
        _not_a_folder(db)
        with run_lock(db.with_name(db.name + ".lock")):
            con = connect(db)
            result = run_ingest(con, exports, force=force)
            quarantine = con.execute(
                "select school_id, file, line_number, column_name, value, reason, outcome from quarantine "
                "where load_id = $l order by all",
                {"l": result.load_id},
            ).df()
            con.close()
    except (FileNotFoundError, ExportsFolderError, IsADirectoryError, WarehouseKeyError) as error:
        err.print(str(error))
        raise typer.Exit(ExitCode.USAGE) from None
    except RunLockedError as error:
        err.print(str(error))
        raise typer.Exit(ExitCode.LOCKED) from None
    except WarehouseDamagedError as error:
        err.print(str(error))
        raise typer.Exit(ExitCode.FAILED) from None
    write_csv(quarantine, out / "quarantine.csv")
    files = [
        {"school": f.school_id, "file": f.file, "status": f.status, "rows_read": f.rows_read,
         "rows_loaded": f.rows_loaded, "rows_quarantined": f.rows_quarantined, "notes": f.notes}
        for f in result.files
    ]  # fmt: skip
    write_json({"load_id": result.load_id, "totals": result.totals(), "files": files, "notes": result.notes},
               out / "run.json")  # fmt: skip
    for f in result.files:
        err.print(f"{f.school_id}/{f.file}: {f.status}, {f.rows_read:,} read, {f.rows_loaded:,} loaded, "
                  f"{f.rows_quarantined:,} quarantined" + (f" ({'; '.join(f.notes)})" if f.notes else ""))  # fmt: skip
    if result.failed:
        raise typer.Exit(ExitCode.GATE_FAILED)


@app.command()
def check(
    exports: Annotated[
        Path | None,
        typer.Argument(help="A trust folder (one sub-folder per school) or one school's folder.", show_default=False),
    ] = None,
    exports_option: Annotated[
        Path | None, typer.Option("--exports", help="The same folder, given as `mentor run` takes it.")
    ] = None,
    today: Annotated[
        dt.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="The night to check as (dates after it are refused); default today."),
    ] = None,
    config: Annotated[Path | None, typer.Option(help="A TOML settings file (see pipeline/config.py).")] = None,
) -> None:
    """Say how tonight's run would read a delivery, without writing anything: for a data lead setting up a feed.

    For each school and file: encoding, delimiter, line ends and date style; which contract column each header
    matched (through which alias); unknown columns; missing required and optional columns and what that means; the
    lines that would be quarantined, by reason, with line numbers (never names or UPNs); a verdict per file. The
    files are loaded by the real ingest into a throwaway in-memory database. Exit code 0 when the run would load
    every school, 3 when a school would be held back. See docs/check.md.
    """
    from pipeline.check import check_delivery, render
    from pipeline.config import Settings, SettingsError
    from pipeline.ingest.read import ExportsFolderError
    from pipeline.model import Scorecard
    from pipeline.model.card import ScorecardError

    if exports is not None and exports_option is not None and exports != exports_option:
        err.print(f"two exports folders given ({exports} and --exports {exports_option}): give one")
        raise typer.Exit(ExitCode.USAGE)
    exports = exports or exports_option
    if exports is None:
        err.print("give the exports folder to check: mentor check DIR (or --exports DIR, as mentor run takes it)")
        raise typer.Exit(ExitCode.USAGE)
    try:
        settings = Settings.load(config)
        Scorecard.load(settings.scorecard)  # the run would stop on a card it cannot read: say so now
        result = check_delivery(exports, today.date() if today else None, settings.max_quarantined_share)
    except (FileNotFoundError, ExportsFolderError, SettingsError, ScorecardError) as error:
        err.print(str(error))
        raise typer.Exit(ExitCode.USAGE) from None
    for line in render(result):
        typer.echo(line)
    if result.held_back:
        raise typer.Exit(ExitCode.GATE_FAILED)


class Engine(StrEnum):
    """Where ``mentor run`` computes the features and scores."""

    DUCKDB = "duckdb"
    SPARK = "spark"


@app.command()
def run(
    exports: Annotated[Path, typer.Option(help="A trust folder (one sub-folder per school) or one school's folder.")],
    db: Annotated[Path, DB_OPTION] = DEFAULT_WAREHOUSE,
    out: Annotated[Path, typer.Option(help="Where shortlists, run.json and quarantine.csv go.")] = Path("out"),
    as_of: Annotated[dt.datetime | None, AS_OF_OPTION] = None,
    config: Annotated[Path | None, typer.Option(help="A TOML settings file (see pipeline/config.py).")] = None,
    quiet: Annotated[bool, typer.Option(help="Log warnings and errors only.")] = False,
    engine: Annotated[
        Engine, typer.Option(help="Where features and scores are computed: duckdb, or spark (the spark extra).")
    ] = Engine.DUCKDB,
    spark_master: Annotated[str, typer.Option(help="With --engine spark: the Spark master URL.")] = "local[*]",
) -> None:
    """The nightly job: ingest, check, build features, score and write ranked shortlists per school.

    Writes OUT/<school>/shortlist.csv, under_challenged.csv, caseload.csv and held_off.csv, OUT/run.json,
    OUT/report.html, OUT/quarantine.csv, OUT/mentor.log and the data-quality checks as Great Expectations data docs in
    OUT/data_docs/index.html. Each school is judged on its own: a school whose delivery is missing or broken, or
    that fails a data-quality check, is held back (its last good shortlist stays, marked stale) while the others
    publish, and the exit code is 3. Without --as-of the night is the latest date with attendance marks.
    """
    from pipeline.config import Settings, SettingsError
    from pipeline.report.html import learn_sentence
    from pipeline.run import run_pipeline, write_refused_run
    from pipeline.runlock import RunLockedError

    _logging(quiet)
    try:
        settings = Settings.load(config)
        _not_a_folder(db)
    except (FileNotFoundError, SettingsError, IsADirectoryError) as error:
        write_refused_run(db, out, str(error))
        err.print(str(error))
        raise typer.Exit(ExitCode.USAGE) from None
    try:
        with _progress(quiet) as show, _engine(engine, spark_master, db) as computing:
            result = run_pipeline(
                exports, db, out, settings, as_of.date() if as_of else None, progress=show, engine=computing
            )
    except RunLockedError as error:
        err.print(str(error))
        raise typer.Exit(ExitCode.LOCKED) from None
    report = result.report
    if result.exit_code in (ExitCode.FAILED, ExitCode.USAGE):
        err.print(report.error or report.status)
        raise typer.Exit(result.exit_code)
    for school, path in result.shortlists.items():
        err.print(f"shortlist for school {school}: {path}")
    err.print(f"run report: {out / 'run.json'}; quarantine: {out / 'quarantine.csv'}; "
              f"data checks: {out / 'data_docs' / 'index.html'}")  # fmt: skip
    err.print(report.status)
    if report.history.get("worth_fitting"):
        err.print(learn_sentence(report.to_json()))
    for held in report.held_back:
        stays = f"its last good shortlist ({held.shortlist_as_of}) stays, stale" if held.shortlist else "no shortlist"
        err.print(f"held back: school {held.school_id}: {'; '.join(held.reasons)}; {stays}")
    raise typer.Exit(result.exit_code)


@contextmanager
def _engine(engine: Engine, master: str, db: Path) -> Iterator[Any]:
    """None for DuckDB (the run's default); a Spark engine, its scratch files removed afterwards, for Spark."""
    if engine is Engine.DUCKDB:
        yield None
        return
    try:
        from pipeline.spark import SparkEngine
    except ImportError as error:
        err.print(f"--engine spark needs the spark extra: pip install '.[spark]' ({error})")
        raise typer.Exit(ExitCode.USAGE) from None
    with SparkEngine(master, scratch_parent=db.resolve().parent) as spark:
        yield spark


@contextmanager
def _progress(quiet: bool) -> Iterator[Callable[[str], None] | None]:
    """A spinner naming the running stage, on a terminal only; nothing for schedulers and pipes."""
    if quiet or not err.is_terminal:
        yield None
        return
    with err.status("starting") as status:
        yield lambda stage: status.update(f"{stage}…")


CONFIG_OPTION = typer.Option(help="A TOML settings file (see pipeline/config.py).")


def _not_a_folder(db: Path) -> None:
    """Raise IsADirectoryError, saying what to give, when the warehouse path (--db or MENTOR_DB) is a folder."""
    if db.is_dir():
        raise IsADirectoryError(
            f"the warehouse {db} is a folder: give the warehouse file's path, such as {db / 'warehouse.duckdb'} "
            "(--db or MENTOR_DB)"
        )


@contextmanager
def _warehouse(db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse under the run lock, for one stage; exit 2 if it does not exist, 4 if a run holds the lock."""
    from pipeline.keys import WarehouseKeyError
    from pipeline.runlock import RunLockedError, run_lock
    from pipeline.warehouse import WarehouseDamagedError, connect

    if not db.exists():
        err.print(f"no warehouse at {db.resolve()}: run `mentor ingest` or `mentor run` first (or set MENTOR_DB)")
        raise typer.Exit(ExitCode.USAGE)
    try:
        _not_a_folder(db)
    except IsADirectoryError as error:
        err.print(str(error))
        raise typer.Exit(ExitCode.USAGE) from None
    try:
        with run_lock(db.with_name(db.name + ".lock")):
            try:
                con = connect(db)
            except WarehouseKeyError as error:
                err.print(str(error))
                raise typer.Exit(ExitCode.USAGE) from None
            except WarehouseDamagedError as error:
                err.print(str(error))
                raise typer.Exit(ExitCode.FAILED) from None
            try:
                yield con
            finally:
                con.close()
    except RunLockedError as error:
        err.print(str(error))
        raise typer.Exit(ExitCode.LOCKED) from None


def _stage_errors(*more: type[Exception]) -> tuple[type[Exception], ...]:
    from pandera.errors import SchemaErrors

    from pipeline.config import SettingsError
    from pipeline.model import ScorecardError
    from pipeline.model.scoring import StageOrderError

    return (StageOrderError, SettingsError, ScorecardError, SchemaErrors, *more)


@app.command()
def features(
    db: Annotated[Path, DB_OPTION] = DEFAULT_WAREHOUSE,
    as_of: Annotated[dt.datetime | None, AS_OF_OPTION] = None,
    csv: Annotated[
        Path | None, typer.Option(help="Also write the feature table to this CSV file (owner-only).")
    ] = None,
    quiet: Annotated[bool, typer.Option(help="Log warnings and errors only.")] = False,
) -> None:
    """Stage 3 alone: build the feature table for a night in the warehouse (table `features`), validated.

    Without --as-of the night is the latest date with attendance marks. Reads only data dated up to that night.
    """
    from pipeline.features import build_features
    from pipeline.safe_csv import write_csv

    _logging(quiet)
    with _warehouse(db) as con:
        day = as_of.date() if as_of else _latest_day(con)
        _warn_marks_behind(con, day)
        try:
            result = build_features(con, day)
        except _stage_errors() as error:
            err.print(str(error))
            raise typer.Exit(ExitCode.GATE_FAILED) from None
    if csv is not None:
        write_csv(result.table, csv)
    err.print(f"features for {result.as_of}: {result.pupils:,} pupils in {result.schools} schools "
              f"({result.seconds:.2f} s)" + (f"; written to {csv}" if csv else ""))  # fmt: skip


@app.command()
def score(
    db: Annotated[Path, DB_OPTION] = DEFAULT_WAREHOUSE,
    config: Annotated[Path | None, CONFIG_OPTION] = None,
    quiet: Annotated[bool, typer.Option(help="Log warnings and errors only.")] = False,
) -> None:
    """Stage 4 alone: score the feature table with the configured scorecard (table `scores`, points per feature)."""
    from pipeline.config import Settings
    from pipeline.model import Scorecard
    from pipeline.model.scoring import score_features

    _logging(quiet)
    with _warehouse(db) as con:
        try:
            card = Scorecard.load(Settings.load(config).scorecard)
            scores = score_features(con, card)
        except _stage_errors() as error:
            err.print(str(error))
            raise typer.Exit(ExitCode.USAGE) from None
    bands = scores["band"].value_counts().to_dict()
    err.print(f"scored {len(scores):,} pupils with {card.name} {card.version}: "
              + ", ".join(f"{n:,} {band}" for band, n in bands.items()))  # fmt: skip


@app.command()
def report(
    db: Annotated[Path, DB_OPTION] = DEFAULT_WAREHOUSE,
    out: Annotated[Path, typer.Option(help="Where the per-school shortlists go.")] = Path("out"),
    config: Annotated[Path | None, CONFIG_OPTION] = None,
    quiet: Annotated[bool, typer.Option(help="Log warnings and errors only.")] = False,
) -> None:
    """Stage 5 alone: write OUT/<school>/shortlist.csv, under_challenged.csv, caseload.csv and held_off.csv.

    From the scored features (every school of the feature table). This does not run the data-quality gate: use
    `mentor run` for the nightly job.
    """
    from pipeline.config import Settings
    from pipeline.model import Scorecard
    from pipeline.report import write_reports

    _logging(quiet)
    with _warehouse(db) as con:
        try:
            settings = Settings.load(config)
            written = write_reports(con, Scorecard.load(settings.scorecard), settings, out)
        except _stage_errors() as error:
            err.print(str(error))
            raise typer.Exit(ExitCode.USAGE) from None
        _warn_failed_deliveries(con, set(written["paths"]))
    for school, path in written["paths"].items():
        err.print(f"shortlist for school {school}: {path}")


FAILED_IN_LAST_LOAD = """
select school_id, list(file order by file) from loads
where status = 'failed' and load_id = (select load_id from loads order by loaded_at desc limit 1)
group by school_id order by school_id
"""
"""Each school with a file that failed in the warehouse's latest load, and those files."""


def _warn_failed_deliveries(con: duckdb.DuckDBPyConnection, written: set[str]) -> None:
    """Say which schools' latest delivery had a file fail (the nightly run would hold them back): the stage commands
    publish every school of the feature table from what the warehouse holds, and a failed file's rows are last
    night's. A school the nightly run held back has no rows in its feature table, so no lists are written for it."""
    for school, files in con.execute(FAILED_IN_LAST_LOAD).fetchall():
        failed = ", ".join(files)
        if str(school) in written:
            err.print(
                f"warning: school {school}'s latest delivery had {failed} fail: its lists here are built on what "
                "loaded before, and the nightly run (`mentor run`) would hold it back, keeping its last lists"
            )
        else:
            err.print(
                f"warning: school {school}'s latest delivery had {failed} fail and the feature table has no pupils "
                "of it (the nightly run held it back): no lists were written for it here; `mentor features` and "
                "`mentor score` build it from what loaded before"
            )


def _warn_marks_behind(con: duckdb.DuckDBPyConnection, day: dt.date, school: str | None = None) -> None:
    """Say which schools (or whether ``school``) the nightly run would hold back for attendance marks that stop
    short of ``day``: a stage command builds the night regardless, and their features read as no data."""
    from pipeline.validate.gate import MARKS_WITHIN_DAYS, marks_behind

    for name, shown in marks_behind(con, day).items():
        if school is not None and name != school:
            continue
        err.print(
            f"warning: school {name}'s attendance marks do not reach within {MARKS_WITHIN_DAYS} days of {day} "
            f"({shown}): its recent attendance reads as no data, and the nightly run would hold it back"
        )


def _latest_day(con: duckdb.DuckDBPyConnection) -> dt.date:
    row = con.execute("select max(date) from attendance").fetchone()
    if not row or row[0] is None:
        err.print("the warehouse has no attendance marks: run `mentor ingest` first")
        raise typer.Exit(ExitCode.USAGE)
    day: dt.date = row[0]
    return day


@app.command()
def fit(
    out: Annotated[Path, typer.Option(help="The new scorecard file, e.g. models/scorecard-learned-2025.yaml.")],
    db: Annotated[Path, DB_OPTION] = DEFAULT_WAREHOUSE,
    train_until: Annotated[
        dt.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Learn only from nights whose outcome was known by this date."),
    ] = None,
    config: Annotated[Path | None, CONFIG_OPTION] = None,
    version: Annotated[str, typer.Option(help="Version written into the scorecard.")] = "1.0.0",
    keep_points: Annotated[
        bool,
        typer.Option(
            "--keep-points",
            help="Keep the configured scorecard's points and bands (its ranking) and refit only its chance curve "
            "on the history: for an expert card such as v7 (the default), whose chances are a prior.",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option(help="Log warnings and errors only.")] = False,
) -> None:
    """Learn a points scorecard from the warehouse's history and write it with its model card (NAME.md).

    The features and words are those of the configured scorecard; the outcome is the configured one (default:
    persistent absence, a suspension or falling further below target in the next 30 school days). With
    --keep-points the points are the configured card's and only the chance each score stands for is fitted. The
    model card compares it, window by window, with the expert scorecard, the ABC rules, attendance alone and
    gradient boosting. Existing files are never overwritten.
    """
    from pipeline.config import Settings
    from pipeline.evaluate.release import ReleaseExistsError, fit_release, write_release

    _logging(quiet)
    if out.exists() or out.with_suffix(".md").exists():
        err.print(f"{out} or its model card exists; released files are never edited: choose a new --out name")
        raise typer.Exit(ExitCode.USAGE)
    with _warehouse(db) as con, _progress(quiet) as progress:
        try:
            settings = Settings.load(config)
            until = train_until.date() if train_until else None
            release = fit_release(con, settings, out.stem, until, version, progress=progress, keep_points=keep_points)
            paths = write_release(release, out)
        except _stage_errors(ValueError, ReleaseExistsError) as error:
            err.print(str(error))
            raise typer.Exit(ExitCode.USAGE) from None
    from pipeline.evaluate.compare import summary_table

    summary = summary_table(release.comparison)
    if not summary.empty:  # (with no half-term to judge in, the advice says so)
        typer.echo(summary.to_string(na_rep=""))
    typer.echo(release.advice.replace("**", ""))
    err.print(f"scorecard: {paths[0]}; model card: {paths[1]}")


@app.command()
def evaluate(
    db: Annotated[Path, DB_OPTION] = DEFAULT_WAREHOUSE,
    out: Annotated[Path, typer.Option(help="Folder for evaluation.csv and reliability.csv.")] = Path("out"),
    config: Annotated[Path | None, CONFIG_OPTION] = None,
    world: Annotated[
        list[int] | None,
        typer.Option(help="Instead: measure on the independent world of known futures of this seed (repeatable)."),
    ] = None,
    sample_seed: Annotated[
        list[int] | None,
        typer.Option(help="Instead: measure on the synthetic sample of this seed against its truth (repeatable)."),
    ] = None,
    card: Annotated[
        list[Path] | None,
        typer.Option(
            help="With --world/--sample-seed: a scorecard to measure (repeatable; default: the configured one)."
        ),
    ] = None,
    jobs: Annotated[
        int, typer.Option(min=1, help="With --world/--sample-seed: worlds measured at a time (worker processes).")
    ] = 1,
    cache: Annotated[
        Path | None,
        typer.Option(
            help="With --world/--sample-seed: keep each world's features and outcomes in this folder and reuse "
            "them (a rerun scores in seconds; rebuilt when the feature or outcome SQL changes)."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option(help="Log warnings and errors only.")] = False,
) -> None:
    """Rolling-origin comparison of the learned scorecard, the expert scorecard, the ABC rules, attendance alone
    and gradient boosting: ROC AUC, average precision, precision and recall at capacity, Brier, ECE, reliability;
    and of each scorecard's published list (its places as the shortlist fills them: barrier_places): precision and
    recall at capacity.

    With --world or --sample-seed, generates each world, ingests it into a warehouse of its own and measures, per
    school, precision at capacity against the world's known futures: each card as released (no history) and as
    learned from the world's earlier nights (a year of history), each also as the shortlist lists it (by default
    the places by score, other barriers' pupils beside them), beside the ABC rules and attendance alone.
    Writes OUT/futures.csv, OUT/futures-summary.csv, OUT/futures-by-phase.csv (primaries and secondaries apart)
    and OUT/futures-by-school.csv for the schools measured on two seeds or more (see docs/evaluation.md).
    """
    from pipeline.config import Settings
    from pipeline.evaluate.compare import evaluate as compare_models
    from pipeline.evaluate.release import evaluation_data
    from pipeline.model import Scorecard
    from pipeline.safe_csv import write_csv

    _logging(quiet)
    negative = [seed for seed in (*(world or []), *(sample_seed or [])) if seed < 0]
    if negative:
        err.print(f"a seed is a whole number of 0 or more, not {negative[0]}")
        raise typer.Exit(ExitCode.USAGE)
    if world or sample_seed:
        _evaluate_futures(world or [], sample_seed or [], card or [], config, out, jobs, cache)
        return
    alone = [name for name, given in (("--card", card), ("--cache", cache), ("--jobs", jobs != 1)) if given]
    if alone:
        err.print(
            f"{', '.join(alone)} go with --world or --sample-seed (the worlds of known futures); the warehouse's "
            "evaluation measures the configured card (--config): give a world, or leave them out"
        )
        raise typer.Exit(ExitCode.USAGE)
    with _warehouse(db) as con:
        try:
            settings = Settings.load(config)
            data, windows = evaluation_data(con, settings)
            table, curves = compare_models(data, windows, Scorecard.load(settings.scorecard), settings)
        except _stage_errors(ValueError) as error:
            err.print(str(error))
            raise typer.Exit(ExitCode.USAGE) from None
    write_csv(table, out / "evaluation.csv")
    write_csv(curves, out / "reliability.csv")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        typer.echo(table.to_string(index=False, na_rep=""))
    err.print(f"written: {out / 'evaluation.csv'}, {out / 'reliability.csv'}")


def _evaluate_futures(
    worlds: list[int],
    samples: list[int],
    cards: list[Path],
    config: Path | None,
    out: Path,
    jobs: int = 1,
    cache: Path | None = None,
) -> None:
    from pipeline.config import Settings
    from pipeline.evaluate.futures import measure_all, summary
    from pipeline.model import Scorecard, ScorecardError
    from pipeline.safe_csv import write_csv

    try:
        settings = Settings.load(config)
        loaded = [Scorecard.load(path) for path in cards or [settings.scorecard]]
    except (ValueError, OSError, ScorecardError) as error:
        err.print(str(error))
        raise typer.Exit(ExitCode.USAGE) from None
    seeds = [("world", seed) for seed in worlds] + [("sample", seed) for seed in samples]
    table = measure_all(seeds, loaded, settings, cache, jobs, progress=err.print)
    summaries = {"futures-summary.csv": summary(table), "futures-by-phase.csv": summary(table, by="phase")}
    summaries["futures-by-school.csv"] = summary(table, by="school")  # empty: no school measured on two seeds
    written = [out / "futures.csv"]
    write_csv(table, written[0])
    with pd.option_context("display.width", 220, "display.max_columns", 20, "display.max_rows", 500):
        typer.echo(table.to_string(index=False))
        for name, totals in summaries.items():
            if not totals.empty:
                written.append(out / name)
                write_csv(totals, written[-1])
                typer.echo("")
                typer.echo(totals.to_string(index=False))
    err.print(f"written: {', '.join(str(path) for path in written)}")


@app.command()
def audit(
    db: Annotated[Path, DB_OPTION] = DEFAULT_WAREHOUSE,
    out: Annotated[Path, typer.Option(help="Folder for audit.csv.")] = Path("out"),
    config: Annotated[Path | None, CONFIG_OPTION] = None,
    boot: Annotated[int, typer.Option(min=10, help="Bootstrap resamples for the 95% intervals.")] = 100,
    quiet: Annotated[bool, typer.Option(help="Log warnings and errors only.")] = False,
) -> None:
    """Fairness audit by FSM, SEN, sex, EAL, ethnicity group and year group, of the shortlists published by the
    last run (exactly the pupils on them) and of what the model would have chosen in each evaluation window: share
    of shortlist, selection rate, precision, miss rate, ratios to the reference group (flagged outside 0.8-1.25),
    with bootstrap intervals. Writes OUT/audit.csv."""
    from pipeline.config import Settings
    from pipeline.evaluate.fairness import audit_all
    from pipeline.safe_csv import write_csv

    _logging(quiet)
    with _warehouse(db) as con:
        try:
            table = audit_all(con, Settings.load(config), n_boot=boot)
        except _stage_errors(ValueError) as error:
            err.print(str(error))
            raise typer.Exit(ExitCode.USAGE) from None
    write_csv(table, out / "audit.csv")
    flagged = table[table["flags"] != ""]
    columns = ["scope", "attribute", "group", "pupils", "shortlisted", "selection_rate", "selection_rate_ratio"]
    columns += [c for c in ("precision", "miss_rate", "flags") if c in table.columns]
    with pd.option_context("display.width", 250, "display.max_columns", 20, "display.max_colwidth", 60):
        typer.echo(flagged[columns].to_string(index=False, na_rep="-") if len(flagged) else "no group outside 0.8-1.25")
    if flagged[columns].isna().any().any():
        err.print("-: not defined for the group (no pupil of it shortlisted, or none with the outcome)")
    err.print(f"{len(table)} rows, {len(flagged)} flagged; written: {out / 'audit.csv'}")


@app.command()
def impact(
    db: Annotated[Path, DB_OPTION] = DEFAULT_WAREHOUSE,
    out: Annotated[Path, typer.Option(help="Folder for impact.csv.")] = Path("out"),
    config: Annotated[Path | None, CONFIG_OPTION] = None,
    quiet: Annotated[bool, typer.Option(help="Log warnings and errors only.")] = False,
) -> None:
    """Does mentoring work? The effect of starting a learning mentor (an intervention named in the
    mentor_interventions setting, in any case) on attendance, negative behaviour points and the English and maths
    gap to target over the rest of that half-term, against pupils of the same school whose record before the start
    looked alike and who were not mentored then nor started during it (see docs/impact.md).

    Writes OUT/impact.csv: per outcome, overall and by barrier, the estimate with a bootstrap 95% interval and which
    way is better, the numbers of mentees and comparison pupils, the starts it could use and how many of them had no
    comparison pupil close enough, and the mentees' naive before/after change (biased: shown so the difference the
    comparison makes can be seen). With too few mentoring starts, or a file a school never delivered
    (interventions.csv, behaviour.csv), it says so instead of a number. The next `mentor run` into OUT shows it in
    report.html.
    """
    from pipeline.config import Settings, SettingsError
    from pipeline.impact import ImpactSettings
    from pipeline.impact import impact as estimate_impact
    from pipeline.impact.estimate import DIRECTIONS
    from pipeline.safe_csv import write_csv

    _logging(quiet)
    try:
        settings = ImpactSettings.of(Settings.load(config))
    except SettingsError as error:
        err.print(str(error))
        raise typer.Exit(ExitCode.USAGE) from None
    with _warehouse(db) as con:
        result = estimate_impact(con, settings)
    path = write_csv(result.table, out / "impact.csv")
    shown = result.table.assign(method=result.table["method"].str.split(":").str[0])
    columns = ["outcome", "barrier", "estimate", "ci_low", "ci_high", "treated", "controls", "unmatched", "method"]
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        typer.echo(shown[columns].astype(object).where(shown[columns].notna(), "-").to_string(index=False))
    if shown["estimate"].notna().any():
        for outcome, direction in DIRECTIONS.items():
            err.print(f"{outcome}: {direction}")
    if shown["estimate"].isna().any():  # each row's reason is in the CSV's note
        err.print(
            "-: no estimate (under unmatched: no matching done); impact.csv's note says why, row by row: too few "
            "mentees, or a file not delivered"
        )
    for note in result.notes:
        err.print(note)
    err.print(f"written: {path}")


@app.command()
def purge(
    before: Annotated[
        dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Remove pupils who left before this day.")
    ] = None,
    school: Annotated[
        str | None, typer.Option(help="Remove a school that has left the trust (its URN or LAESTAB), whole.")
    ] = None,
    db: Annotated[Path, DB_OPTION] = DEFAULT_WAREHOUSE,
    out: Annotated[
        Path, typer.Option(help="With --school: the output folder whose OUT/<school> lists are removed too.")
    ] = Path("out"),
) -> None:
    """Retention: remove from the warehouse every pupil who left before a date (--before), or a school that has
    left the trust (--school), with everything about them, and with --school its published lists (OUT/<school>).

    Prints how many rows went from each table, then writes the warehouse into a new file, so that nothing of what
    was removed is left in it. Never touches the export folder: a pupil still in a later delivery is loaded again,
    so set the same retention in the MIS export. A school removed is no longer expected by the nightly run.
    """
    import shutil

    from pipeline.contract import SCHOOL_FOLDER
    from pipeline.retention import purge_leavers, purge_school, rewrite

    if (before is None) == (school is None):
        err.print("give --before DATE (pupils who left before it) or --school URN (a school that left): one of them")
        raise typer.Exit(ExitCode.USAGE)
    if school is not None and not SCHOOL_FOLDER.fullmatch(school):
        err.print(f"--school takes a school's URN (6 digits) or LAESTAB (7 digits), not {school!r}")
        raise typer.Exit(ExitCode.USAGE)
    with _warehouse(db) as con:
        try:
            removed = purge_leavers(con, before.date()) if before is not None else purge_school(con, str(school))
        except ValueError as error:
            err.print(str(error))
            raise typer.Exit(ExitCode.USAGE) from None
        con.close()
        rewrite(db)  # under the run lock still: the deleted rows' pages go with the old file
    for table, rows in removed.items():
        typer.echo(f"{table}: {rows:,} rows removed")
    if before is not None:
        err.print(f"removed {removed.get('pupils', 0):,} pupils who left before {before.date()}")
    else:
        err.print(f"removed school {school} ({removed.get('pupils', 0):,} pupils): it is no longer expected")
        lists = out / str(school)
        if lists.is_dir() and not lists.is_symlink():
            shutil.rmtree(lists)
            err.print(f"removed its published lists: {lists}")


@app.command()
def rekey(
    db: Annotated[Path, DB_OPTION] = DEFAULT_WAREHOUSE,
    decrypt: Annotated[bool, typer.Option(help="Write the warehouse without encryption.")] = False,
) -> None:
    """Encrypt the warehouse, change its key, or (with --decrypt) remove its encryption.

    The current key comes from MENTOR_DB_KEY or MENTOR_DB_KEY_FILE (unset for a warehouse not yet encrypted), the
    new one from MENTOR_DB_NEW_KEY or MENTOR_DB_NEW_KEY_FILE. The warehouse is copied whole into a new file under
    the new key, which then replaces the old file in one step; a failure leaves the old file as it was.
    """
    from pipeline.keys import NEW_KEY_FILE_VARIABLE, NEW_KEY_VARIABLE, WarehouseKeyError, key_from_environment
    from pipeline.keys import rekey as change_key
    from pipeline.runlock import RunLockedError, run_lock

    if not db.exists():
        err.print(f"no warehouse at {db}")
        raise typer.Exit(ExitCode.USAGE)
    try:
        _not_a_folder(db)
        old_key = key_from_environment()
        new_key = key_from_environment(NEW_KEY_VARIABLE, NEW_KEY_FILE_VARIABLE)
        if new_key is None and not decrypt:
            raise WarehouseKeyError(
                f"set {NEW_KEY_VARIABLE} or {NEW_KEY_FILE_VARIABLE} to the new key (or give --decrypt)"
            )
        if new_key is not None and decrypt:
            raise WarehouseKeyError(f"--decrypt writes no key: unset {NEW_KEY_VARIABLE} and {NEW_KEY_FILE_VARIABLE}")
        with run_lock(db.with_name(db.name + ".lock")):
            change_key(db, old_key, new_key)
    except (WarehouseKeyError, IsADirectoryError) as error:
        err.print(str(error))
        raise typer.Exit(ExitCode.USAGE) from None
    except RunLockedError as error:
        err.print(str(error))
        raise typer.Exit(ExitCode.LOCKED) from None
    err.print(f"{db} is now not encrypted" if decrypt else f"{db} is now encrypted with the new key; keep it safe")


@app.command()
def explain(
    upn: Annotated[str, typer.Argument(help="The pupil's UPN.")],
    db: Annotated[Path, DB_OPTION] = DEFAULT_WAREHOUSE,
    as_of: Annotated[dt.datetime | None, AS_OF_OPTION] = None,
    config: Annotated[Path | None, typer.Option(help="A TOML settings file (see pipeline/config.py).")] = None,
) -> None:
    """Print one pupil's points table: each feature's value, band and points, adding up to the score (and, on a
    learned card, the points a usual pupil has from a feature, where not 0: only points above them are need)."""
    from pipeline.config import Settings
    from pipeline.contract import in_primary
    from pipeline.features import build_features
    from pipeline.model import PointsScorecard, Scorecard
    from pipeline.model.scoring import scorecards_of_scores
    from pipeline.report.shortlist import chance_band, phase_label, value_text

    with _warehouse(db) as con:
        day = as_of.date() if as_of else _latest_day(con)
        table = build_features(con, day, persist=False).table
        pupil = table[table["upn"] == upn.strip().upper()]
        if pupil.empty:
            err.print(f"that UPN is not on roll on {day}")
            raise typer.Exit(ExitCode.USAGE)
        _warn_marks_behind(con, day, str(pupil["school_id"].iloc[0]))
        scored_with = scorecards_of_scores(con)
    try:
        card = Scorecard.load(Settings.load(config).scorecard)
    except _stage_errors() as error:
        err.print(str(error))
        raise typer.Exit(ExitCode.USAGE) from None
    if scored_with and card.fingerprint() not in scored_with:
        err.print(
            f"WARNING: the warehouse's last scores (those of the published shortlist) were made with another "
            f"scorecard ({', '.join(sorted(scored_with))}) than {card.name} {card.version} ({card.fingerprint()}): "
            "give --config the settings file the nightly run uses, or this table will not match the shortlist"
        )
    lines = PointsScorecard(card).fit(table).explain(pupil)
    row = pupil.iloc[0]
    primary = in_primary(row["year_group"])
    typer.echo(
        f"{row['forename']} {row['surname']}, year {row['year_group']}, as of {day} ({card.name} {card.version})"
    )
    for line in lines.to_dict("records"):
        value = None if pd.isna(line["value"]) else float(line["value"])
        feature = card.feature(line["feature"])
        typical = f" (a usual pupil {feature.usual_points:+d})" if feature.usual_points else ""
        typer.echo(
            f"{line['points']:>+4d}  {line['description']}: {value_text(feature, value, primary)} — "
            f"{phase_label(str(line['band']), primary)}{typical}"
        )
    score = int(lines["points"].sum())
    typer.echo(
        f"{score:>4d}  score ({card.band_of_score(score)}; the chance of the outcome in the next half-term "
        f"{chance_band(card, score)})"
    )


TRACEBACK_VARIABLE = "MENTOR_TRACEBACK"
"""Set (to anything) to see a fault's traceback, where the command otherwise prints one line."""
PATH_ERRORS = frozenset({errno.ENOTDIR, errno.EISDIR, errno.EACCES, errno.EROFS})
"""An operating-system error on a path that is the user's to fix (exit 2), not a fault."""


_TERMINATED: list[int] = []
"""The signal that stopped the command, once one has (DuckDB turns it into "Query interrupted" mid-query)."""


def _terminated(signum: int, _frame: object) -> None:
    _TERMINATED.append(signum)
    raise SystemExit(128 + signum)


def _stopped_by_signal() -> None:
    err.print(f"mentor stopped: it was sent {signal.Signals(_TERMINATED[0]).name}; nothing more was done")
    raise SystemExit(128 + _TERMINATED[0]) from None


def main() -> None:
    """Entry point of the `mentor` console script.

    Every file the command creates is owner-only (umask 077) for the whole process: not just the files it writes
    itself but those its libraries create later, such as DuckDB's write-ahead log (``<warehouse>.wal``, made at
    the first write after a checkpoint) and its spill files, which a umask held only while the warehouse opens
    would leave readable by others.
    """
    os.umask(0o077)
    # A log that cannot be written (a full disk) must not print Python's "--- Logging error ---" report on the console
    # for every line: hundreds of lines, each quoting the message's values. The run says what failed in one sentence.
    logging.raiseExceptions = False
    # A job's time limit or `kill` stops the command as Ctrl-C would, so that its clean-up runs (a scratch folder of
    # plain-text copies of pupils' files removed, the run's lock let go), with the exit status a killed one has.
    signal.signal(signal.SIGTERM, _terminated)
    try:
        try:
            app()  # (click turns a bad command line and typer.Exit into SystemExit with their codes)
        except OSError as error:
            if os.environ.get(TRACEBACK_VARIABLE) or error.errno not in PATH_ERRORS or not error.filename:
                raise
            # A path that cannot be used as given (an output folder under a file, a folder where a file goes, no
            # permission): the user's to fix, so named, with exit 2.
            err.print(f"mentor cannot use {error.filename}: {error.strerror}; give another path")
            raise SystemExit(ExitCode.USAGE) from None
    except KeyboardInterrupt:
        raise SystemExit(ExitCode.FAILED) from None
    except SystemExit:
        if _TERMINATED:  # (or a command that caught the interruption as a failure of its own)
            _stopped_by_signal()
        raise
    except Exception as error:  # a fault: one line, not a traceback (whose values may be a pupil's)
        if _TERMINATED:
            _stopped_by_signal()
        if os.environ.get(TRACEBACK_VARIABLE):
            raise
        err.print(
            f"mentor stopped with an unexpected error ({type(error).__name__}); nothing more was done. Run it again "
            f"with {TRACEBACK_VARIABLE}=1 to see where: the details may quote pupil data, so keep them private"
        )
        raise SystemExit(ExitCode.FAILED) from None
