"""The mentoring policy, in one module: places, who fills them, the need profile and the ranking.

**Places.** A school's mentoring places are, in order of precedence: the number set for it in ``[places]``; its
mentors in ``[mentors]`` times ``caseload_per_mentor``; or, when nothing is set, ``capacity_share`` of its roll
(5%), rounded up, and at least ``capacity_minimum``. Current mentees (pupils with an open intervention named in
``mentor_interventions``) fill places first, and so do pupils referred to mentoring whose intervention has not
started yet. The referral shortlist holds the free places' worth of new candidates, and never fewer than
``shortlist_minimum`` (so a full caseload still shows who is next), and with ``barrier_places = "beside"`` pupils
of other barriers after them, taking no place (below).

**Order.** Pupils are ranked by score, highest first; ties are broken by lower attendance this term, then more
negative behaviour points in the last 4 weeks, then UPN (arbitrary but fixed; never alphabetical by name). A
missing value sorts last.

**Need profile.** Each pupil's points per barrier: the scorecard's points of the features whose focus is
attendance, behaviour (and exclusion), attainment (against potential) or literacy (and numeracy), and points for
circumstances and wellbeing signals the exports hold (looked after; an open wellbeing intervention such as
counselling). A feature counts the points a pupil has above the usual pupil's (a learned card's best band is
often a small tail, so most pupils have points from it: :attr:`pipeline.model.card.FeatureCard.usual_points`; on an
expert card, all of them). The main barrier is the one with most points (ties in the order of :data:`BARRIERS`).
Circumstances points are never part of the score: they name the barrier and share out places, nothing else.

**No barrier crowded out.** A pupil has *real need* in a barrier with at least ``need_points`` points in it. By
default (``barrier_places = "beside"``) the shortlist's places go by rank, and after them, taking no place, it lists
in rank order the pupils that sharing the places by need (below) gives a place to and the rank does not, then the
highest-ranked pupil of each barrier with real need that no one listed so far has real need in. So the places find
what the card's ranking finds, every barrier with real need has a pupil on the list who needs help with it, and a
school whose needs are mostly behaviour sees its behaviour cases beside places that follow the score; staff decide
whether to swap one in.

**Sharing the places by need** (``barrier_places = "uncovered"``; ``every`` and ``none`` are its variants). The
places are shared between barriers in proportion to the number of candidates whose main barrier it is with real
need in it (largest remainders); each barrier's places go to its candidates in rank order; places a barrier cannot
fill, and places left when no one has real need, go to the highest-ranked candidates not yet listed. Then a barrier
with real need that no pupil so listed has real need in (as main barrier or not) gets a place, for its
highest-ranked candidate whose main barrier it is, taken from the barrier with most places, those with most pupils
in need first, as long as no more than a quarter of the list is given that way (``every`` keeps a place for every
barrier the shares leave without one, even one a listed pupil has real need in; ``none``, the shares alone). The
list is then shown in rank order. So a school whose needs are mostly behaviour gets a mostly-behaviour list, and a
few attendance cases with high scores cannot take every place.

**In SQL.** The need profile's points and main barrier (:func:`need_sql`, generated from the card), the candidates
(``sql/shortlist_candidates.sql``) and the order and its cut at the school's places (``sql/shortlist_order.sql``)
are SQL, the one definition of each, which DuckDB runs here on one school's pupils and Spark runs on every school
at once (docs/spark.md). The share of places
between barriers (:func:`share_places`) and the filling of them (:func:`select`) are Python: a handful of numbers
per school, from what the SQL kept.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
import sqlglot
from sqlglot import exp

from pipeline.caseload.decisions import sql
from pipeline.config import BARRIER_PLACES, BarrierPlaces, Settings
from pipeline.model.card import FeatureCard, Scorecard
from pipeline.model.scoring import POINTS_PREFIX

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
    "literacy": "reading skills (literacy catch-up)",
    "circumstances": "wellbeing and a trusted adult to talk to",
}
"""The suggested mentoring focus for each main barrier, in plain words."""
LATENESS_FOCUS = "getting to school on time (a punctuality plan agreed with home)"
"""The attendance focus where lateness carries half of a pupil's attendance points or more."""
LATENESS_FEATURES = ("late_marks_4wk",)
"""The features (of the feature contract) that count late marks."""
LOOKED_AFTER_POINTS = 10
WELLBEING_INTERVENTION_POINTS = 6
WELLBEING_INTERVENTIONS = ("Counselling",)
"""Open interventions that signal a wellbeing need (their names as the MIS exports them)."""
SEVERE_ABSENCE = 0.5
"""Attendance at or below this (DfE severe absence: missing half of sessions or more) is flagged for the attendance
team."""
RANK_COLUMNS = ["score", "attendance_rate_term", "negative_points_4wk", "upn"]
"""What ``sql/shortlist_order.sql`` orders by: score (highest first), attendance this term (lowest first), negative
points in the last 4 weeks (most first), UPN."""
BESIDE = "beside:"
"""``place_for`` of a pupil listed beside the places (``barrier_places = "beside"``), before the barrier's name."""
BESIDE_UNCOVERED = BESIDE + "uncovered:"
"""``place_for`` of a pupil listed beside the places for a barrier no pupil listed above (given a place or next in
line) has real need in (main barrier or not), before its name; :data:`BESIDE` alone: a barrier some pupil listed
above has real need in, but as the main barrier of fewer of them than its share of need."""
REFERRED = "referred"
"""``place_for`` of a pupil referred to mentoring whose intervention has not started (a place is theirs already)."""
ORDER_COLUMNS = ["school_id", "upn", "school_rank", "main_barrier", "real_need", "barrier_rank", "in_need"]
"""What ``sql/shortlist_order.sql`` returns for each candidate it keeps."""
POINTS_RELATION = "pupil_points"
"""What :func:`need_sql` reads: school_id, upn, score, attendance_rate_term, negative_points_4wk, looked_after,
current_interventions and the points of each of the card's features (``points__<feature>``)."""
INTERVENTION_NAMES = "list_transform(string_split(coalesce(current_interventions, ''), ';'), x -> lower(trim(x)))"
"""A pupil's open interventions as a list of lower-case names (the feature table joins them with ``;``)."""


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


