"""The independent world of known futures: contract-valid exports, deterministic truth, per-school evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.config import ROOT, Settings
from pipeline.contract import EXPORT_FILES
from pipeline.evaluate import expected_calibration_error
from pipeline.evaluate.cache import cached_world
from pipeline.evaluate.compare import PUBLISHED
from pipeline.evaluate.futures import (
    BASELINES,
    CHALLENGER,
    NO_HISTORY,
    REFITTED,
    YEAR_OF_HISTORY,
    FutureWorld,
    discordant_hits,
    evaluate_world,
    paired_bootstrap_interval,
    score_world,
    sign_test,
    summary,
)
from pipeline.evaluate.world import generate_world, small_world
from pipeline.evaluate.world.tables import make_upn, secondary_grade_text, secondary_grade_value
from pipeline.model import Scorecard
from pipeline.upn import upn_problem

SEED = 5


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> FutureWorld:
    folder = tmp_path_factory.mktemp("world")
    generate_world(small_world(SEED, pupils=60), folder / "exports", folder / "truth")
    return FutureWorld("world", SEED, folder / "exports", folder / "truth")


def test_world_writes_every_contract_file_for_each_school(world: FutureWorld) -> None:
    schools = sorted(p.name for p in world.exports.iterdir())
    assert len(schools) == 3
    for school in schools:
        # every MIS export of the contract; decisions.csv is written by staff, not by an MIS, and the world has none
        mis_exports = sorted(f.name for f in EXPORT_FILES if f.name != "decisions.csv")
        assert sorted(p.name for p in (world.exports / school).iterdir()) == mis_exports
    outcomes = pd.read_csv(world.truth / "outcomes.csv", dtype={"school_urn": str, "upn": str})
    assert sorted(outcomes["school_urn"].unique()) == schools
    components = outcomes[["outcome_persistent_absence", "outcome_suspension", "outcome_fell_below_target"]]
    assert (outcomes["adverse_outcome"] == components.any(axis=1)).all()
    assert 0.05 < outcomes["adverse_outcome"].mean() < 0.8
    assert (outcomes["horizon_possible_sessions"] > 0).all()


def test_outcomes_are_deterministic_per_seed(world: FutureWorld, tmp_path: Path) -> None:
    generate_world(small_world(SEED, pupils=60), tmp_path / "again", tmp_path / "again-truth")
    generate_world(small_world(SEED + 1, pupils=60), tmp_path / "other", tmp_path / "other-truth")
    first = (world.truth / "outcomes.csv").read_bytes()
    assert (tmp_path / "again-truth" / "outcomes.csv").read_bytes() == first
    assert (tmp_path / "other-truth" / "outcomes.csv").read_bytes() != first
    for school in world.exports.iterdir():
        assert (tmp_path / "again" / school.name / "attendance.csv").read_bytes() == (
            school / "attendance.csv"
        ).read_bytes()


@pytest.mark.slow
def test_evaluation_ingests_the_world_and_measures_every_method_in_every_school(world: FutureWorld) -> None:
    v1 = Scorecard.load(ROOT / "models" / "scorecard-v1.yaml")
    result = evaluate_world(world, [v1], Settings())
    # Nothing is quarantined but the rows the world damaged on purpose.
    damaged = json.loads((world.truth / "world.json").read_text())["damaged"]
    quarantined = {f"{r.school_id}/{r.file}": int(r.n) for r in result.quarantined.itertuples()}
    assert quarantined == damaged
    assert sum(damaged.values()) == 5
    table = result.table
    released, learned = "scorecard-v1 (as released)", "learned from scorecard-v1"
    refitted = f"scorecard-v1 {REFITTED}"
    methods = {
        NO_HISTORY: {released, released + PUBLISHED, *BASELINES},
        YEAR_OF_HISTORY: {learned, learned + PUBLISHED, refitted, CHALLENGER, *BASELINES},
    }
    for school, rows in table.groupby("school"):
        for regime, expected in methods.items():
            assert set(rows[rows["regime"] == regime]["method"]) == expected, (school, regime)
        # The released points with refitted chances rank as released; only the chances differ.
        by = rows.set_index("method")
        ranking = ["precision_at_capacity", "recall_at_capacity", "precision_at_2x_capacity", "average_precision"]
        assert by.loc[refitted, ranking].tolist() == by.loc[released, ranking].tolist()
        assert by.loc[refitted, "ece"] != by.loc[released, "ece"]
    assert table["precision_at_capacity"].between(0, 1).all()
    assert (table["capacity"] == 5).all()  # 60 pupils: the minimum capacity
    totals = summary(table)
    assert set(totals["method"]) == set().union(*methods.values())
    assert (totals["of"] == 3).all()


def test_a_cached_world_scores_as_the_world_itself(world: FutureWorld, tmp_path: Path) -> None:
    cards = [Scorecard.load(ROOT / "models" / f"scorecard-v{n}.yaml") for n in (1, 3)]
    built = cached_world("world", SEED, tmp_path, Settings(), learn=False, world=world)
    assert (tmp_path / f"world-{SEED}" / "world.duckdb").exists()
    assert oct((tmp_path / f"world-{SEED}").stat().st_mode & 0o777) == "0o700"
    again = cached_world("world", SEED, tmp_path, Settings(), learn=False)  # read back: nothing to generate
    assert again.as_of == built.as_of
    pd.testing.assert_frame_equal(again.pupils, built.pupils, check_dtype=False)
    scored = score_world(again, cards, Settings())
    pd.testing.assert_frame_equal(scored, evaluate_world(world, cards, Settings(), learn=False).table)
    released = {f"scorecard-v{n} (as released)" for n in (1, 3)}
    assert set(scored["method"]) == released | {name + PUBLISHED for name in released} | set(BASELINES)
    measures = ["precision_at_capacity", "recall_at_capacity", "precision_at_2x_capacity", "average_precision"]
    assert scored[measures].apply(lambda c: c.between(0, 1)).all().all()


def test_the_summary_counts_wins_ties_and_losses_against_the_better_baseline() -> None:
    rows = []
    for seed, (ours, abc, attendance) in enumerate(
        [(0.9, 0.8, 0.85), (0.8, 0.8, 0.8), (0.7, 0.6, 0.75), (1.0, 0.5, 0.9)]
    ):
        for method, p in (("v3", ours), ("ABC rules", abc), ("attendance alone", attendance)):
            rows.append({"world": "w", "seed": seed, "school": "1", "regime": NO_HISTORY, "method": method,
                         "precision_at_capacity": p, "recall_at_capacity": p / 2, "precision_at_2x_capacity": p,
                         "average_precision": p, "ece": 0.1})  # fmt: skip
    totals = summary(pd.DataFrame(rows)).set_index("method")
    ours = totals.loc["v3"]
    assert (ours["wins"], ours["ties"], ours["losses"], ours["of"]) == (2, 1, 1, 4)
    assert ours["margin"] == pytest.approx((0.05 + 0 - 0.05 + 0.1) / 4, abs=1e-3)
    assert ours["margin_abc"] == pytest.approx((0.1 + 0 + 0.1 + 0.5) / 4, abs=1e-3)
    assert ours["margin_abc_low"] <= ours["margin_abc"] <= ours["margin_abc_high"]
    assert ours["margin_attendance_low"] >= -0.05 - 1e-9  # no seed below attendance by more than 0.05
    assert ours["margin_attendance_high"] <= 0.1 + 1e-9
    assert ours["margin_low"] <= ours["margin"] <= ours["margin_high"]
    assert ours["sign_test_p"] == sign_test(2, 1) == 1.0
    assert pd.isna(totals.loc["ABC rules", "wins"])
    two = summary(pd.concat([pd.DataFrame(rows), pd.DataFrame(rows).assign(world="x")]))
    pooled = two[(two["world"] == "both") & (two["method"] == "v3")].iloc[0]
    assert (pooled["wins"], pooled["ties"], pooled["losses"], pooled["of"]) == (4, 2, 2, 8)


def _schools_on_seeds() -> pd.DataFrame:
    """School 1 on three seeds (ahead of both baselines on two, level on one), school 2 on one."""
    rows = []
    for school, seed, ours in (("1", 0, 0.9), ("1", 1, 0.8), ("1", 2, 0.95), ("2", 0, 0.5)):
        for method, p in (("v3", ours), ("ABC rules", 0.8), ("attendance alone", 0.7)):
            rows.append({"world": "world", "seed": seed, "school": school, "phase": f"phase {school}",
                         "regime": NO_HISTORY, "method": method,
                         "precision_at_capacity": p, "recall_at_capacity": p / 2, "precision_at_2x_capacity": p,
                         "average_precision": p, "ece": 0.1})  # fmt: skip
    return pd.DataFrame(rows)


def test_the_summary_by_school_judges_each_school_over_its_seeds() -> None:
    """Judged per school, only school 1 has several seeds to judge it on."""
    table = _schools_on_seeds()
    by_school = summary(table, by="school")
    assert set(by_school["school"]) == {"1"}
    assert set(by_school["world"]) == {"world"}
    ours = by_school.set_index("method").loc["v3"]
    assert (ours["wins"], ours["ties"], ours["losses"], ours["of"]) == (2, 1, 0, 3)
    assert ours["margin"] == pytest.approx((0.1 + 0 + 0.15) / 3, abs=1e-3)
    assert summary(table).set_index("method").loc["v3", "of"] == 4  # every school-seed, school 2 included
    assert summary(table.assign(world=table["seed"].map({0: "w", 1: "w", 2: "x"})), by="school")["of"].max() == 2
    by_phase = summary(table, by="phase").set_index(["phase", "method"])  # every school-seed of its kind
    assert by_phase.loc[("phase 2", "v3"), "of"] == 1
    assert by_phase.loc[("phase 1", "v3"), "wins"] == 2


def test_mentor_evaluate_writes_the_summary_by_school_beside_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    import pipeline.evaluate.futures as futures
    from pipeline.cli import app

    monkeypatch.setattr(futures, "measure_all", lambda *args, **kwargs: _schools_on_seeds())
    card = ["--card", str(ROOT / "models/scorecard-v3.yaml")]
    result = CliRunner().invoke(app, ["evaluate", "--world", "0", "--world", "1", *card, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    by_school = pd.read_csv(tmp_path / "futures-by-school.csv", dtype={"school": str})
    assert set(by_school["school"]) == {"1"}
    assert by_school["of"].max() == 3
    assert len(pd.read_csv(tmp_path / "futures.csv")) == len(_schools_on_seeds())
    headers = [line.split()[:3] for line in result.output.splitlines() if line.strip()]
    assert ["world", "school", "regime"] in headers  # the per-school summary is printed too
    monkeypatch.setattr(futures, "measure_all", lambda *args, **kwargs: _schools_on_seeds().query("seed == 0"))
    result = CliRunner().invoke(app, ["evaluate", "--world", "0", *card, "--out", str(tmp_path / "one")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "one/futures-summary.csv").exists()
    assert (tmp_path / "one/futures-by-phase.csv").exists()
    assert not (tmp_path / "one/futures-by-school.csv").exists()  # no school on two seeds: nothing to judge


def test_two_lists_are_compared_on_the_pupils_only_one_of_them_lists() -> None:
    """Ten places each, eight pupils shared: the lists differ by two pupils each, so their precisions differ by
    0.2 at most, and two pupils to none is not beyond noise; ten to none is."""
    outcome = np.array([1] * 8 + [1, 1, 0, 0] + [1] * 8 + [0] * 8)
    ours, theirs = np.arange(12), np.r_[np.arange(8), 10, 11, 0, 1]
    assert discordant_hits(outcome, ours, theirs, 10) == (2, 0, 0.5)  # pupils 8 and 9 against 10 and 11
    assert discordant_hits(outcome, theirs, ours, 10) == (0, 2, 0.5)
    found = np.r_[np.arange(12, 20), 8, 9]  # ten pupils with the outcome
    missed = np.r_[np.arange(20, 28), 10, 11]  # ten others, none with it, none on the first list
    assert discordant_hits(outcome, found, missed, 10)[:2] == (10, 0)
    assert discordant_hits(outcome, found, missed, 10)[2] < 0.05


def test_the_summary_counts_school_seeds_beyond_noise_either_way() -> None:
    rows = []
    for seed, (below, above) in enumerate([(True, False), (False, True), (False, False), (False, False)]):
        for method in ("v3", *BASELINES):
            flags = {"below_beyond_noise": below, "above_both_beyond_noise": above} if method == "v3" else {}
            rows.append({"world": "w", "seed": seed, "school": "1", "regime": NO_HISTORY, "method": method,
                         "precision_at_capacity": 0.8, "recall_at_capacity": 0.4, "precision_at_2x_capacity": 0.8,
                         "average_precision": 0.8, "ece": 0.1, **flags})  # fmt: skip
    totals = summary(pd.DataFrame(rows)).set_index("method")
    assert (totals.loc["v3", "wins_beyond_noise"], totals.loc["v3", "losses_beyond_noise"]) == (1, 1)
    assert pd.isna(totals.loc["ABC rules", "losses_beyond_noise"])


@settings(max_examples=30)
@given(st.lists(st.floats(min_value=-1, max_value=1), min_size=2, max_size=30))
def test_the_bootstrap_interval_holds_the_mean_and_lies_within_the_margins(margins: list[float]) -> None:
    low, high = paired_bootstrap_interval(np.array(margins), resamples=200)
    assert min(margins) - 1e-9 <= low <= float(np.mean(margins)) + 1e-9
    assert float(np.mean(margins)) - 1e-9 <= high <= max(margins) + 1e-9


@given(st.integers(min_value=0, max_value=40), st.integers(min_value=0, max_value=40))
def test_the_sign_test_is_symmetric_and_a_probability(wins: int, losses: int) -> None:
    assert 0 <= sign_test(wins, losses) <= 1  # rounded to 3 places: 0.0 below 0.0005
    assert sign_test(wins, losses) == sign_test(losses, wins)


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_world_upns_pass_the_pipeline_check(body: str) -> None:
    upn = make_upn(int(body[:3]), int(body[3:7]), int(body[7:9]), int(body[9:]))
    assert upn_problem(upn) is None


@given(st.floats(min_value=0.7, max_value=9.0))
def test_fine_grades_round_trip_to_the_nearest_third(value: float) -> None:
    assert abs(secondary_grade_value(secondary_grade_text(value)) - value) <= 1 / 6 + 1e-9


@settings(max_examples=50)
@given(st.lists(st.tuples(st.booleans(), st.floats(min_value=0, max_value=1)), min_size=1, max_size=50))
def test_ece_is_between_zero_and_one_and_zero_when_calibrated_per_bin(pairs: list[tuple[bool, float]]) -> None:
    outcome = [y for y, _ in pairs]
    probability = [p for _, p in pairs]
    assert 0 <= expected_calibration_error(outcome, probability) <= 1
    exact = [float(y) for y in outcome]
    assert expected_calibration_error(outcome, exact) == pytest.approx(0)
