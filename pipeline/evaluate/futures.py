"""Shortlists against known futures: the project's synthetic sample and the independent world, per school.

A world (exports plus its truth, ``outcomes.csv``) is ingested through the real pipeline into a warehouse of its
own, its features are built for the extract date (the last school day before the truth's horizon) and each
school's pupils are ranked by each method; precision and recall at each school's mentoring capacity are measured
against the truth's ``adverse_outcome`` (persistent absence, a suspension or falling further below target in the
next 30 school days, the project's outcome).

Two regimes:

- **no history** (a school's first term of use): each released expert card ranks as released (its score, with the
  shortlist's tie-breaks, :func:`pipeline.caseload.policy.rank_order`, at the school's places);
- **a year of history**: a card learned as ``mentor fit`` learns it (``PointsScorecard(template=card)``) from the
  world's own earlier nights, those whose 30-day horizon ended by the extract date, then ranks as the shortlist.

Beside them in both regimes: the ABC rules and attendance alone (:mod:`pipeline.evaluate`); with a year of
history also scikit-learn's gradient boosting on every numeric feature (as in ``mentor evaluate``), the black-box
challenger that shows how much any model could add to attendance in that world. ECE is the expected
calibration error of a card's probabilities (10 equal-width bins, pooled over the school's pupils).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier

from pipeline.caseload.policy import capacity as school_capacity
from pipeline.caseload.policy import rank_order
from pipeline.config import Settings
from pipeline.evaluate import abc_score, attendance_score, expected_calibration_error
from pipeline.evaluate.compare import CHALLENGER_FEATURES
from pipeline.evaluate.release import evaluation_data
from pipeline.features import build_features
from pipeline.ingest import ingest
from pipeline.model import PointsScorecard, Scorecard
from pipeline.warehouse import connect

LAST_DAY_BEFORE = "select max(date) from attendance where date < $start"
QUARANTINED = "select school_id, file, count(*) as n from quarantine group by all order by all"
NO_HISTORY, YEAR_OF_HISTORY = "no history", "a year of history"
BASELINES = ("ABC rules", "attendance alone")
CHALLENGER = "gradient boosting (challenger)"


@dataclass(frozen=True)
class FutureWorld:
    """One world to evaluate: its exports and its truth folder, with a name for the tables."""

    world: str
    seed: int
    exports: Path
    truth: Path


@dataclass
class FuturesResult:
    table: pd.DataFrame
    """One row per school, regime and method: capacity, base rate, precision and recall at capacity, ECE."""
    quarantined: pd.DataFrame
    """Rows quarantined by the ingest, per school and file."""


def evaluate_world(
    world: FutureWorld,
    cards: Sequence[Scorecard],
    settings: Settings,
    learn: bool = True,
    workdir: Path | None = None,
) -> FuturesResult:
    """Ingest ``world`` into a fresh warehouse and measure every method in each school (see the module text)."""
    truth = pd.read_csv(world.truth / "outcomes.csv", dtype={"school_urn": str, "upn": str})
    start = dt.date.fromisoformat(str(truth["horizon_start"].min()))
    with tempfile.TemporaryDirectory(dir=workdir) as folder:
        con = connect(Path(folder) / "world.duckdb", key=None)
        try:
            ingest(con, world.exports)
            quarantined = con.execute(QUARANTINED).df()
            row = con.execute(LAST_DAY_BEFORE, {"start": start}).fetchone()
            if not row or row[0] is None:
                raise ValueError(f"{world.exports} has no marks before the truth's horizon ({start})")
            as_of: dt.date = row[0]
            features = build_features(con, as_of, persist=False).table
            history = evaluation_data(con, settings, until=as_of)[0] if learn else None
        finally:
            con.close()
    joined = features.merge(truth, left_on=["school_id", "upn"], right_on=["school_urn", "upn"], how="inner")
    models: list[tuple[str, str, PointsScorecard]] = [
        (NO_HISTORY, f"{card.name} (as released)", PointsScorecard(card=card).fit(features)) for card in cards
    ]
    if history is not None:
        y = history["outcome"].astype(int)
        models += [
            (YEAR_OF_HISTORY, f"learned from {card.name}", PointsScorecard(template=card).fit(history, y))
            for card in cards
        ]
    challenger = None
    if history is not None:
        challenger = HistGradientBoostingClassifier(random_state=0).fit(_numeric(history), y)
    rows = []
    for school, group in joined.groupby("school_id", sort=True):
        pupils = group.reset_index(drop=True)
        capacity = school_capacity(str(school), len(pupils), settings)
        outcome = pupils["adverse_outcome"].astype(bool).to_numpy()
        base = {
            "world": world.world,
            "seed": world.seed,
            "as_of": as_of.isoformat(),
            "school": str(school),
            "pupils": len(pupils),
            "capacity": capacity,
            "base_rate": round(float(outcome.mean()), 3),
        }
        ranked: list[tuple[str, str, np.ndarray, float]] = []
        for regime, name, model in models:
            # The card's ranking with the shortlist's tie-breaks, at the school's places (the published list also
            # leaves out current mentees and reserves places by barrier; here every pupil is a candidate).
            chosen = rank_order(pupils, model.points(pupils).sum(axis=1))[:capacity].to_numpy()
            probability = model.predict_proba(pupils)[:, 1]
            ranked.append((regime, name, chosen, _ece(outcome, probability)))
        if challenger is not None:
            score = pd.Series(challenger.predict_proba(_numeric(pupils))[:, 1], index=pupils.index)
            probability = score.to_numpy()
            ranked.append((YEAR_OF_HISTORY, CHALLENGER, _top(pupils, score, capacity), _ece(outcome, probability)))
        for regime in [NO_HISTORY] + ([YEAR_OF_HISTORY] if history is not None else []):
            ranked.append((regime, "ABC rules", _top(pupils, abc_score(pupils), capacity), float("nan")))
            ranked.append((regime, "attendance alone", _top(pupils, attendance_score(pupils), capacity), float("nan")))
        for regime, name, chosen, ece in ranked:
            rows.append(
                base
                | {
                    "regime": regime,
                    "method": name,
                    "precision_at_capacity": round(float(outcome[chosen].mean()), 3),
                    "recall_at_capacity": round(float(outcome[chosen].sum() / max(outcome.sum(), 1)), 3),
                    "ece": round(ece, 3),
                }
            )
    return FuturesResult(pd.DataFrame(rows), quarantined)


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per world, regime and method: mean precision at capacity over schools and seeds, its worst school-seed,
    its mean margin over the better baseline of each school-seed, and in how many school-seeds it beat both
    baselines strictly (``beats_both``) or at least matched them (``at_least_both``) of ``of``; baselines
    themselves show blanks."""
    keys = ["world", "seed", "school", "regime"]
    baseline = table[table["method"].isin(BASELINES)].groupby(keys)["precision_at_capacity"].max().rename("best")
    scored = table.join(baseline, on=keys)
    scored["beats"] = scored["precision_at_capacity"] > scored["best"]
    scored["matches"] = scored["precision_at_capacity"] >= scored["best"]
    scored["margin"] = scored["precision_at_capacity"] - scored["best"]
    grouped = scored.groupby(["world", "regime", "method"], sort=False)
    out = grouped.agg(
        precision_at_capacity=("precision_at_capacity", "mean"),
        worst=("precision_at_capacity", "min"),
        recall_at_capacity=("recall_at_capacity", "mean"),
        ece=("ece", "mean"),
        margin=("margin", "mean"),
        beats_both=("beats", "sum"),
        at_least_both=("matches", "sum"),
        of=("beats", "size"),
    ).reset_index()
    out.loc[out["method"].isin(BASELINES), ["margin", "beats_both", "at_least_both"]] = np.nan
    return out.round(3)


def _numeric(frame: pd.DataFrame) -> np.ndarray:
    return np.column_stack(
        [pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float) for c in CHALLENGER_FEATURES]
    )


def _ece(outcome: np.ndarray, probability: np.ndarray) -> float:
    return expected_calibration_error(outcome, probability)


def _top(pupils: pd.DataFrame, score: pd.Series, capacity: int) -> np.ndarray:
    ranked = score.sort_values(ascending=False, kind="stable")
    return ranked.index[:capacity].to_numpy()


def prepare_world(kind: str, seed: int, folder: Path) -> FutureWorld:
    """Generate a world into ``folder``: ``world`` (the independent simulator) or ``sample`` (``mentor sample``)."""
    exports, truth = folder / f"{kind}-{seed}", folder / f"{kind}-{seed}-truth"
    if kind == "world":
        from pipeline.evaluate.world import WorldSpec, generate_world

        generate_world(WorldSpec(seed=seed), exports, truth)
    elif kind == "sample":
        from pipeline.sample import SampleSpec, generate_trust

        generate_trust(SampleSpec(seed=seed), exports, truth)
    else:
        raise ValueError(f"unknown world kind {kind!r}: world or sample")
    return FutureWorld(kind, seed, exports, truth)
