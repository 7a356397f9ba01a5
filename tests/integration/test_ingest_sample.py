"""Ingesting the bundled sample: nothing quarantined, everything reconciled, and twice gives identical tables."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipeline.bench import last_day_delta, night_before
from pipeline.features import build_features
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


STAGED_AND_RAW = (*STAGED_COLUMNS, *(f"raw_{t}" for t in STAGED_COLUMNS))
LINEAGE = frozenset({"load_id", "line_number", "file_sha256", "source_file", "loaded_at", "checked_on", "delivery"})


def _contents(
    con: duckdb.DuckDBPyConnection,
    tables: tuple[str, ...] = (*STAGED_AND_RAW, "quarantine", "loads"),
    left_out: frozenset[str] = frozenset({"loaded_at", "recorded_at"}),
) -> dict[str, list[tuple[object, ...]]]:
    """Every row of ``tables`` (by default every table a load writes), without the ``left_out`` columns (by default
    the time it was written at)."""
    contents = {}
    for table in tables:
        columns = [c for (c,) in con.execute(f"select column_name from (describe {table})").fetchall()]
        kept = ", ".join(c for c in columns if c not in left_out)
        contents[table] = con.execute(f"select {kept} from {table} order by all").fetchall()
    return contents


@pytest.mark.slow
def test_loading_schools_at_once_gives_what_loading_them_one_by_one_gives(sample_dir: Path, tmp_path: Path) -> None:
    """Two nights of a two-school delivery with bad, repeated and conflicting lines, loaded by one connection and by
    two at once: the same staged, raw, quarantine and load rows."""
    nights = []
    for night, extra in enumerate(
        [
            [
                "{upn},2025-11-03,AM,Q,",
                "{upn},2025-11-03,PM,/,",
                "{upn},2025-11-03,PM,N,",
                "X1234567890AB,2025-11-03,AM,/,",
            ],
            ["{upn},2025-11-04,AM,/,", "{upn},31/02/2025,AM,/,", "{upn},2025-11-04,AM,/,"],
        ],
        start=1,
    ):
        folder = tmp_path / f"night-{night}"
        shutil.copytree(sample_dir, folder)
        for attendance in folder.glob("*/attendance.csv"):
            lines = attendance.read_text(encoding="utf-8-sig").splitlines()
            upn = lines[1].split(",")[0]
            attendance.write_text("\n".join([lines[0], *lines[1:], *(e.format(upn=upn) for e in extra)]) + "\n")
        nights.append(folder)
    contents = []
    for workers in (1, 2):
        con = connect(tmp_path / f"{workers}.duckdb", key=None)
        for night, folder in enumerate(nights, start=1):
            result = ingest(con, folder, today=dt.date(2025, 11, 22), load_id=f"night{night}", workers=workers)
            assert result.failed == []
            assert all(f.reconciles for f in result.files)
            assert result.totals()["rows_quarantined"] > 0
        contents.append(_contents(con))
        con.close()
    assert contents[0] == contents[1]


@pytest.mark.slow
def test_a_night_delivered_as_a_delta_gives_the_tables_and_features_of_the_year_to_date(
    sample_dir: Path, tmp_path: Path
) -> None:
    """The sample's last night, after the night before: delivered as the year to date, and as a delta holding only
    the last school day's marks. The staged tables (but for lineage) and the features are the same; so is the raw
    layer's content, which a delta adds to and does not replace."""
    night_before(sample_dir, tmp_path / "night-before")
    last_day_delta(sample_dir, tmp_path / "delta")
    today = dt.date(2025, 11, 7)
    outcomes = []
    for last_night in (sample_dir, tmp_path / "delta"):
        con = connect()
        ingest(con, tmp_path / "night-before", today=today, load_id="before")
        result = ingest(con, last_night, today=today, load_id="last")
        attendance = [f for f in result.files if f.file == "attendance.csv"]
        assert all(f.status == "loaded" and f.rows_quarantined == 0 for f in attendance)
        contents = _contents(con, STAGED_AND_RAW, LINEAGE)
        outcomes.append((contents, build_features(con, today, persist=False).table, attendance))
    (year_to_date, features, read), (delta, delta_features, delta_read) = outcomes
    assert sum(f.rows_read for f in delta_read) < sum(f.rows_read for f in read) / 50  # one day of ~50
    assert year_to_date["attendance"] == delta["attendance"]
    assert year_to_date == delta
    pd.testing.assert_frame_equal(features, delta_features)
