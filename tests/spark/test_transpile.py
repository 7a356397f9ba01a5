"""Each construct the translation rewrites means on Spark what it means in DuckDB, for any values (Hypothesis)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pyspark.sql import SparkSession

from pipeline.spark import to_spark
from pipeline.sql import render_sql

pytestmark = pytest.mark.slow
DATES = st.dates(dt.date(2000, 1, 1), dt.date(2040, 12, 31))
TEXT = st.sampled_from(
    ["7+", "7-", "7", "77+", "+", "x7+", "10", "", "7 +", "EXS", "5.4", "104", "+-0", "1_000", "1e3", "nan", "inf",
     "12.0", "12.5", "1_0", "0x10", "+5", "-5", "007", "99999999999", "9:06", "10:0_3", "1.0:06", "9:06:11", "12\n",
     "9:06\n"]
) | st.text("0123456789+-._:\n", max_size=4)  # fmt: skip
SETTINGS = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

EXPRESSIONS = render_sql("""{% from "grades.sql" import grade, reading_age_months, whole_number -%}
select
    i,
    dayofweek(a) as weekday,
    datediff('month', a, b) as months,
    regexp_full_match(t, '[0-9]\\+') as plus_grade,
    {{ grade("t") }} as grade,
    {{ whole_number("t") }} as whole,
    {{ whole_number("split_part(t, ':', 2)") }} as reading_months,
    {{ reading_age_months("t") }} as reading_age
from cases
order by i
""")
GROUPED = render_sql("""{% from "grades.sql" import number -%}
select
    k,
    arg_max({{ number("t") }}, a) as latest_number,
    arg_max_null({{ number("t") }}, (a, i)) as latest_or_null,
    string_agg(distinct t, '; ' order by t) as texts,
    max(run) as longest
from (
    select *, count(*) filter (where i % 3 = 0) over (
        partition by k order by a, i rows between unbounded preceding and current row
    ) as run
    from cases
)
group by k
order by k
""")


def _both(spark: SparkSession, sql: str, rows: list[tuple[object, ...]]) -> tuple[list[tuple[object, ...]], ...]:
    con = duckdb.connect()
    con.execute("create table cases (i integer, k integer, a date, b date, t varchar)")
    con.executemany("insert into cases values (?, ?, ?, ?, ?)", rows)
    duck = [tuple(r) for r in con.execute(sql).fetchall()]
    spark.createDataFrame(rows, "i int, k int, a date, b date, t string").createOrReplaceTempView("cases")
    on_spark = [tuple(r) for r in spark.sql(to_spark(sql)).collect()]
    return duck, on_spark


def _rows(draw: st.DrawFn) -> list[tuple[object, ...]]:
    starts = draw(st.lists(DATES, min_size=1, max_size=12, unique=True))  # arg_max's order has no ties
    return [(i, draw(st.integers(0, 2)), a, draw(DATES), draw(st.none() | TEXT)) for i, a in enumerate(starts)]


EDGES = [(i, 0, dt.date(2020, 1, 1 + i), dt.date(2021, 1, 1), t) for i, t in enumerate(["12\n", "9:06:11", "9:06\n"])]
"""Where Spark's regular expressions differ from DuckDB's: Java's ``$`` also matches before a last line break."""


@SETTINGS
@given(st.composite(_rows)())
@example(EDGES)
def test_row_expressions_agree(spark: SparkSession, rows: list[tuple[object, ...]]) -> None:
    """dayofweek, datediff by month (boundaries crossed), regexp_full_match (to the very end: a line break after the
    digits is no number), the grade scale (a decimal's double division; a result read as a number only when written
    as one), a whole number, a reading age."""
    duck, on_spark = _both(spark, EXPRESSIONS, rows)
    assert len(duck) == len(on_spark)
    for d, s in zip(duck, on_spark, strict=True):
        assert d[:4] == s[:4]
        assert d[4] == s[4] or (d[4] is not None and s[4] == pytest.approx(d[4], abs=1e-12))
        assert d[5:] == s[5:]


@SETTINGS
@given(st.composite(_rows)())
def test_aggregates_agree(spark: SparkSession, rows: list[tuple[object, ...]]) -> None:
    """arg_max skipping NULLs, arg_max_null by a tuple, string_agg distinct ordered, a filtered window count."""
    duck, on_spark = _both(spark, GROUPED, rows)
    assert duck == on_spark
