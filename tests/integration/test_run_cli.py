"""`mentor run` end to end on a temporary copy of the sample: outputs, explanations, gate, lock, exit codes."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.report.shortlist import SHORTLIST_COLUMNS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def first_run(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("run")
    shutil.copytree(sample_dir, root / "exports")
    result = CliRunner().invoke(
        app, ["run", "--exports", str(root / "exports"), "--db", str(root / "w.duckdb"), "--out", str(root / "out")]
    )
    assert result.exit_code == 0, result.output
    (root / "console.log").write_text(result.output, encoding="utf-8")
    return root


def _copy_of(run: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the first run's exports, outputs and warehouse in ``tmp_path``: the exports folder and the
    warehouse."""
    shutil.copytree(run / "exports", tmp_path / "exports")
    shutil.copytree(run / "out", tmp_path / "out")
    shutil.copy(run / "w.duckdb", tmp_path / "w.duckdb")
    return tmp_path / "exports", tmp_path / "w.duckdb"


def _shortlist(root: Path, school: str) -> pd.DataFrame:
    return pd.read_csv(root / "out" / school / "shortlist.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)


def test_each_school_gets_a_shortlist_at_capacity_with_every_column(first_run: Path) -> None:
    report = json.loads((first_run / "out" / "run.json").read_text())
    assert report["status"] == "ok"
    assert report["totals"]["rows_read"] == report["totals"]["rows_loaded"]
    for school, summary in report["schools"].items():
        shortlist = _shortlist(first_run, school)
        assert summary["places"] == max(5, -(-summary["pupils_on_roll"] * 5 // 100))
        # the free places' worth of new candidates (at least 5), those listed beside the places, pending referrals
        beside = shortlist["place_for"].str.startswith("beside the places, not taking one")
        assert summary["listed_beside_the_places"] == beside.sum()
        new_candidates = max(summary["free_places"], 5)
        listed = new_candidates + summary["listed_beside_the_places"] + summary["referrals_pending"]
        assert len(shortlist) == summary["shortlist"] == listed
        assert summary["free_places"] == max(
            0, summary["places"] - summary["current_mentees"] - summary["referrals_pending"]
        )
        assert not shortlist["in_intervention"].str.contains("Learning mentor").any()
        assert (first_run / "out" / school / "caseload.csv").exists()
        # scores are whole points: their quantiles are shown to two places, with no float noise (42.200000000000045)
        assert all(q == round(q, 2) for q in summary["score_distribution"]["quantiles"].values())
        assert set(SHORTLIST_COLUMNS) | {
            "as_of",
            "school",
            "school_name",
            "made_by_pipeline",
            "scorecard",
            "settings_fingerprint",
        } == set(shortlist.columns)
        assert shortlist["rank"].astype(int).tolist() == list(range(1, len(shortlist) + 1))
        new = shortlist[shortlist["place_for"] != "referred, pending"]
        assert new["score"].astype(int).is_monotonic_decreasing
        assert (first_run / "out" / school / "shortlist.csv").stat().st_mode & 0o777 == 0o600


def test_the_run_report_is_one_self_contained_page_without_pupil_names(first_run: Path) -> None:
    page = (first_run / "out" / "report.html").read_text(encoding="utf-8")
    for heading in ("What to do next", "Data-quality gate", "Files", "Attendance and persistent absence by week",
                    "Scores and shortlists", "Scorecard in use: scorecard-v7"):  # fmt: skip
        assert heading in page
    charts = re.findall(r"<svg.*?</svg>", page, flags=re.S)
    assert len(charts) >= 3  # two trend panels per school and the score distribution, inline
    assert "<img" not in page
    assert "School 127510: attendance" in "".join(charts)  # titles are text the browser sets
    assert "lowest listed" in charts[-1]  # the score chart comes last, one row per school
    assert "School 127510" in charts[-1]
    assert 'href="127510/shortlist.csv"' in page  # the next-steps box links each school's shortlist
    # The sample's warehouse holds a year of past nights with a known outcome, and v5 is an expert card: the box
    # and the console say that mentor fit could learn the trust's own card from them.
    report = json.loads((first_run / "out" / "run.json").read_text())
    assert report["history"] == {"nights": 18, "first_night": "2024-09-23", "last_night": "2025-07-09",
                                 "learned_until": None, "worth_fitting": True}  # fmt: skip
    box = page[page.index("What to do next") : page.index("Data-quality gate")]
    assert "Learn the trust&rsquo;s own scorecard" in box
    assert "18 past nights whose outcome is known (23 September 2024 to 9 July 2025)" in box
    assert "18 past nights whose outcome is known" in (first_run / "console.log").read_text(encoding="utf-8")
    assert "src=" not in page
    assert 'href="http' not in page
    words = set(re.findall(r"[\w'-]+", re.sub(r"<[^>]+>", " ", page)))
    shortlist = _shortlist(first_run, "127510")
    assert not words & set(shortlist["surname"])
    assert not words & set(shortlist["upn"])
    assert (first_run / "out" / "report.html").stat().st_mode & 0o777 == 0o600


@pytest.mark.skipif(
    shutil.which("chromium") is None, reason="Chromium is not installed (sudo apt-get install chromium)"
)
def test_the_run_report_renders_in_headless_chromium(first_run: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1300,3400",
         f"--screenshot={shot}", (first_run / "out" / "report.html").as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 50_000  # a page of tables and charts, not a blank one


def test_the_log_names_stages_and_counts_but_no_pupil(first_run: Path) -> None:
    log = (first_run / "console.log").read_text(encoding="utf-8")
    assert "stage: ingest" in log
    assert "stage: data-quality gate" in log
    assert "rows read" in log
    pupils = pd.concat(
        pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
        for path in (first_run / "out").glob("*/shortlist.csv")
    )
    words = set(log.replace(",", " ").replace(":", " ").split())
    assert not words & set(pupils["upn"])
    assert not words & (set(pupils["surname"]) | set(pupils["forename"])) - {"ok"}


def test_the_gate_leaves_data_docs_a_data_lead_can_open(first_run: Path) -> None:
    index = first_run / "out" / "data_docs" / "index.html"
    page = index.read_text(encoding="utf-8")
    for title in ("roll size within 10 percent of the last night the school was published",
                  "KS2 scaled scores are between 80 and 120"):  # fmt: skip
        assert title in page
    assert index.stat().st_mode & 0o777 == 0o600
    # Built in the worker thread (while the features run), every page and folder is owner-only all the same.
    docs = index.parent
    assert all(p.stat().st_mode & 0o777 == (0o700 if p.is_dir() else 0o600) for p in [docs, *docs.rglob("*")])


def test_the_data_docs_keep_every_nights_checks(first_run: Path, tmp_path: Path) -> None:
    for part in ("exports", "out"):
        shutil.copytree(first_run / part, tmp_path / part)
    shutil.copy(first_run / "w.duckdb", tmp_path / "w.duckdb")
    index = tmp_path / "out" / "data_docs" / "index.html"

    def nights() -> set[str]:
        return set(re.findall(r"as of \d{4}-\d\d-\d\d \(load [0-9a-f]{8}\)", index.read_text(encoding="utf-8")))

    before = nights()
    result = CliRunner().invoke(
        app, ["run", "--exports", str(tmp_path / "exports"), "--db", str(tmp_path / "w.duckdb"), "--out",
              str(tmp_path / "out")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    after = nights()
    assert before
    assert before < after
    assert len(after) == len(before) + 1
    results = tmp_path / "out" / "data_docs" / "results"
    assert all(p.stat().st_mode & 0o777 in (0o600, 0o700) for p in [results, *results.rglob("*")])


def test_every_rows_points_add_up_to_its_score(first_run: Path) -> None:
    for school in ("105854", "127510"):
        for row in _shortlist(first_run, school).itertuples():
            points = [int(reason.rsplit("(", 1)[1].rstrip(")")) for reason in row.reasons.split("; ")]
            assert sum(points) == int(row.score)


def test_a_night_made_again_compares_with_the_night_before_it_not_with_itself(first_run: Path, tmp_path: Path) -> None:
    """The change column says what changed since the night before: a cron retry, or a data lead running the night
    again, writes the same file (it said "same" for every pupil, with every "new" and "up 3" lost)."""
    exports, db = _copy_of(first_run, tmp_path)

    def night(out: str, *as_of: str) -> None:
        args = ["run", "--exports", str(exports), "--db", str(db), "--out", str(tmp_path / out), *as_of]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output

    night("earlier", "--as-of", "2025-11-06")
    night("out")
    first = _shortlist(tmp_path, "127510")
    night("out")
    again = _shortlist(tmp_path, "127510")
    pd.testing.assert_frame_equal(first, again)
    pending = first["place_for"] == "referred, pending"
    assert pending.any()
    assert set(first.loc[pending, "change_since_last_run"]) == {"still pending"}
    assert "same" in set(first.loc[~pending, "change_since_last_run"])


def test_a_school_failing_the_roll_check_keeps_its_last_good_shortlist_and_the_other_publishes(
    first_run: Path, tmp_path: Path
) -> None:
    exports, db = _copy_of(first_run, tmp_path)
    before = (tmp_path / "out" / "127510" / "shortlist.csv").read_bytes()
    pupils = exports / "127510" / "pupils.csv"
    # Half the roll has left on the same day: the roll check must stop publication for this school.
    frame = pd.read_csv(
        first_run / "exports" / "127510" / "pupils.csv", dtype=str, encoding="cp1252", keep_default_na=False
    )
    frame.loc[frame.index % 2 == 0, "Leaving Date"] = "01/10/2025"
    frame.to_csv(pupils, index=False, encoding="cp1252", lineterminator="\r\n")
    result = CliRunner().invoke(
        app, ["run", "--exports", str(exports), "--db", str(db), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 3
    report = json.loads((tmp_path / "out" / "run.json").read_text())
    assert report["held_back"] == ["127510"]
    reasons = report["school_status"]["127510"]["reasons"]
    assert reasons[0].startswith("data-quality check failed: roll size within 10% of the last night")
    assert re.search(r"\(tonight's roll is \d+\.\d% of that night's: if pupils really left", reasons[0]), reasons[0]
    assert reasons[0].endswith("raise roll_tolerance in the settings for one night to accept it)"), reasons[0]
    roll = next(c for c in report["checks"] if c["check"].startswith("roll size"))
    assert roll["schools_failed"] == ["127510"]
    assert (tmp_path / "out" / "127510" / "shortlist.csv").read_bytes() == before
    assert report["school_status"]["105854"]["status"] == "published"
    assert result.output.strip().splitlines()[-1].startswith("held back: school 127510: data-quality check failed")

    # The next night, with the roll as it was, the school publishes again: the bad roll was never recorded.
    shutil.copy(first_run / "exports" / "127510" / "pupils.csv", pupils)
    result = CliRunner().invoke(
        app, ["run", "--exports", str(exports), "--db", str(db), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output


def test_an_older_delivery_sent_again_after_a_published_one_is_refused_not_loaded(
    first_run: Path, tmp_path: Path
) -> None:
    exports, db = _copy_of(first_run, tmp_path)
    run = ["run", "--exports", str(exports), "--db", str(db), "--out", str(tmp_path / "out")]
    pupils = exports / "127510" / "pupils.csv"
    frame = pd.read_csv(pupils, dtype=str, encoding="cp1252", keep_default_na=False)
    leaver = frame.loc[0, "UPN"]
    frame.loc[0, "Leaving Date"] = "03/11/2025"  # Monday's export: the pupil left
    frame.to_csv(pupils, index=False, encoding="cp1252", lineterminator="\r\n")
    assert CliRunner().invoke(app, run).exit_code == 0

    def leaving_date() -> object:
        with duckdb.connect(str(db), read_only=True) as con:
            return con.execute("select leaving_date from pupils where upn = ?", [leaver]).fetchone()[0]  # type: ignore[index]

    assert leaving_date() == dt.date(2025, 11, 3)
    # Tuesday: Friday's files sent again by the transfer job. Loading them would put the leaver back on roll.
    shutil.copy(first_run / "exports" / "127510" / "pupils.csv", pupils)
    result = CliRunner().invoke(app, run)
    assert result.exit_code == 3, result.output
    report = json.loads((tmp_path / "out" / "run.json").read_text())
    assert report["held_back"] == ["127510"]
    failed = next(f for f in report["files"] if f["school"] == "127510" and f["file"] == "pupils.csv")
    assert failed["status"] == "failed"
    assert "same, byte for byte, as the delivery loaded on" in failed["notes"][0]
    assert leaving_date() == dt.date(2025, 11, 3)


def test_a_file_put_back_as_it_was_in_tonight_s_delivery_loads_as_a_correction(first_run: Path, tmp_path: Path) -> None:
    """Monday's pupils.csv recorded a leaving date by mistake; Tuesday's puts the file back as it was, beside
    Tuesday's new attendance.csv. The delivery is tonight's (its marks are new), so the file is a correction and loads,
    where it was refused as an old export sent again, and the school held back every night until the bytes changed."""
    exports, db = _copy_of(first_run, tmp_path)
    run = ["run", "--exports", str(exports), "--db", str(db), "--out", str(tmp_path / "out")]
    pupils, marks = exports / "127510" / "pupils.csv", exports / "127510" / "attendance.csv"
    frame = pd.read_csv(pupils, dtype=str, encoding="cp1252", keep_default_na=False)
    frame.loc[0, "Leaving Date"] = "03/11/2025"
    frame.to_csv(pupils, index=False, encoding="cp1252", lineterminator="\r\n")
    assert CliRunner().invoke(app, run).exit_code == 0
    shutil.copy(first_run / "exports" / "127510" / "pupils.csv", pupils)
    last_line = marks.read_bytes().rstrip(b"\r\n").rsplit(b"\n", 1)[1]
    marks.write_bytes(marks.read_bytes() + last_line + b"\n")  # new content (a line again, which loads once)
    result = CliRunner().invoke(app, run)
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(db), read_only=True) as con:
        upn = frame.loc[0, "UPN"]
        assert con.execute("select leaving_date from pupils where upn = ?", [upn]).fetchone() == (None,)


def test_a_second_run_while_one_holds_the_lock_exits_4(first_run: Path, tmp_path: Path) -> None:
    lock = tmp_path / "w.duckdb.lock"
    hold = (
        "import sys, time\nfrom pathlib import Path\nfrom pipeline.runlock import run_lock\n"
        "with run_lock(Path(sys.argv[1])):\n    print('held', flush=True)\n    time.sleep(30)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", hold, str(lock)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        result = CliRunner().invoke(
            app, ["run", "--exports", str(first_run / "exports"), "--db", str(tmp_path / "w.duckdb"), "--out",
                  str(tmp_path / "out")]
        )  # fmt: skip
        assert result.exit_code == 4
        assert not (tmp_path / "out").exists()
    finally:
        holder.terminate()
        holder.wait()


def test_a_missing_exports_folder_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["run", "--exports", str(tmp_path / "nope"), "--db", str(tmp_path / "w.duckdb"), "--out",
              str(tmp_path / "out")]
    )  # fmt: skip
    assert result.exit_code == 2
    assert "does not exist" in " ".join(result.output.split())
    assert json.loads((tmp_path / "out" / "run.json").read_text())["exit_code"] == 2


def test_explain_prints_a_points_table_that_adds_up(first_run: Path) -> None:
    top = _shortlist(first_run, "127510").iloc[0]
    result = CliRunner().invoke(app, ["explain", top["upn"], "--db", str(first_run / "w.duckdb")])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    points = [int(line.split()[0]) for line in lines[1:-1]]
    assert sum(points) == int(lines[-1].split()[0]) == int(top["score"])


def test_explain_with_another_card_than_the_one_that_scored_the_shortlist_says_so(
    first_run: Path, tmp_path: Path
) -> None:
    from pipeline.config import ROOT

    _, db = _copy_of(first_run, tmp_path)
    top = _shortlist(first_run, "127510").iloc[0]
    v3 = tmp_path / "v3.toml"
    v3.write_text(f'scorecard = "{ROOT / "models" / "scorecard-v3.yaml"}"\n', encoding="utf-8")
    # the nightly run scored with the default card; explained with v3's settings, the table is v3's
    result = CliRunner().invoke(app, ["explain", top["upn"], "--db", str(db), "--config", str(v3)])
    assert result.exit_code == 0, result.output
    assert "WARNING: the warehouse's last scores (those of the published shortlist) were made with another" in (
        " ".join(result.output.split())
    )
    same = CliRunner().invoke(app, ["explain", top["upn"], "--db", str(db)])
    assert "WARNING" not in same.output


def test_explain_words_a_primary_pupil_as_the_shortlist_does_and_gives_the_chance(first_run: Path) -> None:
    top = _shortlist(first_run, "105854").iloc[0]  # the primary
    result = CliRunner().invoke(app, ["explain", top["upn"], "--db", str(first_run / "w.duckdb")])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    gaps = [line for line in lines if "against target" in line or "since the last assessment" in line]
    assert gaps
    assert not any("grade" in line for line in gaps)  # steps on the BLW, PKS, WTS, EXS, GDS scale
    assert lines[-1].endswith(f"the chance of the outcome in the next half-term {top['band']})")


def test_explain_for_a_night_past_the_marks_warns_of_that_pupils_school_alone(first_run: Path) -> None:
    """A night a month after the exports end: every attendance figure reads as no data. The command says so
    (the run would hold the school back), naming the pupil's school and not the other."""
    top = _shortlist(first_run, "127510").iloc[0]
    night = (dt.date.fromisoformat(top["as_of"]) + dt.timedelta(days=30)).isoformat()
    result = CliRunner().invoke(app, ["explain", top["upn"], "--db", str(first_run / "w.duckdb"), "--as-of", night])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        f"warning: school 127510's attendance marks do not reach within 14 days of {night} (its latest mark 30 days "
        "before): its recent attendance reads as no data, and the nightly run would hold it back"
    )
    assert "105854" not in result.output
    latest = CliRunner().invoke(app, ["explain", top["upn"], "--db", str(first_run / "w.duckdb")])
    assert "warning" not in latest.output


def test_explain_shows_the_points_a_usual_pupil_has_on_a_card_that_records_them(first_run: Path) -> None:
    import dataclasses

    from pipeline.config import ROOT
    from pipeline.model import Scorecard

    card = Scorecard.load(ROOT / "models" / "scorecard-v3.yaml")
    year = dataclasses.replace(card.feature("attendance_rate_year"), usual_points=2)
    card = dataclasses.replace(card, features=tuple(year if f.name == year.name else f for f in card.features))
    (first_run / "usual.yaml").write_text(card.to_yaml(), encoding="utf-8")
    (first_run / "usual.toml").write_text(f'scorecard = "{(first_run / "usual.yaml").as_posix()}"\n', encoding="utf-8")
    top = _shortlist(first_run, "127510").iloc[0]
    result = CliRunner().invoke(
        app, ["explain", top["upn"], "--db", str(first_run / "w.duckdb"), "--config", str(first_run / "usual.toml")]
    )
    assert result.exit_code == 0, result.output
    assert "WARNING: the warehouse's last scores" in result.output  # the shortlist was scored with the default card
    lines = result.output.strip().splitlines()
    lines = lines[next(i for i, line in enumerate(lines) if " as of " in line) :]  # the table, after the warning
    usual = [line for line in lines if "(a usual pupil" in line]
    assert len(usual) == 1
    assert "Attendance this academic year: " in usual[0]
    assert usual[0].endswith("(a usual pupil +2)")
    assert sum(int(line.split()[0]) for line in lines[1:-1]) == int(lines[-1].split()[0])


def test_formula_text_in_a_name_stays_text_in_the_csv(tmp_path: Path) -> None:
    from pipeline.safe_csv import write_csv

    path = write_csv(
        pd.DataFrame({"forename": ['=HYPERLINK("http://x","y")', "+1", "@SUM(A1)", "Ann"]}), tmp_path / "x.csv"
    )
    with path.open(encoding="utf-8-sig", newline="") as handle:
        cells = [row[0] for row in csv.reader(handle)][1:]
    assert cells == ['\'=HYPERLINK("http://x","y")', "'+1", "'@SUM(A1)", "Ann"]
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert path.stat().st_mode & 0o777 == 0o600


def test_the_make_run_command_works_with_relative_paths_in_a_fresh_folder(
    sample_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `make run` does, on a temporary copy: relative paths, no warehouse yet, no outputs yet."""
    make_run = next(
        line
        for line in (Path(__file__).resolve().parents[2] / "Makefile").read_text().splitlines()
        if "mentor run" in line
    )
    assert "--exports $(SAMPLE) --db data/warehouse.duckdb --out out" in make_run
    shutil.copytree(sample_dir, tmp_path / "data" / "sample")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        app, ["run", "--exports", "data/sample", "--db", "data/warehouse.duckdb", "--out", "out"]
    )
    assert result.exit_code == 0, result.output
    # the free places' worth of new candidates (at least 5: current mentees fill most of the 31 places), those
    # listed beside the places, then the pending referrals: 8 + 2 + 0 in the primary, 5 + 2 + 6 in the secondary
    # (3 free places, 6 referrals pending)
    schools = json.loads((tmp_path / "out" / "run.json").read_text())["schools"]
    for school in ("105854", "127510"):
        listed = schools[school]
        assert listed["places"] - listed["current_mentees"] - listed["referrals_pending"] == listed["free_places"]
        expected = max(listed["free_places"], 5) + listed["listed_beside_the_places"] + listed["referrals_pending"]
        assert len(_shortlist(tmp_path, school)) == listed["shortlist"] == expected
    assert [len(_shortlist(tmp_path, school)) for school in ("105854", "127510")] == [10, 13]
    assert (tmp_path / "out" / "data_docs" / "index.html").exists()


def test_json_log_mode_writes_one_json_object_per_line(first_run: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["run", "--exports", str(first_run / "exports"), "--db", str(first_run / "w.duckdb"), "--out",
         str(first_run / "out")],
        env={"MENTOR_LOG_FORMAT": "json"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert any(r["message"] == "stage: ingest" for r in records)
    assert {"time", "level", "logger", "message"} <= set(records[0])
