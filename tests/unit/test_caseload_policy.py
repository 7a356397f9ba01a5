"""The mentoring policy from literal pupils: places, current mentees, the need profile, shares of places per
barrier, severe absence, staff decisions and the caseload review's status rule."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.caseload.decisions import Decision, decision_state
from pipeline.caseload.policy import BARRIERS, BESIDE, choose, need_profile, school_places, select, share_places
from pipeline.caseload.review import build_caseload, status_of
from pipeline.config import BARRIER_PLACES, Settings, SettingsError
from pipeline.model import PointsScorecard, Scorecard
from pipeline.model.card import Band
from pipeline.report.shortlist import beside_without_holds, build_held_off, build_shortlist

CARD = Scorecard.load(Path(__file__).resolve().parents[2] / "models" / "scorecard-v1.yaml")
MODEL = PointsScorecard(CARD).fit(pd.DataFrame({name: [0.0] for name in CARD.feature_names}))
CALM = {
    "attendance_rate_term": 0.98, "attendance_change_4wk": 0.0, "unauthorised_rate_term": 0.0,
    "longest_absence_spell": 2, "negative_points_4wk": 0, "suspensions_year": 0, "english_grade_gap": 0.0,
    "maths_grade_gap": 0.0, "reading_age_gap_months": 0, "sen_provision": "N", "fsm_eligible": False,
    "pupil_premium": False, "looked_after": False, "eal": False, "current_interventions": "",
    "forename": "Ann", "surname": "Example", "year_group": "9", "reg_group": "9A",
}  # fmt: skip
ATTENDANCE = {"attendance_rate_term": 0.55, "unauthorised_rate_term": 0.08}  # 20 + 6 = 26 points, all attendance
BEHAVIOUR = {"negative_points_4wk": 9, "suspensions_year": 1}  # 8 + 10 = 18 points, all behaviour


def _pupils(*rows: dict[str, object]) -> pd.DataFrame:
    return pd.DataFrame([{**CALM, "upn": f"P{i:03d}", **row} for i, row in enumerate(rows)])


def test_places_come_from_settings_then_mentors_then_five_percent_of_roll() -> None:
    assert school_places("1", 716, Settings()) == (36, "5% of the roll of 716, rounded up (at least 5)")
    assert school_places("1", 60, Settings())[0] == 5
    assert school_places("1", 716, Settings(mentors={"1": 1}, caseload_per_mentor=12))[0] == 12
    assert school_places("1", 716, Settings(places={"1": 8}, mentors={"2": 3}))[0] == 8
    assert school_places("2", 716, Settings(places={"1": 8}, mentors={"2": 3}))[0] == 45
    with pytest.raises(SettingsError, match="not both"):
        Settings.parse({"places": {"1": 8}, "mentors": {"1": 2}})


def test_settings_read_places_mentors_and_intervention_names_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(
        'mentor_interventions = ["Learning mentor", "Mentoring"]\nreview_weeks = 8\n'
        '[places]\n"127510" = 30\n[mentors]\n"105854" = 2\n',
        encoding="utf-8",
    )
    loaded = Settings.load(path)
    assert loaded.places == {"127510": 30}
    assert loaded.mentors == {"105854": 2}
    assert loaded.mentor_interventions == ("Learning mentor", "Mentoring")
    assert loaded.review_weeks == 8
    path.write_text('[places]\n"127510" = "thirty"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="whole number"):
        Settings.load(path)


def test_current_mentees_fill_places_first_and_the_list_holds_the_free_places_or_the_minimum() -> None:
    pupils = _pupils(
        *[{**ATTENDANCE, "current_interventions": "Learning mentor"} for _ in range(3)],
        *[ATTENDANCE for _ in range(10)],
    )
    result = build_shortlist(pupils, MODEL, 8, Settings(shortlist_minimum=2))
    assert (result.places.places, result.places.mentees, result.places.free) == (8, 3, 5)
    assert len(result.table) == 5
    assert not result.table["upn"].isin(["P000", "P001", "P002"]).any()
    full = build_shortlist(pupils, MODEL, 3, Settings(shortlist_minimum=2))
    assert full.places.free == 0
    assert len(full.table) == 2
    # with no free place, the minimum's pupils are next in line, not given a place
    assert full.table["place_for"].tolist() == ["next in line: no free place now"] * 2
    assert full.new_mix == {}
    one_free = build_shortlist(pupils, MODEL, 4, Settings(shortlist_minimum=3))
    assert one_free.table["place_for"].tolist() == ["by rank"] + ["next in line: no free place now"] * 2
    assert one_free.new_mix == {"attendance": 1}


def test_a_school_whose_needs_are_mostly_behaviour_gets_a_mostly_behaviour_list() -> None:
    # Attendance cases score higher (26 against 18), but 12 of the 16 pupils in need have behaviour as theirs.
    pupils = _pupils(*[ATTENDANCE for _ in range(4)], *[BEHAVIOUR for _ in range(12)], *[{} for _ in range(20)])
    # By score alone (no one counts as real need): every attendance case first.
    by_score = build_shortlist(pupils, MODEL, 8, Settings(shortlist_minimum=0, need_points=1000)).table
    assert by_score["main_barrier"].value_counts().to_dict() == {"attendance": 4, "behaviour and exclusion": 4}
    # The default: the places by score, then the two behaviour cases sharing by need would add, taking no place.
    table = build_shortlist(pupils, MODEL, 8, Settings(shortlist_minimum=0)).table
    assert table["upn"].tolist()[:8] == by_score["upn"].tolist()
    assert table["main_barrier"].value_counts().to_dict() == {"behaviour and exclusion": 6, "attendance": 4}
    assert table["place_for"].str.startswith("beside the places").tolist() == [False] * 8 + [True] * 2
    # Sharing the places by need: 6 of the 8 places for behaviour, shown in rank order.
    shared = build_shortlist(pupils, MODEL, 8, Settings(shortlist_minimum=0, barrier_places="uncovered")).table
    assert shared["main_barrier"].value_counts().to_dict() == {"behaviour and exclusion": 6, "attendance": 2}
    assert shared["score"].is_monotonic_decreasing


def test_a_small_list_keeps_most_of_its_places_in_proportion_to_need() -> None:
    literacy, attainment = {"reading_age_gap_months": -30}, {"english_grade_gap": -2.5, "maths_grade_gap": -2.5}
    pupils = _pupils(*[ATTENDANCE for _ in range(40)], *[literacy for _ in range(3)], attainment, BEHAVIOUR)
    table = build_shortlist(pupils, MODEL, 5, Settings(shortlist_minimum=0, barrier_places="uncovered")).table
    # 40 of 45 pupils in need are attendance cases: 4 of 5 places; 1 place (no more than a quarter) for the barrier
    # with most pupils in need after them
    assert table["main_barrier"].value_counts().to_dict() == {"attendance": 4, "literacy and numeracy": 1}
    longer = build_shortlist(pupils, MODEL, 12, Settings(shortlist_minimum=0, barrier_places="uncovered")).table
    assert longer["main_barrier"].value_counts().to_dict() == {
        "attendance": 9, "literacy and numeracy": 1, "behaviour and exclusion": 1, "attainment against potential": 1,
    }  # fmt: skip


def test_a_barrier_with_real_need_is_not_crowded_out() -> None:
    literacy = {"reading_age_gap_months": -30}  # 10 points, literacy
    pupils = _pupils(*[ATTENDANCE for _ in range(30)], literacy)
    table = build_shortlist(pupils, MODEL, 5, Settings(shortlist_minimum=0, barrier_places="uncovered")).table
    assert "literacy and numeracy" in table["main_barrier"].tolist()
    assert table.loc[table["main_barrier"] == "literacy and numeracy", "place_for"].item() == (
        "place kept for literacy and numeracy"
    )
    # Switched off, the shares in proportion to need alone: 1 of 31 pupils in need gets none of 5 places.
    alone = build_shortlist(pupils, MODEL, 5, Settings(shortlist_minimum=0, barrier_places="none")).table
    assert alone["main_barrier"].tolist() == ["attendance"] * 5
    # ... and a school whose needs are mostly behaviour still gets a mostly-behaviour list.
    mostly = _pupils(*[ATTENDANCE for _ in range(4)], *[BEHAVIOUR for _ in range(12)], *[{} for _ in range(20)])
    table = build_shortlist(mostly, MODEL, 8, Settings(shortlist_minimum=0, barrier_places="none")).table
    assert table["main_barrier"].value_counts().to_dict() == {"behaviour and exclusion": 6, "attendance": 2}


def test_a_barrier_a_listed_pupil_has_real_need_in_is_covered_and_gets_no_place_kept() -> None:
    # The top pupil's main barrier is attendance (26 points), and 18 behaviour points are real need too: behaviour
    # is on the list through them, so the default keeps no place for the pupil whose only barrier is behaviour.
    mixed = {**ATTENDANCE, **BEHAVIOUR}
    pupils = _pupils(mixed, *[ATTENDANCE for _ in range(29)], BEHAVIOUR)
    table = build_shortlist(
        pupils, MODEL, 5, Settings(shortlist_minimum=0, barrier_places="uncovered")
    ).table.set_index("upn")
    assert table["main_barrier"].tolist() == ["attendance"] * 5
    assert "P030" not in table.index
    assert "behaviour in lessons" in table.loc["P000", "suggested_focus"]  # the focus names it
    every = build_shortlist(pupils, MODEL, 5, Settings(shortlist_minimum=0, barrier_places="every")).table
    assert every.set_index("upn").loc["P030", "place_for"] == "place kept for behaviour and exclusion"
    # Without the mixed pupil, behaviour has no one on the list, and the default keeps it a place.
    alone = build_shortlist(
        _pupils(*[ATTENDANCE for _ in range(30)], BEHAVIOUR), MODEL, 5, Settings(barrier_places="uncovered")
    ).table
    assert "P030" in alone["upn"].tolist()


def test_a_held_pupil_who_would_be_listed_beside_the_places_says_so_in_held_off() -> None:
    """A declined behaviour pupil (18 points) among 30 attendance pupils (26): by score they would not be listed,
    but without the decision they would be beside the places, the only pupil of behaviour. held_off.csv said "no"
    and staff read it as "the decision changes nothing"."""
    pupils = _pupils(*[ATTENDANCE for _ in range(30)], BEHAVIOUR)
    decisions = pd.DataFrame(
        {"upn": ["P030"], "decision_status": ["held"], "last_decision": ["declined on 2025-10-01: off the list"]}
    )
    settings = Settings(shortlist_minimum=0)
    shortlist = build_shortlist(pupils, MODEL, 5, settings, decisions=decisions).table
    assert "P030" not in shortlist["upn"].tolist()
    beside = beside_without_holds(pupils, MODEL, 5, settings, MODEL.points(pupils), decisions)
    assert beside == {"P030"}
    held = build_held_off(pupils.assign(score=MODEL.points(pupils).sum(axis=1)), decisions, shortlist, beside=beside)
    assert held[["upn", "would_be_listed"]].values.tolist() == [["P030", "yes: shortlist.csv, beside the places"]]
    assert beside_without_holds(pupils, MODEL, 5, settings, MODEL.points(pupils), decisions.iloc[0:0]) == set()


def test_a_place_kept_that_uncovers_another_barrier_keeps_one_for_that_barrier_too() -> None:
    heavy = {"attendance_rate_term": 0.40, "unauthorised_rate_term": 0.08, "attendance_change_4wk": -0.12}  # 44
    reader = {**ATTENDANCE, "reading_age_gap_months": -30}  # 26 attendance and 10 literacy: real need in both
    literacy = {"reading_age_gap_months": -30}  # 10 points, literacy only
    pupils = _pupils(*[heavy for _ in range(7)], reader, *[ATTENDANCE for _ in range(22)], BEHAVIOUR, literacy)
    # The shares alone give attendance all 8 places: 7 heavy cases and the reader, who covers literacy.
    alone = build_shortlist(pupils, MODEL, 8, Settings(shortlist_minimum=0, barrier_places="none")).table
    assert "P007" in alone["upn"].tolist()
    # Behaviour is kept a place, which attendance gives up: its lowest-ranked pupil, the reader. Literacy is then
    # left without anyone in need on the list, so it is kept a place too (2 places: a quarter of 8).
    table = build_shortlist(
        pupils, MODEL, 8, Settings(shortlist_minimum=0, barrier_places="uncovered")
    ).table.set_index("upn")
    assert "P007" not in table.index
    assert table.loc["P030", "place_for"] == "place kept for behaviour and exclusion"
    assert table.loc["P031", "place_for"] == "place kept for literacy and numeracy"
    assert table["main_barrier"].value_counts().to_dict() == {
        "attendance": 6, "behaviour and exclusion": 1, "literacy and numeracy": 1,
    }  # fmt: skip


def test_beside_gives_the_places_by_rank_and_lists_an_uncovered_barriers_best_pupil_after_them() -> None:
    literacy = {"reading_age_gap_months": -30}  # 10 points, literacy: real need, and the lowest score
    pupils = _pupils(*[ATTENDANCE for _ in range(30)], literacy, {**BEHAVIOUR, "negative_points_4wk": 5})
    table = build_shortlist(pupils, MODEL, 5, Settings(shortlist_minimum=0, barrier_places="beside")).table
    by_rank = build_shortlist(pupils, MODEL, 5, Settings(shortlist_minimum=0, need_points=1000)).table
    assert table["upn"].tolist()[:5] == by_rank["upn"].tolist()  # the places: the score's order
    # Then behaviour (14 points) and literacy (10), by rank: sharing the 5 places by need keeps one for behaviour
    # (a quarter of the list at most), and literacy, left with no one, is listed too (beside, it takes no place).
    assert table["upn"].tolist()[5:] == ["P031", "P030"]
    assert table["place_for"].tolist()[5:] == [
        "beside the places, not taking one: no pupil listed above has real need in behaviour and exclusion",
        "beside the places, not taking one: no pupil listed above has real need in literacy and numeracy",
    ]
    # Pupils in the places with real need in behaviour, as a second barrier: behaviour's pupils beside them are
    # there for its share of the places, which no place gives a pupil whose main barrier it is.
    both = {**ATTENDANCE, "negative_points_4wk": 20, "suspensions_year": 1}  # 26 attendance, 22 behaviour
    shared = _pupils(*[both for _ in range(3)], *[ATTENDANCE for _ in range(5)], *[BEHAVIOUR for _ in range(4)])
    beside = build_shortlist(shared, MODEL, 5, Settings(shortlist_minimum=0, barrier_places="beside")).table
    assert beside["upn"].tolist()[5:] == ["P008", "P009"]
    assert set(beside["place_for"].tolist()[5:]) == {
        "beside the places, not taking one: the pupils listed above by score have behaviour and exclusion as main "
        "barrier less often than its share of need"
    }
    # A barrier a pupil in the places has real need in is covered: no one is listed beside for it.
    mixed = _pupils({**ATTENDANCE, **BEHAVIOUR}, *[ATTENDANCE for _ in range(29)], BEHAVIOUR)
    covered = build_shortlist(mixed, MODEL, 5, Settings(shortlist_minimum=0, barrier_places="beside")).table
    assert len(covered) == 5
    # The run report counts the pupils beside the places apart from the new candidates given them.
    listing = build_shortlist(pupils, MODEL, 5, Settings(shortlist_minimum=0, barrier_places="beside"))
    assert (listing.beside, listing.new_mix) == (2, {"attendance": 5})
    assert listing.beside_mix == {"behaviour and exclusion": 1, "literacy and numeracy": 1}
    choice = choose(pupils, MODEL.points(pupils), MODEL.card_, 5, Settings(shortlist_minimum=0))
    assert choice.listed.loc[choice.given_places, "upn"].tolist() == by_rank["upn"].tolist()


def test_a_renamed_or_unknown_barrier_places_setting_is_refused_with_what_to_write() -> None:
    with pytest.raises(SettingsError, match='barrier_places = "every" for true'):
        Settings.parse({"place_for_every_barrier": True})
    with pytest.raises(SettingsError, match="uncovered, every, none"):
        Settings.parse({"barrier_places": "all"})


def test_severe_absence_is_flagged_for_the_attendance_team() -> None:
    pupils = _pupils({"attendance_rate_term": 0.40}, {"attendance_rate_term": 0.55})
    table = build_shortlist(pupils, MODEL, 5, Settings()).table.set_index("upn")
    assert table.loc["P000", "attendance_team"] == (
        "severe absence: attendance 40.0% this term, holiday counted (50% or less): for the attendance team too"
    )
    assert table.loc["P001", "attendance_team"] == ""


def test_looked_after_and_counselling_make_a_circumstances_need_that_is_not_scored() -> None:
    pupils = _pupils({"looked_after": True, "current_interventions": "Counselling", "attendance_rate_term": 0.93})
    row = build_shortlist(pupils, MODEL, 5, Settings()).table.iloc[0]
    assert row["score"] == 6
    assert row["main_barrier"] == "circumstances and wellbeing"
    assert row["need"] == "circumstances and wellbeing 16, attendance 6"
    assert row["suggested_focus"] == "wellbeing and a trusted adult to talk to"


def test_decisions_hold_pupils_off_mark_them_back_and_keep_referrals_pending() -> None:
    pupils = _pupils(ATTENDANCE, ATTENDANCE, BEHAVIOUR, BEHAVIOUR)
    decisions = pd.DataFrame(
        {
            "upn": ["P000", "P001", "P002"],
            "decision_status": ["held", "back", "pending"],
            "last_decision": ["declined on 2025-10-01: off the list until ...", "not now on 2025-09-01: back ...",
                              "referred on 2025-10-10: pending until mentoring starts in the MIS"],
        }
    )  # fmt: skip
    result = build_shortlist(pupils, MODEL, 3, Settings(shortlist_minimum=0), decisions=decisions)
    table = result.table
    assert table["upn"].tolist() == ["P001", "P003", "P002"]  # new candidates, then the referral; P000 held off
    assert table.loc[2, "place_for"] == "referred, pending"
    assert table.loc[0, "last_decision"].startswith("not now on 2025-09-01: back")
    assert (result.places.pending, result.places.free) == (1, 2)
    # The mix of the new candidates leaves the referral out; the whole list's counts it.
    assert result.new_mix == {"attendance": 1, "behaviour and exclusion": 1}
    assert result.mix == {"attendance": 1, "behaviour and exclusion": 2}
    # The next night one more candidate is listed before the referral: its rank moves, its status does not.
    previous = pd.DataFrame({"upn": ["P001", "P002"], "rank": [1, 2], "place_for": ["by rank", "referred, pending"]})
    again = build_shortlist(pupils, MODEL, 3, Settings(shortlist_minimum=0), previous, decisions=decisions).table
    assert dict(zip(again["upn"], again["change_since_last_run"], strict=True)) == {
        "P001": "same", "P003": "new", "P002": "still pending"
    }  # fmt: skip
    # Referred from the last list, where it was a candidate: pending since, not "still" pending
    previous = previous.assign(place_for=["by rank", "by rank"])
    first = build_shortlist(pupils, MODEL, 3, Settings(shortlist_minimum=0), previous, decisions=decisions).table
    assert first.set_index("upn").loc["P002", "change_since_last_run"] == "referred since the last list"


def test_the_decision_rule() -> None:
    rules = Settings(decision_review_weeks=6, decision_score_margin=10)
    night = dt.date(2025, 10, 20)
    with_review = Decision("not now", dt.date(2025, 10, 1), dt.date(2025, 10, 15), False, 30)
    assert decision_state(with_review, 30, night, rules)[0] == "back"
    referred = Decision("referred", dt.date(2025, 10, 1), None, False, None)
    assert decision_state(referred, 30, night, rules)[0] == "pending"
    started = Decision("referred", dt.date(2025, 10, 1), None, True, None)
    assert decision_state(started, 30, night, rules)[0] == ""
    elsewhere = Decision("supported elsewhere", dt.date(2025, 10, 1), None, False, None)
    assert decision_state(elsewhere, 90, night, rules)[0] == "held"  # no score recorded: only the date counts


@pytest.mark.parametrize(
    ("row", "status"),
    [
        ({"possible_since": 30, "attendance_before": 0.80, "attendance_since": 0.85}, "improving"),
        ({"possible_since": 30, "attendance_before": 0.80, "attendance_since": 0.81}, "no change"),
        ({"possible_since": 30, "behaviour_before": 1.0, "behaviour_since": 3.0}, "worsening"),
        ({"possible_since": 30, "attendance_before": 0.8, "attendance_since": 0.9, "behaviour_before": 1.0,
          "behaviour_since": 3.0}, "mixed"),
        ({"possible_since": 30, "gap_before": -1.0, "gap_since": -0.5, "behaviour_before": np.nan}, "improving"),
        ({"possible_since": 6, "attendance_before": 0.5, "attendance_since": 0.9}, "too early to tell"),
        # started on a Monday, read on the Friday: the whole first school week is too early
        ({"possible_since": 10, "attendance_before": 0.5, "attendance_since": 0.9}, "too early to tell"),
        ({"possible_since": 12, "attendance_before": 0.5, "attendance_since": 0.9}, "improving"),
    ],
)  # fmt: skip
def test_the_caseload_status_rule(row: dict[str, object], status: str) -> None:
    assert status_of(row)[0] == status


def test_a_mentee_is_flagged_for_review_after_the_set_school_weeks() -> None:
    # P000 started on 2 June: 19 calendar weeks by 17 October, of which 6 of the summer holiday and a half-term's
    # closures: 118 possible sessions, 11 school weeks, not yet a review. P002: 12 school weeks.
    mentees = pd.DataFrame(
        {
            "school_id": ["1", "1", "1"],
            "upn": ["P000", "P001", "P002"],
            "start_date": pd.to_datetime(["2025-06-02", "2025-10-06", "2025-05-01"]),
            "possible_since": [118, 20, 120],
            "attendance_before": [0.8, 0.9, 0.8],
            "attendance_since": [0.9, 0.9, 0.9],
        }
    )
    caseload = build_caseload(mentees, _pupils({}, {}, {}), dt.date(2025, 10, 17), Settings(review_weeks=12))
    assert caseload["weeks_in_mentoring"].tolist() == [12, 11, 2]
    assert caseload["review"].tolist() == ["review due (12 school weeks)", "", ""]
    assert caseload.loc[0, "attendance_since"] == "90.0%"
    assert caseload.loc[0, "status"] == "improving"


@given(st.dictionaries(st.sampled_from(BARRIERS), st.integers(0, 40)), st.integers(0, 40))
def test_places_are_shared_in_proportion_and_never_more_than_asked(counts: dict[str, int], places: int) -> None:
    shares = share_places(counts, places)
    assert sum(shares.values()) == min(places, sum(counts.values()))
    assert all(0 <= shares[b] <= counts[b] for b in shares)
    wanted = [b for b, c in counts.items() if c > 0]
    if min(places, sum(counts.values())) // 4 >= len(wanted):
        assert all(shares[b] >= 1 for b in wanted)  # every barrier with need has a place when the list allows
    alone = share_places(counts, places, kept_for=())  # largest remainders, nothing moved after them
    assert sum(alone.values()) == sum(shares.values())
    total = sum(counts.values())
    assert all(abs(alone[b] - min(places, total) * counts[b] / total) < 1 for b in wanted)


candidate = st.fixed_dictionaries(
    {
        "score": st.integers(1, 60),
        "attendance_rate_term": st.sampled_from([0.3, 0.6, 0.85, 0.95, np.nan]),
        "negative_points_4wk": st.sampled_from([0.0, 4.0, 9.0]),
        "main_barrier": st.sampled_from(BARRIERS),
        "points": st.integers(0, 30),
    }
)


@settings(deadline=None)
@given(st.lists(candidate, min_size=0, max_size=30), st.integers(0, 12), st.randoms(use_true_random=False))
def test_selection_is_as_long_as_asked_ranked_unique_and_independent_of_row_order(
    rows: list[dict[str, object]], length: int, shuffle: object
) -> None:
    frame = pd.DataFrame(
        rows, columns=["score", "attendance_rate_term", "negative_points_4wk", "main_barrier", "points"]
    )
    frame["upn"] = [f"P{i:03d}" for i in range(len(frame))]
    for barrier in BARRIERS:
        frame[f"need_{barrier}"] = np.where(frame["main_barrier"] == barrier, frame["points"], 0)
    order = list(frame.index)
    shuffle.shuffle(order)  # type: ignore[attr-defined]
    for barrier_places in BARRIER_PLACES:
        chosen = select(frame, length, need_points=10, barrier_places=barrier_places)
        beside = chosen["place_for"].str.startswith(BESIDE)
        assert beside.is_monotonic_increasing  # any pupils beside the places come after them
        assert (~beside).sum() == min(length, len(frame))
        assert chosen["upn"].is_unique
        assert chosen.loc[~beside, "score"].is_monotonic_decreasing
        assert chosen.loc[beside, "score"].is_monotonic_decreasing
        again = select(frame.loc[order], length, need_points=10, barrier_places=barrier_places)
        assert again["upn"].tolist() == chosen["upn"].tolist()
    # Beside the places, the list holds everyone sharing by need gives a place to, and a pupil of every barrier
    # with real need.
    listed = set(select(frame, length, need_points=10, barrier_places="beside")["upn"])
    assert set(select(frame, length, need_points=10, barrier_places="uncovered")["upn"]) <= listed
    if length:
        in_need = frame["points"] >= 10
        on_list = in_need & frame["upn"].isin(listed)
        assert set(frame.loc[in_need, "main_barrier"]) <= set(frame.loc[on_list, "main_barrier"])


@settings(deadline=None)
@given(
    st.lists(st.tuples(candidate, st.lists(st.integers(0, 30), min_size=5, max_size=5)), max_size=30),
    st.integers(0, 12),
)
def test_a_place_is_kept_only_for_a_barrier_no_listed_pupil_has_real_need_in(
    rows: list[tuple[dict[str, object], list[int]]], length: int
) -> None:
    frame = pd.DataFrame([row for row, _ in rows], columns=["score", "attendance_rate_term", "negative_points_4wk",
                                                            "main_barrier", "points"])  # fmt: skip
    frame["upn"] = [f"P{i:03d}" for i in range(len(frame))]
    for k, barrier in enumerate(BARRIERS):  # need in other barriers too, never above the main barrier's
        other = [min(extra[k], row["points"]) for row, extra in rows]  # type: ignore[type-var]
        frame[f"need_{barrier}"] = np.where(frame["main_barrier"] == barrier, frame["points"], other).astype(int)
    frame["main_need"] = frame["points"]
    alone = select(frame, length, need_points=10, barrier_places="none")
    chosen = select(frame, length, need_points=10, barrier_places="uncovered")
    covered = {b for b in BARRIERS if (alone[f"need_{b}"] >= 10).any()}
    main_need = frame[frame["points"] >= 10]["main_barrier"].value_counts()
    uncovered = sorted(
        (b for b in main_need.index if b not in covered), key=lambda b: (-main_need[b], BARRIERS.index(b))
    )
    if not uncovered:
        assert chosen["upn"].tolist() == alone["upn"].tolist()  # nothing to keep a place for: the shares alone
    quarter = min(length, int(main_need.sum())) // 4
    shares = share_places(main_need.to_dict(), length, kept_for=())
    kept = {b for b in chosen["place_for"] if b and shares[b] == 0}  # places the shares alone would not give
    assert len(kept) <= quarter
    assert (chosen["place_for"].isin(kept) | chosen["upn"].isin(alone["upn"])).all()  # the rest as the shares list
    left_out = [b for b in main_need.index if not (chosen[f"need_{b}"] >= 10).any()]
    if left_out:  # a barrier with real need and no one on the list in need there: only when the quarter is used
        assert len(kept) == quarter, (left_out, kept, quarter)


MODELS = Path(__file__).resolve().parents[2] / "models"


SEVERE_V3 = {"attendance_rate_term_ex_holiday": 0.55, "attendance_rate_4wk": 0.6, "attendance_rate_year": 0.6}
DISRUPTIVE_V3 = {"negative_points_4wk": 20, "suspensions_year": 3}


@pytest.mark.parametrize("release", ["scorecard-v3.yaml", "scorecard-v4.yaml"])
@pytest.mark.parametrize(
    ("row", "crowd", "barrier"),
    [
        ({"attendance_rate_term_ex_holiday": 0.83, "attendance_rate_year": 0.88}, DISRUPTIVE_V3, "attendance"),
        ({"negative_points_4wk": 9, "suspensions_year": 1}, SEVERE_V3, "behaviour and exclusion"),
        ({"english_grade_gap": -1.5, "maths_grade_gap": -1.0, "core_grade_change": -0.67}, SEVERE_V3,
         "attainment against potential"),
        ({"reading_age_gap_months": -30}, SEVERE_V3, "literacy and numeracy"),
    ],
)  # fmt: skip
def test_scorecards_v3_and_v4_give_each_barrier_real_need_and_keep_its_place(
    release: str, row: dict[str, object], crowd: dict[str, object], barrier: str
) -> None:
    card = Scorecard.load(MODELS / release)
    calm = {**CALM, "attendance_rate_term_ex_holiday": 0.98, "attendance_rate_4wk": 0.98, "attendance_rate_year": 0.98,
            "unexplained_n_marks": 0, "late_marks_4wk": 0, "core_grade_change": 0.0,
            "other_absence_rate_year": 0.02}  # fmt: skip
    model = PointsScorecard(card).fit(pd.DataFrame({name: [0.0] for name in card.feature_names}))
    pupils = pd.DataFrame([{**calm, "upn": f"P{i:03d}", **r} for i, r in enumerate([*[crowd] * 30, row])])
    shared = Settings(shortlist_minimum=0, barrier_places="uncovered")
    table = build_shortlist(pupils, model, 5, shared).table.set_index("upn")
    assert table.loc["P030", "main_barrier"] == barrier
    assert table.loc["P030", "place_for"] == f"place kept for {barrier}"
    beside = build_shortlist(pupils, model, 5, Settings(shortlist_minimum=0)).table.set_index("upn")  # the default
    assert beside.loc["P030", "place_for"] == (
        f"beside the places, not taking one: no pupil listed above has real need in {barrier}"
    )


def _with_learned_reading_age(usual: int) -> PointsScorecard:
    """v1 with reading age scored as a learned card scores it: its 0-point band is the best tail (28 months or more
    ahead), and a pupil reading at their age has 11 points, ``usual`` of them a usual pupil's."""
    reading = replace(
        CARD.feature("reading_age_gap_months"),
        bands=(
            Band(None, -27, 15, "below -27 months"),
            Band(-27, 11, 11, "-27 months to under 11 months"),
            Band(11, 28, 9, "11 months to under 28 months"),
            Band(28, None, 0, "28 months or more"),
        ),
        usual_points=usual,
    )
    card = replace(CARD, features=tuple(reading if f.name == reading.name else f for f in CARD.features))
    return PointsScorecard(card).fit(pd.DataFrame({name: [0.0] for name in card.feature_names}))


