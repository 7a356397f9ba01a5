"""Does mentoring work? The impact estimate against simulated trusts whose true effect is known (issue #24).

Two trusts (two schools of 600 pupils; one seed at effect 3 percentage points, one at 0) keep this to about 30
seconds; ``make impact-proof`` runs the slow version (ten seeds at each effect) whose figures docs/impact.md reports.
Smaller trusts have too few mentees (about 50) for the naive change's bias to stand out from its noise.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.impact.proof import one_run

SCHOOLS, PUPILS = 2, 600


@pytest.fixture(scope="module")
def proof_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[float, dict[str, object]]:
    folder = tmp_path_factory.mktemp("impact")
    return {effect: one_run(seed, effect, folder, SCHOOLS, PUPILS) for seed, effect in ((1, 3.0), (2, 0.0))}


def test_the_interval_covers_the_true_effect_and_the_naive_change_overstates_it(
    proof_runs: dict[float, dict[str, object]],
) -> None:
    for effect, run in proof_runs.items():
        assert run["mentees"] >= 20, run
        assert run["attendance_covers"], run
        # Mentees are chosen after a fall that partly reverses anyway: their own change overstates the effect, by
        # more than the matched estimate misses it, and its interval misses the truth.
        naive_error = float(run["naive_attendance"]) - float(run["true_effect"])
        assert naive_error > 3.0, run
        assert abs(float(run["attendance"]) - float(run["true_effect"])) < naive_error, run
        assert not run["naive_attendance_covers"], run
        if effect == 0:
            assert run["true_effect"] == 0.0
            assert not run["attendance_claims"], run
        else:
            assert float(run["true_effect"]) > 0.5, run


def test_the_truth_records_each_mentee_and_the_average(tmp_path: Path) -> None:
    from pipeline.sample import SampleSpec, generate_trust

    spec = SampleSpec(seed=5, schools=1, pupils_per_school=150, years=2, mentoring_effect=4.0)
    generate_trust(spec, tmp_path / "exports", tmp_path / "truth")
    truth = json.loads((tmp_path / "truth" / "mentoring_effect.json").read_text(encoding="utf-8"))
    mentees = pd.DataFrame(truth["mentees"])
    assert truth["aimed_effect_pp"] == 4.0
    assert len(mentees) > 5
    complete = mentees[mentees["complete"] & (mentees["possible_sessions"] > 0)]
    assert truth["average_effect_pp"] == pytest.approx(complete["attendance_effect_pp"].mean(), abs=1e-3)
    # Severe school avoidance: mentoring changes nothing.
    assert (mentees.loc[mentees["barrier"] == "school avoidance", "attendance_effect_pp"] == 0).all()
    # Every mentee is in interventions.csv as a learning mentor on their start date.
    recorded = pd.read_csv(next((tmp_path / "exports").glob("*/interventions.csv")), encoding="utf-8-sig")
    recorded.columns = [c.lower().replace(" ", "_") for c in recorded.columns]
    mentors = recorded[recorded["intervention"] == "Learning mentor"]
    assert len(mentors) == len(mentees)


def test_without_an_effect_the_truth_is_zero_and_nothing_else_changes(tmp_path: Path) -> None:
    from pipeline.sample import SampleSpec, generate_trust

    spec = SampleSpec(seed=5, schools=1, pupils_per_school=150, years=1)
    generate_trust(spec, tmp_path / "a", tmp_path / "a-truth")
    truth = json.loads((tmp_path / "a-truth" / "mentoring_effect.json").read_text(encoding="utf-8"))
    assert truth["aimed_effect_pp"] == 0.0
    assert {m["attendance_effect_pp"] for m in truth["mentees"]} <= {0.0}
    generate_trust(
        SampleSpec(seed=5, schools=1, pupils_per_school=150, years=1, mentoring_effect=2.0),
        tmp_path / "b",
        tmp_path / "b-truth",
    )
    school = next(p.name for p in (tmp_path / "a").iterdir())
    # Mentoring changes what happens after a start, never who is on roll.
    pupils_a = (tmp_path / "a" / school / "pupils.csv").read_bytes()
    assert pupils_a == (tmp_path / "b" / school / "pupils.csv").read_bytes()


def test_mentor_impact_writes_an_owner_only_table(tmp_path: Path) -> None:
    from pipeline.ingest import ingest
    from pipeline.sample import SampleSpec, generate_trust
    from pipeline.warehouse import connect

    spec = SampleSpec(seed=3, schools=1, pupils_per_school=120, years=1, mentoring_effect=3.0)
    generate_trust(spec, tmp_path / "exports", tmp_path / "truth")
    con = connect(tmp_path / "w.duckdb", key=None)
    ingest(con, tmp_path / "exports")
    con.close()
    result = CliRunner().invoke(app, ["impact", "--db", str(tmp_path / "w.duckdb"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    path = tmp_path / "out" / "impact.csv"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    table = pd.read_csv(path, encoding="utf-8-sig")
    assert list(table.columns[:7]) == ["outcome", "barrier", "estimate", "ci_low", "ci_high", "treated", "controls"]
    assert set(table["outcome"]) == {"attendance", "negative_behaviour_points", "attainment_gap"}
    # One school of 120 pupils over one year has too few starts: it says so instead of a number.
    assert table["estimate"].isna().all()
    assert table["note"].str.contains("too few").all()
    # and so does the console, where its table read NaN, then None, against its own legend
    assert "NaN" not in result.output
    assert "None" not in result.output
    assert any(line.split()[:5] == ["attendance", "all", "-", "-", "-"] for line in result.output.splitlines())
    assert "-: no estimate (under unmatched: no matching done); impact.csv's note says why, row by row" in result.output


# Trusts whose exports a test changes (one school each, generated once per module and copied).
ONE_SCHOOL = {"seed": 3, "schools": 1, "pupils_per_school": 600, "mentoring_effect": 3.0}
SMALL_SCHOOL = {"seed": 5, "schools": 1, "pupils_per_school": 150, "years": 2, "mentoring_effect": 3.0}
END = dt.date(2025, 11, 7)


def _generated(folder: Path, **spec: object) -> Path:
    from pipeline.sample import SampleSpec, generate_trust

    generate_trust(SampleSpec(**spec), folder / "exports", folder / "truth")  # type: ignore[arg-type]
    return folder / "exports"


@pytest.fixture(scope="module")
def one_school(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _generated(tmp_path_factory.mktemp("one-school"), **ONE_SCHOOL)


@pytest.fixture(scope="module")
def small_school(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _generated(tmp_path_factory.mktemp("small-school"), **SMALL_SCHOOL)


def _warehouse(exports: Path, folder: Path, change: Callable[[Path], None] | None = None) -> Path:
    """A copy of ``exports``, changed by ``change`` (given the school's folder), ingested into a fresh warehouse."""
    from pipeline.ingest import ingest
    from pipeline.warehouse import connect

    copy = folder / "exports"
    shutil.copytree(exports, copy)
    if change is not None:
        change(next(p for p in copy.iterdir() if p.is_dir()))
    con = connect(folder / "w.duckdb", key=None)
    try:
        ingest(con, copy, today=END + dt.timedelta(days=1))
    finally:
        con.close()
    return folder / "w.duckdb"


def _mentor_impact(db: Path, out: Path, *more: str) -> tuple[str, pd.DataFrame]:
    result = CliRunner().invoke(app, ["impact", "--db", str(db), "--out", str(out), *more])
    assert result.exit_code == 0, result.output
    return result.output, pd.read_csv(out / "impact.csv", encoding="utf-8-sig")


def _read_date(text: str) -> dt.date:
    return dt.datetime.strptime(text, "%d/%m/%Y").date() if "/" in text else dt.date.fromisoformat(text)


def _write_date(day: dt.date, like: str) -> str:
    return day.strftime("%d/%m/%Y") if "/" in like else day.isoformat()


def _edit_interventions(school: Path, edit: Callable[[list[list[str]]], list[list[str]]]) -> None:
    """Rewrite interventions.csv's lines (upn, intervention, start, end, outcome) through ``edit``, header kept."""
    path = school / "interventions.csv"
    header, *lines = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows([header, *edit(lines)])


def _mentor_starts(school: Path) -> dict[str, list[dt.date]]:
    path = school / "interventions.csv"
    starts: dict[str, list[dt.date]] = {}
    for upn, name, start, *_ in list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))[1:]:
        if name == "Learning mentor":
            starts.setdefault(upn, []).append(_read_date(start))
    return starts


