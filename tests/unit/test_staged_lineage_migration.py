"""A warehouse whose staged rows carry their load id as text (the layout before they referred to ``deliveries``)
migrates in place when it is opened: every row and value is kept, each row refers to its delivery, whose load id is
the row's, and the next night loads as on a warehouse that never had the old layout."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from pipeline.contract import EXPORT_FILES
from pipeline.ingest import ingest
from pipeline.upn import make_upn
from pipeline.warehouse import connect

ROLL = [make_upn(801, 4000, 14, n) for n in range(1, 4)]
PUPILS = "upn,surname,forename,date_of_birth,sex,year_group,leaving_date,sen_provision,fsm_eligible\n" + "".join(
    f"{upn},Example,Pupil,2014-03-01,{sex},7,,N,N\n" for upn, sex in zip(ROLL, "FMF", strict=True)
)
MARKS = ["2025-11-03,AM,/", "2025-11-03,PM,N", "2025-11-04,AM,L", "2025-13-01,AM,/"]  # the last is quarantined
TODAY = dt.date(2025, 11, 22)


def _deliver(folder: Path, marks: list[str]) -> Path:
    school = folder / "100001"
    school.mkdir(parents=True)
    (school / "pupils.csv").write_text(PUPILS)
    lines = [f"{upn},{mark}" for upn in ROLL for mark in marks]
    (school / "attendance.csv").write_text("upn,date,session,mark\n" + "".join(f"{line}\n" for line in lines))
    return folder


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [str(c) for (c,) in con.execute(f"select column_name from (describe {table})").fetchall()]


def _to_old_layout(con: duckdb.DuckDBPyConnection) -> None:
    """Staged rows as the pipeline wrote them before: the load id on every row, no delivery number."""
    for export in EXPORT_FILES:
        con.execute(f"alter table {export.table} add column load_id varchar")
        con.execute(
            f"update {export.table} as s set load_id = d.load_id from deliveries as d where d.delivery = s.delivery"
        )
        con.execute(f"alter table {export.table} drop column delivery")


def _rows(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[object, ...]]:
    """Each staged row with its load id (from ``deliveries`` once the row refers to one)."""
    columns = [c for c in _columns(con, table) if c not in ("load_id", "delivery")]
    kept = ", ".join(f"s.{c}" for c in columns)
    if "load_id" in _columns(con, table):
        return con.execute(f"select {kept}, s.load_id from {table} as s order by all").fetchall()
    return con.execute(
        f"select {kept}, d.load_id from {table} as s join deliveries as d using (delivery) order by all"
    ).fetchall()


def test_old_staged_rows_refer_to_their_delivery_after_opening(tmp_path: Path) -> None:
    first = _deliver(tmp_path / "first", MARKS)
    second = _deliver(tmp_path / "second", [*MARKS[:2], "2025-11-04,AM,/", "2025-11-05,AM,/"])  # amended, added
    path = tmp_path / "old.duckdb"
    con = connect(path, key=None)
    ingest(con, first, today=TODAY, load_id="night1")
    _to_old_layout(con)
    before = {e.table: _rows(con, e.table) for e in EXPORT_FILES}
    con.close()
    assert len(before["pupils"]) == 3
    assert len(before["attendance"]) == 3 * 3  # the fourth mark of each pupil quarantined

    migrated = connect(path, key=None)
    for export in EXPORT_FILES:
        assert "load_id" not in _columns(migrated, export.table)
        assert _rows(migrated, export.table) == before[export.table]

    never_old = connect(tmp_path / "new.duckdb", key=None)
    ingest(never_old, first, today=TODAY, load_id="night1")
    nights = [ingest(c, second, today=TODAY + dt.timedelta(days=1), load_id="night2") for c in (migrated, never_old)]
    counts = [
        sorted((f.file, f.status, f.rows_read, f.rows_unchanged, f.rows_loaded, f.rows_quarantined) for f in n.files)
        for n in nights
    ]
    assert counts[0] == counts[1]
    for export in EXPORT_FILES:
        assert _rows(migrated, export.table) == _rows(never_old, export.table), export.table
