"""Ranked referral shortlists with plain-words reasons, built from the feature table and a fitted scorecard.

Ranking: score, highest first. Ties are broken, in order, by lower attendance this term, then more negative
behaviour points in the last 4 weeks, then UPN (arbitrary but fixed, so the same data always gives the same list,
and never alphabetical by name). The list is as long as the school's mentoring capacity. Pupils who already have
a learning mentor stay on the list, marked, so staff can see the support is in place.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from pipeline.model.card import FOCI, format_value
from pipeline.model.scorecard import PointsScorecard

SHORTLIST_COLUMNS = (
    "rank", "upn", "forename", "surname", "year_group", "reg_group", "score", "band", "reasons",
    "mentoring_focus", "context", "in_intervention", "change_since_last_run", "no_data",
)  # fmt: skip
UNDER_CHALLENGED_COLUMNS = (
    "rank", "upn", "forename", "surname", "year_group", "reg_group", "prior_attainment", "core_grade_gap",
    "reasons", "mentoring_focus", "context", "in_intervention", "change_since_last_run",
)  # fmt: skip
CONTEXT_FLAGS = (
    ("sen_provision", {"K": "SEN support", "E": "EHC plan"}),
    ("fsm_eligible", {True: "FSM"}),
    ("pupil_premium", {True: "pupil premium"}),
    ("looked_after", {True: "looked after"}),
    ("eal", {True: "EAL"}),
)


def mentoring_capacity(roll: int, share: float = 0.05, minimum: int = 5) -> int:
    """How many pupils a school's shortlist holds: ``share`` of the roll, rounded up, and at least ``minimum``.

    >>> mentoring_capacity(716), mentoring_capacity(60), mentoring_capacity(0)
    (36, 5, 5)
    """
    return max(minimum, math.ceil(share * roll))


def build_shortlist(
    features: pd.DataFrame,
    model: PointsScorecard,
    capacity: int,
    previous: pd.DataFrame | None = None,
    points: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One school's shortlist: the ``capacity`` highest-scoring pupils with their reasons and focus.

    ``features`` has one row per pupil on roll (identity and context columns plus the scorecard's features).
    ``previous`` is the last published shortlist (``upn`` and ``rank``), for the change column. ``points`` are
    the points the score stage gave each pupil (rows aligned with ``features``); without them the model scores.
    """
    if features.empty:
        return pd.DataFrame(columns=list(SHORTLIST_COLUMNS))
    pupils = features.reset_index(drop=True)
    points = model.points(pupils) if points is None else points.reset_index(drop=True)
    pupils["score"] = points.sum(axis=1).astype(int)
    ranked = pupils.sort_values(
        ["score", "attendance_rate_term", "negative_points_4wk", "upn"],
        ascending=[False, True, False, True],
        na_position="last",
        kind="mergesort",
    ).head(capacity)
    card = model.card_
    ranked_points = points.loc[ranked.index]
    rows = []
    for rank, (pupil, pupil_points) in enumerate(
        zip(ranked.to_dict("records"), ranked_points.to_dict("records"), strict=True), start=1
    ):
        scored = [(f, int(pupil_points[f.name])) for f in card.features]
        reasons = [f.reason_text(_value(pupil[f.name]), p) for f, p in sorted(scored, key=lambda t: -t[1]) if p]
        missing = [f.description for f, _ in scored if _value(pupil[f.name]) is None]
        rows.append(
            {
                "rank": rank,
                "upn": pupil["upn"],
                "forename": pupil["forename"],
                "surname": pupil["surname"],
                "year_group": pupil["year_group"],
                "reg_group": pupil["reg_group"],
                "score": int(pupil["score"]),
                "band": card.band_of_score(int(pupil["score"])),
                "reasons": "; ".join(reasons) if reasons else "no points from any feature",
                "mentoring_focus": _focus([(f.focus, p) for f, p in scored]),
                "context": context_text(pupil),
                "in_intervention": _intervention_text(pupil),
                "change_since_last_run": "",
                "no_data": "; ".join(missing),
            }
        )
    shortlist = pd.DataFrame(rows, columns=list(SHORTLIST_COLUMNS))
    shortlist["change_since_last_run"] = change_since(shortlist, previous)
    return shortlist


