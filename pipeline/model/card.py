"""The human-readable scorecard: features, bands, integer points and the reason for each threshold.

A scorecard file in ``models/`` is the model. Each feature has bands (half-open intervals ``[lower, upper)`` of its
value) with integer points, a plain-words label per band, and one sentence saying where the thresholds come from.
A pupil's score is the sum of the points of the bands their values fall in; nothing else goes into it.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

import yaml

Focus = Literal["attendance", "behaviour", "attainment", "literacy", "under-challenged"]
FOCI: tuple[str, ...] = get_args(Focus)
Unit = Literal["percent", "points", "grades", "months", "count", "flag", "share"]
UNITS: tuple[str, ...] = get_args(Unit)
"""The units a feature's values may have."""


class ScorecardError(ValueError):
    """A scorecard file that cannot be used, with what to fix."""


@dataclass(frozen=True)
class Band:
    """Values in ``[lower, upper)`` score ``points``; ``None`` is unbounded."""

    lower: float | None
    upper: float | None
    points: int
    label: str

    def contains(self, value: float) -> bool:
        return (self.lower is None or value >= self.lower) and (self.upper is None or value < self.upper)


@dataclass(frozen=True)
class Ramp:
    """Points that change in equal steps along straight lines between ``knots``, each a (value, points) pair, at
    least two, their values all rising or all falling, in the order a card reads them: from the first knot's
    points at its value (and beyond it) to the last knot's at its value (and beyond it), and in between the line's
    points rounded to a whole point. A plain ramp has two knots, 0 points at the first: "from 0 at 2 to +12 at 8
    (about +2 per 1)". A ramp with two slopes has three: "from 0 at 18 to +5 at 11 (about +0.71 per 1), then to
    +20 at 5 (about +2.5 per 1)". One line of a card however many steps it has.

    >>> [(b.lower, b.upper, b.points) for b in Ramp(((2.0, 0), (8.0, 3))).bands("unit")]
    [(None, 3.0, 0), (3.0, 5.0, 1), (5.0, 7.0, 2), (7.0, None, 3)]
    >>> [(b.lower, b.upper, b.points) for b in Ramp(((8.0, 0), (2.0, 2))).bands("unit")]
    [(None, 3.5, 2), (3.5, 6.5, 1), (6.5, None, 0)]
    >>> [(b.lower, b.upper, b.points) for b in Ramp(((0.0, 2), (4.0, 0), (6.0, 2))).bands("unit")]
    [(None, 1.0, 2), (1.0, 3.0, 1), (3.0, 4.5, 0), (4.5, 5.5, 1), (5.5, None, 2)]
    """

    knots: tuple[tuple[float, int], ...]

    def __post_init__(self) -> None:
        at = [value for value, _ in self.knots]
        rising = all(a < b for a, b in itertools.pairwise(at))
        if len(at) < 2 or not (rising or all(a > b for a, b in itertools.pairwise(at))):
            raise ValueError(f"a ramp needs two or more knots whose values all rise or all fall, not {at}")
        if min(p for _, p in self.knots) != 0 or self.points < 1:
            raise ValueError("a ramp's points must start from 0 at one knot and reach at least 1 at another")

    @property
    def points(self) -> int:
        """The most points on the ramp (its line's points)."""
        return max(p for _, p in self.knots)

    def _segments(self) -> list[tuple[tuple[float, int], tuple[float, int]]]:
        return list(itertools.pairwise(self.knots))

    def steps(self) -> list[float]:
        """The values, ascending, at which the points change: where each line passes half a point."""
        steps = []
        for (a, pa), (b, pb) in self._segments():
            low, high = sorted((pa, pb))
            # Rounded to 6 decimals, or on a line shorter than 0.001 to 3 more than its length's (a feature in
            # millionths lost its steps: 20 points on a line of 4e-06 had 6 distinct scores)
            span = abs(b - a)
            places = 6 if span >= 1e-3 else 3 - math.floor(math.log10(span))
            steps += [round(a + (k - 0.5 - pa) * (b - a) / (pb - pa), places) for k in range(low + 1, high + 1)]
        return sorted(steps)

    def points_at(self, value: float) -> int:
        """The points a card scores at ``value``: those of the band it falls in (see :meth:`bands`), so a value
        exactly at a step scores as the values above it do."""
        return next(band.points for band in self.bands("") if band.contains(value))

    def _line_points(self, value: float) -> int:
        """The line's whole points at ``value`` (half a point rounds up), level beyond the end knots."""
        (first, first_points), (last, last_points) = self.knots[0], self.knots[-1]
        if (value - first) * (last - first) <= 0:  # at or before the first knot
            return first_points
        for before, after in self._segments():
            if (value - before[0]) / (after[0] - before[0]) <= 1.0:
                return points_on_line(before, after, value)
        return last_points

    def bands(self, label: str) -> tuple[Band, ...]:
        """The ramp as bands (each step one band, all labelled ``label``): how a card scores it."""
        edges: list[float | None] = [None, *self.steps(), None]
        bands = []
        for lower, upper in itertools.pairwise(edges):
            inside = math.inf if upper is None else -math.inf if lower is None else (lower + upper) / 2
            bands.append(Band(lower, upper, self._line_points(inside), label))
        return tuple(bands)

    def words(self, unit: str) -> str:
        """The line as a reader of the card sees it, in the feature's unit.

        The points hold beyond the end knots ("or below", "or above"): a value past the line's end scores its end's
        points, not 0.

        >>> Ramp(((2.0, 0), (8.0, 12))).words("count")
        'from 0 at 2 or below to +12 at 8 or above (about +2 per 1)'
        >>> Ramp(((0.95, 0), (0.75, 10))).words("percent")
        'from 0 at 95.0% or above to +10 at 75.0% or below (about +0.5 per percentage point)'
        >>> Ramp(((18.0, 0), (11.0, 5), (5.0, 20))).words("count")
        'from 0 at 18 or above to +5 at 11 (about +0.71 per 1), then to +20 at 5 or below (about +2.5 per 1)'
        >>> parts = Ramp(((0.0, 9), (1.0, 0), (4.0, 0), (26.0, 10))).words("count").split(", then ")
        >>> parts[0], parts[-1]
        ('from +9 at 0 or below to 0 at 1 (about -9 per 1)', 'to +10 at 26 or above (about +0.45 per 1)')
        """
        per = {"percent": "percentage point", "share": "percentage point", "grades": "grade", "months": "month"}
        scale = 100 if unit in ("percent", "share") else 1
        (start, start_points), (second, _), *_ = self.knots
        before, beyond = ("or below", "or above") if second > start else ("or above", "or below")
        segments = self._segments()
        lines = []
        for number, ((a, pa), (b, pb)) in enumerate(segments, start=1):
            rate = (pb - pa) / (abs(b - a) * scale)
            how = f"about {rate:+.2g} per {per.get(unit, '1')}" if rate else "level"
            end = f" {beyond}" if number == len(segments) else ""
            lines.append(f"to {_signed(pb)} at {_knot_text(b, unit)}{end} ({how})")
        return f"from {_signed(start_points)} at {_knot_text(start, unit)} {before} " + ", then ".join(lines)


