"""The warehouse key: where it comes from, how DuckDB is given it, and how it is changed.

When a key is supplied, the warehouse file, its write-ahead log and DuckDB's temporary files are encrypted by
DuckDB itself (AES-GCM). The key is read only from the environment (``MENTOR_DB_KEY``) or from a file only its
owner can read (named by ``MENTOR_DB_KEY_FILE``): never from the command line, where anyone on the machine could
see it in the process list. It never goes into a log, and it is not written into SQL text: DuckDB reads it from a
session variable that is cleared as soon as the file is open.

DuckDB writes encrypted files with OpenSSL, which comes with its ``httpfs`` extension; the pinned
``duckdb-extension-httpfs`` package ships it (DuckDB checks the extension's signature when loading it), so no
network is needed. Without it, ``LOAD httpfs`` is tried (after ``INSTALL httpfs`` on a machine that can reach
DuckDB's extension site).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import duckdb

from pipeline.safe_csv import fsync_folder
from pipeline.sql import sql_string

KEY_VARIABLE = "MENTOR_DB_KEY"
KEY_FILE_VARIABLE = "MENTOR_DB_KEY_FILE"
NEW_KEY_VARIABLE = "MENTOR_DB_NEW_KEY"
NEW_KEY_FILE_VARIABLE = "MENTOR_DB_NEW_KEY_FILE"
MIN_KEY_LENGTH = 32
ALIAS = "warehouse"


class WarehouseKeyError(Exception):
    """A key that is missing, unreadable, too short, or does not open the warehouse; the message says what to do."""


def key_from_environment(
    variable: str = KEY_VARIABLE, file_variable: str = KEY_FILE_VARIABLE, environ: Mapping[str, str] | None = None
) -> str | None:
    """The key set in ``variable`` or in the file named by ``file_variable``; None when neither is set."""
    environ = os.environ if environ is None else environ
    value, file_name = environ.get(variable, ""), environ.get(file_variable, "")
    if value and file_name:
        raise WarehouseKeyError(f"both {variable} and {file_variable} are set: set only one")
    source = variable
    if file_name:
        path = Path(file_name)
        source = f"the key file {path}"
        try:
            mode = path.stat().st_mode
        except OSError as error:
            raise WarehouseKeyError(f"{file_variable} names {path}, which cannot be read: {error.strerror}") from None
        if mode & 0o077:
            raise WarehouseKeyError(f"{source} can be read by other users: run `chmod 600 {path}`")
        value = path.read_text(encoding="utf-8").strip()
        if not value:
            raise WarehouseKeyError(f"{source} is empty")
    if not value:
        return None
    if len(value) < MIN_KEY_LENGTH:
        raise WarehouseKeyError(
            f"the key in {source} has {len(value)} characters; use at least {MIN_KEY_LENGTH}, "
            "for example the output of `openssl rand -base64 32`"
        )
    return value


def load_crypto(con: duckdb.DuckDBPyConnection) -> None:
    """Load the extension DuckDB needs to write encrypted files (see the module notes)."""
    try:
        import duckdb_extension_httpfs

        folder = Path(duckdb_extension_httpfs.__file__).parent / "extensions" / f"v{duckdb.__version__}"
        con.execute(f"load {sql_string(str(folder / 'httpfs.duckdb_extension'))}")
    except (ImportError, duckdb.IOException):
        try:
            con.execute("load httpfs")
        except duckdb.Error as error:
            raise WarehouseKeyError(
                "DuckDB cannot write encrypted files without its httpfs extension: install the pinned "
                "duckdb-extension-httpfs package (make install does), or run `INSTALL httpfs` once in DuckDB"
            ) from error


def attach(con: duckdb.DuckDBPyConnection, path: Path, key: str | None, alias: str, read_only: bool = False) -> None:
    """Attach the database file at ``path`` as ``alias``, encrypted with ``key`` (or not, when None)."""
    options = ["read_only"] if read_only else []
    if key is not None:
        options.append("encryption_key getvariable('mentor_key')")
        con.execute("set variable mentor_key = ?", [key])
    clause = f" ({', '.join(options)})" if options else ""
    try:
        con.execute(f"attach {sql_string(str(path))} as {alias}{clause}")
    except duckdb.Error as error:
        raise _key_error(path, key, error) from None
    finally:
        if key is not None:
            con.execute("reset variable mentor_key")


def open_encrypted(
    path: Path, key: str, config: dict[str, str | bool | int | float | list[str]]
) -> duckdb.DuckDBPyConnection:
    """A connection whose default database is the warehouse at ``path``, encrypted with ``key``."""
    con = duckdb.connect(config=config)
    try:
        load_crypto(con)
        con.execute("set temp_file_encryption = true")
        attach(con, path, key, ALIAS)
        con.execute(f"use {ALIAS}")
    except BaseException:
        con.close()
        raise
    return con


def _key_error(path: Path, key: str | None, error: duckdb.Error) -> Exception:
    text = str(error)
    if key is None and "without a key" in text:
        return WarehouseKeyError(
            f"the warehouse {path} is encrypted: set {KEY_VARIABLE} or {KEY_FILE_VARIABLE} to its key"
        )
    if key is not None and "not encrypted" in text.lower():
        return WarehouseKeyError(
            f"the warehouse {path} is not encrypted: to encrypt it with this key, run `mentor rekey --db {path}` "
            f"with the key in {NEW_KEY_VARIABLE} (and {KEY_VARIABLE} unset)"
        )
    if key is not None and ("key" in text.lower() or "decrypt" in text.lower()):
        return WarehouseKeyError(f"the key does not open the warehouse {path} (a wrong key?)")
    return error


def rekey(path: Path, old_key: str | None, new_key: str | None) -> None:
    """Copy the warehouse at ``path`` into a new file encrypted with ``new_key`` (or plain, when None) and put it in
    place of the old one. The copy is complete (every table) before the old file is replaced, in one rename; the
    caller holds the run lock."""
    target = path.with_name(path.name + ".rekey")
    for leftover in (target, target.with_name(target.name + ".wal")):
        leftover.unlink(missing_ok=True)
    con = duckdb.connect()
    try:
        load_crypto(con)
        attach(con, path, old_key, "source", read_only=True)
        old = os.umask(0o077)
        try:
            attach(con, target, new_key, "target")
        finally:
            os.umask(old)
        con.execute("copy from database source to target")
        con.execute("detach target")
        con.execute("detach source")
    finally:
        con.close()
    with target.open("rb+") as handle:
        os.fsync(handle.fileno())
    target.replace(path)
    fsync_folder(path.parent)
