"""The known-futures measure of the published list (the places by score and other barriers' pupils beside them, or
places shared between barriers by need), against the card's ranking."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from pipeline.caseload.policy import published_order, scored_with_need
from pipeline.config import Settings
from pipeline.evaluate.compare import PUBLISHED, published_at_capacity, top_at_capacity
from pipeline.evaluate.futures import NO_HISTORY, WorldData, score_world
from pipeline.model import PointsScorecard
from tests.unit.test_caseload_policy import ATTENDANCE, CARD, _pupils


def _school() -> pd.DataFrame:
    """30 attendance cases who went on to have the outcome and one pupil with weak reading (10 literacy points,
    real need) who did not: 31 pupils, 5 places."""
    literacy = {"reading_age_gap_months": -30}
    pupils = _pupils(*[ATTENDANCE for _ in range(30)], literacy)
    return pupils.assign(school_id="100001", negative_points_term=0, adverse_outcome=[True] * 30 + [False])


def test_the_published_list_keeps_a_place_for_literacy_and_lists_every_other_pupil_after_it() -> None:
    pupils = _school()
    points = PointsScorecard(card=CARD).fit(pupils).points(pupils)
    shared = Settings(barrier_places="uncovered")
    order, shown = published_order(scored_with_need(pupils, points, CARD, shared), shared, 5)
    assert sorted(order) == list(range(len(pupils)))  # every pupil once
    assert 30 in order[:5]  # the literacy pupil has one of the five places
    assert shown == 5
    rare = Settings(need_points=1000)
    assert 30 not in published_order(scored_with_need(pupils, points, CARD, rare), rare, 5)[0][:5]  # no real need
    alone = Settings(barrier_places="none")  # 1 of 31 pupils in need: no share of 5 places
    assert 30 not in published_order(scored_with_need(pupils, points, CARD, alone), alone, 5)[0][:5]
    beside = Settings()  # the default: the places by rank, the literacy pupil shown after them
    order, shown = published_order(scored_with_need(pupils, points, CARD, beside), beside, 5)
    assert sorted(order) == list(range(len(pupils)))
    assert (order[5], shown) == (30, 6)
    assert 30 not in order[:5]


def test_futures_measure_the_card_and_its_published_list_side_by_side() -> None:
    data = WorldData("world", 1, dt.date(2025, 11, 21), _school(), None, pd.DataFrame())
    table = score_world(data, [CARD], Settings(barrier_places="uncovered")).set_index("method")
    assert set(table["regime"]) == {NO_HISTORY}
    name = f"{CARD.name} (as released)"
    assert table.loc[name, "precision_at_capacity"] == 1.0  # five attendance cases
    assert table.loc[name + PUBLISHED, "precision_at_capacity"] == 0.8  # four, and the literacy place
    # ... and what the place buys: both barriers with real need in the school are on the list
    breadth = table.loc[name + PUBLISHED, ["main_barriers", "barriers_covered", "barriers_in_need"]]
    assert breadth.tolist() == [2, 2, 2]
    assert table.loc[name, ["main_barriers", "barriers_covered"]].isna().all()  # a ranking, not a list
    narrow = score_world(data, [CARD], Settings(barrier_places="none")).set_index("method")
    assert narrow.loc[name + PUBLISHED, ["main_barriers", "barriers_covered", "barriers_in_need"]].tolist() == [1, 1, 2]
    # Beside the places (the default), the list by rank finds what the ranking finds and still shows both barriers.
    beside = score_world(data, [CARD], Settings()).set_index("method")
    assert beside.loc[name + PUBLISHED, "precision_at_capacity"] == 1.0
    assert beside.loc[name + PUBLISHED, ["main_barriers", "barriers_covered", "barriers_in_need"]].tolist() == [2, 2, 2]


def test_the_rolling_comparison_measures_the_list_each_school_publishes_each_night() -> None:
    night = _school().assign(as_of=pd.Timestamp("2025-03-03"))
    two_nights = pd.concat([night, night.assign(as_of=pd.Timestamp("2025-03-10"))], ignore_index=True)
    points = PointsScorecard(card=CARD).fit(two_nights).score(two_nights)
    listed = published_at_capacity(two_nights, CARD, Settings(barrier_places="uncovered"))
    assert len(listed) == 10  # five places a night
    assert {30, 61} <= set(listed)  # the literacy pupil, both nights
    assert not {30, 61} & set(top_at_capacity(two_nights, points, Settings()))  # not on score alone
    # The default's places are the score's; the literacy pupil is beside them, on no place.
    assert set(published_at_capacity(two_nights, CARD, Settings())) == set(
        top_at_capacity(two_nights, points, Settings())
    )
