"""Can a first-term card be learned from simulated schools? Cards learned from one world's history, ranked in another.

A school in its first term has no history of its own, so its card must come from elsewhere: an expert card
(scorecard-v3), or a card learned from other schools. This measures the second option on the two simulated worlds,
whose code shares nothing: a card is learned as ``mentor fit`` learns it
(:func:`pipeline.model.scorecard.history_learner`) from the pooled year of history of some *learning* seeds (the
sample's, the independent world's, or both), then ranks the pupils of other *measured* seeds with no history,
beside the expert card, the ABC rules and attendance alone.
A card that only wins in the world it was learned in has learned that simulator, not schools.

``python -m pipeline.evaluate.transfer --cache out/futures-cache --learn-world 1-10 --learn-sample 1-6
--world 11-15 --world 21-28 --sample-seed 11-13 --sample-seed 21-24`` (the worlds are built into the futures
cache when absent; see docs/evaluation.md).
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from pipeline.config import Settings
from pipeline.evaluate.cache import cached_world, seeds
from pipeline.evaluate.futures import NO_HISTORY, score_world, summary
from pipeline.model import Scorecard
from pipeline.model.scorecard import history_learner


def learned_elsewhere(
    template: Scorecard, learn_from: dict[str, Sequence[tuple[str, int]]], cache: Path, settings: Settings
) -> list[Scorecard]:
    """One card per entry of ``learn_from`` (a name and its ``(kind, seed)`` worlds), each learned from the pooled
    year of history of those worlds and named ``learned on <name>``."""
    cards = []
    for name, worlds in learn_from.items():
        frames = [cached_world(kind, seed, cache, settings).history for kind, seed in worlds]
        history = pd.concat([f for f in frames if f is not None], ignore_index=True)
        model = history_learner(template).fit(history, history["outcome"].astype(int))
        cards.append(dataclasses.replace(model.card_, name=f"learned on {name}"))
    return cards


def measure_transfer(
    template: Scorecard,
    cards: Sequence[Scorecard],
    measured: Sequence[tuple[str, int]],
    cache: Path,
    settings: Settings,
) -> pd.DataFrame:
    """Every card (and the template as released) ranking each measured world with no history: the rows of
    ``futures.csv`` for the no-history regime."""
    rows = []
    for kind, seed in measured:
        data = dataclasses.replace(cached_world(kind, seed, cache, settings), history=None)
        rows.append(score_world(data, [template, *cards], settings))
    table = pd.concat(rows, ignore_index=True)
    return table[table["regime"] == NO_HISTORY].reset_index(drop=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--cache", type=Path, required=True, help="the futures cache (mentor evaluate --cache)")
    parser.add_argument("--card", type=Path, default=None, help="the template (default: the configured card)")
    parser.add_argument("--learn-world", default="1-10", help="independent-world seeds to learn from (1-10)")
    parser.add_argument("--learn-sample", default="1-6", help="sample seeds to learn from (1-6)")
    parser.add_argument("--world", action="append", default=[], help="world seeds to measure (repeatable: 21-28)")
    parser.add_argument("--sample-seed", action="append", default=[], help="sample seeds to measure (repeatable)")
    parser.add_argument("--out", type=Path, default=None, help="write the rows and the summary as CSV here")
    args = parser.parse_args(argv)
    settings = Settings()
    template = Scorecard.load(args.card or settings.scorecard)
    world = [("world", s) for s in seeds(args.learn_world)]
    sample = [("sample", s) for s in seeds(args.learn_sample)]
    cards = learned_elsewhere(
        template, {"the sample": sample, "the world": world, "both": [*sample, *world]}, args.cache, settings
    )
    measured = [("world", s) for text in args.world for s in seeds(text)]
    measured += [("sample", s) for text in args.sample_seed for s in seeds(text)]
    table = measure_transfer(template, cards, measured, args.cache, settings)
    result = summary(table)
    columns = ["world", "method", "precision_at_capacity", "worst", "average_precision", "wins", "ties", "losses",
               "sign_test_p", "margin", "margin_low", "margin_high", "of"]  # fmt: skip
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(result[columns].round(3).to_string(index=False))
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.out / "transfer.csv", index=False)
        result.to_csv(args.out / "transfer-summary.csv", index=False)


if __name__ == "__main__":
    main()
