"""Where a card's list loses to attendance alone: the pupils one list holds and the other does not.

A school-seed is lost when the card's precision at capacity is below the better baseline's. Precision moves in
steps of one pupil, so a loss is a few pupils swapped: the card lists some pupils attendance alone would not
(``card only``) and leaves out as many that attendance alone lists (``attendance only``). :func:`swaps` names
them (by position, never by UPN) with their outcome, score and the features that decide such swaps;
:func:`losses` does it for every school of a cached world (:mod:`pipeline.evaluate.cache`) where the card lost,
and whether the card's score was tied at the cut (ties are broken by lower attendance, as the shortlist does).

    python -m pipeline.evaluate.losses --cache out/futures-cache --card models/scorecard-v3.yaml \\
        --world 1-3 --sample-seed 1-3

prints each lost school-seed and, per side, how many pupils and how many had the outcome, with the mean of each
feature. Like the cache, it is for tuning seeds: looking at held-out seeds this way is tuning on them.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.caseload.policy import capacity as school_capacity
from pipeline.caseload.policy import rank_order
from pipeline.config import Settings
from pipeline.evaluate import abc_score, attendance_score
from pipeline.evaluate.futures import WorldData, order_by_score
from pipeline.model import PointsScorecard, Scorecard

CARD_ONLY, ATTENDANCE_ONLY = "card only", "attendance only"
SHOWN = (
    "attendance_rate_term",
    "attendance_rate_4wk",
    "attendance_rate_year",
    "late_marks_4wk",
    "unexplained_n_marks",
    "unauthorised_rate_term",
    "negative_points_4wk",
    "suspensions_year",
    "core_grade_change",
)
"""The features shown for each swapped pupil (those the card's swaps against attendance alone turn on)."""


def swaps(outcome: np.ndarray, ours: np.ndarray, theirs: np.ndarray, capacity: int) -> pd.DataFrame:
    """The positions in the top ``capacity`` of ``ours`` and not of ``theirs`` (side ``card only``) and the
    reverse (``attendance only``), with each one's ``outcome``; both sides have as many rows.

    >>> swaps(np.array([1, 0, 1, 1]), np.array([0, 1, 2, 3]), np.array([0, 2, 1, 3]), 2)
       position             side  outcome
    0         1        card only    False
    1         2  attendance only     True
    """
    top_ours, top_theirs = list(ours[:capacity]), set(theirs[:capacity])
    mine = [p for p in top_ours if p not in top_theirs]
    other = [p for p in theirs[:capacity] if p not in set(top_ours)]
    positions = mine + other
    return pd.DataFrame(
        {
            "position": np.asarray(positions, dtype=int),
            "side": [CARD_ONLY] * len(mine) + [ATTENDANCE_ONLY] * len(other),
            "outcome": np.asarray(outcome, dtype=bool)[positions] if positions else np.array([], dtype=bool),
        }
    )


def losses(data: WorldData, card: Scorecard, settings: Settings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per school of ``data`` on its extract date: the card as released against the ABC rules and attendance alone
    (precision at capacity, whether the card's score is tied across the cut) and, for the schools where the card
    lost to the better of them, the swapped pupils against attendance alone (:func:`swaps`) with their score and
    the :data:`SHOWN` features. Returns ``(schools, swapped)``."""
    model = PointsScorecard(card=card).fit(data.pupils)
    schools, swapped = [], []
    for school, group in data.pupils.groupby("school_id", sort=True):
        pupils = group.reset_index(drop=True)
        capacity = school_capacity(str(school), len(pupils), settings)
        outcome = pupils["adverse_outcome"].astype(bool).to_numpy()
        points = model.points(pupils).sum(axis=1)
        ours, score = rank_order(pupils, points).to_numpy(), points.to_numpy()
        attendance = order_by_score(attendance_score(pupils))
        abc = order_by_score(abc_score(pupils))
        row = {
            "world": data.world,
            "seed": data.seed,
            "school": str(school),
            "capacity": capacity,
            "card": outcome[ours[:capacity]].mean(),
            "abc": outcome[abc[:capacity]].mean(),
            "attendance": outcome[attendance[:capacity]].mean(),
            "tie_at_cut": bool(len(ours) > capacity and score[ours[capacity - 1]] == score[ours[capacity]]),
        }
        row["lost"] = bool(row["card"] < max(row["abc"], row["attendance"]) - 1e-9)
        schools.append(row)
        if row["lost"]:
            pairs = swaps(outcome, ours, attendance, capacity)
            shown = pupils.loc[pairs["position"], [c for c in SHOWN if c in pupils.columns]].reset_index(drop=True)
            swapped.append(
                pairs.assign(world=data.world, seed=data.seed, school=str(school), score=score[pairs["position"]])
                .drop(columns="position")
                .join(shown)
            )
    table = pd.concat(swapped, ignore_index=True) if swapped else pd.DataFrame()
    return pd.DataFrame(schools), table


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--world", action="append", default=[], help="world seeds (repeatable: 1 or 1-3; tuning only)")
    parser.add_argument("--sample-seed", action="append", default=[], help="sample seeds (repeatable: 1 or 1-3)")
    parser.add_argument("--cache", type=Path, required=True, help="the futures cache folder")
    parser.add_argument("--card", type=Path, required=True, help="the scorecard to examine")
    args = parser.parse_args(argv)
    from pipeline.evaluate.cache import cached_world, seeds

    worlds = [("world", s) for text in args.world for s in seeds(text)]
    worlds += [("sample", s) for text in args.sample_seed for s in seeds(text)]
    if not worlds:
        parser.error("name at least one --world or --sample-seed")

    settings, card = Settings(), Scorecard.load(args.card)
    schools, swapped = [], []
    for kind, seed in worlds:
        per_school, table = losses(cached_world(kind, seed, args.cache, settings), card, settings)
        schools.append(per_school)
        swapped.append(table)
    every = pd.concat(schools, ignore_index=True)
    lost = every[every["lost"]]
    print(every.round(3).to_string(index=False))
    print(f"\n{len(lost)} of {len(every)} school-seeds lost; score tied at the cut in {int(every['tie_at_cut'].sum())}")
    table = pd.concat(swapped, ignore_index=True)
    if not table.empty:
        print("\nswapped pupils in the lost school-seeds, against attendance alone (count, with the outcome, means):")
        summary = table.groupby("side").agg(pupils=("outcome", "size"), with_outcome=("outcome", "sum"))
        means = table.groupby("side")[["score", *[c for c in SHOWN if c in table.columns]]].mean()
        print(summary.join(means).round(3).T.to_string())


if __name__ == "__main__":
    main()