def test_points_a_usual_pupil_has_are_not_need_and_not_a_reason() -> None:
    # 30 pupils reading at their age (11 points of reading age each) and 10 attendance cases (26 more points).
    pupils = _pupils(*[ATTENDANCE for _ in range(10)], *[{} for _ in range(30)])
    counted = build_shortlist(
        pupils, _with_learned_reading_age(0), 5, Settings(shortlist_minimum=0, barrier_places="uncovered")
    ).table
    # Counting them from the best band, the 30 are in literacy need and take 4 of the 5 places.
    assert counted["main_barrier"].value_counts().to_dict() == {"literacy and numeracy": 4, "attendance": 1}
    usual = build_shortlist(
        pupils, _with_learned_reading_age(11), 5, Settings(shortlist_minimum=0, barrier_places="uncovered")
    ).table
    assert usual["main_barrier"].value_counts().to_dict() == {"attendance": 5}
    assert usual["score"].tolist() == [37] * 5  # the score and ranking are the card's, unchanged
    assert usual["need"].tolist() == ["attendance 26"] * 5
    # Their reading age is still in the reasons, which add up to the score, but last and as what most pupils have.
    assert (
        usual["reasons"]
        .str.endswith("; as most pupils, Reading age the same as the pupil's age — -27 months to under 11 months (+11)")
        .all()
    )
    assert not counted["reasons"].str.contains("as most pupils").any()
    # Far behind (15 points, 4 above usual) is a reason, but 4 points are not real need.
    behind = _pupils({"reading_age_gap_months": -30})
    row = build_shortlist(behind, _with_learned_reading_age(11), 5, Settings()).table.iloc[0]
    assert row["reasons"].startswith("Reading age 30 months behind the pupil's age")
    assert row["need"] == "literacy and numeracy 4"
    assert row["place_for"] == "by rank"


