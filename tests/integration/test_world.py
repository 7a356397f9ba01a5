"""The independent world of known futures: contract-valid exports, deterministic truth, per-school evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.config import ROOT, Settings
from pipeline.contract import EXPORT_FILES
from pipeline.evaluate import expected_calibration_error
from pipeline.evaluate.futures import (
    BASELINES,
    CHALLENGER,
    NO_HISTORY,
    YEAR_OF_HISTORY,
    FutureWorld,
    evaluate_world,
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
        assert sorted(p.name for p in (world.exports / school).iterdir()) == sorted(f.name for f in EXPORT_FILES)
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
    methods = {
        NO_HISTORY: {"scorecard-v1 (as released)", *BASELINES},
        YEAR_OF_HISTORY: {"learned from scorecard-v1", CHALLENGER, *BASELINES},
    }
    for school, rows in table.groupby("school"):
        for regime, expected in methods.items():
            assert set(rows[rows["regime"] == regime]["method"]) == expected, (school, regime)
    assert table["precision_at_capacity"].between(0, 1).all()
    assert (table["capacity"] == 5).all()  # 60 pupils: the minimum capacity
    totals = summary(table)
    assert set(totals["method"]) == {"scorecard-v1 (as released)", "learned from scorecard-v1", CHALLENGER, *BASELINES}
    assert (totals["of"] == 3).all()


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
