"""Referral shortlists of new candidates with a need profile and plain-words reasons, and the under-challenged list.

Who is listed, how many and in what order is decided by :mod:`pipeline.caseload.policy` (places, current mentees,
the need profile and the rule that keeps a barrier with real need from being crowded out); staff decisions by
:mod:`pipeline.caseload.decisions`. This module turns those decisions into rows a pastoral manager reads.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pipeline.caseload.policy import (
    BARRIER_NAMES,
    BARRIERS,
    BESIDE,
    BESIDE_UNCOVERED,
    REFERRED,
    SEVERE_ABSENCE,
    WELLBEING_INTERVENTIONS,
    Places,
    choose,
)
from pipeline.caseload.review import number_or_none
from pipeline.config import Settings
from pipeline.contract import in_primary
from pipeline.model.card import FeatureCard, Scorecard, format_value, gap_size_text
from pipeline.model.scorecard import PointsScorecard

PUPIL_COLUMNS = ("upn", "forename", "surname", "year_group", "reg_group")
"""Who the pupil is: the columns every list starts with, after the rank."""
PENDING_TEXT = "referred, pending"
"""``place_for`` of a pupil referred to mentoring whose intervention has not started: they hold a place already."""
WAITING_TEXT = "next in line: no free place now"
"""``place_for`` of a new candidate beyond the free places (the shortlist lists at least ``shortlist_minimum``)."""
BESIDE_TEXT = "beside the places, not taking one"
"""How ``place_for`` starts for a pupil listed after the places (``barrier_places = "beside"``)."""
SHORTLIST_COLUMNS = (
    "rank", *PUPIL_COLUMNS, "score", "band", "main_barrier", "need",
    "suggested_focus", "reasons", "place_for", "attendance_team", "last_decision", "context", "in_intervention",
    "change_since_last_run", "no_data",
)  # fmt: skip
UNDER_CHALLENGED_COLUMNS = (
    "rank", *PUPIL_COLUMNS, "prior_attainment", "core_grade_gap",
    "reasons", "mentoring_focus", "context", "in_intervention", "change_since_last_run",
)  # fmt: skip
HELD_OFF_COLUMNS = (*PUPIL_COLUMNS, "score", "would_be_listed", "last_decision")
CONTEXT_FLAGS = (
    ("sen_provision", {"K": "SEN support", "E": "EHC plan"}),
    ("fsm_eligible", {True: "FSM"}),
    ("pupil_premium", {True: "pupil premium"}),
    ("looked_after", {True: "looked after"}),
    ("eal", {True: "EAL"}),
)
USUAL = "as most pupils, "
"""Before a reason whose points are no more than a usual pupil's (:attr:`FeatureCard.usual_points`, a learned
card's): part of the score, so the reasons still add up to it, but no sign of need."""
ABLE_ATTENDANCE = 0.9
"""An able pupil below target is listed as under-challenged only with attendance this term of 90% or more (not
persistently absent): below that, absence is the likelier explanation and the shortlist is the place for them."""
READING_AHEAD_MONTHS = 12


@dataclass(frozen=True)
class Shortlist:
    """One school's shortlist, the places it was sized by, the mix of main barriers on it (``mix``), of the new
    candidates given its free places (``new_mix``: not the referrals pending, nor pupils listed beside the places)
    and of the pupils it lists beside the places (``beside_mix``, with ``barrier_places = "beside"``)."""

    table: pd.DataFrame
    places: Places
    mix: dict[str, int]
    new_mix: dict[str, int]
    beside_mix: dict[str, int]

    @property
    def beside(self) -> int:
        """How many pupils the shortlist lists beside the places."""
        return sum(self.beside_mix.values())


