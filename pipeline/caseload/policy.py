"""The mentoring policy, in one module: places, who fills them, the need profile and the ranking.

**Places.** A school's mentoring places are, in order of precedence: the number set for it in ``[places]``; its
mentors in ``[mentors]`` times ``caseload_per_mentor``; or, when nothing is set, ``capacity_share`` of its roll
(5%), rounded up, and at least ``capacity_minimum``. Current mentees (pupils with an open intervention named in
``mentor_interventions``) fill places first, and so do pupils referred to mentoring whose intervention has not
started yet. The referral shortlist holds the free places' worth of new candidates, and never fewer than
``shortlist_minimum`` (so a full caseload still shows who is next).

**Order.** Pupils are ranked by score, highest first; ties are broken by lower attendance this term, then more
negative behaviour points in the last 4 weeks, then UPN (arbitrary but fixed; never alphabetical by name). A
missing value sorts last.

**Need profile.** Each pupil's points per barrier: the scorecard's points of the features whose focus is
attendance, behaviour (and exclusion), attainment (against potential) or literacy (and numeracy), and points for
circumstances and wellbeing signals the exports hold (looked after; an open wellbeing intervention such as
counselling). The main barrier is the one with most points (ties in the order of :data:`BARRIERS`).
Circumstances points are never part of the score: they name the barrier and share out places, nothing else.

**No barrier crowded out.** A pupil has *real need* in a barrier with at least ``need_points`` points in it. The
shortlist's places are shared between barriers in proportion to the number of candidates whose main barrier it
is with real need in it (largest remainders); a barrier left without a place then gets one, taken from the barrier
with most places, those with most pupils in need first, as long as no more than a quarter of the list is given
that way;
each barrier's places go to its candidates in rank order; places a barrier cannot fill, and places left
when no one has real need, go to the highest-ranked candidates not yet listed. The list is then shown in rank
order. So a school whose needs are mostly behaviour gets a mostly-behaviour list, and a few attendance cases
with high scores cannot take every place.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from pipeline.config import Settings
from pipeline.model.card import Scorecard

BARRIERS = ("attendance", "behaviour", "attainment", "literacy", "circumstances")
"""The barriers a need profile has points for, in the order ties are broken."""
BARRIER_NAMES = {
    "attendance": "attendance",
    "behaviour": "behaviour and exclusion",
    "attainment": "attainment against potential",
    "literacy": "literacy and numeracy",
    "circumstances": "circumstances and wellbeing",
}
FOCUS_WORDS = {
    "attendance": "getting to school every day (an attendance plan agreed with home)",
    "behaviour": "behaviour in lessons and staying out of exclusion",
    "attainment": "catching up to target in English and maths",
    "literacy": "reading and number skills",
    "circumstances": "wellbeing and a trusted adult to talk to",
}
"""The suggested mentoring focus for each main barrier, in plain words."""
LOOKED_AFTER_POINTS = 10
WELLBEING_INTERVENTION_POINTS = 6
WELLBEING_INTERVENTIONS = ("Counselling",)
"""Open interventions that signal a wellbeing need (their names as the MIS exports them)."""
SEVERE_ABSENCE = 0.5
"""Attendance below this (DfE severe absence: missing half of sessions or more) is flagged for the attendance team."""
RANK_COLUMNS = ["score", "attendance_rate_term", "negative_points_4wk", "upn"]
RANK_ASCENDING = [False, True, False, True]


@dataclass(frozen=True)
class Places:
    """One school's mentoring places tonight and how they are filled."""

    places: int
    rule: str
    """Where the number comes from, in words (``30 places set for the school``, ``2 mentors x 15``, ...)."""
    mentees: int
    pending: int
    """Pupils referred to mentoring whose intervention has not started: they take places too."""

    @property
    def free(self) -> int:
        return max(0, self.places - self.mentees - self.pending)

    def shortlist_length(self, minimum: int) -> int:
        """New candidates to list: the free places, and at least ``minimum``."""
        return max(self.free, minimum)


def school_places(school_id: str, roll: int, settings: Settings) -> tuple[int, str]:
    """A school's mentoring places and the rule that gave them.

    >>> school_places("100001", 716, Settings())
    (36, '5% of the roll of 716, rounded up (at least 5)')
    >>> school_places("100001", 716, Settings(mentors={"100001": 2}, caseload_per_mentor=12))
    (24, '2 mentors x 12 pupils each')
    >>> school_places("100001", 716, Settings(places={"100001": 30}))
    (30, '30 places set for the school')
    """
    school = str(school_id)
    if school in settings.places:
        return settings.places[school], f"{settings.places[school]} places set for the school"
    if school in settings.mentors:
        mentors = settings.mentors[school]
        return mentors * settings.caseload_per_mentor, (
            f"{mentors} mentor{'' if mentors == 1 else 's'} x {settings.caseload_per_mentor} pupils each"
        )
    share = settings.capacity_share
    places = max(settings.capacity_minimum, math.ceil(share * roll))
    return places, f"{100 * share:g}% of the roll of {roll}, rounded up (at least {settings.capacity_minimum})"


