"""What `mentor fit` could learn from tonight: the past nights with a known outcome, for the card in use, and the
sentence the run report and the console show when a fit is worth it."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import duckdb
import pandas as pd

from pipeline.config import Settings
from pipeline.evaluate.dataset import NIGHTS_FOR_A_FIRST_CARD, history_nights, learnable
from pipeline.model import Scorecard
from pipeline.report.html import learn_sentence

V4 = Scorecard.load(Path(__file__).resolve().parents[2] / "models" / "scorecard-v4.yaml")


def _school_days(first: dt.date, count: int) -> list[dt.date]:
    """``count`` weekdays from ``first`` (no holidays: enough for the rule's arithmetic)."""
    return [d.date() for d in pd.bdate_range(first, periods=count)]


def _warehouse(days: list[dt.date]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create table attendance (date date, category varchar)")
    con.executemany("insert into attendance values (?, ?)", [(day, "present") for day in days])
    con.execute("insert into attendance values (?, 'not_required')", [days[-1] + dt.timedelta(days=1)])  # not a day
    return con


def test_a_year_of_school_days_gives_an_expert_card_a_year_of_nights_worth_a_fit() -> None:
    # 195 school days from 2 September 2024, then 10 of the next year: nights are the 15th, 25th, ... school day
    # of each year whose 30-day horizon is in the warehouse: 15, 25, ..., 175 (17 of them) of the first year.
    days = _school_days(dt.date(2024, 9, 2), 195) + _school_days(dt.date(2025, 9, 1), 10)
    con = _warehouse(days)
    nights = history_nights(con, Settings())
    assert nights[0] == days[14]
    assert nights[-1] == days[174]
    assert len(nights) == 17
    found = learnable(con, Settings(), V4, days[-1])
    assert (found.nights, found.first_night, found.last_night, found.learned_until) == (17, days[14], days[174], None)
    assert not found.worth_fitting  # 17 < a year's 18
    longer = _warehouse(_school_days(dt.date(2024, 9, 2), 215))
    assert learnable(longer, Settings(), V4, days[-1]).nights == NIGHTS_FOR_A_FIRST_CARD  # 15, ..., 185
    assert learnable(longer, Settings(), V4, days[-1]).worth_fitting


def test_a_night_counts_only_when_its_horizon_had_passed_by_tonight() -> None:
    days = _school_days(dt.date(2024, 9, 2), 215)
    con = _warehouse(days)
    tonight = days[100]  # a night run again for an earlier date sees only what the warehouse held then
    nights = history_nights(con, Settings(), as_of=tonight)
    assert nights[-1] == days[64]  # the 65th school day: its 30 days (the 66th to the 95th) were over by the 101st
    assert all(days.index(n) + Settings().outcome_horizon_school_days <= 100 for n in nights)
    assert days[74] not in nights  # the 75th: its 30 days (the 76th to the 105th) were not


def test_a_learned_card_counts_only_the_nights_after_its_own() -> None:
    days = _school_days(dt.date(2024, 9, 2), 215)
    con = _warehouse(days)
    learned = replace(V4, kind="learned", extra={"trained_on": {"last_night": days[124].isoformat()}})
    found = learnable(con, Settings(), learned, days[-1])
    assert (found.nights, found.first_night, found.learned_until) == (6, days[134], days[124])  # 135, ..., 185
    assert found.worth_fitting  # a term of new nights
    assert "learned from nights up to" in learn_sentence({"history": found.to_json()})
    recent = replace(learned, extra={"trained_on": {"last_night": days[164].isoformat()}})
    assert not learnable(con, Settings(), recent, days[-1]).worth_fitting  # 2 new nights


def test_the_sentence_says_how_many_nights_and_from_when_or_nothing() -> None:
    history = {"nights": 18, "first_night": "2024-09-23", "last_night": "2025-07-09", "learned_until": None}
    sentence = learn_sentence({"history": {**history, "worth_fitting": True}})
    assert sentence.startswith("The warehouse holds 18 past nights whose outcome is known (23 September 2024 to 9 July")
    assert "mentor fit" in sentence
    assert learn_sentence({"history": {**history, "worth_fitting": False}}) == ""
    assert learn_sentence({}) == ""  # a run that stopped before the night's date was known
