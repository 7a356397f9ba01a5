"""English school calendars: terms, half-terms, bank holidays and INSET days.

The rules follow the pattern most local authorities publish (autumn half-term in the last week of October,
two weeks at Christmas, February half-term in the third week, Easter fortnight around Good Friday, May
half-term with the spring bank holiday), with 195 school days a year of which 5 are INSET days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from dateutil.easter import easter

SCHOOL_DAYS_PER_YEAR = 195
INSET_DAYS_PER_YEAR = 5

Day = dt.date


def _monday_of(day: Day) -> Day:
    return day - dt.timedelta(days=day.weekday())


def _last_weekday_of_month(year: int, month: int, weekday: int) -> Day:
    next_month = dt.date(year + (month == 12), month % 12 + 1, 1)
    last = next_month - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def _nth_weekday_of_month(year: int, month: int, weekday: int, n: int) -> Day:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _substitute(day: Day, taken: set[Day]) -> Day:
    while day.weekday() >= 5 or day in taken:
        day += dt.timedelta(days=1)
    return day


def bank_holidays(year: int) -> set[Day]:
    """England and Wales bank holidays of a calendar year (the standard rules, no one-off extra days)."""
    days: set[Day] = set()
    days.add(_substitute(dt.date(year, 1, 1), days))
    good_friday = easter(year) - dt.timedelta(days=2)
    days |= {good_friday, good_friday + dt.timedelta(days=3)}
    days.add(_nth_weekday_of_month(year, 5, 0, 1))
    days.add(_last_weekday_of_month(year, 5, 0))
    days.add(_last_weekday_of_month(year, 8, 0))
    christmas = _substitute(dt.date(year, 12, 25), days)
    days.add(christmas)
    days.add(_substitute(dt.date(year, 12, 26), days))
    return days


def _span(first: Day, last: Day) -> set[Day]:
    return {first + dt.timedelta(days=n) for n in range((last - first).days + 1)}


@dataclass(frozen=True)
class AcademicYear:
    """One academic year's calendar for one school."""

    start_year: int
    days: tuple[Day, ...]
    """Every day the school is open or holds an INSET day, in order."""
    inset_days: frozenset[Day]
    half_term: tuple[int, ...]
    """For each day, its half-term: 1-2 autumn, 3-4 spring, 5-6 summer."""

    @property
    def label(self) -> str:
        return f"{self.start_year}-{(self.start_year + 1) % 100:02d}"

    def half_term_bounds(self, half_term: int) -> tuple[Day, Day]:
        days = [d for d, h in zip(self.days, self.half_term, strict=True) if h == half_term]
        return days[0], days[-1]


def academic_year(start_year: int, rng: np.random.Generator | None = None) -> AcademicYear:
    """Build the calendar of the academic year that starts in September of ``start_year``.

    ``rng`` varies the INSET days from school to school; without it the first two days of September, the
    first day of January, the day after the February half-term and the last day of the year are INSET.
    """
    y0, y1 = start_year, start_year + 1
    holidays = bank_holidays(y0) | bank_holidays(y1)
    autumn_break = _last_weekday_of_month(y0, 10, 0)
    christmas_start = _monday_of(dt.date(y0, 12, 25))
    january_return = dt.date(y1, 1, 2)
    while january_return.weekday() != 0:
        january_return += dt.timedelta(days=1)
    february_break = _nth_weekday_of_month(y1, 2, 0, 3)
    good_friday = easter(y1) - dt.timedelta(days=2)
    easter_start = _monday_of(good_friday)
    may_break = _last_weekday_of_month(y1, 5, 0)
    breaks = (
        _span(autumn_break, autumn_break + dt.timedelta(days=4))
        | _span(christmas_start, january_return - dt.timedelta(days=1))
        | _span(february_break, february_break + dt.timedelta(days=4))
        | _span(easter_start, easter_start + dt.timedelta(days=11))
        | _span(may_break, may_break + dt.timedelta(days=4))
    )
    days: list[Day] = []
    day = dt.date(y0, 9, 1)
    while len(days) < SCHOOL_DAYS_PER_YEAR:
        if day.weekday() < 5 and day not in holidays and day not in breaks:
            days.append(day)
        day += dt.timedelta(days=1)

    boundaries = [autumn_break, january_return, february_break, easter_start, may_break]
    half_term = tuple(1 + sum(d >= b for b in boundaries) for d in days)

    first_of = {h: days[half_term.index(h)] for h in range(1, 7)}
    candidates = [
        days[0],
        days[1],
        first_of[3],
        first_of[4],
        first_of[6],
        days[-1],
        days[-2],
        first_of[2],
    ]
    if rng is None:
        inset = [days[0], days[1], first_of[3], first_of[4], days[-1]]
    else:
        # Nearly every school starts with an INSET day; the rest vary.
        rest = rng.choice(np.arange(1, len(candidates)), size=INSET_DAYS_PER_YEAR - 1, replace=False)
        inset = [candidates[0], *(candidates[int(i)] for i in rest)]
    return AcademicYear(start_year, tuple(days), frozenset(inset), half_term)
