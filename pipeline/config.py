"""One typed, frozen settings object, read from an optional TOML file; its hash is stamped on every output."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUTCOME_COMPONENTS = ("persistent_absence", "suspension", "fell_below_target")
"""What an outcome can be made of; see pipeline/evaluate/sql/outcome_labels.sql for each definition."""


class SettingsError(ValueError):
    """A settings file that cannot be used, with what to fix."""


@dataclass(frozen=True)
class Settings:
    """Everything a run can be told. Every field has a default; a TOML file may override any of them.

    Example file::

        scorecard = "models/scorecard-v1.yaml"
        capacity_share = 0.05      # a school with no places set has 5% of its roll as mentoring places ...
        capacity_minimum = 5       # ... and at least 5
        caseload_per_mentor = 15   # places per mentor, for the schools in [mentors]
        shortlist_minimum = 5      # the shortlist holds at least this many new candidates, even with no free place
        mentor_interventions = ["Learning mentor"]   # open interventions of these names are current mentees
        need_points = 10           # points in one barrier that count as real need (see docs/pastoral-guide.md)
        review_weeks = 12          # a mentee is flagged for review after this many weeks
        decision_review_weeks = 6  # a declined / not now / supported elsewhere pupil stays off this long by default
        decision_score_margin = 10 # ... or until their score rises by this many points
        max_quarantined_share = 0.05
        roll_tolerance = 0.10
        [places]                   # mentoring places per school (URN), when known ...
        "127510" = 30
        [mentors]                  # ... or mentors per school: places = mentors x caseload_per_mentor
        "105854" = 2
        max_quarantined_share = 0.05
        roll_tolerance = 0.10
        # The outcome a learned scorecard is fitted to and models are measured against: within the next
        # half-term (30 school days) the pupil becomes persistently absent, or is suspended, or falls further
        # below target in English and maths (half a grade or more worse, and below target).
        outcome = ["persistent_absence", "suspension", "fell_below_target"]
        outcome_horizon_school_days = 30
        outcome_persistent_absence = 0.10
        outcome_grade_drop = 0.5
    """

    scorecard: Path = ROOT / "models" / "scorecard-v1.yaml"
    capacity_share: float = 0.05
    capacity_minimum: int = 5
    places: dict[str, int] = field(default_factory=dict)
    mentors: dict[str, int] = field(default_factory=dict)
    caseload_per_mentor: int = 15
    shortlist_minimum: int = 5
    mentor_interventions: tuple[str, ...] = ("Learning mentor",)
    need_points: int = 10
    review_weeks: int = 12
    decision_review_weeks: int = 6
    decision_score_margin: int = 10
    max_quarantined_share: float = 0.05
    roll_tolerance: float = 0.10
    outcome: tuple[str, ...] = ("persistent_absence", "suspension", "fell_below_target")
    outcome_horizon_school_days: int = 30
    outcome_persistent_absence: float = 0.10
    outcome_grade_drop: float = 0.5

    @classmethod
    def load(cls, path: Path | None) -> Settings:
        if path is None:
            return cls()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise SettingsError(f"cannot read settings file {path}: {error}") from error
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(fields))
        if unknown:
            raise SettingsError(f"{path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(fields)}")
        values: dict[str, Any] = {}
        for name, value in data.items():
            if name in ("outcome", "mentor_interventions"):
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    example = "suspension" if name == "outcome" else "Learning mentor"
                    raise SettingsError(f'{path}: {name} must be a list of names, e.g. ["{example}"]')
                values[name] = tuple(value)
            elif name in ("places", "mentors"):
                if not isinstance(value, dict) or not all(
                    isinstance(v, int) and not isinstance(v, bool) for v in value.values()
                ):
                    raise SettingsError(f'{path}: [{name}] maps school URNs to whole numbers, e.g. "127510" = 30')
                values[name] = {str(k): int(v) for k, v in value.items()}
            elif name == "scorecard":
                scorecard = Path(value)
                values[name] = scorecard if scorecard.is_absolute() else (path.parent / scorecard).resolve()
            elif isinstance(value, bool) or not isinstance(value, int | float):
                raise SettingsError(f"{path}: {name} must be a number, not {value!r}")
            else:
                values[name] = type(getattr(cls(), name))(value)
        settings = cls(**values)
        settings.check(str(path))
        return settings

    def check(self, source: str = "settings") -> None:
        if not 0 < self.capacity_share <= 1:
            raise SettingsError(f"{source}: capacity_share must be between 0 and 1")
        if self.capacity_minimum < 0:
            raise SettingsError(f"{source}: capacity_minimum cannot be negative")
        for name in ("places", "mentors"):
            negative = sorted(k for k, v in getattr(self, name).items() if v < 0)
            if negative:
                raise SettingsError(f"{source}: [{name}] cannot be negative (schools {', '.join(negative)})")
        both = sorted(set(self.places) & set(self.mentors))
        if both:
            raise SettingsError(f"{source}: set places or mentors for a school, not both (schools {', '.join(both)})")
        for name in ("caseload_per_mentor", "shortlist_minimum", "need_points", "decision_score_margin"):
            if getattr(self, name) < 0:
                raise SettingsError(f"{source}: {name} cannot be negative")
        if self.review_weeks < 1 or self.decision_review_weeks < 1:
            raise SettingsError(f"{source}: review_weeks and decision_review_weeks must be at least 1")
        if not self.mentor_interventions or not all(n.strip() for n in self.mentor_interventions):
            raise SettingsError(f"{source}: mentor_interventions must name one or more interventions")
        if not 0 <= self.max_quarantined_share <= 1 or not 0 <= self.roll_tolerance <= 1:
            raise SettingsError(f"{source}: max_quarantined_share and roll_tolerance are shares between 0 and 1")
        unknown_outcomes = sorted(set(self.outcome) - set(OUTCOME_COMPONENTS))
        if unknown_outcomes or not self.outcome:
            raise SettingsError(
                f"{source}: outcome must name one or more of {', '.join(OUTCOME_COMPONENTS)}"
                + (f"; unknown: {', '.join(unknown_outcomes)}" if unknown_outcomes else "")
            )
        if self.outcome_horizon_school_days < 1:
            raise SettingsError(f"{source}: outcome_horizon_school_days must be at least 1")

    def fingerprint(self) -> str:
        """A short hash of the settings (with the scorecard file's content, not its path)."""
        data = dataclasses.asdict(self)
        data["scorecard"] = hashlib.sha256(self.scorecard.read_bytes()).hexdigest() if self.scorecard.exists() else ""
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]