def build_shortlist(
    features: pd.DataFrame,
    model: PointsScorecard,
    places: int,
    settings: Settings,
    previous: pd.DataFrame | None = None,
    points: pd.DataFrame | None = None,
    decisions: pd.DataFrame | None = None,
    rule: str = "",
    order: pd.DataFrame | None = None,
) -> Shortlist:
    """One school's referral shortlist: the free places' worth of new candidates, those listed beside the places
    (taking none), then the pending referrals.

    ``features`` has one row per pupil on roll (identity and context columns plus the scorecard's features);
    ``places`` is the school's mentoring places (:func:`pipeline.caseload.policy.school_places`). ``previous`` is
    the last published shortlist (``upn`` and ``rank``), for the change column; ``points`` the points the score
    stage gave each pupil (rows aligned with ``features``; without them the model scores); ``decisions`` the
    pupils' decision states (:func:`pipeline.caseload.decisions.decision_states`); ``order`` the school's ranked
    candidates when an engine ranked them (:func:`pipeline.caseload.policy.choose`).
    """
    card = model.card_
    pupils = features.reset_index(drop=True)
    points = model.points(pupils) if points is None else points.reset_index(drop=True)
    status = pd.Series("", index=pupils.index)
    last = pd.Series("", index=pupils.index)
    if decisions is not None and not decisions.empty:
        by_upn = decisions.set_index("upn")
        status = pupils["upn"].map(by_upn["decision_status"]).fillna("")
        last = pupils["upn"].map(by_upn["last_decision"]).fillna("")
    choice = choose(pupils.assign(last_decision=last), points, card, places, settings, rule, status, order)
    listed = choice.listed
    waiting = choice.waiting.to_numpy()
    rows = []
    for rank, (label, pupil) in enumerate(zip(listed.index, listed.to_dict("records"), strict=True), start=1):
        primary = in_primary(pupil.get("year_group"))
        scored = [(f, int(points.loc[label, f.name])) for f in card.features]
        # Most need first; on a learned card, points no more than a usual pupil's come last, marked as such.
        reasons = [
            ("" if f.need(p) else USUAL) + reason_text(f, number_or_none(pupil[f.name]), p, primary)
            for f, p in sorted(scored, key=lambda t: (-t[0].need(t[1]), -t[1]))
            if p
        ]
        missing = [f.description for f, _ in scored if number_or_none(pupil[f.name]) is None]
        attendance = number_or_none(pupil.get("attendance_rate_term"))
        rows.append(
            {
                "rank": rank,
                **{column: pupil[column] for column in PUPIL_COLUMNS},
                "score": int(pupil["score"]),
                "band": chance_band(card, int(pupil["score"])),
                "main_barrier": BARRIER_NAMES.get(str(pupil["main_barrier"]), "none"),
                "need": need_text(pupil),
                "suggested_focus": pupil["suggested_focus"],
                "reasons": "; ".join(reasons) if reasons else _pointless(pupil),
                "place_for": WAITING_TEXT if waiting[rank - 1] else _place_text(str(pupil["place_for"])),
                "attendance_team": severe_absence_text(attendance),
                "last_decision": pupil["last_decision"],
                "context": context_text(pupil),
                "in_intervention": _intervention_text(pupil),
                "change_since_last_run": "",
                "no_data": "; ".join(missing),
            }
        )
    shortlist = pd.DataFrame(rows, columns=list(SHORTLIST_COLUMNS))
    changes = pd.Series(change_since(shortlist, previous), index=shortlist.index)
    # A pending referral is listed after the candidates, so its rank moves with their number, not its need: "still
    # pending" where the last list had it pending too (or did not record its place), else referred since it.
    listed_before = ~changes.isin(["new", ""])
    pending = (shortlist["place_for"] == PENDING_TEXT) & listed_before
    if previous is not None and "place_for" in previous:
        place_before = shortlist["upn"].map(dict(zip(previous["upn"], previous["place_for"], strict=True)))
        referred_since = pending & place_before.notna() & (place_before != PENDING_TEXT)
    else:
        referred_since = pd.Series(False, index=shortlist.index)
    shortlist["change_since_last_run"] = changes.mask(pending & ~referred_since, "still pending").mask(
        referred_since, "referred since the last list"
    )
    return Shortlist(
        shortlist,
        choice.places,
        _barrier_counts(shortlist["main_barrier"]),
        _barrier_counts(shortlist.loc[choice.given_places.to_numpy(), "main_barrier"]),
        _barrier_counts(shortlist.loc[choice.beside.to_numpy(), "main_barrier"]),
    )


def _barrier_counts(barriers: pd.Series) -> dict[str, int]:
    """How many pupils have each main barrier, most first."""
    return {str(b): int(n) for b, n in barriers.value_counts().items()}


