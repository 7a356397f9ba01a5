"""`mentor check DIR`: how tonight's run would read a delivery, file by file, without touching the warehouse.

The delivery is loaded by the real ingest (the same reading, checks and quarantine rules as the nightly run) into
a throwaway in-memory DuckDB, so the counts are the real ones; nothing is written anywhere. What is printed names
files, columns, line numbers and reasons, never a pupil's name or UPN.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipeline.config import as_set
from pipeline.contract import FILES_BY_NAME, STAFF_FILES, HeaderReading
from pipeline.ingest import ingest
from pipeline.ingest.checks import REASON_SHOWN, slash_date_order
from pipeline.ingest.read import UnreadableFileError, discover, prepare, temporary_workdir
from pipeline.validate.gate import (
    GRADES_READ,
    LATEST_MARKS,
    LEAST_INCIDENTS,
    MARKS_WITHIN_DAYS,
    NEGATIVE_POINTS,
    NO_GRADE_SHARE,
    NO_MARK_DAYS,
    NO_NUMBER_SHARE,
    RECENT_DAYS,
    SCORES,
    SCORES_READ,
)
from pipeline.warehouse import SCHOOL_DAYS_LOOKBACK, connect, latest_mark

SAMPLE_BYTES = 1 << 16
"""How much of a file is looked at for its line ends."""
SAMPLE_LINES = 2000
"""How many data lines are looked at for the date style."""
LINES_SHOWN = 10
"""Line numbers printed per reason (the count is always the full one)."""
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
UK_DATE = re.compile(r"^\d{1,2}/\d{1,2}/\d{4}")

QUARANTINE_BY_REASON = f"""
select school_id, file, outcome, coalesce(column_name, '') as column_name, {REASON_SHOWN} as reason,
    count(*) as lines, list(line_number order by line_number)[1:$shown] as first_lines
