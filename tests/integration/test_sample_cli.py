"""`mentor sample` end to end: determinism, the two MIS flavours, and the truth kept apart."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app

SMALL = ["--schools", "2", "--pupils-per-school", "60", "--years", "1"]


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _sample(out: Path, *args: str) -> None:
    result = CliRunner().invoke(app, ["sample", "--out", str(out), *args])
    assert result.exit_code == 0, result.output


def test_same_seed_gives_identical_files_and_another_seed_does_not(tmp_path: Path) -> None:
    _sample(tmp_path / "a", *SMALL, "--seed", "5")
    _sample(tmp_path / "b", *SMALL, "--seed", "5")
    _sample(tmp_path / "c", *SMALL, "--seed", "6")
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a-truth") == _digest(tmp_path / "b-truth")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_each_school_gets_every_export_file_and_the_truth_lives_apart(tmp_path: Path) -> None:
    _sample(tmp_path / "trust", *SMALL, "--schools", "3")
    schools = sorted(p for p in (tmp_path / "trust").iterdir())
    assert len(schools) == 3
    assert all(p.is_dir() and len(p.name) == 6 and p.name.isdigit() for p in schools)
    exports = {
        "pupils.csv",
        "attendance.csv",
        "assessments.csv",
        "behaviour.csv",
        "exclusions.csv",
        "interventions.csv",
    }
    with_decisions = 0
    for school in schools:
        names = {p.name for p in school.iterdir()}
        assert names - {"decisions.csv"} == exports
        with_decisions += "decisions.csv" in names
    assert with_decisions == 1  # the secondary school's staff decisions (schools alternate primary, secondary)
    truth = tmp_path / "trust-truth"
    assert {p.name for p in truth.iterdir()} == {"README.txt", "outcomes.csv", "mentoring_effect.json"}


def test_sims_flavour_is_windows_1252_with_crlf_and_arbor_is_utf8_with_bom(tmp_path: Path) -> None:
    _sample(tmp_path / "trust", *SMALL)
    kinds = {}
    for school in (tmp_path / "trust").iterdir():
        raw = (school / "pupils.csv").read_bytes()
        kinds["arbor" if raw.startswith(b"\xef\xbb\xbf") else "sims"] = raw
    assert set(kinds) == {"arbor", "sims"}
    assert kinds["sims"].startswith(b"UPN,Adno,Legal Surname,Legal Forename,DOB,Gender,Year,Reg,")
    assert kinds["sims"].count(b"\r\n") == kinds["sims"].count(b"\n")
    assert b"\r\n" not in kinds["arbor"]
    kinds["sims"].decode("cp1252")
    assert kinds["arbor"][3:].decode("utf-8").startswith("upn,mis_id,surname,forename,date_of_birth,")


def test_regenerating_keeps_unrelated_files_and_replaces_schools(tmp_path: Path) -> None:
    out = tmp_path / "trust"
    _sample(out, *SMALL, "--seed", "1")
    (out / "notes.txt").write_text("kept")
    _sample(out, *SMALL, "--seed", "2", "--schools", "1")
    assert (out / "notes.txt").read_text() == "kept"
    assert len([p for p in out.iterdir() if p.is_dir()]) == 1


@pytest.mark.slow
def test_the_committed_sample_is_what_the_generator_writes(tmp_path: Path, sample_dir: Path) -> None:
    _sample(tmp_path / "sample")
    assert _digest(tmp_path / "sample") == _digest(sample_dir)


def test_every_command_has_help_and_python_m_pipeline_works() -> None:
    runner = CliRunner()
    top = runner.invoke(app, ["--help"])
    assert top.exit_code == 0
    assert "Exit codes" in top.output
    commands = [c.name or c.callback.__name__ for c in app.registered_commands if c.callback is not None]
    assert "sample" in commands
    for command in commands:
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0, command
        assert "Usage" in result.output
    module = subprocess.run([sys.executable, "-m", "pipeline", "--help"], capture_output=True, text=True, check=False)
    assert module.returncode == 0
    assert "sample" in module.stdout


def test_bad_arguments_exit_with_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["sample", "--out", str(tmp_path), "--pupils-per-school", "3"])
    assert result.exit_code == 2


def _lines(path: Path, encoding: str = "cp1252") -> list[str]:
    return path.read_text(encoding=encoding).splitlines()


def test_a_trust_with_varied_needs_has_a_behaviour_school_and_leaves_the_typical_one_as_it_was(tmp_path: Path) -> None:
    _sample(tmp_path / "plain", *SMALL, "--seed", "5")
    _sample(tmp_path / "varied", *SMALL, "--seed", "5", "--varied-needs")
    plain, varied = sorted((tmp_path / "plain").iterdir()), sorted((tmp_path / "varied").iterdir())
    assert [p.name for p in plain] == [p.name for p in varied]
    for before, after in zip(plain, varied, strict=True):
        secondary = (before / "decisions.csv").exists()
        same = _digest(before) == _digest(after)
        # the first school (primary) is typical in both; the second (secondary) has mostly behaviour needs
        assert same != secondary
        if secondary:
            assert len(_lines(after / "behaviour.csv")) > 2 * len(_lines(before / "behaviour.csv"))
            decisions = _lines(after / "decisions.csv")
            assert decisions[0] == "UPN,Date,Decision,Review Date"
            assert {line.split(",")[2] for line in decisions[1:]} <= {
                "Referred", "Declined", "Not now", "Supported elsewhere",
            }  # fmt: skip