def chance_of_outcome(card: Scorecard, score: int) -> float:
    """The calibrated probability of the outcome at ``score``: from the card's score-to-probability table when it
    has one (``extra.probability_table``: rows of ``min_score`` and ``probability``), else from its logistic
    calibration, ``1 / (1 + exp(-(intercept + slope * score)))``.

    >>> from pathlib import Path
    >>> card = Scorecard.load(Path("models/scorecard-v1.yaml"))
    >>> [round(chance_of_outcome(card, s), 2) for s in (0, 20, 40, 60)]
    [0.05, 0.17, 0.45, 0.77]
    """
    table = card.extra.get("probability_table")
    if isinstance(table, list) and table:
        fitting = [row for row in table if score >= float(row["min_score"])]
        row = max(fitting, key=lambda r: float(r["min_score"])) if fitting else table[0]
        return float(row["probability"])
    return 1 / (1 + math.exp(-(card.calibration_intercept + card.calibration_slope * score)))


def chance_band(card: Scorecard, score: int) -> str:
    """The band a shortlist shows: the chance of the outcome in the next half-term, to the nearest 5%.

    >>> from pathlib import Path
    >>> card = Scorecard.load(Path("models/scorecard-v1.yaml"))
    >>> chance_band(card, 40), chance_band(card, -100), chance_band(card, 200)
    ('about 45%', 'under 5%', 'over 95%')
    """
    percent = 5 * round(20 * chance_of_outcome(card, score))
    if percent < 5:
        return "under 5%"
    if percent > 95:
        return "over 95%"
    return f"about {percent}%"


def reason_text(feature: FeatureCard, value: float | None, points: int, primary: bool) -> str:
    """The plain-words reason for one feature, worded for the phase.

    >>> from pathlib import Path
    >>> card = Scorecard.load(Path("models/scorecard-v1.yaml"))
    >>> reason_text(card.feature("attendance_change_4wk"), -0.123, 8, False)
    'Attendance in the last 4 weeks -12.3 percentage points against the term — falling sharply (+8)'
    >>> reason_text(card.feature("suspensions_year"), 1.0, 10, False)
    '1 suspension this year — suspended once (+10)'
    >>> reason_text(card.feature("english_grade_gap"), -1.0, 2, True)
    'Reading 1 step below target (on the BLW, PKS, WTS, EXS, GDS scale) — just below target (+2)'
    >>> reason_text(card.feature("maths_grade_gap"), -1.33, 6, False)
    'Maths 1.3 grades below target — a grade or more below target (+6)'
    >>> v4 = Scorecard.load(Path("models/scorecard-v4.yaml"))
    >>> reason_text(v4.feature("core_grade_change"), -0.8, 10, False)
    'English and maths -0.8 grades since the last assessment — slipped half a grade or more (+10)'
    >>> reason_text(v4.feature("core_grade_change"), -1.5, 10, True)
    'English and maths -1.5 steps since the last assessment — slipped half a step or more (+10)'
    """
    band = feature.band_of(value)
    if band is None or value is None:
        return f"{feature.description}: {feature.missing_label} ({points:+d})"
    template = feature.reason
    if _gap_to_target(feature):
        subject = template[: template.index("{value}")].strip()
        if primary and subject == "English":
            subject = "Reading"
        text = f"{subject} {grade_gap_text(value, primary)}"
    elif _gap_to_age(feature):
        text = f"{template[: template.index('{value}')].strip()} {age_gap_text(value)}"
    else:
        text = template.format(value=value_text(feature, value, primary), description=feature.description)
    text = text.replace("(s)", "" if abs(value) == 1 else "s")
    return f"{text} — {phase_label(band.label, primary)} ({points:+d})"


def value_text(feature: FeatureCard, value: float | None, primary: bool) -> str:
    """A feature's value in words, for the phase (a primary pupil's grades are steps), as the shortlist's reasons and
    ``mentor explain`` show it.

    >>> from pathlib import Path
    >>> card = Scorecard.load(Path("models/scorecard-v4.yaml"))
    >>> maths = card.feature("maths_grade_gap")
    >>> value_text(maths, -2.0, True), value_text(maths, -2.0, False)
    ('2 steps below target (on the BLW, PKS, WTS, EXS, GDS scale)', '-2.0 grades')
    >>> value_text(card.feature("core_grade_change"), -1.0, True)
    '-1.0 steps'
    """
    if value is not None and primary and _gap_to_target(feature):
        return grade_gap_text(value, primary)
    shown = format_value(value, feature.unit)
    return shown.replace("grades", "steps") if primary and feature.unit == "grades" else shown


