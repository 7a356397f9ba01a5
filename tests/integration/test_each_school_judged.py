"""`mentor run` judges each school on its own: a school with a missing, empty or broken delivery is held back (its
last good shortlist stays, byte for byte, marked stale), the other schools publish, and the exit code says so.

A tiny trust of two schools (40 pupils each, one year) is published for an earlier night; each test then runs the
latest night on a copy with one thing broken.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner, Result

from pipeline.cli import app
from pipeline.config import Settings
from pipeline.retention import TABLES_WITH_SCHOOL_ROWS
from pipeline.run import run_pipeline
from pipeline.sample import SampleSpec, generate_trust
from pipeline.upn import make_upn

pytestmark = pytest.mark.slow

END = dt.date(2025, 11, 7)
FIRST_NIGHT = "2025-10-17"
"""The night published before each test's run (a Friday three weeks before the exports end)."""


@dataclass(frozen=True)
class Trust:
    root: Path
    good: str
    bad: str

    @property
    def exports(self) -> Path:
        return self.root / "exports"

    @property
    def out(self) -> Path:
        return self.root / "out"

    def shortlist(self, school: str) -> bytes:
        return (self.out / school / "shortlist.csv").read_bytes()

    def run(self) -> Result:
        return _run(self.root)

    def report(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.out / "run.json").read_text(encoding="utf-8"))
        return data


def _run(root: Path, *more: str) -> Result:
    return CliRunner().invoke(
        app, ["run", "--exports", str(root / "exports"), "--db", str(root / "w.duckdb"), "--out", str(root / "out"),
              *more],
    )  # fmt: skip


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two schools' exports to 7 November; shortlists published for 17 October."""
    root = tmp_path_factory.mktemp("trust")
    generate_trust(SampleSpec(seed=7, schools=2, pupils_per_school=40, years=1, end_date=END), root / "exports",
                   root / "truth")  # fmt: skip
    result = _run(root, "--as-of", FIRST_NIGHT)
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def trust(published: Path, tmp_path: Path) -> Trust:
    for part in ("exports", "out"):
        shutil.copytree(published / part, tmp_path / part)
    shutil.copy(published / "w.duckdb", tmp_path / "w.duckdb")
    good, bad = sorted(p.name for p in (tmp_path / "exports").iterdir())
    return Trust(tmp_path, good, bad)


def _night_of(trust: Trust, school: str) -> str:
    return trust.shortlist(school).decode("utf-8-sig").splitlines()[1].split(",")[0]


def _assert_held_back(trust: Trust, result: Result, before: bytes, *reason_words: str) -> dict[str, Any]:
    """The bad school kept its shortlist byte for byte, marked stale; the good one published the latest night."""
    assert result.exit_code == 3, result.output
    assert trust.shortlist(trust.bad) == before
    report = trust.report()
    assert report["exit_code"] == 3
    assert report["held_back"] == [trust.bad]
    status = report["school_status"]
    assert status[trust.bad]["status"] == "held back"
    assert status[trust.bad]["stale"] is True
    assert status[trust.bad]["shortlist_as_of"] == FIRST_NIGHT
    assert status[trust.good] == {**status[trust.good], "status": "published", "stale": False}
    assert _night_of(trust, trust.good) == str(END) == report["as_of"]
    assert set(report["schools"]) == {trust.good}
    reasons = " ".join(status[trust.bad]["reasons"])
    for word in reason_words:
        assert word in reasons
    # The console's last line names the held-back school and why, in plain words.
    last = result.output.strip().splitlines()[-1]
    assert last.startswith(f"held back: school {trust.bad}: ")
    assert all(word in last for word in reason_words)
    page = (trust.out / "report.html").read_text(encoding="utf-8")
    start = page.index("Schools held back")
    held = page[start : page.index("</ul>", start)]
    assert f"School {trust.bad}: " in held
    assert f"Its shortlist is stale: the last good one, for {FIRST_NIGHT}, stays" in held
    assert f"School {trust.good}: " not in held
    return report


def test_a_school_missing_a_required_file_is_held_back_and_the_other_publishes(trust: Trust) -> None:
    before = trust.shortlist(trust.bad)
    (trust.exports / trust.bad / "attendance.csv").unlink()
    report = _assert_held_back(trust, trust.run(), before, "attendance.csv", "missing")
    files = next(c for c in report["checks"] if c["check"].startswith("every file delivered was read"))
    assert (files["passed"], files["schools_failed"]) == (False, [trust.bad])


