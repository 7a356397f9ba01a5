"""With a key supplied, the warehouse is encrypted at rest by DuckDB; the key can be rotated; a wrong or missing
key fails with a message that says what to do, and the key never reaches the logs or the command line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.keys import WarehouseKeyError, key_from_environment
from pipeline.warehouse import connect

KEY = "k" * 16 + "an-example-key-for-tests-only"
NEW_KEY = "n" * 16 + "another-example-key-for-tests"


def _mentor(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MENTOR_DB_")}
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args], env={**clean, **env}, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def encrypted_run(
    sample_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    root = tmp_path_factory.mktemp("encrypted")
    run = _mentor("run", "--exports", str(sample_dir), "--db", str(root / "w.duckdb"), "--out", str(root / "out"),
                  env={"MENTOR_DB_KEY": KEY})  # fmt: skip
    return root, run


def test_the_nightly_run_writes_an_encrypted_warehouse(
    encrypted_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    root, run = encrypted_run
    assert run.returncode == 0, run.stderr
    assert (root / "out" / "105854" / "shortlist.csv").exists()
    data = (root / "w.duckdb").read_bytes()
    with connect(root / "w.duckdb", key=KEY) as con:
        # Long enough that none can turn up by chance in megabytes of encrypted bytes (a 4-letter surname could).
        upns = [r[0] for r in con.execute("select upn from pupils order by upn limit 50").fetchall()]
        surnames = [r[0] for r in con.execute("select distinct surname from pupils where length(surname) >= 9")
                    .fetchall()]  # fmt: skip
        assert con.execute("select count(*) from attendance").fetchone()[0] > 100_000  # type: ignore[index]
    assert upns
    assert surnames
    assert not [upn for upn in upns if upn.encode() in data]
    assert not [name for name in surnames if name.encode() in data]
    assert oct((root / "w.duckdb").stat().st_mode & 0o777) == "0o600"
    assert KEY not in run.stderr
    assert KEY not in run.stdout


def test_without_the_key_or_with_a_wrong_one_nothing_opens(
    encrypted_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    root, _ = encrypted_run
    with pytest.raises(WarehouseKeyError, match="is encrypted: set MENTOR_DB_KEY"):
        connect(root / "w.duckdb", key=None)
    with pytest.raises(WarehouseKeyError, match="does not open"):
        connect(root / "w.duckdb", key=NEW_KEY)
    refused = _mentor("explain", "X", "--db", str(root / "w.duckdb"), env={})
    assert refused.returncode == 2
    assert "is encrypted" in refused.stderr


def test_the_key_can_be_rotated_and_the_old_key_no_longer_opens(
    encrypted_run: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    root, _ = encrypted_run
    copy = tmp_path / "w.duckdb"
    shutil.copy(root / "w.duckdb", copy)
    with connect(copy, key=KEY) as con:
        before = con.execute("select count(*) from attendance").fetchone()
    key_file = tmp_path / "new.key"
    key_file.write_text(NEW_KEY + "\n")
    key_file.chmod(0o600)
    rotated = _mentor("rekey", "--db", str(copy), env={"MENTOR_DB_KEY": KEY, "MENTOR_DB_NEW_KEY_FILE": str(key_file)})
    assert rotated.returncode == 0, rotated.stderr
    with connect(copy, key=NEW_KEY) as con:
        assert con.execute("select count(*) from attendance").fetchone() == before
    with pytest.raises(WarehouseKeyError):
        connect(copy, key=KEY)
    assert oct(copy.stat().st_mode & 0o777) == "0o600"
    assert not copy.with_name(copy.name + ".rekey").exists()


def test_a_plain_warehouse_can_be_encrypted_and_decrypted(tmp_path: Path) -> None:
    plain = tmp_path / "w.duckdb"
    with connect(plain, key=None) as con:
        con.execute("insert into pupils (school_id, upn, surname) values ('100001', 'A123', 'Example')")
    with pytest.raises(WarehouseKeyError, match="is not encrypted"):
        connect(plain, key=KEY)
    assert _mentor("rekey", "--db", str(plain), env={"MENTOR_DB_NEW_KEY": KEY}).returncode == 0
    assert b"Example" not in plain.read_bytes()
    assert _mentor("rekey", "--db", str(plain), "--decrypt", env={"MENTOR_DB_KEY": KEY}).returncode == 0
    with connect(plain, key=None) as con:
        assert con.execute("select surname from pupils").fetchall() == [("Example",)]


def test_keys_come_only_from_the_environment_or_an_owner_only_file(tmp_path: Path) -> None:
    assert key_from_environment(environ={}) is None
    assert key_from_environment(environ={"MENTOR_DB_KEY": KEY}) == KEY
    with pytest.raises(WarehouseKeyError, match="at least 32"):
        key_from_environment(environ={"MENTOR_DB_KEY": "short"})
    key_file = tmp_path / "key"
    key_file.write_text(KEY)
    key_file.chmod(0o644)
    with pytest.raises(WarehouseKeyError, match="chmod 600"):
        key_from_environment(environ={"MENTOR_DB_KEY_FILE": str(key_file)})
    key_file.chmod(0o600)
    assert key_from_environment(environ={"MENTOR_DB_KEY_FILE": str(key_file)}) == KEY
    with pytest.raises(WarehouseKeyError, match="only one"):
        key_from_environment(environ={"MENTOR_DB_KEY_FILE": str(key_file), "MENTOR_DB_KEY": KEY})
    help_text = _mentor("run", "--help", env={}).stdout
    assert "--key" not in help_text
    assert "MENTOR_DB_KEY" in help_text
