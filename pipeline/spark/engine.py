"""Features, scores and shortlists on Spark SQL, for trusts, local authorities and national services.

The staged tables (ingest stays per school, in DuckDB) are exported as Parquet partitioned by school; the feature
models of ``pipeline/features/sql`` run on Spark as translated by :mod:`pipeline.spark.transpile`; the scorecard's
points are applied as SQL generated from the card (a ``case`` per feature, one branch per band, the card's values
as literals); the feature and score tables come back as Parquet into the warehouse. The shortlists are ranked on
Spark: the need profile (:func:`pipeline.caseload.policy.need_sql`), the candidates
(``caseload/sql/shortlist_candidates.sql``) and the order cut at each school's places
(``caseload/sql/shortlist_order.sql``), the SQL a DuckDB run runs, translated; only the rows within each school's
cut come to the driver, where the same report code (:func:`pipeline.report.write_reports`) shares the places
between barriers and writes the lists, so they rank and read the same.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd
from sqlglot import exp

from pipeline.caseload.decisions import sql as caseload_sql
from pipeline.caseload.policy import ORDER_COLUMNS, POINTS_RELATION, need_sql
from pipeline.config import Settings
from pipeline.features import FEATURE_MODELS, FEATURES_TABLE, FeatureResult, sql_model
from pipeline.model.card import Scorecard
from pipeline.model.scoring import POINTS_PREFIX, SCORES_TABLE, read_features
from pipeline.spark.session import DEFAULT_MASTER, spark_session
from pipeline.spark.transpile import to_spark
from pipeline.warehouse import SCHOOL_DAYS_LOOKBACK

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


STAGED_TABLES = ("pupils", "attendance", "assessments", "behaviour", "exclusions", "interventions")
"""The staged tables the feature models read."""
LOAD_COLUMNS = ["load_id", "line_number"]
"""Columns of the staged tables that say where a row came from; the features do not read them."""
KEYS = ["school_id", "upn"]
FEATURE_FAMILIES = ("attendance_features", "behaviour_features", "attainment_features")
"""Joined, in this order, to ``pupil_context`` (as :data:`pipeline.features.JOIN_FEATURES` joins them)."""
READ_RESULT = "select * from read_parquet($files) order by school_id, upn"
RANKED_FROM = ("school_id", "upn", "score", "attendance_rate_term", "negative_points_4wk", "looked_after",
               "current_interventions")  # fmt: skip
"""The columns of the feature and score tables the ranking reads, beside each feature's points."""
DECISION_SCHEMA = "school_id string, upn string, decision_status string"
CUT_SCHEMA = "school_id string, cut bigint"


def export_staged(con: duckdb.DuckDBPyConnection, folder: Path) -> dict[str, Path]:
    """Write each staged table to ``folder/<table>/school_id=<id>/*.parquet``; return the table folders.

    An empty table is written as one empty file with its columns (Spark needs a schema to read)."""
    folders: dict[str, Path] = {}
    for table in STAGED_TABLES:
        relation = con.table(table)
        relation = relation.select(*[c for c in relation.columns if c not in LOAD_COLUMNS])
        target = folder / table
        target.parent.mkdir(parents=True, exist_ok=True)
        if relation.aggregate("count(*)").fetchone() == (0,):
            target.mkdir()
            relation.write_parquet(str(target / "empty.parquet"))
        else:
            relation.write_parquet(str(target), partition_by=["school_id"])
        folders[table] = target
    return folders


def build_features_spark(spark: SparkSession, staged: dict[str, Path], as_of: dt.date) -> DataFrame:
    """The feature table for ``as_of`` on Spark: every SQL model translated and run, then joined per pupil."""
    from pyspark.sql import functions as sf

    for table, folder in staged.items():
        spark.read.parquet(str(folder)).createOrReplaceTempView(table)
    params: dict[str, Any] = {"as_of": as_of, "lookback_days": SCHOOL_DAYS_LOOKBACK}
    models = {}
    for name in FEATURE_MODELS:
        sql = to_spark(sql_model(name))
        model = spark.sql(sql, args={k: v for k, v in params.items() if f":{k}" in sql}).cache()
        model.createOrReplaceTempView(name)
        models[name] = model
    joined = models["pupil_context"]
    for family in FEATURE_FAMILIES:
        joined = joined.join(models[family], on=KEYS, how="left")
    return joined.select(sf.lit(as_of).alias("as_of"), "*").orderBy(*KEYS)