def test_a_school_whose_folder_is_missing_tonight_is_held_back_not_fine(trust: Trust) -> None:
    before = trust.shortlist(trust.bad)
    shutil.rmtree(trust.exports / trust.bad)
    _assert_held_back(trust, trust.run(), before, "no folder")


def test_a_pupils_csv_that_lost_its_rows_holds_its_school_back(trust: Trust) -> None:
    before = trust.shortlist(trust.bad)
    pupils = trust.exports / trust.bad / "pupils.csv"
    pupils.write_text(pupils.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")  # the header only
    _assert_held_back(trust, trust.run(), before, "lists pupils", "no pupil in it")


def test_a_pupils_csv_listing_under_half_the_roll_is_warned_of_and_the_school_publishes(trust: Trust) -> None:
    pupils = trust.exports / trust.bad / "pupils.csv"
    lines = pupils.read_text(encoding="utf-8").splitlines()
    pupils.write_text("\n".join(lines[: len(lines) // 3]) + "\n", encoding="utf-8")  # a third of the pupils: a delta?
    result = trust.run()
    assert result.exit_code == 0, result.output
    warned = f"lists at least 50% of the pupils on roll: not met (a warning: the schools publish): school {trust.bad}"
    assert warned in result.output


def test_a_temporary_upn_replaced_by_a_permanent_one_is_warned_of_as_one_child_twice(trust: Trust) -> None:
    pupils = trust.exports / trust.bad / "pupils.csv"
    lines = pupils.read_text(encoding="utf-8").splitlines()
    header = lines[0].lstrip("\ufeff").split(",")
    upn, number = header.index("upn"), header.index("mis_id")
    first = lines[1].split(",")
    temporary = make_upn(801, 4000, 14, "01A")  # the record the school had under a temporary UPN
    pupils.write_text("\n".join([lines[0], ",".join([*first[:upn], temporary, *first[upn + 1 :]]), *lines[2:]])
                      + "\n", encoding="utf-8")  # fmt: skip
    assert trust.run().exit_code == 0
    # The MIS now exports the permanent UPN (a new export: CRLF line ends, not the bytes of the fixture's first one)
    pupils.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    result = trust.run()
    assert result.exit_code == 0, result.output  # a warning: the school publishes
    assert first[number]  # the sample gives every pupil an MIS number
    assert f"has an MIS number (Adno) of their own: not met (a warning: the schools publish): school {trust.bad}" in (
        result.output
    )


def test_an_implausible_date_of_birth_holds_back_that_school_at_most(trust: Trust) -> None:
    """A DOB of 1900 for a pupil with a reading age: ingest may blank it (the school publishes); if it does not,
    the feature contract fails for that school alone. Either way the other school publishes and nothing crashes."""
    pupils = trust.exports / trust.bad / "pupils.csv"
    raw = pupils.read_bytes()
    reading = {line.split(b",")[0] for line in (trust.exports / trust.bad / "assessments.csv").read_bytes().splitlines()
               if b"reading_age" in line}  # fmt: skip
    lines = raw.splitlines(keepends=True)
    header = lines[0].decode("utf-8-sig").lower().split(",")
    dob = next(i for i, name in enumerate(header) if name.strip() in ("dob", "date_of_birth", "date of birth"))
    row = next(i for i, line in enumerate(lines[1:], 1) if line.split(b",")[0] in reading)
    fields = lines[row].split(b",")
    fields[dob] = b"1900-01-01" if b"-" in fields[dob] else b"01/01/1900"
    lines[row] = b",".join(fields)
    before = trust.shortlist(trust.bad)
    pupils.write_bytes(b"".join(lines))

    result = trust.run()

    report = trust.report()
    assert _night_of(trust, trust.good) == str(END)
    assert report["school_status"][trust.good]["status"] == "published"
    if result.exit_code == 3:
        _assert_held_back(trust, result, before, "date of birth")
    else:
        assert result.exit_code == 0, result.output
        assert _night_of(trust, trust.bad) == str(END)


def test_a_file_of_broken_lines_holds_its_school_back_again_when_it_comes_again_unchanged(trust: Trust) -> None:
    """A tenth of behaviour.csv's lines have a field too many: each is quarantined and the school is held back. The
    same bytes delivered the next night were passed over as "unchanged" (those lines are in no table), so the gate
    saw nothing quarantined and the school published on a file it had refused the night before."""
    behaviour = trust.exports / trust.bad / "behaviour.csv"
    lines = behaviour.read_bytes().splitlines(keepends=True)
    broken = list(range(1, len(lines), 10))
    for i in broken:
        lines[i] = lines[i].rstrip(b"\r\n") + b",extra\n"
    behaviour.write_bytes(b"".join(lines))
    before = trust.shortlist(trust.bad)
    for _night in range(2):
        report = _assert_held_back(trust, trust.run(), before, "quarantined")
        share = next(c for c in report["checks"] if c["check"].startswith("no file has more than"))
        assert (share["passed"], share["schools_failed"]) == (False, [trust.bad])
        read = next(f for f in report["files"] if f["school"] == trust.bad and f["file"] == "behaviour.csv")
        shown = f"({read['rows_quarantined'] / read['rows_read']:.1%} of a file's rows)"  # it read (0.0998...)
        assert any(reason.endswith(shown) for reason in report["school_status"][trust.bad]["reasons"])
        quarantine = (trust.out / "quarantine.csv").read_text(encoding="utf-8-sig").splitlines()[1:]
        listed = sorted(int(row.split(",")[2]) for row in quarantine if ",behaviour.csv," in row)
        assert listed == [i + 1 for i in broken]  # line numbers count the header as line 1


def test_a_line_of_decisions_csv_staff_mistyped_is_set_aside_and_the_school_publishes(trust: Trust) -> None:
    """decisions.csv is written by hand: one line in two with a word the pipeline does not know is set aside and
    listed, and the school publishes with the other line used. It was held back by the gate's 5% share, a test of
    an MIS export, so one typo in a short file kept a whole school's list from being published."""
    upn = (trust.exports / trust.bad / "pupils.csv").read_text(encoding="utf-8-sig").splitlines()[1].split(",")[0]
    decisions = f"upn,date,decision\n{upn},2025-11-03,referred\n{upn},2025-11-04,maybe\n"
    (trust.exports / trust.bad / "decisions.csv").write_text(decisions, encoding="utf-8")
    result = trust.run()
    assert result.exit_code == 0, result.output
    report = trust.report()
    assert report["held_back"] == []
    assert _night_of(trust, trust.bad) == str(END)
    staff = next(c for c in report["checks"] if c["check"].startswith("every line of the files staff write"))
    assert (staff["passed"], staff["blocking"], staff["schools_failed"]) == (False, False, [trust.bad])
    assert f"school {trust.bad} (1 line set aside, listed in quarantine.csv)" in result.output
    quarantine = (trust.out / "quarantine.csv").read_text(encoding="utf-8-sig").splitlines()[1:]
    assert [row.split(",")[:3] for row in quarantine] == [[trust.bad, "decisions.csv", "3"]]


def test_a_decisions_csv_that_cannot_be_read_is_warned_of_and_the_school_publishes(trust: Trust) -> None:
    """Staff saved their decisions without the header row: the file fails. The decisions read before stay in use;
    tonight's lists publish, with a warning, rather than the whole school's lists going stale over the staff's file."""
    upn = (trust.exports / trust.bad / "pupils.csv").read_text(encoding="utf-8-sig").splitlines()[1].split(",")[0]
    (trust.exports / trust.bad / "decisions.csv").write_text(f"{upn},2025-11-03,declined\n", encoding="utf-8")
    result = trust.run()
    assert result.exit_code == 0, result.output
    report = trust.report()
    assert report["held_back"] == []
    assert _night_of(trust, trust.bad) == str(END)
    warning = f"{trust.bad}: decisions.csv could not be read ("
    assert warning in result.output
    assert any(note.startswith(warning) for note in report["notes"])
    files = next(c for c in report["checks"] if c["check"].startswith("every file delivered was read"))
    assert files["passed"]
    # report.html's "What to do next" says so: it listed one set-aside line of another school and not this
    page = (trust.out / "report.html").read_text(encoding="utf-8")
    box = page[page.index("What to do next") : page.index("Data-quality gate")]
    assert f"School {trust.bad}: decisions.csv could not be read, so the decisions written in it" in box


def test_a_school_folder_named_otherwise_is_held_back_and_the_console_says_an_entry_was_not_read(
    trust: Trust,
) -> None:
    """A folder named "<URN> Oak Academy" is not a school folder: it is not read, the school it holds is held back
    (expected, with no folder tonight), and the console counts the entry not read (the note naming it was in
    run.json alone); report.html names it under its files."""
    before = trust.shortlist(trust.bad)
    (trust.exports / trust.bad).rename(trust.exports / f"{trust.bad} Oak Academy")
    result = trust.run()
    _assert_held_back(trust, result, before, "no folder")
    assert "ingest: 1 entry of the exports folder not read (not a school folder, a link)" in result.output
    assert "Oak Academy" not in result.output  # counted, not named
    page = (trust.out / "report.html").read_text(encoding="utf-8")
    assert f"ignored {trust.bad} Oak Academy: not a school folder" in page


def test_settings_for_a_mistyped_urn_are_named_in_the_console_run_json_and_report(trust: Trust) -> None:
    """Places set for "1" + a URN (a slip of the keyboard) reach no school: the real school is on the default
    places, and the run says so rather than publishing as if the setting had been honoured."""
    typo = "1" + trust.good
    config = trust.root / "settings.toml"
    config.write_text(f'[places]\n"{typo}" = 9\n[school_names]\n"{trust.bad}" = "Oak"\n', encoding="utf-8")
    result = _run(trust.root, "--config", str(config))
    assert result.exit_code == 0, result.output
    said = f"settings [places] names {typo}, which no delivery has brought, so no school here gets what is set there"
    assert said in result.output
    assert [note for note in trust.report()["notes"] if note.startswith("settings ")] == [
        f"{said}: check each against the school folders' names"
    ]
    assert said in (trust.out / "report.html").read_text(encoding="utf-8")


def test_an_empty_delivery_never_exits_0(trust: Trust) -> None:
    before = {school: trust.shortlist(school) for school in (trust.good, trust.bad)}
    for school in before:
        shutil.rmtree(trust.exports / school)
    result = trust.run()
    assert result.exit_code == 3, result.output
    assert {school: trust.shortlist(school) for school in before} == before
    report = trust.report()
    assert report["held_back"] == sorted(before)
    assert report["status"].startswith("held back every school")
    assert all(f"held back: school {school}: " in result.output for school in before)


def test_an_empty_delivery_to_a_new_warehouse_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "exports").mkdir()
    result = _run(tmp_path)
    assert result.exit_code == 2, result.output
    report = json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))
    assert report["exit_code"] == 2
    assert "no school" in report["status"]


def test_an_unexpected_error_writes_run_json_and_one_sentence_the_traceback_goes_to_the_log(trust: Trust) -> None:
    """The good school's shortlist path is a folder, so publishing it fails (as a read-only folder would)."""
    target = trust.out / trust.good / "shortlist.csv"
    target.unlink()
    target.mkdir()
    result = _run(trust.root, "--quiet")
    assert result.exit_code == 1, result.output
    report = trust.report()
    assert report["exit_code"] == 1
    assert report["status"].startswith("failed: ")
    assert "features, score and shortlists" in report["error"]
    assert str(trust.out / "mentor.log") in report["error"]
    assert "Traceback" not in result.output
    # one sentence for the error (warnings aside: this trust's marks end long before today's date)
    assert len([line for line in result.output.strip().splitlines() if " WARNING " not in line]) == 1
    log = (trust.out / "mentor.log").read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in log
    assert (trust.out / "mentor.log").stat().st_mode & 0o777 == 0o600


def test_an_output_folder_that_cannot_be_written_is_one_sentence_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "exports").mkdir()
    (tmp_path / "out").write_text("a file where the output folder should be", encoding="utf-8")
    result = _run(tmp_path, "--quiet")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "run.json could not be written" in result.output


