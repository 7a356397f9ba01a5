"""Ingesting the bundled sample: nothing quarantined, everything reconciled, and twice gives identical tables."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipeline.ingest import ingest
from pipeline.warehouse import STAGED_COLUMNS, connect


@pytest.mark.slow
def test_the_sample_loads_cleanly_and_idempotently(sample_dir: Path, tmp_path: Path) -> None:
    con = connect(tmp_path / "warehouse.duckdb")
    first = ingest(con, sample_dir, today=dt.date(2025, 11, 22))
    assert first.failed == []
    assert all(f.reconciles for f in first.files)
    totals = first.totals()
    assert totals["rows_quarantined"] == 0
    assert totals["rows_read"] == totals["rows_loaded"] > 600_000
    assert {f.file for f in first.files if "read as Windows-1252" in f.notes} == {"pupils.csv"}

    def tables() -> dict[str, list[tuple[object, ...]]]:
        return {
            table: con.execute(f"select school_id, {', '.join(columns)} from {table} order by all").fetchall()
            for table, columns in STAGED_COLUMNS.items()
        }

    before = tables()
    again = ingest(con, sample_dir, today=dt.date(2025, 11, 22), force=True)
    assert again.totals() == totals
    assert tables() == before
    assert (tmp_path / "warehouse.duckdb").stat().st_mode & 0o777 == 0o600