def phase_label(label: str, primary: bool) -> str:
    """A band's label worded for the phase: at primary the gap to target is in steps (BLW, PKS, WTS, EXS, GDS), not
    grades."""
    return label.replace("a grade", "a step").replace("two grades", "two steps") if primary else label


def _gap_to_target(feature: FeatureCard) -> bool:
    return feature.unit == "grades" and feature.reason.endswith("{value} against target")


def _gap_to_age(feature: FeatureCard) -> bool:
    return feature.unit == "months" and feature.reason.endswith("{value} against age")


def age_gap_text(months: float) -> str:
    """A reading age against the pupil's age, in words ("-27 months against age" read as a sum).

    >>> for months in (-27.0, 13.0, -1.0, 0.0):
    ...     print(age_gap_text(months))
    27 months behind the pupil's age
    13 months ahead of the pupil's age
    1 month behind the pupil's age
    the same as the pupil's age
    """
    whole = round(abs(months))
    if whole == 0:
        return "the same as the pupil's age"
    size = f"{whole} month{'' if whole == 1 else 's'}"
    return f"{size} behind the pupil's age" if months < 0 else f"{size} ahead of the pupil's age"


def _pointless(pupil: Mapping[Any, Any]) -> str:
    """The reasons of a listed pupil the scorecard gives no point: why they are listed all the same.

    >>> _pointless({"main_barrier": "circumstances", "looked_after": True, "current_interventions": None})
    'no points from the scorecard: listed for circumstances and wellbeing, looked after'
    >>> _pointless({"main_barrier": "none"})
    'no points from the scorecard: listed to make up the shortlist'
    """
    if pupil.get("main_barrier") != "circumstances":
        return "no points from the scorecard: listed to make up the shortlist"
    why = []
    looked_after = pupil.get("looked_after")
    if looked_after is not None and not pd.isna(looked_after) and bool(looked_after):
        why.append("looked after")
    names = str(pupil.get("current_interventions") or "")
    why += [f"an open {name} intervention" for name in WELLBEING_INTERVENTIONS if name.lower() in names.lower()]
    return ", ".join(["no points from the scorecard: listed for circumstances and wellbeing", *why])


def need_text(pupil: Mapping[Any, Any]) -> str:
    """Points per barrier with any, largest first, e.g. ``attendance 26, behaviour and exclusion 12``."""
    needs = [(b, int(pupil[f"need_{b}"])) for b in BARRIERS if int(pupil[f"need_{b}"]) > 0]
    needs.sort(key=lambda t: (-t[1], BARRIERS.index(t[0])))
    return ", ".join(f"{BARRIER_NAMES[b]} {n}" for b, n in needs)


ABLE_SIGNS = ("gds_target", "gds_earlier", "below_expected_now", "slipped_from_gds")
"""The signs of an able primary pupil that ``sql/able_pupils.sql`` gives (see :func:`build_under_challenged`)."""
ABLE_SUBJECTS = ("gds_target_in", "gds_earlier_in", "slipped_in")
"""The subjects each sign was seen in, named for the reasons ("maths", "writing (WTS)")."""