def build_under_challenged(
    features: pd.DataFrame, capacity: int, previous: pd.DataFrame | None = None, min_gap: float = -1.0
) -> pd.DataFrame:
    """Able pupils who are under-challenged: high prior attainment, working a grade or more below target.

    High prior attainment is KS2 average scaled score of 110 or more, or a CAT4 mean SAS of 115 or more
    (``high_prior_attainment``); the gap is the mean of English and maths working-at against target. Ranked by
    the gap (largest first), then UPN.
    """
    able = features[features["high_prior_attainment"].fillna(False).astype(bool)]
    able = able[able["core_grade_gap"] <= min_gap]
    ranked = able.sort_values(["core_grade_gap", "upn"], kind="mergesort").head(capacity)
    rows = []
    for rank, pupil in enumerate(ranked.to_dict("records"), start=1):
        prior = _prior_text(pupil)
        gap = float(pupil["core_grade_gap"])
        rows.append(
            {
                "rank": rank,
                "upn": pupil["upn"],
                "forename": pupil["forename"],
                "surname": pupil["surname"],
                "year_group": pupil["year_group"],
                "reg_group": pupil["reg_group"],
                "prior_attainment": prior,
                "core_grade_gap": round(gap, 2),
                "reasons": f"High prior attainment ({prior}) but English and maths {format_value(gap, 'grades')} "
                "against target",
                "mentoring_focus": "under-challenged",
                "context": context_text(pupil),
                "in_intervention": _intervention_text(pupil),
                "change_since_last_run": "",
            }
        )
    listing = pd.DataFrame(rows, columns=list(UNDER_CHALLENGED_COLUMNS))
    listing["change_since_last_run"] = change_since(listing, previous)
    return listing


def change_since(current: pd.DataFrame, previous: pd.DataFrame | None) -> list[str]:
    """``new``, ``same``, ``up N`` or ``down N`` against the previous list's ranks; blank on a first run."""
    if previous is None:
        return ["" for _ in range(len(current))]
    before = dict(zip(previous["upn"], previous["rank"], strict=True))
    changes = []
    for upn, rank in zip(current["upn"], current["rank"], strict=True):
        if upn not in before:
            changes.append("new")
        elif int(before[upn]) == int(rank):
            changes.append("same")
        elif int(before[upn]) > int(rank):
            changes.append(f"up {int(before[upn]) - int(rank)}")
        else:
            changes.append(f"down {int(rank) - int(before[upn])}")
    return changes


def context_text(pupil: Mapping[Any, Any]) -> str:
    """Context shown beside the score but never scored: SEN, FSM, pupil premium, looked after, EAL."""
    parts = [labels[pupil[column]] for column, labels in CONTEXT_FLAGS if _hashable(pupil.get(column)) in labels]
    return "; ".join(parts)


def _hashable(value: object) -> object:
    if isinstance(value, np.bool_):
        return bool(value)
    return value if isinstance(value, str | bool) else None


def _focus(points_by_focus: Sequence[tuple[str, int]]) -> str:
    totals = dict.fromkeys(FOCI, 0)
    for focus, points in points_by_focus:
        totals[focus] += points
    ordered = [f for f in sorted(FOCI, key=lambda f: (-totals[f], FOCI.index(f))) if totals[f] > 0]
    return ", then ".join(ordered[:2]) if ordered else ""


def _intervention_text(pupil: Mapping[Any, Any]) -> str:
    current = pupil.get("current_interventions")
    return str(current) if isinstance(current, str) and current else ""


def _prior_text(pupil: Mapping[Any, Any]) -> str:
    parts = []
    if _value(pupil.get("ks2_mean_scaled_score")) is not None:
        parts.append(f"KS2 average {float(pupil['ks2_mean_scaled_score']):.0f}")
    if _value(pupil.get("cat4_mean_sas")) is not None:
        parts.append(f"CAT4 mean {float(pupil['cat4_mean_sas']):.0f}")
    return ", ".join(parts) or "high prior attainment"


def _value(value: object) -> float | None:
    if value is None or value is pd.NA:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number