def test_a_corrupt_warehouse_is_an_unexpected_error_with_run_json(tmp_path: Path, published: Path) -> None:
    shutil.copytree(published / "exports", tmp_path / "exports")
    (tmp_path / "w.duckdb").write_bytes(b"this is not a DuckDB file" * 1000)
    result = _run(tmp_path)
    assert result.exit_code == 1, result.output
    report = json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))
    assert report["exit_code"] == 1
    assert report["error"] in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("problem", ["settings", "exports", "warehouse"])
def test_bad_input_exits_2_with_run_json(tmp_path: Path, problem: str) -> None:
    if problem == "settings":
        (tmp_path / "exports").mkdir()
        (tmp_path / "bad.toml").write_text("capacity_share = 'lots'\n", encoding="utf-8")
        result = _run(tmp_path, "--config", str(tmp_path / "bad.toml"))
    elif problem == "warehouse":  # --db (or MENTOR_DB) naming a folder: it was exit 1, "IOException"
        (tmp_path / "exports").mkdir()
        (tmp_path / "w.duckdb").mkdir()
        result = _run(tmp_path)
        assert "is a folder: give the warehouse file's path" in result.output
        for stage in (
            ["features"],
            ["ingest", "--exports", str(tmp_path / "exports")],
            ["purge", "--before", "2020-01-01"],
        ):
            alone = CliRunner().invoke(app, [*stage, "--db", str(tmp_path / "w.duckdb")])
            assert alone.exit_code == 2, alone.output
            assert "is a folder: give the warehouse file's path" in alone.output
    else:
        result = _run(tmp_path)  # no exports folder at all
    assert result.exit_code == 2, result.output
    report = json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))
    assert report["exit_code"] == 2
    assert report["status"].startswith("bad input: ")
    assert report["error"] in " ".join(result.output.split())


