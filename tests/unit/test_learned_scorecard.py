"""The learned scorecard: scikit-learn conventions, monotone integer points, calibration; metrics by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from pipeline.config import Settings
from pipeline.evaluate.audit import audit
from pipeline.evaluate.compare import top_at_capacity
from pipeline.model import PointsScorecard, Scorecard
from pipeline.model.learn import band_label, cut_points

CARD = Scorecard.load(Path(__file__).resolve().parents[2] / "models" / "scorecard-v1.yaml")


@parametrize_with_checks([PointsScorecard()])
def test_scikit_learn_conventions(estimator: PointsScorecard, check: object) -> None:
    check(estimator)  # type: ignore[operator]


def test_a_card_learned_from_an_array_explains_an_array_row_by_row() -> None:
    """fit, score and predict took a NumPy array as any scikit-learn estimator does; explain failed on one with an
    AttributeError. Its rows are the array's positions, and each adds up to that row's score."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(400, 3))
    y = (rng.random(400) < 1 / (1 + np.exp(-2 * X[:, 0]))).astype(int)
    model = PointsScorecard().fit(X, y)
    explained = model.explain(X[5:9])
    assert sorted(explained["row"].unique()) == [0, 1, 2, 3]
    assert set(explained["feature"]) <= {"x0", "x1", "x2"}
    assert "x0" in set(explained["feature"])
    totals = explained.groupby("row")["points"].sum().reindex(range(4), fill_value=0).to_numpy()
    assert np.array_equal(totals, model.score(X[5:9]))
    assert explained.equals(model.explain(pd.DataFrame(X[5:9], columns=["x0", "x1", "x2"])))


