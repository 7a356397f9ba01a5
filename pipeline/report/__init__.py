"""The report stage: ranked, explained shortlists per school, from the warehouse's features and scores."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from pipeline import __version__
from pipeline.caseload.decisions import decision_states, decisions_until, read_last_decisions, record_night_scores, sql
from pipeline.caseload.policy import ORDER_COLUMNS, school_places
from pipeline.caseload.review import (
    build_caseload,
    mentor_like_interventions,
    named_otherwise,
    read_mentees,
    read_mentoring_ended,
)
from pipeline.config import ROOT, Settings
from pipeline.faults import checkpoint
from pipeline.model.card import Scorecard, points_fingerprints
from pipeline.model.scorecard import PointsScorecard
from pipeline.model.scoring import StageOrderError, points_of, read_features, read_scores
from pipeline.report.shortlist import (
    beside_without_holds,
    build_held_off,
    build_shortlist,
    build_under_challenged,
)
from pipeline.safe_csv import write_csv
from pipeline.warehouse import published_night

CSV_STAMPS = {
    "pipeline_version": "made_by_pipeline",
    "scorecard_version": "scorecard",
    "config_hash": "settings_fingerprint",
}
"""The last columns of every list: what made it, under names a spreadsheet user can read (run.json keeps the keys)."""

log = logging.getLogger(__name__)

Ranker = Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame]
"""Ranks every school's candidates at once (an engine's ``rank_shortlists``, bound to the card and settings):
given the decision states (school_id, upn, decision_status) and each school's cut (school_id, cut), the rows of
``caseload/sql/shortlist_order.sql``."""
PUBLISHED_COLUMNS = ["school_id", "listing", "upn", "rank", "place_for"]
EARLIER = published_night()
READ_PUBLISHED = f"""
select school_id, listing, upn, rank, place_for from published
where {EARLIER} < $night
qualify {EARLIER} = max({EARLIER}) over (partition by school_id)
"""
"""Each school's last publication of a night before ``$night``: a night made again compares with the night before
it, not with itself."""
FORGET_PUBLISHED = f"""
delete from published as p
where p.school_id in (select school_id from published_frame)
    and ({EARLIER} = $night or {EARLIER} < (
        select max({published_night("q")}) from published as q
        where q.school_id = p.school_id and {published_night("q")} < $night))
