"""decisions.csv through the normal ingest path (checks, quarantine, history) and the caseload and decision SQL
against a small literal delivery."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipeline.caseload.decisions import decision_states, read_last_decisions, record_night_scores, sql
from pipeline.caseload.review import mentor_like_interventions, read_mentees, read_mentoring_ended
from pipeline.config import Settings
from pipeline.ingest import ingest
from pipeline.model import Scorecard
from pipeline.model.card import points_fingerprints
from pipeline.run import run_pipeline
from pipeline.upn import make_upn
from pipeline.warehouse import connect

TODAY = dt.date(2025, 11, 22)
SCHOOL = "100001"
A, B, C, D = (make_upn(801, 4000, 14, n) for n in (1, 2, 3, 4))
STRANGER = make_upn(801, 4000, 14, 9)
CARD = "card-fingerprint"
SCORES = pd.DataFrame({"school_id": SCHOOL, "upn": [A, B, C, D], "score": [20, 30, 40, 50]})
PUPILS = "upn,surname,forename,date_of_birth,sex,year_group,leaving_date,sen_provision,fsm_eligible\n" + "".join(
    f"{u},Example,Pupil{n},2014-03-0{n},F,7,,N,N\n" for n, u in enumerate((A, B, C, D), start=1)
)
WEEK_BEFORE = [dt.date(2025, 10, 6) + dt.timedelta(days=k) for k in range(5)]
WEEK_SINCE = [dt.date(2025, 11, 3) + dt.timedelta(days=k) for k in range(5)]
# B misses half the sessions the week before mentoring starts and none since; A is always in.
MARKS = "upn,date,session,mark\n" + "".join(
    f"{u},{day},{session},{'O' if u == B and day in WEEK_BEFORE and session == 'PM' else '/'}\n"
    for u in (A, B, C, D)
    for day in WEEK_BEFORE + WEEK_SINCE
    for session in ("AM", "PM")
)
INTERVENTIONS = (
    "upn,intervention,start_date,end_date,outcome\n"
    f"{B},Learning mentor,2025-11-03,,\n"
    f"{A},Learning mentor,2025-09-01,2025-10-01,Completed\n"
    f"{C},Reading catch-up,2025-11-10,,\n"
)
BEHAVIOUR = (
    "upn,incident_id,date,category,points,action\n"
    f"{B},1,2025-10-07,Defiance,-2,\n{B},2,2025-10-08,Disruption,-1,\n{B},3,2025-11-04,Disruption,-1,\n"
)
DECISIONS = (
    "UPN,Decision Date,Decision,Review Date\n"
    f"{A},01/10/2025,Not_Now,\n"
    f"{C},03/11/2025,referred,\n"
    f"{D},03/11/2025,DECLINED,01/12/2025\n"
    f"{D},03/11/2025,maybe later,\n"
    f"{STRANGER},03/11/2025,declined,\n"
    f"{A},30/11/2025,declined,\n"
)


def _deliver(folder: Path, files: dict[str, str]) -> Path:
    school = folder / SCHOOL
    school.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (school / name).write_text(content, encoding="utf-8")
    return folder


def _warehouse(tmp_path: Path, decisions: str = DECISIONS) -> duckdb.DuckDBPyConnection:
    con = connect()
    files = {"pupils.csv": PUPILS, "attendance.csv": MARKS, "interventions.csv": INTERVENTIONS,
             "behaviour.csv": BEHAVIOUR, "decisions.csv": decisions}  # fmt: skip
    ingest(con, _deliver(tmp_path / "first", files), today=TODAY)
    return con


def test_decisions_are_read_like_every_export_and_bad_rows_are_quarantined_with_reasons(tmp_path: Path) -> None:
    con = _warehouse(tmp_path)
    staged = con.execute("select upn, date, decision, review_date from decisions").fetchall()
    assert sorted(staged) == sorted(
        [
            (A, dt.date(2025, 10, 1), "not now", None),  # "Not_Now": case and underscores do not matter
            (C, dt.date(2025, 11, 3), "referred", None),
            (D, dt.date(2025, 11, 3), "declined", dt.date(2025, 12, 1)),
        ]
    )
    reasons = con.execute(
        "select line_number, reason from quarantine where file = 'decisions.csv' order by line_number"
    ).fetchall()
    assert (5, "decision 'maybe later' is not one of referred, declined, not now, supported elsewhere") in reasons
    assert (6, "pupil not in pupils.csv") in reasons
    assert (7, "date 2025-11-30 is in the future (after 2025-11-22)") in reasons
    assert len(reasons) == 3


def test_decisions_keep_their_history_and_the_last_one_counts(tmp_path: Path) -> None:
    con = _warehouse(tmp_path)
    later = f"upn,date,decision,review_date\n{A},2025-11-10,referred,\n"
    ingest(con, _deliver(tmp_path / "second", {"pupils.csv": PUPILS, "attendance.csv": MARKS,
                                               "decisions.csv": later}), today=TODAY)  # fmt: skip
    assert con.execute("select count(*) from decisions where upn = $a", {"a": A}).fetchone() == (2,)
    last = read_last_decisions(con, dt.date(2025, 11, 21), Settings(), CARD).set_index("upn")
    assert last.loc[A, "decision"] == "referred"
    assert last.loc[A, "decisions_recorded"] == 2
    # C was referred on 3 November and a reading intervention started on the 10th: not mentoring, so the referral
    # is still pending, and the reading intervention is named.
    assert not bool(last.loc[C, "intervention_since"])
    assert last.loc[C, "other_since"] == "Reading catch-up"
    states = decision_states(last.reset_index(), SCORES, dt.date(2025, 11, 21), Settings()).set_index("upn")
    assert states.loc[C, "decision_status"] == "pending"
    assert states.loc[C, "last_decision"] == (
        "referred on 2025-11-03: pending until mentoring starts in the MIS (Reading catch-up started on "
        "2025-11-10, not mentoring)"
    )
    assert not bool(last.loc[A, "intervention_since"])
    before = read_last_decisions(con, dt.date(2025, 11, 5), Settings(), CARD).set_index("upn")
    assert before.loc[A, "decision"] == "not now"


def test_a_referral_is_done_when_mentoring_starts_under_any_name_the_settings_give(tmp_path: Path) -> None:
    con = _warehouse(tmp_path)
    settings = Settings(mentor_interventions=("Learning mentor", " reading CATCH-UP "))
    last = read_last_decisions(con, dt.date(2025, 11, 21), settings, CARD).set_index("upn")
    assert bool(last.loc[C, "intervention_since"])
    states = decision_states(last.reset_index(), SCORES, dt.date(2025, 11, 21), settings).set_index("upn")
    assert states.loc[C, "decision_status"] == ""
    assert states.loc[C, "last_decision"] == "referred on 2025-11-03: mentoring started on 2025-11-10"
    # Ended since: the row says so (a pupil back on the shortlist read as if mentored now)
    con.execute("update interventions set end_date = date '2025-11-17' where upn = $c", {"c": C})
    last = read_last_decisions(con, dt.date(2025, 11, 21), settings, CARD)
    states = decision_states(last, SCORES, dt.date(2025, 11, 21), settings).set_index("upn")
    assert (
        states.loc[C, "last_decision"]
        == "referred on 2025-11-03: mentoring started on 2025-11-10 and ended on 2025-11-17"
    )
    last = read_last_decisions(con, dt.date(2025, 11, 14), settings, CARD)  # a night before the end: still on
    states = decision_states(last, SCORES, dt.date(2025, 11, 14), settings).set_index("upn")
    assert states.loc[C, "last_decision"] == "referred on 2025-11-03: mentoring started on 2025-11-10"


def _scores(**by_upn: int) -> pd.DataFrame:
    return pd.DataFrame({"school_id": SCHOOL, "upn": list(by_upn), "score": list(by_upn.values())})


def test_the_score_at_a_decision_is_the_list_staff_decided_on_and_a_rise_brings_the_pupil_back_for_good(
    tmp_path: Path,
) -> None:
    # A is declined on 1 October (not now, no review date: back on 12 November). Staff saw the list of 30 September.
    con = _warehouse(tmp_path)
    rules = Settings(decision_score_margin=10, decision_review_weeks=6)

    def state(night: dt.date, score: int, card: str = CARD) -> tuple[str, str]:
        record_night_scores(con, _scores(**{A: score}), night, card)
        last = read_last_decisions(con, night, rules, card)
        states = decision_states(last, _scores(**{A: score}), night, rules).set_index("upn")
        if A not in states.index:
            return "", "no decision"
        return str(states.loc[A, "decision_status"]), str(states.loc[A, "last_decision"])

    assert state(dt.date(2025, 9, 29), 30) == ("", "no decision")  # before the decision
    assert state(dt.date(2025, 9, 30), 20) == ("", "no decision")
    # The first night read scores 29: 9 above the list staff decided on (20), where it was 1 below the first night's.
    assert state(dt.date(2025, 10, 2), 29)[0] == "held"
    assert state(dt.date(2025, 10, 3), 31) == (
        "back",
        "not now on 2025-10-01: back on the list, score up 11 points since",
    )
    # The next night the score falls back to 24: the pupil stays back, and the row says since when.
    assert state(dt.date(2025, 10, 6), 24) == (
        "back",
        "not now on 2025-10-01: back on the list since 2025-10-03, when the score was up 11 points",
    )
    # A night made again gives the same answer; an earlier night reproduced is as it was.
    assert state(dt.date(2025, 10, 6), 24)[0] == "back"
    assert state(dt.date(2025, 10, 2), 29)[0] == "held"
    # Under another card, scores are not compared with the old card's: the first night scored after the decision is
    # the mark to rise from.
    assert state(dt.date(2025, 10, 7), 60, card="another")[0] == "held"
    assert state(dt.date(2025, 10, 8), 69, card="another")[0] == "held"
    assert state(dt.date(2025, 10, 9), 70, card="another")[0] == "back"


def test_a_card_that_scores_alike_compares_with_the_scores_kept_under_the_old_one(tmp_path: Path) -> None:
    """A card released again with mended words (or refitted with --keep-points) gives every pupil the same score: a
    declined pupil's rise is still measured from the list staff decided on, not restarted from the new card's first
    night. A warehouse kept its scores under the card's whole fingerprint until 7 December 2026; the next night moves
    them under the points fingerprint, those of v6 too when v7 is tonight's card (an upgrade switches the default:
    v6's rows, moved only when they were the card in use's, were never compared again)."""
    con = _warehouse(tmp_path)
    rules = Settings(decision_score_margin=10, decision_review_weeks=6)
    models = Path(__file__).resolve().parents[2] / "models"
    v6, v7 = (Scorecard.load(models / f"scorecard-{v}.yaml") for v in ("v6", "v7"))
    # kept by the old version under v6's whole fingerprint, on the list staff decided on; tonight's card is v7
    record_night_scores(con, _scores(**{A: 20}), dt.date(2025, 9, 30), v6.fingerprint())
    night = dt.date(2025, 10, 2)
    record_night_scores(con, _scores(**{A: 31}), night, v7.points_fingerprint(), lambda: points_fingerprints([models]))
    last = read_last_decisions(con, night, rules, v7.points_fingerprint())
    assert last.set_index("upn").loc[A, "score_at_decision"] == 20
    states = decision_states(last, _scores(**{A: 31}), night, rules).set_index("upn")
    assert states.loc[A, "decision_status"] == "back"
    assert con.execute("select distinct scorecard from night_scores").fetchall() == [(v7.points_fingerprint(),)]
    # A card that scores otherwise (v1) keeps its own key: its scores are never compared with v7's
    record_night_scores(
        con, _scores(**{A: 5}), dt.date(2025, 9, 1), Scorecard.load(models / "scorecard-v1.yaml").fingerprint()
    )
    record_night_scores(con, _scores(**{A: 31}), night, v7.points_fingerprint(), lambda: points_fingerprints([models]))
    assert len(con.execute("select distinct scorecard from night_scores").fetchall()) == 2


def test_the_caseload_compares_each_mentee_before_and_since_the_start(tmp_path: Path) -> None:
    con = _warehouse(tmp_path)
    mentees = read_mentees(con, dt.date(2025, 11, 21), Settings())
    assert mentees["upn"].tolist() == [B]  # A's mentoring ended in October
    row = mentees.iloc[0]
    assert (row["attendance_before"], row["attendance_since"]) == (0.5, 1.0)
    assert (row["behaviour_before"], row["behaviour_since"]) == (3.0, 1.0)  # points per 10 possible sessions
    named = read_mentees(con, dt.date(2025, 11, 21), Settings(mentor_interventions=("reading catch-up",)))
    assert named["upn"].tolist() == [C]


def test_a_pupil_whose_mentoring_ended_is_named_with_its_end_and_a_current_mentee_is_not(tmp_path: Path) -> None:
    """A (mentored 1 September to 1 October) back on a list: staff saw nothing of the mentoring that ended."""
    con = _warehouse(tmp_path)
    ended = read_mentoring_ended(con, dt.date(2025, 11, 21), Settings()).set_index("upn")
    assert ended["mentoring_ended"].dt.date.to_dict() == {A: dt.date(2025, 10, 1)}  # B's is open, C's is not mentoring
    assert read_mentoring_ended(con, dt.date(2026, 11, 21), Settings()).empty  # more than a year before
    assert read_mentoring_ended(con, dt.date(2025, 9, 15), Settings()).empty  # still open then


def test_able_pupils_sql_reads_gds_targets_and_earlier_gds(tmp_path: Path) -> None:
    con = _warehouse(tmp_path)
    results = (
        "upn,subject,assessment_point,date,result_type,result\n"
        f"{A},Maths,Autumn,2025-10-01,working_at,GDS\n{A},Maths,Spring,2025-11-01,working_at,WTS\n"
        f"{B},Reading,Targets,2025-09-10,target,GDS\n{B},Reading,Autumn,2025-11-01,working_at,EXS\n"
        # C: greater depth in maths, earlier and now; writing fell from EXS to WTS. Not a fall from greater depth.
        f"{C},Maths,Autumn,2025-10-01,working_at,GDS\n{C},Maths,Spring,2025-11-01,working_at,GDS\n"
        f"{C},Writing,Autumn,2025-10-01,working_at,EXS\n{C},Writing,Spring,2025-11-01,working_at,WTS\n"
    )
    ingest(con, _deliver(tmp_path / "results", {"pupils.csv": PUPILS, "attendance.csv": MARKS,
                                                "assessments.csv": results}), today=TODAY)  # fmt: skip
    able = con.execute(sql("able_pupils"), {"as_of": dt.date(2025, 11, 21)}).df().set_index("upn")
    signs = ["gds_target", "gds_earlier", "below_expected_now", "slipped_from_gds"]
    assert able.loc[A, signs].tolist() == [False, True, True, True]
    assert able.loc[A, ["gds_earlier_in", "slipped_in"]].tolist() == ["maths", "maths (WTS)"]
    assert able.loc[B, signs].tolist() == [True, False, False, False]
    assert able.loc[B, "gds_target_in"] == "reading"
    assert able.loc[C, signs].tolist() == [False, True, True, False]
    assert able.loc[C, ["gds_earlier_in", "slipped_in"]].tolist() == ["maths", ""]


def test_able_pupils_sql_reads_steps_and_subjects_in_any_case(tmp_path: Path) -> None:
    """ "gds" in "WRITING" was not read: neither the step (matched as GDS) nor the subject (matched as Writing)."""
    con = _warehouse(tmp_path)
    results = (
        "upn,subject,assessment_point,date,result_type,result\n"
        f"{A},WRITING,Targets,2025-09-10,target,gds\n{A},writing,Autumn,2025-11-01,working_at,Wts\n"
    )
    ingest(con, _deliver(tmp_path / "results", {"pupils.csv": PUPILS, "attendance.csv": MARKS,
                                                "assessments.csv": results}), today=TODAY)  # fmt: skip
    able = con.execute(sql("able_pupils"), {"as_of": dt.date(2025, 11, 21)}).df().set_index("upn")
    assert able.loc[A, ["gds_target", "gds_earlier", "below_expected_now"]].tolist() == [True, False, True]


def test_open_interventions_named_like_mentoring_but_not_in_the_settings_are_found(tmp_path: Path) -> None:
    """An MIS that calls it "Learning Mentor Support" has no current mentee under the default name: the run says so."""
    interventions = (
        "upn,intervention,start_date,end_date,outcome\n"
        f"{A},Learning Mentor Support,2025-11-03,,\n"  # open, named otherwise: found
        f"{B}, learning mentor support ,2025-10-01,,\n"  # the same name, as the MIS may space it
        f"{C},Learning mentor,2025-11-03,,\n"  # the setting's name: a current mentee
        f"{D},Peer mentor,2025-09-01,2025-10-01,Completed\n"  # ended: not found
        f"{D},Reading catch-up,2025-11-10,,\n"  # not mentoring
    )
    con = connect()
    files = {"pupils.csv": PUPILS, "attendance.csv": MARKS, "interventions.csv": interventions}
    ingest(con, _deliver(tmp_path / "first", files), today=TODAY)
    assert mentor_like_interventions(con, TODAY, Settings()) == {SCHOOL: {"Learning Mentor Support": 2}}
    named = Settings(mentor_interventions=("Learning mentor", "learning mentor support"))
    assert mentor_like_interventions(con, TODAY, named) == {}


def test_a_decision_made_after_the_last_mark_acts_on_the_latest_night_only(tmp_path: Path) -> None:
    # The marks stop on Friday 7 November (a holiday, or an export behind); staff decline E on Monday 10 November.
    absent = "upn,date,session,mark\n" + "".join(
        f"{u},{day},{session},{'O' if session == 'PM' else '/'}\n"
        for u in (A, B)
        for day in WEEK_BEFORE + WEEK_SINCE
        for session in ("AM", "PM")
    )
    files = {"pupils.csv": PUPILS, "attendance.csv": absent,
             "decisions.csv": f"upn,date,decision,review_date\n{A},10/11/2025,declined,\n"}  # fmt: skip
    exports = _deliver(tmp_path / "exports", files)

    def listed(as_of: dt.date | None) -> set[str]:
        out = tmp_path / f"out-{as_of}"
        result = run_pipeline(exports, tmp_path / "w.duckdb", out, Settings(), as_of=as_of, today=TODAY)
        assert result.exit_code == 0, result.report.error
        shortlist = pd.read_csv(out / SCHOOL / "shortlist.csv", encoding="utf-8-sig", dtype=str)
        return set(shortlist["upn"])

    assert listed(None) == {B}  # the night is 7 November, and A's decision of the 10th, before today, holds A off
    held = pd.read_csv(tmp_path / "out-None" / SCHOOL / "held_off.csv", encoding="utf-8-sig", dtype=str)
    assert held["upn"].tolist() == [A]  # and says so, with the review date
    assert held.loc[0, "last_decision"].startswith("declined on 2025-11-10: off the list until 2025-12-22")
    assert listed(dt.date(2025, 11, 6)) == {A, B}  # an earlier night reproduced: as its list was, before it
    # The latest night itself reproduced with --as-of (a catch-up run, a data lead checking a list): as it was on its
    # own night, whatever the clock says; the decision of the 10th had not been made (and a review date a year on
    # from the night has not passed)
    assert listed(dt.date(2025, 11, 7)) == {A, B}


def test_the_weeks_before_mentoring_count_days_the_pupil_could_attend_not_closures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pipeline.caseload.review.BEFORE_SCHOOL_DAYS", 2)  # "the two school days before"
    days = [dt.date(2025, 10, 29), dt.date(2025, 10, 30), dt.date(2025, 10, 31)]  # absent, present, closed (#)
    marks = (
        "upn,date,session,mark\n"
        + "".join(
            f"{B},{day},{session},{mark}\n"
            for day, mark in zip(days, ("O", "/", "#"), strict=True)
            for session in ("AM", "PM")
        )
        + "".join(f"{B},{day},{session},/\n" for day in WEEK_SINCE for session in ("AM", "PM"))
    )
    files = {
        "pupils.csv": PUPILS,
        "attendance.csv": marks,
        "interventions.csv": f"upn,intervention,start_date,end_date,outcome\n{B},Learning mentor,2025-11-03,,\n",
    }
    con = connect()
    ingest(con, _deliver(tmp_path / "closed", files), today=TODAY)  # fmt: skip
    row = read_mentees(con, dt.date(2025, 11, 21), Settings()).iloc[0]
    assert row["attendance_before"] == 0.5  # 29 and 30 October; the closed 31st is no school day for the window


def test_the_words_staff_write_for_a_decision_are_read(tmp_path: Path) -> None:
    """ "Decline" and "Referral" were quarantined as not one of the four words."""
    words = f"upn,date,decision,review_date\n{A},03/11/2025,Decline,\n{B},03/11/2025,Referral,\n{C},03/11/2025,refer,\n"
    con = _warehouse(tmp_path, words)
    assert dict(con.execute("select upn, decision from decisions").fetchall()) == {
        A: "declined", B: "referred", C: "referred"
    }  # fmt: skip
    assert con.execute("select count(*) from quarantine where file = 'decisions.csv'").fetchone() == (0,)
