"""Staff decisions read back (``decisions.csv``, loaded through the normal ingest path with history kept).

The rule, for each pupil's **last** decision dated on or before the night:

- ``referred``: the pupil is *pending* (listed after the new candidates, taking a place) until mentoring (an
  intervention named in ``mentor_interventions``) starts in the MIS on or after the decision date; then the referral
  is done and the pupil is treated like everyone else (a current mentee fills a place and is reviewed in
  ``caseload.csv``). Another intervention started since is named beside the pending referral.
- ``declined``, ``not now`` and ``supported elsewhere``: the pupil is *held* off the shortlist until the review
  date (the decision's own ``review_date``, or ``decision_review_weeks`` after the decision when it has none) or
  until their score has risen by ``decision_score_margin`` points or more above the score on the list staff decided
  on (the latest night before the decision's date) on any night since. Then they come *back*, marked why, and stay
  back until the next decision.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from pipeline.config import Settings
from pipeline.sql import sql_file
from pipeline.warehouse import latest_mark

HOLDING = ("declined", "not now", "supported elsewhere")
DECISION_COLUMNS = ["school_id", "upn", "decision_status", "last_decision"]


def sql(name: str) -> str:
    return sql_file("pipeline.caseload", f"{name}.sql")


@dataclass(frozen=True)
class Decision:
    """One pupil's last decision, as :func:`read_last_decisions` returns it."""

    decision: str
    date: dt.date
    review_date: dt.date | None
    intervention_since: bool
    score_at_decision: int | None
    back_since: dt.date | None = None
    """The first night since the decision whose score had risen by the margin or more (None: none has)."""
    score_then: int | None = None
    """The score on ``back_since``."""
    other_since: str | None = None
    """The first intervention other than mentoring started since the decision, and its start date."""
    other_since_date: dt.date | None = None
    mentoring_started: dt.date | None = None
    """When mentoring started since the decision, and (once every mentoring since has ended) when it ended."""
    mentoring_ended: dt.date | None = None


def read_last_decisions(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    settings: Settings,
    scorecard: str,
    decided_by: dt.date | None = None,
) -> pd.DataFrame:
    """The last decision per pupil dated on or before ``decided_by`` (by default the night, ``as_of``; see
    :func:`decisions_until`), with the scores under ``scorecard`` (a card's fingerprint) that the rule reads
    (``sql/last_decisions.sql``; tonight's scores recorded first with :func:`record_night_scores`). Give the
    points fingerprint the scores were recorded under."""
    params = {
        "as_of": as_of,
        "decided_by": decided_by or as_of,
        "names": settings.mentor_names,
        "scorecard": scorecard,
        "margin": settings.decision_score_margin,
    }
    return con.execute(sql("last_decisions"), params).df()


def decisions_until(con: duckdb.DuckDBPyConnection, night: dt.date, today: dt.date) -> dt.date:
    """The last day whose staff decisions act on the night's lists: the night itself when it reproduces an earlier
    night, and today on the warehouse's latest night of marks. Staff decide on the list they were given, often after
    its night: in a holiday the marks stop at the last school day, and a decision made in the holiday must act on the
    next list, not wait for the next mark.

    >>> con = duckdb.connect()
    >>> _ = con.execute("create table attendance as select date '2025-10-24' as date")
    >>> decisions_until(con, dt.date(2025, 10, 24), dt.date(2025, 10, 29))
    datetime.date(2025, 10, 29)
    >>> decisions_until(con, dt.date(2025, 10, 17), dt.date(2025, 10, 29))
    datetime.date(2025, 10, 17)
    """
    latest = latest_mark(con, today)
    return max(night, today) if latest is not None and night >= latest else night


FORGET_NIGHT_SCORES = """
delete from night_scores
where as_of = $as_of::date and school_id in (select distinct school_id from night_scores_frame)
"""
RECORD_NIGHT_SCORES = """
insert into night_scores
select school_id, upn, $as_of::date, $scorecard, score from night_scores_frame
"""
"""Tonight's scores of the schools being published, in place of any made for the same night before
(FORGET_NIGHT_SCORES)."""
RELABEL_NIGHT_SCORES = """
update night_scores set scorecard = $points where scorecard = $whole
"""
"""Scores kept under a card's whole fingerprint (before 7 December 2026) are kept under its points fingerprint."""
KEPT_UNDER = "select distinct scorecard from night_scores"


def record_night_scores(
    con: duckdb.DuckDBPyConnection,
    scores: pd.DataFrame,
    as_of: dt.date,
    scorecard: str,
    relabel: Callable[[], Mapping[str, str]] | None = None,
) -> None:
    """Keep tonight's score of every pupil (``scores``: school_id, upn, score) under ``scorecard`` (a card's
    :meth:`~pipeline.model.card.Scorecard.points_fingerprint`: scores compare across cards that score alike),
    replacing the same night's scores of the same schools (a night made again).

    ``relabel`` gives the cards a warehouse may have kept scores under before, whole fingerprint -> points
    fingerprint (:func:`pipeline.model.card.points_fingerprints`); called only when scores are kept under another
    key than ``scorecard``, and their rows under a whole fingerprint it knows are moved under the points one. The
    scores of v6, kept under v6's whole fingerprint, so compare with v7's (the same points)."""
    con.register("night_scores_frame", scores[["school_id", "upn", "score"]])
    try:
        kept = {str(row[0]) for row in con.execute(KEPT_UNDER).fetchall()}
        if relabel is not None and kept - {scorecard}:
            for whole, points in relabel().items():
                if whole in kept and whole != points:
                    con.execute(RELABEL_NIGHT_SCORES, {"points": points, "whole": whole})
        con.execute(FORGET_NIGHT_SCORES, {"as_of": as_of})
        con.execute(RECORD_NIGHT_SCORES, {"as_of": as_of, "scorecard": scorecard})
    finally:
        con.unregister("night_scores_frame")


