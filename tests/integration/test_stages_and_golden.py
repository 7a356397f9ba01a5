"""The stages one by one give what `mentor run` gives, and the sample's shortlists at a fixed night stay as reviewed.

The golden files in tests/golden/ are the sample's shortlists for the night of 17 October 2025. When a deliberate
change (data generator, features, scorecard) moves them, regenerate with ``UPDATE_GOLDEN=1 make test`` and review
the diff like any other change of output: it is what pastoral staff would see.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.config import Settings
from pipeline.evaluate.truth import compare
from pipeline.warehouse import connect

pytestmark = pytest.mark.slow

NIGHT = "2025-10-17"
SCHOOLS = ("105854", "127510")
GOLDEN = Path(__file__).resolve().parents[1] / "golden"
GOLDEN_COLUMNS = [
    "rank", "upn", "year_group", "score", "band", "main_barrier", "need", "suggested_focus", "reasons", "place_for",
    "attendance_team", "last_decision", "in_intervention",
]  # fmt: skip


def _mentor(*args: str) -> None:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def nights(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same warehouse published twice for NIGHT: stage by stage into staged/, and by `mentor run` into run/."""
    root = tmp_path_factory.mktemp("stages")
    shutil.copytree(sample_dir, root / "exports")
    db = str(root / "w.duckdb")
    _mentor("ingest", "--exports", str(root / "exports"), "--db", db, "--out", str(root / "ingest"))
    _mentor("features", "--db", db, "--as-of", NIGHT, "--csv", str(root / "features.csv"))
    _mentor("score", "--db", db)
    _mentor("report", "--db", db, "--out", str(root / "staged"))
    _mentor("run", "--exports", str(root / "exports"), "--db", db, "--out", str(root / "run"), "--as-of", NIGHT)
    return root


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)


@pytest.mark.parametrize("school", SCHOOLS)
@pytest.mark.parametrize("listing", ["shortlist.csv", "under_challenged.csv"])
def test_running_the_stages_one_by_one_publishes_what_the_nightly_run_does(
    nights: Path, school: str, listing: str
) -> None:
    staged, run = _read(nights / "staged" / school / listing), _read(nights / "run" / school / listing)
    # the same night published twice: the second compares with the night before it (none here), not the first
    pd.testing.assert_frame_equal(staged, run)
    assert staged["change_since_last_run"].eq("").all()


def test_the_feature_csv_has_a_row_per_pupil_on_roll(nights: Path) -> None:
    features = _read(nights / "features.csv")
    assert features["as_of"].unique().tolist() == [NIGHT]
    assert not features.duplicated(["school_id", "upn"]).any()
    assert (nights / "features.csv").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("school", SCHOOLS)
def test_the_sample_shortlist_for_a_fixed_night_matches_the_reviewed_golden_file(nights: Path, school: str) -> None:
    shortlist = _read(nights / "run" / school / "shortlist.csv")[GOLDEN_COLUMNS]
    golden = GOLDEN / f"{school}-shortlist-{NIGHT}.csv"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        shortlist.to_csv(golden, index=False, lineterminator="\n")
    pd.testing.assert_frame_equal(shortlist, _read(golden))


def test_scoring_before_features_says_which_command_to_run(tmp_path: Path) -> None:
    connect(tmp_path / "w.duckdb").close()
    result = CliRunner().invoke(app, ["score", "--db", str(tmp_path / "w.duckdb")])
    assert result.exit_code == 2
    assert "run `mentor features` (or `mentor run`) first" in result.output


