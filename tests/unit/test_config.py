"""Settings files are read strictly: a value that cannot be honoured as written is refused, never changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from pipeline.cli import app
from pipeline.config import OUTCOME_COMPONENTS, Settings, SettingsError

WHOLE = ["capacity_minimum", "outcome_horizon_school_days"]
SHARES = ["capacity_share", "max_quarantined_share", "roll_tolerance", "outcome_persistent_absence"]


def _load(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return Settings.load(path)


@given(st.sampled_from(WHOLE), st.floats(0.01, 1000, allow_nan=False).filter(lambda v: not float(v).is_integer()))
def test_a_non_whole_number_for_a_whole_number_setting_is_refused(name: str, value: float) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.parse({name: value}, "s.toml")
    message = str(refused.value)
    assert message.startswith(f"s.toml: {name} = {value!r} is not allowed: it must be a whole number")
    assert message.count("\n") == 0


@given(st.sampled_from(WHOLE), st.integers(1, 10_000))
def test_a_whole_number_is_kept_exactly(name: str, value: int) -> None:
    assert getattr(Settings.parse({name: value}), name) == value


@given(st.sampled_from(SHARES), st.floats(allow_nan=False, allow_infinity=False).filter(lambda v: v > 1 or v < 0))
def test_a_share_outside_0_to_1_is_refused_with_what_is_allowed(name: str, value: float) -> None:
    with pytest.raises(
        SettingsError, match=rf"^s\.toml: {name} = .* is not allowed: it must be (at most 1|at least 0|more than 0)"
    ):
        Settings.parse({name: value}, "s.toml")


@given(st.sampled_from(SHARES), st.floats(0.001, 1))
def test_a_share_inside_its_range_is_kept_exactly(name: str, value: float) -> None:
    assert getattr(Settings.parse({name: value}), name) == value


@given(
    st.sampled_from([*WHOLE, *SHARES]),
    st.one_of(st.booleans(), st.text(max_size=5), st.lists(st.integers(), max_size=2)),
)
def test_a_value_of_the_wrong_kind_is_refused(name: str, value: object) -> None:
    with pytest.raises(SettingsError, match=rf"^s\.toml: {name} = .* is not allowed: it must be "):
        Settings.parse({name: value}, "s.toml")


@given(st.sampled_from(sorted(Settings.model_fields)), st.data())
def test_a_misspelt_setting_is_refused_with_the_right_name_suggested(name: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(name) - 1))
    typo = name[:position] + name[position + 1 :]  # one letter dropped
    if typo in Settings.model_fields:
        return
    with pytest.raises(SettingsError) as refused:
        Settings.parse({typo: 1}, "s.toml")
    assert f"{typo} is not a setting (did you mean " in str(refused.value)
    suggested = str(refused.value).split("did you mean ")[1].rstrip("?).")
    assert suggested in Settings.model_fields
    assert suggested == name or len(suggested) in (len(typo), len(typo) + 1)


def test_an_unknown_setting_unlike_any_lists_the_settings() -> None:
    with pytest.raises(SettingsError, match="xyzzy is not a setting \\(the settings are scorecard, capacity_share"):
        Settings.parse({"xyzzy": 1}, "s.toml")


@given(st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=3))
def test_an_outcome_must_name_known_components(names: list[str]) -> None:
    if set(names) <= set(OUTCOME_COMPONENTS):
        assert Settings.parse({"outcome": names}).outcome == tuple(names)
    else:
        with pytest.raises(SettingsError, match="is not one of persistent_absence, suspension, fell_below_target"):
            Settings.parse({"outcome": names}, "s.toml")


def test_an_empty_outcome_is_refused() -> None:
    with pytest.raises(SettingsError, match=r"outcome = \[\] is not allowed: it must be one or more of"):
        Settings.parse({"outcome": []}, "s.toml")


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ({"mentor_interventions": []}, 'mentor_interventions = [] is not allowed: it must be one or more names in '
         'square brackets, e.g. ["Learning mentor"]'),
        ({"mentor_interventions": "Learning mentor"}, 'mentor_interventions = "Learning mentor" is not allowed: it '
         'must be a list in square brackets, e.g. ["Learning mentor"]'),
        ({"mentor_interventions": [""]}, 'mentor_interventions = [""] is not allowed: it must be names of at least '
         'one character, e.g. ["Learning mentor"]'),
        ({"places": {"127510": 3}, "mentors": {"127510": 1}},
         "set places or mentors for a school, not both (schools 127510)"),
        ({"places": 3}, 'places = 3 is not allowed: it must be a table: a line [places], then one line per school, '
         'e.g. "127510" = 30'),
        ({"scorecard": 5}, "scorecard = 5 is not allowed: it must be a file path in quotes"),
    ],
)  # fmt: skip
def test_each_refusal_says_what_that_setting_allows_in_one_sentence(data: dict[str, object], said: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.parse(data, "s.toml")
    assert str(refused.value) == f"s.toml: {said}."


def test_the_examples_of_the_issue_are_refused_not_truncated(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"capacity_minimum = 5\.7 is not allowed: it must be a whole number"):
        _load(tmp_path, "capacity_minimum = 5.7\n")
    with pytest.raises(SettingsError, match=r"outcome_horizon_school_days = 30\.9 is not allowed"):
        _load(tmp_path, "outcome_horizon_school_days = 30.9\n")


def test_a_file_loads_with_a_path_relative_to_it_and_whole_numbers_for_numbers(tmp_path: Path) -> None:
    (tmp_path / "card.yaml").write_text("x", encoding="utf-8")
    settings = _load(tmp_path, 'scorecard = "card.yaml"\ncapacity_share = 1\ncapacity_minimum = 3\n')
    assert settings.scorecard == (tmp_path / "card.yaml").resolve()
    assert settings.capacity_share == 1.0
    assert settings.capacity_minimum == 3
    assert Settings.load(None) == Settings()


def test_the_fingerprint_follows_the_values_and_the_scorecard_content(tmp_path: Path) -> None:
    assert Settings().fingerprint() == Settings().fingerprint()
    assert Settings(capacity_minimum=6).fingerprint() != Settings().fingerprint()
    assert len(Settings().fingerprint()) == 12


def _run_with(config: Path) -> Result:
    """`mentor run` with ``config``, its exports, warehouse and output beside it (the settings are read first)."""
    folder = config.parent
    args = ["run", "--exports", str(folder), "--db", str(folder / "w.duckdb"), "--out", str(folder / "out")]
    return CliRunner().invoke(app, [*args, "--config", str(config)])


def test_the_command_line_refuses_a_bad_file_in_one_sentence_with_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_text("capacity_minimm = 5\n", encoding="utf-8")
    result = _run_with(config)
    assert result.exit_code == 2, result.output
    assert result.output.strip() == f"{config}: capacity_minimm is not a setting (did you mean capacity_minimum?)."
    assert not (tmp_path / "w.duckdb").exists()


def test_a_message_that_quotes_a_table_shows_its_brackets(tmp_path: Path) -> None:
    """The console's rich markup took "[places]" for a tag: "it must be a table: a line , then one line per school"."""
    config = tmp_path / "settings.toml"
    config.write_text("places = 5\n", encoding="utf-8")
    result = _run_with(config)
    assert result.exit_code == 2
    assert "it must be a table: a line [places], then one line per school" in result.output