def _knot_text(value: float, unit: str) -> str:
    """A ramp's knot as its line reads it: as a value of its unit, where that shows it whole; otherwise (a count or
    points at 2.2, a learned feature at 0.0000021) with the digits it has, so that the words say where the line is.

    >>> _knot_text(0.95, "percent"), _knot_text(2.0, "count"), _knot_text(-2.2, "count"), _knot_text(-0.0, "points")
    ('95.0%', '2', '-2.2', '0')
    """
    if unit in ("percent", "share", "grades", "months"):
        return format_value(value, unit)
    return f"{value + 0.0:.12g}"


def points_on_line(before: tuple[float, int], after: tuple[float, int], value: float) -> int:
    """The whole points at ``value`` on the line through two knots, each (value, points); half a point rounds up.

    >>> points_on_line((0.0, 0), (4.0, 3), 2.0), points_on_line((4.0, 3), (0.0, 0), 1.0)
    (2, 1)
    """
    (a, pa), (b, pb) = before, after
    return math.floor(pa + (pb - pa) * ((value - a) / (b - a)) + 0.5 + 1e-9)


def _signed(points: int) -> str:
    """Points as a card writes them: "+5", and "0" (not "+0")."""
    return f"{points:+d}" if points else "0"


@dataclass(frozen=True)
class FeatureCard:
    """One feature's bands and points, and why."""

    name: str
    description: str
    focus: Focus
    unit: Unit
    rationale: str
    bands: tuple[Band, ...]
    missing_points: int = 0
    missing_label: str = "no data"
    reason: str = "{description}: {value}"
    """How a shortlist states the evidence, with ``{value}`` formatted in the feature's unit."""
    usual_points: int = 0
    """The points a usual pupil has from this feature: need is what a pupil has above it (:meth:`need`). An expert
    card's 0-point band is the usual range, so 0. A learned card's 0-point band is its best, often a small tail
    (reading 28 months or more ahead of age), and most pupils have points from the next band; the learner sets this
    to the median of the feature's points over the training rows."""
    ramp: Ramp | None = None
    """Points that rise in equal steps between two values instead of a few bands (``bands`` are then its steps,
    each labelled with its words): one scoring line."""

    @property
    def most_points(self) -> int:
        """The most points any pupil can have from this feature (its heaviest band, or "no data")."""
        return max(max(b.points for b in self.bands), self.missing_points)

    def need(self, points: int) -> int:
        """Points above the usual pupil's: what counts toward the feature's barrier (the shortlist gives a reason
        with none last, as what most pupils have)."""
        return max(0, points - self.usual_points)

    @property
    def scoring_lines(self) -> list[tuple[str, int]]:
        """The feature's lines that give points, as (label, points): each band scoring other than 0, then "no data"
        if it scores. A band scoring 0 is not a line of its own: it is the feature's "otherwise 0"; nor is "no data"
        that scores a usual pupil's points (a learned card's, where no value was missing in training)."""
        if self.ramp is not None:
            lines = [(self.ramp.words(self.unit), self.ramp.points)] if self.ramp.points else []
        else:
            lines = [(b.label, b.points) for b in self.bands if b.points]
        if self.missing_points and self.missing_points != self.usual_points:
            lines.append((self.missing_label, self.missing_points))
        return lines

    def points_text(self) -> str:
        """The feature's lines that give points, as a reader of the card sees them, then "otherwise 0" for every
        band (and "no data") that scores 0, e.g. ``below 90%: +10; 90% to 95%: +4; otherwise 0``, and where a usual
        pupil has points (a learned card), how many: only points above them count as need. A ramp's line is its
        words, which name its points from end to end, so only "no data" can be otherwise: ``from 0 at 2 or below to
        +12 at 8 or above (about +2 per 1); no data: 0``."""
        ramp = None if self.ramp is None else self.ramp.words(self.unit)
        lines = [label if label == ramp else f"{label}: {points:+d}" for label, points in self.scoring_lines]
        if self.missing_points and self.missing_points == self.usual_points:  # no evidence either way: no line
            lines.append(f"{self.missing_label}: as a usual pupil")
        if ramp is None:
            lines.append("otherwise 0")
        elif not self.missing_points:
            lines.append(f"{self.missing_label}: 0")
        if self.usual_points:
            lines.append(f"a usual pupil {self.usual_points:+d} (need counts points above it)")
        return "; ".join(lines)

    def band_of(self, value: float | None) -> Band | None:
        """The band ``value`` falls in; ``None`` for a missing value."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        for band in self.bands:
            if band.contains(value):
                return band
        raise ScorecardError(f"feature {self.name}: value {value} falls in no band; the bands must cover every value")

    def points_of(self, value: float | None) -> int:
        band = self.band_of(value)
        return self.missing_points if band is None else band.points


@dataclass(frozen=True)
class ScoreBand:
    """Scores of at least ``min_score`` are in this band (the highest band that fits).

    ``probability``: for a band defined by risk, the calibrated probability the band starts at (None: by score)."""

    min_score: int
    label: str
    probability: float | None = None


@dataclass(frozen=True)
class RiskRow:
    """The calibrated probability of the outcome at a score: one line of a card's score-to-risk table."""

    score: int
    probability: float


