"""Every feature model, translated to Spark SQL, gives on Spark what it gives in DuckDB on the bundled sample."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from pyspark.sql import SparkSession

from pipeline.features import FEATURE_MODELS, sql_model
from pipeline.model.card import Scorecard
from pipeline.model.scorecard import PointsScorecard
from pipeline.spark import build_features_spark, export_staged, score_sql
from pipeline.warehouse import SCHOOL_DAYS_LOOKBACK
from tests.spark.conftest import NIGHT, assert_same_rows

pytestmark = pytest.mark.slow
SCORECARD = Path(__file__).resolve().parents[2] / "models" / "scorecard-v1.yaml"
KEYS = {"school_days": ["school_id", "date"]}


@pytest.fixture(scope="module")
def both(sample_warehouse: Path, spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Each model's rows from DuckDB and from Spark (as plain Python values), for the night."""
    con = duckdb.connect(str(sample_warehouse / "w.duckdb"), read_only=True)
    staged = export_staged(con, tmp_path_factory.mktemp("staged") / "staged")
    build_features_spark(spark, staged, NIGHT)  # registers every model as a view of the session
    params = {"as_of": NIGHT, "lookback_days": SCHOOL_DAYS_LOOKBACK}
    results: dict[str, Any] = {}
    for name in FEATURE_MODELS:
        sql = sql_model(name)
        con.execute(f"create temp table {name} as {sql}", {k: v for k, v in params.items() if f"${k}" in sql})
        duck = con.execute(f"select * from {name}").df()
        rows = spark.table(name).collect()
        results[name] = (duck, pd.DataFrame([r.asDict() for r in rows], columns=spark.table(name).columns))
    con.close()
    return results


@pytest.mark.parametrize("name", FEATURE_MODELS)
def test_model_on_spark_equals_duckdb(both: dict[str, Any], name: str) -> None:
    duck, spark = both[name]
    assert_same_rows(spark, duck, KEYS.get(name, ["school_id", "upn"]))


def test_score_sql_puts_every_band_edge_where_the_card_does(spark: SparkSession) -> None:
    """Each feature at each band edge, just below it, missing and NaN scores the card's points for it."""
    card = Scorecard.load(SCORECARD)
    values: list[float | None] = [None, math.nan]
    for feature in card.features:
        for band in feature.bands:
            for edge in (band.lower, band.upper):
                if edge is not None:
                    values += [edge, math.nextafter(edge, -math.inf)]
    rows = [(NIGHT, "1", f"A{i:012d}", *([v] * len(card.features))) for i, v in enumerate(values)]
    schema = ", ".join(["as_of date", "school_id string", "upn string"] + [f"{n} double" for n in card.feature_names])
    spark.createDataFrame(rows, schema).createOrReplaceTempView("edge_features")
    scored = {r["upn"]: r.asDict() for r in spark.sql(score_sql(card, table="edge_features")).collect()}
    for i, value in enumerate(values):
        row = scored[f"A{i:012d}"]
        expected = {f.name: f.points_of(value) for f in card.features}
        assert {n: row[f"points__{n}"] for n in expected} == expected, value
        assert row["score"] == sum(expected.values())
        assert row["band"] == card.band_of_score(row["score"])
        model = PointsScorecard(card).fit(pd.DataFrame({n: [value] for n in card.feature_names}))
        probability = model.predict_proba(pd.DataFrame({n: [value] for n in card.feature_names}))[0, 1]
        assert row["probability"] == pytest.approx(probability, abs=1e-12)
