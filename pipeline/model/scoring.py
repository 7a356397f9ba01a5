"""The score stage: apply a scorecard to the warehouse's feature table and keep every pupil's points.

Reads the ``features`` table (built by :func:`pipeline.features.build_features`), validates it against the feature
contract, and writes the ``scores`` table: one row per pupil with the score, its band, and the points from each
feature (``points__<feature>``), stamped with the scorecard's fingerprint. The report stage reads these points,
so what a shortlist says is exactly what was scored.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from pipeline.features import FEATURES_TABLE
from pipeline.features.schema import FeatureTable
from pipeline.model.card import Scorecard, ScorecardError
from pipeline.model.scorecard import PointsScorecard
from pipeline.warehouse import table_exists

SCORES_TABLE = "scores"
POINTS_PREFIX = "points__"
READ_FEATURES = f"select * from {FEATURES_TABLE} order by school_id, upn"
READ_SCORES = f"select * from {SCORES_TABLE} order by school_id, upn"


class StageOrderError(RuntimeError):
    """A stage was asked to run before the stage it reads from (the message says which command to run)."""


def read_features(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The feature table last built in the warehouse, validated against the feature contract."""
    if not table_exists(con, FEATURES_TABLE):
        raise StageOrderError("the warehouse has no feature table yet: run `mentor features` (or `mentor run`) first")
    return FeatureTable.validate(con.execute(READ_FEATURES).df(), lazy=True)


def score_features(
    con: duckdb.DuckDBPyConnection, card: Scorecard, features: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Score every pupil in the feature table with ``card``; write and return the ``scores`` table.

    ``features`` is the feature table as :func:`read_features` would read it, if the caller has it already (the
    nightly run, just after building it); by default it is read."""
    features = read_features(con) if features is None else features
    model = PointsScorecard(card).fit(features)
    points = model.points(features)
    total = points.sum(axis=1).astype(int)
    scores = pd.DataFrame(
        {
            "as_of": features["as_of"],
            "school_id": features["school_id"],
            "upn": features["upn"],
            "score": total,
            "band": [card.band_of_score(int(s)) for s in total],
            "probability": model.predict_proba(features)[:, 1],
            "scorecard": f"{card.name} {card.version}",
            "scorecard_fingerprint": card.fingerprint(),
        }
    )
    for name in card.feature_names:
        scores[POINTS_PREFIX + name] = points[name].astype(int)
    con.register("scores_frame", scores)
    try:
        con.execute(f"create or replace table {SCORES_TABLE} as select * from scores_frame")
    finally:
        con.unregister("scores_frame")
    return scores


def read_scores(con: duckdb.DuckDBPyConnection, card: Scorecard) -> pd.DataFrame:
    """The ``scores`` table, checked to have been made by ``card`` from the current feature table."""
    if not table_exists(con, SCORES_TABLE):
        raise StageOrderError("the warehouse has no scores yet: run `mentor score` (or `mentor run`) first")
    scores = con.execute(READ_SCORES).df()
    made_by = set(scores["scorecard_fingerprint"])
    if made_by and made_by != {card.fingerprint()}:
        raise StageOrderError(
            f"the scores were made with another scorecard than {card.name} {card.version}: run `mentor score` again"
        )
    missing = [n for n in card.feature_names if POINTS_PREFIX + n not in scores.columns]
    if missing:
        raise ScorecardError(f"the scores table lacks points for: {', '.join(missing)}")
    return scores


def points_of(scores: pd.DataFrame, card: Scorecard) -> pd.DataFrame:
    """The points columns of a scores frame, renamed to feature names (what ``PointsScorecard.points`` gives)."""
    return scores[[POINTS_PREFIX + n for n in card.feature_names]].rename(columns=lambda c: c[len(POINTS_PREFIX) :])


def scorecards_of_scores(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The fingerprints of the scorecards the warehouse's scores were made with (none before a first scoring)."""
    if not table_exists(con, SCORES_TABLE):
        return set()
    return {str(row[0]) for row in con.execute(f"select distinct scorecard_fingerprint from {SCORES_TABLE}").fetchall()}