def test_the_attendance_focus_is_punctuality_where_lateness_carries_the_attendance_points() -> None:
    """A pupil at 93.5% with late marks most weeks was offered "an attendance plan": the focus now says what the
    points say."""
    v6 = Scorecard.load(Path(__file__).resolve().parents[2] / "models" / "scorecard-v6.yaml")
    points = pd.DataFrame(0, index=range(3), columns=list(v6.feature_names))
    points.loc[0, ["late_marks_4wk", "attendance_rate_4wk"]] = [24, 6]  # late most weeks, 90-95% lately
    points.loc[1, ["late_marks_4wk", "attendance_rate_term_ex_holiday"]] = [12, 22]  # absence first
    points.loc[2, ["english_grade_gap", "maths_grade_gap", "core_grade_change", "late_marks_4wk"]] = [4, 4, 10, 12]
    pupils = pd.DataFrame({"upn": ["P0", "P1", "P2"], "looked_after": False, "current_interventions": ""})
    profile = need_profile(pupils, points, v6, Settings())
    assert profile["suggested_focus"].tolist() == [
        "getting to school on time (a punctuality plan agreed with home)",
        "getting to school every day (an attendance plan agreed with home)",
        "catching up to target in English and maths; then getting to school on time (a punctuality plan agreed with "
        "home)",
    ]