def rank_order(pupils: pd.DataFrame, score: Sequence[float] | pd.Series | None = None) -> pd.Index:
    """The index of ``pupils`` in rank order (score, then lower attendance this term, then more negative points
    in the last 4 weeks, then UPN), as ``sql/shortlist_order.sql`` orders them. ``score`` defaults to the ``score``
    column."""
    if pupils.empty:
        return pupils.index
    frame = pd.DataFrame(
        {
            "school_id": "",
            "upn": pupils["upn"].astype(str),
            "score": pupils["score"] if score is None else list(score),
            "attendance_rate_term": pd.to_numeric(pupils["attendance_rate_term"], errors="coerce").astype(float),
            "negative_points_4wk": pd.to_numeric(pupils["negative_points_4wk"], errors="coerce").astype(float),
            "main_barrier": "none",
            "main_need": 0,
            "cut": len(pupils),
        },
        index=pupils.index,
    )
    order = shortlist_order(frame, need_points=1)
    return _labels(pupils, order["upn"])


def shortlist_order(candidates: pd.DataFrame, need_points: int) -> pd.DataFrame:
    """``sql/shortlist_order.sql`` run by DuckDB on ``candidates`` (its columns are the SQL's ``candidates``)."""
    return _run_on({"candidates": candidates}, sql("shortlist_order"), {"need_points": max(need_points, 1)})


_local = threading.local()