def score_sql(card: Scorecard, table: str = FEATURES_TABLE) -> str:
    """Spark SQL scoring every row of ``table`` with ``card``: the columns of :func:`pipeline.model.score_features`.

    Each feature's points are a ``case``: its missing points when the value is NULL or NaN, else the points of the
    band the value falls in (bands are half-open ``[lower, upper)``, in order, meeting exactly: the first band
    whose upper bound is above the value). Thresholds, points and labels are literals taken from the card.
    """
    points: dict[str, exp.Expr] = {}
    for feature in card.features:
        value = exp.column(feature.name)
        missing = exp.or_(exp.Is(this=value.copy(), expression=exp.Null()), exp.func("isnan", value.copy()))
        branches = [exp.If(this=missing, true=exp.Literal.number(feature.missing_points))]
        for band in feature.bands[:-1]:
            assert band.upper is not None  # Scorecard.check: only the last band is unbounded above
            branches.append(
                exp.If(
                    this=exp.LT(this=value.copy(), expression=_double(band.upper)), true=exp.Literal.number(band.points)
                )
            )
        points[feature.name] = exp.cast(
            exp.Case(ifs=branches, default=exp.Literal.number(feature.bands[-1].points)), exp.DataType.Type.BIGINT
        )
    score: exp.Expr = exp.Literal.number(0)
    for expression in points.values():
        score = exp.Add(this=score, expression=expression.copy())
    by_score = sorted(card.score_bands, key=lambda b: -b.min_score)
    score_band = exp.Case(
        ifs=[
            exp.If(
                this=exp.GTE(this=exp.column("score"), expression=exp.Literal.number(b.min_score)),
                true=exp.Literal.string(b.label),
            )
            for b in by_score
        ],
        default=exp.Literal.string(card.score_bands[0].label),
    )
    log_odds = exp.Add(
        this=_double(card.calibration_intercept),
        expression=exp.Mul(this=_double(card.calibration_slope), expression=exp.cast(exp.column("score"), "double")),
    )
    probability = exp.Div(
        this=exp.Literal.number(1),
        expression=exp.Paren(  # sqlglot prints a built tree as it is: the parentheses are ours to place
            this=exp.Add(this=exp.Literal.number(1), expression=exp.func("exp", exp.Neg(this=exp.Paren(this=log_odds))))
        ),
    )
    scored = exp.select(
        "as_of", "school_id", "upn", exp.alias_(score, "score"),
        *[exp.alias_(e, POINTS_PREFIX + n) for n, e in points.items()],
    ).from_(table)  # fmt: skip
    query = exp.select(
        "as_of", "school_id", "upn", "score", exp.alias_(score_band, "band"), exp.alias_(probability, "probability"),
        exp.alias_(exp.Literal.string(f"{card.name} {card.version}"), "scorecard"),
        exp.alias_(exp.Literal.string(card.fingerprint()), "scorecard_fingerprint"),
        *[POINTS_PREFIX + n for n in points],
    ).from_(scored.subquery("points")).order_by("school_id", "upn")  # fmt: skip
    return query.sql(dialect="spark")


def _double(value: float) -> exp.Expr:
    """A double literal (Spark reads ``0.9`` as a decimal)."""
    return exp.cast(exp.Literal.number(repr(float(value))), exp.DataType.Type.DOUBLE)


