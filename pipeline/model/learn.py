"""Fitting a points scorecard from outcomes: fine bins, a regularised additive model, few bands, integer points.

Steps, each with a well-kept library piece where one fits:

0. Near-copies (``representatives``, which ``PointsScorecard`` applies once to all its training rows, before its
   folds): of columns that have a value on the same rows and rank them almost alike (Spearman rank correlation at
   least ``NEAR_COPY_RHO``, pandas' ``corr``), such as a tumour's radius, perimeter and area, only the one that
   orders the outcome best is learned from (the variable clustering classical scorecards begin with). Step 2's
   penalty shares a signal out among its copies, so no copy's shape earns a band and the card can lose the signal
   altogether.
1. Candidate bins per feature. A feature with at most ``PER_VALUE`` distinct values (a flag, a one-hot column, a
   small count) gets a bin per value. Others get quantile bins (scikit-learn ``KBinsDiscretizer``) and the cuts of
   a shallow decision tree of the outcome on the feature (scikit-learn ``DecisionTreeClassifier``, leaves of at
   least 1% of the rows and 200 rows, kept beyond the outermost quantile cuts: a tail smaller than a quantile bin
   whose outcome differs gets a bin of its own), with cut-points rounded to values staff recognise (whole percentage
   points, half grades, whole months and counts; a "nice" step of the data's own spread for a column of unknown
   unit), plus any staff cut-points, and a bin of its own for "no data".
2. One-hot bins into an L2-regularised ``LogisticRegression``: one weight per bin, a fine additive shape. Beside the
   bins, each feature has one more column, its bin's weight of evidence (the outcome's log-odds in the bin, against
   the base rate, as classical scorecards and ``optbinning`` transform a feature), so the penalty pulls a feature's
   bins toward the feature's own shape scaled by one weight, not toward flat: on a few hundred pupils a strong
   feature keeps its shape (a prior grade is not flattened into two bands).
3. Each feature's shape is made monotone (scipy's ``isotonic_regression``, weighted by each bin's Fisher information):
   in its declared direction, or else in the direction that fits the shape better; a shape that no monotone
   curve fits (its information-weighted misfit above ``NON_MONOTONE_DEVIANCE``) is kept as it is.
4. Few bands: each shape is cut into consecutive segments by dynamic programming (least information-weighted
   squares), and each feature gets the number of bands that removes the most error less ``least_gain`` a band; a
   feature that earns none is left out. A strong feature (its first split worth at least ``STRONG_SPLIT``) pays
   ``REFINE_PRICE`` of the price for its third and later bands: where its outcome is rare, a band buys little
   likelihood but orders the few pupils who fall against the many who do not. Where that comes to more than
   ``max_bands`` scoring lines, neighbouring bands are merged, by the refitted card's Wald statistic of their
   difference, and the card refitted, until it keeps to the budget (``merge_to_budget``).
5. The chosen bands are refitted (``LogisticRegression`` again, on the coarse bins) within the card's rules: a
   feature with a direction never steps the other way and "no data" scores between its best and worst band, by an
   active set (``refit_within_rules``). Each feature is shifted so its best band scores 0, scaled so the heaviest
   feature's worst band scores ``max_points``, and rounded to integers. Each refit is on the distinct combinations
   of bands and outcome, each weighted by its count (``distinct_rows``): the same fit, and a long history of few
   bands has far fewer of them than rows.
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import isotonic_regression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import KBinsDiscretizer
from sklearn.tree import DecisionTreeClassifier

from pipeline.model.card import Band, FeatureCard, Ramp, Unit, points_on_line

ROUNDING: dict[str, float] = {
    "percent": 0.01,
    "share": 0.05,
    "grades": 0.5,
    "months": 1.0,
    "count": 1.0,
    "points": 1.0,
    "flag": 1.0,
}
"""The step cut-points are rounded to, by unit, so a band reads "below 91%" rather than "below 90.73%"."""
PER_VALUE = 10
"""A feature with at most this many distinct values gets a bin per value (flags, one-hot columns, small counts)."""
NON_MONOTONE_DEVIANCE = 12.0
"""How much worse (in deviance, roughly) the best monotone shape must fit than the free one to keep the free one."""
STRONG_SPLIT = 10.0
"""A feature whose best two bands remove at least this much error (in deviance, roughly: a split no sample's noise
makes) is strong, and pays less for its further bands (``REFINE_PRICE``)."""
REFINE_PRICE = 0.5
"""The share of the price per band a strong feature pays for each band beyond its second."""
NEAR_COPY_RHO = 0.95
"""Columns whose Spearman rank correlation is at least this in size rank the rows almost alike: near-copies, of
which the learner keeps one (step 0)."""


@dataclass(frozen=True)
class FeatureSpec:
    """What the learner needs to know about one feature: its name, unit and which way is worse.

    ``higher_is_worse`` None: the direction is learned from the data (or the shape is left free, see the module)."""

    name: str
    unit: Unit | str = "count"
    higher_is_worse: bool | None = True
    cuts: tuple[float, ...] = ()
    """Staff-recognisable cut-points (the expert card's band edges), used by ``staff`` binning."""
    data_step: bool = False
    """Round cut-points to a step found from the data's spread (for a column whose unit is not known)."""


@dataclass(frozen=True)
class LearnedFeature:
    """One feature as learned: cut-points, integer points per band, "no data" points, the shape's direction."""

    index: int
    cuts: list[float]
    points: list[int]
    missing: int
    direction: int
    """+1 higher is worse, -1 higher is better, 0 neither (a free shape)."""
    scale: float
    """Points per unit of log-odds (the same for every feature of a card)."""
    C: float
    """The regularisation of the refit on the chosen bands."""
    ramp: Ramp | None = None
    """A ramp's knots and points (:func:`fit_ramps`); ``cuts`` and ``points`` are then its steps."""
    by_ramps: bool = False
    """Learned by :func:`fit_ramps` (a flag there scores as its two bands, with no ``ramp``)."""


def nice_step(values: np.ndarray) -> float:
    """A round step (1, 2 or 5 times a power of ten) about a fiftieth of the middle 90% of ``values``.

    >>> nice_step(np.linspace(0, 1, 101)), nice_step(np.arange(0.0, 100.0)), nice_step(np.array([3.0, 3.0]))
    (0.02, 2.0, 1.0)
    """
    low, high = np.quantile(values, [0.05, 0.95]) if len(values) else (0.0, 0.0)
    if high <= low:
        low, high = (float(values.min()), float(values.max())) if len(values) else (0.0, 0.0)
    if high <= low:
        return 1.0
    raw = (high - low) / 50
    power = 10 ** math.floor(math.log10(raw))
    return float(next(m * power for m in (1, 2, 5, 10) if m * power >= raw))


def own_scale(values: np.ndarray) -> tuple[float, float]:
    """The origin and unit to bin ``values`` on: (0, 1), the values as they are, when their range is between 0.001
    and a million; else their minimum and range, so that they span 0 to 1. scikit-learn drops a quantile bin
    narrower than 1e-8 and a tree does not split values closer than 1e-7, in absolute terms, so a feature in tiny
    units (a rate per second) lost its bins; data of usual ranges are binned exactly as before.

    >>> own_scale(np.array([0.0, 30.0])), own_scale(np.array([2e-8, 5e-8]))
    ((0.0, 1.0), (2e-08, 3e-08))
    """
    spread = float(np.ptp(values)) if len(values) else 0.0
    if spread == 0 or 1e-3 <= spread <= 1e6:
        return 0.0, 1.0
    return float(values.min()), spread


def cut_points(values: np.ndarray, n_bins: int, unit: str, step: float | None = None) -> list[float]:
    """Ascending, distinct, rounded quantile cut-points of the non-missing ``values`` (at most ``n_bins - 1``)."""
    present = values[~np.isnan(values)]
    if len(np.unique(present)) < 2:
        return []
    low, spread = own_scale(present)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # bins whose edges coincide are merged, as intended
        binner = KBinsDiscretizer(
            n_bins=min(n_bins, len(np.unique(present))),
            encode="ordinal",
            strategy="quantile",
            quantile_method="averaged_inverted_cdf",
        ).fit(((present - low) / spread).reshape(-1, 1))
    edges = low + spread * binner.bin_edges_[0][1:-1]
    return rounded_cuts(edges, present, step or ROUNDING.get(unit, 1.0))


def rounded_cuts(edges: np.ndarray, present: np.ndarray, step: float) -> list[float]:
    """``edges`` rounded to multiples of ``step``, distinct and ascending, inside the range of ``present``."""
    places = max(0, 2 - math.floor(math.log10(step)))  # the step's own decimal places (and two more), no float noise
    rounded = sorted({round(round(float(edge) / step) * step, places) for edge in edges})
    low, high = float(present.min()), float(present.max())
    return [c for c in rounded if low < c <= high]


OUTCOME_LEAVES = 16
"""Most bins the outcome tree of :func:`outcome_cuts` may cut a feature into."""
OUTCOME_LEAF_SHARE = 0.01
"""Smallest share of the rows with a value (and at least ``OUTCOME_LEAF_ROWS`` rows) an outcome cut may set apart."""
OUTCOME_LEAF_ROWS = 200
"""The fewest rows an outcome cut may set apart by default (``PointsScorecard(tail_rows=...)``)."""


def outcome_cuts(values: np.ndarray, outcome: np.ndarray, least_rows: int = OUTCOME_LEAF_ROWS) -> np.ndarray:
    """Where a shallow decision tree on this one feature splits the outcome (supervised pre-binning, like
    ``optbinning``'s CART pre-binning): unrounded thresholds; none when too few rows for two leaves.

    A leaf holds at least 1% of the rows and at least ``least_rows``: a rate measured on 200 independent rows is good
    to about ±0.07, and on fewer a tree's best split is as often the luck of the sample as a real step."""
    present = ~np.isnan(values)
    leaf = max(int(OUTCOME_LEAF_SHARE * present.sum()), least_rows, 1)
    if present.sum() < 2 * leaf or len(np.unique(outcome[present])) < 2:
        return np.empty(0)
    tree = DecisionTreeClassifier(max_leaf_nodes=OUTCOME_LEAVES, min_samples_leaf=leaf, random_state=0)
    low, spread = own_scale(values[present])
    tree.fit(((values[present] - low) / spread).reshape(-1, 1), outcome[present])
    thresholds: np.ndarray = low + spread * tree.tree_.threshold[tree.tree_.feature >= 0]
    return thresholds


def candidate_cuts(
    values: np.ndarray,
    spec: FeatureSpec,
    n_bins: int,
    binning: str,
    outcome: np.ndarray | None = None,
    tail_rows: int = OUTCOME_LEAF_ROWS,
) -> list[float]:
    """The fine cut-points of one feature: one per value for few values, else rounded quantiles and staff cuts,
    and (given the ``outcome``, and ``tail_rows`` above 0) the rounded :func:`outcome_cuts` (leaves of at least
    ``tail_rows``) beyond the outermost quantile cuts: a quantile bin holds 5% of the rows, so a smaller tail whose
    outcome differs would be averaged into its neighbours (inside, the quantiles are fine enough, and a cut chosen by
    the outcome there fits the sample's noise as readily)."""
    present = values[~np.isnan(values)]
    distinct = np.unique(present)
    if len(distinct) <= 1:
        return []
    if len(distinct) <= PER_VALUE:
        return [float(v) for v in distinct[1:]]
    chosen = set(spec.cuts) if binning in ("staff", "both") else set()
    if binning in ("quantile", "both") or not chosen:
        step = None
        if spec.data_step:
            integer = bool(np.all(distinct == np.round(distinct)))
            step = max(1.0, nice_step(present)) if integer else nice_step(present)
        rounding = step or ROUNDING.get(spec.unit, 1.0)
        quantiles = cut_points(values, n_bins, spec.unit, rounding)
        chosen |= set(quantiles)
        if outcome is not None and quantiles and tail_rows > 0:
            found = rounded_cuts(outcome_cuts(values, outcome, tail_rows), present, rounding)
            chosen |= {c for c in found if c < quantiles[0] or c > quantiles[-1]}  # tails finer than a quantile bin
    return sorted(chosen)


def bin_index(values: np.ndarray, cuts: list[float]) -> np.ndarray:
    """Band number of each value (0 .. len(cuts)); -1 for missing. Bands are ``[cut_i, cut_i+1)``."""
    index = np.searchsorted(np.asarray(cuts, dtype=float), values, side="right")
    return np.where(np.isnan(values), -1, index)


def bin_or_no_data(values: np.ndarray, cuts: list[float]) -> np.ndarray:
    """Bin number of each value with "no data" as the bin after the last band (0 .. len(cuts) + 1)."""
    index = bin_index(values, cuts)
    return np.where(index < 0, len(cuts) + 1, index)


def tied_bins(values: np.ndarray, cuts: list[float], tie: int | None) -> np.ndarray:
    """:func:`bin_or_no_data`, with "no data" in band ``tie`` where one is named."""
    index = bin_or_no_data(values, cuts)
    return index if tie is None else np.where(index == len(cuts) + 1, tie, index)


def design_matrix(X: np.ndarray, cuts: list[list[float]], tied: list[int | None] | None = None) -> sparse.csr_matrix:
    """One-hot columns (sparse): for each feature, its bands then its "no data" column. Where ``tied[j]`` names a
    band, feature j has no "no data" column: its missing rows are in that band."""
    rows, columns = [], []
    offset = 0
    for j, feature_cuts in enumerate(cuts):
        tie = None if tied is None else tied[j]
        index = tied_bins(X[:, j], feature_cuts, tie)
        rows.append(np.arange(len(X)))
        columns.append(offset + index)
        offset += len(feature_cuts) + (1 if tie is not None else 2)
    if not rows:
        return sparse.csr_matrix((len(X), 0))
    row = np.concatenate(rows)
    return sparse.csr_matrix((np.ones(len(row)), (row, np.concatenate(columns))), shape=(len(X), offset))


def feature_weights(
    weights: np.ndarray, cuts: list[list[float]], tied: list[int | None] | None = None
) -> list[tuple[int, np.ndarray, float]]:
    """Each feature's first column, band weights and "no data" weight, from weights in :func:`design_matrix`'s
    column order (a tied "no data" has no column: it weighs what its band weighs).

    >>> [(start, band.tolist(), no_data) for start, band, no_data in feature_weights(
    ...     np.array([0.0, 1, 2, 3, 4, 5]), [[1.0], [2.0, 3.0]], [None, 1])]
    [(0, [0.0, 1.0], 2.0), (3, [3.0, 4.0, 5.0], 4.0)]
    """
    found, start = [], 0
    for f, feature_cuts in enumerate(cuts):
        n = len(feature_cuts) + 1
        tie = None if tied is None else tied[f]
        band = weights[start : start + n].copy()
        found.append((start, band, float(band[tie]) if tie is not None else float(weights[start + n])))
        start += n + (0 if tie is not None else 1)
    return found


EVIDENCE_PRIOR_ROWS = 2.0
"""Pupils at the base rate added to every bin when its weight of evidence is measured (so an empty or one-pupil bin
has a finite one, near 0)."""


def weight_of_evidence(bins: np.ndarray, y: np.ndarray, size: int) -> np.ndarray:
    """The outcome's log-odds in each of ``size`` bins (numbered as :func:`bin_or_no_data` numbers them: bands, then
    "no data") less the base log-odds, each bin smoothed toward the base rate by ``EVIDENCE_PRIOR_ROWS`` pupils.

    >>> weight_of_evidence(np.array([0, 0, 1, 1, 2]), np.array([0, 0, 1, 1, 1]), 3).round(2)
    array([-1.25,  0.98,  0.61])
    """
    rows = np.bincount(bins, minlength=size).astype(float)
    positive = np.bincount(bins, weights=y.astype(float), minlength=size)
    base = float(np.clip(np.mean(y), 1e-6, 1 - 1e-6))
    rate = (positive + EVIDENCE_PRIOR_ROWS * base) / (rows + EVIDENCE_PRIOR_ROWS)
    evidence: np.ndarray = np.log(rate / (1 - rate)) - math.log(base / (1 - base))
    return evidence


def _fit_additive(
    X: np.ndarray, y: np.ndarray, cuts: list[list[float]], C: float, toward_evidence: bool = False
) -> tuple[list[np.ndarray], list[float], np.ndarray, float]:
    """Per feature: band weights and the "no data" weight of an L2 logistic regression on one-hot bins; the
    fitted probabilities; and ``C``. ``toward_evidence``: with a weight-of-evidence column per feature beside its
    bins (module notes, step 2); a bin's weight is then its own plus the feature's evidence weight times its WoE."""
    design = design_matrix(X, cuts)
    if design.shape[1] == 0:
        return [np.zeros(1) for _ in cuts], [0.0 for _ in cuts], np.full(len(y), float(np.mean(y))), C
    evidence = []
    if toward_evidence:
        bins = [bin_or_no_data(X[:, j], c) for j, c in enumerate(cuts)]
        evidence = [weight_of_evidence(b, y, len(c) + 2) for b, c in zip(bins, cuts, strict=True)]
        # each column less its most common bin's value: those rows hold no entry in the sparse design (a flag's
        # common value, most rows of a one-hot table), and the unpenalised intercept takes up the shift: the same fit
        columns = [e[b] - e[np.bincount(b).argmax()] for e, b in zip(evidence, bins, strict=True)]
        design = sparse.hstack([design, sparse.csr_matrix(np.column_stack(columns))], format="csr")
    model = _logistic(design, y, C, None)
    weights = model.coef_[0]
    bands, missing = [], []
    for j, (_, band, no_data) in enumerate(feature_weights(weights, cuts)):
        if evidence:
            n, slope = len(band), float(weights[design.shape[1] - len(cuts) + j])
            band, no_data = band + slope * evidence[j][:n], no_data + slope * float(evidence[j][n])
        bands.append(band)
        missing.append(no_data)
    return bands, missing, model.predict_proba(design)[:, 1], C


def _monotone(weights: np.ndarray, information: np.ndarray, increasing: bool) -> np.ndarray:
    if len(weights) < 2:
        return weights.copy()
    fitted: np.ndarray = isotonic_regression(weights, weights=np.maximum(information, 1e-9), increasing=increasing).x
    return fitted


def shape(weights: np.ndarray, information: np.ndarray, higher_is_worse: bool | None) -> tuple[np.ndarray, int]:
    """The feature's shape and direction (+1 higher is worse, -1 better, 0 free); see the module notes, step 3."""
    if higher_is_worse is not None:
        return _monotone(weights, information, higher_is_worse), 1 if higher_is_worse else -1
    rising = _monotone(weights, information, True)
    falling = _monotone(weights, information, False)
    misfit_rising = float(np.sum(information * (weights - rising) ** 2))
    misfit_falling = float(np.sum(information * (weights - falling) ** 2))
    best, direction, misfit = (
        (rising, 1, misfit_rising) if misfit_rising <= misfit_falling else (falling, -1, misfit_falling)
    )
    if misfit > NON_MONOTONE_DEVIANCE:
        return weights.copy(), 0
    return best, direction


def segments(values: np.ndarray, weights: np.ndarray, most: int) -> list[tuple[float, list[int]]]:
    """For k = 1 .. ``most``: the least weighted squared error of ``values`` cut into k consecutive runs, and where
    each run starts (dynamic programming over the bins)."""
    n = len(values)
    w = np.maximum(weights, 1e-12)
    cw = np.concatenate([[0.0], np.cumsum(w)])
    cwx = np.concatenate([[0.0], np.cumsum(w * values)])
    cwxx = np.concatenate([[0.0], np.cumsum(w * values**2)])

    def cost(i: int, j: int) -> float:  # bins i .. j-1 as one run
        total = cw[j] - cw[i]
        mean = (cwx[j] - cwx[i]) / total
        return float(max(cwxx[j] - cwxx[i] - total * mean**2, 0.0))

    most = min(most, n)
    best = np.full((most + 1, n + 1), np.inf)
    start = np.zeros((most + 1, n + 1), dtype=int)
    best[0, 0] = 0.0
    for k in range(1, most + 1):
        for j in range(k, n + 1):
            for i in range(k - 1, j):
                candidate = best[k - 1, i] + cost(i, j)
                if candidate < best[k, j]:
                    best[k, j], start[k, j] = candidate, i
    found = []
    for k in range(1, most + 1):
        starts, j = [], n
        for level in range(k, 0, -1):
            i = int(start[level, j])
            starts.append(i)
            j = i
        found.append((float(best[k, n]), sorted(starts)))
    return found


def allocate(errors: list[list[float]], least_gain: float, refine_price: float = 1.0) -> list[int]:
    """How many bands each feature gets (0 = left out, else at least 2): the count that removes the most error less
    ``least_gain`` for each band. ``errors[f][k - 1]`` is feature f's error with k bands. A strong feature (its two
    bands remove at least ``STRONG_SPLIT``) pays ``refine_price`` times ``least_gain`` for its third and later bands.

    >>> allocate([[10.0, 2.0, 1.0], [5.0, 4.5], [8.0, 1.0, 0.0]], least_gain=0.5)
    [3, 0, 3]
    >>> allocate([[30.0, 10.0, 9.4, 8.8], [3.0, 0.0, -0.4]], least_gain=1.0)
    [2, 2]
    >>> allocate([[30.0, 10.0, 9.4, 8.8], [3.0, 0.0, -0.4]], least_gain=1.0, refine_price=0.5)
    [4, 2]
    """
    counts = []
    for feature_errors in errors:
        strong = len(feature_errors) > 1 and feature_errors[0] - feature_errors[1] >= STRONG_SPLIT
        discount = least_gain * (1 - refine_price) if strong else 0.0

        def value(k: int, e: list[float] = feature_errors, d: float = discount) -> float:
            return e[0] - e[k - 1] - least_gain * k + d * max(k - 2, 0)

        found = [k for k in range(2, len(feature_errors) + 1) if value(k) > 0]
        counts.append(max(found, key=value, default=0))
    return counts


@dataclass
class Refit:
    """The chosen bands refitted within the card's rules (step 5), for the features still on the card."""

    features: list[int]
    """Which of the columns given (their positions) are still on the card."""
    cuts: list[list[float]]
    bands: list[np.ndarray]
    """Each feature's weight per band (log-odds)."""
    missing: list[float]
    """Each feature's "no data" weight: its tied band's, where "no data" is tied to a band."""
    tied: list[int | None]
    has_missing: list[bool]
    """Whether the feature had missing rows (a "no data" line that may score)."""
    design: sparse.csr_matrix
    """One row per distinct combination of bands and outcome among the training rows (``rows`` says how many)."""
    probability: np.ndarray
    """The fitted probability of each design row."""
    weights: np.ndarray
    """The design's weights, in its column order."""
    C: float
    rows: np.ndarray
    """How many training rows each design row stands for."""

    @property
    def scoring_lines(self) -> int:
        """Lines that may give points: a feature's bands but its best, and its "no data" unless tied to its best."""
        total = 0
        for f, cuts in enumerate(self.cuts):
            total += len(cuts)
            tie = self.tied[f]
            if self.has_missing[f] and not (tie is not None and self.bands[f][tie] <= self.bands[f].min()):
                total += 1
        return total


def _start(
    bands: list[np.ndarray], missing: list[float], merges: dict[int, int], tied: list[int | None], intercept: float
) -> np.ndarray:
    """Where the next refit starts: each feature's bands as fitted, a merged pair (``merges``: feature -> its first
    band) at their mean, a "no data" column unless ``tied``, then the intercept. The penalised fit has one optimum,
    so a start changes only how many Newton steps reach it."""
    parts: list[float] = []
    for f, (band, no_data) in enumerate(zip(bands, missing, strict=True)):
        values = [float(w) for w in band]
        if f in merges:
            a = merges[f]
            values[a : a + 2] = [(values[a] + values[a + 1]) / 2]
        parts += values + ([] if tied[f] is not None else [no_data])
    return np.array([*parts, intercept])


def _logistic(
    design: sparse.csr_matrix, y: np.ndarray, C: float, start: np.ndarray | None, rows: np.ndarray | None = None
) -> LogisticRegression:
    """The learner's L2 logistic regression (the fine fit's and every refit's), from ``start`` (weights then
    intercept) where it fits the design; from zero without one. ``rows``: how many training rows each design row
    stands for (its sample weight: the same fit as that many copies of it)."""
    model = LogisticRegression(C=C, max_iter=2000, tol=1e-6, solver="newton-cholesky", warm_start=True)
    if start is not None and len(start) == design.shape[1] + 1:
        model.coef_, model.intercept_ = start[None, :-1].copy(), start[-1:].copy()  # read by warm_start
    return model.fit(design, y, sample_weight=rows)


def distinct_rows(
    X: np.ndarray, y: np.ndarray, cuts: list[list[float]], tied: list[int | None]
) -> tuple[np.ndarray, np.ndarray]:
    """The first training row of each distinct combination of bins (as :func:`design_matrix` makes them, "no data"
    tied where ``tied`` says) and outcome, and how many rows have it: a coarse card's design has far fewer distinct
    rows than a long history has rows, and a refit on them, each weighted by its count, is the same fit.

    >>> distinct_rows(np.array([[0.0], [5.0], [1.0], [np.nan], [6.0]]), np.array([0, 1, 0, 1, 0]), [[2.0]], [1])
    (array([0, 4, 1]), array([2, 1, 2]))
    """
    key = np.zeros(len(y), dtype=np.int64)  # each row's bins as one number, in mixed radix (one sort, not a lexsort)
    columns = [(tied_bins(X[:, j], c, tied[j]), len(c) + 2) for j, c in enumerate(cuts)]
    for values, size in [*columns, (np.asarray(y, dtype=np.int64), 2)]:
        if int(key.max()) >= np.iinfo(np.int64).max // size - 1:  # renumber the keys so far 0, 1, ... in order
            key = np.unique(key, return_inverse=True)[1].astype(np.int64)
        key = key * size + values
    _, first, counts = np.unique(key, return_index=True, return_counts=True)
    return first, counts


def refit_within_rules(
    X: np.ndarray,
    y: np.ndarray,
    cuts: list[list[float]],
    directions: list[int],
    C: float,
    start: np.ndarray | None = None,
) -> Refit:
    """Refit the chosen bands (columns of ``X``) so the fit itself keeps the card's rules, not a rounding of it: a
    feature with a direction never steps the other way, and "no data" scores between its feature's best and worst
    band. An active set: where the fit breaks a rule, the two bands that step the wrong way become one, or "no
    data" joins the band it went past, and the model is refitted, until no rule is broken. Each fit starts from the
    last (:func:`_start`; the first from ``start``, with a "no data" column for every feature)."""
    cuts = [list(c) for c in cuts]
    features = list(range(len(cuts)))
    has_missing = [bool(np.isnan(X[:, j]).any()) for j in range(X.shape[1])]
    tied: list[int | None] = [None] * len(cuts)
    if not cuts:
        empty = sparse.csr_matrix((len(y), 0))
        return Refit([], [], [], [], [], [], empty, np.full(len(y), float(np.mean(y))), np.zeros(1), C, np.ones(len(y)))
    while True:
        first, rows = distinct_rows(X, y, cuts, tied)
        design = design_matrix(X[first], cuts, tied)
        model = _logistic(design, y[first], C, start, rows)
        weights = model.coef_[0]
        bands, missing, merges, broken = [], [], {}, False
        for f, (_, band, no_data) in enumerate(feature_weights(weights, cuts, tied)):
            tie = tied[f]
            bands.append(band)
            missing.append(no_data)
            if directions[f] != 0 and len(band) > 1:
                steps = np.diff(band) * directions[f]
                wrong = int(np.argmin(steps))
                if steps[wrong] < -1e-9:  # bands wrong and wrong + 1 become one
                    del cuts[f][wrong]
                    merges[f] = wrong
                    if tie is not None and tie > wrong:
                        tied[f] = tie - 1
                    broken = True
                    continue
            if tie is None and has_missing[f] and not band.min() - 1e-9 <= no_data <= band.max() + 1e-9:
                tied[f] = int(np.argmax(band)) if no_data > band.max() else int(np.argmin(band))
                broken = True
        start = _start(bands, missing, merges, tied, float(model.intercept_[0]))
        if not broken:
            return Refit(
                features,
                cuts,
                bands,
                missing,
                tied,
                has_missing,
                design,
                model.predict_proba(design)[:, 1],
                np.concatenate([weights, model.intercept_]),
                C,
                rows,
            )


def merge_to_budget(
    X: np.ndarray, y: np.ndarray, cuts: list[list[float]], directions: list[int], C: float, budget: int | None
) -> Refit:
    """The card within ``budget`` scoring lines (step 4): from the bands the fine shapes earn, the two neighbouring
    bands the refitted card can best spare are merged, and the card refitted, until it keeps to the budget. Which
    two: the smallest Wald statistic of their weights' difference (its square over its variance, from the refit's
    Fisher information), per line saved; a quarter of the lines over budget are merged at a time, at most one pair
    per feature. A feature whose bands all merge leaves the card."""
    features = list(range(len(cuts)))
    cuts = [list(c) for c in cuts]
    directions = list(directions)
    start: np.ndarray | None = None
    while True:
        for f in reversed([f for f in range(len(cuts)) if not cuts[f]]):  # one band says nothing: off the card
            del cuts[f], features[f], directions[f]
        fit = refit_within_rules(X[:, features], y, cuts, directions, C, start)
        fit.features, cuts = features, fit.cuts  # the refit may have merged bands that stepped the wrong way
        if not all(cuts):
            continue
        over = 0 if budget is None else fit.scoring_lines - budget
        if over <= 0:
            return fit
        design = sparse.hstack([fit.design, np.ones((fit.design.shape[0], 1))], format="csr")
        information_per_row = fit.rows * fit.probability * (1 - fit.probability)
        information = (design.T @ design.multiply(information_per_row[:, None])).toarray()
        information[:-1, :-1] += np.eye(design.shape[1] - 1) / C  # the refit's L2 penalty
        covariance = np.linalg.pinv(information)
        w = fit.weights
        candidates = []
        for f, (first, band, _) in enumerate(feature_weights(w, cuts, fit.tied)):
            n = len(band)
            saved = 1 + int(n == 2 and fit.has_missing[f])  # the feature's last cut takes its "no data" line too
            for a in range(n - 1):
                i, k = first + a, first + a + 1
                variance = covariance[i, i] + covariance[k, k] - 2 * covariance[i, k]
                candidates.append(((w[i] - w[k]) ** 2 / max(variance, 1e-12) / saved, f, a))
        merged: dict[int, int] = {}
        for _, f, a in sorted(candidates):
            if f not in merged:
                merged[f] = a
            if len(merged) == max(1, over // 4):
                break
        start = _start(fit.bands, fit.missing, merged, [None] * len(cuts), float(w[-1]))  # the refit starts untied
        for f, a in merged.items():
            del cuts[f][a]


def representatives(X: np.ndarray, y: np.ndarray, least_rho: float = NEAR_COPY_RHO) -> list[int]:
    """The columns the learner keeps (step 0), in column order: of columns that have a value on the same rows and
    rank them almost alike (Spearman rank correlation at least ``least_rho`` in size), only the one that orders the
    outcome best (Somers' D over those rows; the first column on a tie). Columns with "no data" on other rows are
    not copies: where a value is missing says something of its own."""
    rho = pd.DataFrame(X).corr(method="spearman").abs().to_numpy(copy=True)
    missing = np.isnan(X)
    copies = np.nan_to_num(rho, nan=0.0) >= least_rho
    for i, j in zip(*np.nonzero(copies), strict=True):
        copies[i, j] = np.array_equal(missing[:, i], missing[:, j])
    kept: list[int] = []
    for j in sorted(range(X.shape[1]), key=lambda j: -_somers_d(X[:, j], y)):
        if not copies[j, kept].any():
            kept.append(j)
    return sorted(kept)


def screened(X: np.ndarray, y: np.ndarray, columns: list[int]) -> list[int]:
    """Of ``columns``, at most n / ln n (n the rows; Fan and Lv's sure independence screening), those that order the
    outcome best on their own (Somers' D; the first column on a tie), in column order. A table wider than that
    gives the fine fit (step 2) more bins than rows: it fits the sample, every feature's information shrinks, and
    the card can come out empty.

    >>> x = np.arange(10.0)  # 10 rows: at most 4 columns
    >>> screened(np.column_stack([x % 2, x % 3, x, x % 5, x // 2, x // 3]), (x > 4).astype(int), [0, 1, 2, 3, 4, 5])
    [0, 2, 4, 5]
    """
    most = max(1, int(len(y) / math.log(len(y)))) if len(y) > 2 else 1
    if len(columns) <= most:
        return list(columns)
    order = sorted(columns, key=lambda j: -_somers_d(X[:, j], y))
    return sorted(order[:most])


def _somers_d(values: np.ndarray, y: np.ndarray) -> float:
    """How well a column orders the outcome either way round: |2 AUC - 1| over the rows where it has a value."""
    present = ~np.isnan(values)
    if len(np.unique(y[present])) < 2:
        return 0.0
    return float(abs(2 * roc_auc_score(y[present], values[present]) - 1))


def fit_features(
    X: np.ndarray,
    y: np.ndarray,
    specs: list[FeatureSpec],
    n_bins: int = 20,
    C: float = 0.1,
    max_points: int = 20,
    binning: str = "quantile",
    max_bands: int | None = 30,
    least_gain: float | None = None,
    scale: float | None = None,
    tail_rows: int = OUTCOME_LEAF_ROWS,
    refine_price: float = REFINE_PRICE,
) -> list[LearnedFeature]:
    """Learn the scored features (see the module notes); features that earn no band are left out.

    ``tail_rows``: the fewest rows a tail cut found from the outcome may set apart (step 1); 0 for none.
    ``refine_price``: the share of the price a strong feature pays for its third and later bands (step 4); 1 for
    the full price.
    ``scale``: points per unit of log-odds to use instead of the one that gives the heaviest band ``max_points``
    (to score held-out rows on the same scale as a card learned on all of them).
    ``least_gain``: what each band line must buy, in deviance (roughly, from the fine shapes' Fisher information);
    by default 1 (measured on the fine model's shrunken shapes, so below the Akaike criterion's 2)."""
    if binning not in ("quantile", "staff", "both"):
        raise ValueError(f"binning must be quantile, staff or both, not {binning!r}")
    fine = [candidate_cuts(X[:, j], spec, n_bins, binning, y, tail_rows) for j, spec in enumerate(specs)]
    weights, _, fitted, C = _fit_additive(X, y, fine, C, toward_evidence=True)
    information_per_row = fitted * (1 - fitted)
    shapes, errors, directions = [], [], []
    for j, spec in enumerate(specs):
        index = bin_index(X[:, j], fine[j])
        information = np.array([information_per_row[index == b].sum() for b in range(len(fine[j]) + 1)])
        curve, direction = shape(weights[j], information, spec.higher_is_worse)
        found = segments(curve, information, len(curve))
        shapes.append((curve, information, found))
        errors.append([error for error, _ in found])
        directions.append(direction)
    counts = allocate(errors, 1.0 if least_gain is None else least_gain, refine_price)
    kept = [j for j, k in enumerate(counts) if k > 0]
    coarse: list[list[float]] = []
    for j in kept:
        starts = shapes[j][2][counts[j] - 1][1]
        coarse.append([fine[j][s - 1] for s in starts if s > 0])
    if not kept:
        return []
    fit = merge_to_budget(X[:, kept], y, coarse, [directions[j] for j in kept], C * 10, max_bands)
    return _integer_points(
        fit, [kept[f] for f in fit.features], [directions[kept[f]] for f in fit.features], max_points, scale
    )


def _integer_points(
    fit: Refit, columns: list[int], directions: list[int], max_points: int, scale: float | None
) -> list[LearnedFeature]:
    """Shift each feature so its best band scores 0, scale so the heaviest feature's worst band scores
    ``max_points`` (or by ``scale``), and round (step 5)."""
    raw = [
        (band - float(band.min()), missing - float(band.min()))
        for band, missing in zip(fit.bands, fit.missing, strict=True)
    ]
    if scale is None:
        heaviest = max((float(b.max()) for b, _ in raw), default=0.0)
        scale = max_points / heaviest if heaviest > 0 else 0.0
    learned = []
    for f, j in enumerate(columns):
        curve, missing_weight = raw[f]
        points = [int(np.rint(w * scale)) for w in curve]
        missing = int(min(max(np.rint(missing_weight * scale), 0), max(points)))
        if not fit.has_missing[f]:
            missing = 0  # never seen missing: no evidence either way
        if max(points) == 0 and missing == 0:
            continue
        learned.append(LearnedFeature(j, fit.cuts[f], points, missing, directions[f], scale, fit.C))
    return learned


RAMP_ENDS = (0.02, 0.98)
"""The quantiles of a column's values a ramp runs between (:func:`fit_ramps`): beyond them, points stay level."""
RAMP_SHRINK = 0.7
"""How much the L1 fit of :func:`fit_ramps` tightens at a time until the card keeps to ``max_lines``."""
SHARED_END = 0.1
"""A bent ramp (:func:`ramp_knots`) gives its end value points of its own where at least this share of the values
sit at that end: 0 absences, full marks (in UCI maths, 29% of pupils had no absences and 43% of them failed, against
18% of those with one or two)."""


def ramp_ends(values: np.ndarray, step: float | None = None) -> tuple[float, float]:
    """Where a ramp of ``values`` starts and ends: their 2nd and 98th percentiles (:data:`RAMP_ENDS`), rounded
    outward to the data's step (:func:`nice_step`), so a card reads "from 0 at 2 to +12 at 8", not at 2.0417. A
    flag's (two values) are its two values, however rare either is.

    >>> ramp_ends(np.arange(0.0, 101.0))
    (2.0, 98.0)
    >>> ramp_ends(np.array([0.0, 1.0, 1.0, np.nan]))
    (0.0, 1.0)
    >>> ramp_ends(np.r_[np.zeros(99), 1.0])
    (0.0, 1.0)
    """
    present = values[~np.isnan(values)]
    if len(present) == 0:
        return 0.0, 0.0
    distinct = np.unique(present)
    if len(distinct) == 2:
        return float(distinct[0]), float(distinct[1])
    low, high = (float(q) for q in np.quantile(present, RAMP_ENDS, method="inverted_cdf"))
    step = step or nice_step(present)
    places = _places(step)
    return round(math.floor(low / step) * step, places), round(math.ceil(high / step) * step, places)


def _places(step: float) -> int:
    """Decimal places to round a multiple of ``step`` to: 6, or the step's own and two more where it is finer (a
    feature in billionths kept no ramp: its ends both rounded to 0).

    >>> _places(1.0), _places(0.001), _places(2e-9)
    (6, 6, 11)
    """
    return max(6, 2 - math.floor(math.log10(step)))


def ramp_knots(values: np.ndarray, bend: bool = False) -> list[float]:
    """The values, ascending, a ramp of ``values`` has its knots at: its :func:`ramp_ends`, and with ``bend`` (for a
    column of more than :data:`PER_VALUE` values) the median between them, rounded to the data's step, where a
    ramp's slope may change; and next to an end value at least :data:`SHARED_END` of the values share (its nearest
    value inward), so that end value scores points of its own: the pupils with no absences, or full marks, may
    differ from the rest in ways no line through the others follows.

    >>> ramp_knots(np.arange(0.0, 101.0)), ramp_knots(np.arange(0.0, 101.0), bend=True)
    ([2.0, 98.0], [2.0, 50.0, 98.0])
    >>> ramp_knots(np.array([0.0, 1.0, 1.0, 2.0]), bend=True)
    [0.0, 2.0]
    >>> ramp_knots(np.r_[np.zeros(30), np.arange(1.0, 71.0)], bend=True)  # 30% at 0: a knot at 1 as well
    [0.0, 1.0, 20.0, 68.0]
    """
    low, high = ramp_ends(values)
    present = values[~np.isnan(values)]
    distinct = np.unique(present)
    if not bend or len(distinct) <= PER_VALUE:
        return [low, high]
    step = nice_step(present)
    middle = round(round(float(np.quantile(present, 0.5, method="inverted_cdf")) / step) * step, _places(step))
    knots = [low, middle, high] if low < middle < high else [low, high]
    if distinct[0] == low and np.mean(present == low) >= SHARED_END and low < distinct[1] < knots[1]:
        knots.insert(1, float(distinct[1]))
    if distinct[-1] == high and np.mean(present == high) >= SHARED_END and knots[-2] < distinct[-2] < high:
        knots.insert(len(knots) - 1, float(distinct[-2]))
    return knots


def fit_ramps(
    X: np.ndarray, y: np.ndarray, C: float = 1.0, max_points: int = 20, max_lines: int | None = 30,
    scale: float | None = None, bend: bool = False,
) -> list[LearnedFeature]:  # fmt: skip
    """Learn a card of ramps, one per scored column: points rise in equal steps between the column's
    :func:`ramp_ends` (a flag's are its two values, and it then scores as two bands), level beyond them, in the
    direction the data give, with "no data" points where values are missing. With ``bend``, a column of many values
    has two slopes that meet at its median (:func:`ramp_knots`), each free in size and direction: the outcome's
    log-odds may fall slowly over one half of a grade's range and steeply over the other; and an end value many
    pupils share (0 absences) has a step of its own beside them. An L1-penalised logistic
    regression (``C``) on each column clipped to each part between its knots and put on 0-1 (plus a 0/1 column for
    "no data" where values are missing) chooses the columns and their weights; the penalty tightens
    (:data:`RAMP_SHRINK`) until at most ``max_lines`` lines score. Points per log-odds as in :func:`fit_features`
    (``scale``, or the ramp with the most log-odds between its lowest and highest knot scores ``max_points``).
    Where the outcome's log-odds are close to linear in many columns, a few bands per column cannot order pupils
    within each band, and this card does better."""
    knots = [ramp_knots(X[:, j], bend) for j in range(X.shape[1])]
    usable = [j for j, at in enumerate(knots) if at[-1] > at[0]]
    flags = {j for j in usable if len(np.unique(X[~np.isnan(X[:, j]), j])) == 2}  # scored as two bands
    if not usable or len(np.unique(y)) < 2:
        return []
    blocks: list[np.ndarray] = []
    owners: list[tuple[int, int | str]] = []  # each design column's (feature, part number or "no data")
    centres: dict[tuple[int, int], float] = {}
    for j in usable:
        column = X[:, j]
        missing = np.isnan(column)
        for part, (low, high) in enumerate(itertools.pairwise(knots[j])):
            share = (np.clip(column, low, high) - low) / (high - low)
            centres[j, part] = float(np.nanmean(share))  # (a usable column has values)
            blocks.append(np.where(missing, centres[j, part], share))  # "no data" at the usual pupil's place
            owners.append((j, part))
        if missing.any():
            blocks.append(missing.astype(float))  # and how far "no data" differs from that
            owners.append((j, "no data"))
    design = np.column_stack(blocks)
    while True:
        model = LogisticRegression(C=C, l1_ratio=1.0, solver="liblinear", max_iter=5000, random_state=0).fit(design, y)
        weights = dict(zip(owners, model.coef_[0], strict=True))
        learned = _ramps(weights, knots, centres, usable, flags, scale, max_points, C)
        if max_lines is None or sum(1 + (f.missing > 0) for f in learned) <= max_lines:
            return learned
        C *= RAMP_SHRINK


def _ramps(
    weights: dict[tuple[int, int | str], float],
    knots: list[list[float]],
    centres: dict[tuple[int, int], float],
    usable: list[int],
    flags: set[int],
    scale: float | None,
    max_points: int,
    C: float,
) -> list[LearnedFeature]:
    """The ramps of :func:`fit_ramps`'s logistic regression (``weights`` of each (feature, part) and (feature,
    "no data")) in whole points; a column whose ramp earns no whole point is left out, its "no data" with it. A
    column of ``flags`` (two values) scores as two bands."""
    log_odds = {  # each usable column's log-odds at its knots, above its first
        j: np.cumsum([0.0, *(weights[j, part] for part in range(len(knots[j]) - 1))]) for j in usable
    }
    if scale is None:
        heaviest = max((float(np.ptp(at)) for at in log_odds.values()), default=0.0)
        scale = max_points / heaviest if heaviest > 0 else 0.0
    learned = []
    for j in usable:
        lowest = float(log_odds[j].min())
        knot_points = [int(p) for p in np.rint((log_odds[j] - lowest) * scale)]
        points = max(knot_points)
        if points == 0:
            continue
        missing = 0
        if (j, "no data") in weights:  # "no data" where values were missing: the log-odds there above the lowest
            parts = range(len(knots[j]) - 1)
            above = sum(weights[j, part] * centres[j, part] for part in parts) + weights[j, "no data"] - lowest
            missing = int(min(max(np.rint(above * scale), 0), points))
        changes = np.diff(knot_points)
        rises, falls = bool((changes > 0).any()), bool((changes < 0).any())
        direction = 0 if rises and falls else 1 if rises else -1
        if j in flags:  # a ramp between a flag's two values is the flag: a card reads it as "1: +5", not a ramp
            learned.append(LearnedFeature(j, [knots[j][1]], knot_points, missing, direction, scale, C, by_ramps=True))
            continue
        ramp = simplest_ramp(list(zip(knots[j], knot_points, strict=True)))
        steps = [b.points for b in ramp.bands("")]
        learned.append(LearnedFeature(j, ramp.steps(), steps, missing, direction, scale, C, ramp, by_ramps=True))
    return learned


def simplest_ramp(knots: list[tuple[float, int]]) -> Ramp:
    """The :class:`Ramp` through ``knots`` (values ascending, whole points, the lowest 0) with the fewest knots that
    scores the same at each: an end knot level with its neighbour is left out (the ramp is level beyond the
    neighbour), then a middle knot its neighbours' line passes through at its whole points. It reads from its 0
    end where it has one.

    >>> simplest_ramp([(0.0, 0), (5.0, 3), (10.0, 3)]).knots
    ((0.0, 0), (5.0, 3))
    >>> simplest_ramp([(0.0, 6), (5.0, 3), (10.0, 0)]).knots
    ((10.0, 0), (0.0, 6))
    >>> simplest_ramp([(0.0, 0), (5.0, 1), (10.0, 9)]).knots
    ((0.0, 0), (5.0, 1), (10.0, 9))
    """
    while len(knots) > 2 and knots[0][1] == knots[1][1]:
        knots = knots[1:]
    while len(knots) > 2 and knots[-1][1] == knots[-2][1]:
        knots = knots[:-1]
    kept = [knots[0]]
    for (value, points), after in itertools.pairwise(knots[1:]):
        if points_on_line(kept[-1], after, value) != points:
            kept.append((value, points))
    kept.append(knots[-1])
    return Ramp(tuple(kept if kept[0][1] == 0 or kept[-1][1] != 0 else kept[::-1]))


def learned_feature(
    template: FeatureCard,
    cuts: list[float],
    points: list[int],
    missing: int,
    observed: np.ndarray | None = None,
    ramp: Ramp | None = None,
    by_ramps: bool = False,
) -> FeatureCard:
    """A scorecard feature with learned bands (or a ``ramp``), keeping the template's words (description, focus,
    unit, reason). ``by_ramps``: learned by :func:`fit_ramps` (a flag there has bands and no ramp).

    ``observed``: the training values; a band that holds only one of them is labelled with that value, and the
    feature's ``usual_points`` are the median of the points over them (missing values included). Where none of them
    is missing, "no data" scores those usual points: a value missing only when the card is used says nothing either
    way, and scoring it 0 gave the pupil the card's lowest risk (a missing first-term grade read as the safest
    pupil of the year)."""
    if observed is not None and len(observed) and not np.isnan(observed).any():
        missing = usual_points(cuts, points, 0, observed)
    if ramp is not None:  # its steps are its bands
        bands = ramp.bands(ramp.words(template.unit))
        how = (
            "Learned from outcomes: an L1-penalised logistic regression on the stable features, each clipped to its "
            "2nd and 98th percentiles, the points "
            + (
                "changing in equal steps along lines that meet at its median (and next to an end value many pupils "
                "share, which may score points of its own). "
                if len(ramp.knots) > 2
                else "rising in equal steps between them. "
            )
        )
    else:
        edges: list[float | None] = [None, *cuts, None]
        merged: list[tuple[float | None, float | None, int]] = []
        for i, band_points in enumerate(points):  # neighbouring bands with the same points read as one
            if merged and merged[-1][2] == band_points:
                merged[-1] = (merged[-1][0], edges[i + 1], band_points)
            else:
                merged.append((edges[i], edges[i + 1], band_points))
        distinct = None if observed is None else np.unique(observed[~np.isnan(observed)])
        bands = tuple(Band(low, high, p, band_label(low, high, template.unit, distinct)) for low, high, p in merged)
        how = (
            "Learned from outcomes: an L1-penalised logistic regression on the stable features (this one a flag, "
            "scoring its points at one of its two values). "
            if by_ramps  # a flag of a card of ramps
            else "Learned from outcomes: fine bins, an L2-regularised logistic regression on them (each feature's "
            "bins pulled toward its weight of evidence), the shape made "
            "monotone in the feature's direction (declared, or learned from the data) unless no monotone shape "
            "fits, then cut into few bands and refitted. "
        )
    return FeatureCard(
        name=template.name,
        description=template.description,
        focus=template.focus,
        unit=template.unit,
        rationale=how + f"The expert rationale: {template.rationale}",
        bands=bands,
        ramp=ramp,
        missing_points=missing,
        missing_label=template.missing_label,
        reason=template.reason,
        usual_points=0 if observed is None else usual_points(cuts, points, missing, observed),
    )


def usual_points(cuts: list[float], points: list[int], missing: int, observed: np.ndarray) -> int:
    """The median (the lower of two middle values) of the points the rows ``observed`` get from bands cut at
    ``cuts`` with ``points`` (a missing value: ``missing``).

    >>> usual_points([-27.0, 11.0, 28.0], [15, 11, 9, 0], 13, np.array([-30.0, -5.0, 2.0, 15.0, 40.0, np.nan]))
    11
    """
    if len(observed) == 0:
        return 0
    row_points = np.asarray([*points, missing], dtype=np.int64)[bin_or_no_data(observed, cuts)]
    return int(np.percentile(row_points, 50, method="lower"))


def band_label(lower: float | None, upper: float | None, unit: str, observed: np.ndarray | None = None) -> str:
    """Plain words for a band: "below 90%", "90% to under 95%", "95% or more"; a band holding a single observed
    value is named by it ("2")."""
    if observed is not None:
        inside = observed[
            (np.full(len(observed), True) if lower is None else observed >= lower)
            & (np.full(len(observed), True) if upper is None else observed < upper)
        ]
        if len(inside) == 1:
            return _shown(float(inside[0]), unit)
    if lower is None and upper is None:
        return "any value"
    if lower is None:
        return f"below {_shown(upper, unit)}"
    if upper is None:
        return f"{_shown(lower, unit)} or more"
    return f"{_shown(lower, unit)} to under {_shown(upper, unit)}"


def _shown(value: float | None, unit: str) -> str:
    assert value is not None
    if unit in ("percent", "share"):
        return f"{100 * value:g}%"
    if unit == "grades":
        return f"{value:+g} grades"
    if unit == "months":
        return f"{value:g} months"
    # As many significant digits as a cut has (a cut is rounded to its step; 2025.01 is not 2025), and never "-0".
    return f"{value + 0.0:.12g}" if not math.isnan(value) else "?"
