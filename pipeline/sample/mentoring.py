"""Learning mentors in the simulation: who is given one, and what it does to them (issue #24).

Who: on the first school day of each half-term, staff start a learning mentor for some pupils, chosen on what they
can see in the record: a fall in attendance over the last four school weeks against the eight weeks before,
attendance that is low, and recent negative behaviour points. A pupil is mentored at most once. Because much of a
recent fall is chance that would have reversed anyway, the mentees' attendance rises after the start even when
mentoring does nothing: comparing a mentee with themselves before the start is biased (regression to the mean).

What: from the start date on, mentoring lifts the mentee's engagement (which drives absence, lateness, behaviour
and attainment) by an amount that differs between pupils: most for pupils whose barrier is difficult
circumstances, ordinary for disengagement, almost nothing for severe school avoidance; times a pupil's own factor
(log-normal, 30%). The lift lasts while the mentoring runs (25 to 80 school days) and fades over the following weeks.
The average lift is set so that the mentees' attendance rises by about ``effect`` percentage points.

The truth: with a non-zero effect the simulation also keeps the register as it would have been had no pupil been
mentored, drawn from the same random numbers (common random numbers), so a mentee's true effect is the difference
between the two registers over the half-term after the start, with nothing else changed. Suspensions are shared by
the two registers (they follow behaviour, which mentoring also changes), so the true effect leaves out the few
sessions by which mentoring changes suspensions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.sample.simulate import (
    CODE,
    MARKS,
    NOT_ON_ROLL,
    POSSIBLE_MARKS,
    PRESENT_OR_APPROVED,
    REFUSAL_ENGAGEMENT,
    Draws,
    RegisterDay,
    SchoolHistory,
    Spells,
    register_day,
)

MENTOR = "Learning mentor"
RECENT_DAYS = 20
"""School days of the 'last four weeks' that staff look at when they choose mentees."""
BEFORE_DAYS = 40
"""School days before those, the attendance a recent fall is measured against."""
SELECTION = {"base": -4.6, "fall": 7.0, "low": 3.0, "points": 0.05}
"""Log-odds of being given a mentor at a half-term start: base, per unit of attendance fall (recent against
before), per unit of attendance below 95%, per recent negative behaviour point (decayed sum, capped at 20)."""
BARRIER_WEIGHTS = {"circumstances": 1.5, "engagement": 1.0, "school avoidance": 0.0}
"""How much of the average lift each barrier gets (the pupil's own factor multiplies it)."""
LIFT_PER_POINT = 0.33
"""Engagement lift for one percentage point of attendance effect, for the average mentee (calibrated: see
docs/impact.md, "How the simulation was checked")."""
FADE_DAYS = 30.0
"""After the mentoring ends, the lift fades with this time constant (school days)."""
OUTCOMES = ("Completed", "Improved", "No change", "Disengaged")

_ATTENDED = np.array([False] + [m in PRESENT_OR_APPROVED for m in MARKS])
_POSSIBLE = np.array([False] + [m in POSSIBLE_MARKS for m in MARKS])
"""Lookup by mark index + 1 (so that NOT_ON_ROLL, -1, looks up False)."""


@dataclass(frozen=True)
class Mentoring:
    """What mentoring does in a simulated school: ``effect`` is the aimed-for average effect on the mentees'
    attendance over the half-term after the start, in percentage points (0 allowed); ``rng`` draws who is chosen
    and how much each mentee gains, apart from the school's other random draws."""

    effect: float
    rng: np.random.Generator


@dataclass(frozen=True)
class MentoringStart:
    pupil: int
    day: int
    """Index of the start day in the history."""
    length: int
    """School days the mentoring runs."""
    barrier: str
    lift: float
    """Engagement lift while the mentoring runs."""
    outcome: str
    """What the school records when it ends."""


def attendance(marks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Attendance rate and possible sessions per pupil of a (pupils, days, 2) block of marks (NaN if none)."""
    index = marks.astype(np.int16) + 1
    possible = _POSSIBLE[index].sum(axis=(1, 2))
    attended = _ATTENDED[index].sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(possible > 0, attended / np.maximum(possible, 1), np.nan)
    return rate, possible


class Mentors:
    """Chooses mentees at each half-term start, lifts their engagement, and keeps the register without mentoring."""

    def __init__(
        self,
        mentoring: Mentoring,
        pupils: pd.DataFrame,
        dates: np.ndarray,
        year_index: np.ndarray,
        half_term: np.ndarray,
        engagement: np.ndarray,
    ) -> None:
        n, n_days = engagement.shape
        self._effect = mentoring.effect
        self._rng = mentoring.rng
        self._year_index, self._half_term = year_index, half_term
        self._circumstances = pupils["circumstances"].to_numpy()
        self._mentored = np.zeros(n, dtype=bool)
        self._current: tuple[int, int] | None = None
        self.starts: list[MentoringStart] = []
        has_effect = mentoring.effect != 0
        self._base = engagement.copy() if has_effect else None
        self.counterfactual = np.full((n, n_days, 2), NOT_ON_ROLL, dtype=np.int8) if has_effect else None
        self._spells = Spells.none(n)

    def inset_day(self, d: int, roll: np.ndarray) -> None:
        if self.counterfactual is not None:
            self.counterfactual[roll, d] = CODE["#"]

    def choose(
        self, d: int, roll: np.ndarray, marks: np.ndarray, recent_points: np.ndarray, engagement: np.ndarray
    ) -> None:
        """On the first school day of a half-term, start mentors and lift the mentees' engagement from day ``d``."""
        term = (int(self._year_index[d]), int(self._half_term[d]))
        if term == self._current:
            return
        self._current = term
        n, n_days = engagement.shape
        recent, recent_possible = attendance(marks[:, max(0, d - RECENT_DAYS) : d])
        before, before_possible = attendance(marks[:, max(0, d - RECENT_DAYS - BEFORE_DAYS) : max(0, d - RECENT_DAYS)])
        fall = np.where(before_possible >= 20, before - recent, 0.0)
        logit = (
            SELECTION["base"]
            + SELECTION["fall"] * np.nan_to_num(fall)
            + SELECTION["low"] * np.nan_to_num(0.95 - recent)
            + SELECTION["points"] * np.minimum(recent_points, 20)
        )
        eligible = roll & ~self._mentored & (recent_possible >= 20)
        chosen = eligible & (self._rng.random(n) < 1 / (1 + np.exp(-logit)))
        steps = np.arange(n_days - d)
        for i in np.flatnonzero(chosen):
            if engagement[i, d] < REFUSAL_ENGAGEMENT:
                barrier = "school avoidance"
            elif self._circumstances[i] > 1.0:
                barrier = "circumstances"
            else:
                barrier = "engagement"
            lift = LIFT_PER_POINT * self._effect * BARRIER_WEIGHTS[barrier] * float(self._rng.lognormal(0, 0.3))
            length = int(self._rng.integers(25, 80))
            outcome = str(self._rng.choice(OUTCOMES))
            profile = np.where(steps < length, 1.0, np.exp(-(steps - length) / FADE_DAYS))
            engagement[i, d:] += lift * profile
            self._mentored[i] = True
            self.starts.append(MentoringStart(int(i), d, length, barrier, lift, outcome))

    def register_without_mentoring(self, d: int, roll: np.ndarray, day: RegisterDay, draws: Draws) -> None:
        """The day's register had no pupil been mentored, from the same draws as the real one."""
        if self.counterfactual is None or self._base is None:
            return
        register_day(self.counterfactual[:, d, :], roll, self._base[:, d], self._spells, day, draws.replay(), None)


def mentoring_truth(history: SchoolHistory, pupils: pd.DataFrame, end_date: dt.date) -> pd.DataFrame:
    """Each mentee's true effect on attendance over the half-term after the start (percentage points).

    ``complete`` says whether that half-term ended by the extract date (so the exports hold all of it).
    """
    without = history.marks if history.marks_without_mentoring is None else history.marks_without_mentoring
    end = np.datetime64(end_date, "D")
    rows = []
    for start in history.mentoring:
        d = start.day
        same = (history.year_index == history.year_index[d]) & (history.half_term == history.half_term[d])
        window = np.flatnonzero(same & (np.arange(len(history.dates)) >= d))
        block = np.s_[start.pupil : start.pupil + 1, window]
        with_rate, possible = attendance(history.marks[block])
        without_rate, _ = attendance(without[block])
        rows.append(
            {
                "upn": pupils.at[start.pupil, "upn"],
                "start_date": history.dates[d].item(),
                "half_term_end": history.dates[window[-1]].item(),
                "complete": bool(history.dates[window[-1]] <= end),
                "barrier": start.barrier,
                "engagement_lift": round(start.lift, 4),
                "possible_sessions": int(possible[0]),
                "attendance_mentored": float(with_rate[0]),
                "attendance_without_mentoring": float(without_rate[0]),
                "attendance_effect_pp": float(100 * (with_rate[0] - without_rate[0])),
            }
        )
    columns = [
        "upn", "start_date", "half_term_end", "complete", "barrier", "engagement_lift", "possible_sessions",
        "attendance_mentored", "attendance_without_mentoring", "attendance_effect_pp",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)