def capacity(school_id: str, roll: int, settings: Settings) -> int:
    """How many pupils a school can mentor (its places): what evaluation measures precision and recall at."""
    return school_places(school_id, roll, settings)[0]


def is_mentee(current_interventions: object, names: Iterable[str]) -> bool:
    """Whether a pupil's open interventions (``"A; B"``, as the feature table lists them) include mentoring."""
    if not isinstance(current_interventions, str) or not current_interventions:
        return False
    wanted = {n.strip().lower() for n in names}
    return any(part.strip().lower() in wanted for part in current_interventions.split(";"))


def rank_order(pupils: pd.DataFrame, score: Sequence[float] | pd.Series | None = None) -> pd.Index:
    """The index of ``pupils`` in rank order (score, then lower attendance this term, then more negative points
    in the last 4 weeks, then UPN). ``score`` defaults to the ``score`` column."""
    frame = pd.DataFrame(
        {
            "score": pupils["score"] if score is None else list(score),
            "attendance_rate_term": pd.to_numeric(pupils["attendance_rate_term"], errors="coerce").astype(float),
            "negative_points_4wk": pd.to_numeric(pupils["negative_points_4wk"], errors="coerce").astype(float),
            "upn": pupils["upn"].astype(str),
        },
        index=pupils.index,
    )
    ranked = frame.sort_values(RANK_COLUMNS, ascending=RANK_ASCENDING, na_position="last", kind="mergesort")
    return ranked.index


def top_places(groups: Iterable[tuple[str, pd.DataFrame]], score: pd.Series, settings: Settings) -> list[int]:
    """For each (school, pupils) group: the index labels of its top pupils by rank, as many as its places."""
    chosen: list[int] = []
    for school, group in groups:
        chosen += list(rank_order(group, score.loc[group.index])[: capacity(str(school), len(group), settings)])
    return chosen


def need_profile(pupils: pd.DataFrame, points: pd.DataFrame, card: Scorecard, settings: Settings) -> pd.DataFrame:
    """Points per barrier (``need_<barrier>``), the ``main_barrier`` and the ``suggested_focus`` of each pupil.

    ``points`` are the scorecard's points per feature (columns named as the card's features, rows aligned with
    ``pupils``). A pupil with no points in any barrier has main barrier ``none`` and no focus.
    """
    profile = pd.DataFrame(index=pupils.index)
    for barrier in BARRIERS[:-1]:
        names = [f.name for f in card.features if f.focus == barrier]
        profile[f"need_{barrier}"] = points[names].sum(axis=1).astype(int).to_numpy() if names else 0
    looked_after = pupils.get("looked_after", pd.Series(False, index=pupils.index))
    looked_after = looked_after.astype("boolean").fillna(False).astype(bool)
    wellbeing = pupils.get("current_interventions", pd.Series("", index=pupils.index))
    in_wellbeing = wellbeing.map(lambda text: is_mentee(text, WELLBEING_INTERVENTIONS))
    profile["need_circumstances"] = (
        LOOKED_AFTER_POINTS * looked_after.to_numpy() + WELLBEING_INTERVENTION_POINTS * in_wellbeing.to_numpy()
    ).astype(int)
    needs = profile[[f"need_{b}" for b in BARRIERS]].to_numpy()
    main = needs.argmax(axis=1)  # the first of equal maxima: ties in the order of BARRIERS
    has_need = needs.max(axis=1) > 0
    profile["main_barrier"] = [BARRIERS[m] if h else "none" for m, h in zip(main, has_need, strict=True)]
    focus = []
    for row, m, h in zip(needs, main, has_need, strict=True):
        if not h:
            focus.append("")
            continue
        text = FOCUS_WORDS[BARRIERS[m]]
        second = max((k for k in range(len(BARRIERS)) if k != m), key=lambda k: (row[k], -k))
        if row[second] >= max(settings.need_points, 1):
            text += f"; then {FOCUS_WORDS[BARRIERS[second]]}"
        focus.append(text)
    profile["suggested_focus"] = focus
    return profile


