"""`mentor fit`, `mentor evaluate` and `mentor audit` on the sample: reproducible files, all five models, groups."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.evaluate.compare import MODELS, PUBLISHED
from pipeline.model import PointsScorecard, Scorecard
from pipeline.warehouse import connect

pytestmark = pytest.mark.slow


def _mentor(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def warehouse(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fit")
    shutil.copytree(sample_dir, root / "exports")
    _mentor("run", "--exports", str(root / "exports"), "--db", str(root / "w.duckdb"), "--out", str(root / "out"))
    return root


def test_fitting_twice_on_the_same_data_writes_the_same_files_byte_for_byte(warehouse: Path) -> None:
    db = str(warehouse / "w.duckdb")
    for folder in ("a", "b"):
        told = _mentor("fit", "--db", db, "--out", str(warehouse / folder / "scorecard-learned.yaml"))
        assert "evaluation window 1 of " in told  # a line per window while the models fit (a spinner on a terminal)
    for name in ("scorecard-learned.yaml", "scorecard-learned.md"):
        assert (warehouse / "a" / name).read_bytes() == (warehouse / "b" / name).read_bytes()
    card = Scorecard.load(warehouse / "a" / "scorecard-learned.yaml")
    assert card.kind == "learned"
    assert card.name == "scorecard-learned"
    assert [row["model"] for row in card.extra["evaluation"]] == list(MODELS)
    model_card = (warehouse / "a" / "scorecard-learned.md").read_text()
    assert "## Rolling-origin evaluation" in model_card
    assert "## Known limits" in model_card


def test_a_released_file_is_never_overwritten(warehouse: Path) -> None:
    target = warehouse / "a" / "scorecard-learned.yaml"
    if not target.exists():
        _mentor("fit", "--db", str(warehouse / "w.duckdb"), "--out", str(target))
    before = target.read_bytes()
    result = CliRunner().invoke(app, ["fit", "--db", str(warehouse / "w.duckdb"), "--out", str(target)])
    assert result.exit_code == 2
    assert "never edited" in result.output
    assert target.read_bytes() == before


def test_keeping_the_points_refits_only_the_chance_curve(warehouse: Path) -> None:
    from pipeline.config import Settings
    from pipeline.evaluate.release import evaluation_data

    target = warehouse / "kept" / "v3-chances.yaml"
    _mentor("fit", "--db", str(warehouse / "w.duckdb"), "--out", str(target), "--keep-points")
    kept, released = Scorecard.load(target), Scorecard.load(Settings().scorecard)
    assert kept.features == released.features  # the same points, bands and words: the same ranking
    assert kept.score_bands == released.score_bands
    assert kept.kind == "expert"
    assert kept.name == "v3-chances"
    assert kept.description.startswith(f"The points and bands of {released.name} {released.version} as released")
    assert (kept.calibration_intercept, kept.calibration_slope) != (
        released.calibration_intercept,
        released.calibration_slope,
    )
    assert kept.risk_table[0].score == 0
    # In the large, the refitted chances match the outcome rate of the nights they were fitted on.
    with connect(warehouse / "w.duckdb", key=None) as con:
        data = evaluation_data(con, Settings())[0]
    chances = PointsScorecard(card=kept).fit(data).predict_proba(data)[:, 1]
    assert abs(chances.mean() - data["outcome"].mean()) < 0.01
    text = target.with_suffix(".md").read_text(encoding="utf-8")
    assert "only the chance curve was fitted" in text
    assert "Quantile bins per feature" not in text
    assert target.read_text(encoding="utf-8").startswith("# Scorecard, written by `mentor fit`.")


def test_training_until_a_date_uses_only_outcomes_known_by_then(warehouse: Path) -> None:
    target = warehouse / "early" / "learned-early.yaml"
    _mentor("fit", "--db", str(warehouse / "w.duckdb"), "--out", str(target), "--train-until", "2025-03-31")
    trained = Scorecard.load(target).extra["trained_on"]
    assert trained["last_night"] < "2025-03-31"


def test_training_until_early_in_the_history_is_told_plainly_not_a_crash(warehouse: Path) -> None:
    db = str(warehouse / "w.duckdb")
    before_any = CliRunner().invoke(app, ["fit", "--db", db, "--out", str(warehouse / "e1" / "x.yaml"),
                                          "--train-until", "2024-10-15"])  # fmt: skip
    assert before_any.exit_code == 2, before_any.output
    assert "no past night's outcome horizon ends by 2024-10-15 (--train-until): the first ends on" in (
        before_any.output
    )
    # Outcomes to learn from, but no later half-term to judge the card in: a card, and advice that says so.
    told = _mentor("fit", "--db", db, "--out", str(warehouse / "e2" / "x.yaml"), "--train-until", "2024-11-30")
    assert "No half-term of the history could judge it against the card in use" in told
    assert "Empty DataFrame" not in told
    assert (warehouse / "e2" / "x.md").exists()


def test_the_learned_scorecard_runs_the_nightly_job_with_reasons_that_add_up(warehouse: Path) -> None:
    target = warehouse / "a" / "scorecard-learned.yaml"
    if not target.exists():  # the first test fits it; this test alone fits it itself
        _mentor("fit", "--db", str(warehouse / "w.duckdb"), "--out", str(target))
    config = warehouse / "a" / "settings.toml"
    config.write_text(f'scorecard = "{target.name}"\n')
    out = warehouse / "night" / "out"
    _mentor("run", "--exports", str(warehouse / "exports"), "--db", str(warehouse / "w.duckdb"), "--out", str(out),
            "--config", str(config))  # fmt: skip
    shortlist = pd.read_csv(out / "127510" / "shortlist.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    assert shortlist["scorecard"].str.startswith("scorecard-learned 1.0.0").all()
    for row in shortlist.itertuples():
        points = [int(reason.rsplit("(", 1)[1].rstrip(")")) for reason in row.reasons.split("; ") if "(" in reason]
        assert sum(points) == int(row.score)


def test_evaluate_compares_all_five_models_and_the_published_list_on_every_window(warehouse: Path) -> None:
    _mentor("evaluate", "--db", str(warehouse / "w.duckdb"), "--out", str(warehouse / "eval"))
    table = pd.read_csv(warehouse / "eval" / "evaluation.csv", encoding="utf-8-sig")
    assert table["window"].nunique() >= 3
    for _, models in table.groupby("window")["model"]:
        assert sorted(models) == sorted(MODELS)
    ranked = table[~table["model"].str.endswith(PUBLISHED)]
    assert ranked[["roc_auc", "average_precision", "precision_at_capacity", "brier", "ece"]].notna().all().all()
    assert ranked["ece"].between(0, 1).all()
    assert (ranked["roc_auc"] > 0.5).all()
    assert table["precision_at_capacity"].between(0, 1).all()  # the published list has this and recall only
    curves = pd.read_csv(warehouse / "eval" / "reliability.csv", encoding="utf-8-sig")
    assert curves["predicted"].between(0, 1).all()


def test_audit_counts_exactly_the_published_pupils_and_covers_every_group_and_window(
    warehouse: Path, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    shutil.copy(warehouse / "w.duckdb", db)
    _mentor("score", "--db", str(db))  # scores of the released scorecard, as configured (the audit reads none)
    # Tonight's lists as a different rule would have published them: each school's first pupil left out (as if
    # they were a current mentee). A re-ranking by score would put those pupils back; the audit must not.
    con = connect(db)
    try:
        con.execute("delete from published where listing = 'shortlist' and rank = 1")
        published = con.execute("select school_id, upn from published where listing = 'shortlist'").df()
        on_roll = con.execute("select count(*) from features").fetchone()
    finally:
        con.close()
    assert on_roll is not None
    told = _mentor("audit", "--db", str(db), "--out", str(tmp_path / "audit"), "--boot", "10")
    table = pd.read_csv(tmp_path / "audit" / "audit.csv", encoding="utf-8-sig", keep_default_na=False)
    # A rate over no pupils (a small group with none shortlisted) is "-" and said so on the console, not NaN.
    assert "NaN" not in told
    assert (table["precision"] == "").any()
    assert "-: not defined for the group (no pupil of it shortlisted, or none with the outcome)" in told
    assert set(table["attribute"]) == {"FSM", "SEN", "sex", "EAL", "ethnicity group", "year group"}
    scopes = table["scope"].unique().tolist()
    assert scopes[0].startswith("current shortlist (published, ")
    assert len(scopes) >= 4
    current = table[table["scope"] == scopes[0]]
    for _, rows in current.groupby("attribute"):
        assert rows["shortlisted"].sum() == len(published)
        assert rows["pupils"].sum() == on_roll[0]
        assert rows["share_of_shortlist"].sum() == pytest.approx(1.0, abs=0.01)
    windows = table[table["scope"] != scopes[0]]
    assert windows["scope"].str.startswith("what the model would have chosen in ").all()
    assert windows["precision"].astype(str).ne("").any()
    assert {"selection_rate_ci", "precision_ci", "miss_rate_ci", "flags"} <= set(table.columns)