def _run_on(
    frames: dict[str, pd.DataFrame],
    query: str,
    parameters: dict[str, object] | None = None,
    views: dict[str, str] | None = None,
) -> pd.DataFrame:
    """``query`` run by an in-memory DuckDB (one per thread, kept: opening one costs more than a school's query)
    with each of ``frames`` as a relation of its name, and ``views`` (name: SQL) made from them first."""
    con: duckdb.DuckDBPyConnection | None = getattr(_local, "con", None)
    if con is None:
        con = _local.con = duckdb.connect()
    for name, frame in frames.items():
        con.register(name, frame.reset_index(drop=True))
    try:
        for name, view in (views or {}).items():
            con.execute(f"create temp view {name} as {view}")  # names are ours; no data in the text
        return con.execute(query, parameters or {}).df()
    finally:
        for name in views or {}:
            con.execute(f"drop view if exists {name}")
        for name in frames:
            con.unregister(name)


def _labels(pupils: pd.DataFrame, upns: Iterable[str]) -> pd.Index:
    """The index labels of ``pupils`` (UPNs unique) for ``upns``, in that order."""
    label_of = pd.Series(pupils.index, index=pupils["upn"].astype(str).to_numpy())
    return pd.Index(label_of.loc[list(upns)].to_numpy()) if len(pupils) else pupils.index[:0]


def top_places(groups: Iterable[tuple[str, pd.DataFrame]], score: pd.Series, settings: Settings) -> list[int]:
    """For each (school, pupils) group: the index labels of its top pupils by rank, as many as its places."""
    chosen: list[int] = []
    for school, group in groups:
        chosen += list(rank_order(group, score.loc[group.index])[: capacity(str(school), len(group), settings)])
    return chosen


def need_sql(card: Scorecard, mentor_interventions: Iterable[str]) -> str:
    """The need profile as SQL (DuckDB's dialect), from the relation ``pupil_points`` (:data:`POINTS_RELATION`).

    Returns its school_id, upn, score, attendance_rate_term and negative_points_4wk, then ``need_<barrier>`` for
    each barrier (the points of the card's features with that focus, above each feature's usual points (0 on an
    expert card, :attr:`FeatureCard.usual_points`); for circumstances, points for being looked
    after and for an open wellbeing intervention), ``total_need``, ``main_barrier`` (the one with most points,
    ties in the order of :data:`BARRIERS`; ``none`` without any), ``main_need`` (its points) and ``mentee`` (an
    open intervention named in ``mentor_interventions``). The card's names and the intervention names are
    literals; no pupil data is in the text.
    """
    needs: dict[str, exp.Expr] = {}
    for barrier in BARRIERS[:-1]:
        total: exp.Expr = exp.Literal.number(0)
        for feature in card.features:
            if feature.focus == barrier:
                total = exp.Add(this=total, expression=_need(feature))
        needs[barrier] = total
    looked_after = exp.func("coalesce", exp.column("looked_after"), exp.false())
    needs["circumstances"] = exp.Add(
        this=exp.Mul(this=exp.Literal.number(LOOKED_AFTER_POINTS), expression=_as_int(looked_after)),
        expression=exp.Mul(
            this=exp.Literal.number(WELLBEING_INTERVENTION_POINTS), expression=_as_int(_named(WELLBEING_INTERVENTIONS))
        ),
    )
    columns = [exp.column(f"need_{b}") for b in BARRIERS]
    most = exp.func("greatest", *columns, dialect="duckdb")
    main_barrier = exp.Case(
        ifs=[exp.If(this=exp.LTE(this=most.copy(), expression=exp.Literal.number(0)), true=exp.Literal.string("none"))]
        + [
            exp.If(this=exp.EQ(this=column.copy(), expression=most.copy()), true=exp.Literal.string(b))
            for b, column in zip(BARRIERS, columns, strict=True)
        ]
    )
    total_need: exp.Expr = exp.Literal.number(0)
    for column in columns:
        total_need = exp.Add(this=total_need, expression=column.copy())
    passed = ["school_id", "upn", "score", "attendance_rate_term", "negative_points_4wk"]
    profile = exp.select(
        *passed,
        *[exp.alias_(exp.cast(e, exp.DataType.Type.BIGINT), f"need_{b}") for b, e in needs.items()],
        exp.alias_(_named(mentor_interventions), "mentee"),
    ).from_(POINTS_RELATION)
    query = exp.select(
        *passed, *[f"need_{b}" for b in BARRIERS], exp.alias_(total_need, "total_need"),
        exp.alias_(main_barrier, "main_barrier"), exp.alias_(exp.func("greatest", exp.Literal.number(0), most.copy(),
        dialect="duckdb"), "main_need"), "mentee",
    ).from_(profile.subquery("needs"))  # fmt: skip
    return query.sql(dialect="duckdb")