@dataclass(frozen=True)
class Scorecard:
    """A released (or freshly fitted) scorecard."""

    name: str
    version: str
    kind: Literal["expert", "learned"]
    description: str
    features: tuple[FeatureCard, ...]
    score_bands: tuple[ScoreBand, ...]
    calibration_intercept: float
    calibration_slope: float
    calibration_note: str
    extra: dict[str, Any] = field(default_factory=dict)
    risk_table: tuple[RiskRow, ...] = ()
    """The calibration curve at a few scores, for staff to read (empty for a card written before it existed)."""

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def highest_score(self) -> int:
        """The highest score a pupil can have: every feature's most points (:attr:`FeatureCard.most_points`)."""
        return sum(f.most_points for f in self.features)

    @property
    def scoring_lines(self) -> int:
        """How many lines of the card give points (:attr:`FeatureCard.scoring_lines`, over every feature)."""
        return sum(len(f.scoring_lines) for f in self.features)

    def feature(self, name: str) -> FeatureCard:
        for card in self.features:
            if card.name == name:
                return card
        raise KeyError(name)

    def band_of_score(self, score: float) -> str:
        fitting = [b for b in self.score_bands if score >= b.min_score]
        return max(fitting, key=lambda b: b.min_score).label if fitting else self.score_bands[0].label

    def fingerprint(self) -> str:
        """A short hash of the scorecard's content, stamped on every output it scores."""
        return hashlib.sha256(self.to_yaml().encode("utf-8")).hexdigest()[:12]

    def points_fingerprint(self) -> str:
        """A short hash of what gives a pupil their score: each feature's name, its bands' edges and points (a
        ramp's steps) and its points for no data. Two cards with the same points fingerprint give every pupil the
        same score whatever their words, chances and bands of risk (a card refitted with ``--keep-points``, or one
        released again with its words mended), so scores kept under one are comparable under the other.

        >>> import dataclasses
        >>> from pipeline.config import Settings
        >>> card = Scorecard.load(Settings().scorecard)
        >>> mended = dataclasses.replace(card, version="9", description="mended words", risk_table=())
        >>> mended.points_fingerprint() == card.points_fingerprint(), mended.fingerprint() == card.fingerprint()
        (True, False)
        """
        scoring = [[f.name, f.missing_points, [[b.lower, b.upper, b.points] for b in f.bands]] for f in self.features]
        return hashlib.sha256(json.dumps(scoring).encode("utf-8")).hexdigest()[:12]

    # -- reading and writing ---------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["features"] = [_feature_dict(f) for f in self.features]
        data["score_bands"] = [_band_dict(b) for b in self.score_bands]
        data["calibration"] = {
            "intercept": self.calibration_intercept,
            "slope": self.calibration_slope,
            "note": self.calibration_note,
        }
        for key in ("calibration_intercept", "calibration_slope", "calibration_note"):
            del data[key]
        del data["risk_table"]
        if self.risk_table:
            data["risk_table"] = [asdict(row) for row in self.risk_table]
        if not data["extra"]:
            del data["extra"]
        return data

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True, width=110)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "scorecard") -> Scorecard:
        try:
            _known(data, CARD_KEYS, "the card")
            features = tuple(_feature_from(f) for f in data["features"])
            calibration = data.get("calibration", {})
            _known(calibration, CALIBRATION_KEYS, "calibration")
            for band in data["score_bands"]:
                _known(band, SCORE_BAND_KEYS, "a score band")
            card = cls(
                name=str(data["name"]),
                version=str(data["version"]),
                kind=data["kind"],
                description=str(data.get("description", "")).strip(),
                features=features,
                score_bands=tuple(
                    ScoreBand(
                        _whole(b["min_score"], "a score band's min_score"),
                        _text(b["label"], "a score band's label"),
                        None if b.get("probability") is None else float(b["probability"]),
                    )
                    for b in data["score_bands"]
                ),
                calibration_intercept=float(calibration.get("intercept", -3.0)),
                calibration_slope=float(calibration.get("slope", 0.05)),
                calibration_note=str(calibration.get("note", "")),
                extra=dict(data.get("extra", {})),
                risk_table=tuple(RiskRow(int(r["score"]), float(r["probability"])) for r in data.get("risk_table", [])),
            )
        except KeyError as error:
            raise ScorecardError(f"{source}: {error!s} is missing") from error
        except (TypeError, ValueError) as error:
            raise ScorecardError(f"{source}: {error!s}") from error
        card.check(source)
        return card

    @classmethod
    def load(cls, path: Path | str) -> Scorecard:
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as error:
            raise ScorecardError(f"cannot read scorecard {path}: {error}") from error
        if not isinstance(data, dict):
            raise ScorecardError(f"{path}: a scorecard file is a YAML mapping")
        return cls.from_dict(data, source=str(path))

    def check(self, source: str = "scorecard") -> None:
        """Refuse a scorecard whose bands overlap, leave gaps, or whose labels are missing."""
        if self.kind not in ("expert", "learned"):
            raise ScorecardError(f"{source}: kind must be expert or learned, not {self.kind!r}")
        names = self.feature_names
        if len(set(names)) != len(names):
            raise ScorecardError(f"{source}: a feature appears twice")
        for card in self.features:
            if card.focus not in FOCI:
                raise ScorecardError(f"{source}: feature {card.name} has focus {card.focus!r}; use one of {FOCI}")
            if not card.rationale.strip():
                raise ScorecardError(f"{source}: feature {card.name} needs a rationale")
            _check_bands(card, source)
        if not self.score_bands:
            raise ScorecardError(f"{source}: score_bands is empty")


