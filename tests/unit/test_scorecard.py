"""The points scorecard: bands, points, missing data, calibration and explanations on literal examples."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pipeline.model import PointsScorecard, Scorecard, ScorecardError

V1 = Path(__file__).resolve().parents[2] / "models" / "scorecard-v1.yaml"

ZERO = {
    "attendance_rate_term": 0.97,
    "attendance_change_4wk": 0.0,
    "unauthorised_rate_term": 0.0,
    "longest_absence_spell": 2,
    "negative_points_4wk": 0,
    "suspensions_year": 0,
    "english_grade_gap": 0.5,
    "maths_grade_gap": 0.0,
    "reading_age_gap_months": 3,
}


@pytest.fixture(scope="module")
def card() -> Scorecard:
    return Scorecard.load(V1)


def _pupils(*changes: dict[str, float | None]) -> pd.DataFrame:
    return pd.DataFrame([{**ZERO, **change} for change in changes])


def test_a_pupil_with_no_concerns_scores_zero(card: Scorecard) -> None:
    model = PointsScorecard(card).fit(_pupils({}))
    assert model.score(_pupils({})).tolist() == [0.0]
    assert card.band_of_score(0) == "no concerns"


@pytest.mark.parametrize(
    ("rate", "points", "label"),
    [(0.30, 30, "severe absence"), (0.4999, 30, "severe absence"), (0.5, 20, "persistent absence"),
     (0.842, 20, "persistent absence"), (0.8999, 20, "persistent absence"), (0.9, 6, "below 95% attendance"),
     (0.95, 0, "attendance 95% or more")],
)  # fmt: skip
def test_attendance_bands_follow_the_dfe_thresholds(card: Scorecard, rate: float, points: int, label: str) -> None:
    model = PointsScorecard(card).fit(_pupils({}))
    explained = model.explain(_pupils({"attendance_rate_term": rate}))
    line = explained[explained["feature"] == "attendance_rate_term"].iloc[0]
    assert (line["points"], line["band"]) == (points, label)


def test_missing_values_are_no_data_not_on_target(card: Scorecard) -> None:
    model = PointsScorecard(card).fit(_pupils({}))
    explained = model.explain(_pupils({"english_grade_gap": None, "reading_age_gap_months": np.nan}))
    bands = dict(zip(explained["feature"], explained["band"], strict=True))
    assert bands["english_grade_gap"] == "no English assessment"
    assert bands["reading_age_gap_months"] == "no reading test"


def test_the_explanation_adds_up_to_the_score(card: Scorecard) -> None:
    pupils = _pupils(
        {},
        {"attendance_rate_term": 0.842, "negative_points_4wk": 9, "suspensions_year": 1},
        {"attendance_rate_term": 0.4, "attendance_change_4wk": -0.2, "maths_grade_gap": -2.5},
    )
    model = PointsScorecard(card).fit(pupils)
    totals = model.explain(pupils).groupby("row")["points"].sum()
    assert totals.tolist() == model.score(pupils).tolist() == [0.0, 38.0, 48.0]
    assert card.band_of_score(38) == "high"


def test_probability_follows_the_released_calibration_until_refitted(card: Scorecard) -> None:
    pupils = _pupils({}, {"attendance_rate_term": 0.4})
    released = PointsScorecard(card).fit(pupils)
    p = released.predict_proba(pupils)[:, 1]
    assert p == pytest.approx(1 / (1 + np.exp(-np.array([-3.0, -3.0 + 0.07 * 30]))))
    outcomes = np.array([0, 1])
    refitted = PointsScorecard(card).fit(pupils, outcomes)
    assert refitted.calibration_ != released.calibration_
    assert refitted.predict_proba(pupils)[1, 1] > refitted.predict_proba(pupils)[0, 1]
    # the card it writes reads its chances from the refitted curve, and keeps its own score bands
    released_card, written = released.card_, refitted.card_
    assert [r.score for r in written.risk_table][-1] == card.highest_score
    top = 1 / (1 + np.exp(-(refitted.calibration_[0] + refitted.calibration_[1] * card.highest_score)))
    assert written.risk_table[-1].probability == pytest.approx(top, abs=5e-4)
    assert released_card.risk_table == card.risk_table
    assert written.score_bands == card.score_bands


def test_a_feature_table_without_the_scorecards_features_is_refused(card: Scorecard) -> None:
    with pytest.raises(ScorecardError, match="lacks the scorecard's features: suspensions_year"):
        PointsScorecard(card).fit(_pupils({}).drop(columns="suspensions_year"))


def test_yaml_round_trip_is_exact(card: Scorecard) -> None:
    assert Scorecard.from_dict(card.to_dict()) == card
    assert Scorecard.from_dict(card.to_dict()).fingerprint() == card.fingerprint()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"from": 0.6}, "the first band must start and the last end unbounded"),
        ({"to": 0.8}, "bands must be in order and meet exactly"),
        ({"label": " "}, "every band needs a label"),
    ],
)
def test_broken_bands_are_refused_with_what_to_fix(card: Scorecard, change: dict[str, object], message: str) -> None:
    data = card.to_dict()
    data["features"][0]["bands"][0].update(change)
    with pytest.raises(ScorecardError, match=message):
        Scorecard.from_dict(data)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(calibraton=d.pop("calibration")), r"'calibraton', .* \(did you mean calibration\?\)"),
        (lambda d: d["features"][0].update(missing={"point": 20}), r"'point', .* \(did you mean points\?\)"),
        (lambda d: d["features"][0]["bands"][0].update(points=34.9), "must be a whole number, not 34.9"),
        (lambda d: d["features"][0]["bands"][0].update(points=True), "must be a whole number, not True"),
        (lambda d: d["features"][0]["bands"][0].update(label=None), "every band needs a label"),
        (lambda d: d["features"][0].update(unit="percentage"), "unit must be one of percent, .*, not 'percentage'"),
        (lambda d: d["features"][0].update(reason="{description}: {valeu}"), r"can name only \{description\} and"),
        (lambda d: d["features"][0]["bands"][1].update(to=0.3), "bands must be in ascending order"),
    ],
)
def test_a_hand_edited_card_is_refused_where_it_would_be_scored_otherwise_than_written(
    card: Scorecard, edit: Callable[[dict[str, Any]], None], message: str
) -> None:
    data = card.to_dict()
    edit(data)
    if data["features"][0]["bands"][1].get("to") == 0.3:  # a band running backwards, that still meets its neighbours
        data["features"][0]["bands"][2]["from"] = 0.3
    with pytest.raises(ScorecardError, match=message):
        Scorecard.from_dict(data)


def test_the_released_card_cites_a_source_for_every_feature(card: Scorecard) -> None:
    for feature in card.features:
        assert len(feature.rationale.split()) >= 10, feature.name
    assert {f.focus for f in card.features} >= {"attendance", "behaviour", "attainment", "literacy"}


def test_a_card_loads_from_a_path_given_as_text(card: Scorecard) -> None:
    assert Scorecard.load(str(V1)) == card  # as an analyst types it in a notebook
