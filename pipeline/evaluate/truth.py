"""Shortlists against the simulation truth of a synthetic sample (never against real pupils).

``python -m pipeline.evaluate.truth --db WAREHOUSE --truth data/sample-truth`` builds the features for the sample's
extract date from an ingested warehouse and prints precision and recall for the truth's outcomes
(``adverse_outcome``: persistent absence, a suspension or falling further below target in the following half-term;
``would_benefit``: that or an able pupil coasting) of: the published shortlist (the new candidates it gives the
free places to, so ``capacity`` is their number; not the pupils listed beside the places), and each school's
mentoring places filled by the released
scorecard's score alone, by the ABC rules and by attendance alone (see :mod:`pipeline.caseload.policy`).
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.caseload.policy import capacity, choose, top_places
from pipeline.config import Settings
from pipeline.evaluate import abc_score, attendance_score, precision_at_k, recall_at_k
from pipeline.features import build_features
from pipeline.model import PointsScorecard, Scorecard
from pipeline.warehouse import connect

OUTCOMES = ("adverse_outcome", "would_benefit")
LAST_DAY_BEFORE = "select max(date) from attendance where date < $start"


def compare(db: Path, truth_dir: Path, settings: Settings) -> pd.DataFrame:
    """One row per model and school (and ``all``): capacity, positives, precision and recall at capacity."""
    truth = pd.read_csv(truth_dir / "outcomes.csv", dtype={"school_urn": str, "upn": str})
    start = dt.date.fromisoformat(str(truth["horizon_start"].min()))
    con = connect(db)
    try:
        row = con.execute(LAST_DAY_BEFORE, {"start": start}).fetchone()
        if not row or row[0] is None:
            raise SystemExit(f"the warehouse {db} has no marks before {start}: ingest the sample first")
        features = build_features(con, row[0], persist=False).table
    finally:
        con.close()
    card = Scorecard.load(settings.scorecard)
    model = PointsScorecard(card).fit(features)
    joined = features.merge(truth, left_on=["school_id", "upn"], right_on=["school_urn", "upn"], how="inner")
    rows = []
    for school, pupils in [*joined.groupby("school_id", sort=True), ("all", joined)]:
        pupils = pupils.reset_index(drop=True)
        per_school = pupils.groupby("school_id")
        capacities = {str(s): capacity(str(s), len(g), settings) for s, g in per_school}
        rankings = {
            f"{card.name} shortlist": _shortlist_order(pupils, model, capacities, settings),
            f"{card.name} by score": top_places(
                pupils.groupby("school_id", sort=True), pd.Series(model.score(pupils), index=pupils.index), settings
            ),
            "ABC rules": _order(pupils, abc_score(pupils), capacities),
            "attendance alone": _order(pupils, attendance_score(pupils), capacities),
        }
        for name, chosen in rankings.items():
            k = len(chosen)  # the shortlist holds the free places' worth of new candidates, not every place
            for outcome in OUTCOMES:
                positives = pupils[outcome].astype(bool).to_numpy()
                selected = np.zeros(len(pupils))
                selected[chosen] = 1.0
                rows.append(
                    {
                        "school": str(school),
                        "model": name,
                        "outcome": outcome,
                        "pupils": len(pupils),
                        "capacity": k,
                        "base_rate": round(float(positives.mean()), 3),
                        "precision_at_capacity": round(precision_at_k(positives, selected, k), 3),
                        "recall_at_capacity": round(recall_at_k(positives, selected, k), 3),
                    }
                )
    return pd.DataFrame(rows)


def _shortlist_order(
    pupils: pd.DataFrame, model: PointsScorecard, capacities: dict[str, int], settings: Settings
) -> list[int]:
    chosen: list[int] = []
    for school, group in pupils.groupby("school_id", sort=True):
        choice = choose(group, model.points(group), model.card_, capacities[str(school)], settings)
        given = set(choice.listed.loc[choice.given_places, "upn"])
        chosen += [i for i in group.index if pupils.at[i, "upn"] in given]
    return chosen


def _order(pupils: pd.DataFrame, score: pd.Series, capacities: dict[str, int]) -> list[int]:
    chosen: list[int] = []
    for school, group in pupils.groupby("school_id", sort=True):
        ranked = score.loc[group.index].sort_values(ascending=False, kind="stable")
        chosen += list(ranked.index[: capacities[str(school)]])
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="an ingested warehouse of the synthetic sample")
    parser.add_argument("--truth", type=Path, required=True, help="the sample's simulation truth folder")
    args = parser.parse_args()
    table = compare(args.db, args.truth, Settings())
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False))


if __name__ == "__main__":
    main()