def test_a_school_whose_attendance_stopped_weeks_ago_is_held_back_on_a_first_run(
    published: Path, tmp_path: Path
) -> None:
    """The bad school's attendance export stopped on 17 October (three weeks before the night): no shortlist for it,
    not a list built on three-week-old attendance; the other school publishes."""
    shutil.copytree(published / "exports", tmp_path / "exports")
    good, bad = sorted(p.name for p in (tmp_path / "exports").iterdir())
    attendance = tmp_path / "exports" / bad / "attendance.csv"
    lines = attendance.read_bytes().splitlines(keepends=True)

    def day(line: bytes) -> dt.date:
        text = line.split(b",")[1].decode("ascii")
        return dt.date.fromisoformat(text) if "-" in text else dt.datetime.strptime(text, "%d/%m/%Y").date()

    attendance.write_bytes(b"".join([lines[0], *(line for line in lines[1:] if day(line) <= dt.date(2025, 10, 17))]))
    result = _run(tmp_path)
    assert result.exit_code == 3, result.output
    report = json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))
    assert report["held_back"] == [bad]
    assert "attendance marks reach within 14 days of the night (its latest mark 21 days before)" in " ".join(
        report["school_status"][bad]["reasons"]
    )
    assert report["school_status"][bad]["shortlist"] is None
    assert not (tmp_path / "out" / bad / "shortlist.csv").exists()
    assert (tmp_path / "out" / good / "shortlist.csv").exists()
    assert result.output.strip().splitlines()[-1].endswith("; no shortlist")