class SparkEngine:
    """The feature and score stages of a run on Spark, in place of :func:`pipeline.features.build_features` and
    :func:`pipeline.model.scoring.score_features` (``run_pipeline(..., engine=SparkEngine(...))``).

    Each leaves the warehouse as its DuckDB twin does (the ``features`` table, then the ``scores`` table), so the
    checks, the per-school judgement and the shortlists that follow are the same code. The Parquet files (personal
    data) live in an owner-only temporary folder in ``scratch_parent`` (on a cluster: storage every executor reads),
    removed by :meth:`close`. The session starts on first use.
    """

    name = "spark"

    def __init__(self, master: str = DEFAULT_MASTER, scratch_parent: Path | None = None) -> None:
        self.master = master
        self._scratch = tempfile.TemporaryDirectory(prefix=".mentor-spark-", dir=scratch_parent)
        self._spark: SparkSession | None = None
        self._features: DataFrame | None = None
        self._night: Path | None = None

    @property
    def spark(self) -> SparkSession:
        if self._spark is None:
            self._spark = spark_session(self.master)
        return self._spark

    def describe(self) -> dict[str, str]:
        """What run.json records of the engine."""
        return {"engine": self.name, "spark_master": self.master, "spark_version": self.spark.version}

    def build_features(self, con: duckdb.DuckDBPyConnection, as_of: dt.date) -> FeatureResult:
        """The ``features`` table of the warehouse for ``as_of``, built on Spark; returned validated."""
        started = time.perf_counter()
        scratch = self._night = Path(self._scratch.name) / as_of.isoformat()
        shutil.rmtree(scratch, ignore_errors=True)
        staged = export_staged(con, scratch / "staged")
        self._features = build_features_spark(self.spark, staged, as_of)
        _into_warehouse(con, self._features, FEATURES_TABLE, scratch / FEATURES_TABLE)
        return FeatureResult.of(as_of, read_features(con), started)

    def score_features(self, con: duckdb.DuckDBPyConnection, card: Scorecard, features: pd.DataFrame) -> None:
        """The ``scores`` table for the pupils of ``features`` (the schools kept), scored on Spark."""
        from pyspark.sql import functions as sf

        if self._features is None or self._night is None:
            raise RuntimeError("build_features runs before score_features")
        schools = sorted({str(s) for s in features["school_id"]})
        self._features.where(sf.col("school_id").isin(schools)).createOrReplaceTempView(FEATURES_TABLE)
        _into_warehouse(con, self.spark.sql(score_sql(card)), SCORES_TABLE, self._night / SCORES_TABLE)

    def rank_shortlists(
        self, card: Scorecard, settings: Settings, decisions: pd.DataFrame, cuts: pd.DataFrame
    ) -> pd.DataFrame:
        """Every school's candidates ranked on Spark, cut at its places: the rows of ``shortlist_order.sql``.

        ``decisions`` has school_id, upn and decision_status of the pupils with a staff decision tonight; ``cuts``
        school_id and cut (the most places each school's shortlist can have). Reads the feature and score tables
        this engine wrote tonight (the schools scored); returns only the rows within each school's cut.
        """
        if self._night is None:
            raise RuntimeError("build_features and score_features run before rank_shortlists")
        spark = self.spark
        features = spark.read.parquet(str(self._night / FEATURES_TABLE))
        scores = spark.read.parquet(str(self._night / SCORES_TABLE))
        points = [POINTS_PREFIX + f.name for f in card.features]
        scores.select("school_id", "upn", "score", *points).join(features, on=KEYS, how="inner").select(
            *RANKED_FROM, *points
        ).createOrReplaceTempView(POINTS_RELATION)
        spark.sql(to_spark(need_sql(card, settings.mentor_interventions))).createOrReplaceTempView("needs")
        spark.createDataFrame(
            decisions[["school_id", "upn", "decision_status"]].astype(str), DECISION_SCHEMA
        ).createOrReplaceTempView("decision_status")
        cut = cuts[["school_id", "cut"]].astype({"school_id": str, "cut": int})
        spark.createDataFrame(cut, CUT_SCHEMA).createOrReplaceTempView("school_cut")
        spark.sql(to_spark(caseload_sql("shortlist_candidates"))).createOrReplaceTempView("candidates")
        order = spark.sql(to_spark(caseload_sql("shortlist_order")), args={"need_points": max(settings.need_points, 1)})
        return pd.DataFrame([row.asDict() for row in order.collect()], columns=ORDER_COLUMNS)

    def close(self) -> None:
        """Remove the Parquet files; the session stays for the process (Spark makes one per process)."""
        self._scratch.cleanup()

    def __enter__(self) -> SparkEngine:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _into_warehouse(con: duckdb.DuckDBPyConnection, frame: DataFrame, table: str, folder: Path) -> None:
    """Spark's result as a table of the warehouse, through Parquet (the types as Spark made them)."""
    shutil.rmtree(folder, ignore_errors=True)
    frame.write.parquet(str(folder))
    files = sorted(str(p) for p in folder.glob("*.parquet"))
    con.execute(f"create or replace table {table} as {READ_RESULT}", {"files": files})
