import datetime as dt

import numpy as np

from pipeline.sample.calendar import INSET_DAYS_PER_YEAR, SCHOOL_DAYS_PER_YEAR, academic_year, bank_holidays

D = dt.date


def test_bank_holidays_of_2025() -> None:
    assert bank_holidays(2025) == {
        D(2025, 1, 1), D(2025, 4, 18), D(2025, 4, 21), D(2025, 5, 5), D(2025, 5, 26), D(2025, 8, 25),
        D(2025, 12, 25), D(2025, 12, 26),
    }  # fmt: skip


def test_weekend_christmas_is_substituted() -> None:
    # 2027: Christmas Day is a Saturday, Boxing Day a Sunday: the holidays move to Monday 27 and Tuesday 28.
    assert {D(2027, 12, 27), D(2027, 12, 28)} <= bank_holidays(2027)


def test_academic_year_2024_25_has_the_usual_shape() -> None:
    year = academic_year(2024)
    days = set(year.days)
    assert len(year.days) == SCHOOL_DAYS_PER_YEAR
    assert len(year.inset_days) == INSET_DAYS_PER_YEAR
    assert year.days[0] == D(2024, 9, 2)
    assert all(d.weekday() < 5 for d in days)
    assert not days & (bank_holidays(2024) | bank_holidays(2025))
    assert not any(D(2024, 10, 28) <= d <= D(2024, 11, 1) for d in days)  # October half-term
    assert not any(D(2024, 12, 23) <= d <= D(2025, 1, 3) for d in days)  # Christmas
    assert not any(D(2025, 2, 17) <= d <= D(2025, 2, 21) for d in days)  # February half-term
    assert not any(D(2025, 5, 26) <= d <= D(2025, 5, 30) for d in days)  # May half-term
    assert year.half_term_bounds(2) == (D(2024, 11, 4), D(2024, 12, 20))
    assert year.label == "2024-25"


def test_inset_days_vary_by_school_but_always_start_the_year() -> None:
    insets = {academic_year(2025, np.random.default_rng(seed)).inset_days for seed in range(6)}
    assert len(insets) > 1
    assert all(D(2025, 9, 1) in inset for inset in insets)