def build_under_challenged(
    features: pd.DataFrame,
    able: pd.DataFrame | None = None,
    shortlisted: frozenset[str] = frozenset(),
    previous: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, str]:
    """Able pupils who are under-challenged, where attendance is not the explanation; and, when there are none,
    a sentence saying why (else ``""``).

    Able: KS2 average scaled score of 110 or more, or a CAT4 mean SAS of 115 or more (``high_prior_attainment``);
    or, the primary equivalent from teacher assessment (``able``, from ``sql/able_pupils.sql``), a GDS target,
    GDS at an earlier assessment point, or a reading age a year or more ahead. Under-challenged: English and maths
    a grade (a step at primary) or more below target on average, or, in Year 6, working below the expected
    standard in a subject worked at GDS earlier (``slipped_from_gds``). Only with attendance this term of 90% or
    more, and not on tonight's shortlist. Ranked by the gap (largest first), then UPN. Every pupil who meets the
    rule is listed: the list takes no mentoring place, so the shortlist's length does not cut it.
    """
    pupils = features.reset_index(drop=True)
    if able is not None and not able.empty:
        signs = [column for column in ("upn", *ABLE_SIGNS, *ABLE_SUBJECTS) if column in able.columns]
        pupils = pupils.merge(able[signs], on="upn", how="left")
    for column in ABLE_SIGNS:
        pupils[column] = pupils.get(column, pd.Series(False, index=pupils.index)).astype("boolean").fillna(False)
    for column in ABLE_SUBJECTS:
        pupils[column] = pupils.get(column, pd.Series("", index=pupils.index)).fillna("").astype(str)
    reading = pd.to_numeric(
        pupils.get("reading_age_gap_months", pd.Series(np.nan, index=pupils.index)), errors="coerce"
    )
    high_prior = pupils["high_prior_attainment"].astype("boolean").fillna(False).astype(bool)
    at_primary = pupils["year_group"].map(in_primary).astype(bool)
    # A reading age a year ahead is the primary equivalent of prior attainment, as GDS is: at secondary the KS2 and
    # CAT4 scores say who is able, and a reading age ahead there is not enough.
    is_able = (
        high_prior | pupils["gds_target"] | pupils["gds_earlier"] | ((reading >= READING_AHEAD_MONTHS) & at_primary)
    )
    gap = pd.to_numeric(pupils["core_grade_gap"], errors="coerce")
    year6_slip = (pupils["year_group"].astype(str) == "6") & pupils["slipped_from_gds"]
    below = is_able & ((gap <= -1) | year6_slip)
    attendance = pd.to_numeric(pupils["attendance_rate_term"], errors="coerce")
    attending = attendance >= ABLE_ATTENDANCE
    listed = ~pupils["upn"].isin(shortlisted)
    chosen = pupils[below & attending & listed]
    ranked = chosen.assign(_gap=gap.loc[chosen.index].fillna(0.0)).sort_values(["_gap", "upn"], kind="mergesort")
    rows = []
    for rank, pupil in enumerate(ranked.to_dict("records"), start=1):
        primary = in_primary(pupil.get("year_group"))
        prior = _prior_text(pupil)
        value = number_or_none(pupil["core_grade_gap"])
        where = (
            "English and maths " + grade_gap_text(value, primary)
            if value is not None and value <= -1
            else _slipped_text(str(pupil["slipped_in"]))
        )
        rows.append(
            {
                "rank": rank,
                **{column: pupil[column] for column in PUPIL_COLUMNS},
                "prior_attainment": prior,
                "core_grade_gap": None if value is None else round(value, 2),
                "reasons": f"Able ({prior}) but {where}; attendance "
                f"{format_value(float(pupil['attendance_rate_term']), 'percent')} this term",
                "mentoring_focus": "under-challenged: stretch and raised expectations",
                "context": context_text(pupil),
                "in_intervention": _intervention_text(pupil),
                "change_since_last_run": "",
            }
        )
    listing = pd.DataFrame(rows, columns=list(UNDER_CHALLENGED_COLUMNS))
    listing["change_since_last_run"] = change_since(listing, previous)
    why = ""
    if listing.empty:
        why = (
            f"No pupil met the rule tonight: {int(is_able.sum())} able pupils, {int(below.sum())} of them below "
            f"target; of those {int((below & ~attending).sum())} have attendance below 90% or none this term and "
            f"{int((below & attending & ~listed).sum())} are on the shortlist."
        )
    return listing, why


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


def severe_absence_text(attendance: float | None) -> str:
    """The attendance team's flag for severe absence (DfE: 50% or less), with the figure it is judged on: attendance
    this term with every absence counted, term-time holiday too, which the reasons show set aside.

    >>> severe_absence_text(0.462), severe_absence_text(0.51)
    ('severe absence: attendance 46.2% this term, holiday counted (50% or less): for the attendance team too', '')
    """
    if attendance is None or attendance > SEVERE_ABSENCE:
        return ""
    return (
        f"severe absence: attendance {attendance:.1%} this term, holiday counted (50% or less): for the attendance "
        "team too"
    )


