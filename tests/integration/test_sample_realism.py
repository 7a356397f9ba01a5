"""The bundled sample behaves like a real trust's exports: national figures and the patterns mentors look for.

Everything here is computed from the CSV files with the tests' own reader (tests/calibration_figures.py), never
from the generator's internals.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from pipeline.codes import ATTENDANCE_CODES, NO_MARK
from pipeline.upn import upn_problem
from tests.calibration_figures import TARGETS, _date, _read, measure, table


@pytest.fixture(scope="module")
def figures(sample_dir: Path) -> dict[str, float]:
    return measure(sample_dir)


@pytest.fixture(scope="module")
def schools(sample_dir: Path) -> dict[str, dict[str, pd.DataFrame]]:
    files = ("pupils", "attendance", "assessments", "behaviour", "exclusions", "interventions")
    loaded = {}
    for school in sorted(p for p in sample_dir.iterdir() if p.is_dir()):
        frames = {name: _read(school / f"{name}.csv") for name in files}
        frames["attendance"]["day"] = _date(frames["attendance"]["date"])
        loaded[school.name] = frames
    return loaded


@pytest.mark.parametrize("name", list(TARGETS))
def test_sample_matches_national_figure(figures: dict[str, float], name: str) -> None:
    target = TARGETS[name]
    assert abs(figures[name] - target.national) <= target.tolerance, table(figures)


def test_one_primary_and_one_secondary_of_about_1200_pupils(schools: dict[str, dict[str, pd.DataFrame]]) -> None:
    on_roll = [f["pupils"][f["pupils"]["leaving_date"].str.strip() == ""] for f in schools.values()]
    assert len(on_roll) == 2
    assert 1000 <= sum(len(p) for p in on_roll) <= 1400
    year_groups = [frozenset(p["year_group"]) for p in on_roll]
    assert set(year_groups) == {frozenset("R123456"), frozenset(["7", "8", "9", "10", "11"])}


def test_every_upn_has_a_valid_check_letter(schools: dict[str, dict[str, pd.DataFrame]]) -> None:
    for frames in schools.values():
        problems = [p for p in frames["pupils"]["upn"].map(upn_problem) if p is not None]
        assert problems == []
        assert frames["pupils"]["upn"].is_unique


def test_every_mark_is_a_dfe_code_and_two_years_are_covered(schools: dict[str, dict[str, pd.DataFrame]]) -> None:
    for frames in schools.values():
        marks = frames["attendance"]
        assert set(marks["mark"]) <= set(ATTENDANCE_CODES) | NO_MARK
        assert marks["day"].min() <= pd.Timestamp("2024-09-03")
        assert pd.Timestamp("2025-11-03") <= marks["day"].max() <= pd.Timestamp("2025-11-14")
        # Marks for every pupil on roll on 5 INSET days a year are '#': a planned whole-school closure.
        closures = marks[marks["mark"] == "#"].groupby("day")["upn"].count()
        assert 7 <= len(closures) <= 10  # 5 in 2024-25 and 2 to 5 by November 2025
        # The common codes appear with the right ordering of frequencies.
        counts = marks["mark"].value_counts()
        assert counts["I"] > counts["M"] > 0
        assert counts["O"] + counts["N"] > counts["G"] > 0
        assert counts["L"] > counts["U"] > 0
        assert {"C2", "B", "V", "P"} & set(counts.index)


def test_unexplained_n_marks_are_mostly_recent(schools: dict[str, dict[str, pd.DataFrame]]) -> None:
    for frames in schools.values():
        marks = frames["attendance"]
        days = np.sort(marks["day"].unique())
        last_week = marks["day"] >= days[-5]
        n = marks["mark"] == "N"
        assert (n & last_week).sum() > (n & ~last_week).sum() / 20  # recent N are dense
        assert (n & ~last_week).sum() > 0  # and a few stale ones remain, a data-quality signal


def test_unauthorised_absence_leans_to_mondays_and_fridays(schools: dict[str, dict[str, pd.DataFrame]]) -> None:
    marks = pd.concat(f["attendance"] for f in schools.values())
    unauthorised = marks[marks["mark"].isin(["O", "N"])]
    share = unauthorised["day"].dt.day_of_week.isin([0, 4]).mean()
    assert share > 0.46  # 0.40 if absence fell evenly across the week


def test_negative_behaviour_rises_before_suspensions(schools: dict[str, dict[str, pd.DataFrame]]) -> None:
    before, earlier = [], []
    for frames in schools.values():
        incidents = frames["behaviour"].assign(day=lambda b: _date(b["date"]), points=lambda b: b["points"].astype(int))
        negative = incidents[incidents["points"] < 0]
        exclusions = frames["exclusions"].assign(day=lambda e: _date(e["start_date"]))
        for upn, start in exclusions.loc[exclusions["category"] == "SUSP", ["upn", "day"]].itertuples(index=False):
            own = negative[negative["upn"] == upn]
            before.append(-own.loc[own["day"].between(start - pd.Timedelta(days=28), start), "points"].sum())
            window = own["day"].between(start - pd.Timedelta(days=84), start - pd.Timedelta(days=56))
            earlier.append(-own.loc[window, "points"].sum())
    assert len(before) >= 30
    assert np.mean(before) > 1.5 * np.mean(earlier)


def _grade(text: str) -> float:
    primary = {"BLW": 0.0, "PKS": 1.0, "WTS": 2.0, "EXS": 3.0, "GDS": 4.0}
    if text in primary:
        return primary[text]
    if text == "U":
        return 0.0
    return float(text.rstrip("+-")) + (0.33 if text.endswith("+") else -0.33 if text.endswith("-") else 0.0)


def _latest_gap(results: pd.DataFrame) -> pd.Series:
    """Each pupil's mean working-at minus target at the latest data drop of 2024-25."""
    year = results[results["assessment_point"].str.startswith("2024-25")]
    working = year[year["result_type"] == "working_at"]
    latest = working[working["assessment_point"] == sorted(working["assessment_point"].unique())[-1]]
    targets = year[year["result_type"] == "target"]
    merged = latest.merge(targets, on=["upn", "subject"], suffixes=("", "_target"))
    merged["gap"] = merged["result"].map(_grade) - merged["result_target"].map(_grade)
    return merged.groupby("upn")["gap"].mean()


