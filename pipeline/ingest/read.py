"""Find a delivery's files and make each readable by DuckDB: encoding, delimiter, header names.

Nothing here reads rows: a file is checked (not empty, decodable, the required columns present) and, when it is
Windows-1252, transcoded to a temporary UTF-8 copy. The export folder itself is never written to.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.contract import EXPORT_FILES, ExportFile, HeaderReading, read_header

CHUNK = 8 * 1024 * 1024
SCHOOL_FOLDER = re.compile(r"^\d{6,7}$")  # a URN (6 digits) or LAESTAB (7 digits)


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
    """What DuckDB reads: the file itself, or a UTF-8 copy of a Windows-1252 file."""
    notes: list[str] = field(default_factory=list)
    header: HeaderReading | None = None
    """Which contract column each header cell matched, and through which name or alias."""

    @property
    def label(self) -> str:
        return f"{self.school_id}/{self.export.name}"


def discover(exports: Path) -> tuple[list[SchoolDelivery], list[str]]:
    """The schools in a delivery folder, and notes on anything ignored.

    A folder holding ``pupils.csv``, ``attendance.csv`` or a Common Transfer File is one school, named by the
    folder. Otherwise each sub-folder named by a URN or LAESTAB is a school; other entries are ignored and reported.
    A contract file a school does not send as CSV is read from its CTF, if it has one (see :mod:`.ctf`).
    """
    if not exports.is_dir():
        raise FileNotFoundError(f"the exports folder {exports} does not exist or is not a folder")
    notes: list[str] = []
    if (exports / "pupils.csv").exists() or (exports / "attendance.csv").exists() or _ctfs(exports):
        folders = [exports]
    else:
        folders = []
        for child in sorted(exports.iterdir()):
            if child.is_dir() and SCHOOL_FOLDER.match(child.name):
                folders.append(child)
            else:
                notes.append(f"ignored {child.name}: not a school folder (named by a 6-digit URN or 7-digit LAESTAB)")
    deliveries = []
    known = {f.name for f in EXPORT_FILES}
    for folder in folders:
        present = {p.name.lower(): p for p in folder.iterdir() if p.is_file()}
        files = {name: present[name] for name in known if name in present}
        ctf, school_notes = _from_ctf(folder, files)
        deliveries.append(
            SchoolDelivery(
                school_id=folder.name,
                folder=folder,
                files=files,
                missing_optional=tuple(f.name for f in EXPORT_FILES if not f.required_file and f.name not in files),
                missing_required=tuple(f.name for f in EXPORT_FILES if f.required_file and f.name not in files),
                unexpected=tuple(sorted(n for n in present if n not in known and n not in ctf)),
                notes=tuple(school_notes),
            )
        )
    return deliveries, notes


def _ctfs(folder: Path) -> list[Path]:
    from pipeline.ingest.ctf import is_ctf

    return sorted((p for p in folder.iterdir() if is_ctf(p)), key=lambda p: p.name)


def _from_ctf(folder: Path, files: dict[str, Path]) -> tuple[set[str], list[str]]:
    """Add to ``files`` the contract files the folder's CTF gives and its CSV files do not (the last CTF by name,
    if there are several); return the lower-case names of the CTF files seen, and notes on what was used."""
    from pipeline.ingest.ctf import CTF_FILES

    found = _ctfs(folder)
    if not found:
        return set(), []
    ctf, notes = found[-1], [f"ignored {p.name}: a second Common Transfer File (only {found[-1].name} is read)"
                             for p in found[:-1]]  # fmt: skip
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
    label = f"{school_id}/{export.name}"
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
    sha256, encoding = _digest_and_encoding(path, label)
    header_line = _header(path, encoding)
    if not header_line.strip():
        raise UnreadableFileError(f"{label} has no header row: re-export it with column names on the first line")
    delimiter = max((",", ";", "\t"), key=header_line.count)
    header = read_header(export, next(csv.reader([header_line], delimiter=delimiter)))
    columns = [m.column or f"ignored_{m.position}" for m in header.matches]
    unknown = header.unknown
    missing = header.missing_required
    if missing:
        wanted = "; ".join(f"{c.name} (or {', '.join(c.aliases)})" if c.aliases else c.name for c in missing)
        raise UnreadableFileError(
            f"{label} lacks required column(s): {wanted}. Add them to the export and send it again"
        )
    readable = path
    if encoding == "cp1252":
        readable = workdir / f"{school_id}-{export.name}"
        _transcode(path, readable)
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
        header=header,
        notes=list(origin),
    )
    if unknown:
        prepared.notes.append(f"ignored columns the contract does not use: {', '.join(unknown)}")
    if encoding == "cp1252":
        prepared.notes.append("read as Windows-1252")
    if header.alias_note():
        prepared.notes.append(header.alias_note())
    prepared.notes += header.absent_notes()
    return prepared


def _digest_and_encoding(path: Path, label: str) -> tuple[str, str]:
    """The file's sha256, and ``utf-8`` (with or without BOM) when the whole file decodes as UTF-8, else ``cp1252``
    if that decodes. One pass over the bytes; a chunk of plain ASCII (most exports) is valid UTF-8 as it stands,
    so only a chunk with other bytes, or one that follows a chunk ending inside a character, goes to the decoder."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            if utf8 and not (chunk.isascii() and not decoder.getstate()[0]):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
    if utf8:
        try:
            decoder.decode(b"", final=True)
            return digest.hexdigest(), "utf-8"
        except UnicodeDecodeError:
            pass
    offset = 0
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                chunk.decode("cp1252")
                offset += len(chunk)
    except UnicodeDecodeError as error:
        raise UnreadableFileError(
            f"{label} is neither UTF-8 nor Windows-1252 text (undecodable byte at position {offset + error.start}): "
            "export it again as CSV (UTF-8)"
        ) from error
    return digest.hexdigest(), "cp1252"


def _header(path: Path, encoding: str) -> str:
    with path.open("r", encoding="utf-8-sig" if encoding == "utf-8" else "cp1252", newline="") as handle:
        return handle.readline().rstrip("\r\n")


def _transcode(source: Path, target: Path) -> None:
    with (
        source.open("r", encoding="cp1252", newline="") as reader,
        target.open("w", encoding="utf-8", newline="") as writer,
    ):
        while chunk := reader.read(CHUNK):
            writer.write(chunk)


def temporary_workdir() -> tempfile.TemporaryDirectory[str]:
    """A private scratch folder for transcoded copies, removed after the load."""
    return tempfile.TemporaryDirectory(prefix="mentor-ingest-")