def test_barriers_tied_for_the_second_focus_are_named_together() -> None:
    """Attainment 14, then attendance 10 and literacy 10: the focus named attendance alone, by the barriers' order,
    for a pupil at 95% attendance whose reading age was two years behind."""
    v7 = Scorecard.load(Path(__file__).resolve().parents[2] / "models" / "scorecard-v7.yaml")
    points = pd.DataFrame(0, index=range(2), columns=list(v7.feature_names))
    points.loc[0, ["english_grade_gap", "core_grade_change", "attendance_rate_4wk", "attendance_rate_year"]] = [
        4,
        10,
        6,
        4,
    ]
    points.loc[0, "reading_age_gap_months"] = 10
    points.loc[1, ["english_grade_gap", "core_grade_change", "attendance_rate_4wk"]] = [4, 10, 6]
    points.loc[1, "reading_age_gap_months"] = 10
    pupils = pd.DataFrame({"upn": ["P0", "P1"], "looked_after": False, "current_interventions": ""})
    profile = need_profile(pupils, points, v7, Settings())
    assert profile["suggested_focus"].tolist() == [
        "catching up to target in English and maths; then getting to school every day (an attendance plan agreed "
        "with home) and reading skills (literacy catch-up)",
        "catching up to target in English and maths; then reading skills (literacy catch-up)",
    ]
