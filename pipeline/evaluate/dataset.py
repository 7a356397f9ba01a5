"""Historical training and evaluation data: features as of past nights, with the outcome that followed each.

No leakage by construction: the features for a night are built by the same SQL as the nightly run, which reads
only rows dated on or before that night; the labels read only the school days after it (the horizon). A night is
used only when the warehouse holds its whole horizon, so no label is cut short.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass

import duckdb
import pandas as pd

from pipeline.config import Settings
from pipeline.features import build_features
from pipeline.model.card import Scorecard
from pipeline.sql import sql_file

SCHOOL_DAYS = """
select distinct date from attendance
where category in ('present', 'approved_activity', 'authorised', 'unauthorised')
order by date
"""


def outcome_labels(con: duckdb.DuckDBPyConnection, as_of: dt.date, settings: Settings) -> pd.DataFrame:
    """One row per pupil on roll on ``as_of``: each outcome component (``outcome_persistent_absence``,
    ``outcome_suspension``, ``outcome_fell_below_target``), ``outcome`` (any of the configured ones) and
    ``horizon_complete`` (the warehouse holds the whole horizon, so the label is final)."""
    params = {
        "as_of": as_of,
        "horizon_days": settings.outcome_horizon_school_days,
        "persistent_absence": settings.outcome_persistent_absence,
        "grade_drop": settings.outcome_grade_drop,
    }
    labels = con.execute(labels_sql(), params).df()
    labels["outcome"] = labels[[f"outcome_{name}" for name in settings.outcome]].any(axis=1)
    return labels


def history_nights(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    every: int = 10,
    first_day_of_year: int = 15,
    until: dt.date | None = None,
    as_of: dt.date | None = None,
) -> list[dt.date]:
    """Past nights to learn from: every ``every``-th school day, from the ``first_day_of_year``-th school day of
    each academic year (so a term's features mean something), whose whole outcome horizon is in the warehouse (as
    it stood on ``as_of``, when given: its school days up to then), up to ``until``."""
    days = [row[0] for row in con.execute(SCHOOL_DAYS).fetchall() if as_of is None or row[0] <= as_of]
    horizon = settings.outcome_horizon_school_days
    nights = []
    for index, day in enumerate(days[: max(0, len(days) - horizon)]):
        year_start = dt.date(day.year if day.month >= 9 else day.year - 1, 9, 1)
        day_of_year = index + 1 - bisect_left(days, year_start)  # days are distinct and in order
        if day_of_year >= first_day_of_year and (day_of_year - first_day_of_year) % every == 0:
            nights.append(day)
    return [n for n in nights if until is None or n <= until]


NIGHTS_FOR_A_FIRST_CARD = 18
"""Past nights with a known outcome that make a year of history (:func:`history_nights` finds 18-19 in a school
year): what a card learned by ``mentor fit`` was measured on (docs/evaluation.md)."""
NEW_NIGHTS_FOR_A_NEW_CARD = 6
"""Nights newer than a learned card's own that make about a term: time to learn the term's card."""


@dataclass(frozen=True)
class Learnable:
    """What ``mentor fit`` could learn from tonight, for the card in use."""

    nights: int
    """Past nights with a known outcome: every one for an expert card; for a learned card, those after its own."""
    first_night: dt.date | None
    last_night: dt.date | None
    learned_until: dt.date | None
    """A learned card's last night (None for an expert card)."""

    @property
    def worth_fitting(self) -> bool:
        """A year of nights and an expert card, or a term's new nights since a learned card's."""
        if self.learned_until is None:
            return self.nights >= NIGHTS_FOR_A_FIRST_CARD
        return self.nights >= NEW_NIGHTS_FOR_A_NEW_CARD

    def to_json(self) -> dict[str, object]:
        return {
            "nights": self.nights,
            "first_night": self.first_night and self.first_night.isoformat(),
            "last_night": self.last_night and self.last_night.isoformat(),
            "learned_until": self.learned_until and self.learned_until.isoformat(),
            "worth_fitting": self.worth_fitting,
        }


def learnable(con: duckdb.DuckDBPyConnection, settings: Settings, card: Scorecard, as_of: dt.date) -> Learnable:
    """The past nights, as of ``as_of``, that ``mentor fit`` could learn ``card``'s successor from: all of them for
    an expert card; for a learned card, those after the last night it was learned from."""
    trained = card.extra.get("trained_on") if card.kind == "learned" else None
    until = dt.date.fromisoformat(str(trained["last_night"])) if isinstance(trained, dict) else None
    nights = [n for n in history_nights(con, settings, as_of=as_of) if until is None or n > until]
    return Learnable(len(nights), nights[0] if nights else None, nights[-1] if nights else None, until)


def history(con: duckdb.DuckDBPyConnection, nights: Iterable[dt.date], settings: Settings) -> pd.DataFrame:
    """Features and outcomes for each night, stacked: one row per pupil and night, complete horizons only."""
    frames = []
    for night in nights:
        features = build_features(con, night, persist=False).table
        labels = outcome_labels(con, night, settings)
        labels = labels[labels["horizon_complete"]].drop(columns=["as_of"])
        joined = features.merge(labels, on=["school_id", "upn"], how="inner", validate="one_to_one")
        if len(joined):
            frames.append(joined)
    if not frames:
        raise ValueError("no past night has a complete outcome horizon in the warehouse: load more history")
    return pd.concat(frames, ignore_index=True)


def labels_sql() -> str:
    """The outcome labels' SQL (``pipeline/evaluate/sql/outcome_labels.sql``), as :func:`outcome_labels` runs it."""
    return sql_file("pipeline.evaluate", "outcome_labels.sql")


__all__ = ["Learnable", "history", "history_nights", "learnable", "outcome_labels"]
