"""One typed, frozen settings object, read from an optional TOML file; its hash is stamped on every output.

The file is parsed strictly (a pydantic model: strict types, bounds, no unknown keys). A value that cannot be
honoured as written is refused, never changed: ``capacity_minimum = 5.7`` is not read as 5, and a misspelt key is
not ignored. The refusal is one plain sentence naming the file, the key, the value and what is allowed
(:class:`SettingsError`; the command line prints it and exits 2).

To add a setting, add one line to :class:`Settings` in the style of the others: ``name: type = default``, or with
bounds ``name: Annotated[type, Field(ge=..., le=...)] = default``; a whole number is ``int``, a number ``float``.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

ROOT = Path(__file__).resolve().parents[1]
OUTCOME_COMPONENTS = ("persistent_absence", "suspension", "fell_below_target")
"""What an outcome can be made of; see pipeline/evaluate/sql/outcome_labels.sql for each definition."""
OutcomeComponent = Literal["persistent_absence", "suspension", "fell_below_target"]
BarrierPlaces = Literal["uncovered", "every", "none", "beside"]
BARRIER_PLACES: tuple[BarrierPlaces, ...] = ("uncovered", "every", "none", "beside")
"""Which barriers with real need that the shares in proportion to need leave without a place get one (up to a
quarter of the list): those no listed pupil has real need in (``uncovered``), all of them (``every``), or none;
or (``beside``) the places by rank, and beside them, taking none, the pupils ``uncovered`` would give a place to
that the rank does not, and the highest-ranked pupil of each barrier with real need no one listed so far has real
need in."""
SCHOOL_TABLES = ("places", "mentors", "school_names")
"""The settings' tables of schools, each keyed by a school's URN or LAESTAB."""


def as_set(share: float) -> str:
    """A share from the settings as a percentage, to the digits it was set with (5.5%, not 6%).

    >>> as_set(0.055), as_set(0.05), as_set(0.1)
    ('5.5%', '5%', '10%')
    """
    return f"{round(100 * share, 6):g}%"


class SettingsError(ValueError):
    """A settings file that cannot be used, with what to fix."""


class Settings(BaseModel):
    """Everything a run can be told. Every field has a default; a TOML file may override any of them.

    Example file::

        scorecard = "models/scorecard-v7.yaml"
        capacity_share = 0.05      # a school with no places set has 5% of its roll as mentoring places ...
        capacity_minimum = 5       # ... and at least 5
        caseload_per_mentor = 15   # places per mentor, for the schools in [mentors]
        shortlist_minimum = 5      # the shortlist holds at least this many new candidates, even with no free place
        mentor_interventions = ["Learning mentor"]   # open interventions of these names are current mentees
        need_points = 10           # points in one barrier that count as real need (docs/pastoral-guide.md)
        barrier_places = "beside"  # "uncovered", "every" or "none": how places are kept for other barriers
        review_weeks = 12          # a mentee is flagged for review after this many weeks
        decision_review_weeks = 6  # a declined / not now / supported elsewhere pupil stays off this long by default
        decision_score_margin = 10 # ... or until their score rises by this many points
        max_quarantined_share = 0.05
        roll_tolerance = 0.10
        # The outcome a learned scorecard is fitted to and models are measured against: within the next
        # half-term (30 school days) the pupil becomes persistently absent, or is suspended, or falls further
        # below target in English and maths (half a grade or more worse, and below target).
        outcome = ["persistent_absence", "suspension", "fell_below_target"]
        outcome_horizon_school_days = 30
        outcome_persistent_absence = 0.10
        outcome_grade_drop = 0.5
        [places]                   # mentoring places per school (URN), when known ...
        "127510" = 30
        [mentors]                  # ... or mentors per school: places = mentors x caseload_per_mentor
        "105854" = 2
    """

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, validate_default=True)

    scorecard: Path = ROOT / "models" / "scorecard-v7.yaml"
    capacity_share: Annotated[float, Field(gt=0, le=1)] = 0.05
    capacity_minimum: Annotated[int, Field(ge=0)] = 5
    places: dict[str, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)
    mentors: dict[str, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)
    caseload_per_mentor: Annotated[int, Field(ge=0)] = 15
    school_names: dict[str, str] = Field(default_factory=dict)
    shortlist_minimum: Annotated[int, Field(ge=0)] = 5
    mentor_interventions: Annotated[tuple[Annotated[str, Field(min_length=1)], ...], Field(min_length=1)] = (
        "Learning mentor",
    )
    need_points: Annotated[int, Field(ge=0)] = 10
    barrier_places: BarrierPlaces = "beside"
    review_weeks: Annotated[int, Field(ge=1)] = 12
    decision_review_weeks: Annotated[int, Field(ge=1)] = 6
    decision_score_margin: Annotated[int, Field(ge=0)] = 10
    max_quarantined_share: Annotated[float, Field(ge=0, le=1)] = 0.05
    roll_tolerance: Annotated[float, Field(ge=0, le=1)] = 0.10
    outcome: Annotated[tuple[OutcomeComponent, ...], Field(min_length=1)] = (
        "persistent_absence",
        "suspension",
        "fell_below_target",
    )
    outcome_horizon_school_days: Annotated[int, Field(ge=1)] = 30
    outcome_persistent_absence: Annotated[float, Field(gt=0, le=1)] = 0.10
    outcome_grade_drop: Annotated[float, Field(ge=0)] = 0.5

    @field_validator("scorecard", mode="before")
    @classmethod
    def _scorecard_path(cls, value: object, info: ValidationInfo) -> object:
        """A path in a settings file is relative to the file's folder."""
        if not isinstance(value, str | Path):
            return value
        folder = (info.context or {}).get("folder")
        path = Path(value)
        return path if path.is_absolute() or folder is None else (folder / path).resolve()

    @field_validator("outcome", "mentor_interventions", mode="before")
    @classmethod
    def _outcome_list(cls, value: object) -> object:
        """TOML has arrays, not tuples: a list of names is the way to write one."""
        return tuple(value) if isinstance(value, list) else value

    @model_validator(mode="before")
    @classmethod
    def _schools_in_school_tables(cls, data: object) -> object:
        """The tables of schools ([places], [mentors], [school_names]) hold schools only. In TOML every line after a
        [table] header belongs to that table, so a setting written below one (the natural place to add a line to a
        file ending with [school_names]) would be read as a school and never applied. (Any other name may be a
        school: a single school's folder is named as it likes; one no delivery has brought is warned of.)"""
        if not isinstance(data, Mapping):
            return data
        misplaced = []
        for table in SCHOOL_TABLES:
            schools = data.get(table)
            if not isinstance(schools, Mapping):
                continue
            keys = [str(key) for key in schools if str(key) in cls.model_fields]
            if keys:
                misplaced.append(f"{', '.join(keys)} {'is' if len(keys) == 1 else 'are'} written under [{table}]")
        if misplaced:
            raise ValueError(
                f"{'; '.join(misplaced)}, which {'holds' if len(misplaced) == 1 else 'hold'} schools only: in TOML "
                "every line after a [table] header belongs to it, so such a line would be read as a school and "
                "never applied; move it above the first [table] of the file"
            )
        return data

    @model_validator(mode="after")
    def _places_or_mentors(self) -> Settings:
        """A school's places come from one rule: a number of places, or mentors, not both."""
        both = sorted(set(self.places) & set(self.mentors))
        if both:
            raise ValueError(f"set places or mentors for a school, not both (schools {', '.join(both)})")
        return self

    @classmethod
    def load(cls, path: Path | None) -> Settings:
        """The settings of the TOML file at ``path`` (the defaults if ``None``); :class:`SettingsError` if the file
        cannot be read or any value in it cannot be honoured as written."""
        if path is None:
            return cls()
        try:
            # (a byte-order mark, as Windows PowerShell and older Notepad save UTF-8, is not part of the settings)
            data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
        except UnicodeDecodeError as error:
            raise SettingsError(
                f"cannot read settings file {path}: it is not UTF-8 (byte {error.start + 1} is not): save it as UTF-8"
            ) from error
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise SettingsError(f"cannot read settings file {path}: {error}") from error
        return cls.parse(data, str(path), folder=path.parent)

    @classmethod
    def parse(cls, data: dict[str, Any], source: str = "settings", folder: Path | None = None) -> Settings:
        """Settings from a mapping (a parsed TOML file), refused with one sentence per problem."""
        try:
            return cls.model_validate(data, context={"folder": folder})
        except ValidationError as error:
            problems: dict[object, str] = {}  # one problem per key: the first pydantic finds
            for detail in error.errors():
                problems.setdefault(detail["loc"][:1], _problem(detail, data))
            raise SettingsError(f"{source}: {'; '.join(problems.values())}.") from None

    @property
    def mentor_names(self) -> list[str]:
        """``mentor_interventions`` as the SQL compares intervention names: trimmed, in lower case."""
        return [name.strip().lower() for name in self.mentor_interventions]

    def fingerprint(self) -> str:
        """A short hash of the settings (with the scorecard file's content, not its path)."""
        data = self.model_dump()
        data["scorecard"] = hashlib.sha256(self.scorecard.read_bytes()).hexdigest() if self.scorecard.is_file() else ""
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]