"""
"""For the schools published tonight: tonight's earlier publication (a night made again), and those before the last
night before tonight (which the next night made again still needs)."""


def write_reports(
    con: duckdb.DuckDBPyConnection,
    card: Scorecard,
    settings: Settings,
    out: Path,
    features: pd.DataFrame | None = None,
    ranker: Ranker | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Write every school's ``shortlist.csv``, ``under_challenged.csv`` and ``caseload.csv`` under ``out``; return
    what was written.

    Reads the ``features`` and ``scores`` tables, which must describe the same pupils on the same night (the
    ``features`` argument, if given, is the feature table as read already), the staff decisions and the current
    mentees. The return value has ``as_of``, ``versions``, ``paths`` (school -> shortlist path) and ``schools``
    (per school: roll, places and how they are filled, list sizes, the mix of main barriers on the shortlist, the
    caseload's statuses and the score distribution), which ``run.json`` and report.html record. ``ranker``, when
    given, ranks every school's candidates at once (Spark); by default each school's are ranked here, in DuckDB.
    Staff decisions count up to ``today`` (the clock's date by default) on the warehouse's latest night, and up to
    the night on an earlier one (:func:`pipeline.caseload.decisions.decisions_until`).
    """
    features = read_features(con) if features is None else features
    scores = read_scores(con, card)
    same_pupils = features[["school_id", "upn"]].reset_index(drop=True).equals(scores[["school_id", "upn"]])
    if not same_pupils or not features["as_of"].reset_index(drop=True).equals(scores["as_of"]):
        raise StageOrderError("the scores are not for the current feature table: run `mentor score` again")
    as_of = _single_as_of(features)
    model = PointsScorecard(card).fit(features)
    versions = {
        "pipeline_version": __version__,
        "scorecard_version": f"{card.name} {card.version} ({card.fingerprint()})",
        "config_hash": settings.fingerprint(),
    }
    schools: dict[str, Any] = {}
    paths: dict[str, Path] = {}
    points = points_of(scores, card)
    night = as_of or dt.date.today()
    before = con.execute(READ_PUBLISHED, {"night": night}).df()
    previous = {
        (str(school), str(listing)): ranks[["upn", "rank", "place_for"]]
        for (school, listing), ranks in before.groupby(["school_id", "listing"])
    }
    tonight = features[["school_id", "upn"]].assign(score=scores["score"].astype(int).to_numpy())
    decided_by = decisions_until(con, night, today or dt.date.today())
    record_night_scores(con, tonight, night, card.points_fingerprint(), lambda: _cards_known(card, settings))
    last = read_last_decisions(con, night, settings, card.points_fingerprint(), decided_by)
    states = decision_states(last, tonight, decided_by, settings, night)
    mentees = read_mentees(con, night, settings)
    mentor_like = mentor_like_interventions(con, night, settings)
    able = con.execute(sql("able_pupils"), {"as_of": night}).df()
    # The ranks of the last *completed* publication (not whatever files a killed run left half-written).
    published: list[pd.DataFrame] = []
    orders = _ranked_by_engine(ranker, features, states, settings)
    features = _with_mentoring_ended(features, read_mentoring_ended(con, night, settings))  # context, never scored
    for school_id, pupils in features.groupby("school_id", sort=True):
        school = str(school_id)
        places, rule = school_places(school, len(pupils), settings)
        school_states = states[states["school_id"] == school]
        folder = out / school
        listing = build_shortlist(
            pupils,
            model,
            places,
            settings,
            previous.get((school, "shortlist")),
            points=points.loc[pupils.index],
            decisions=school_states,
            rule=rule,
            order=None if orders is None else orders.get(school, pd.DataFrame(columns=ORDER_COLUMNS)),
        )
        shortlist = listing.table
        school_able = able[able["school_id"] == school]
        school_mentees = mentees[mentees["school_id"] == school]
        would_be, _ = build_under_challenged(pupils, school_able, frozenset(shortlist["upn"]))
        held = build_held_off(
            pupils.assign(score=tonight.loc[pupils.index, "score"]),
            school_states,
            shortlist,
            frozenset(would_be["upn"]),
            frozenset(school_mentees["upn"]),
            beside_without_holds(pupils, model, places, settings, points.loc[pupils.index], school_states, rule),
        )
        under, why_empty = build_under_challenged(
            pupils,
            school_able,
            frozenset(shortlist["upn"]) | frozenset(held["upn"]),  # a decision holds a pupil off both lists
            previous.get((school, "under_challenged")),
        )
        caseload = build_caseload(school_mentees, pupils, night, settings)
        # Who and when first (the school by URN and by name), what made the file last, under plain names.
        front = {"as_of": as_of.isoformat() if as_of else "", "school": school,
                 "school_name": settings.school_names.get(school, "")}  # fmt: skip
        made_by = {CSV_STAMPS[name]: value for name, value in versions.items()}
        for frame in (shortlist, under, caseload, held):
            for position, (column, value) in enumerate(front.items()):
                frame.insert(position, column, value)
            for column, value in made_by.items():
                frame[column] = value
        paths[school] = write_csv(shortlist, folder / "shortlist.csv")
        checkpoint(f"publish:{school}")
        stamps = {**front, **made_by}
        write_csv(_with_note(under, why_empty, stamps), folder / "under_challenged.csv")
        write_csv(caseload, folder / "caseload.csv")
        write_csv(held, folder / "held_off.csv")
        published.append(shortlist.assign(school_id=school, listing="shortlist")[PUBLISHED_COLUMNS])
        published.append(under.assign(school_id=school, listing="under_challenged", place_for=None)[PUBLISHED_COLUMNS])
        school_scores = scores.loc[pupils.index, "score"].to_numpy(dtype=float)
        other_names = mentor_like.get(school, {})
        if other_names and not listing.places.mentees:
            log.warning(named_otherwise(school, other_names))
        schools[school] = {
            "pupils_on_roll": len(pupils),
            "places": places,
            "places_rule": rule,
            "current_mentees": listing.places.mentees,
            "referrals_pending": listing.places.pending,
            "free_places": listing.places.free,
            "shortlist": len(shortlist),
            "shortlist_by_main_barrier": listing.mix,
            "new_candidates_by_main_barrier": listing.new_mix,
            "listed_beside_the_places": listing.beside,
            "beside_the_places_by_main_barrier": listing.beside_mix,
            "severe_absence_on_shortlist": int((shortlist["attendance_team"] != "").sum()),
            "held_by_decisions": int((held["would_be_listed"] != "no").sum()),
            "left_the_shortlist": _left(previous.get((school, "shortlist")), shortlist),
            "under_challenged": len(under),
            "under_challenged_empty_because": why_empty,
            "caseload": _caseload_summary(caseload),
            "open_interventions_named_like_mentoring": other_names,
            "score_distribution": _distribution(school_scores, card),
        }
        log.info(
            "school %s: %d pupils on roll, %d places (%d mentees), shortlist of %d",
            school, len(pupils), places, listing.places.mentees, len(shortlist),
        )  # fmt: skip
    _record_published(con, published, night)
    return {"as_of": as_of, "versions": versions, "paths": paths, "schools": schools}