def decision_state(
    decision: Decision, score: int, as_of: dt.date, settings: Settings, night: dt.date | None = None
) -> tuple[str, str]:
    """``(status, text)`` for one pupil: status is ``pending``, ``held``, ``back`` or ``""`` (nothing to act on).
    ``score`` is tonight's, ``as_of`` the day decisions count to (:func:`decisions_until`), ``night`` the list's
    night when that is earlier.

    >>> s = Settings()
    >>> d = Decision("declined", dt.date(2025, 10, 1), None, False, 20)
    >>> decision_state(d, 24, dt.date(2025, 10, 20), s)
    ('held', 'declined on 2025-10-01: off the list until 2025-11-12 unless the score rises by 10 points or more')
    >>> decision_state(d, 31, dt.date(2025, 10, 20), s)
    ('back', 'declined on 2025-10-01: back on the list, score up 11 points since')
    >>> risen = Decision("declined", dt.date(2025, 10, 1), None, False, 20, dt.date(2025, 10, 13), 32)
    >>> decision_state(risen, 24, dt.date(2025, 10, 20), s)[1]
    'declined on 2025-10-01: back on the list since 2025-10-13, when the score was up 12 points'
    >>> decision_state(d, 20, dt.date(2025, 11, 12), s)
    ('back', 'declined on 2025-10-01: back on the list, review date 2025-11-12 reached')
    >>> print(decision_state(d, 20, dt.date(2025, 11, 14), s, night=dt.date(2025, 11, 7))[1])
    declined on 2025-10-01: back on the list, review date 2025-11-12 passed by 2025-11-14, after this list's night
    """
    on = f"{decision.decision} on {decision.date.isoformat()}"
    if decision.decision == "referred":
        if decision.intervention_since:
            started = decision.mentoring_started
            since = f"mentoring started on {started.isoformat()}" if started else "mentoring has started since"
            if decision.mentoring_ended is not None:
                return "", f"{on}: {since} and ended on {decision.mentoring_ended.isoformat()}"
            return "", f"{on}: {since}"
        other = (
            f" ({decision.other_since} started on {decision.other_since_date.isoformat()}, not mentoring)"
            if decision.other_since and decision.other_since_date
            else ""
        )
        return "pending", f"{on}: pending until mentoring starts in the MIS{other}"
    if decision.decision not in HOLDING:
        return "", on
    review = decision.review_date or decision.date + dt.timedelta(weeks=settings.decision_review_weeks)
    if as_of >= review:
        if night is not None and review > night:
            return (
                "back",
                f"{on}: back on the list, review date {review.isoformat()} passed by {as_of.isoformat()}, "
                "after this list's night",
            )
        return "back", f"{on}: back on the list, review date {review.isoformat()} reached"
    at = decision.score_at_decision
    if at is not None and score - at >= settings.decision_score_margin:
        return "back", f"{on}: back on the list, score up {score - at} points since"
    if at is not None and decision.back_since is not None and decision.score_then is not None:
        return "back", (
            f"{on}: back on the list since {decision.back_since.isoformat()}, when the score was up "
            f"{decision.score_then - at} points"
        )
    return "held", (
        f"{on}: off the list until {review.isoformat()} unless the score rises by "
        f"{settings.decision_score_margin} points or more"
    )


def _date(value: Any) -> dt.date | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def _whole(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _text(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


def decision_states(
    last: pd.DataFrame, scores: pd.DataFrame, as_of: dt.date, settings: Settings, night: dt.date | None = None
) -> pd.DataFrame:
    """``decision_status`` and ``last_decision`` for every pupil with a decision (columns of
    :data:`DECISION_COLUMNS`); ``scores`` has school_id, upn and tonight's score; ``as_of`` and ``night`` as for
    :func:`decision_state`."""
    joined = last.merge(scores[["school_id", "upn", "score"]], on=["school_id", "upn"], how="inner")
    rows = []
    for row in joined.to_dict("records"):
        decision = Decision(
            decision=str(row["decision"]),
            date=pd.Timestamp(row["decision_date"]).date(),
            review_date=_date(row["review_date"]),
            intervention_since=bool(row["intervention_since"]),
            score_at_decision=_whole(row["score_at_decision"]),
            back_since=_date(row.get("back_since")),
            score_then=_whole(row.get("score_then")),
            other_since=_text(row.get("other_since")),
            other_since_date=_date(row.get("other_since_date")),
            mentoring_started=_date(row.get("mentoring_started")),
            mentoring_ended=_date(row.get("mentoring_ended")),
        )
        status, text = decision_state(decision, int(row["score"]), as_of, settings, night)
        rows.append({"school_id": row["school_id"], "upn": row["upn"], "decision_status": status,
                     "last_decision": text})  # fmt: skip
    return pd.DataFrame(rows, columns=DECISION_COLUMNS)
