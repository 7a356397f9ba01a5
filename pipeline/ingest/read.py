"""Find a delivery's files and make each readable by DuckDB: encoding, delimiter, header names, line count.

Nothing here parses rows: a file is checked (a regular file, not empty, not UTF-16, the required columns present),
its physical lines are counted from its bytes (independently of any CSV parser: the load checks that it read as many
lines), and, when it is not UTF-8, it is copied to a temporary UTF-8 file: transcoded from Windows-1252, or (a UTF-8
file with a few bytes that are not UTF-8) with each such byte replaced by U+FFFD, which marks the lines the load
quarantines. Symbolic links and anything else that is not a regular file are refused, never followed. The export
folder itself is never written to.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.contract import EXPORT_FILES, SCHOOL_FOLDER, ExportFile, HeaderReading, read_header

CHUNK = 8 * 1024 * 1024
SAMPLE = 4096
"""Bytes looked at to recognise UTF-16 without a byte order mark (every other byte NUL)."""
NOT_UTF8 = "\ufffd"
"""What a byte that is not UTF-8 becomes in the UTF-8 copy of a mixed file (the Unicode replacement character)."""
PLAIN_LINE_BYTES = 16_384
"""The longest line (in the file's own bytes) of a file read by DuckDB's line reader: a quarter of the limit over
which a line is quarantined (lines.py), so that no line of such a file, even transcoded to UTF-8 (at most three
bytes for one), is over that limit, and the limit need not be checked."""


class UnreadableFileError(Exception):
    """A file that cannot be read at all; the message names the file and what to fix."""


@dataclass(frozen=True)
class SchoolDelivery:
    school_id: str
    folder: Path
    files: dict[str, Path]
    """Contract file name -> path, for the files present."""
    missing_optional: tuple[str, ...]
    missing_required: tuple[str, ...]
    unexpected: tuple[str, ...]
    notes: tuple[str, ...] = ()
    """What the run should say about the folder as a whole (a CTF used or partly used, a second CTF ignored)."""
    refused: dict[str, str] = field(default_factory=dict)
    """Contract file name -> why the entry of that name was refused unopened (a link, a pipe): the file fails."""

    @property
    def named_like_exports(self) -> dict[str, str]:
        """Unexpected names that start as an export's does ("attendance (1).csv", "Attendance - Copy.csv"), each with
        the export's name: a night's file saved under another name, not read."""
        found = {}
        for name in self.unexpected:
            export = next((f.name for f in EXPORT_FILES if name.startswith(f.name.removesuffix(".csv"))), None)
            if export is not None:
                found[name] = export
        return found


@dataclass
class PreparedFile:
    school_id: str
    export: ExportFile
    path: Path
    sha256: str
    encoding: str
    delimiter: str
    columns: list[str]
    """Column name per position: the canonical name, or ``ignored_N`` for a column the contract does not know."""
    unknown_columns: list[str]
    readable_path: Path
    """What DuckDB reads: the file itself, or a UTF-8 copy (of a Windows-1252 file, or of a mixed one)."""
    physical_lines: int = 0
    """Lines in the file, the header included, counted from its bytes (a last line without a line end counts)."""
    ends_with_line_end: bool = True
    """Whether the file's last byte ends a line (a file cut off mid-line does not)."""
    line_end: str = "\n"
    """What ends a line: LF (a CR before it is dropped) or, in a file with no LF at all, CR."""
    bytes_not_utf8: int = 0
    """Bytes that were neither UTF-8 nor read as Windows-1252: each is U+FFFD in the copy; their lines are
    quarantined."""
    plain: bool = False
    """Whether DuckDB's line reader can read the file's lines (LF line ends, each CR before an LF, every line end
    the same, LF or CRLF, no NUL and no ``chr(1)``, no line over :data:`PLAIN_LINE_BYTES`): it is faster than
    splitting the text in SQL, and its count of lines is checked all the same."""
    quotes: bool = True
    """Whether the file holds a quote anywhere (if not, no line needs a CSV-aware split)."""
    notes: list[str] = field(default_factory=list)
    header: HeaderReading | None = None
    """Which contract column each header cell matched, and through which name or alias."""
    header_line: str = ""
    """The header row's text (without a byte-order mark or line end): a data line equal to it is a second header."""

    @property
    def label(self) -> str:
        return f"{self.school_id}/{self.export.name}"


class ExportsFolderError(ValueError):
    """An exports folder that cannot be read as a trust's or a school's: the message says what to fix."""


def discover(exports: Path) -> tuple[list[SchoolDelivery], list[str]]:
    """The schools in a delivery folder, and notes on anything ignored.

    Each sub-folder named by a URN or LAESTAB is a school; other entries are ignored and reported. A folder with no
    such sub-folder that holds ``pupils.csv``, ``attendance.csv`` or a Common Transfer File is one school, named by
    the folder (resolved: ``--exports .`` is the folder's own name), which must be a URN or LAESTAB too (raises
    :class:`ExportsFolderError` otherwise). A contract file a school does not send as CSV is read from its CTF, if it
    has one (see :mod:`.ctf`).
    """
    if not exports.is_dir():
        raise FileNotFoundError(f"the exports folder {exports} does not exist or is not a folder")
    notes: list[str] = []
    children = sorted(exports.iterdir())
    schools = [c for c in children if SCHOOL_FOLDER.fullmatch(c.name) and c.is_dir() and not c.is_symlink()]
    folders: list[tuple[str, Path]] = []
    if not schools and (any(os.path.lexists(exports / n) for n in ("pupils.csv", "attendance.csv")) or _ctfs(exports)):
        name = exports.resolve().name
        if not SCHOOL_FOLDER.fullmatch(name):
            raise ExportsFolderError(
                f"the exports folder {exports} holds export files itself, so it would be one school's folder, but "
                f"its name is not a school's URN (6 digits) or LAESTAB (7 digits): put the files in a folder named "
                "by the school's URN, inside the exports folder"
            )
        folders.append((name, exports))
    else:
        for child in children:
            if child.is_symlink():
                notes.append(f"refused {child.name}: a symbolic link (links in the export folder are never followed)")
            elif child in schools:
                folders.append((child.name, child))
            else:
                notes.append(f"ignored {child.name}: not a school folder (named by a 6-digit URN or 7-digit LAESTAB)")
    deliveries = []
    known = {f.name for f in EXPORT_FILES}
    for school_id, folder in folders:
        present: dict[str, Path] = {}
        try:
            entries = sorted(folder.iterdir())
        except OSError as error:
            notes.append(f"{school_id}: could not list the folder ({error.strerror or error}): no file of it read")
            entries = []
        refused_files: dict[str, str] = {}
        for entry in entries:
            refused = _not_a_regular_file(entry)
            if refused and entry.name.lower() in known:
                refused_files[entry.name.lower()] = refused
            elif refused:
                notes.append(f"{school_id}: refused {entry.name}: {refused}")
            else:
                present[entry.name.lower()] = entry
        files = {name: present[name] for name in known if name in present}
        ctf, school_notes = _from_ctf(folder, files)
        deliveries.append(
            SchoolDelivery(
                school_id=school_id,
                folder=folder,
                files=files,
                missing_optional=tuple(f.name for f in EXPORT_FILES if not f.required_file and f.name not in files),
                missing_required=tuple(f.name for f in EXPORT_FILES if f.required_file and f.name not in files),
                unexpected=tuple(sorted(n for n in present if n not in known and n not in ctf)),
                notes=tuple(school_notes),
                refused=refused_files,
            )
        )
    return deliveries, notes


def _not_a_regular_file(entry: Path) -> str:
    """Why ``entry`` (inside a school's folder) is refused, or "" for a regular file. A folder inside a school's
    folder is no export file either, but nothing to refuse: it is ignored like any other unexpected name."""
    mode = entry.lstat().st_mode
    if stat.S_ISLNK(mode):
        return "a symbolic link (links in the export folder are never followed)"
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return ""
    return "not a regular file (a device, pipe or socket)"


def _ctfs(folder: Path) -> list[Path]:
    from pipeline.ingest.ctf import is_ctf

    # (a symbolic link or any other file that is not a regular one is refused, never read: see discover)
    return sorted((p for p in folder.iterdir() if not _not_a_regular_file(p) and is_ctf(p)), key=lambda p: p.name)


def _from_ctf(folder: Path, files: dict[str, Path]) -> tuple[set[str], list[str]]:
    """Add to ``files`` the contract files the folder's CTF gives and its CSV files do not (the newest CTF by the
    date and time its header says it was made, if there are several; the last by name among equals); return the
    lower-case names of the CTF files seen, and notes on what was used."""
    from pipeline.ingest.ctf import CTF_FILES, made_at

    found = _ctfs(folder)
    if not found:
        return set(), []
    ctf = max(found, key=lambda p: (made_at(p), p.name)) if len(found) > 1 else found[0]
    notes = [f"ignored {p.name}: a second Common Transfer File (only {ctf.name}, the newest by its header, is read)"
             for p in found if p != ctf]  # fmt: skip
    used = [name for name in CTF_FILES if name not in files]
    kept = [name for name in CTF_FILES if name in files]
    for name in used:
        files[name] = ctf
    if kept:
        notes.append(f"{', '.join(kept)} read from the CSV file{'s' if len(kept) > 1 else ''} in the folder, not "
                     f"from the Common Transfer File {ctf.name}")  # fmt: skip
    return {p.name.lower() for p in found}, notes


def prepare(school_id: str, export: ExportFile, path: Path, workdir: Path) -> PreparedFile:
    """Check one file can be read and work out how; raise :class:`UnreadableFileError` saying what to fix if not."""
    try:
        return _prepare(school_id, export, path, workdir)
    except OSError as error:  # e.g. no permission to read it, or it vanished since the folder was listed
        raise UnreadableFileError(
            f"{school_id}/{export.name} could not be read ({error.strerror or error}): check that it is there and "
            "that the pipeline's user may read it"
        ) from error


def _prepare(school_id: str, export: ExportFile, path: Path, workdir: Path) -> PreparedFile:
    label = f"{school_id}/{export.name}"
    refused = _not_a_regular_file(path)
    if refused or not path.is_file():
        raise UnreadableFileError(f"{label} was refused: {refused or 'not a regular file'}")
    origin: list[str] = []
    if path.suffix.lower() == ".xml":  # a Common Transfer File: read the contract file converted from it
        from pipeline.ingest import ctf

        try:
            made = ctf.converted(path, workdir, school_id)
        except (ctf.CTFError, OSError) as error:
            raise UnreadableFileError(f"{label} could not be read from the Common Transfer File: {error}") from error
        path, origin = made.files[export.name], made.notes
    if path.stat().st_size == 0:
        raise UnreadableFileError(f"{label} is empty: re-export it with a header row and the data")
    scan = _scan(path, label)
    sha256, encoding = scan.sha256, scan.encoding
    header_line = _header(path, encoding)
    if not header_line.strip():
        raise UnreadableFileError(f"{label} has no header row: re-export it with column names on the first line")
    delimiter = max((",", ";", "\t"), key=header_line.count)
    header = read_header(export, next(csv.reader([header_line], delimiter=delimiter)))
    columns = [m.column or f"ignored_{m.position}" for m in header.matches]
    unknown = header.unknown
    missing = header.missing_required
    if missing:
        below = _header_below(path, encoding, export)
        if below is not None:
            raise UnreadableFileError(
                f"{label} has its header row on line {below}, not line 1: the line(s) above it (a report's title?) "
                "must go; take them out of the report's layout and send it again"
            )
        wanted = "; ".join(f"{c.name} (or {', '.join(c.aliases)})" if c.aliases else c.name for c in missing)
        raise UnreadableFileError(
            f"{label} lacks required column(s): {wanted}. Add them to the export and send it again"
        )
    readable = path
    if encoding != "utf-8":
        readable = workdir / f"{school_id}-{export.name}"
        _transcode(path, readable, encoding)
    prepared = PreparedFile(
        school_id=school_id,
        export=export,
        path=path,
        sha256=sha256,
        encoding=encoding,
        delimiter=delimiter,
        columns=columns,
        unknown_columns=unknown,
        readable_path=readable,
        physical_lines=scan.lines,
        ends_with_line_end=scan.ends_with_line_end,
        line_end=scan.line_end,
        bytes_not_utf8=scan.bytes_not_utf8,
        plain=scan.plain,
        quotes=scan.quotes,
        header=header,
        notes=list(origin),
        header_line=header_line.replace("\ufeff", ""),
    )
    named, unnamed = [u for u in unknown if u], [u for u in unknown if not u]
    if named:
        prepared.notes.append(f"ignored columns the contract does not use: {', '.join(named)}")
    if unnamed:
        prepared.notes.append(f"ignored {len(unnamed)} column(s) with no name in the header (empty header cells)")
    for again in header.repeated:
        prepared.notes.append(again.describe())
    if encoding == "cp1252":
        prepared.notes.append("read as Windows-1252")
    if scan.bytes_not_utf8:
        prepared.notes.append(
            f"read as UTF-8 with {scan.bytes_not_utf8:,} byte(s) that are not UTF-8 (the lines holding them are "
            "quarantined): export the file again as CSV (UTF-8)"
        )
    if header.alias_note():
        prepared.notes.append(header.alias_note())
    prepared.notes += header.absent_notes()
    return prepared


@dataclass(frozen=True)
class _Scan:
    sha256: str
    encoding: str
    """``utf-8``, ``cp1252`` or ``utf-8-marked`` (UTF-8 with bytes that are not, each to be marked U+FFFD)."""
    lines: int
    ends_with_line_end: bool
    line_end: str
    bytes_not_utf8: int
    plain: bool = False
    quotes: bool = True


@dataclass
class _Shape:
    """What one pass over a file's bytes learns about its lines (see :attr:`PreparedFile.plain`)."""

    line_feeds: int = 0
    returns: int = 0
    crlf: int = 0
    longest: int = 0
    """The longest line's length in bytes (its CR included), as far as the line feeds tell."""
    pending: int = 0
    """Bytes since the last line feed."""
    odd_bytes: bool = False
    """A NUL byte, or the control character the line reader splits at (``chr(1)``)."""
    quotes: bool = False
    last: bytes = b""

    def add(self, chunk: bytes) -> None:
        self.line_feeds += chunk.count(b"\n")
        self.returns += chunk.count(b"\r")
        self.crlf += chunk.count(b"\r\n") + (self.last == b"\r" and chunk[:1] == b"\n")
        self.odd_bytes = self.odd_bytes or b"\x00" in chunk or b"\x01" in chunk
        self.quotes = self.quotes or b'"' in chunk
        feeds = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == ord("\n"))
        if feeds.size:
            inner = int(np.diff(feeds).max()) - 1 if feeds.size > 1 else 0
            self.longest = max(self.longest, self.pending + int(feeds[0]), inner)
            self.pending = len(chunk) - int(feeds[-1]) - 1
        else:
            self.pending += len(chunk)
        self.last = chunk[-1:]

    @property
    def plain(self) -> bool:
        return (
            self.line_feeds > 0
            and self.returns == self.crlf
            and self.crlf in (0, self.line_feeds)  # one kind of line end: DuckDB's line reader fails on a mix
            and not self.odd_bytes
            and max(self.longest, self.pending) <= PLAIN_LINE_BYTES
        )