def _history(n: int = 3000, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({name: np.zeros(n) for name in CARD.feature_names})
    frame["attendance_rate_term"] = rng.beta(12, 1, n)
    frame["negative_points_4wk"] = rng.poisson(1.0, n).astype(float)
    frame["english_grade_gap"] = np.round(rng.normal(-0.3, 0.8, n), 1)
    frame.loc[rng.random(n) < 0.1, "english_grade_gap"] = np.nan
    log_odds = -1.5 + 12 * (0.93 - frame["attendance_rate_term"]) + 0.4 * frame["negative_points_4wk"]
    y = (rng.random(n) < 1 / (1 + np.exp(-log_odds))).astype(int)
    return frame, y


def test_learned_points_are_integers_within_max_points_and_monotone_in_the_declared_direction() -> None:
    X, y = _history()
    model = PointsScorecard(template=CARD, max_points=10).fit(X, y)
    attendance = model.card_.feature("attendance_rate_term")
    points = [b.points for b in attendance.bands]
    assert points == sorted(points, reverse=True)  # lower attendance never scores less
    assert max(points) > 0
    behaviour = [b.points for b in model.card_.feature("negative_points_4wk").bands]
    assert behaviour == sorted(behaviour)
    for feature in model.card_.features:
        for band in feature.bands:
            assert isinstance(band.points, int)
            assert 0 <= band.points <= 10
        assert 0 <= feature.missing_points <= max(b.points for b in feature.bands)
    assert max(max(b.points for b in f.bands) for f in model.card_.features) == 10


def test_learned_card_keeps_the_templates_words_and_reads_back_from_yaml() -> None:
    X, y = _history()
    card = PointsScorecard(template=CARD).fit(X, y).card_
    assert card.kind == "learned"
    assert card.feature("attendance_rate_term").reason == CARD.feature("attendance_rate_term").reason
    again = Scorecard.from_dict(__import__("yaml").safe_load(card.to_yaml()))
    assert again.to_yaml() == card.to_yaml()


def test_probability_rises_with_the_score_and_predict_agrees_with_the_decision_function() -> None:
    X, y = _history()
    model = PointsScorecard(template=CARD).fit(X, y)
    order = np.argsort(model.score(X))
    assert np.all(np.diff(model.predict_proba(X)[order, 1]) >= 0)
    assert np.array_equal(model.predict(X), (model.decision_function(X) > 0).astype(int))
    assert abs(model.predict_proba(X)[:, 1].mean() - y.mean()) < 0.02  # calibrated in the large


def test_a_column_of_text_or_a_name_used_twice_is_refused_and_numbers_written_as_text_are_read() -> None:
    """A category passed as text used to be read as "no data" on every row, without a word; now it is refused by
    name, with how to pass it, and never with a value (it may be a pupil's). Numbers held as text (spaces around
    them or not), blank text and pandas' missing values are read as numbers and "no data"."""
    X, y = _history(n=600)
    as_text = X.assign(tutor_group=np.where(np.arange(600) % 2 == 0, "7X", "7Y"))
    with pytest.raises(ValueError, match=r"column 'tutor_group' holds 600 value\(s\) in 600 rows that are not numbers"):
        PointsScorecard().fit(as_text, y)
    with pytest.raises(ValueError, match=r"pandas\.get_dummies") as refused:
        PointsScorecard(card=CARD).score(as_text.assign(attendance_rate_term="7X"))
    assert "7X" not in str(refused.value)
    written = X.assign(
        negative_points_4wk=X["negative_points_4wk"]
        .map(lambda v: f" {v:g} " if v % 2 else f"{v:g}")  # as a CSV may hold them
        .where(np.arange(600) % 5 > 0, np.where(np.arange(600) % 10 == 0, "", " "))
    )
    numbers = X.assign(negative_points_4wk=X["negative_points_4wk"].where(np.arange(600) % 5 > 0))
    model = PointsScorecard(card=CARD)
    assert np.array_equal(model.score(written), model.score(numbers))
    twice = pd.concat([X, X[["attendance_rate_term"]]], axis=1)
    with pytest.raises(ValueError, match="more than one column named 'attendance_rate_term'"):
        PointsScorecard().fit(twice, y)


def test_a_released_card_keeps_its_points_when_fitted_to_outcomes() -> None:
    X, y = _history()
    released = PointsScorecard(card=CARD).fit(X, y)
    assert released.points(X).equals(PointsScorecard(card=CARD).fit(X).points(X))
    assert released.calibration_ != (CARD.calibration_intercept, CARD.calibration_slope)


def test_cut_points_are_rounded_for_staff() -> None:
    values = np.linspace(0.8, 1.0, 101)
    cuts = cut_points(values, 4, "percent")
    assert cuts == [0.85, 0.9, 0.95]
    assert band_label(None, 0.9, "percent") == "below 90%"
    assert band_label(0.9, 0.95, "percent") == "90% to under 95%"
    assert band_label(2.0, None, "count") == "2 or more"


def test_top_at_capacity_takes_each_schools_top_pupils_on_each_night() -> None:
    pupils = pd.DataFrame(
        {
            "as_of": ["n1"] * 6 + ["n2"] * 6,
            "school_id": ["s"] * 12,
            "upn": [f"U{i:02d}" for i in range(12)],
            "attendance_rate_term": [0.9, 0.8, 0.9, 0.9, 0.9, 0.9] * 2,
            "negative_points_4wk": [0.0] * 12,
        }
    )
    score = np.array([5, 5, 1, 0, 0, 0, 0, 0, 9, 0, 0, 0], dtype=float)
    settings = Settings(capacity_share=0.01, capacity_minimum=2)
    # night 1: U00 and U01 tie on 5 and both are chosen (capacity 2). Night 2: U08 on 9, then five pupils tie on
    # 0 and U07 has the lowest attendance of them.
    assert top_at_capacity(pupils, score, settings).tolist() == [0, 1, 7, 8]


def test_audit_rates_and_ratios_match_hand_counts() -> None:
    attributes = pd.DataFrame({"FSM": ["FSM"] * 4 + ["not FSM"] * 6})
    selected = np.array([1, 1, 0, 0, 1, 0, 0, 0, 0, 0], dtype=bool)
    outcome = np.array([1, 0, 1, 0, 1, 1, 0, 0, 0, 0], dtype=bool)
    table = audit(attributes, selected, outcome, n_boot=20).set_index("group")
    # FSM: 2 of 4 shortlisted; 1 of the 2 had the outcome; of 2 with the outcome, 1 missed.
    assert table.loc["FSM", "selection_rate"] == 0.5
    assert table.loc["FSM", "precision"] == 0.5
    assert table.loc["FSM", "miss_rate"] == 0.5
    assert table.loc["FSM", "share_of_shortlist"] == pytest.approx(0.667, abs=1e-3)
    # not FSM (the reference, larger group): 1 of 6 shortlisted, precision 1, of 2 with the outcome 1 missed.
    assert table.loc["not FSM", "selection_rate"] == pytest.approx(0.167, abs=1e-3)
    assert table.loc["FSM", "selection_rate_ratio"] == 3.0
    assert "selection rate" in table.loc["FSM", "flags"]
    assert "small group" in table.loc["FSM", "flags"]
    assert table.loc["not FSM", "flags"] == ""


def test_an_outcome_a_feature_defines_is_learned_not_a_crash() -> None:
    # Persistent absence defined from attendance, as an analyst may pass it: the feature separates the outcome.
    rng = np.random.default_rng(0)
    attendance = rng.uniform(70, 100, 500).round(1)
    X = pd.DataFrame({"attendance_pct": attendance, "noise": rng.normal(size=500)})
    y = (attendance < 90).astype(int)
    model = PointsScorecard().fit(X, y)
    assert (model.predict(X) == y).all()
    assert [f.name for f in model.card_.features] == ["attendance_pct"]


def test_a_card_with_no_feature_says_so_and_settings_it_cannot_honour_are_refused() -> None:
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"noise": rng.normal(size=200)})
    y = (rng.random(200) < 0.3).astype(int)
    with pytest.warns(UserWarning, match="no feature earned a band: the card scores every pupil 0"):
        model = PointsScorecard().fit(X, y)
    assert not model.card_.features
    for setting, words in [({"max_points": 0}, "max_points must be"), ({"stable_in": 9}, "stable_in must be"),
                           ({"n_bins": 1}, "n_bins must be"), ({"C": 0}, "C must be above 0"),
                           ({"max_bands": -1}, "max_bands must be"), ({"max_bands": 0}, "max_bands must be"),
                           ({"min_gain": -1}, "min_gain must be 0 or more"), ({"tail_rows": -5}, "tail_rows must be"),
                           ({"refine_price": -0.1}, "refine_price must be"), ({"near_copy_rho": 0}, "near_copy_rho"),
                           ({"n_bins": 2.5}, "n_bins must be a whole number")]:  # fmt: skip
        with pytest.raises(ValueError, match=words):  # max_bands=-1 looped for ever
            PointsScorecard(**setting).fit(X, y)  # type: ignore[arg-type]