def share_places(counts: dict[str, int], places: int) -> dict[str, int]:
    """Places per barrier in proportion to ``counts`` (largest remainders), none above its count; then one place
    for each barrier left without (most pupils in need first, taken from the barrier with most places), as long as
    no more than a quarter of the places are given that way.

    >>> share_places({"attendance": 30, "behaviour": 8, "literacy": 2}, 10)
    {'attendance': 7, 'behaviour': 2, 'literacy': 1}
    >>> share_places({"attendance": 40, "behaviour": 1}, 5)
    {'attendance': 4, 'behaviour': 1}
    """
    wanted = {b: c for b, c in counts.items() if c > 0}
    total = sum(wanted.values())
    if total == 0 or places <= 0:
        return dict.fromkeys(wanted, 0)
    to_share = min(places, total)
    exact = {b: to_share * c / total for b, c in wanted.items()}
    shares = {b: math.floor(x) for b, x in exact.items()}
    by_remainder = sorted(wanted, key=lambda b: (-(exact[b] - shares[b]), BARRIERS.index(b)))
    for b in by_remainder[: to_share - sum(shares.values())]:
        shares[b] += 1
    # Then one place for each barrier left without, those with most pupils in need first, from the barrier with most
    # places; at most a quarter of the places are given this way, so that the shares stay in proportion to need.
    unplaced = sorted((b for b in wanted if shares[b] == 0), key=lambda b: (-wanted[b], BARRIERS.index(b)))
    for b in unplaced[: to_share // 4]:
        donor = max(shares, key=lambda d: (shares[d], -BARRIERS.index(d)))
        shares[donor] -= 1
        shares[b] += 1
    return shares


def select(candidates: pd.DataFrame, length: int, need_points: int) -> pd.DataFrame:
    """The ``length`` candidates to list, in rank order, with ``place_for``: the barrier whose share of places
    admitted the pupil, or ``""`` when the pupil came in on rank alone.

    ``candidates`` has the rank columns (``score``, ``attendance_rate_term``, ``negative_points_4wk``, ``upn``),
    ``main_barrier`` and ``need_<barrier>`` for each barrier.
    """
    if candidates.empty or length <= 0:
        return candidates.iloc[:0].assign(place_for=pd.Series(dtype=str))
    order = rank_order(candidates)
    ranked = candidates.loc[order]
    real = pd.Series(False, index=ranked.index)
    for barrier in BARRIERS:
        real |= (ranked["main_barrier"] == barrier) & (ranked[f"need_{barrier}"] >= max(need_points, 1))
    counts = ranked.loc[real, "main_barrier"].value_counts().to_dict()
    shares = share_places({b: int(counts.get(b, 0)) for b in BARRIERS}, length)
    place_for: dict[object, str] = {}
    for barrier, share in shares.items():
        for label in ranked.index[real & (ranked["main_barrier"] == barrier)][:share]:
            place_for[label] = barrier
    for label in ranked.index:
        if len(place_for) >= length:
            break
        place_for.setdefault(label, "")
    chosen = [label for label in ranked.index if label in place_for]
    return ranked.loc[chosen].assign(place_for=[place_for[label] for label in chosen])


@dataclass(frozen=True)
class Choice:
    """Who a school's shortlist lists: ``listed`` holds the pupils' rows (with their score, need profile and
    ``place_for``), the new candidates and then the pending referrals, each in rank order."""

    listed: pd.DataFrame
    places: Places


def choose(
    pupils: pd.DataFrame,
    points: pd.DataFrame,
    card: Scorecard,
    places: int,
    settings: Settings,
    rule: str = "",
    decision_status: pd.Series | None = None,
) -> Choice:
    """Fill a school's places and choose its shortlist (see the module docstring for the rule).

    ``points`` are the scorecard's points per feature, on the same index as ``pupils``; ``decision_status`` (same
    index) is ``pending``, ``held``, ``back`` or ``""`` per pupil (:mod:`pipeline.caseload.decisions`).
    """
    scored = pupils.assign(score=points.sum(axis=1).astype(int) if len(points.columns) else 0)
    profile = need_profile(scored, points, card, settings)
    scored = pd.concat([scored, profile], axis=1)
    status = pd.Series("", index=scored.index) if decision_status is None else decision_status.fillna("")
    interventions = scored.get("current_interventions", pd.Series("", index=scored.index))
    mentee = interventions.map(lambda text: is_mentee(text, settings.mentor_interventions)).astype(bool)
    pending = scored[~mentee & (status == "pending")]
    filled = Places(places, rule, int(mentee.sum()), len(pending))
    need = profile[[f"need_{b}" for b in BARRIERS]].sum(axis=1)
    candidates = scored[~mentee & ~status.isin(["pending", "held"]) & ((scored["score"] > 0) | (need > 0))]
    chosen = select(candidates, filled.shortlist_length(settings.shortlist_minimum), settings.need_points)
    listed = pd.concat([chosen, pending.loc[rank_order(pending)].assign(place_for="referred")])
    return Choice(listed, filled)