def _scan(path: Path, label: str) -> _Scan:
    """One pass over the bytes: the file's sha256, its line count and line ends, and its encoding.

    The encoding is ``utf-8`` (with or without BOM) when the whole file decodes as UTF-8. Otherwise it is
    ``cp1252`` when the file decodes as Windows-1252 and has neither a UTF-8 byte order mark nor any UTF-8
    character beyond ASCII (an old SIMS report); else the file is UTF-8 with a few bad bytes (a Windows-1252 byte
    pasted into a UTF-8 file): ``utf-8-marked``, whose lines holding them are quarantined. A UTF-16 file (a byte
    order mark, or every other byte NUL) is refused. A chunk of plain ASCII (most exports) is valid UTF-8 as it
    stands, so only a chunk with other bytes, or one that follows a chunk ending inside a character, goes to the
    decoder."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    shape = _Shape()
    with path.open("rb") as handle:
        first = handle.read(SAMPLE)
        _refuse_workbook(first, label)
        _refuse_utf16(first, label)
        handle.seek(0)
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            shape.add(chunk)
            if utf8 and not (chunk.isascii() and not decoder.getstate()[0]):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
    line_end = "\n" if shape.line_feeds or not shape.returns else "\r"
    ends = shape.last == line_end.encode()
    lines = (shape.line_feeds if line_end == "\n" else shape.returns) + (0 if ends else 1)
    scan = _Scan(digest.hexdigest(), "utf-8", lines, ends, line_end, 0, shape.plain, shape.quotes)
    if utf8:
        try:
            decoder.decode(b"", final=True)
            return scan
        except UnicodeDecodeError:
            pass
    if first.startswith(codecs.BOM_UTF8) or _has_utf8_beyond_ascii(path):
        return _Scan(
            scan.sha256, "utf-8-marked", lines, ends, line_end, _bytes_not_utf8(path), shape.plain, shape.quotes
        )
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                chunk.decode("cp1252")
    except UnicodeDecodeError:
        # Bytes Windows-1252 does not define either (0x81, 0x8D, 0x8F, 0x90, 0x9D): a few damaged bytes.
        return _Scan(
            scan.sha256, "utf-8-marked", lines, ends, line_end, _bytes_not_utf8(path), shape.plain, shape.quotes
        )
    return _Scan(scan.sha256, "cp1252", lines, ends, line_end, 0, shape.plain, shape.quotes)


WORKBOOK_SIGNATURES = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
"""How an Excel workbook begins: .xlsx is a zip archive, .xls an OLE compound file."""


def _refuse_workbook(start: bytes, label: str) -> None:
    """Raise for an Excel workbook (or any zip archive) saved under a .csv name: read as text, it was refused for
    lacking every required column, which sent the data lead looking for columns."""
    if start.startswith(WORKBOOK_SIGNATURES):
        raise UnreadableFileError(
            f"{label} is an Excel workbook (or another zip or Office file), not CSV text: open it in Excel and save "
            "it as CSV UTF-8 (comma delimited)"
        )


def _refuse_utf16(start: bytes, label: str) -> None:
    """Raise for a UTF-16 (or UTF-32) file: a byte order mark, or NUL in every other byte of its start."""
    bom = start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    pairs = len(start) // 2
    nul_pattern = pairs >= 2 and (
        start[1::2].count(0) >= 0.9 * pairs or start[0::2].count(0) >= 0.9 * pairs
    )  # ASCII text in UTF-16 has a NUL beside every character
    if bom or nul_pattern:
        raise UnreadableFileError(f"{label} is UTF-16 text: export it again as CSV (UTF-8)")


def _has_utf8_beyond_ascii(path: Path) -> bool:
    """Whether the file holds at least one well-formed UTF-8 character beyond ASCII."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            if chunk.isascii() and not decoder.getstate()[0]:
                continue
            if UTF8_BEYOND_ASCII.search(decoder.decode(chunk)):
                return True
    return False


