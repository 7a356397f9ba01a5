"""`mentor purge --before DATE` removes leavers and everything about them, and never touches the exports."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.warehouse import connect

pytestmark = pytest.mark.slow


def _fingerprint(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*")
            if p.is_file()}  # fmt: skip


def test_purge_removes_pupils_who_left_before_the_date_and_counts_what_went(sample_dir: Path, tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    shutil.copytree(sample_dir, exports)
    db = tmp_path / "w.duckdb"
    assert CliRunner().invoke(app, ["ingest", "--exports", str(exports), "--db", str(db), "--out",
                                    str(tmp_path / "out")]).exit_code == 0  # fmt: skip
    before_files = _fingerprint(exports)
    con = connect(db)
    leavers = con.execute("select count(*) from pupils where leaving_date < date '2025-09-01'").fetchone()[0]  # type: ignore[index]
    stayers = con.execute(
        "select count(*) from pupils where leaving_date is null or leaving_date >= date '2025-09-01'"
    ).fetchone()[0]  # type: ignore[index]
    con.close()
    assert leavers > 0

    result = CliRunner().invoke(app, ["purge", "--db", str(db), "--before", "2025-09-01"])
    assert result.exit_code == 0, result.output
    assert f"pupils: {leavers:,} rows removed" in result.output
    assert "attendance:" in result.output

    con = connect(db)
    assert con.execute("select count(*) from pupils where leaving_date < date '2025-09-01'").fetchone()[0] == 0  # type: ignore[index]
    assert con.execute("select count(*) from pupils").fetchone()[0] == stayers  # type: ignore[index]
    orphans = con.execute(
        "select count(*) from attendance as a anti join pupils as p using (school_id, upn)"
    ).fetchone()[0]  # type: ignore[index]
    raw_orphans = con.execute(
        "select count(*) from raw_attendance as a anti join pupils as p using (school_id, upn)"
    ).fetchone()[0]  # type: ignore[index]
    con.close()
    assert orphans == 0
    assert raw_orphans == 0
    assert _fingerprint(exports) == before_files