RENAMED = {
    "place_for_every_barrier": 'use barrier_places = "every" for true, "none" for false ("uncovered" keeps a place '
    'only for a barrier no listed pupil has real need in; "beside", the default, keeps none and lists them after '
    "the places)",
}
"""Settings that were renamed, with what to write instead."""


def _problem(detail: Mapping[str, Any], data: dict[str, Any]) -> str:
    """One pydantic error as words: the key, the value as written, and what is allowed."""
    location = detail["loc"]
    key = str(location[0]) if location else "settings"
    kind = detail["type"]
    if kind == "extra_forbidden" and key in RENAMED:
        return f"{key} is no longer a setting: {RENAMED[key]}"
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(key, Settings.model_fields, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]}?" if close else f"the settings are {', '.join(Settings.model_fields)}"
        return f"{key} is not a setting ({hint})"
    if kind == "value_error" and not location:  # a rule of ours across settings: its own words say what to write
        return _own_words(detail)
    if kind == "value_error":
        return f"{key} = {_written(data.get(key, detail.get('input')))} is not allowed: {_own_words(detail)}"
    value = data.get(key, detail.get("input"))
    written = _written(value)
    context = {
        name: f"{bound:g}" if isinstance(bound, int | float) else bound for name, bound in detail.get("ctx", {}).items()
    }
    names = INTERVENTION_EXAMPLE if key == "mentor_interventions" else OUTCOME_EXAMPLE
    allowed = {
        "int_type": "a whole number",
        "int_from_float": "a whole number",
        "float_type": "a number",
        "bool_type": "true or false",
        "string_type": "text in quotes",
        "path_type": "a file path in quotes",
        "is_instance_of": "a file path in quotes",
        "dict_type": f'a table: a line [{key}], then one line per school, e.g. "127510" = '
        + ('"Example Academy"' if key == "school_names" else "30"),
        "tuple_type": f"a list in square brackets, e.g. {names}",
        "too_short": f"one or more names in square brackets, e.g. {names}"
        if key == "mentor_interventions"
        else f"one or more of {', '.join(OUTCOME_COMPONENTS)}",
        "string_too_short": f"names of at least one character, e.g. {names}",
        "greater_than": f"more than {context.get('gt')}",
        "greater_than_equal": f"at least {context.get('ge')}",
        "less_than": f"less than {context.get('lt')}",
        "less_than_equal": f"at most {context.get('le')}",
    }.get(kind, str(detail["msg"]).lower())
    if kind == "literal_error":
        names = ", ".join(BARRIER_PLACES if key == "barrier_places" else OUTCOME_COMPONENTS)
        return f"{key} = {written} is not allowed: {json.dumps(detail.get('input'))} is not one of {names}"
    return f"{key} = {written} is not allowed: it must be {allowed}"


OUTCOME_EXAMPLE = f"[{', '.join(json.dumps(c) for c in OUTCOME_COMPONENTS[:2])}]"
INTERVENTION_EXAMPLE = '["Learning mentor"]'


def _written(value: object) -> str:
    """A value as TOML writes it: "text", true, 5.7, ["a", "b"]."""
    return json.dumps(value, default=str)


def _own_words(detail: Mapping[str, Any]) -> str:
    """The words of a validator of ours, without pydantic's "Value error, " before them."""
    error = detail.get("ctx", {}).get("error")
    return str(error) if error is not None else str(detail["msg"])