def test_a_trust_whose_exports_all_stopped_weeks_ago_is_warned_of(trust: Trust) -> None:
    # Every school's marks end on 7 November; the job runs on 10 December with the same files (the export stopped).
    result = run_pipeline(trust.exports, trust.root / "w.duckdb", trust.out, Settings(), today=dt.date(2025, 12, 10))
    assert result.exit_code == 0  # lists published for 7 November, the night the data reaches
    note = "the latest attendance mark of any school is 33 days before today (7 November 2025)"
    assert any(n.startswith(note) for n in trust.report()["notes"])
    assert note in (trust.out / "report.html").read_text(encoding="utf-8")
    # Within three weeks (a holiday), nothing is said.
    run_pipeline(trust.exports, trust.root / "w.duckdb", trust.out, Settings(), today=dt.date(2025, 11, 20))
    assert not any("latest attendance mark of any school" in n for n in trust.report()["notes"])


def test_a_school_that_left_the_trust_is_removed_whole_and_no_longer_expected(trust: Trust) -> None:
    shutil.rmtree(trust.exports / trust.bad)  # the school has left: its folder comes no more
    assert trust.run().exit_code == 3
    db = str(trust.root / "w.duckdb")
    assert (trust.out / trust.bad / "shortlist.csv").is_file()  # its last lists: names, UPNs, context
    removed = CliRunner().invoke(app, ["purge", "--db", db, "--school", trust.bad, "--out", str(trust.out)])
    assert removed.exit_code == 0, removed.output
    assert f"removed school {trust.bad}" in removed.output
    assert not (trust.out / trust.bad).exists()  # they stayed in the output folder for good
    assert (trust.out / trust.good / "shortlist.csv").is_file()
    with duckdb.connect(db, read_only=True) as con:
        tables = [t for (t,) in con.execute(TABLES_WITH_SCHOOL_ROWS).fetchall()]
        left = {t: con.execute(f'select count(*) from "{t}" where school_id = ?', [trust.bad]).fetchone()[0]  # type: ignore[index]
                for t in tables}  # fmt: skip
    assert "pupils" in tables
    assert set(left.values()) == {0}
    result = trust.run()
    assert result.exit_code == 0, result.output  # the other school alone is expected now
    assert CliRunner().invoke(app, ["purge", "--db", db, "--school", trust.bad]).exit_code == 2  # nothing to remove
    assert CliRunner().invoke(app, ["purge", "--db", db]).exit_code == 2  # neither --before nor --school
    refused = CliRunner().invoke(app, ["purge", "--db", db, "--school", "..", "--out", str(trust.out / "x")])
    assert refused.exit_code == 2
    assert trust.out.is_dir()


