"""The transparent scorecard model: cards (YAML), the scikit-learn estimator, and its explanation."""

from pipeline.model.card import Band, FeatureCard, ScoreBand, Scorecard, ScorecardError
from pipeline.model.scorecard import PointsScorecard

__all__ = ["Band", "FeatureCard", "PointsScorecard", "ScoreBand", "Scorecard", "ScorecardError"]