def _ranked_by_engine(
    ranker: Ranker | None, features: pd.DataFrame, states: pd.DataFrame, settings: Settings
) -> dict[str, pd.DataFrame] | None:
    """Each school's ranked candidates from ``ranker`` (None without one), cut at the most places its shortlist
    can have: its places, or ``shortlist_minimum`` when that is more."""
    if ranker is None:
        return None
    rolls = features.groupby("school_id", sort=True).size()
    cuts = pd.DataFrame(
        [
            (str(s), max(school_places(str(s), int(n), settings)[0], settings.shortlist_minimum))
            for s, n in rolls.items()
        ],
        columns=["school_id", "cut"],
    )
    order = ranker(states[["school_id", "upn", "decision_status"]], cuts)
    return {str(school): rows for school, rows in order.groupby("school_id", sort=True)}


def _with_note(listing: pd.DataFrame, why_empty: str, stamps: dict[str, str]) -> pd.DataFrame:
    """An empty list says why in a row of its own (``reasons``), so the file is never silently empty."""
    if not why_empty:
        return listing
    note: dict[str, object] = dict.fromkeys(listing.columns, "")
    note.update(stamps)
    note["reasons"] = why_empty
    return pd.DataFrame([note], columns=listing.columns)


def _caseload_summary(caseload: pd.DataFrame) -> dict[str, Any]:
    return {
        "mentees": len(caseload),
        "by_status": {str(k): int(v) for k, v in caseload["status"].value_counts().items()},
        "review_due": int((caseload["review"] != "").sum()),
    }


def _distribution(scores: np.ndarray, card: Scorecard) -> dict[str, Any]:
    if len(scores) == 0:
        return {"mean": None, "quantiles": {}, "by_band": {}}
    band_of = {score: card.band_of_score(score) for score in np.unique(scores)}
    bands = pd.Series([band_of[s] for s in scores]).value_counts()
    return {
        "mean": round(float(np.mean(scores)), 2),
        "quantiles": {str(q): round(float(np.quantile(scores, q)), 2) for q in (0.5, 0.75, 0.9, 0.95, 0.99)},
        "by_band": {str(band): int(n) for band, n in bands.items()},
    }


def _single_as_of(features: pd.DataFrame) -> dt.date | None:
    days = features["as_of"].dropna().unique()
    if len(days) > 1:
        raise StageOrderError("the feature table mixes nights: run `mentor features` again")
    return pd.Timestamp(days[0]).date() if len(days) else None


def _record_published(con: duckdb.DuckDBPyConnection, published: list[pd.DataFrame], night: dt.date) -> None:
    """Record what the schools written tonight have published, for ``night``, in one transaction, once every file
    is in place (a school held back keeps its record: the next night it publishes, ranks compare with it)."""
    frame = pd.concat(published, ignore_index=True) if published else pd.DataFrame(columns=list(PUBLISHED_COLUMNS))
    con.register("published_frame", frame)
    try:
        con.execute("begin transaction")
        con.execute(FORGET_PUBLISHED, {"night": night})
        con.execute(
            "insert into published (school_id, listing, upn, rank, place_for, as_of) "
            "select school_id, listing, upn, rank, place_for, $night from published_frame",
            {"night": night},
        )
        con.execute("commit")
    finally:
        con.unregister("published_frame")


def _left(before: pd.DataFrame | None, shortlist: pd.DataFrame) -> int | None:
    """How many pupils of the last night's shortlist tonight's does not list (None with no last night)."""
    if before is None:
        return None
    return len(set(before["upn"]) - set(shortlist["upn"]))


def _with_mentoring_ended(features: pd.DataFrame, ended: pd.DataFrame) -> pd.DataFrame:
    """``features`` with each pupil's ``mentoring_ended`` (the date, or missing), on the same index."""
    key = features["school_id"].astype(str) + "/" + features["upn"].astype(str)
    dates = dict(
        zip(ended["school_id"].astype(str) + "/" + ended["upn"].astype(str), ended["mentoring_ended"], strict=True)
    )
    return features.assign(mentoring_ended=key.map(dates))


def _cards_known(card: Scorecard, settings: Settings) -> dict[str, str]:
    """The cards whose kept scores compare with tonight's card (:func:`record_night_scores`): the released cards,
    those beside the configured one, and the card itself, each whole fingerprint -> points fingerprint."""
    known = points_fingerprints({ROOT / "models", Path(settings.scorecard).parent})
    return known | {card.fingerprint(): card.points_fingerprint()}