def _need(feature: FeatureCard) -> exp.Expr:
    """A feature's points above its usual pupil's (:meth:`FeatureCard.need`): the points themselves on an expert
    card, whose usual points are 0."""
    points = exp.column(POINTS_PREFIX + feature.name)
    if not feature.usual_points:
        return points
    above = exp.Sub(this=points, expression=exp.Literal.number(feature.usual_points))
    return exp.func("greatest", above, exp.Literal.number(0), dialect="duckdb")


def _named(names: Iterable[str]) -> exp.Expr:
    """Whether a pupil's open interventions (``"A; B"``, as the feature table lists them) include any of ``names``
    (compared trimmed and in lower case)."""
    listed = sqlglot.parse_one(INTERVENTION_NAMES, read="duckdb")
    tests = [
        exp.func("list_contains", listed.copy(), exp.Literal.string(name.strip().lower()), dialect="duckdb")
        for name in sorted(set(names))
    ]
    return exp.or_(*tests) if tests else exp.false()


def _as_int(condition: exp.Expr) -> exp.Expr:
    return exp.Case(ifs=[exp.If(this=condition, true=exp.Literal.number(1))], default=exp.Literal.number(0))


def need_profile(pupils: pd.DataFrame, points: pd.DataFrame, card: Scorecard, settings: Settings) -> pd.DataFrame:
    """Points per barrier (``need_<barrier>``), the ``main_barrier``, ``main_need``, ``total_need``, ``mentee`` and
    the ``suggested_focus`` of each pupil, from :func:`need_sql` run by DuckDB.

    ``points`` are the scorecard's points per feature (columns named as the card's features, rows aligned with
    ``pupils``). A pupil with no points in any barrier has main barrier ``none`` and no focus.
    """
    profile = pd.DataFrame(index=pupils.index)
    if pupils.empty:
        for column in [f"need_{b}" for b in BARRIERS] + ["main_need", "total_need"]:
            profile[column] = pd.Series(dtype=int)
        return profile.assign(main_barrier="", mentee=False, suggested_focus="")
    frame = pd.DataFrame(
        {
            "school_id": "",
            "upn": pupils["upn"].astype(str).to_numpy(),
            "score": 0,
            "attendance_rate_term": 0.0,
            "negative_points_4wk": 0.0,
            "looked_after": pupils.get("looked_after", pd.Series(False, index=pupils.index))
            .astype("boolean")
            .fillna(False)
            .astype(bool)
            .to_numpy(),
            "current_interventions": [
                text if isinstance(text, str) else None
                for text in pupils.get("current_interventions", pd.Series("", index=pupils.index))
            ],
            **{POINTS_PREFIX + f.name: points[f.name].astype(int).to_numpy() for f in card.features},
        }
    )
    result = _run_on({POINTS_RELATION: frame}, need_sql(card, settings.mentor_interventions))
    for barrier in BARRIERS:
        profile[f"need_{barrier}"] = result[f"need_{barrier}"].astype(int).to_numpy()
    profile["main_barrier"] = result["main_barrier"].to_numpy()
    profile["main_need"] = result["main_need"].astype(int).to_numpy()
    profile["total_need"] = result["total_need"].astype(int).to_numpy()
    profile["mentee"] = result["mentee"].astype(bool).to_numpy()
    needs = profile[[f"need_{b}" for b in BARRIERS]].to_numpy()
    late = [f for f in card.features if f.name in LATENESS_FEATURES and f.focus == "attendance"]
    lateness = sum((points[f.name].apply(f.need).to_numpy() for f in late), np.zeros(len(pupils), dtype=int))
    focus = []
    for row, barrier, late_points in zip(needs, profile["main_barrier"], lateness, strict=True):
        if barrier == "none":
            focus.append("")
            continue
        words = {**FOCUS_WORDS, "attendance": LATENESS_FOCUS} if 2 * late_points >= row[0] > 0 else FOCUS_WORDS
        m = BARRIERS.index(barrier)
        text = words[barrier]
        # the next barrier with real need; barriers tied there are named together (an order among them would
        # be the list's, not the pupil's: a pupil at 95% attendance got an attendance plan over a reading age two
        # years behind, 10 points each)
        others = [k for k in range(len(BARRIERS)) if k != m]
        most = max(row[k] for k in others)
        if most >= max(settings.need_points, 1):
            text += "; then " + " and ".join(words[BARRIERS[k]] for k in others if row[k] == most)
        focus.append(text)
    profile["suggested_focus"] = focus
    return profile


