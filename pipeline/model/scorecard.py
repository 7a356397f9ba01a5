"""A points scorecard as a scikit-learn classifier, applied from a released card or learned from outcomes.

``PointsScorecard(card=card)`` applies a released scorecard. ``PointsScorecard(template=card)`` learns a new one
from outcomes with :mod:`pipeline.model.learn`, keeping the template's features, words and directions. Either way
``card_`` is the fitted scorecard, :meth:`score` is the sum of integer points, :meth:`explain` gives the exact
points behind any score (nothing is approximated), and ``predict_proba`` maps the score to a probability through
the card's calibration (a logistic curve in the score). ``decision_function`` is that curve's log-odds, so it
ranks pupils exactly as the score does and is positive where ``predict`` says the outcome is likely.
"""

from __future__ import annotations

import dataclasses
import hashlib
import warnings
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit, logit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import check_array, check_consistent_length, check_is_fitted, column_or_1d

from pipeline.model.card import FeatureCard, RiskRow, ScoreBand, Scorecard, ScorecardError
from pipeline.model.learn import (
    NEAR_COPY_RHO,
    OUTCOME_LEAF_ROWS,
    REFINE_PRICE,
    FeatureSpec,
    LearnedFeature,
    bin_index,
    fit_features,
    fit_ramps,
    learned_feature,
    representatives,
    screened,
)

Shape = tuple[str, float | None]
"""A learned card's shape: ``("bands", None)``, ``("ramps", C)`` or ``("two-slope ramps", C)``, ``C`` the L1
penalty of :func:`pipeline.model.learn.fit_ramps`."""
RAMP_SHAPES: tuple[Shape, ...] = (("ramps", 0.1), ("ramps", 1.0), ("two-slope ramps", 1.0))
"""The cards of ramps tried (``shapes="auto"`` or ``"ramps"``). (Two slopes at ``C`` 0.1 were never chosen on the
UCI tables over five repeats.)"""
SHAPES = ("auto", "bands", "ramps")
PROBABILITY_BANDS = ((0.5, "high"), (0.25, "medium"), (0.1, "low"))
"""A learned card's score bands: the lowest score whose calibrated probability reaches each of these."""


