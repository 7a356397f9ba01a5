"""`mentor fit`: learn a scorecard from the warehouse's history, measure it, and write it with its model card.

The YAML file is the model (``models/NAME.yaml``), and ``models/NAME.md`` is its model card: data window, outcome,
the rolling-origin comparison with the other four models, the learner's 10-fold table on public data (the last
saved `make benchmark-model` run) and known limits. Both are written once; an existing
file is never overwritten (released files are never edited: publish a new name). The same data, settings and seed
give the same files byte for byte.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from pipeline.config import Settings
from pipeline.evaluate.compare import PUBLISHED, Window, evaluate, summary_table, training_rows, windows
from pipeline.evaluate.dataset import SCHOOL_DAYS, history, history_nights
from pipeline.model import Scorecard
from pipeline.model.scorecard import PointsScorecard, history_learner
from pipeline.safe_csv import write_text

if TYPE_CHECKING:
    from pipeline.pages.render import MarkdownTable


class ReleaseExistsError(FileExistsError):
    """The target model file exists; released files are never edited."""


@dataclass
class Release:
    card: Scorecard
    comparison: pd.DataFrame
    reliability: pd.DataFrame
    history: pd.DataFrame
    windows: list[Window]
    in_use: str = "the card in use"
    """The configured card the learned one is compared with (the comparison's "expert scorecard")."""

    @property
    def advice(self) -> str:
        """Whether to switch to the card, in one paragraph for a data lead: the rule of docs/data-lead-guide.md (at
        least level with the card in use at capacity, in its ranking and its published list, over the windows)."""
        if self.card.kind != "learned":
            return (
                f"Its points are those of {self.in_use}, so it lists the same pupils; only the chance each score "
                "stands for (the shortlist's \"about N%\") was fitted, to this trust's history. Use it for chances "
                "fitted to your pupils."
            )
        if "precision_at_capacity" not in self.comparison.columns:  # no evaluation window at all
            return "No half-term of the history could judge it against the card in use: keep the card in use."
        at_capacity = self.comparison.pivot_table(index="window", columns="model", values="precision_at_capacity")
        needed = [
            "learned scorecard",
            "expert scorecard",
            "learned scorecard" + PUBLISHED,
            "expert scorecard" + PUBLISHED,
        ]
        if at_capacity.empty or not set(needed) <= set(at_capacity.columns):
            return "No half-term of the history could judge it against the card in use: keep the card in use."
        mean = at_capacity[needed].mean()
        level = mean["learned scorecard"] >= mean["expert scorecard"] and (
            mean["learned scorecard" + PUBLISHED] >= mean["expert scorecard" + PUBLISHED]
        )
        won = int((at_capacity["learned scorecard"] >= at_capacity["expert scorecard"]).sum())
        found = (
            f"On this trust's own history its lists held {100 * mean['learned scorecard']:.1f} pupils with the "
            f"outcome per 100 places, against {100 * mean['expert scorecard']:.1f} for {self.in_use} (mean over "
            f"{len(at_capacity)} half-terms; at least level in {won} of them)"
        )
        if level:
            return f"**Switch to it.** {found}. To use it, name it as `scorecard` in the settings file."
        return f"**Keep {self.in_use}.** {found}. Learn again next term, when the history is longer."


def evaluation_data(
    con: duckdb.DuckDBPyConnection, settings: Settings, until: dt.date | None = None
) -> tuple[pd.DataFrame, list[Window]]:
    """The history (features and outcomes per past night) and the rolling-origin windows over it."""
    nights = history_nights(con, settings, until=until)
    data = history(con, nights, settings)
    if until is not None:
        every = data
        data = training_rows(every, until + dt.timedelta(days=1))
        if data.empty:
            first = min(pd.to_datetime(every["horizon_end"]).dt.date)
            raise ValueError(
                f"no past night's outcome horizon ends by {until} (--train-until): the first ends on {first}; give "
                "that date or a later one"
            )
    days = [row[0] for row in con.execute(SCHOOL_DAYS).fetchall()]
    return data, windows(sorted(set(pd.to_datetime(data["as_of"]).dt.date)), days)


def fit_release(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    name: str,
    train_until: dt.date | None = None,
    version: str = "1.0.0",
    progress: Callable[[str], None] | None = None,
    keep_points: bool = False,
) -> Release:
    """Fit the learned scorecard on every night whose horizon ended by ``train_until``; evaluate all five models
    (``progress`` is told as each evaluation window starts).

    ``keep_points``: instead of learning points, keep the configured card's points and bands as released and refit
    only its chance curve (the logistic curve of the outcome on the score) on the same nights: for an expert card
    such as v5, whose curve is a prior."""
    template = Scorecard.load(settings.scorecard)
    data, all_windows = evaluation_data(con, settings, train_until)
    comparison, reliability = evaluate(data, all_windows, template, settings, progress)
    outcome = data["outcome"].astype(int)
    nights = sorted(set(pd.to_datetime(data["as_of"]).dt.date))
    trained = (
        f"{len(data):,} pupil-nights ({data['school_id'].nunique()} schools, {len(nights)} nights from {nights[0]} "
        f"to {nights[-1]}) for the outcome: {outcome_text(settings)}"
    )
    if keep_points:
        fitted = PointsScorecard(card=template).fit(data, outcome).card_
        description = (
            f"The points and bands of {template.name} {template.version} as released, with its chance curve "
            f"refitted on {trained}."
        )
    else:
        fitted = history_learner(template).fit(data, outcome).card_
        description = (
            f"Points scorecard learned from {trained}. Features, words and directions of {template.name} "
            f"{template.version}."
        )
    card = dataclasses.replace(
        fitted,
        name=name,
        version=version,
        description=description,
        extra={
            "trained_on": {
                "first_night": nights[0].isoformat(),
                "last_night": nights[-1].isoformat(),
                "pupil_nights": len(data),
                "outcome_rate": round(float(data["outcome"].mean()), 4),
            },
            "outcome": {
                "components": list(settings.outcome),
                "horizon_school_days": settings.outcome_horizon_school_days,
                "persistent_absence": settings.outcome_persistent_absence,
                "grade_drop": settings.outcome_grade_drop,
            },
            "evaluation": [  # (the published list has precision and recall at capacity only)
                {key: value for key, value in row.items() if not pd.isna(value)}
                for row in summary_table(comparison).reset_index().to_dict("records")
            ],
        },
    )
    return Release(card, comparison, reliability, data, all_windows, in_use=f"{template.name} {template.version}")


def write_release(release: Release, path: Path) -> tuple[Path, Path]:
    """Write ``NAME.yaml`` and the model card ``NAME.md``; refuse to overwrite either."""
    card_path = path.with_suffix(".md")
    for target in (path, card_path):
        if target.exists():
            raise ReleaseExistsError(f"{target} exists; released files are never edited: choose a new --out name")
    # A released scorecard and its card hold no pupil data: readable by all (0644), written durably.
    write_text(
        f"# {'Learned scorecard' if release.card.kind == 'learned' else 'Scorecard'}, written by `mentor fit`. Never "
        "edit a released file: fit a new one.\n" + release.card.to_yaml(),
        path,
        mode=0o644,
    )
    write_text(model_card(release), card_path, mode=0o644)
    return path, card_path


def outcome_text(settings: Settings) -> str:
    words = {
        "persistent_absence": f"persistently absent ({settings.outcome_persistent_absence:.0%} or more of sessions)",
        "suspension": "suspended",
        "fell_below_target": f"falls {settings.outcome_grade_drop:g} grade or more further below target in "
        "English and maths",
    }
    parts = [words[c] for c in settings.outcome]
    return f"within the next {settings.outcome_horizon_school_days} school days the pupil is " + ", or ".join(parts)


def model_card(release: Release, benchmark: Path | None = None) -> str:
    """The model card (Markdown) of ``release``, from ``pipeline/pages/templates/model_card.md``; ``benchmark``:
    the saved real-data table it quotes (default: ``models/learner-benchmark.csv``)."""
    from pipeline.pages.render import MarkdownTable, render

    return render(
        "model_card.md",
        card=release.card,
        advice=release.advice,
        trained=release.card.extra["trained_on"],
        comparison=MarkdownTable.of(release.comparison),
        summary=MarkdownTable.of(summary_table(release.comparison).reset_index()),
        realdata=_realdata_table(benchmark),
    )


def _realdata_table(path: Path | None) -> tuple[MarkdownTable, str, MarkdownTable | None] | None:
    """The learner against other models on public data, from the last saved ``make benchmark-model`` run, as the
    benchmark prints it (without the fit seconds, which are the machine's), with the date it was measured and the
    scorecard against its goals, paired fold by fold (None for a run saved without fold AUCs); None when no run
    was saved."""
    from pipeline.evaluate.realdata import SAVED, against_goals, formatted, goals_formatted, saved_table
    from pipeline.pages.render import MarkdownTable

    table = saved_table(path or SAVED)
    if table is None or table.empty:
        return None
    goals = against_goals(table)
    return (
        MarkdownTable.of(formatted(table).drop(columns="fit s/fold")),
        str(table["measured_on"].iloc[0]),
        None if goals.empty else MarkdownTable.of(goals_formatted(goals)),
    )
