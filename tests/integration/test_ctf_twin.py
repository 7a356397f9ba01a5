"""A school delivered as a Common Transfer File gives the same staged tables and features as its CSV twin."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from pipeline.features import build_features
from pipeline.ingest import IngestResult, ingest
from pipeline.sample import SampleSpec, generate_trust
from pipeline.sample.ctf import write_ctf_school
from pipeline.warehouse import STAGED_COLUMNS, connect

END = dt.date(2025, 11, 7)
NOT_IN_A_CTF = {"pupils": ["mis_id", "reg_group", "pupil_premium"], "attendance": ["minutes_late"]}
"""What a CTF cannot carry: the CSV twin's values are left out of the comparison."""
LINEAGE = ["load_id", "line_number"]


@pytest.fixture(scope="module")
def twins(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[IngestResult, duckdb.DuckDBPyConnection]]:
    root = tmp_path_factory.mktemp("ctf")
    spec = SampleSpec(seed=7, schools=1, pupils_per_school=40, years=1, end_date=END)
    result = generate_trust(spec, root / "csv", root / "truth")
    urn = str(result.schools[0].urn)
    write_ctf_school(root / "csv" / urn, root / "ctf" / urn, END)
    loaded = {}
    for route in ("csv", "ctf"):
        con = connect()
        loaded[route] = (ingest(con, root / route, today=END), con)
    return loaded


def _table(con: duckdb.DuckDBPyConnection, table: str) -> pd.DataFrame:
    leave_out = set(LINEAGE + NOT_IN_A_CTF.get(table, []))
    columns = ", ".join(c for c in STAGED_COLUMNS[table] if c not in leave_out)
    return con.execute(f"select {columns} from {table} order by all").df()


@pytest.mark.parametrize("table", list(STAGED_COLUMNS))
def test_every_staged_table_is_the_same_from_the_ctf_as_from_its_csv_twin(twins, table: str) -> None:  # type: ignore[no-untyped-def]
    csv, ctf = (_table(con, table) for _, con in twins.values())
    assert len(csv) > 0 or table in ("exclusions", "decisions")  # the twin school had none of these
    pd.testing.assert_frame_equal(csv, ctf)


def test_every_line_is_accounted_for_the_same_way(twins) -> None:  # type: ignore[no-untyped-def]
    counts = {
        route: sorted((f.file, f.status, f.rows_read, f.rows_loaded, f.rows_quarantined) for f in result.files)
        for route, (result, _) in twins.items()
    }
    assert counts["csv"] == counts["ctf"]
    quarantine = "select file, column_name, reason, outcome, count(*) from quarantine group by all order by all"
    assert twins["csv"][1].execute(quarantine).fetchall() == twins["ctf"][1].execute(quarantine).fetchall()


def test_the_features_are_the_same_and_the_run_says_where_the_files_came_from(twins) -> None:  # type: ignore[no-untyped-def]
    csv, ctf = (build_features(con, END, persist=False).table for _, con in twins.values())
    context = ["reg_group", "pupil_premium"]
    pd.testing.assert_frame_equal(
        csv.drop(columns=context).sort_values("upn").reset_index(drop=True),
        ctf.drop(columns=context).sort_values("upn").reset_index(drop=True),
    )
    result = twins["ctf"][0]
    pupils = next(f for f in result.files if f.file == "pupils.csv")
    assert pupils.notes[0].startswith("read from the Common Transfer File ")
    assert "no reg_group column: no registration group: the shortlist's reg group column is blank" in pupils.notes
    assert any(n.endswith("assessments.csv read from the CSV file in the folder, not from the Common Transfer File "
                          f"{next((result.exports).rglob('*.xml')).name}") for n in result.notes)  # fmt: skip
