"""Staff decisions read back (``decisions.csv``, loaded through the normal ingest path with history kept).

The rule, for each pupil's **last** decision dated on or before the night:

- ``referred``: the pupil is *pending* (listed after the new candidates, taking a place) until an intervention of any
  kind starts in the MIS on or after the decision date; then the referral is done and the pupil is treated like
  everyone else (a current mentee fills a place and is reviewed in ``caseload.csv``).
- ``declined``, ``not now`` and ``supported elsewhere``: the pupil is *held* off the shortlist until the review
  date (the decision's own ``review_date``, or ``decision_review_weeks`` after the decision when it has none) or
  until their score rises by ``decision_score_margin`` points or more above the score they had on the first night
  the decision was read. Then they come *back*, marked why.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

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


def read_last_decisions(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, decided_by: dt.date | None = None
) -> pd.DataFrame:
    """The last decision per pupil dated on or before ``decided_by`` (by default the night, ``as_of``; see
    :func:`decisions_until`, and ``sql/last_decisions.sql``)."""
    return con.execute(sql("last_decisions"), {"as_of": as_of, "decided_by": decided_by or as_of}).df()


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


def record_scores(con: duckdb.DuckDBPyConnection, last: pd.DataFrame, scores: pd.DataFrame, as_of: dt.date) -> None:
    """Remember tonight's score of each pupil whose last decision has none recorded (``scores``: school_id, upn,
    score)."""
    if last.empty:
        return
    frame = last[["school_id", "upn", "decision_date"]].merge(scores[["school_id", "upn", "score"]], how="inner")
    if frame.empty:
        return
    con.register("decision_scores_frame", frame)
    try:
        con.execute(sql("record_decision_scores"), {"as_of": as_of})
    finally:
        con.unregister("decision_scores_frame")


def decision_state(decision: Decision, score: int, as_of: dt.date, settings: Settings) -> tuple[str, str]:
    """``(status, text)`` for one pupil: status is ``pending``, ``held``, ``back`` or ``""`` (nothing to act on).

    >>> s = Settings()
    >>> d = Decision("declined", dt.date(2025, 10, 1), None, False, 20)
    >>> decision_state(d, 24, dt.date(2025, 10, 20), s)
    ('held', 'declined on 2025-10-01: off the list until 2025-11-12 unless the score rises by 10 points or more')
    >>> decision_state(d, 31, dt.date(2025, 10, 20), s)
    ('back', 'declined on 2025-10-01: back on the list, score up 11 points since')
    >>> decision_state(d, 20, dt.date(2025, 11, 12), s)
    ('back', 'declined on 2025-10-01: back on the list, review date 2025-11-12 reached')
    """
    on = f"{decision.decision} on {decision.date.isoformat()}"
    if decision.decision == "referred":
        if decision.intervention_since:
            return "", f"{on}: an intervention has started since"
        return "pending", f"{on}: pending until an intervention starts in the MIS"
    if decision.decision not in HOLDING:
        return "", on
    review = decision.review_date or decision.date + dt.timedelta(weeks=settings.decision_review_weeks)
    if as_of >= review:
        return "back", f"{on}: back on the list, review date {review.isoformat()} reached"
    if decision.score_at_decision is not None and score - decision.score_at_decision >= settings.decision_score_margin:
        return "back", f"{on}: back on the list, score up {score - decision.score_at_decision} points since"
    return "held", (
        f"{on}: off the list until {review.isoformat()} unless the score rises by "
        f"{settings.decision_score_margin} points or more"
    )


def decision_states(last: pd.DataFrame, scores: pd.DataFrame, as_of: dt.date, settings: Settings) -> pd.DataFrame:
    """``decision_status`` and ``last_decision`` for every pupil with a decision (columns of
    :data:`DECISION_COLUMNS`); ``scores`` has school_id, upn and tonight's score."""
    joined = last.merge(scores[["school_id", "upn", "score"]], on=["school_id", "upn"], how="inner")
    rows = []
    for row in joined.to_dict("records"):
        decision = Decision(
            decision=str(row["decision"]),
            date=pd.Timestamp(row["decision_date"]).date(),
            review_date=None if pd.isna(row["review_date"]) else pd.Timestamp(row["review_date"]).date(),
            intervention_since=bool(row["intervention_since"]),
            score_at_decision=None if pd.isna(row["score_at_decision"]) else int(row["score_at_decision"]),
        )
        status, text = decision_state(decision, int(row["score"]), as_of, settings)
        rows.append({"school_id": row["school_id"], "upn": row["upn"], "decision_status": status,
                     "last_decision": text})  # fmt: skip
    return pd.DataFrame(rows, columns=DECISION_COLUMNS)