def context_text(pupil: Mapping[Any, Any]) -> str:
    """Context shown beside the score but never scored: SEN, FSM, pupil premium, looked after, EAL, and mentoring
    that ended within the year (``mentoring_ended``: :func:`pipeline.caseload.review.read_mentoring_ended`).

    >>> context_text({"fsm_eligible": True, "mentoring_ended": pd.Timestamp("2025-10-01")})
    'FSM; had a learning mentor until 2025-10-01'
    """
    parts = [labels[pupil[column]] for column, labels in CONTEXT_FLAGS if _hashable(pupil.get(column)) in labels]
    ended = pupil.get("mentoring_ended")
    if ended is not None and not pd.isna(ended):
        parts.append(f"had a learning mentor until {pd.Timestamp(ended).date().isoformat()}")
    return "; ".join(parts)


def grade_gap_text(value: float, primary: bool) -> str:
    """A gap to target in words: steps on the primary scale (to a half step, as English and maths together can
    be), grades to one decimal at secondary.

    >>> scale = " (on the BLW, PKS, WTS, EXS, GDS scale)"
    >>> [grade_gap_text(v, True).removesuffix(scale) for v in (-2.0, -1.5, -0.5, 0.0, 1.0)]
    ['2 steps below target', '1.5 steps below target', '0.5 steps below target', 'on target', '1 step above target']
    >>> grade_gap_text(-1.33, False), grade_gap_text(1.0, False)
    ('1.3 grades below target', '1.0 grade above target')
    """
    scale = " (on the BLW, PKS, WTS, EXS, GDS scale)" if primary else ""
    if abs(value) < 0.05:
        return f"on target{scale}"
    return f"{gap_size_text(value, primary)} {'below' if value < 0 else 'above'} target{scale}"


def build_held_off(
    pupils: pd.DataFrame,
    decisions: pd.DataFrame,
    shortlist: pd.DataFrame,
    under_challenged: frozenset[str] = frozenset(),
    mentees: frozenset[str] = frozenset(),
    beside: frozenset[str] = frozenset(),
) -> pd.DataFrame:
    """One school's ``held_off.csv`` rows: every pupil a staff decision holds off the lists tonight (a current mentee
    aside: mentees are in caseload.csv), with their score, whether they would be listed without the decision, and
    the decision with its review date, highest score first. ``pupils`` are the school's feature rows (with
    ``score``), ``decisions`` its decision states (:func:`pipeline.caseload.decisions.decision_states`),
    ``under_challenged`` the pupils the under-challenged rule picks before decisions.

    Would be listed: on the shortlist, with a score at least the lowest of its new candidates (given a free place or
    listed next in line); beside its places (``beside``: :func:`beside_without_holds`); or on
    under_challenged.csv."""
    held = decisions.loc[decisions["decision_status"] == "held", ["upn", "last_decision"]]
    held = held[~held["upn"].isin(mentees)]
    rows = pupils[[*PUPIL_COLUMNS, "score"]].merge(held, on="upn", how="inner")
    candidates = shortlist.loc[new_candidates(shortlist), "score"]
    lowest = float(pd.to_numeric(candidates).min()) if len(candidates) else math.inf
    rows["score"] = rows["score"].astype(int)
    on_shortlist = rows["score"] >= lowest
    on_under = rows["upn"].isin(under_challenged)
    rows["would_be_listed"] = np.select(
        [on_shortlist, rows["upn"].isin(beside), on_under],
        ["yes: shortlist.csv", "yes: shortlist.csv, beside the places", "yes: under_challenged.csv"],
        default="no",
    )
    rows = rows.sort_values(["score", "upn"], ascending=[False, True], kind="mergesort")
    return rows[list(HELD_OFF_COLUMNS)].reset_index(drop=True)