def _check_bands(card: FeatureCard, source: str) -> None:
    bands = card.bands
    if not bands:
        raise ScorecardError(f"{source}: feature {card.name} has no bands")
    if bands[0].lower is not None or bands[-1].upper is not None:
        raise ScorecardError(f"{source}: feature {card.name}: the first band must start and the last end unbounded")
    for band in bands:
        if band.lower is not None and band.upper is not None and not band.lower < band.upper:
            raise ScorecardError(
                f"{source}: feature {card.name}: bands must be in ascending order ({band.label!r} runs from "
                f"{band.lower} to {band.upper})"
            )
    for before, after in itertools.pairwise(bands):
        if before.upper is None or after.lower is None or before.upper != after.lower:
            raise ScorecardError(
                f"{source}: feature {card.name}: bands must be in order and meet exactly "
                f"({before.label!r} ends at {before.upper}, {after.label!r} starts at {after.lower})"
            )
    for band in bands:
        if not band.label.strip():
            raise ScorecardError(f"{source}: feature {card.name}: every band needs a label")
    if card.usual_points and not 0 <= card.usual_points <= card.most_points:
        raise ScorecardError(
            f"{source}: feature {card.name}: usual_points is {card.usual_points}; it must lie between 0 and the "
            f"feature's most points ({card.most_points})"
        )


