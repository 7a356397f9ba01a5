"""A warehouse made before the ``deliveries`` table opens, moves its raw layer's lineage there, and loads on as if it
had always had it: the same raw lines, the same lineage, and the next night's lines pair as before."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from pipeline.contract import EXPORT_FILES
from pipeline.ingest import ingest
from pipeline.upn import make_upn
from pipeline.warehouse import OLD_LINEAGE, connect

ROLL = [make_upn(801, 4000, 14, n) for n in range(1, 4)]
HEADER = "upn,surname,forename,date_of_birth,sex,year_group,leaving_date,sen_provision,fsm_eligible\n"
MARKS = [f"{upn},2025-11-0{day},{session},{mark}" for upn in ROLL for day in (3, 4) for session, mark in
         (("AM", "/"), ("PM", "N"))]  # fmt: skip
LINEAGE_OF_A_LINE = """
select r.* exclude (delivery), d.source_file, d.file_sha256, d.load_id, d.loaded_at, d.rules, d.checked_on
from {table} as r join deliveries as d using (delivery) order by all
"""


def _deliver(folder: Path, marks: list[str]) -> Path:
    school = folder / "100001"
    school.mkdir(parents=True, exist_ok=True)
    (school / "pupils.csv").write_text(HEADER + "".join(f"{upn},Example,Pupil,2014-03-01,F,7,,N,N\n" for upn in ROLL))
    (school / "attendance.csv").write_text("upn,date,session,mark\n" + "".join(f"{m}\n" for m in marks))
    return folder


def _as_before_deliveries(path: Path) -> None:
    """Turn a warehouse back into the layout before ``deliveries``: the lineage on every raw line, no table."""
    con = duckdb.connect(str(path))
    for export in EXPORT_FILES:
        table = f"raw_{export.table}"
        for column, kind in OLD_LINEAGE.items():
            con.execute(f"alter table {table} add column {column} {kind}")
        assignments = ", ".join(f"{c} = d.{c}" for c in OLD_LINEAGE)
        con.execute(f"update {table} as r set {assignments} from deliveries as d where r.delivery = d.delivery")
        con.execute(f"alter table {table} drop column delivery")
    con.execute("drop table deliveries")
    con.close()


def _raw(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[object, ...]]]:
    return {t: con.execute(LINEAGE_OF_A_LINE.format(table=t)).fetchall() for t in ("raw_pupils", "raw_attendance")}


def test_an_old_warehouse_moves_its_lineage_and_loads_on_as_before(tmp_path: Path) -> None:
    today = dt.date(2025, 11, 5)
    first = _deliver(tmp_path / "night1", MARKS)
    con = connect(tmp_path / "new.duckdb", key=None)
    ingest(con, first, today=today)
    expected = _raw(con)
    con.close()

    old = tmp_path / "old.duckdb"
    old.write_bytes((tmp_path / "new.duckdb").read_bytes())
    _as_before_deliveries(old)
    con = connect(old, key=None)  # opening it moves the lineage
    assert _raw(con) == expected
    assert {c for (c,) in con.execute("select column_name from (describe raw_attendance)").fetchall()}.isdisjoint(
        OLD_LINEAGE
    )
    # The next night's year to date: yesterday's lines pair with the moved raw layer, only the new day is checked.
    second = _deliver(tmp_path / "night2", [*MARKS, f"{ROLL[0]},2025-11-05,AM,/"])
    result = ingest(con, second, today=today + dt.timedelta(days=1))
    attendance = next(f for f in result.files if f.file == "attendance.csv")
    assert (attendance.status, attendance.rows_read, attendance.rows_loaded) == (
        "loaded",
        len(MARKS) + 1,
        len(MARKS) + 1,
    )
    assert attendance.rows_unchanged == len(MARKS)
    assert con.execute("select count(*) from attendance").fetchone() == (len(MARKS) + 1,)
    assert {r[0] for r in con.execute("select distinct load_id from deliveries").fetchall()} >= {
        r[0] for r in con.execute("select distinct load_id from loads").fetchall() if r[0]
    }
    con.close()