UTF8_BEYOND_ASCII = re.compile("[^\x00-\x7f\ufffd]")


def _bytes_not_utf8(path: Path) -> int:
    """How many bytes (maximal runs, as Python's decoder replaces them) of the file are not UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    found = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            found += decoder.decode(chunk).count(NOT_UTF8)
    return found + decoder.decode(b"", final=True).count(NOT_UTF8)


def _header(path: Path, encoding: str) -> str:
    return _first_lines(path, encoding, 1)[0]


def _first_lines(path: Path, encoding: str, count: int) -> list[str]:
    """The file's first ``count`` lines as text, without their line ends ("" past the end)."""
    codec = {"utf-8": "utf-8-sig", "utf-8-marked": "utf-8-sig", "cp1252": "cp1252"}[encoding]
    with path.open("r", encoding=codec, errors="replace", newline="") as handle:
        return [handle.readline().rstrip("\r\n") for _ in range(count)]


TITLE_LINES = 5
"""How many lines under the first a header row is looked for, when the first is not one (a report's title above)."""


def _header_below(path: Path, encoding: str, export: ExportFile) -> int | None:
    """The line number (2 to ``TITLE_LINES`` + 1) of the first line under the first that would be a full header
    row for ``export``, or None."""
    for number, line in enumerate(_first_lines(path, encoding, TITLE_LINES + 1)[1:], start=2):
        delimiter = max((",", ";", "\t"), key=line.count)
        if line and not read_header(export, next(csv.reader([line], delimiter=delimiter))).missing_required:
            return number
    return None


