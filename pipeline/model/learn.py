"""Fitting a points scorecard from outcomes: binning, regularised logistic regression, monotone integer points.

Steps, each with a well-kept library piece:

1. Bins per feature from quantiles of the training values (scikit-learn ``KBinsDiscretizer``), with the cut-points
   rounded to values staff recognise (whole percentage points, half grades, whole months and counts), and a bin
   of its own for "no data".
2. One-hot bins into an L2-regularised ``LogisticRegression``: one weight per bin.
3. Within each feature, the weights are made monotone in the feature's declared direction (``IsotonicRegression``,
   weighted by how many pupils fall in each bin), so more absence can never earn fewer points.
4. Weights are shifted so the best bin scores 0, scaled so the heaviest feature's worst bin scores ``max_points``,
   and rounded to integers. "No data" never scores more than the feature's worst bin or less than 0.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import KBinsDiscretizer

from pipeline.model.card import Band, FeatureCard, Unit

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


@dataclass(frozen=True)
class FeatureSpec:
    """What the learner needs to know about one feature: its name, unit and which way is worse."""

    name: str
    unit: Unit | str = "count"
    higher_is_worse: bool = True
    cuts: tuple[float, ...] = ()
    """Staff-recognisable cut-points (the expert card's band edges), used by ``staff`` binning."""


def cut_points(values: np.ndarray, n_bins: int, unit: str) -> list[float]:
    """Ascending, distinct, rounded quantile cut-points of the non-missing ``values`` (at most ``n_bins - 1``)."""
    present = values[~np.isnan(values)]
    if len(np.unique(present)) < 2:
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # bins whose edges coincide are merged, as intended
        binner = KBinsDiscretizer(
            n_bins=min(n_bins, len(np.unique(present))),
            encode="ordinal",
            strategy="quantile",
            quantile_method="averaged_inverted_cdf",
        ).fit(present.reshape(-1, 1))
    inner = binner.bin_edges_[0][1:-1]
    step = ROUNDING.get(unit, 1.0)
    rounded = sorted({round(round(edge / step) * step, 6) for edge in inner})
    low, high = float(present.min()), float(present.max())
    return [c for c in rounded if low < c <= high]


def bin_index(values: np.ndarray, cuts: list[float]) -> np.ndarray:
    """Band number of each value (0 .. len(cuts)); -1 for missing. Bands are ``[cut_i, cut_i+1)``."""
    index = np.searchsorted(np.asarray(cuts, dtype=float), values, side="right")
    return np.where(np.isnan(values), -1, index)


def design_matrix(X: np.ndarray, cuts: list[list[float]]) -> np.ndarray:
    """One-hot columns: for each feature, its bands then its "no data" column."""
    columns = []
    for j, feature_cuts in enumerate(cuts):
        index = bin_index(X[:, j], feature_cuts)
        for band in range(len(feature_cuts) + 1):
            columns.append(index == band)
        columns.append(index == -1)
    return np.column_stack(columns).astype(float)


def fit_points(
    X: np.ndarray,
    y: np.ndarray,
    specs: list[FeatureSpec],
    n_bins: int = 5,
    C: float = 0.1,
    max_points: int = 10,
    binning: str = "quantile",
) -> tuple[list[list[float]], list[list[int]], list[int]]:
    """Learn cut-points, integer points per band and "no data" points for each feature (see the module notes).

    ``binning``: ``quantile`` (rounded quantiles of the data), ``staff`` (each spec's own cut-points, e.g. the
    expert card's 90% and 95%), or ``both`` (the union).
    """
    if binning not in ("quantile", "staff", "both"):
        raise ValueError(f"binning must be quantile, staff or both, not {binning!r}")
    cuts = []
    for j, spec in enumerate(specs):
        chosen = set(spec.cuts) if binning in ("staff", "both") else set()
        if binning in ("quantile", "both") or not chosen:
            chosen |= set(cut_points(X[:, j], n_bins, spec.unit))
        cuts.append(sorted(chosen))
    design = design_matrix(X, cuts)
    model = LogisticRegression(C=C, max_iter=5000, tol=1e-8).fit(design, y)
    weights = model.coef_[0]
    raw: list[tuple[np.ndarray, float]] = []
    position = 0
    for j, spec in enumerate(specs):
        bands = len(cuts[j]) + 1
        band_weights = weights[position : position + bands]
        missing_weight = float(weights[position + bands])
        position += bands + 1
        counts = np.array([(bin_index(X[:, j], cuts[j]) == b).sum() for b in range(bands)], dtype=float)
        if bands > 1:
            band_weights = (
                IsotonicRegression(increasing=spec.higher_is_worse)
                .fit(np.arange(bands), band_weights, sample_weight=np.maximum(counts, 1e-6))
                .predict(np.arange(bands))
            )
        best = float(band_weights.min())
        raw.append((band_weights - best, missing_weight - best))
    heaviest = max((float(b.max()) for b, _ in raw), default=0.0)
    scale = max_points / heaviest if heaviest > 0 else 0.0
    points: list[list[int]] = []
    missing: list[int] = []
    for band_weights, missing_weight in raw:
        feature_points = [int(np.rint(w * scale)) for w in band_weights]
        points.append(feature_points)
        missing.append(int(min(max(np.rint(missing_weight * scale), 0), max(feature_points))))
    return cuts, points, missing


def learned_feature(template: FeatureCard, cuts: list[float], points: list[int], missing: int) -> FeatureCard:
    """A scorecard feature with learned bands, keeping the template's words (description, focus, unit, reason)."""
    edges: list[float | None] = [None, *cuts, None]
    merged: list[tuple[float | None, float | None, int]] = []
    for i, band_points in enumerate(points):  # neighbouring bands with the same points read as one
        if merged and merged[-1][2] == band_points:
            merged[-1] = (merged[-1][0], edges[i + 1], band_points)
        else:
            merged.append((edges[i], edges[i + 1], band_points))
    bands = tuple(Band(low, high, p, band_label(low, high, template.unit)) for low, high, p in merged)
    return FeatureCard(
        name=template.name,
        description=template.description,
        focus=template.focus,
        unit=template.unit,
        rationale=(
            "Learned from this trust's history: quantile bins with cut-points rounded for staff, points from an "
            "L2-regularised logistic regression made monotone in the declared direction. "
            f"The expert rationale: {template.rationale}"
        ),
        bands=bands,
        missing_points=missing,
        missing_label=template.missing_label,
        reason=template.reason,
    )


def band_label(lower: float | None, upper: float | None, unit: str) -> str:
    """Plain words for a band: "below 90%", "90% to under 95%", "95% or more"."""
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
    return f"{value:g}" if not math.isnan(value) else "?"