def _band_dict(band: ScoreBand) -> dict[str, Any]:
    """A score band as written; ``probability`` only where the band has one (so older cards read the same)."""
    data = asdict(band)
    if band.probability is None:
        del data["probability"]
    return data


def _feature_dict(card: FeatureCard) -> dict[str, Any]:
    shape: dict[str, Any] = (
        {"ramp": _ramp_dict(card.ramp)}
        if card.ramp is not None
        else {"bands": [{"from": b.lower, "to": b.upper, "points": b.points, "label": b.label} for b in card.bands]}
    )
    return {
        "name": card.name,
        "description": card.description,
        "focus": card.focus,
        "unit": card.unit,
        "rationale": card.rationale,
        "reason": card.reason,
        "missing": {"points": card.missing_points, "label": card.missing_label},
        **shape,
    } | ({"usual_points": card.usual_points} if card.usual_points else {})  # (older cards read and hash the same)


def _ramp_dict(ramp: Ramp) -> dict[str, Any]:
    """A ramp as written: a plain one (two knots) as ``start``, ``end`` and ``points`` (so older cards read and hash
    the same), one with more knots as its ``knots``, each ``at`` a value with its ``points``."""
    if len(ramp.knots) == 2:
        (start, _), (end, points) = ramp.knots
        return {"start": start, "end": end, "points": points}
    return {"knots": [{"at": value, "points": points} for value, points in ramp.knots]}


