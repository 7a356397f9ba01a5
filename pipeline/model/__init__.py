"""The transparent scorecard model: cards (YAML), the scikit-learn estimator, and its explanation.

``PointsScorecard`` (and with it scikit-learn, which takes most of a second to import) is loaded on first use, so
that reading a card does not pay for the estimator.
"""

from typing import TYPE_CHECKING, Any

from pipeline.model.card import Band, FeatureCard, ScoreBand, Scorecard, ScorecardError

if TYPE_CHECKING:
    from pipeline.model.scorecard import PointsScorecard

__all__ = ["Band", "FeatureCard", "PointsScorecard", "ScoreBand", "Scorecard", "ScorecardError"]


def __getattr__(name: str) -> Any:
    if name == "PointsScorecard":
        from pipeline.model.scorecard import PointsScorecard

        return PointsScorecard
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