def share_places(counts: dict[str, int], places: int, kept_for: Collection[str] = BARRIERS) -> dict[str, int]:
    """Places per barrier in proportion to ``counts`` (largest remainders), none above its count; then one place for
    each barrier of ``kept_for`` left without (most pupils in need first, taken from the barrier with most places),
    as long as no more than a quarter of the places are given that way.

    >>> share_places({"attendance": 30, "behaviour": 8, "literacy": 2}, 10)
    {'attendance': 7, 'behaviour': 2, 'literacy': 1}
    >>> share_places({"attendance": 40, "behaviour": 1}, 5)
    {'attendance': 4, 'behaviour': 1}
    >>> share_places({"attendance": 40, "behaviour": 1}, 5, kept_for=())
    {'attendance': 5, 'behaviour': 0}
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
    # Then one place for each barrier kept for and left without, those with most pupils in need first, from the
    # barrier with most places; at most a quarter of the places are given this way, so that the shares stay in
    # proportion to need.
    unplaced = sorted(
        (b for b in wanted if shares[b] == 0 and b in kept_for), key=lambda b: (-wanted[b], BARRIERS.index(b))
    )
    for b in unplaced[: to_share // 4]:
        donor = max(shares, key=lambda d: (shares[d], -BARRIERS.index(d)))
        shares[donor] -= 1
        shares[b] += 1
    return shares


def select(
    candidates: pd.DataFrame,
    length: int,
    need_points: int,
    order: pd.DataFrame | None = None,
    barrier_places: BarrierPlaces = "beside",
) -> pd.DataFrame:
    """The ``length`` candidates to list, in rank order, with ``place_for``: the barrier whose share of places
    admitted the pupil, or ``""`` when the pupil came in on rank alone. ``barrier_places`` says which barriers with
    real need that the shares leave without a place are given one (:func:`share_places`): ``"uncovered"``, those
    that no pupil the shares list has real need in (as main barrier or not); ``"every"``, all of them; ``"none"``,
    none. ``"beside"``: the ``length`` places go by rank, and after them, taking no place, come the candidates
    ``"uncovered"`` gives a place to that the rank does not, and the highest-ranked candidate of each barrier with
    real need that no one listed so far has real need in, in rank order (their ``place_for`` is :data:`BESIDE` and
    the barrier).

    ``candidates`` has the rank columns (``score``, ``attendance_rate_term``, ``negative_points_4wk``, ``upn``),
    ``main_barrier`` and ``main_need`` (or ``need_<barrier>`` for each barrier; ``"uncovered"`` reads them when
    present, and otherwise counts a pupil's main barrier only). ``order`` is what ``sql/shortlist_order.sql`` kept
    of them (:data:`ORDER_COLUMNS`), with a cut of ``length`` or more, when an engine ranked them already; by
    default DuckDB runs it here.
    """
    if candidates.empty or length <= 0:
        return candidates.iloc[:0].assign(place_for=pd.Series(dtype=str))
    if barrier_places not in BARRIER_PLACES:
        raise ValueError(f"barrier_places must be one of {', '.join(BARRIER_PLACES)}, not {barrier_places!r}")
    if order is None:
        order = shortlist_order(_ranking_input(candidates, length), need_points)
    order = order.sort_values("school_rank", kind="mergesort").reset_index(drop=True)
    labels = _labels(candidates, order["upn"])
    real = order["real_need"].astype(bool).to_numpy()
    main_barrier = order["main_barrier"].to_numpy()
    counts = {str(b): int(n) for b, n in zip(main_barrier[real], order["in_need"][real], strict=True)}
    wanted = {b: counts.get(b, 0) for b in BARRIERS}
    if barrier_places == "every":
        place_for = _fill(labels, main_barrier, real, share_places(wanted, length, BARRIERS), length)
    elif barrier_places == "none":
        place_for = _fill(labels, main_barrier, real, share_places(wanted, length, ()), length)
    else:
        place_for = _shared_keeping_uncovered(candidates, labels, main_barrier, real, wanted, length, need_points)
    if barrier_places == "beside":
        # The places by rank; after them, taking none, whom sharing by need would give a place the rank does not
        # (each came in on a barrier's share or kept place: the rank alone admits no one below the places), and
        # the best-ranked pupil of each barrier with real need that no one listed so far has real need in (the
        # quarter of the list that caps kept places does not apply: these pupils take no place).
        places = list(labels[:length])
        below = {label: place_for[label] for label in labels[length:] if label in place_for}
        covered = _in_need(candidates.loc[places + list(below)], need_points)
        below |= {labels[real & (main_barrier == b)][0]: b for b in BARRIERS if wanted[b] and b not in covered}
        beside = [label for label in labels if label in below]
        above = _in_need(candidates.loc[places], need_points)  # the places and those next in line
        return candidates.loc[places + beside].assign(
            place_for=[""] * len(places)
            + [(BESIDE if below[label] in above else BESIDE_UNCOVERED) + below[label] for label in beside]
        )
    chosen = [label for label in labels if label in place_for]
    return candidates.loc[chosen].assign(place_for=[place_for[label] for label in chosen])


def _shared_keeping_uncovered(
    candidates: pd.DataFrame,
    labels: pd.Index,
    main_barrier: np.ndarray,
    real: np.ndarray,
    wanted: dict[str, int],
    length: int,
    need_points: int,
) -> dict[object, str]:
    """Who fills ``length`` places shared by need (:func:`_fill`), with a place kept for each barrier with real
    need that no pupil so listed has real need in (``barrier_places = "uncovered"``)."""
    place_for = _fill(labels, main_barrier, real, share_places(wanted, length, ()), length)
    kept: list[str] = []
    while True:
        # A place for each barrier no listed pupil has real need in; the place it takes can uncover another
        # barrier (its pupil was the only one listed in need there), which is then kept a place too, and so on
        # (each round adds a barrier, so at most five rounds; a quarter of the list at most, as before).
        covered = _in_need(candidates.loc[list(place_for)], need_points)
        uncovered = [b for b in BARRIERS if wanted[b] and b not in covered and b not in kept]
        if not uncovered:
            return place_for
        kept += uncovered
        place_for = _fill(labels, main_barrier, real, share_places(wanted, length, kept), length)


def _fill(
    labels: pd.Index, main_barrier: np.ndarray, real: np.ndarray, shares: dict[str, int], length: int
) -> dict[object, str]:
    """Who fills ``length`` places (``labels`` in rank order): each barrier's share goes to its pupils with real
    need in rank order, the places left to the highest-ranked pupils not yet listed. Label: the barrier whose share
    admitted the pupil, or ``""``."""
    place_for: dict[object, str] = {}
    for barrier, share in shares.items():
        for label in labels[real & (main_barrier == barrier)][:share]:
            place_for[label] = barrier
    for label in labels:
        if len(place_for) >= length:
            break
        place_for.setdefault(label, "")
    return place_for


def _in_need(pupils: pd.DataFrame, need_points: int) -> set[str]:
    """The barriers some of ``pupils`` have real need in (``need_points`` points or more), main barrier or not."""
    threshold = max(need_points, 1)
    columns = [f"need_{b}" for b in BARRIERS]
    if set(columns) <= set(pupils.columns):
        return {b for b in BARRIERS if (pupils[f"need_{b}"].astype(int) >= threshold).any()}
    return set(pupils.loc[pupils["main_need"].astype(int) >= threshold, "main_barrier"].astype(str))


def published_order(scored: pd.DataFrame, settings: Settings, places: int) -> tuple[np.ndarray, int]:
    """Positions of one school's pupils (``scored``: :func:`scored_with_need` of them, indexed 0..n-1, every one a
    candidate) as the shortlist lists them at ``places``: the pupils :func:`select` gives the places to (by rank, or
    shared between barriers by need), then those it lists beside them (``barrier_places = "beside"``), then every
    other pupil in rank order; and how many the list shows (the places, and those beside them). Used to measure the
    published list."""
    listed = select(scored, places, settings.need_points, barrier_places=settings.barrier_places).index
    rest = rank_order(scored).difference(listed, sort=False)
    return np.concatenate([listed.to_numpy(), rest.to_numpy()]).astype(int), len(listed)


def list_breadth(scored: pd.DataFrame, listed: Sequence[int] | np.ndarray, need_points: int) -> dict[str, int]:
    """How many barriers a list of one school's pupils holds (``scored``: :func:`scored_with_need` of them, indexed
    0..n-1; ``listed``: the positions on the list): ``main_barriers``, the main barriers with real need of the
    pupils on it; ``barriers_covered``, the barriers some pupil on it has real need in, main barrier or not; and
    ``barriers_in_need``, those some pupil of the school has real need in."""
    on_list = scored.iloc[list(listed)]
    real = on_list["main_need"].astype(int) >= max(need_points, 1)
    return {
        "main_barriers": int(on_list.loc[real & (on_list["main_barrier"] != "none"), "main_barrier"].nunique()),
        "barriers_covered": len(_in_need(on_list, need_points)),
        "barriers_in_need": len(_in_need(scored, need_points)),
    }


def scored_with_need(pupils: pd.DataFrame, points: pd.DataFrame, card: Scorecard, settings: Settings) -> pd.DataFrame:
    """``pupils`` with their ``score`` (the sum of ``points``, the card's points per feature on the same index) and
    their need profile (:func:`need_profile`): what choosing a list reads."""
    scored = pupils.assign(score=points.sum(axis=1).astype(int) if len(points.columns) else 0)
    return pd.concat([scored, need_profile(scored, points, card, settings)], axis=1)


def _ranking_input(candidates: pd.DataFrame, cut: int) -> pd.DataFrame:
    """One school's candidates as ``sql/shortlist_order.sql`` reads them."""
    if "main_need" in candidates:
        main_need = candidates["main_need"].astype(int)
    else:
        needs = candidates[[f"need_{b}" for b in BARRIERS]].to_numpy()
        main_need = pd.Series(needs.max(axis=1), index=candidates.index)
    return pd.DataFrame(
        {
            "school_id": "",
            "upn": candidates["upn"].astype(str),
            "score": candidates["score"].astype(int),
            "attendance_rate_term": pd.to_numeric(candidates["attendance_rate_term"], errors="coerce").astype(float),
            "negative_points_4wk": pd.to_numeric(candidates["negative_points_4wk"], errors="coerce").astype(float),
            "main_barrier": candidates["main_barrier"].astype(str),
            "main_need": main_need,
            "cut": cut,
        },
        index=candidates.index,
    )


def _school_order(scored: pd.DataFrame, status: pd.Series, cut: int, need_points: int) -> pd.DataFrame:
    """One school's candidates (``sql/shortlist_candidates.sql``) in order, cut at ``cut``
    (``sql/shortlist_order.sql``), run by DuckDB: the SQL an engine runs on every school at once."""
    if scored.empty:  # (an empty frame's text columns have no type for DuckDB to read)
        return pd.DataFrame(columns=ORDER_COLUMNS)
    needs = pd.DataFrame(
        {
            "school_id": "",
            "upn": scored["upn"].astype(str),
            "score": scored["score"].astype(int),
            "attendance_rate_term": pd.to_numeric(scored["attendance_rate_term"], errors="coerce").astype(float),
            "negative_points_4wk": pd.to_numeric(scored["negative_points_4wk"], errors="coerce").astype(float),
            **{c: scored[c] for c in ("main_barrier", "main_need", "total_need", "mentee")},
        }
    )
    decided = status != ""
    decisions = pd.DataFrame(
        {"school_id": "", "upn": scored.loc[decided, "upn"].astype(str), "decision_status": status[decided]}
    ).astype({"school_id": str, "upn": str, "decision_status": str})
    return _run_on(
        {"needs": needs, "decision_status": decisions, "school_cut": pd.DataFrame({"school_id": [""], "cut": [cut]})},
        sql("shortlist_order"),
        {"need_points": max(need_points, 1)},
        views={"candidates": sql("shortlist_candidates")},
    )


@dataclass(frozen=True)
class Choice:
    """Who a school's shortlist lists: ``listed`` holds the pupils' rows (with their score, need profile and
    ``place_for``), the new candidates given the free places, those listed beside them, and then the pending
    referrals, each in rank order."""

    listed: pd.DataFrame
    places: Places

    @property
    def beside(self) -> pd.Series:
        """Which rows of ``listed`` are listed beside the places, taking none (``barrier_places = "beside"``)."""
        return self.listed["place_for"].astype(str).str.startswith(BESIDE)

    @property
    def new_candidates(self) -> pd.Series:
        """Which rows of ``listed`` are new candidates: not the pupils listed beside the places, nor the referrals
        pending."""
        return ~self.beside & (self.listed["place_for"].astype(str) != REFERRED)

    @property
    def waiting(self) -> pd.Series:
        """Which rows of ``listed`` are new candidates beyond the free places: listed because the shortlist holds at
        least ``shortlist_minimum`` pupils, so that staff see who is next; they take no place until one frees up."""
        candidate = self.new_candidates
        return candidate & (candidate.cumsum() > self.places.free)

    @property
    def given_places(self) -> pd.Series:
        """Which rows of ``listed`` are new candidates given one of the free places (not those waiting beyond them)."""
        return self.new_candidates & ~self.waiting


def choose(
    pupils: pd.DataFrame,
    points: pd.DataFrame,
    card: Scorecard,
    places: int,
    settings: Settings,
    rule: str = "",
    decision_status: pd.Series | None = None,
    order: pd.DataFrame | None = None,
) -> Choice:
    """Fill a school's places and choose its shortlist (see the module docstring for the rule).

    ``points`` are the scorecard's points per feature, on the same index as ``pupils``; ``decision_status`` (same
    index) is ``pending``, ``held``, ``back`` or ``""`` per pupil (:mod:`pipeline.caseload.decisions`). ``order``
    is the school's rows of ``sql/shortlist_order.sql`` when an engine ranked every school's candidates already
    (``sql/shortlist_candidates.sql``, with a cut of at least the shortlist's length); it must hold only this
    school's candidates.
    """
    scored = scored_with_need(pupils, points, card, settings)
    status = pd.Series("", index=scored.index) if decision_status is None else decision_status.fillna("")
    mentee = scored["mentee"]
    pending = scored[~mentee & (status == "pending")]
    filled = Places(places, rule, int(mentee.sum()), len(pending))
    length = filled.shortlist_length(settings.shortlist_minimum)
    if order is None:
        order = _school_order(scored, status, length, settings.need_points)
    chosen = select(scored, length, settings.need_points, order, settings.barrier_places)
    listed = pd.concat([chosen, pending.loc[rank_order(pending)].assign(place_for=REFERRED)])
    return Choice(listed, filled)
