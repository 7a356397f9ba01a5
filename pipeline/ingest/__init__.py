"""Ingest a delivery of MIS exports into the warehouse, losing nothing: every row is loaded or quarantined.

``ingest(con, exports, today)`` reads a trust folder (one sub-folder per school) or one school's folder. Each file
is loaded in its own transaction, so a file that cannot be read fails alone (with a message naming the file and
the fix) and the others still load. A file whose content (sha256) was already loaded for that school is skipped.
"""

from __future__ import annotations

import datetime as dt
import itertools
import queue
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipeline.contract import EXPORT_FILES, ExportFile
from pipeline.faults import checkpoint
from pipeline.ingest.layout import cluster_if_scattered
from pipeline.ingest.lines import FileRefusedError
from pipeline.ingest.load import FileLoad, last_loaded, load_file, loaded_before, still_current, superseded
from pipeline.ingest.read import (
    PreparedFile,
    SchoolDelivery,
    UnreadableFileError,
    discover,
    prepare,
    warehouse_workdir,
)
from pipeline.warehouse import STAGED_TYPES, warehouse_file, worker_connection


@dataclass
class IngestResult:
    load_id: str
    exports: Path
    files: list[FileLoad] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    named_like_exports: dict[str, list[str]] = field(default_factory=dict)
    """School -> the exports that a file not read is named like (``SchoolDelivery.named_like_exports``)."""

    @property
    def schools(self) -> list[str]:
        return sorted({f.school_id for f in self.files})

    @property
    def failed(self) -> list[FileLoad]:
        return [f for f in self.files if f.status == "failed"]

    def totals(self) -> dict[str, int]:
        return {
            "rows_read": sum(f.rows_read for f in self.files),
            "rows_loaded": sum(f.rows_loaded for f in self.files),
            "rows_quarantined": sum(f.rows_quarantined for f in self.files),
            "values_blanked": sum(f.values_blanked for f in self.files),
        }


INGEST_WORKERS = 2
"""Schools loaded at once. One school's load leaves a core idle for much of the time (between its statements, in
commits and in the single-threaded steps of a query); a second school's load fills it. DuckDB's threads are shared
out between them while they load: on two cores, each school's statements run on one thread (two schools' statements
on two threads each would ask for four threads of two cores). Measured in single runs, that took a 50,000-pupil
trust's ingest from 8.6-9.0 s to 7.2-7.9 s on a year-to-date night and from 78 s to 74 s on a first load."""


def ingest(
    con: duckdb.DuckDBPyConnection,
    exports: Path,
    today: dt.date | None = None,
    force: bool = False,
    load_id: str | None = None,
    workers: int = INGEST_WORKERS,
    progress: Callable[[str], None] | None = None,
) -> IngestResult:
    """Load every export file under ``exports``; ``today`` is the date after which dated rows are refused.

    ``progress``, when given, is told after each school has loaded ("3 of 50 schools loaded"), from the thread that
    loaded it (a first load of a large trust takes minutes; the command line shows it on a terminal).

    With ``force``, files already loaded are loaded again and every line is checked again, as on a first load
    (the result is the same: loading is idempotent, and row-level incremental loading gives what a full check
    gives). Up to ``workers`` schools are loaded at once, each in its own connection: schools share no rows, so
    the result does not depend on the order in which their files commit. The result lists the files in school
    order either way.
    """
    started = time.perf_counter()
    today = today or dt.date.today()
    result = IngestResult(load_id or uuid.uuid4().hex[:12], exports)
    deliveries, result.notes = discover(exports)
    result.named_like_exports = {
        d.school_id: sorted(d.named_like_exports.values()) for d in deliveries if d.named_like_exports
    }
    if not deliveries:
        result.notes.append(f"no school folders found in {exports}")
    with warehouse_workdir(warehouse_file(con)) as scratch, ThreadPoolExecutor(1, "mentor-prepare") as reader:
        loaded = itertools.count(1)

        def school_loaded() -> None:
            if progress is not None:
                progress(f"{next(loaded)} of {len(deliveries)} schools loaded")

        night = _Night(result.load_id, today, force, reader, Path(scratch), school_loaded)
        for files, notes in _load_schools(con, deliveries, night, workers):
            result.files += files
            result.notes += notes
    # Nights append each school's checked lines to the end of the raw layer; keep a school's lines together.
    for table in STAGED_TYPES:
        clustered = cluster_if_scattered(con, f"raw_{table}")
        if clustered is not None:
            result.notes.append(clustered.note())
    result.seconds = time.perf_counter() - started
    return result