def _ramp_from(data: dict[str, Any], name: str) -> Ramp:
    """A ramp read back from :func:`_ramp_dict`'s form; a :class:`ValueError` naming the feature if it is not one."""
    try:
        if "knots" in data:
            return Ramp(tuple((float(knot["at"]), int(knot["points"])) for knot in data["knots"]))
        return Ramp(((float(data["start"]), 0), (float(data["end"]), int(data["points"]))))
    except ValueError as error:
        raise ValueError(f"feature {name}: {error}") from None


CARD_KEYS = ("name", "version", "kind", "description", "features", "score_bands", "calibration", "extra", "risk_table")
FEATURE_KEYS = ("name", "description", "focus", "unit", "rationale", "reason", "missing", "bands", "ramp",
                "usual_points")  # fmt: skip
BAND_KEYS = ("from", "to", "points", "label")
MISSING_KEYS = ("points", "label")
CALIBRATION_KEYS = ("intercept", "slope", "note")
SCORE_BAND_KEYS = ("min_score", "label", "probability")


def _known(data: object, keys: tuple[str, ...], where: str) -> None:
    """Refuse a key a card does not read (a misspelt one would be ignored, and its default used without a word)."""
    if not isinstance(data, dict):
        raise TypeError(f"{where} must be a mapping of {', '.join(keys)}")
    for key in data:
        if key not in keys:
            close = difflib.get_close_matches(str(key), keys, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]}?" if close else f"it has {', '.join(keys)}"
            raise ValueError(f"{where} has {key!r}, which a scorecard does not read ({hint})")


def _whole(value: object, what: str) -> int:
    """A whole number as written (34, not 34.9, yes or "thirty")."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not float(value).is_integer():
        raise ValueError(f"{what} must be a whole number, not {value!r}")
    return int(value)


def _text(value: object, what: str) -> str:
    """Words as written: not empty, not a number or a list."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be words, not {value!r}")
    return value


def _band_from(data: dict[str, Any], feature: str) -> Band:
    _known(data, BAND_KEYS, f"a band of feature {feature}")
    return Band(
        lower=None if data.get("from") is None else float(data["from"]),
        upper=None if data.get("to") is None else float(data["to"]),
        points=_whole(data["points"], f"the points of a band of feature {feature}"),
        label=_text(data.get("label"), f"feature {feature}: every band needs a label; a band's label"),
    )