def test_calibration_folds_the_rows_cannot_give_are_warned_of_and_dates_are_refused() -> None:
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"a": rng.normal(size=300)})
    y = (X["a"] + rng.normal(size=300) > 0).astype(int)
    with pytest.warns(UserWarning, match="calibration_folds=200 needs at least 400 rows of each outcome"):
        PointsScorecard(calibration_folds=200, stable_in=0).fit(X, y)
    # A date's storage counts (micro- or nanoseconds) gave cut-points in them: the same dates stored otherwise
    # scored 0 or 20 on every row.
    dates = pd.DataFrame({"enrolled": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, 300), "D")})
    with pytest.raises(ValueError, match="'enrolled' holds dates or durations, not numbers"):
        PointsScorecard().fit(dates, y)


def test_a_card_fitted_on_a_frame_reads_an_array_in_its_columns_order_as_scikit_learn_does() -> None:
    rng = np.random.default_rng(2)
    X = pd.DataFrame({"absence": rng.uniform(0, 30, 400), "grade": rng.normal(5, 2, 400)})
    y = (X["absence"] + rng.normal(0, 5, 400) > 18).astype(int)
    model = PointsScorecard().fit(X, y)
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        by_position = model.predict_proba(X.to_numpy())
    assert np.array_equal(by_position, model.predict_proba(X))
    on_array = PointsScorecard().fit(X.to_numpy(), y)
    with pytest.warns(UserWarning, match="X has feature names, but PointsScorecard was fitted without"):
        assert np.array_equal(on_array.predict_proba(X), on_array.predict_proba(X.to_numpy()))
    with pytest.raises(TypeError, match="column names must all be text"):
        PointsScorecard().fit(X.set_axis(["absence", 1], axis=1), y)