def test_a_report_from_stale_scores_is_refused(nights: Path, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    shutil.copy(nights / "w.duckdb", db)
    _mentor("features", "--db", str(db), "--as-of", "2025-10-10")
    result = CliRunner().invoke(app, ["report", "--db", str(db), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "run `mentor score` again" in result.output
    assert not (tmp_path / "out").exists()


def test_the_sample_shortlists_can_be_measured_against_the_simulation_truth(
    nights: Path, sample_truth_dir: Path
) -> None:
    table = compare(nights / "w.duckdb", sample_truth_dir, Settings())
    overall = table[(table["school"] == "all") & (table["outcome"] == "adverse_outcome")].set_index("model")
    ranked = ["scorecard-v7 by score", "ABC rules", "attendance alone"]
    assert set(overall.index) == {"scorecard-v7 shortlist", *ranked}
    assert (overall.loc[ranked, "capacity"] == 62).all()  # the schools' places
    # every ranking picks pupils far likelier than average to go on to an adverse outcome
    assert (overall.loc[ranked, "precision_at_capacity"] > 1.5 * overall.loc[ranked, "base_rate"]).all()
    # the shortlist gives the free places to new candidates only (current mentees fill most places), so it is
    # shorter; the pupils it lists beside the places take none and are not counted
    shortlist = overall.loc["scorecard-v7 shortlist"]
    assert 10 <= shortlist["capacity"] < 62
    assert shortlist["precision_at_capacity"] > shortlist["base_rate"]
    # measuring does not touch the published feature table
    con = connect(nights / "w.duckdb")
    assert con.execute("select distinct cast(as_of as varchar) from features").fetchall() == [(NIGHT,)]
    con.close()


def test_every_list_names_the_school_first_and_what_made_it_last(nights: Path) -> None:
    settings = nights / "names.toml"
    settings.write_text('[school_names]\n"127510" = "Example Academy"\n', encoding="utf-8")
    copy = nights / "named.duckdb"  # a copy: publishing again must not move the other tests' warehouse
    shutil.copyfile(nights / "w.duckdb", copy)
    _mentor("report", "--db", str(copy), "--out", str(nights / "named"), "--config", str(settings))
    for listing in ("shortlist.csv", "under_challenged.csv", "caseload.csv", "held_off.csv"):
        named, unnamed = _read(nights / "named" / "127510" / listing), _read(nights / "named" / "105854" / listing)
        assert list(named.columns[:3]) == ["as_of", "school", "school_name"]
        assert list(named.columns[-3:]) == ["made_by_pipeline", "scorecard", "settings_fingerprint"]
        assert set(named["school"]) <= {"127510"}
        assert set(named["school_name"]) <= {"Example Academy"}
        assert set(unnamed["school_name"]) <= {""}  # no name set: the column is there, blank
    assert len(_read(nights / "named" / "127510" / "shortlist.csv")) > 0


def test_the_under_challenged_list_is_not_cut_to_the_shortlist_length(nights: Path, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    shutil.copy(nights / "w.duckdb", db)
    settings = tmp_path / "no-places.toml"
    settings.write_text('shortlist_minimum = 0\n\n[places]\n"105854" = 0\n"127510" = 0\n', encoding="utf-8")
    _mentor("report", "--db", str(db), "--out", str(tmp_path / "out"), "--config", str(settings))
    for school in SCHOOLS:
        default = _read(nights / "staged" / school / "under_challenged.csv")
        no_places = _read(tmp_path / "out" / school / "under_challenged.csv")
        # no new mentoring places takes nobody off a list that takes no place: every able pupil below target is on it
        assert set(default["upn"]) <= set(no_places["upn"])
        assert not no_places["reasons"].str.startswith("No pupil met the rule").any()
    listed = _read(tmp_path / "out" / "105854" / "under_challenged.csv")
    assert len(listed) > len(_read(nights / "staged" / "105854" / "shortlist.csv"))


def _with_127510_cut_short(nights: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the nights' warehouse, and of their exports with 127510's attendance.csv cut short."""
    db = tmp_path / "w.duckdb"
    shutil.copy(nights / "w.duckdb", db)
    exports = tmp_path / "exports"
    shutil.copytree(nights / "exports", exports)
    marks = exports / "127510" / "attendance.csv"
    marks.write_bytes(marks.read_bytes()[:-5])
    return db, exports


def test_the_report_stage_warns_of_a_school_whose_latest_delivery_failed(nights: Path, tmp_path: Path) -> None:
    """`mentor ingest` held 127510 back (its attendance.csv cut short), and `mentor report` then published its lists
    as tonight's, on the marks loaded before, with no word."""
    db, exports = _with_127510_cut_short(nights, tmp_path)
    ingested = CliRunner().invoke(app, ["ingest", "--exports", str(exports), "--db", str(db), "--out", str(tmp_path)])
    assert ingested.exit_code == 3
    _mentor("features", "--db", str(db), "--as-of", NIGHT)
    _mentor("score", "--db", str(db))
    result = CliRunner().invoke(app, ["report", "--db", str(db), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0
    assert "warning: school 127510's latest delivery had attendance.csv fail" in result.output
    assert "school 105854's latest delivery" not in result.output


def test_after_a_night_that_held_a_school_back_report_and_audit_say_what_they_left_out(
    nights: Path, tmp_path: Path
) -> None:
    """`mentor run` held 127510 back (its attendance.csv cut short): the feature table holds 105854 alone. `mentor
    audit` then refused ("published pupils are not in the feature table ... run `mentor run` again", which changed
    nothing), and `mentor report` warned that 127510's lists "here are built on what loaded before" and wrote none."""
    db, exports = _with_127510_cut_short(nights, tmp_path)
    out = tmp_path / "out"
    held = CliRunner().invoke(app, ["run", "--exports", str(exports), "--db", str(db), "--out", str(out)])
    assert held.exit_code == 3, held.output
    audited = CliRunner().invoke(app, ["audit", "--db", str(db), "--out", str(tmp_path / "audit"), "--boot", "10"])
    assert audited.exit_code == 0, audited.output
    scopes = set(_read(tmp_path / "audit" / "audit.csv")["scope"])
    assert any(s.startswith("current shortlist (published, ") and "school 127510 held back" in s for s in scopes)
    result = CliRunner().invoke(app, ["report", "--db", str(db), "--out", str(tmp_path / "staged")])
    assert result.exit_code == 0, result.output
    assert "school 127510's latest delivery had attendance.csv fail and the feature table has no pupils" in " ".join(
        result.output.split()
    )
    assert not (tmp_path / "staged" / "127510").exists()