@dataclass(frozen=True)
class _Night:
    """What every file of one ingest shares."""

    load_id: str
    today: dt.date
    force: bool
    reader: ThreadPoolExecutor
    """Hashes each file and checks its encoding in a worker thread, while DuckDB loads another file."""
    scratch: Path
    school_loaded: Callable[[], None]
    """Called after each school's files have loaded (for progress)."""


def _load_schools(
    con: duckdb.DuckDBPyConnection, deliveries: list[SchoolDelivery], night: _Night, workers: int
) -> list[tuple[list[FileLoad], list[str]]]:
    """Each school's file loads and notes, in school order; up to ``workers`` schools at once, each school in one
    connection of its own (a DuckDB connection serves one thread at a time), with DuckDB's threads shared out
    between them until they are done."""
    if workers <= 1 or len(deliveries) <= 1:
        return [_load_school(con, school, night) for school in deliveries]
    idle: queue.SimpleQueue[duckdb.DuckDBPyConnection] = queue.SimpleQueue()
    connections = [worker_connection(con) for _ in range(min(workers, len(deliveries)))]
    for connection in connections:
        idle.put(connection)
    row = con.execute("select current_setting('threads')").fetchone()
    threads = int(row[0]) if row else 1

    def in_a_connection(school: SchoolDelivery) -> tuple[list[FileLoad], list[str]]:
        connection = idle.get()
        try:
            return _load_school(connection, school, night)
        finally:
            idle.put(connection)

    try:
        con.execute(f"set threads = {max(1, threads // len(connections))}")  # (the setting is the warehouse's)
        with ThreadPoolExecutor(len(connections), "mentor-ingest") as schools:
            return list(schools.map(in_a_connection, deliveries))
    finally:
        con.execute(f"set threads = {threads}")
        for connection in connections:
            connection.close()


def _load_school(
    con: duckdb.DuckDBPyConnection, school: SchoolDelivery, night: _Night
) -> tuple[list[FileLoad], list[str]]:
    """Load one school's files in contract order (pupils first: the other files are checked against its roll)."""
    preparing = {
        export.name: night.reader.submit(prepare, school.school_id, export, path, night.scratch)
        for export in EXPORT_FILES
        if (path := school.files.get(export.name)) is not None
    }
    notes = [
        f"{school.school_id}: ignored {name}, which is not an export file of the contract" for name in school.unexpected
    ]
    notes += [f"{school.school_id}: {note}" for note in school.notes]
    files: list[FileLoad] = []
    con.execute("create or replace temp table incoming_pupils (upn varchar)")

    def tonight_is_new() -> bool:
        """Whether the school's attendance.csv tonight is content never loaded before (asked only of a file that is
        an earlier delivery sent again, so attendance's hashing is waited for only then)."""
        marks = preparing.get("attendance.csv")
        if marks is None:
            return False
        try:
            sha256 = marks.result().sha256
        except UnreadableFileError:
            return False
        return not loaded_before(con, school.school_id, "attendance.csv", sha256, night.load_id)

    def fail(export: ExportFile, message: str) -> None:
        """Record ``export`` as failed, unread, with ``message`` (what to do about it)."""
        files.append(_failed(school.school_id, export.name, "", message))
        _record_load(con, night.load_id, files[-1], message)

    for export in EXPORT_FILES:
        future = preparing.get(export.name)
        refused = next((f for f in files if f.file == "pupils.csv" and f.status == "failed"), None)
        if refused is not None and future is not None:
            # Every row would be "pupil not in pupils.csv": one message for the file instead.
            future.cancel()
            fail(
                export, f"{school.school_id}/{export.name} was not loaded: pupils.csv was refused ({refused.notes[0]})"
            )
            continue
        if future is None:
            if export.name in school.refused:
                reason = school.refused[export.name]
                fail(
                    export, f"{school.school_id}/{export.name} was refused unopened: {reason}; deliver the file itself"
                )
            elif export.required_file:
                fail(export, f"{school.school_id}/{export.name} is missing: it is required in every delivery")
            else:
                notes.append(_not_delivered(con, school.school_id, export.name))
            continue
        files.append(
            _load_one(con, school.school_id, export, future, night.load_id, night.today, night.force, tonight_is_new)
        )
        checkpoint(f"ingest:{school.school_id}/{export.name}")
    night.school_loaded()
    return files, notes


