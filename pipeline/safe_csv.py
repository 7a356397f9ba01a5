"""Write CSV files that hold pupil data: Excel-friendly, formula-proof, atomic and owner-only.

- UTF-8 with a byte-order mark, so Excel shows accents correctly; ISO dates; no negative zero ("-0.0" for a gap
  rounded to nothing).
- Any cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with ``'`` so a
  spreadsheet shows it as text instead of running it as a formula (CSV injection).
- Written durably (:func:`atomic_write`, which every output file of the pipeline goes through): to a temporary
  file in the same folder, flushed to disk, renamed into place, then the folder itself flushed to disk, so a reader
  never sees half a file, a crash never leaves one, and a power cut just after a write cannot undo it. Created with
  mode 0600 (readable by its owner only) unless told otherwise.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import pandas as pd

DANGEROUS_FIRST = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Make one cell safe to open in a spreadsheet.

    >>> neutralise("=HYPERLINK(\\"http://x\\")"), neutralise("-3"), neutralise(-3), neutralise("Smith")
    ('\\'=HYPERLINK("http://x")', "'-3", -3, 'Smith')
    """
    if isinstance(value, str) and value.startswith(DANGEROUS_FIRST):
        return "'" + value
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value == 0:
        return 0.0  # a change or gap rounded to nothing reads "0.0", not "-0.0"
    return value


def write_csv(frame: pd.DataFrame, path: Path, mode: int = 0o600) -> Path:
    """Write ``frame`` to ``path`` safely (see the module notes); returns ``path``."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(neutralise)
        elif pd.api.types.is_float_dtype(safe[column]):
            safe[column] = safe[column] + 0.0  # -0.0 + 0.0 is 0.0; every other value, NaN too, is unchanged
    return atomic_write(
        path,
        lambda out: safe.to_csv(out, index=False, lineterminator="\r\n", date_format="%Y-%m-%d"),
        mode=mode,
        encoding="utf-8-sig",
    )


def write_json(data: object, path: Path, mode: int = 0o600) -> Path:
    """Write JSON atomically (temporary file and rename), owner-only by default."""

    def dump(out: TextIO) -> None:
        json.dump(data, out, indent=2, default=str)
        out.write("\n")

    return atomic_write(path, dump, mode=mode)


def write_text(text: str, path: Path, mode: int = 0o600, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` durably (:func:`atomic_write`), owner-only by default."""
    return atomic_write(path, lambda out: out.write(text), mode=mode, encoding=encoding)


def atomic_write(path: Path, write: Callable[[TextIO], object], mode: int = 0o600, encoding: str = "utf-8") -> Path:
    """Write a text file through ``write`` into a temporary file, flush it to disk, rename it into place, and flush
    the folder to disk (the rename is an entry in the folder: until the folder is flushed, a power cut can undo it).

    New folders on the way are created owner-only (0700), each flushed into its parent. A reader sees the old file or
    the new one, never half; once this returns, the new file survives a power cut.
    """
    make_private_folder(path.parent)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding=encoding, newline="") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        Path(temporary).chmod(mode)
        Path(temporary).replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            Path(temporary).unlink()
        raise
    fsync_folder(path.parent)
    return path


def fsync_folder(folder: Path) -> None:
    """Flush ``folder``'s entries (files created, renamed or removed in it) to disk."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def make_private_folder(folder: Path) -> None:
    """Create ``folder`` and any missing parents with mode 0700, each flushed into its parent; existing folders are
    left as they are."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    for part in reversed(missing):
        part.mkdir(mode=0o700, exist_ok=True)
        fsync_folder(part.parent)
