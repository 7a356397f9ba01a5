"""One local Spark session (2 cores, 2 shuffle partitions) for every Spark test, and the sample's warehouse."""

from __future__ import annotations

import datetime as dt
import math
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from pyspark.sql import SparkSession

from pipeline.ingest import ingest
from pipeline.spark import spark_session
from pipeline.warehouse import connect

NIGHT = dt.date(2025, 10, 17)
"""The golden night of tests/integration/test_stages_and_golden.py."""


@pytest.fixture(scope="session")
def spark() -> SparkSession:
    return spark_session("local[2]", shuffle_partitions=2)


@pytest.fixture(scope="session")
def sample_warehouse(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample ingested into a fresh (unencrypted) warehouse, once."""
    root = tmp_path_factory.mktemp("spark-warehouse")
    shutil.copytree(sample_dir, root / "exports")
    con = connect(root / "w.duckdb", key=None)
    try:
        ingest(con, root / "exports", today=NIGHT + dt.timedelta(days=1))
    finally:
        con.close()
    return root


@pytest.fixture
def warehouse_copy(sample_warehouse: Path, tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to a copy of the sample's warehouse (a test may change it)."""
    shutil.copy(sample_warehouse / "w.duckdb", tmp_path / "w.duckdb")
    con = connect(tmp_path / "w.duckdb", key=None)
    try:
        yield con
    finally:
        con.close()


def plain(value: object) -> object:
    """NULL, NaN and pandas' NA as None; timestamps as dates; numbers as floats (the engines' integer widths and
    nullable types differ, their values do not)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    return value


def assert_same_rows(spark: pd.DataFrame, duck: pd.DataFrame, keys: list[str], atol: float = 1e-9) -> None:
    """The same columns, and the same rows by ``keys``: floats to ``atol``, everything else equal."""
    assert list(spark.columns) == list(duck.columns)
    assert len(spark) == len(duck) > 0
    duck = duck.sort_values(keys).reset_index(drop=True)
    spark = spark.sort_values(keys).reset_index(drop=True)
    for column in duck.columns:
        left = [plain(v) for v in duck[column].tolist()]
        right = [plain(v) for v in spark[column].tolist()]
        for a, b in zip(left, right, strict=True):
            if isinstance(a, float) and isinstance(b, float):
                assert a == pytest.approx(b, abs=atol, rel=0), column
            else:
                assert a == b, column