def _load_one(
    con: duckdb.DuckDBPyConnection,
    school_id: str,
    export: ExportFile,
    preparing: Future[PreparedFile],
    load_id: str,
    today: dt.date,
    force: bool,
    tonight_is_new: Callable[[], bool],
) -> FileLoad:
    started = time.perf_counter()
    name = export.name
    try:
        prepared = preparing.result()
    except UnreadableFileError as failure:
        outcome = _failed(school_id, name, "", str(failure))
        _record_load(con, load_id, outcome, str(failure))
        return outcome
    if not force and still_current(con, prepared, today):
        # (what the file's reading says, such as an optional column it lacks, holds every night it is delivered)
        notes = ["same content as the last load", *prepared.notes]
        outcome = FileLoad(school_id, name, prepared.sha256, "unchanged", notes=notes)
        if export.table == "pupils":
            con.execute(
                "create or replace temp table incoming_pupils as select upn from pupils where school_id = $s",
                {"s": school_id},
            )
        return outcome
    stale = None if force else superseded(con, prepared, tonight_is_new)
    if stale:
        outcome = _failed(school_id, name, prepared.sha256, stale)
        _record_load(con, load_id, outcome, stale)
        return outcome
    con.execute("begin transaction")
    try:
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        outcome = load_file(con, prepared, load_id, today, now, recheck_all=force)
        outcome.seconds = time.perf_counter() - started
        _record_load(con, load_id, outcome, "")
        con.execute("commit")
    except FileRefusedError as refusal:
        con.execute("rollback")
        outcome = _failed(school_id, name, prepared.sha256, str(refusal))
        _record_load(con, load_id, outcome, str(refusal))
    except duckdb.Error as error:
        con.execute("rollback")
        message = f"{school_id}/{name} could not be loaded: {_fault(error)}"
        outcome = _failed(school_id, name, prepared.sha256, message)
        _record_load(con, load_id, outcome, message)
    return outcome


def _fault(error: duckdb.Error) -> str:
    """An unexpected DuckDB error in plain words: its first line, up to the first quoted value. Its other lines (the
    reader's settings, "Possible fixes", the line it was reading) and any value it quotes would go to the console,
    the log and the report, and a value may be a pupil's."""
    first = next((line.strip() for line in str(error).splitlines() if line.strip()), type(error).__name__)
    cut = min((i for i in (first.find("'"), first.find('"')) if i >= 0), default=len(first))
    return f"{first[:cut].rstrip(' :')} (a fault of the pipeline or of the file: please report it)"


def _failed(school_id: str, name: str, sha256: str, message: str) -> FileLoad:
    return FileLoad(school_id, name, sha256, "failed", notes=[message])


def _record_load(con: duckdb.DuckDBPyConnection, load_id: str, outcome: FileLoad, message: str) -> None:
    con.execute(
        "insert into loads values ($load_id, $school, $file, $sha, $status, $read, $loaded, $quarantined, $blanked, "
        "now()::timestamp, $message)",
        {
            "load_id": load_id,
            "school": outcome.school_id,
            "file": outcome.file,
            "sha": outcome.sha256,
            "status": outcome.status,
            "read": outcome.rows_read,
            "loaded": outcome.rows_loaded,
            "quarantined": outcome.rows_quarantined,
            "blanked": outcome.values_blanked,
            "message": message,
        },
    )


def _not_delivered(con: duckdb.DuckDBPyConnection, school_id: str, name: str) -> str:
    """The run report's note for an optional file a school did not deliver tonight: nothing of it is known on a first
    delivery; otherwise the rows of its earlier deliveries stay in use (a school may send only what changed), and
    the note says since when, so that an export that stopped is seen."""
    last = last_loaded(con, school_id, name)
    if last is None:
        return f"{school_id}: {name} not delivered (optional)"
    read_on = last[2].date()
    return (
        f"{school_id}: {name} not delivered (optional); what its earlier deliveries brought stays in use (last read "
        f"on {read_on.day} {read_on:%B %Y})"
    )
