"""`mentor run --engine spark` publishes, byte for byte, what the DuckDB run publishes for the same night."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from pyspark.sql import SparkSession
from typer.testing import CliRunner

from pipeline.cli import app
from tests.spark.conftest import NIGHT, assert_same_rows

pytestmark = pytest.mark.slow
LISTS = ("shortlist.csv", "under_challenged.csv")


def _table(db: Path, sql: str) -> pd.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def test_spark_run_equals_duckdb_run(sample_dir: Path, tmp_path: Path, spark: SparkSession) -> None:
    """Same exit code, byte-identical lists, features equal to 1e-9 and scores equal; no Parquet left behind.

    (``spark`` starts the session this run's ``--spark-master local[2]`` then uses.)"""
    shutil.copytree(sample_dir, tmp_path / "exports")
    for engine in ("duckdb", "spark"):
        (tmp_path / engine).mkdir()
        result = CliRunner().invoke(
            app,
            ["run", "--exports", str(tmp_path / "exports"), "--db", str(tmp_path / engine / "w.duckdb"),
             "--out", str(tmp_path / engine / "out"), "--as-of", NIGHT.isoformat(), "--quiet",
             "--engine", engine, "--spark-master", "local[2]"],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    duck, spark_out = tmp_path / "duckdb" / "out", tmp_path / "spark" / "out"
    schools = sorted(p.parent.name for p in duck.glob("*/shortlist.csv"))
    assert schools == sorted(p.parent.name for p in spark_out.glob("*/shortlist.csv"))
    assert len(schools) == 2
    for school in schools:
        for listing in LISTS:
            assert (spark_out / school / listing).read_bytes() == (duck / school / listing).read_bytes()
    features = [_table(tmp_path / e / "w.duckdb", "select * from features order by school_id, upn") for e in
                ("duckdb", "spark")]  # fmt: skip
    assert_same_rows(features[1], features[0], ["school_id", "upn"])
    scores = [_table(tmp_path / e / "w.duckdb", "select * from scores order by school_id, upn") for e in
              ("duckdb", "spark")]  # fmt: skip
    assert_same_rows(scores[1], scores[0], ["school_id", "upn"], atol=1e-12)  # points, score, band exactly
    assert not list((tmp_path / "spark").glob(".mentor-spark-*"))  # the Parquet copies of pupil data are gone