def _feature_from(data: dict[str, Any]) -> FeatureCard:
    _known(data, FEATURE_KEYS, "a feature")
    name = _text(data["name"], "a feature's name")
    missing = data.get("missing", {})
    _known(missing, MISSING_KEYS, f"feature {name}'s missing")
    unit, focus = data["unit"], data["focus"]
    if unit not in UNITS:
        raise ValueError(f"feature {name}'s unit must be one of {', '.join(UNITS)}, not {unit!r}")
    if focus not in FOCI:
        raise ValueError(f"feature {name}'s focus must be one of {', '.join(FOCI)}, not {focus!r}")
    ramp = None
    if "ramp" in data:
        ramp = _ramp_from(data["ramp"], name)
    reason = str(data.get("reason", "{description}: {value}"))
    try:
        reason.format(description="", value="")
    except (KeyError, IndexError, ValueError) as error:
        raise ValueError(
            f"feature {name}'s reason {reason!r} can name only {{description}} and {{value}} ({error!r} is not one)"
        ) from None
    return FeatureCard(
        name=name,
        description=_text(data["description"], f"feature {name}'s description"),
        focus=focus,
        unit=unit,
        rationale=" ".join(str(data["rationale"]).split()),
        bands=ramp.bands(ramp.words(unit)) if ramp is not None else tuple(_band_from(b, name) for b in data["bands"]),
        ramp=ramp,
        missing_points=_whole(missing.get("points", 0), f"feature {name}'s missing points"),
        missing_label=_text(missing.get("label", "no data"), f"feature {name}'s missing label"),
        reason=reason,
        usual_points=_whole(data.get("usual_points", 0), f"feature {name}'s usual_points"),
    )


def format_value(value: float | None, unit: str) -> str:
    """A feature value as a pastoral manager reads it.

    >>> [format_value(v, u) for v, u in [(0.8421, "percent"), (-0.123, "percent"), (-1.33, "grades"), (9.0, "points")]]
    ['84.2%', '-12.3 percentage points', '-1.3 grades', '9']
    >>> format_value(-14.0, "months"), format_value(None, "count")
    ('-14 months', 'no data')
    """
    if value is None or math.isnan(value):
        return "no data"
    if unit == "percent":
        return f"{100 * value:.1f}%" if value >= 0 else f"{100 * value:.1f} percentage points"
    if unit == "grades":
        return f"{value:+.1f} grades"
    if unit == "months":
        return f"{value:.0f} months"
    if unit == "share":
        return f"{100 * value:.0f}%"
    return f"{value:.0f}"


def points_fingerprints(folders: Iterable[Path]) -> dict[str, str]:
    """Every card file (``*.yaml``) in ``folders`` that reads as a card: its whole fingerprint -> its points
    fingerprint (:meth:`Scorecard.points_fingerprint`). A warehouse kept its nights' scores under a card's whole
    fingerprint until 7 December 2026; this says which of those scored as which card does now. A file that is not a
    card is passed over."""
    found: dict[str, str] = {}
    for folder in folders:
        for path in sorted(Path(folder).glob("*.yaml")):
            try:
                card = Scorecard.load(path)
            except (ScorecardError, OSError, ValueError):
                continue
            found[card.fingerprint()] = card.points_fingerprint()
    return found


def gap_size_text(size: float, primary: bool) -> str:
    """The size of a gap to target, or of a change in it: steps on the primary scale (whole, or to the half step
    that English and maths together can be), grades to one decimal at secondary.

    >>> [gap_size_text(v, True) for v in (2.0, -1.5, 1.0)], [gap_size_text(v, False) for v in (1.33, -1.0)]
    (['2 steps', '1.5 steps', '1 step'], ['1.3 grades', '1.0 grade'])
    """
    size = round(abs(size), 1)
    if primary:
        shown = f"{size:.0f}" if size == int(size) else f"{size:.1f}"
        return f"{shown} step{'' if size == 1 else 's'}"
    return f"{size:.1f} grade{'' if size == 1 else 's'}"


def bands_from_cuts(cuts: Sequence[float], points: Sequence[int], labels: Sequence[str]) -> tuple[Band, ...]:
    """Bands from ascending cut-points: ``len(points) == len(cuts) + 1``."""
    if len(points) != len(cuts) + 1 or len(labels) != len(points):
        raise ScorecardError("a feature with n cut-points has n + 1 bands, each with points and a label")
    edges: list[float | None] = [None, *cuts, None]
    return tuple(Band(edges[i], edges[i + 1], int(points[i]), labels[i]) for i in range(len(points)))
