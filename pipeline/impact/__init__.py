"""Does mentoring work? An honest estimate of the effect of a learning mentor, from the school's own history."""

from pipeline.impact.estimate import (
    ImpactResult,
    ImpactSettings,
    estimate,
    impact,
    load_units,
    match,
    taking_part,
    undelivered,
)

__all__ = [
    "ImpactResult",
    "ImpactSettings",
    "estimate",
    "impact",
    "load_units",
    "match",
    "taking_part",
    "undelivered",
]
