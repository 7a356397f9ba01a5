"""The matched difference-in-differences estimator on small literal tables (no warehouse)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.impact import ImpactSettings, estimate, match

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


def _far_from_every_comparison(units: pd.DataFrame, mentees: int) -> pd.DataFrame:
    """``units`` with all but the first ``mentees`` mentees' attendance far below every other pupil's, before the
    start: no comparison pupil is close enough to them."""
    far = units["treated"].to_numpy() & (np.arange(len(units)) >= mentees)
    units = units.copy()
    for k in range(1, BINS + 1):
        units.loc[far, f"att_b{k}"] -= 0.35
    units["att_pre"] = units[[f"att_b{k}" for k in (1, 2, 3)]].mean(axis=1)
    return units


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


def test_when_most_mentees_have_no_close_comparison_the_refusal_and_the_table_say_so() -> None:
    # A school that mentored 100 pupils, 83 of whom no pupil not mentored resembles.
    result = estimate(_far_from_every_comparison(_units(7, treated=100, controls=150), mentees=17), FAST)
    overall = result.table[result.table["barrier"] == "all"]
    assert overall["estimate"].isna().all()
    assert set(overall["starts"]) == {100}
    left_out = int(overall["unmatched"].iloc[0])
    assert left_out >= 75
    assert (overall["treated"] == 100 - left_out).all()
    for note in overall["note"]:
        assert note.startswith(f"too few mentees with this outcome ({100 - left_out}; at least 20 are needed)")
        assert f"{left_out} of the 100 learning-mentor starts had no comparison pupil close enough" in note


def test_renewals_are_not_new_starts_and_too_few_new_starts_is_said_not_raised() -> None:
    # Mentoring recorded one row per half-term: every start on this date renews a mentoring already running.
    units = _units(3, treated=30).assign(other_mentoring=lambda u: u["treated"])
    result = estimate(units, FAST)
    assert result.matched is None
    assert result.table["estimate"].isna().all()
    assert set(result.table["treated"]) == {0}
    for note in result.table["note"]:
        assert note.startswith("too few learning-mentor starts with a full half-term before and after them")
        assert "(0; at least 20 are needed)" in note
        assert "30 more were renewals or re-starts of a mentoring still running" in note


def test_the_report_section_says_how_many_starts_the_estimate_stands_on_and_which_way_is_better() -> None:
    from pipeline.pages.render import render
    from pipeline.report.html import impact_section

    table = pd.DataFrame(
        {
            "outcome": ["attendance", "negative_behaviour_points", "attainment_gap"],
            "barrier": ["all", "all", "all"],
            "estimate": [0.8, -1.5, -0.3],
            "ci_low": [-2.0, -2.5, -0.5],
            "ci_high": [3.5, -0.5, -0.1],
            "treated": [24, 24, 22],
            "controls": [90, 90, 80],
            "starts": [60, 60, 60],
            "unmatched": [36, 36, 36],
            "method": ["matched: ..."] * 3,
            "unit": ["", "", ""],
            "note": ["", "", ""],
        }
    )
    impact = impact_section(table)
    section = render(impact.template, section=impact)
    assert "stands on 24 of 60 learning-mentor starts: 36 had no comparison pupil close enough" in section
    assert "Negative behaviour points (lower is better)" in section
    assert "-1.50 points per 30 school days (95% interval -2.50 to -0.50): the mentees got fewer" in section
    assert "gap to target (higher is better: the gap closed; lower: it widened)" in section
    assert "-0.30 grades (95% interval -0.50 to -0.10): the gap to target widened" in section
    assert "+0.80 percentage points (95% interval -2.00 to +3.50): the data cannot tell" in section


def test_a_cohort_of_renewals_alone_changes_no_mentee_s_match() -> None:
    """Mentoring recorded one row per half-term made a cohort on each renewal's date with no new start in it: its
    pupils, all comparisons, joined the propensity model's fit and moved every match (an outside analyst's sample:
    -0.442 one row per mentoring, +1.118 one row per half-term)."""
    units = _units(3)
    renewals = _units(4, treated=0).assign(start_date=dt.date(2025, 2, 24))
    alone = match(units)
    with_renewals = match(pd.concat([units, renewals], ignore_index=True))
    pd.testing.assert_frame_equal(alone.mentees.reset_index(drop=True), with_renewals.mentees.reset_index(drop=True))
    pd.testing.assert_frame_equal(alone.controls.reset_index(drop=True), with_renewals.controls.reset_index(drop=True))