def _transcode(source: Path, target: Path, encoding: str) -> None:
    """Write ``source`` as UTF-8 to ``target`` (in the private scratch folder): from Windows-1252, or from UTF-8 with
    each byte that is not UTF-8 replaced by U+FFFD."""
    codec, errors = ("cp1252", "strict") if encoding == "cp1252" else ("utf-8", "replace")
    with (
        source.open("r", encoding=codec, errors=errors, newline="") as reader,
        target.open("w", encoding="utf-8", newline="") as writer,
    ):
        while chunk := reader.read(CHUNK):
            writer.write(chunk)


TEMPORARY_PREFIX = "mentor-ingest-"
OWNER_FILE = "pid"
"""In a temporary scratch folder: the number of the process that made it."""
ORPHAN_SECONDS = 24 * 3600
"""A temporary scratch folder with no process recorded, untouched this long, is a killed load's."""


@contextlib.contextmanager
def temporary_workdir() -> Iterator[str]:
    """A private scratch folder (0700) for transcoded copies, in the temporary folder, removed after the load. A
    process killed mid-load (``mentor check`` stopped by its job's time limit) cannot remove its folder, and its
    plain-text copies of pupils' files stayed for good: each new folder first removes those of this user whose
    process has ended (it records its own process's number)."""
    _remove_orphans(Path(tempfile.gettempdir()))
    with tempfile.TemporaryDirectory(prefix=TEMPORARY_PREFIX) as scratch:
        (Path(scratch) / OWNER_FILE).write_text(str(os.getpid()), encoding="ascii")
        yield scratch