def _secondary(schools: dict[str, dict[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    return next(f for f in schools.values() if (f["assessments"]["result_type"] == "cat4_sas").any())


def test_persistently_absent_pupils_fall_below_target(schools: dict[str, dict[str, pd.DataFrame]]) -> None:
    frames = _secondary(schools)
    marks = frames["attendance"]
    year = marks[(marks["day"] >= "2024-09-01") & (marks["day"] <= "2025-08-31")]
    absent = year["mark"].isin(["I", "M", "O", "N", "G", "E", "C", "R", "T", "U", "C2", "S", "J1", "C1"])
    possible = ~year["mark"].isin(["#", "-", "", "D", "X", "Q", "Z", "Y1"])
    rate = absent.groupby(year["upn"]).sum() / possible.groupby(year["upn"]).sum()
    gap = _latest_gap(frames["assessments"])
    joined = pd.DataFrame({"rate": rate, "gap": gap}).dropna()
    assert joined.loc[joined["rate"] >= 0.10, "gap"].mean() < joined.loc[joined["rate"] < 0.10, "gap"].mean() - 0.4


def test_some_able_pupils_coast_below_target(schools: dict[str, dict[str, pd.DataFrame]]) -> None:
    frames = _secondary(schools)
    results = frames["assessments"]
    ks2 = results[results["result_type"] == "ks2_scaled"].assign(score=lambda r: r["result"].astype(float))
    cat4 = results[(results["result_type"] == "cat4_sas") & (results["subject"] == "Mean")]
    able = set(ks2.groupby("upn")["score"].mean().loc[lambda s: s >= 110].index)
    able |= set(cat4.loc[cat4["result"].astype(float) >= 115, "upn"])
    gap = _latest_gap(results).reindex(sorted(able)).dropna()
    assert len(gap) >= 30
    coasting = (gap <= -1.0).mean()
    assert 0.08 <= coasting <= 0.5


def test_a_minority_already_has_a_learning_mentor(schools: dict[str, dict[str, pd.DataFrame]]) -> None:
    for frames in schools.values():
        support = frames["interventions"]
        ongoing = support[(support["intervention"] == "Learning mentor") & (support["end_date"].str.strip() == "")]
        on_roll = (frames["pupils"]["leaving_date"].str.strip() == "").sum()
        assert 0.01 <= ongoing["upn"].nunique() / on_roll <= 0.10


def test_simulation_truth_is_apart_and_predictable_in_part(
    sample_dir: Path, sample_truth_dir: Path, schools: dict[str, dict[str, pd.DataFrame]]
) -> None:
    assert not any(p.name == "outcomes.csv" for p in sample_dir.rglob("*"))
    assert "SIMULATION TRUTH" in (sample_truth_dir / "README.txt").read_text(encoding="utf-8")
    truth = pd.read_csv(sample_truth_dir / "outcomes.csv", dtype={"upn": str})
    on_roll = pd.concat(f["pupils"].loc[lambda p: p["leaving_date"].str.strip() == "", "upn"] for f in schools.values())
    assert truth["upn"].is_unique
    assert set(truth["upn"]) == set(on_roll)
    assert 0.10 <= truth["adverse_outcome"].mean() <= 0.5
    # Absence this term predicts persistent absence afterwards, imperfectly (as in real schools).
    marks = pd.concat(f["attendance"] for f in schools.values())
    term = marks[marks["day"] >= "2025-09-01"]
    absent = term["mark"].isin(["I", "M", "O", "N", "G", "E", "C", "R", "T", "U", "C2", "S", "J1", "C1"])
    possible = ~term["mark"].isin(["#", "-", "", "D", "X", "Q", "Z", "Y1"])
    rate = absent.groupby(term["upn"]).sum() / possible.groupby(term["upn"]).sum()
    joined = truth.set_index("upn").join(rate.rename("recent")).dropna(subset=["recent", "horizon_absence_rate"])
    auc = roc_auc_score(joined["horizon_persistent_absence"], joined["recent"])
    assert 0.7 < auc < 0.95
