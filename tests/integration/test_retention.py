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
    left = [upn for (upn,) in con.execute("select upn from pupils where leaving_date < date '2025-09-01'").fetchall()]
    # a line quarantined whole (its value the line's text), naming a leaver
    con.execute("insert into quarantine (school_id, file, line_number, value, reason) select school_id, "
                "'behaviour.csv', 849, upn || ',99001,2025-06-03,\"Disruption,-2,', 'a stray quote' from pupils "
                "where upn = $upn", {"upn": left[0]})  # fmt: skip
    con.close()
    assert leavers > 0
    assert any(upn.encode() in db.read_bytes() for upn in left)

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
    assert "quarantine: 1 rows removed" in result.output
    # Nothing of them is left in the warehouse file's bytes either (DuckDB reuses freed pages but does not wipe them).
    kept = db.read_bytes()
    assert not [upn for upn in left if upn.encode() in kept]
    assert _fingerprint(exports) == before_files
