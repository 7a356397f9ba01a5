"""Properties of any learned card, whatever the training data: whole points in range, monotone where declared,
probabilities rising with the score, a score that is the sum of the explained points; and a refit on the distinct
rows is the fit on every row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

from pipeline.model import PointsScorecard, Scorecard
from pipeline.model.learn import design_matrix, distinct_rows, refit_within_rules, tied_bins

CARD = Scorecard.load(Path(__file__).resolve().parents[2] / "models" / "scorecard-v1.yaml")

rows = st.integers(40, 120)


@st.composite
def tables(draw: st.DrawFn) -> tuple[pd.DataFrame, np.ndarray]:
    """A small table: a rate, a count, a flag (with some missing values) and outcomes of both kinds."""
    n = draw(rows)
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "attendance_rate_term": np.round(rng.uniform(0.3, 1.0, n), 3),
            "negative_points_4wk": rng.poisson(draw(st.floats(0.2, 6.0)), n).astype(float),
            "suspensions_year": (rng.random(n) < 0.2).astype(float),
        }
    )
    frame.loc[rng.random(n) < 0.1, "attendance_rate_term"] = np.nan
    strength = draw(st.floats(-3.0, 3.0))
    log_odds = strength * (0.9 - frame["attendance_rate_term"].fillna(0.9)) * 5 + rng.normal(0, 1, n)
    y = (log_odds > np.median(log_odds)).astype(int).to_numpy()
    return frame, y


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.integers(3, 30))
def test_points_are_whole_numbers_within_the_range(table: tuple[pd.DataFrame, np.ndarray], max_points: int) -> None:
    X, y = table
    model = PointsScorecard(max_points=max_points, calibration_folds=0).fit(X, y)
    for feature in model.card_.features:
        for band in feature.bands:
            assert isinstance(band.points, int)
            assert 0 <= band.points <= max_points
        assert 0 <= feature.missing_points <= max(b.points for b in feature.bands)
    explained = model.explain(X).groupby("row")["points"].sum().reindex(X.index, fill_value=0)
    assert explained.tolist() == model.score(X).tolist()
    order = np.argsort(model.score(X), kind="stable")
    assert np.all(np.diff(model.predict_proba(X)[order, 1]) >= 0)


TEMPLATE = Scorecard(
    name="t",
    version="0",
    kind="expert",
    description="",
    features=tuple(CARD.feature(n) for n in ("attendance_rate_term", "negative_points_4wk", "suspensions_year")),
    score_bands=CARD.score_bands,
    calibration_intercept=CARD.calibration_intercept,
    calibration_slope=CARD.calibration_slope,
    calibration_note="",
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.floats(0.0, 1.0), st.floats(0.0, 0.7))
def test_lower_attendance_never_lowers_a_learned_score_where_the_direction_is_declared(
    table: tuple[pd.DataFrame, np.ndarray], rate: float, drop: float
) -> None:
    X, y = table  # whatever the outcomes say, the template declares lower attendance worse
    model = PointsScorecard(template=TEMPLATE, calibration_folds=0).fit(X, y)
    base = X.iloc[[0]].copy()
    base["attendance_rate_term"] = rate
    worse = base.copy()
    worse["attendance_rate_term"] = rate - drop
    assert model.score(worse)[0] >= model.score(base)[0]


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**16), st.integers(2, 60), st.integers(1, 4), st.booleans())
def test_a_refit_on_distinct_rows_is_the_fit_on_every_row(seed: int, n: int, features: int, tie: bool) -> None:
    """The refit weighs each distinct combination of bins and outcome by its count (``distinct_rows``): the same
    weights as a plain L2 logistic regression on every row, and every row stands behind exactly one design row."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 4, (n, features)).astype(float)
    X[rng.random(X.shape) < 0.15] = np.nan
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    cuts = [sorted(set(rng.choice([0.5, 1.5, 2.5], size=2).tolist())) for _ in range(features)]
    tied = [int(rng.integers(0, len(c) + 1)) if tie else None for c in cuts]
    first, rows = distinct_rows(X, y, cuts, tied)
    assert rows.sum() == n
    bins = np.column_stack([*(tied_bins(X[:, j], c, t) for j, (c, t) in enumerate(zip(cuts, tied, strict=True))), y])
    kinds = {tuple(row) for row in bins[first]}
    assert len(kinds) == len(first)  # no combination twice
    assert all((bins == bins[i]).all(axis=1).sum() == rows[k] for k, i in enumerate(first))

    fit = refit_within_rules(X, y, cuts, [0] * features, C=1.0)  # its final bands and ties, fitted on every row:
    plain = LogisticRegression(C=1.0, tol=1e-10, max_iter=1000, solver="newton-cholesky")
    plain.fit(design_matrix(X, fit.cuts, fit.tied), y)
    np.testing.assert_allclose(fit.weights, [*plain.coef_[0], *plain.intercept_], atol=1e-4)
