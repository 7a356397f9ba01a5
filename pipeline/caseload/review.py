"""The caseload review: every current mentee, how long they have been mentored, and whether they are improving.

For each pupil with an open intervention named in ``mentor_interventions``: the start date (the earliest open
one), school weeks in mentoring, and three measures in the six school weeks (30 school days, holidays skipped)
before the start against the time since it:
attendance, negative behaviour points per school week (10 possible sessions) and the English and maths gap to
target (working at minus target, in grades; a primary step WTS -> EXS counts as one).

**Status rule.** Each measure is *better*, *worse* or *the same*: attendance by 2 percentage points or more;
behaviour by 1 negative point a school week or more; the gap to target by a third of a grade (a sub-grade) or
more. A measure with no data before or since counts as the same. The status is *improving* when more measures
are better than worse, *worsening* when more are worse than better, *mixed* when as many are better as worse
(attendance up, say, and English and maths further below target), otherwise *no change*; and *too early to
tell* while 10 or fewer possible sessions (the first school week) have passed since the start. A mentee is flagged
``review due`` once they have been mentored for ``review_weeks`` school weeks or more (possible sessions since the
start over 10: holidays and closures do not count).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

import duckdb
import pandas as pd

from pipeline.caseload.decisions import sql
from pipeline.config import Settings
from pipeline.contract import in_primary
from pipeline.model.card import gap_size_text

BEFORE_SCHOOL_DAYS = 30
"""The school days before mentoring started that "before" covers (six school weeks; holidays are skipped)."""
ATTENDANCE_STEP = 0.02
BEHAVIOUR_STEP = 1.0
GAP_STEP = 1 / 3
EARLY_SESSIONS = 10
NOTHING_MOVED = (
    "attendance, behaviour and the gap to target each moved less than counts (2 percentage points, 1 negative point "
    "a week, a third of a {step})"
)
CASELOAD_COLUMNS = (
    "upn", "forename", "surname", "year_group", "reg_group", "start_date", "weeks_in_mentoring",
    "attendance_before", "attendance_since", "behaviour_per_week_before", "behaviour_per_week_since",
    "gap_to_target_before", "gap_to_target_since", "status", "why", "review",
)  # fmt: skip


def read_mentees(con: duckdb.DuckDBPyConnection, as_of: dt.date, settings: Settings) -> pd.DataFrame:
    """Current mentees and their measures before and since the start (``sql/caseload_review.sql``)."""
    names = settings.mentor_names
    params = {"as_of": as_of, "names": names, "before_days": BEFORE_SCHOOL_DAYS}
    return con.execute(sql("caseload_review"), params).df()


def read_mentoring_ended(con: duckdb.DuckDBPyConnection, as_of: dt.date, settings: Settings) -> pd.DataFrame:
    """Pupils whose mentoring ended within the year before ``as_of``, with none open then: school_id, upn and
    ``mentoring_ended`` (``sql/mentoring_ended.sql``)."""
    return con.execute(sql("mentoring_ended"), {"as_of": as_of, "names": settings.mentor_names}).df()


def mentor_like_interventions(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, settings: Settings
) -> dict[str, dict[str, int]]:
    """Open interventions named like mentoring but not in ``mentor_interventions``: school -> name -> pupils. A
    school whose MIS calls learning mentoring otherwise ("Learning Mentor Support") has no current mentee, and its
    mentees are listed as new candidates, unless the name is added to the setting."""
    names = settings.mentor_names
    found: dict[str, dict[str, int]] = {}
    for school, name, pupils in con.execute(
        sql("mentor_like_interventions"), {"as_of": as_of, "names": names}
    ).fetchall():
        found.setdefault(str(school), {})[str(name)] = int(pupils)
    return found


def named_otherwise(school: str, names: Mapping[str, int]) -> str:
    """What to do about a school with no current mentee but open interventions named like mentoring (``names``:
    name -> pupils), in one sentence for the console and report.html."""
    found = "; ".join(f"{n:,} pupil(s) have an open \u201c{name}\u201d" for name, n in names.items())
    return (
        f"school {school}: no current mentee, but {found}: if that is learning mentoring, add its name to "
        "mentor_interventions in the settings (docs/settings.md), or those pupils are listed as new candidates"
    )


def status_of(row: Mapping[Any, Any]) -> tuple[str, str]:
    """``(status, why)`` by the rule in the module docstring.

    >>> status_of({"possible_since": 40, "attendance_before": 0.82, "attendance_since": 0.91,
    ...            "behaviour_before": 2.0, "behaviour_since": 2.5, "gap_before": -1.0, "gap_since": -1.0})
    ('improving', 'attendance up 9.0 percentage points')
    >>> status_of({"possible_since": 40, "attendance_before": 0.17, "attendance_since": 0.86,
    ...            "gap_before": -0.5, "gap_since": -1.0, "year_group": "3"})
    ('mixed', 'attendance up 69.0 percentage points; English and maths further below target by 0.5 steps')
    >>> status_of({"possible_since": 40, "gap_before": -2.0, "gap_since": -1.0, "year_group": "5"})
    ('improving', 'English and maths closer to target by 1 step')
    >>> status_of({"possible_since": 40, "attendance_before": 0.96666, "attendance_since": 0.98844})
    ('improving', 'attendance up 2.1 percentage points')
    >>> status_of({"possible_since": 40, "year_group": "4"})[1].endswith("a third of a step)")
    True
    >>> status_of({"possible_since": 4, "attendance_before": 0.82, "attendance_since": 0.5})
    ('too early to tell', '10 or fewer possible sessions since the start (the first school week)')
    """
    since = number_or_none(row.get("possible_since"))
    if since is None or since <= EARLY_SESSIONS:
        return (
            "too early to tell",
            f"{EARLY_SESSIONS} or fewer possible sessions since the start (the first school week)",
        )
    better: list[str] = []
    worse: list[str] = []
    attendance = _change(row, "attendance_before", "attendance_since")
    if attendance is not None and abs(attendance) >= ATTENDANCE_STEP - 1e-9:
        # the change between the two figures as the caseload shows them (96.7% to 98.8% is 2.1, not 2.2)
        shown = abs(float(_percent(row["attendance_since"])[:-1]) - float(_percent(row["attendance_before"])[:-1]))
        text = f"attendance {'up' if attendance > 0 else 'down'} {shown:.1f} percentage points"
        (better if attendance > 0 else worse).append(text)
    behaviour = _change(row, "behaviour_before", "behaviour_since")
    if behaviour is not None and abs(behaviour) >= BEHAVIOUR_STEP - 1e-9:
        text = f"negative behaviour points {'down' if behaviour < 0 else 'up'} {abs(behaviour):.1f} a week"
        (better if behaviour < 0 else worse).append(text)
    gap = _change(row, "gap_before", "gap_since")
    if gap is not None and abs(gap) >= GAP_STEP - 1e-9:
        text = _gap_words(float(row["gap_before"]), float(row["gap_since"]), in_primary(row.get("year_group")))
        (better if gap > 0 else worse).append(text)
    why = "; ".join(better + worse) or NOTHING_MOVED.format(
        step="step" if in_primary(row.get("year_group")) else "grade"
    )
    if len(better) > len(worse):
        return "improving", why
    if len(worse) > len(better):
        return "worsening", why
    if better:
        return "mixed", why
    return "no change", why


def _gap_words(before: float, since: float, primary: bool) -> str:
    """English and maths' move against target in words: "closer to" or "further below" target while below it; a move
    above target, or across it, says where the pupil is now (above target, "further below" was false).

    >>> _gap_words(-2.0, -1.0, True), _gap_words(-0.5, -1.0, True)
    ('English and maths closer to target by 1 step', 'English and maths further below target by 0.5 steps')
    >>> _gap_words(1.5, 1.17, False)
    'English and maths down 0.3 grades against target, still 1.2 grades above it'
    >>> _gap_words(0.5, -0.17, False)
    'English and maths down 0.7 grades against target, now 0.2 grades below it'
    >>> _gap_words(-0.5, 0.5, True)
    'English and maths up 1 step against target, now 0.5 steps above it'
    >>> _gap_words(0.0, -0.5, True)  # on target before: not "further below"
    'English and maths down 0.5 steps against target, now 0.5 steps below it'
    """
    size = gap_size_text(since - before, primary)
    if before < 0 and since <= 0:
        return f"English and maths {'closer to' if since > before else 'further below'} target by {size}"
    side = "above" if since > 0 else "below"
    where = "on target" if abs(since) < 0.05 else f"{gap_size_text(since, primary)} {side} it"
    still = "still" if before != 0 and (since > 0) == (before > 0) else "now"
    return f"English and maths {'up' if since > before else 'down'} {size} against target, {still} {where}"


def build_caseload(mentees: pd.DataFrame, pupils: pd.DataFrame, as_of: dt.date, settings: Settings) -> pd.DataFrame:
    """One school's ``caseload.csv`` rows: its mentees (from :func:`read_mentees`) with names from ``pupils``
    (the feature table's identity columns), by start date then UPN."""
    identity = pupils[["upn", "forename", "surname", "year_group", "reg_group"]]
    joined = mentees.merge(identity, on="upn", how="inner").sort_values(["start_date", "upn"], kind="mergesort")
    rows = []
    for row in joined.to_dict("records"):
        start = pd.Timestamp(row["start_date"]).date()
        weeks = school_weeks(row.get("possible_since"))
        status, why = status_of(row)
        rows.append(
            {
                "upn": row["upn"],
                "forename": row["forename"],
                "surname": row["surname"],
                "year_group": row["year_group"],
                "reg_group": row["reg_group"],
                "start_date": start.isoformat(),
                "weeks_in_mentoring": weeks,
                "attendance_before": _percent(row.get("attendance_before")),
                "attendance_since": _percent(row.get("attendance_since")),
                "behaviour_per_week_before": _rounded(row.get("behaviour_before")),
                "behaviour_per_week_since": _rounded(row.get("behaviour_since")),
                "gap_to_target_before": _rounded(row.get("gap_before")),
                "gap_to_target_since": _rounded(row.get("gap_since")),
                "status": status,
                "why": why,
                "review": f"review due ({weeks} school weeks)" if weeks >= settings.review_weeks else "",
            }
        )
    return pd.DataFrame(rows, columns=list(CASELOAD_COLUMNS))


def school_weeks(possible_sessions: object) -> int:
    """Whole school weeks in ``possible_sessions`` (the sessions since the start the pupil could attend; 10 a week),
    so that holidays and closures do not count: a start on 2 June read "17 weeks" on 3 October, 11 of them summer.

    >>> school_weeks(119), school_weeks(120), school_weeks(None)
    (11, 12, 0)
    """
    sessions = number_or_none(possible_sessions)
    return 0 if sessions is None else int(sessions // 10)


def _change(row: Mapping[Any, Any], before: str, since: str) -> float | None:
    a, b = number_or_none(row.get(before)), number_or_none(row.get(since))
    return None if a is None or b is None else b - a


def number_or_none(value: object) -> float | None:
    """A value from a feature row as a float, or None where it is missing (None, NA, NaN) or not a number."""
    if value is None or value is pd.NA:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _percent(value: object) -> str:
    number = number_or_none(value)
    return "" if number is None else f"{100 * number:.1f}%"


def _rounded(value: object) -> float | None:
    number = number_or_none(value)
    return None if number is None else round(number, 2)