from quarantine
group by all
order by school_id, file, outcome, lines desc, reason
"""
"""Quarantined lines and blanked values per school, file and reason (the value itself is never shown)."""


@dataclass(frozen=True)
class Layout:
    """How a file is written."""

    encoding: str
    delimiter: str
    line_ends: str
    date_style: str

    def describe(self) -> str:
        return f"{self.encoding}, {self.delimiter}-separated, {self.line_ends} line ends, dates {self.date_style}"


@dataclass(frozen=True)
class Reason:
    column: str
    reason: str
    lines: int
    first_lines: tuple[int, ...]

    def describe(self) -> str:
        shown = ", ".join(str(n) for n in self.first_lines)
        more = f" and {self.lines - len(self.first_lines):,} more" if self.lines > len(self.first_lines) else ""
        where = f"{self.column}: " if self.column else ""
        return f"{self.lines:,} x {where}{self.reason} (line{'s' if self.lines > 1 else ''} {shown}{more})"


@dataclass
class FileCheck:
    school_id: str
    file: str
    status: str
    """loaded (tonight's run would load it), refused (it would fail), missing (a required file is absent), or
    another status the ingest gives a file it does not load (its notes are the message)."""
    message: str = ""
    layout: Layout | None = None
    header: HeaderReading | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    quarantined: list[Reason] = field(default_factory=list)
    blanked: list[Reason] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    max_quarantined_share: float = 0.05

    @property
    def quarantined_share(self) -> float:
        return self.rows_quarantined / self.rows_read if self.rows_read else 0.0

    @property
    def holds_school_back(self) -> bool:
        """Whether this file alone would keep the school's shortlist from being published tonight: a required file
        missing, any file delivered that the run cannot read (the gate's "every file delivered was read": an
        optional file too, whose rows would otherwise be missing or stale without a word), or too many of its
        lines quarantined. A file staff write never does: the run warns of it and publishes."""
        return (self.status != "loaded" and self.file not in STAFF_FILES) or self._over_share

    @property
    def _over_share(self) -> bool:
        """Too many lines quarantined for an export (a file staff write is not judged by its share)."""
        return self.quarantined_share > self.max_quarantined_share and self.file not in STAFF_FILES

    @property
    def verdict(self) -> str:
        if self.status != "loaded" and self.file in STAFF_FILES:
            return (
                f"NOT READ: {self.message} (a file staff write: the school would publish without tonight's "
                "decisions, those read before staying in use)"
            )
        if self.status != "loaded":
            return f"HELD BACK: {self.message}"
        if self.rows_quarantined and self.file in STAFF_FILES:
            return (
                f"OK: {self.rows_loaded:,} of {self.rows_read:,} lines would load, {self.rows_quarantined:,} set "
                "aside (a file staff write: its other lines are used, whatever the share)"
            )
        if self._over_share:
            return (
                f"HELD BACK: {self.rows_quarantined:,} of {self.rows_read:,} lines quarantined "
                f"({self.quarantined_share:.1%}, more than the gate's {as_set(self.max_quarantined_share)})"
            )
        if self.rows_quarantined:
            return (
                f"OK: {self.rows_loaded:,} of {self.rows_read:,} lines would load, "
                f"{self.rows_quarantined:,} quarantined ({self.quarantined_share:.1%})"
            )
        return "OK: the 1 line would load" if self.rows_read == 1 else f"OK: all {self.rows_read:,} lines would load"


@dataclass
class SchoolCheck:
    school_id: str
    files: list[FileCheck] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    marks: list[str] = field(default_factory=list)
    """Why the school's marks as delivered would fail a blocking check of the gate on the night they reach (an
    export that stopped weeks before the others', a school day missing for a whole year group)."""

    @property
    def held_back(self) -> bool:
        return bool(self.marks) or any(f.holds_school_back for f in self.files)


@dataclass
class DeliveryCheck:
    exports: Path
    today: dt.date
    schools: list[SchoolCheck] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def held_back(self) -> list[str]:
        return [s.school_id for s in self.schools if s.held_back]


SUBJECTS_SHOWN = 5


def check_delivery(exports: Path, today: dt.date | None = None, max_quarantined_share: float = 0.05) -> DeliveryCheck:
    """Read and load every file of ``exports`` as tonight's run would, into a throwaway in-memory warehouse, and say
    per school and file how it was read, what it lacks and which lines would be quarantined and why.

    Raises FileNotFoundError when ``exports`` is not a folder."""
    today = today or dt.date.today()
    deliveries, notes = discover(exports)
    con = connect()  # in memory: nothing outlives the check
    try:
        loaded = ingest(con, exports, today=today, force=True, workers=1)
        reasons = _reasons(con)
        unread = _unread(con)
        marks = _marks_held_back(con, today)
    finally:
        con.close()
    check = DeliveryCheck(exports, today, notes=notes)
    if not deliveries:
        check.notes.append(f"no school folders found in {exports}")
    by_school = {d.school_id: d for d in deliveries}
    with temporary_workdir() as scratch:
        for school_id, outcomes in itertools.groupby(loaded.files, key=lambda f: f.school_id):
            school = SchoolCheck(school_id)
            school.notes = [n.split(": ", 1)[1] for n in loaded.notes if n.startswith(f"{school_id}: ")]
            school.notes += unread.get(school_id, [])
            school.marks = marks.get(school_id, [])
            delivery = by_school[school_id]
            for outcome in outcomes:
                export = FILES_BY_NAME[outcome.file]
                path = delivery.files.get(outcome.file)
                status = outcome.status if outcome.status != "unchanged" else "loaded"
                if path is None:
                    status = "missing"
                file = FileCheck(
                    school_id,
                    outcome.file,
                    "refused" if status == "failed" else status,
                    message="; ".join(outcome.notes) if status != "loaded" else "",
                    rows_read=outcome.rows_read,
                    rows_loaded=outcome.rows_loaded,
                    rows_quarantined=outcome.rows_quarantined,
                    quarantined=reasons.get((school_id, outcome.file, "row quarantined"), []),
                    blanked=reasons.get((school_id, outcome.file, "value blanked"), []),
                    max_quarantined_share=max_quarantined_share,
                )
                if path is not None:
                    try:
                        prepared = prepare(school_id, export, path, Path(scratch))
                    except UnreadableFileError:
                        pass  # the message is the ingest's, above
                    else:
                        file.header = prepared.header
                        if path.suffix.lower() != ".xml":  # a CTF's files are converted: its note says so
                            file.layout = _layout(
                                prepared.readable_path, prepared.encoding, prepared.delimiter, path, prepared.header
                            )
                        shown = ("no ", "headers read through aliases")  # (the column lines say these)
                        file.notes = [n for n in outcome.notes if not n.startswith(shown)]
                school.files.append(file)
            check.schools.append(school)
    return check


def _marks_held_back(con: duckdb.DuckDBPyConnection, today: dt.date) -> dict[str, list[str]]:
    """Per school, the blocking checks of the gate on its marks that the delivery alone would fail, on the night
    tonight's run would take (the latest mark of any school): marks that stop more than 14 days before it, and a
    school day of the last 20 with no mark for a whole year group. (The run makes them with the same queries.)"""
    night = latest_mark(con, today)
    if night is None:
        return {}
    found: dict[str, list[str]] = {}
    for school, days in con.execute(LATEST_MARKS, {"as_of": night, "no_mark": NO_MARK_DAYS}).fetchall():
        if days > MARKS_WITHIN_DAYS:
            found.setdefault(str(school), []).append(
                f"it has no attendance mark on or before the night of {night}"
                if days >= NO_MARK_DAYS
                else f"its latest attendance mark is {days} days before the night of {night} (the latest mark of any "
                f"school), more than {MARKS_WITHIN_DAYS}: has its export stopped?"
            )
    params = {"as_of": night, "lookback_days": SCHOOL_DAYS_LOOKBACK}
    for school, day, year_group, _, with_marks, _ in con.execute(RECENT_DAYS, params).fetchall():
        if not with_marks:
            found.setdefault(str(school), []).append(
                f"no pupil of year group {year_group} has a mark on {day}, a school day of the last 20"
            )
    return found


def _unread(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Notes, per school, on what would load and go unread, as the gate's warning checks find it: working-at and
    target results for no subject the features read, or mostly no grade (gaps to target "no data"), KS2 scaled
    scores or CAT4 standard age scores mostly not numbers (no result, and no range checked), and behaviour points all
    positive (no pupil's behaviour counting). A score's value is never shown, only its shape (``999,9``)."""
    notes: dict[str, list[str]] = {}
    for school, core, subjects, no_grade, example in con.execute(GRADES_READ, {"as_of": dt.date.max}).fetchall():
        if not core:
            notes.setdefault(str(school), []).append(
                "no working-at or target result is for English, Reading or Maths (the subjects they are for: "
                f"{', '.join(subjects[:SUBJECTS_SHOWN])}{', …' if len(subjects) > SUBJECTS_SHOWN else ''}), so "
                "every pupil's gap to target would read as no data: name the subjects as docs/contract.md does"
            )
        elif no_grade > NO_GRADE_SHARE:
            notes.setdefault(str(school), []).append(
                f"{no_grade:.0%} of the English, Reading and Maths working-at and target results are no grade (such "
                f"as {example!r}), so their gaps to target would read as no data: write grades as 9-1, U or the "
                "primary steps (BLW, PKS, WTS, EXS, GDS), as docs/contract.md does"
            )
    rows = con.execute(SCORES_READ, {"as_of": dt.date.max, "result_types": list(SCORES)}).fetchall()
    for school, kind, results, not_number, shape, comma, comma_shape in sorted(rows):
        if not_number > NO_NUMBER_SHARE:
            notes.setdefault(str(school), []).append(
                f"{not_number:.0%} of the {SCORES[kind]} are not numbers (written like {shape!r}, each digit shown as "
                "9 and each letter as x), so they would be read as no result and their range would go unchecked: "
                "write them as digits with a decimal point (104, 104.5), with no decimal comma or % sign, as "
                "docs/contract.md does"
            )
        elif comma > 0:
            notes.setdefault(str(school), []).append(
                f"{comma:,} of the {results:,} {SCORES[kind]} {'is' if comma == 1 else 'are'} written with a "
                f"decimal comma or a % sign (like {comma_shape!r}, each digit shown as 9), so would be read as no "
                "result: write them as digits with a decimal point (104, 104.5), as docs/contract.md does"
            )
    params = {"as_of": dt.date.max, "least_incidents": LEAST_INCIDENTS}
    for school, incidents, negative in con.execute(NEGATIVE_POINTS, params).fetchall():
        if not negative:
            notes.setdefault(str(school), []).append(
                f"none of the {incidents:,} behaviour incidents has negative points, so no pupil's behaviour would "
                "count: write negative behaviour as negative points (-3), as docs/contract.md does"
            )
    return notes


def _reasons(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str, str], list[Reason]]:
    found: dict[tuple[str, str, str], list[Reason]] = {}
    rows = con.execute(QUARANTINE_BY_REASON, {"shown": LINES_SHOWN}).fetchall()
    for school_id, file, outcome, column, reason, lines, first_lines in rows:
        found.setdefault((school_id, file, outcome), []).append(
            Reason(str(column), str(reason), int(lines), tuple(int(n) for n in first_lines))
        )
    return found


def _layout(readable: Path, encoding: str, delimiter: str, original: Path, header: HeaderReading | None) -> Layout:
    with original.open("rb") as handle:
        start = handle.read(SAMPLE_BYTES)
    if encoding == "utf-8":
        name = "UTF-8 with byte-order mark" if start.startswith(codecs.BOM_UTF8) else "UTF-8"
    else:
        name = "Windows-1252"
    crlf = start.count(b"\r\n")
    lf = start.count(b"\n") - crlf
    cr = start.count(b"\r") - crlf  # classic Mac OS, as Excel's "CSV (Macintosh)" saves
    kinds = [name for name, n in (("CRLF", crlf), ("LF", lf), ("CR", cr)) if n]
    line_ends = "no" if not kinds else kinds[0] if len(kinds) == 1 else "mixed " + " and ".join(kinds)
    return Layout(name, DELIMITER_NAMES.get(delimiter, repr(delimiter)), line_ends, _date_style(readable, delimiter,
                                                                                                   header))  # fmt: skip


def _date_style(path: Path, delimiter: str, header: HeaderReading | None) -> str:
    if header is None:
        return "unknown"
    positions = [m.position for m in header.matches if m.column and header.export.column(m.column).kind == "date"]
    if not positions:
        return "(no date columns)"
    iso = uk = us = other = lines = 0
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        next(handle, None)
        # Each line split on its own, as the run reads it: a stray quote spoils its line only, where a CSV reader
        # of the whole file ran its field on over the lines after it (past csv's field limit: a traceback).
        for text in itertools.islice(handle, SAMPLE_LINES):
            try:
                row = next(csv.reader([text.rstrip("\r\n")], delimiter=delimiter), [])
            except csv.Error:  # a field over csv's limit (128 KiB): the run quarantines the line; no date read here
                continue
            lines += 1
            for position in positions:
                value = row[position].strip() if position < len(row) else ""
                if not value:
                    continue
                if ISO_DATE.match(value):
                    iso += 1
                elif slash_date_order(value) == "month first":
                    us += 1  # 07/16/2025: the ingest refuses a file of them (pipeline.ingest.load.refuse_month_first)
                elif UK_DATE.match(value):
                    uk += 1
                else:
                    other += 1
    named = (("YYYY-MM-DD", iso), ("DD/MM/YYYY", uk), ("MM/DD/YYYY (month first)", us), ("neither", other))
    styles = [name for name, n in named if n]
    if not styles:
        return "(all blank)" if lines else "(no lines)"
    return styles[0] if len(styles) == 1 else "mixed: " + ", ".join(styles)


def render(check: DeliveryCheck) -> list[str]:
    """The report as lines of text, for a terminal or a ticket."""
    lines = [f"Checking {check.exports} as a run on {check.today} would read it (nothing is written)."]
    lines += [f"note: {n}" for n in check.notes]
    for school in check.schools:
        lines.append("")
        state = "HELD BACK: no new shortlist tonight" if school.held_back else "would publish"
        lines.append(f"School {school.school_id}: {state}")
        lines += [f"  HELD BACK: {reason}" for reason in school.marks]
        for file in school.files:
            lines.append(f"  {file.file}: {file.verdict}")
            if file.layout is not None:
                lines.append(f"    read as {file.layout.describe()}")
            lines += [f"    note: {n}" for n in file.notes]
            if file.header is not None:
                for match in file.header.matches:
                    lines.append(f"    column {match.describe()}")
                for column in file.header.missing_required:
                    lines.append(f"    MISSING required column {column.name} (or {', '.join(column.aliases)})")
                for column in file.header.missing_optional:
                    lines.append(f"    no optional column {column.name}: {column.absent_means}")
            for reason in file.quarantined:
                lines.append(f"    quarantined {reason.describe()}")
            for reason in file.blanked:
                lines.append(f"    value blanked {reason.describe()}")
        lines += [f"  note: {n}" for n in school.notes]
    lines.append("")
    if check.held_back:
        lines.append(f"Verdict: {len(check.held_back)} school(s) would be held back: {', '.join(check.held_back)}.")
    else:
        lines.append("Verdict: tonight's run would load every school.")
    lines.append(
        "(Checks that need the warehouse's history, such as a roll that shrank since the last night published, are "
        "made by the nightly run, not here.)"
    )
    return lines
