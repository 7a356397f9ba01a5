"""Features as of a date, computed in DuckDB by the SQL models in ``sql/`` (one feature family per file).

Inputs are the staged tables ``pupils``, ``attendance`` (with each mark's DfE ``category``), ``assessments``,
``behaviour``, ``exclusions`` and ``interventions``. Only rows dated on or before ``as_of`` are read, so a past
night can be reproduced exactly from later data. The result is one row per pupil on roll on ``as_of``,
validated against :class:`pipeline.features.schema.FeatureTable`.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import duckdb
import pandas as pd

from pipeline.features.schema import FeatureTable
from pipeline.sql import sql_file
from pipeline.warehouse import SCHOOL_DAYS_LOOKBACK

FEATURE_MODELS = ("school_days", "attendance_features", "behaviour_features", "attainment_features", "pupil_context")
"""SQL models in the order they are built; each becomes a temporary table of the same name."""
FEATURES_TABLE = "features"

JOIN_FEATURES = """
select
    cast($as_of as date) as as_of,
    c.*,
    a.* exclude (school_id, upn),
    b.* exclude (school_id, upn),
    t.* exclude (school_id, upn)
from pupil_context as c
left join attendance_features as a using (school_id, upn)
left join behaviour_features as b using (school_id, upn)
left join attainment_features as t using (school_id, upn)
order by c.school_id, c.upn
"""


@dataclass(frozen=True)
class FeatureResult:
    as_of: dt.date
    pupils: int
    schools: int
    seconds: float
    table: pd.DataFrame

    @classmethod
    def of(cls, as_of: dt.date, table: pd.DataFrame, started: float) -> FeatureResult:
        """The result of a build that began at ``started`` (``time.perf_counter()``) and made ``table``."""
        return cls(as_of, len(table), int(table["school_id"].nunique()), time.perf_counter() - started, table)


def sql_model(name: str) -> str:
    """The text of one SQL model shipped with the package."""
    return sql_file("pipeline.features", f"{name}.sql")


def build_features(con: duckdb.DuckDBPyConnection, as_of: dt.date, persist: bool = True) -> FeatureResult:
    """Build the feature table for ``as_of`` and return it, validated.

    With ``persist`` (the nightly run) the table is kept in the warehouse as ``features`` for the score and report
    stages; without it (analysis, explanations) only temporary tables are made and the warehouse is unchanged.
    """
    started = time.perf_counter()
    params: dict[str, object] = {"as_of": as_of, "lookback_days": SCHOOL_DAYS_LOOKBACK}
    for name in FEATURE_MODELS:
        con.execute(f"create or replace temp table {name} as {sql_model(name)}", _used(sql_model(name), params))
    target = FEATURES_TABLE if persist else f"temp.{FEATURES_TABLE}_unpublished"
    con.execute(
        f"create or replace {'' if persist else 'temp '}table {target} as {JOIN_FEATURES}", _used(JOIN_FEATURES, params)
    )
    table = con.execute(f"select * from {target} order by school_id, upn").df()  # as read_features reads it
    return FeatureResult.of(as_of, FeatureTable.validate(table, lazy=True), started)


def _used(sql: str, params: dict[str, object]) -> dict[str, object]:
    """Only the parameters a statement names (DuckDB refuses unused named parameters)."""
    return {key: value for key, value in params.items() if f"${key}" in sql}