def test_a_scorecard_setting_that_names_a_folder_is_bad_input(tmp_path: Path) -> None:
    """It stopped the run with "an unexpected error during starting: a file error (Is a directory)", exit 1."""
    config = tmp_path / "settings.toml"
    config.write_text(f'scorecard = "{tmp_path}"\n', encoding="utf-8")
    assert Settings.load(config).fingerprint() == Settings.load(config).fingerprint()
    result = _run_with(config)
    assert result.exit_code == 2, result.output
    assert f"cannot read scorecard {tmp_path}" in result.output


def test_check_refuses_a_scorecard_the_run_could_not_read(tmp_path: Path) -> None:
    """`mentor check --config` said the delivery would publish with a settings file whose scorecard is not there;
    the nightly run then stopped with exit 2."""
    config = tmp_path / "settings.toml"
    config.write_text('scorecard = "models/scorecard-v6.yaml"\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(tmp_path), "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert f"cannot read scorecard {tmp_path / 'models' / 'scorecard-v6.yaml'}" in result.output


def test_a_setting_written_under_a_table_of_schools_is_refused_not_read_as_a_school(tmp_path: Path) -> None:
    # settings.example.toml ends with [school_names]: a line added at the end belongs to that table in TOML
    with pytest.raises(SettingsError, match=r"barrier_places is written under \[school_names\], which holds schools"):
        _load(tmp_path, '[school_names]\n"105854" = "Oak Academy"\nbarrier_places = "uncovered"\n')
    with pytest.raises(SettingsError, match=r"caseload_per_mentor is written under \[mentors\]"):
        _load(tmp_path, '[mentors]\n"105854" = 2\ncaseload_per_mentor = 12\n')
    # every line so written is named at once (the pastoral guide's example had eight; the first alone was named)
    with pytest.raises(SettingsError, match=r"caseload_per_mentor, need_points are written under \[mentors\]"):
        _load(tmp_path, '[mentors]\n"105854" = 2\ncaseload_per_mentor = 12\nneed_points = 12\n')
    assert _load(tmp_path, '[places]\n"oak-academy" = 10\n').places == {"oak-academy": 10}  # read; the run warns
    assert _load(tmp_path, 'caseload_per_mentor = 12\n[mentors]\n"105854" = 2\n').caseload_per_mentor == 12


def test_a_settings_file_saved_with_a_byte_order_mark_loads_and_one_in_another_encoding_is_named(
    tmp_path: Path,
) -> None:
    path = tmp_path / "settings.toml"
    path.write_bytes("\ufeffshortlist_minimum = 3\n".encode())  # as Windows PowerShell saves UTF-8
    assert Settings.load(path).shortlist_minimum == 3
    path.write_bytes('[school_names]\n"105854" = "St Mary\u2019s"\n'.encode("cp1252"))
    with pytest.raises(SettingsError, match=r"it is not UTF-8 .*: save it as UTF-8"):
        Settings.load(path)