def beside_without_holds(
    pupils: pd.DataFrame,
    model: PointsScorecard,
    places: int,
    settings: Settings,
    points: pd.DataFrame,
    decisions: pd.DataFrame,
    rule: str = "",
) -> frozenset[str]:
    """The pupils a decision holds off tonight whom the shortlist would list beside its places without the holds:
    who is listed there goes by barrier, not by score (the best-ranked pupil of a barrier no one listed has real
    need in), so the score alone cannot say. One school's list chosen again (:func:`choose`, as
    :func:`build_shortlist` chooses it) with every hold lifted."""
    held = decisions["decision_status"] == "held" if not decisions.empty else pd.Series(dtype=bool)
    if not held.any():
        return frozenset()
    pupils = pupils.reset_index(drop=True)
    status = pupils["upn"].map(decisions[~held].set_index("upn")["decision_status"]).fillna("")
    choice = choose(pupils, points.reset_index(drop=True), model.card_, places, settings, rule, status)
    return frozenset(choice.listed.loc[choice.beside, "upn"]) & frozenset(decisions.loc[held, "upn"])


def _place_for(shortlist: pd.DataFrame) -> pd.Series:
    """Each row's ``place_for`` text ("" in a list without the column)."""
    return shortlist.get("place_for", pd.Series("", index=shortlist.index)).fillna("").astype(str)


def new_candidates(shortlist: pd.DataFrame) -> pd.Series:
    """Which rows of a published shortlist are new candidates, by their ``place_for`` text: given a free place or
    next in line, not referrals pending nor pupils listed beside the places (every row, in a list without it)."""
    text = _place_for(shortlist)
    return (text != PENDING_TEXT) & ~text.str.startswith(BESIDE_TEXT)


def given_a_new_place(shortlist: pd.DataFrame) -> pd.Series:
    """Which rows of a published shortlist are new candidates given one of the free places: not those next in line
    beyond the free places either (every row, in a list without the column)."""
    return new_candidates(shortlist) & (_place_for(shortlist) != WAITING_TEXT)


def _place_text(barrier: str) -> str:
    if barrier == REFERRED:
        return PENDING_TEXT
    if barrier in BARRIER_NAMES:
        return f"place kept for {BARRIER_NAMES[barrier]}"
    if barrier.startswith(BESIDE_UNCOVERED):
        name = BARRIER_NAMES[barrier.removeprefix(BESIDE_UNCOVERED)]
        return f"{BESIDE_TEXT}: no pupil listed above has real need in {name}"
    if barrier.startswith(BESIDE):
        name = BARRIER_NAMES[barrier.removeprefix(BESIDE)]
        return (
            f"{BESIDE_TEXT}: the pupils listed above by score have {name} as main barrier less often than its "
            "share of need"
        )
    return "by rank"


def _hashable(value: object) -> object:
    if isinstance(value, np.bool_):
        return bool(value)
    return value if isinstance(value, str | bool) else None


def _intervention_text(pupil: Mapping[Any, Any]) -> str:
    current = pupil.get("current_interventions")
    return str(current) if isinstance(current, str) and current else ""


def _slipped_text(subjects: str) -> str:
    """A Year 6 pupil's fall from greater depth, naming the subjects and where they are now.

    >>> _slipped_text("writing (WTS)")
    'working below the expected standard in Year 6 in writing (WTS), after working at GDS in it earlier'
    """
    if not subjects:
        return "working below the expected standard in Year 6 after working at GDS earlier"
    them = "them" if "," in subjects else "it"
    return f"working below the expected standard in Year 6 in {subjects}, after working at GDS in {them} earlier"


def _prior_text(pupil: Mapping[Any, Any]) -> str:
    parts = []
    if number_or_none(pupil.get("ks2_mean_scaled_score")) is not None:
        parts.append(f"KS2 average {float(pupil['ks2_mean_scaled_score']):.0f}")
    if number_or_none(pupil.get("cat4_mean_sas")) is not None:
        parts.append(f"CAT4 mean {float(pupil['cat4_mean_sas']):.0f}")
    for sign, words in (("gds_target", "GDS target"), ("gds_earlier", "GDS earlier")):
        if bool(pupil.get(sign)):
            subjects = pupil.get(f"{sign}_in")
            parts.append(f"{words} in {subjects}" if isinstance(subjects, str) and subjects else words)
    reading = number_or_none(pupil.get("reading_age_gap_months"))
    if reading is not None and reading >= READING_AHEAD_MONTHS:
        parts.append(f"reading age {reading:.0f} months ahead")
    return ", ".join(parts) or "high prior attainment"