def _start_every_other_mentee_two_days_later(lines: list[list[str]]) -> list[list[str]]:
    mentors = [line for line in lines if line[1] == "Learning mentor"]
    for line in mentors[1::2]:
        line[2] = _write_date(_read_date(line[2]) + dt.timedelta(days=2), line[2])
    return lines


@pytest.fixture(scope="module")
def staggered(one_school: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One school where half of each round of learning mentors is recorded as starting two days after the others
    (the warehouse, and the school's changed exports)."""
    folder = tmp_path_factory.mktemp("staggered")
    db = _warehouse(
        one_school, folder, lambda school: _edit_interventions(school, _start_every_other_mentee_two_days_later)
    )
    return db, next(p for p in (folder / "exports").iterdir() if p.is_dir())


def test_a_pupil_whose_mentoring_starts_during_the_follow_up_is_no_comparison_pupil(
    staggered: tuple[Path, Path],
) -> None:
    from pipeline.impact import impact
    from pipeline.warehouse import connect

    db, school = staggered
    con = connect(db, key=None)
    try:
        result = impact(con)
    finally:
        con.close()
    assert result.matched is not None
    starts = _mentor_starts(school)
    mentees, controls = result.matched.mentees, result.matched.controls
    pairs = controls.assign(start=mentees["start_date"].to_numpy()[controls["mentee"]])
    # Two days after a mentee's start is well inside the rest of that half-term, the mentee's follow-up.
    mentored_then = [
        upn
        for upn, start in zip(pairs["control_upn"], pairs["start"], strict=True)
        if any(start < later <= start + dt.timedelta(days=14) for later in starts.get(upn, []))
    ]
    assert mentored_then == []
    assert len(mentees) >= 20
    assert any("their own mentoring started before its follow-up ended" in note for note in result.notes)


def test_impact_csv_and_report_html_say_how_many_starts_the_estimate_stands_on(
    staggered: tuple[Path, Path], tmp_path: Path
) -> None:
    from pipeline.pages.render import render
    from pipeline.report.html import impact_section

    output, table = _mentor_impact(staggered[0], tmp_path)
    overall = table[(table["barrier"] == "all") & (table["outcome"] == "attendance")]
    starts, unmatched = int(overall["starts"].iloc[0]), int(overall["unmatched"].iloc[0])
    assert unmatched > 0
    # the console's count, now in impact.csv: every row of the overall estimate stands on the same starts
    assert f"{unmatched} of {starts} mentees had no comparison pupil close enough and are left out" in output
    assert (overall["treated"] == starts - unmatched).all()
    assert set(table.loc[table["barrier"] == "all", "unmatched"]) == {unmatched}
    # and which way is better, in the file and on the console
    assert (
        table.loc[table["outcome"] == "negative_behaviour_points", "direction"]
        .str.startswith("negative: fewer negative behaviour points")
        .all()
    )
    assert "attainment_gap: positive: the gap to target closed" in output
    section = impact_section(pd.read_csv(tmp_path / "impact.csv", encoding="utf-8-sig"))
    page = render(section.template, section=section)
    assert (
        f"The estimate stands on {starts - unmatched} of {starts} learning-mentor starts: {unmatched} had no "
        "comparison pupil close enough and are left out."
    ) in page


def test_a_school_that_never_sent_behaviour_csv_gets_no_behaviour_estimate_rather_than_zero(
    one_school: Path, tmp_path: Path
) -> None:
    db = _warehouse(one_school, tmp_path, lambda school: (school / "behaviour.csv").unlink())
    output, table = _mentor_impact(db, tmp_path / "out")
    behaviour = table[table["outcome"] == "negative_behaviour_points"]
    assert behaviour["estimate"].isna().all()
    for note in behaviour["note"]:
        assert "never delivered behaviour.csv" in note
        assert "unknown (not 0)" in note
    # the other outcomes do not need it
    attendance = table[(table["outcome"] == "attendance") & (table["barrier"] == "all")]
    assert attendance["estimate"].notna().all()
    assert "never delivered behaviour.csv" in output


def test_a_school_that_never_sent_interventions_csv_is_told_so_not_zero_starts(
    small_school: Path, tmp_path: Path
) -> None:
    db = _warehouse(small_school, tmp_path, lambda school: (school / "interventions.csv").unlink())
    output, table = _mentor_impact(db, tmp_path / "out")
    assert table["estimate"].isna().all()
    for note in table["note"]:
        assert "never delivered interventions.csv, so no learning-mentor start is known there" in note
        assert "(0;" not in note
    assert "never delivered interventions.csv" in output


def _school_days(school: Path) -> list[list[dt.date]]:
    """The school's half-terms: its days with marks, split where the next is a week or more later."""
    days = sorted(
        {_read_date(d) for d in pd.read_csv(school / "attendance.csv", encoding="utf-8-sig", dtype=str).iloc[:, 1]}
    )
    terms = [[days[0]]]
    for day in days[1:]:
        if (day - terms[-1][-1]).days >= 7:
            terms.append([])
        terms[-1].append(day)
    return terms


def test_mentoring_recorded_once_per_half_term_counts_one_start_and_never_crashes(
    small_school: Path, tmp_path: Path
) -> None:
    def renewed_every_half_term(school: Path) -> None:
        terms = _school_days(school)
        pupils = pd.read_csv(school / "pupils.csv", encoding="utf-8-sig", dtype=str).iloc[:25, 0]

        def edit(lines: list[list[str]]) -> list[list[str]]:
            like = lines[0][2]
            kept = [line for line in lines if line[1] != "Learning mentor"]
            renewals = [
                [upn, "Learning mentor", _write_date(term[0], like), _write_date(term[-1], like), "Continued"]
                for upn in pupils
                for term in terms
            ]
            return kept + renewals

        _edit_interventions(school, edit)

    db = _warehouse(small_school, tmp_path, renewed_every_half_term)
    _, table = _mentor_impact(db, tmp_path / "out")
    # 25 pupils mentored from the first day of the history, renewed each half-term: no start with a half-term of
    # record before it, whatever the number of rows
    assert table["estimate"].isna().all()
    assert set(table["treated"]) == {0}
    for note in table["note"]:
        assert note.startswith("too few learning-mentor starts with a full half-term before and after them")
        assert "were renewals or re-starts of a mentoring still running" in note


def test_mentoring_is_what_the_mentor_interventions_setting_names_in_any_case(
    small_school: Path, tmp_path: Path
) -> None:
    def renamed(school: Path) -> None:
        def edit(lines: list[list[str]]) -> list[list[str]]:
            mentors = [line for line in lines if line[1] == "Learning mentor"]
            for k, line in enumerate(mentors):
                line[1] = "LEARNING MENTOR" if k % 2 else "Mentor Time "
            return lines

        _edit_interventions(school, edit)

    db = _warehouse(small_school, tmp_path, renamed)
    _, default = _mentor_impact(db, tmp_path / "default")
    settings = tmp_path / "settings.toml"
    settings.write_text('mentor_interventions = ["Learning mentor", "mentor time"]\n', encoding="utf-8")
    _, configured = _mentor_impact(db, tmp_path / "configured", "--config", str(settings))
    # "LEARNING MENTOR" is the default's "Learning mentor"; "Mentor Time " only counts once the setting names it
    assert 0 < int(default["starts"].iloc[0]) < int(configured["starts"].iloc[0])
