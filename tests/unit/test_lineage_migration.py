"""A warehouse whose raw layer repeats its lineage on every line, and whose staged rows carry their load id (the
layout before ``deliveries``), migrates in place when it is opened: every line, row, value and lineage is kept, and
the next night pairs its lines as before."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from pipeline.contract import EXPORT_FILES
from pipeline.ingest import ingest
from pipeline.upn import make_upn
from pipeline.warehouse import connect, migrate_raw_lineage

ROLL = [make_upn(801, 4000, 14, n) for n in range(1, 4)]
PUPILS = "upn,surname,forename,date_of_birth,sex,year_group,leaving_date,sen_provision,fsm_eligible\n" + "".join(
    f"{upn},Example,Pupil,2014-03-01,{sex},7,,N,N\n" for upn, sex in zip(ROLL, "FMX", strict=True)
)  # X: a value blanked, so one raw line is not clean
MARKS = ["2025-11-03,AM,/", "2025-11-03,PM,N", "2025-11-04,AM,L", "2025-13-01,AM,/"]  # the last is quarantined
TODAY = dt.date(2025, 11, 22)
OLD_LINEAGE = "school_id, source_file, file_sha256, line_number, load_id, loaded_at"
OLD_MATCH = "line_hash, line_hash2, key_hash, clean, rules, checked_on"


def _deliver(folder: Path, marks: list[str]) -> Path:
    school = folder / "100001"
    school.mkdir(parents=True)
    (school / "pupils.csv").write_text(PUPILS)
    lines = [f"{upn},{mark}" for upn in ROLL for mark in marks]
    (school / "attendance.csv").write_text("upn,date,session,mark\n" + "".join(f"{line}\n" for line in lines))
    return folder


def _to_old_layout(con: duckdb.DuckDBPyConnection) -> None:
    """Rewrite the raw layer as the pipeline wrote it before ``deliveries``: lineage on every line."""
    for export in EXPORT_FILES:
        table, columns = f"raw_{export.table}", ", ".join(c.name for c in export.columns)
        con.execute(
            f"create table {table}__old as select school_id, file as source_file, sha256 as file_sha256, "
            f"line_number, load_id, loaded_at, {columns}, {OLD_MATCH} from {table}_lineage order by line_number"
        )
        con.execute(f"drop view {table}_lineage")
        con.execute(f"drop table {table}")
        con.execute(f"alter table {table}__old rename to {table}")
    for export in EXPORT_FILES:  # staged rows carried the load id as text
        con.execute(f"alter table {export.table} add column load_id varchar")
        con.execute(
            f"update {export.table} as s set load_id = d.load_id from deliveries as d where d.delivery = s.delivery"
        )
        con.execute(f"alter table {export.table} drop column delivery")
    con.execute("drop table deliveries")
    con.execute("drop sequence delivery_ids")


def _staged(con: duckdb.DuckDBPyConnection, table: str, as_old: bool) -> list[tuple[object, ...]]:
    if as_old:
        return con.execute(f"select * from {table} order by all").fetchall()
    columns = [c for (c,) in con.execute(f"select column_name from (describe {table})").fetchall() if c != "delivery"]
    return con.execute(
        f"select {', '.join(f's.{c}' for c in columns)}, d.load_id from {table} as s "
        "join deliveries as d using (delivery) order by all"
    ).fetchall()


def _old_rows(con: duckdb.DuckDBPyConnection, table: str, as_old: bool) -> list[tuple[object, ...]]:
    columns = ", ".join(c.name for c in next(e for e in EXPORT_FILES if e.table == table).columns)
    lineage = OLD_LINEAGE if as_old else OLD_LINEAGE.replace("source_file", "file").replace("file_sha256", "sha256")
    source = f"raw_{table}" if as_old else f"raw_{table}_lineage"
    return con.execute(f"select {lineage}, {columns}, {OLD_MATCH} from {source} order by all").fetchall()


def test_an_old_raw_layer_migrates_in_place_and_pairs_as_before(tmp_path: Path) -> None:
    first = _deliver(tmp_path / "first", MARKS)
    second = _deliver(tmp_path / "second", [*MARKS[:2], "2025-11-04,AM,/", "2025-11-05,AM,/"])  # amended, added
    path = tmp_path / "old.duckdb"
    con = connect(path, key=None)
    ingest(con, first, today=TODAY, load_id="night1")
    _to_old_layout(con)
    before = {e.table: _old_rows(con, e.table, as_old=True) for e in EXPORT_FILES}
    staged = {e.table: _staged(con, e.table, as_old=True) for e in EXPORT_FILES}
    con.close()
    assert sum(len(rows) for rows in before.values()) == 3 + 3 * len(MARKS)
    assert any(not row[-3] for row in before["attendance"])
    assert any(not row[-3] for row in before["pupils"])

    migrated = connect(path, key=None)  # migrates
    assert migrate_raw_lineage(migrated) == []  # once only
    for export in EXPORT_FILES:
        columns = [c for (c,) in migrated.execute(f"select column_name from (describe raw_{export.table})").fetchall()]
        assert "source_file" not in columns
        assert "delivery" in columns
        assert _old_rows(migrated, export.table, as_old=False) == before[export.table]
        assert "load_id" not in [
            c for (c,) in migrated.execute(f"select column_name from (describe {export.table})").fetchall()
        ]
        assert _staged(migrated, export.table, as_old=False) == staged[export.table]
    assert migrated.execute("select count(*) from deliveries").fetchone() == (2,)
    assert staged["attendance"]
    assert staged["pupils"]

    never_old = connect(tmp_path / "new.duckdb", key=None)
    ingest(never_old, first, today=TODAY, load_id="night1")
    nights = [
        ingest(con, second, today=TODAY + dt.timedelta(days=1), load_id="night2") for con in (migrated, never_old)
    ]
    counts = [
        sorted(
            (f.file, f.status, f.rows_read, f.rows_unchanged, f.rows_loaded, f.rows_quarantined) for f in night.files
        )
        for night in nights
    ]
    assert counts[0] == counts[1]
    assert any(f.rows_unchanged > 0 for f in nights[0].files)  # lines paired with the migrated raw layer
    for export in EXPORT_FILES:
        tables = [
            con.execute(
                f"select * exclude (delivery, loaded_at) from raw_{export.table}_lineage order by all"
            ).fetchall()
            for con in (migrated, never_old)
        ]
        assert tables[0] == tables[1], export.table