def test_an_earlier_night_reproduced_into_the_live_folder_is_refused_and_the_lists_stay(trust: Trust) -> None:
    assert trust.run().exit_code == 0  # the lists staff have: the latest night's
    live = {school: trust.shortlist(school) for school in (trust.good, trust.bad)}
    result = _run(trust.root, "--as-of", FIRST_NIGHT)
    assert result.exit_code == 2, result.output
    assert f"holds shortlists for a later night than --as-of {FIRST_NIGHT}" in trust.report()["error"]
    assert {school: trust.shortlist(school) for school in live} == live
    elsewhere = _run(trust.root, "--as-of", FIRST_NIGHT, "--out", str(trust.root / "reproduced"))
    assert elsewhere.exit_code == 0, elsewhere.output


def test_a_night_s_file_saved_under_another_name_or_with_its_dates_unreadable_is_warned_of(trust: Trust) -> None:
    """Tonight's attendance saved as "attendance (1).csv" beside last night's is not read: the console says a file
    named like attendance.csv was not read (counted, not named). A pupils.csv whose dates of birth were all saved
    with two-digit years loads with them blanked, and the console says so."""
    folder = trust.exports / trust.bad
    shutil.copy(folder / "attendance.csv", folder / "attendance (1).csv")
    pupils = (folder / "pupils.csv").read_text(encoding="utf-8-sig").splitlines()
    dob = pupils[0].split(",").index("date_of_birth")

    def two_digit_year(line: str) -> str:
        fields = line.split(",")
        year, month, day = fields[dob].split("-")
        fields[dob] = f"{day}/{month}/{year[2:]}"
        return ",".join(fields)

    (folder / "pupils.csv").write_text("\n".join([pupils[0], *map(two_digit_year, pupils[1:])]) + "\n")
    result = trust.run()
    assert result.exit_code == 0, result.output
    assert f"school {trust.bad}: 1 file(s) named like attendance.csv not read" in result.output
    assert "attendance (1).csv" not in result.output
    said = f"school {trust.bad}: pupils.csv: {len(pupils) - 1} values blanked in {len(pupils) - 1} lines"
    assert said in result.output
    assert any(note.startswith(said) for note in trust.report()["notes"])


def test_a_delivery_without_a_column_delivered_before_is_warned_of(trust: Trust) -> None:
    """A school's export changed (a CTF in place of its CSV files): values known before became unknown with exit 0
    and a note in run.json alone."""
    assert trust.run().exit_code == 0
    path = trust.exports / trust.bad / "pupils.csv"
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
    rows = list(csv.reader(io.StringIO(text)))
    drop = next(
        i for i, name in enumerate(rows[0]) if name.lower().startswith("pupil premium") or name == "pupil_premium"
    )
    kept = [[v for i, v in enumerate(row) if i != drop] for row in rows]
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(kept)
    result = trust.run()
    assert result.exit_code == 0, result.output
    said = f"school {trust.bad}: pupils.csv has no pupil_premium ("
    assert said in result.output
    assert any(note.startswith(said) for note in trust.report()["notes"])