def _remove_orphans(parent: Path) -> None:
    """Remove this user's temporary scratch folders under ``parent`` whose process has ended (on POSIX systems: on
    Windows a user's temporary folder is their own, and ``os.kill(pid, 0)`` would end the process)."""
    if os.name != "posix":
        return
    for folder in parent.glob(f"{TEMPORARY_PREFIX}*"):
        try:
            if folder.is_symlink() or folder.stat().st_uid != os.getuid():
                continue
            if not (folder / OWNER_FILE).exists():
                # made before folders recorded their process (or being made this instant): a day old is no load's
                if time.time() - folder.stat().st_mtime > ORPHAN_SECONDS:
                    shutil.rmtree(folder, ignore_errors=True)
                continue
            pid = int((folder / OWNER_FILE).read_text(encoding="ascii"))
        except (OSError, ValueError):
            continue  # another user's, or one still being made
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:
            pass  # a process of another user's has that number: alive


@contextlib.contextmanager
def warehouse_workdir(warehouse: Path | None) -> Iterator[str]:
    """The private scratch folder for a load into ``warehouse``: beside it (``.<name>.scratch``, mode 0700), emptied
    first and removed after. A run killed mid-load leaves its transcoded copies (plain text, pupils' names among
    them, even beside an encrypted warehouse) only until the next load into the same warehouse, which holds the
    file's lock, so no other load is using the folder. An in-memory warehouse uses a temporary folder."""
    if warehouse is None:
        with temporary_workdir() as scratch:
            yield scratch
        return
    folder = warehouse.with_name(f".{warehouse.name}.scratch")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(mode=0o700)
    try:
        yield str(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
