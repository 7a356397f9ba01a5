"""The matched difference-in-differences estimator on small literal tables (no warehouse)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.impact import ImpactSettings, estimate

BINS = ImpactSettings().bins
FAST = ImpactSettings(bootstrap=200)


def _units(seed: int, treated: int = 30, controls: int = 150) -> pd.DataFrame:
    """One cohort: mentees chosen on a recent fall, and the pupils not chosen."""
    rng = np.random.default_rng(seed)
    n = treated + controls
    base = np.clip(rng.normal(0.93, 0.05, n), 0.5, 1.0)
    frame = pd.DataFrame(
        {
            "school_id": "100001",
            "start_date": dt.date(2025, 1, 6),
            "upn": [f"P{k:04d}" for k in range(n)],
            "treated": np.arange(n) < treated,
            "other_mentoring": False,
            "disadvantaged": rng.random(n) < 0.3,
            "sen": rng.random(n) < 0.15,
            "gap_before": rng.normal(-0.3, 0.5, n),
            "gap_change": rng.normal(0, 0.3, n),
            "post_days": 30,
            "possible_share_post": 1.0,
        }
    )
    fall = np.where(frame["treated"], rng.uniform(0.0, 0.15, n), rng.uniform(0.0, 0.12, n))
    for k in range(1, BINS + 1):
        frame[f"att_b{k}"] = np.clip(base - (fall if k == 1 else 0) + rng.normal(0, 0.03, n), 0, 1)
        frame[f"points_b{k}"] = rng.poisson(1.0, n).astype(float)
    frame["att_pre"] = frame[[f"att_b{k}" for k in (1, 2, 3)]].mean(axis=1)
    frame["points_pre"] = frame[[f"points_b{k}" for k in (1, 2, 3)]].sum(axis=1)
    frame["att_post"] = np.clip(base + rng.normal(0, 0.03, n), 0, 1)
    frame["points_post"] = rng.poisson(3.0, n).astype(float)
    return frame


def _overall(table: pd.DataFrame, outcome: str, naive: bool = False) -> float:
    rows = table[(table["outcome"] == outcome) & (table["barrier"] == "all")]
    rows = rows[rows["method"].str.startswith("naive") == naive]
    return float(rows["estimate"].iloc[0])


def test_too_few_starts_says_so_instead_of_a_number() -> None:
    result = estimate(_units(1, treated=5), FAST)
    assert result.matched is None
    assert result.table["estimate"].isna().all()
    assert result.table["note"].str.startswith("too few learning-mentor starts").all()
    assert set(result.table["treated"]) == {5}


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 1000), effect=st.floats(-0.1, 0.1))
def test_an_effect_added_to_the_mentees_moves_the_estimate_by_exactly_that(seed: int, effect: float) -> None:
    units = _units(seed)
    shifted = units.copy()
    shifted.loc[shifted["treated"], "att_post"] += effect
    before = _overall(estimate(units, FAST).table, "attendance")
    after = _overall(estimate(shifted, FAST).table, "attendance")
    assert after - before == pytest.approx(100 * effect, abs=2e-3)


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 1000), shift=st.floats(-0.05, 0.05))
def test_a_change_shared_by_every_pupil_moves_only_the_naive_change(seed: int, shift: float) -> None:
    units = _units(seed)
    shifted = units.assign(att_post=units["att_post"] + shift)
    table, moved = estimate(units, FAST).table, estimate(shifted, FAST).table
    assert _overall(moved, "attendance") == pytest.approx(_overall(table, "attendance"), abs=2e-3)
    naive_moved = _overall(moved, "attendance", naive=True) - _overall(table, "attendance", naive=True)
    assert naive_moved == pytest.approx(100 * shift, abs=2e-3)


def test_the_report_section_reads_the_table_in_words() -> None:
    from pipeline.report.html import impact_section

    table = pd.DataFrame(
        {
            "outcome": ["attendance", "attendance", "attainment_gap"],
            "barrier": ["all", "all", "all"],
            "estimate": [2.5, 9.0, None],
            "ci_low": [0.5, 6.0, None],
            "ci_high": [4.5, 12.0, None],
            "treated": [120, 120, 8],
            "controls": [300, 0, 0],
            "method": ["matched: ...", "naive: ...", "matched: ..."],
            "unit": ["", "", ""],
            "note": ["", "", "too few mentees with this outcome (8; at least 20 are needed): no estimate"],
        }
    )
    from pipeline.pages.render import render

    impact = impact_section(table)
    section = render(impact.template, section=impact)
    assert "Does mentoring work?" in section
    assert "+2.50 percentage points (95% interval +0.50 to +4.50)" in section
    assert '<tr class="warn">' in section
    assert "the mentees alone, before against after" in section
    assert "too few mentees with this outcome (8; at least 20 are needed)" in section
    assert "not a randomised trial" in section