class PointsScorecard(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Score pupils with a points scorecard.

    Parameters
    ----------
    card : Scorecard or None
        A released scorecard to apply. ``fit`` then only checks the columns (and, with outcomes and
        ``recalibrate``, refits the score-to-probability curve; the points stay as released).
    template : Scorecard or None
        When ``card`` is None, the scorecard whose features (names, words, directions) are learned from outcomes.
        Without either, every column of ``X`` is a candidate feature whose direction is learned from the data
        (see :mod:`pipeline.model.learn`); pass categorical columns one-hot.
    n_bins : int
        Quantile bins per feature when learning (before rounding cut-points for staff); a feature with at most 10
        distinct values gets a bin per value instead.
    C : float
        Inverse L2 regularisation strength of the fine logistic regression when learning (10 times it for the
        refit on the chosen bands).
    max_points : int
        Points of the heaviest feature's worst band when learning; every feature scores 0 to ``max_points``.
    recalibrate : bool
        Fit the score-to-probability curve on the outcomes given to ``fit``.
    binning : {"both", "quantile", "staff"}
        Cut-points when learning: rounded quantiles of the data, the template's own (staff-recognisable) band
        edges, or both.
    max_bands : int or None
        Most scoring lines on a learned card (all features together; a line that gives points: a feature with k
        bands has k - 1, its best band scoring 0, plus its "no data" if that may score); None for no limit.
    calibration_folds : int
        Folds for the held-out scores the probability curve is fitted on when learning (below 2: in-sample).
    min_gain : float
        What each band must buy when learning, in deviance (roughly); a feature that earns no band is left
        out of the card.
    stable_in : int
        When learning: a feature stays a candidate only if the cards learned without each of the
        ``calibration_folds`` folds chose it in at least this many of them (a feature chosen by the luck of one
        sample is left out); 0, or fewer than 2 folds, for no such check.
    near_copy_rho : float
        When learning: of columns with a value on the same rows whose Spearman rank correlation is at least this
        in size (near-copies, such as a tumour's radius, perimeter and area), only the one that orders the outcome
        best is learned from; above 1 to learn from every column.
    screen : bool
        When learning on a table with more candidate columns than n / ln n (n rows), such as 200 columns on 300
        pupils: learn only from that many, those that order the outcome best on their own (Somers' D; sure
        independence screening). Without it, the fine fit of more bins than rows fits the sample and the card can
        come out empty. False to learn from every column.
    tail_rows : int
        When learning: a column's tail beyond its outermost quantile cuts may get bins of its own where a decision
        tree of the outcome cuts it, each holding at least this many rows (and 1% of them); 0 for none. Rows must be
        independent for the count to mean anything: on pupil-nights (:func:`history_learner`) it is 0.
    refine_price : float
        When learning: the share of ``min_gain`` a strong feature (its first split worth at least 10 in deviance,
        roughly) pays for each band beyond its second, so a strong grade can show its steps where the outcome is
        rare; 1 for the full price.
    shapes : {"auto", "bands", "ramps"}
        When learning without a template: a card of a few bands per feature (``"bands"``); a card of ramps, each
        feature's points rising in equal steps between its 2nd and 98th percentiles, or changing along two lines
        that meet at its median, with a step of its own for an end value a tenth of the rows share (0 absences)
        (:func:`pipeline.model.learn.fit_ramps`, each of :data:`RAMP_SHAPES`:
        ``"ramps"``); or both (``"auto"``). The cards are judged on the ``calibration_folds``' held-out rows, from
        the simplest kind up (bands, ramps, two-slope ramps): the best card of the next kind (by mean AUC over the
        folds) replaces the card so far only where it orders the rows better by more than one standard error of
        the paired difference, or orders them no worse and its held-out log loss (each fold's scores on the card's
        logistic curve) is lower by more than one standard error. All learn from the same stable features. Bands
        fit thresholds (a grade below a pass mark); ramps fit outcomes whose log-odds rise steadily with many
        columns, where bands cannot order the pupils within each band; two slopes fit log-odds that fall slowly
        over part of a grade's range and steeply over the rest, which a card of one grade orders alike but turns
        into risks better. With a template the card is always of bands, at the template's cut-points.

    Attributes
    ----------
    card_ : Scorecard
        The scorecard in use after ``fit`` (released or learned).
    calibration_ : tuple of float
        Intercept and slope of the logistic curve from score to probability.
    classes_ : ndarray
        The two outcome labels; the second is "would benefit".
    n_features_in_ : int
        Number of features ``fit`` was given (a released card's or a template's features, or every column).
    learned_ : list of LearnedFeature
        When learning: each scored feature's column, cut-points, points, direction and points per log-odds.
    stable_ : list of str
        When learning: the candidate features (of near-copies, the one kept: ``near_copy_rho``; of a wide table,
        those screened in: ``screen``) the fold cards chose often enough (``stable_in``), which the card was
        learned from.
    shape_ : tuple of (str, float or None)
        When learning: the card's shape (:data:`Shape`), e.g. ``("bands", None)``; where more than one was tried,
        ``shape_scores_`` has each one's mean held-out AUC over the calibration folds (an empty dict where one
        shape was tried).
    """

    def __init__(
        self,
        card: Scorecard | None = None,
        template: Scorecard | None = None,
        n_bins: int = 20,
        C: float = 0.1,
        max_points: int = 20,
        recalibrate: bool = True,
        binning: str = "both",
        max_bands: int | None = 30,
        calibration_folds: int = 5,
        min_gain: float = 1.0,
        stable_in: int = 3,
        near_copy_rho: float = NEAR_COPY_RHO,
        screen: bool = True,
        tail_rows: int = OUTCOME_LEAF_ROWS,
        refine_price: float = REFINE_PRICE,
        shapes: str = "auto",
    ) -> None:
        self.card = card
        self.template = template
        self.n_bins = n_bins
        self.C = C
        self.max_points = max_points
        self.recalibrate = recalibrate
        self.binning = binning
        self.max_bands = max_bands
        self.calibration_folds = calibration_folds
        self.min_gain = min_gain
        self.stable_in = stable_in
        self.near_copy_rho = near_copy_rho
        self.screen = screen
        self.tail_rows = tail_rows
        self.refine_price = refine_price
        self.shapes = shapes

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.classifier_tags.multi_class = False
        tags.classifier_tags.poor_score = True  # a few integer bands per feature, by design
        return tags

    # -- fitting --------------------------------------------------------------------------------------------------

    def fit(self, X: pd.DataFrame | np.ndarray, y: Any = None) -> PointsScorecard:
        """Apply ``card`` (checking the columns), or learn a scorecard from ``X`` and outcomes ``y``."""
        # what an earlier fit learned goes (a card given now learns no shape; a card of bands compares none)
        for name in ("n_features_in_", "feature_names_in_", "learned_", "stable_", "shape_", "shape_scores_"):
            if hasattr(self, name):
                delattr(self, name)
        frame = self._frame(X)
        if self.card is not None:
            self.card_ = self.card
            self._check_columns(frame, self.card_)
            self.classes_ = np.array([0, 1]) if y is None else self._classes(y)
            names = self.card_.feature_names
        else:
            if y is None:
                raise ValueError("learning a scorecard requires y to be passed, but the target y is None")
            check_consistent_length(frame, y)
            self._check_settings()
            self.classes_ = self._classes(y)
            templates = self._templates(frame)
            names = [t.name for t in templates]
            positive = self._positive(y)
            fewer = int(min(positive.sum(), len(positive) - positive.sum()))
            if int(self.calibration_folds) >= 2 and fewer < 2 * int(self.calibration_folds):
                warnings.warn(
                    f"calibration_folds={self.calibration_folds} needs at least {2 * int(self.calibration_folds)} rows "
                    f"of each outcome, and one has {fewer}: the folds are skipped, and with them the stability screen, "
                    "the choice between bands and ramps (bands are used) and the held-out slope",
                    UserWarning,
                    stacklevel=2,
                )
            self.card_ = self._learn(frame, positive, templates)
            if not self.card_.features:
                warnings.warn(
                    "no feature earned a band: the card scores every pupil 0 and gives everyone the outcome rate "
                    f"({len(frame):,} rows, {int(self._positive(y).sum()):,} with the outcome: too few to tell a "
                    "feature's signal from chance, or no feature orders the outcome)",
                    UserWarning,
                    stacklevel=2,
                )
        self.n_features_in_ = len(names)
        if isinstance(X, pd.DataFrame):
            self.feature_names_in_ = np.asarray(names, dtype=object)
        intercept, slope = self.card_.calibration_intercept, self.card_.calibration_slope
        if y is not None and (self.recalibrate or self.card is None):
            positive = self._positive(y)
            if self.card is None:
                held_out = self._slope_scores_
                if held_out is None:
                    intercept, slope = calibration_curve(self.score(frame), positive)
                    note = "Logistic curve of the outcome on the score, fitted on the training outcomes."
                else:
                    slope = within_fold_slope(*held_out, positive)
                    intercept = matched_intercept(self.score(frame), positive, slope)
                    note = (
                        "Logistic curve of the outcome on the score: its slope fitted on held-out scores (the whole "
                        f"learner, bands included, cross-fitted in {self.calibration_folds} folds at this card's "
                        "points per log-odds and penalty per pupil; a level of its own for each fold's card), its "
                        "intercept set so the mean probability on the training pupils equals their outcome rate."
                    )
            else:
                intercept, slope = calibration_curve(self.score(frame), positive)
                note = "Logistic curve of the outcome on the score, fitted on the training outcomes."
            # The score-to-risk table follows the curve it is read from, on a given card too; a given card keeps
            # its own score bands.
            self.card_ = dataclasses.replace(
                self.card_,
                calibration_intercept=intercept,
                calibration_slope=slope,
                calibration_note=note,
                risk_table=risk_table(intercept, slope, self.card_.highest_score),
            )
            if self.card is None:
                self.card_ = dataclasses.replace(
                    self.card_, score_bands=self._score_bands(intercept, slope, self.card_.highest_score)
                )
        self.calibration_ = (intercept, slope)
        return self

    def _check_settings(self) -> None:
        """Refuse settings the learner cannot honour, in its own parameters' names."""
        if int(self.max_points) < 1:
            raise ValueError(f"max_points must be a whole number of at least 1, not {self.max_points!r}")
        if int(self.n_bins) < 2:
            raise ValueError(f"n_bins must be at least 2, not {self.n_bins!r}")
        if not float(self.C) > 0:
            raise ValueError(f"C must be above 0 (the smaller, the more the bins are shrunk), not {self.C!r}")
        if self.max_bands is not None and int(self.max_bands) < 1:
            raise ValueError(
                f"max_bands must be a whole number of at least 1, or None for no limit, not {self.max_bands!r}"
            )
        for name in ("min_gain", "tail_rows", "refine_price"):
            if not float(getattr(self, name)) >= 0:
                raise ValueError(f"{name} must be 0 or more, not {getattr(self, name)!r}")
        if not float(self.near_copy_rho) > 0:  # (above 1: no column is a near copy of another)
            raise ValueError(f"near_copy_rho must be above 0, not {self.near_copy_rho!r}")
        for name in ("n_bins", "max_points", "calibration_folds", "stable_in", "tail_rows"):
            value = getattr(self, name)
            if isinstance(value, bool) or not float(value).is_integer():
                raise ValueError(f"{name} must be a whole number, not {value!r}")
        if int(self.calibration_folds) >= 2 and not 0 <= int(self.stable_in) <= int(self.calibration_folds):
            raise ValueError(
                f"stable_in must be between 0 (no stability screen) and calibration_folds ({self.calibration_folds}), "
                f"not {self.stable_in!r}"
            )

    def _specs(self, templates: list[FeatureCard]) -> list[FeatureSpec]:
        if self.template is None:
            return [FeatureSpec(t.name, t.unit, None, (), data_step=True) for t in templates]
        return [
            FeatureSpec(t.name, t.unit, _higher_is_worse(t), tuple(b.lower for b in t.bands if b.lower is not None))
            for t in templates
        ]

    def _fit_features(
        self,
        values: np.ndarray,
        positive: np.ndarray,
        templates: list[FeatureCard],
        scale: float | None = None,
        columns: list[int] | None = None,
        C: float | None = None,
    ) -> list[LearnedFeature]:
        """The learner on ``columns`` of ``values`` (all by default; at ``C``, by default the estimator's); each
        feature's ``index`` is its column."""
        columns = list(range(len(templates))) if columns is None else columns
        if not columns:
            return []
        specs = self._specs(templates)
        learned = fit_features(
            values[:, columns],
            positive,
            [specs[c] for c in columns],
            self.n_bins,
            self.C if C is None else C,
            self.max_points,
            self.binning,
            self.max_bands,
            self.min_gain,
            scale,
            self.tail_rows,
            self.refine_price,
        )
        return [dataclasses.replace(f, index=columns[f.index]) for f in learned]

    def _folds(self, values: np.ndarray, positive: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """The ``calibration_folds`` folds (training rows, held-out rows); none when too few outcomes for them."""
        folds = self.calibration_folds
        if folds < 2 or min(positive.sum(), len(positive) - positive.sum()) < 2 * folds:
            return []
        return list(StratifiedKFold(n_splits=folds, shuffle=True, random_state=0).split(values, positive))

    def _stable_columns(
        self, values: np.ndarray, positive: np.ndarray, templates: list[FeatureCard], columns: list[int]
    ) -> list[int]:
        """Of ``columns``, those the cards learned without each fold chose in at least ``stable_in`` of the folds."""
        folds = self._folds(values, positive)
        if self.stable_in <= 0 or not folds:
            return columns
        chosen = np.zeros(len(templates), dtype=int)
        for train, _ in folds:
            within = screened(values[train], positive[train], columns) if self.screen else columns
            for f in self._fit_features(values[train], positive[train], templates, columns=within):
                chosen[f.index] += 1
        return [int(c) for c in np.flatnonzero(chosen >= self.stable_in)]

    def _learn(self, frame: pd.DataFrame, positive: np.ndarray, templates: list[FeatureCard]) -> Scorecard:
        values = self._values(frame, [t.name for t in templates])
        # The rows in an order of their own values and outcomes, not the order they came in: the calibration folds
        # are drawn by position, so the same pupils sorted another way (a school's export re-ordered, an analyst's
        # shuffle) would otherwise give another card. Rows that sort alike are the same row twice.
        order = canonical_order(values, positive)
        values, positive = values[order], positive[order]
        candidates = representatives(values, positive, self.near_copy_rho)
        if self.screen:
            candidates = screened(values, positive, candidates)
        if self.shapes not in SHAPES:
            raise ValueError(f"shapes must be one of {', '.join(SHAPES)}, not {self.shapes!r}")
        shapes: list[Shape] = [("bands", None)]
        if self.template is None and self.shapes != "bands":
            shapes = ([("bands", None)] if self.shapes == "auto" else []) + list(RAMP_SHAPES)
        # Every card learns from the same stable features: a column chosen by a chance correlation of the whole
        # sample (which every fold shares, so cross-fitting cannot see it) is as likely to earn a ramp as a band.
        columns = self._stable_columns(values, positive, templates, candidates)
        options = {s: self._fit_shape(s, values, positive, templates, None, columns) for s in shapes}

        def held_out(shape: Shape, rows: int | None = None) -> tuple[np.ndarray, np.ndarray] | None:
            """The card of ``shape``'s held-out scores, at its own points per log-odds (None with too few outcomes
            or nothing scored); with ``rows``, from fold cards at the card's own penalty per pupil."""
            if not options[shape]:
                return None
            learner = partial(self._fit_shape, shape, templates=templates, scale=options[shape][0].scale,
                              columns=columns, rows=rows)  # fmt: skip
            return self._cross_fit(values, positive, learner)

        if len(options) > 1:  # held-out scores of fold cards at the same C as each other choose the shape
            choosing = {shape: held_out(shape) for shape in options}
            folds = max(len(self._folds(values, positive)), 1)
            aucs = {
                shape: np.full(folds, 0.5) if scores is None else _fold_aucs(*scores, positive)
                for shape, scores in choosing.items()
            }
            self.shape_scores_ = {k: float(v.mean()) for k, v in aucs.items()}
            losses = {
                shape: np.full(folds, np.log(2)) if scores is None else _fold_log_losses(*scores, positive)
                for shape, scores in choosing.items()
            }
            self.shape_ = chosen_shape(shapes, aucs, losses)
        else:
            self.shape_ = shapes[0]
            self.shape_scores_ = {}
        # The chosen card's calibration slope (``fit``) is fitted on held-out scores of fold cards shrunk as much per
        # pupil as the card: at the same C, a card learned on 4/5 of the rows is shrunk more, its scores spread less,
        # and a slope fitted on them is too steep for the card (docs/model.md, step 10).
        slope_scores = held_out(self.shape_, rows=len(positive))
        self._slope_scores_ = None
        if slope_scores is not None:
            self._slope_scores_ = (_unsorted(slope_scores[0], order), _unsorted(slope_scores[1], order))
        learned = options[self.shape_]
        self.stable_ = [templates[c].name for c in columns]
        self.learned_ = learned
        features = tuple(
            learned_feature(templates[f.index], f.cuts, f.points, f.missing, values[:, f.index], f.ramp, f.by_ramps)
            for f in learned
        )
        base = self.template
        return Scorecard(
            name="learned",
            version="0.0.0",
            kind="learned",
            description="A points scorecard learned from outcomes"
            + (f", with the features of {base.name} {base.version}." if base else "."),
            features=features,
            score_bands=(ScoreBand(0, "no concerns"),),
            calibration_intercept=0.0,
            calibration_slope=0.0,
            calibration_note="",
        )

    def _fit_shape(
        self,
        shape: Shape,
        values: np.ndarray,
        positive: np.ndarray,
        templates: list[FeatureCard],
        scale: float | None,
        columns: list[int],
        rows: int | None = None,
    ) -> list[LearnedFeature]:
        """The learner of ``shape`` (bands, or ramps with one or two slopes at an L1 penalty) on ``columns``; each
        feature's ``index`` is its column. With ``rows``, the card stands in for one learned on that many rows, and
        its penalty is scaled to match it per pupil: scikit-learn's C weighs the loss summed over the rows, so at the
        same C fewer rows are shrunk more."""
        kind, C = shape
        per_pupil = 1.0 if rows is None else rows / len(positive)
        if kind == "bands":
            return self._fit_features(values, positive, templates, scale, columns, self.C * per_pupil)
        if not columns:
            return []
        assert C is not None
        bend = kind == "two-slope ramps"
        learned = fit_ramps(values[:, columns], positive, C * per_pupil, self.max_points, self.max_bands, scale, bend)
        return [dataclasses.replace(f, index=columns[f.index]) for f in learned]

    def _cross_fit(
        self,
        values: np.ndarray,
        positive: np.ndarray,
        learner: Callable[[np.ndarray, np.ndarray], list[LearnedFeature]],
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Each training row's score from the card ``learner`` learns (from values and outcomes) without it
        (``calibration_folds``-fold cross-fitting of the whole learner on the stable features, bands and features
        included), so the curve's slope is fitted on scores as honest as a new pupil's, and the fold each row was
        held out in; None with too few outcomes for the folds. (The stable features were chosen with every row, so
        this is a little kinder than a new pupil.)"""
        folds = self._folds(values, positive)
        if not folds:
            return None
        held_out = np.zeros(len(positive))
        fold_of_row = np.zeros(len(positive), dtype=int)
        for fold, (train, test) in enumerate(folds):
            fold_of_row[test] = fold
            for f in learner(values[train], positive[train]):
                index = bin_index(values[test, f.index], f.cuts)
                points = np.asarray(f.points)[np.maximum(index, 0)]
                held_out[test] += np.where(index < 0, f.missing, points)
        return held_out, fold_of_row

    def _templates(self, frame: pd.DataFrame) -> list[FeatureCard]:
        if self.template is not None:
            self._check_columns(frame, self.template)
            return list(self.template.features)
        return [FeatureCard(str(c), str(c), "attainment", "count", "Learned from outcomes.", ()) for c in frame.columns]

    def _score_bands(self, intercept: float, slope: float, top: int) -> tuple[ScoreBand, ...]:
        bands = [ScoreBand(0, "no concerns")]
        if slope > 0:
            for probability, label in sorted(PROBABILITY_BANDS):
                threshold = max(1, int(np.ceil((np.log(probability / (1 - probability)) - intercept) / slope)))
                if threshold <= top:
                    bands.append(ScoreBand(threshold, label, probability))
        unique: dict[int, ScoreBand] = {}
        for band in bands:
            unique[band.min_score] = band  # a higher band at the same score wins
        return tuple(sorted(unique.values(), key=lambda b: b.min_score))

    # -- using ----------------------------------------------------------------------------------------------------

    def points(self, X: pd.DataFrame | np.ndarray) -> pd.DataFrame:
        """The points each pupil gets for each feature (rows of ``X`` by scorecard features)."""
        card, frame, values = self._card_values(X)
        return self._points(card, values, frame.index)

    def _card_values(self, X: pd.DataFrame | np.ndarray) -> tuple[Scorecard, pd.DataFrame, np.ndarray]:
        """The card in use, ``X`` as a frame, and the card's features' values (rows by features, floats)."""
        card = self.card_ if hasattr(self, "card_") else self.card
        if card is None:
            raise ScorecardError("PointsScorecard needs a scorecard: give card= or fit it first")
        frame = self._frame(X)
        self._check_columns(frame, card)
        return card, frame, self._values(frame, card.feature_names)

    @staticmethod
    def _points(card: Scorecard, values: np.ndarray, index: pd.Index) -> pd.DataFrame:
        """Each row's points for each of ``card``'s features, from their ``values``."""
        columns = {}
        for j, feature in enumerate(card.features):
            column = values[:, j]
            points = np.full(len(column), feature.missing_points, dtype=np.int64)
            present = ~np.isnan(column)
            for band in feature.bands:
                inside = present.copy()
                if band.lower is not None:
                    inside &= column >= band.lower
                if band.upper is not None:
                    inside &= column < band.upper
                points[inside] = band.points
            columns[feature.name] = points
        return pd.DataFrame(columns, index=index)

    def score(self, X: pd.DataFrame | np.ndarray, y: Any = None, sample_weight: Any = None) -> Any:
        """The scorecard score, the sum of each pupil's points. With ``y``, scikit-learn's mean accuracy instead."""
        if y is not None:
            return super().score(X, y, sample_weight=sample_weight)
        scores: np.ndarray = self.points(X).sum(axis=1).to_numpy(dtype=float)
        return scores

    def decision_function(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Log-odds of the outcome: the calibration curve at the score (ranks exactly as the score does)."""
        check_is_fitted(self)
        intercept, slope = self.calibration_
        log_odds: np.ndarray = intercept + slope * self.score(X)
        return log_odds

    def predict_proba(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        p = 1 / (1 + np.exp(-self.decision_function(X)))
        return np.column_stack([1 - p, p])

    def predict(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        check_is_fitted(self)
        prediction: np.ndarray = self.classes_[(self.decision_function(X) > 0).astype(int)]
        return prediction

    def explain(self, X: pd.DataFrame | np.ndarray) -> pd.DataFrame:
        """One row per pupil and scored feature: value, band label and points. Sums to the score exactly. ``row`` is
        the pupil's index in ``X`` (its position, for an array)."""
        check_is_fitted(self)
        card, frame, values = self._card_values(X)  # each column read once, for the points and the bands alike
        points = self._points(card, values, frame.index)
        parts = []
        for j, feature in enumerate(card.features):
            column = values[:, j]
            labels = [
                feature.missing_label if band is None else band.label
                for band in (feature.band_of(None if np.isnan(v) else float(v)) for v in column)
            ]
            parts.append(
                pd.DataFrame(
                    {
                        "row": frame.index,
                        "feature": feature.name,
                        "description": feature.description,
                        "focus": feature.focus,
                        "unit": feature.unit,
                        "value": column,
                        "band": labels,
                        "points": points[feature.name].to_numpy(),
                    }
                )
            )
        if not parts:  # a learned card that found nothing worth a point
            columns = ["row", "feature", "description", "focus", "unit", "value", "band", "points"]
            return pd.DataFrame({c: pd.Series(dtype=np.int64 if c in ("row", "points") else object) for c in columns})
        return pd.concat(parts, ignore_index=True)

    # -- input handling -------------------------------------------------------------------------------------------

    def _frame(self, X: pd.DataFrame | np.ndarray) -> pd.DataFrame:
        named = getattr(self, "feature_names_in_", None)
        if isinstance(X, pd.DataFrame):
            strings = [isinstance(c, str) for c in X.columns]
            if any(strings) and not all(strings):
                raise TypeError(
                    "X's column names must all be text (or none be): "
                    f"{', '.join(repr(c) for c in X.columns if not isinstance(c, str))} is not; rename them with "
                    "X.columns = X.columns.astype(str)"
                )
            if all(strings):
                twice = sorted({str(c) for c in X.columns[X.columns.duplicated()]})
                if twice:
                    raise ValueError(f"X has more than one column named {', '.join(map(repr, twice))}: name each once")
                if not self._fitted_on_an_array(X):
                    return X
                warnings.warn("X has feature names, but PointsScorecard was fitted without feature names: its "
                              "columns are read in order", UserWarning, stacklevel=3)  # fmt: skip
        array = check_array(X, dtype=float, ensure_all_finite="allow-nan")
        if hasattr(self, "n_features_in_") and array.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {array.shape[1]} features, but PointsScorecard is expecting {self.n_features_in_} features "
                "as input"
            )
        if named is not None and not isinstance(X, pd.DataFrame):
            warnings.warn("X does not have valid feature names, but PointsScorecard was fitted with feature names: "
                          "its columns are read in that order", UserWarning, stacklevel=3)  # fmt: skip
            return pd.DataFrame(array, columns=[str(name) for name in named])
        return pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])

    def _fitted_on_an_array(self, X: pd.DataFrame) -> bool:
        """Whether the card was fitted on an array (its features ``x0``, ``x1``, ...) and ``X``, a frame of as many
        columns, names them otherwise: its columns are then read in order, as scikit-learn reads them."""
        fitted = getattr(self, "n_features_in_", None)
        return (
            fitted is not None
            and getattr(self, "feature_names_in_", None) is None
            and len(X.columns) == fitted
            and not {f"x{i}" for i in range(fitted)} <= set(X.columns)
        )

    def _values(self, frame: pd.DataFrame, names: list[str]) -> np.ndarray:
        if not names:
            return np.zeros((len(frame), 0))
        values = np.column_stack([numeric_column(frame[n], n) for n in names])
        values = values.reshape(len(frame), len(names))
        if np.isinf(values).any():
            raise ValueError("Input contains infinity: a feature value must be a number or missing")
        return values

    def _classes(self, y: Any) -> np.ndarray:
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        classes: np.ndarray = unique_labels(y)
        if len(classes) != 2:
            raise ValueError(
                f"Only binary classification is supported. PointsScorecard needs outcomes of exactly two classes; "
                f"y has {len(classes)} class(es)"
            )
        return classes

    def _positive(self, y: Any) -> np.ndarray:
        positive: np.ndarray = column_or_1d(y) == self.classes_[1]
        return positive.astype(int)

    @staticmethod
    def _check_columns(frame: pd.DataFrame, card: Scorecard) -> None:
        missing = [name for name in card.feature_names if name not in frame.columns]
        if missing:
            raise ScorecardError(f"the feature table lacks the scorecard's features: {', '.join(missing)}")


def numeric_column(column: pd.Series, name: str) -> np.ndarray:
    """A feature column as floats, missing values (None, NaN, pandas' NA, blank text) as NaN, numbers held as text
    read with spaces around them; text that is not a number is refused by name, never read as "no data" (a category
    passed as text would otherwise score as missing on every row, without a word). The message counts the rows, and
    never shows a value: it may be a pupil's."""
    if pd.api.types.is_datetime64_any_dtype(column) or pd.api.types.is_timedelta64_dtype(column):
        raise ValueError(
            f"column {name!r} holds dates or durations, not numbers: their stored counts (of seconds, micro- or "
            "nanoseconds) are no feature; pass a number that means something, such as days since a date"
        )
    if column.dtype == object or pd.api.types.is_string_dtype(column):
        column = column.map(lambda v: v.strip() if isinstance(v, str) else v)  # " 1.5" and " " as from a CSV
    try:
        return pd.to_numeric(column, errors="raise").to_numpy(dtype=float, na_value=np.nan)
    except (ValueError, TypeError):
        numbers = pd.to_numeric(column, errors="coerce")
        text = int((numbers.isna() & column.notna() & (column.astype(str) != "")).sum())
        raise ValueError(
            f"column {name!r} holds {text} value(s) in {len(column)} rows that are not numbers: a feature value must "
            "be a number or missing; pass a category as 0/1 columns, one per level (pandas.get_dummies)"
        ) from None


def canonical_order(values: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """The rows' order sorted by their values, then by outcome: the same for the same rows however the rows, or the
    columns, came in. The columns are read in an order of their own, the column with the most distinct values first
    (so a flag or a small count, which many rows share, only breaks ties: leaving one out, or adding one, moves few
    rows), columns with as many by their values and their values among the rows with the outcome, each sorted. A
    value not known sorts after every known one."""
    known = np.where(np.isnan(values), np.inf, values) + 0.0  # (+ 0.0: -0.0 and 0.0 alike)

    def key(j: int) -> tuple[int, bytes]:
        column = known[:, j]
        content = np.sort(column).tobytes() + np.sort(column[positive == 1]).tobytes()
        return -len(np.unique(column)), hashlib.sha256(content).digest()

    columns = sorted(range(values.shape[1]), key=key)
    return np.lexsort([positive, *(known[:, j] for j in reversed(columns))])


def _unsorted(sorted_values: np.ndarray, order: np.ndarray) -> np.ndarray:
    """``sorted_values`` (one per row of ``values[order]``) back in the rows' own order."""
    values = np.empty_like(sorted_values)
    values[order] = sorted_values
    return values


def _fold_aucs(score: np.ndarray, fold: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """The AUC of held-out ``score`` in each fold (each fold's card has its own zero, so each fold is judged on its
    own); 0.5 for a fold with one class only.

    >>> _fold_aucs(np.array([1.0, 2, 10, 11]), np.array([0, 0, 1, 1]), np.array([0, 1, 1, 0]))
    array([1., 0.])
    """
    return np.array(
        [
            roc_auc_score(positive[fold == k], score[fold == k]) if len(np.unique(positive[fold == k])) == 2 else 0.5
            for k in np.unique(fold)
        ]
    )


def history_learner(template: Scorecard) -> PointsScorecard:
    """The learner as ``mentor fit`` runs it on a trust's history of pupil-nights: with ``template``'s features and
    words, no tail cuts (``tail_rows=0``) and every band at the full price (``refine_price=1``). Each pupil is a row
    on many nights, so 200 rows may be a dozen pupils and nearly every feature's first split looks strong; on the 53
    held-out simulated school-seeds tail cuts cost the learned card 0.010 in precision at capacity, and the cheaper
    further bands bought nothing (docs/model.md)."""
    return PointsScorecard(template=template, tail_rows=0, refine_price=1.0)


def calibration_curve(score: np.ndarray, positive: np.ndarray) -> tuple[float, float]:
    """Intercept and slope (rounded to 6 places, for reproducible files) of the outcome's log-odds on the score."""
    if len(np.unique(positive)) < 2:
        return -3.0, 0.0
    curve = LogisticRegression(C=1e6, max_iter=5000, tol=1e-10).fit(score.reshape(-1, 1), positive)
    return round(float(curve.intercept_[0]), 6), round(float(curve.coef_[0, 0]), 6)


SAME_ORDER_AUC = 0.005
"""A mean held-out AUC loss below this is no worse order (:func:`chosen_shape`): a grade's curve rounded to whole points
with two slopes ties a few more pupils than with one, and lost 0.002 in AUC on every fold for risks 0.2 truer."""


def chosen_shape(shapes: list[Shape], aucs: dict[Shape, np.ndarray], losses: dict[Shape, np.ndarray]) -> Shape:
    """Of ``shapes`` (in order from the simplest kind of card: bands, ramps, two-slope ramps), the card to keep,
    from each one's held-out AUC and log loss per fold: the best of the first kind, then the best of each next kind
    where it beats the card so far by more than the folds' noise (its mean paired gain above one standard error of
    it; on a few hundred pupils the folds' choice is otherwise luck), in AUC, or, ordering the pupils no worse, in
    log loss (one grade's card orders pupils alike as a ramp or with two slopes, or a little worse for its ties, by
    less than ``SAME_ORDER_AUC``; only the risks tell them apart).
    Of one kind, the best by AUC, equal AUCs by log loss.

    >>> folds = {("bands", None): [0.80, 0.70, 0.75], ("ramps", 1.0): [0.80, 0.70, 0.75]}
    >>> chosen_shape(list(folds), {k: np.array(v) for k, v in folds.items()},
    ...              {("bands", None): np.array([0.50, 0.52, 0.51]), ("ramps", 1.0): np.array([0.45, 0.46, 0.47])})
    ('ramps', 1.0)
    """
    kinds = [[s for s in shapes if s[0] == kind] for kind in dict.fromkeys(s[0] for s in shapes)]

    def better(shape: Shape) -> tuple[float, float]:
        return float(aucs[shape].mean()), -float(losses[shape].mean())

    chosen = max(kinds[0], key=better)
    for kind in kinds[1:]:
        best = max(kind, key=better)
        gain = aucs[best] - aucs[chosen]
        worse_order = _beyond_noise(-gain) and float(-gain.mean()) >= SAME_ORDER_AUC
        if _beyond_noise(gain) or (not worse_order and _beyond_noise(losses[chosen] - losses[best])):
            chosen = best
    return chosen


def _beyond_noise(gain: np.ndarray) -> bool:
    """Whether paired per-fold ``gain`` is above 0 by more than one standard error of its mean."""
    return len(gain) > 1 and bool(gain.mean() > gain.std(ddof=1) / np.sqrt(len(gain)))


def _fold_log_losses(score: np.ndarray, fold: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """The mean log loss in each fold of held-out ``score`` turned into probabilities as the card's are: one slope,
    and a level of its own for each fold's card (:func:`within_fold_slope`)."""
    if len(np.unique(positive)) < 2:
        return np.zeros(int(fold.max()) + 1)
    curve, design = _within_fold_curve(score, fold, positive)
    chance = np.clip(curve.predict_proba(design)[:, 1], 1e-12, 1 - 1e-12)
    loss = -(positive * np.log(chance) + (1 - positive) * np.log(1 - chance))
    return np.array([loss[fold == k].mean() for k in range(int(fold.max()) + 1)])


def within_fold_slope(score: np.ndarray, fold: np.ndarray, positive: np.ndarray) -> float:
    """The slope (rounded to 6 places) of the outcome's log-odds on held-out scores, each fold with a level of its
    own: every fold's card has its own zero (a band nearly every pupil is in can score 14 points in one fold's card
    and 17 in the next), and pooling such shifted scores would flatten the slope toward 0.

    >>> within_fold_slope(np.array([0.0, 1, 2, 3, 10, 11, 12, 13]), np.array([0, 0, 0, 0, 1, 1, 1, 1]),
    ...                   np.array([0, 0, 1, 1, 0, 0, 1, 1])) > calibration_curve(
    ...     np.array([0.0, 1, 2, 3, 10, 11, 12, 13]), np.array([0, 0, 1, 1, 0, 0, 1, 1]))[1]
    True
    """
    if len(np.unique(positive)) < 2:
        return 0.0
    curve, _ = _within_fold_curve(score, fold, positive)
    return round(float(curve.coef_[0, 0]), 6)


def _within_fold_curve(
    score: np.ndarray, fold: np.ndarray, positive: np.ndarray
) -> tuple[LogisticRegression, np.ndarray]:
    """The logistic curve of the outcome on held-out ``score`` with one slope and a level for each fold (unpenalised),
    and its design (the score, then a 0/1 column per fold)."""
    design = np.column_stack([score, np.eye(int(fold.max()) + 1)[fold]])
    return LogisticRegression(C=1e6, max_iter=5000, tol=1e-10, fit_intercept=False).fit(design, positive), design


def matched_intercept(score: np.ndarray, positive: np.ndarray, slope: float) -> float:
    """The intercept (rounded to 6 places) at which the curve's mean probability over ``score`` equals the outcome
    rate, ``slope`` fixed: calibration in the large on the card's own scores.

    >>> matched_intercept(np.array([0.0, 10.0]), np.array([0, 1]), 0.0)
    0.0
    """
    rate = float(np.mean(positive))
    if rate in (0.0, 1.0):
        return -3.0
    if slope == 0:
        return round(float(logit(rate)), 6)
    # The mean probability rises with the intercept from 0 to 1; far enough out to clear every pupil's slope * score,
    # it is beyond the rate (a feature that separates the outcome gives a very steep slope).
    reach = 60.0 + abs(slope) * float(np.max(np.abs(score), initial=0.0))
    return round(float(brentq(lambda a: float(np.mean(expit(a + slope * score))) - rate, -reach, reach)), 6)


def risk_table(intercept: float, slope: float, top: int, rows: int = 12) -> tuple[RiskRow, ...]:
    """The calibration curve at about ``rows`` evenly spaced scores from 0 to ``top`` (probabilities to 3 places).

    >>> [(r.score, r.probability) for r in risk_table(-2.0, 0.1, 40, rows=4)]
    [(0, 0.119), (14, 0.354), (28, 0.69), (40, 0.881)]
    """
    step = max(1, int(np.ceil(top / (rows - 1)))) if top > 0 else 1
    scores = [*range(0, top, step), top] if top > 0 else [0]
    return tuple(RiskRow(s, round(float(1 / (1 + np.exp(-(intercept + slope * s)))), 3)) for s in scores)


def _higher_is_worse(feature: FeatureCard) -> bool:
    """A feature's declared direction: the end of its bands that scores more points is the worse end."""
    if len(feature.bands) < 2:
        return True
    return feature.bands[-1].points >= feature.bands[0].points
