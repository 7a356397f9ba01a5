"""A points scorecard as a scikit-learn classifier.

``PointsScorecard(card)`` applies a released scorecard: the decision function is the sum of integer points, and
``predict_proba`` maps that score to a probability through the card's calibration (a logistic curve in the score,
refitted by ``fit`` when outcomes are given). Because the score *is* the sum of points, :meth:`explain` returns the
exact reasons for any score: nothing is approximated.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from pipeline.model.card import Scorecard, ScorecardError


class PointsScorecard(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Score pupils with a points scorecard.

    Parameters
    ----------
    card : Scorecard
        The scorecard to apply (see :mod:`pipeline.model.card`).
    recalibrate : bool
        When ``fit`` is given outcomes, refit the score-to-probability curve on them (the points stay as released).

    Attributes
    ----------
    card_ : Scorecard
        The scorecard in use after ``fit``.
    feature_names_in_ : ndarray of str
        The feature columns the scorecard reads.
    calibration_ : tuple of float
        Intercept and slope of the logistic curve from score to probability.
    classes_ : ndarray
        ``[0, 1]``: 1 means the pupil would benefit from a mentor.
    """

    def __init__(self, card: Scorecard | None = None, recalibrate: bool = True) -> None:
        self.card = card
        self.recalibrate = recalibrate

    def fit(self, X: pd.DataFrame, y: Any = None) -> PointsScorecard:
        """Check the features are present; with outcomes ``y`` and ``recalibrate``, refit the calibration."""
        if self.card is None:
            raise ScorecardError("PointsScorecard needs a scorecard (card=Scorecard.load(path))")
        self.card_ = self.card
        self._check_columns(X)
        self.feature_names_in_ = np.asarray(self.card_.feature_names, dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        self.classes_ = np.array([0, 1])
        intercept, slope = self.card_.calibration_intercept, self.card_.calibration_slope
        if y is not None and self.recalibrate:
            outcome = np.asarray(y).astype(int)
            if len(np.unique(outcome)) == 2:
                scores = self.points(X).sum(axis=1).to_numpy(dtype=float).reshape(-1, 1)
                curve = LogisticRegression().fit(scores, outcome)
                intercept, slope = float(curve.intercept_[0]), float(curve.coef_[0, 0])
        self.calibration_ = (intercept, slope)
        return self

    def points(self, X: pd.DataFrame) -> pd.DataFrame:
        """The points each pupil gets for each feature (rows of ``X`` by scorecard features)."""
        card = self.card_ if hasattr(self, "card_") else self.card
        if card is None:
            raise ScorecardError("PointsScorecard needs a scorecard")
        self._check_columns(X, card)
        columns = {}
        for feature in card.features:
            values = pd.to_numeric(X[feature.name], errors="coerce").to_numpy(dtype=float)
            points = np.full(len(values), feature.missing_points, dtype=np.int64)
            present = ~np.isnan(values)
            for band in feature.bands:
                inside = present.copy()
                if band.lower is not None:
                    inside &= values >= band.lower
                if band.upper is not None:
                    inside &= values < band.upper
                points[inside] = band.points
            columns[feature.name] = points
        return pd.DataFrame(columns, index=X.index)

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """The score: the sum of each pupil's points."""
        check_is_fitted(self)
        scores: np.ndarray = self.points(X).sum(axis=1).to_numpy(dtype=float)
        return scores

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self)
        intercept, slope = self.calibration_
        p = 1 / (1 + np.exp(-(intercept + slope * self.decision_function(X))))
        return np.column_stack([1 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        prediction: np.ndarray = self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(int)]
        return prediction

    def explain(self, X: pd.DataFrame) -> pd.DataFrame:
        """One row per pupil and scored feature: value, band label and points. Sums to the score exactly."""
        check_is_fitted(self)
        points = self.points(X)
        parts = []
        for feature in self.card_.features:
            values = pd.to_numeric(X[feature.name], errors="coerce").astype(float)
            labels = [
                feature.missing_label if band is None else band.label
                for band in (feature.band_of(None if np.isnan(v) else float(v)) for v in values.to_numpy())
            ]
            parts.append(
                pd.DataFrame(
                    {
                        "row": X.index,
                        "feature": feature.name,
                        "description": feature.description,
                        "focus": feature.focus,
                        "unit": feature.unit,
                        "value": values.to_numpy(),
                        "band": labels,
                        "points": points[feature.name].to_numpy(),
                    }
                )
            )
        return pd.concat(parts, ignore_index=True)

    def _check_columns(self, X: pd.DataFrame, card: Scorecard | None = None) -> None:
        card = card or self.card
        if not isinstance(X, pd.DataFrame):
            raise TypeError("PointsScorecard reads a DataFrame with one column per scorecard feature")
        missing = [name for name in (card.feature_names if card else []) if name not in X.columns]
        if missing:
            raise ScorecardError(f"the feature table lacks the scorecard's features: {', '.join(missing)}")
