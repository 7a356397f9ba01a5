"""The shortlists' SQL (the need profile, the candidates, the order cut at each school's places) gives on Spark what
it gives in DuckDB, for any pupils (Hypothesis): ties, missing values, barriers, mentees and staff decisions."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyspark.sql import SparkSession

from pipeline.caseload.decisions import sql
from pipeline.caseload.policy import BARRIERS, ORDER_COLUMNS, POINTS_RELATION, need_sql
from pipeline.model.card import Scorecard
from pipeline.model.scoring import POINTS_PREFIX
from pipeline.spark import to_spark

pytestmark = pytest.mark.slow
CARD = Scorecard.load(Path(__file__).resolve().parents[2] / "models" / "scorecard-v1.yaml")
MENTORING = ["Learning mentor", "Mentoring"]
SETTINGS = settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
NEED_POINTS = 8

pupil = st.fixed_dictionaries(
    {
        "school_id": st.sampled_from(["100001", "100002"]),
        "attendance_rate_term": st.sampled_from([0.4, 0.85, 0.85, 0.97, None, float("nan")]),
        "negative_points_4wk": st.sampled_from([0.0, 3.0, 3.0, 12.0, None]),
        "looked_after": st.sampled_from([True, False, None]),
        "current_interventions": st.sampled_from(
            [None, "", "Counselling", " counselling ; Reading club", "Mentoring", "Reading club; learning MENTOR"]
        ),
        "points": st.lists(
            st.sampled_from([0, 0, 2, 5, 8, 12]), min_size=len(CARD.features), max_size=len(CARD.features)
        ),
        "decision": st.sampled_from([None, None, "pending", "held", "back"]),
    }
)


def _pupil_points(rows: list[dict[str, object]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = pd.DataFrame(
        [{k: v for k, v in r.items() if k not in ("points", "decision")} | {"upn": f"P{i:03d}"} for i, r in
         enumerate(rows)]
    )  # fmt: skip
    points = np.array([r["points"] for r in rows], dtype=int).reshape(len(rows), len(CARD.features))
    for j, feature in enumerate(CARD.features):
        frame[POINTS_PREFIX + feature.name] = points[:, j]
    frame["score"] = points.sum(axis=1)
    frame["attendance_rate_term"] = frame["attendance_rate_term"].astype(float)
    frame["negative_points_4wk"] = frame["negative_points_4wk"].astype(float)
    frame["looked_after"] = frame["looked_after"].astype("boolean")
    decisions = pd.DataFrame(
        [(r["school_id"], f"P{i:03d}", r["decision"]) for i, r in enumerate(rows) if r["decision"]],
        columns=["school_id", "upn", "decision_status"],
    )
    return frame, decisions


def _plain(rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    return [tuple(v.item() if isinstance(v, np.generic) else v for v in row) for row in rows]


@SETTINGS
@given(st.lists(pupil, min_size=1, max_size=25), st.integers(0, 6))
def test_the_shortlist_sql_ranks_on_spark_as_in_duckdb(
    spark: SparkSession, rows: list[dict[str, object]], cut: int
) -> None:
    frame, decisions = _pupil_points(rows)
    cuts = pd.DataFrame({"school_id": ["100001", "100002"], "cut": [cut, cut + 1]})
    needs_sql = need_sql(CARD, MENTORING)
    con = duckdb.connect()
    con.register(POINTS_RELATION, frame)
    con.register("decision_status", decisions)
    con.register("school_cut", cuts)
    con.execute(f"create temp view needs as {needs_sql}")
    con.execute(f"create temp view candidates as {sql('shortlist_candidates')}")
    duck_needs = con.execute("select * from needs order by upn").fetchall()
    duck = con.execute(sql("shortlist_order"), {"need_points": NEED_POINTS}).fetchall()
    con.close()

    types = {"attendance_rate_term": "double", "negative_points_4wk": "double", "looked_after": "boolean"}
    schema = ", ".join(f"{c} {types.get(c, 'bigint' if c == 'score' or c.startswith(POINTS_PREFIX) else 'string')}"
                       for c in frame.columns)  # fmt: skip
    records = [  # NaN stays NaN (DuckDB reads pandas' NaN as NULL): the SQL treats both as missing
        tuple(None if v is pd.NA or v is None else v.item() if isinstance(v, np.generic) else v for v in row)
        for row in frame.astype(object).itertuples(index=False)
    ]
    spark.createDataFrame(records, schema).createOrReplaceTempView(POINTS_RELATION)
    spark.createDataFrame(decisions, "school_id string, upn string, decision_status string").createOrReplaceTempView(
        "decision_status"
    )
    spark.createDataFrame(cuts, "school_id string, cut bigint").createOrReplaceTempView("school_cut")
    spark.sql(to_spark(needs_sql)).createOrReplaceTempView("needs")
    spark.sql(to_spark(sql("shortlist_candidates"))).createOrReplaceTempView("candidates")
    spark_needs = [tuple(r) for r in spark.sql("select * from needs order by upn").collect()]
    order = spark.sql(to_spark(sql("shortlist_order")), args={"need_points": NEED_POINTS})
    assert order.columns == ORDER_COLUMNS

    def comparable(rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
        return [tuple(None if isinstance(v, float) and np.isnan(v) else v for v in r) for r in _plain(rows)]

    assert comparable(spark_needs) == comparable(duck_needs)
    assert _plain([tuple(r) for r in order.collect()]) == _plain(duck)
    assert {r[3] for r in duck} <= {*BARRIERS, "none"}
