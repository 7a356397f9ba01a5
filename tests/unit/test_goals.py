"""The scorecard against its goals on real data, fold by fold: within 0.01 AUC of gradient boosting, not below
logistic regression; a shortfall smaller than the folds' noise is said to be so, not called a pass."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.evaluate.realdata import (
    Dataset,
    against_goals,
    corrected_standard_error,
    cross_validate,
    formatted,
    goals_formatted,
    main,
    markdown,
    models,
    save_table,
    saved_table,
)


def _row(dataset: str, model: str, aucs: list[float]) -> dict[str, object]:
    return {"dataset": dataset, "model": model, "auc": float(np.mean(aucs)), "fold_aucs": " ".join(map(str, aucs))}


BASE = [0.80, 0.82, 0.78, 0.81, 0.79, 0.83, 0.80, 0.77, 0.82, 0.80]
TABLE = pd.DataFrame(
    [
        # ahead of LR on every fold, 0.005 behind HGB on every fold: both met
        _row("ahead", "points scorecard", BASE),
        _row("ahead", "logistic regression", [a - 0.01 for a in BASE]),
        _row("ahead", "gradient boosting", [a + 0.005 for a in BASE]),
        # 0.002 behind LR on average, the folds spread +-0.03 about that: within noise; 0.03 behind HGB: not met
        _row("level", "points scorecard", BASE),
        _row("level", "logistic regression", [a + 0.002 + (0.03 if i % 2 else -0.03) for i, a in enumerate(BASE)]),
        _row("level", "gradient boosting", [a + 0.03 for a in BASE]),
        # a rival measured on other folds (five of them) is not compared
        _row("other folds", "points scorecard", BASE),
        _row("other folds", "logistic regression", BASE[:5]),
    ]
)


def test_each_goal_is_met_within_noise_or_not_met_fold_by_fold() -> None:
    goals = against_goals(TABLE).set_index(["dataset", "against"])
    assert goals.loc[("ahead", "logistic regression"), "verdict"] == "met"
    assert goals.loc[("ahead", "logistic regression"), "value"] == pytest.approx(0.01)
    assert goals.loc[("ahead", "logistic regression"), "won"] == 10
    assert goals.loc[("ahead", "gradient boosting"), "verdict"] == "met"  # 0.005 behind: within 0.01
    assert goals.loc[("ahead", "gradient boosting"), "won"] == 0
    assert goals.loc[("level", "logistic regression"), "value"] == pytest.approx(-0.002)
    assert goals.loc[("level", "logistic regression"), "verdict"] == "within noise"
    assert goals.loc[("level", "gradient boosting"), "verdict"] == "not met"
    assert "other folds" not in goals.index.get_level_values("dataset")
    shown = goals_formatted(against_goals(TABLE))
    first = ["ahead", "within 0.01 AUC of gradient boosting", "AUC -0.0050, paired by fold", "0.0000", "0 of 10", "met"]
    assert shown.iloc[0].tolist() == first


@pytest.mark.parametrize(
    ("ece", "floor", "verdict"),
    [(0.02, 0.05, "met"), (0.03, 0.01, "met"), (0.04, 0.05, "within noise"), (0.04, 0.035, "not met")],
)
def test_the_calibration_goal_is_met_within_a_calibrated_model_s_noise_or_not_met(
    ece: float, floor: float, verdict: str
) -> None:
    """ECE at most 0.03; above it, "within noise" while a perfectly calibrated predictor with the same
    probabilities would show as much by chance (the 95th percentile of its ECE)."""
    table = TABLE[TABLE["dataset"] == "ahead"].assign(ece=ece, ece_floor_95=floor)
    goal = against_goals(table).set_index("goal").loc["ECE at most 0.03"]
    assert goal["verdict"] == verdict
    assert goal["value"] == ece
    shown = goals_formatted(against_goals(table)).set_index("goal").loc["ECE at most 0.03"]
    assert shown["measured"] == f"ECE {ece:.3f} (a calibrated model, by chance: up to {floor:.3f})"
    assert shown["folds won"] == shown["standard error (corrected)"] == ""


def test_the_calibration_goal_says_how_often_a_calibrated_model_would_meet_it() -> None:
    """A table measured since the share was saved says it beside the 95th percentile; the verdict is unchanged."""
    table = TABLE[TABLE["dataset"] == "ahead"].assign(ece=0.05, ece_floor_95=0.053, ece_goal_chance=0.25)
    goal = against_goals(table).set_index("goal").loc["ECE at most 0.03"]
    assert goal["verdict"] == "within noise"
    assert goal["chance"] == 0.25
    shown = goals_formatted(against_goals(table)).set_index("goal").loc["ECE at most 0.03"]
    assert shown["measured"] == "ECE 0.050 (a calibrated model, by chance: up to 0.053; at most 0.03 in 25% of samples)"


def test_a_table_saved_before_fold_aucs_were_has_no_goals() -> None:
    assert against_goals(TABLE.drop(columns="fold_aucs")).empty


def test_the_corrected_standard_error_is_wider_than_the_plain_one_for_overlapping_folds() -> None:
    """Nadeau and Bengio: 10-fold CV's training sets share 8/9 of their rows, so the folds' differences are not
    independent; the plain standard error sd/sqrt(J) understates the uncertainty by about half."""
    differences = np.array([0.01, -0.02, 0.005, 0.0, 0.015, -0.01, 0.02, -0.005, 0.01, 0.0])
    plain = differences.std(ddof=1) / np.sqrt(10)
    assert corrected_standard_error(differences, 10) == pytest.approx(plain * np.sqrt(1 + 10 / 9))
    assert np.isnan(corrected_standard_error(differences[:1], 10))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0.5, 0.9), min_size=10, max_size=10),
    st.floats(-0.05, 0.05),
    st.lists(st.floats(-0.02, 0.02), min_size=10, max_size=10),
)
def test_met_means_the_mean_difference_reaches_the_goal_and_not_met_means_beyond_noise(
    theirs: list[float], shift: float, noise: list[float]
) -> None:
    ours = [t + shift + e for t, e in zip(theirs, noise, strict=True)]
    table = pd.DataFrame([_row("d", "points scorecard", ours), _row("d", "logistic regression", theirs)])
    goal = against_goals(table).iloc[0]
    difference = float(np.mean(np.array(ours) - np.array(theirs)))
    assert goal["value"] == pytest.approx(difference, abs=1e-12)
    assert (goal["verdict"] == "met") == (goal["value"] >= 0.0)
    assert (goal["verdict"] == "not met") == (goal["value"] < -2 * goal["se"])


def test_a_cross_validation_keeps_every_fold_s_auc_in_fold_order() -> None:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(0, 1, 300)})
    data = Dataset("toy", X, (rng.random(300) < 1 / (1 + np.exp(-2 * X["x"].to_numpy()))).astype(int))
    result = cross_validate(data, models()["logistic regression"], "logistic regression", folds=5, repeats=2)
    aucs = [float(v) for v in result.fold_aucs.split()]
    assert len(aucs) == 10
    assert np.mean(aucs) == pytest.approx(result.auc, abs=1e-6)
    first = cross_validate(data, models()["logistic regression"], "logistic regression", folds=5)
    assert [float(v) for v in first.fold_aucs.split()] == aucs[:5]  # the first repeat's folds, in order


def test_the_saved_table_shows_every_figure_the_benchmark_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The model card `mentor fit` writes quotes the saved table: it must read as the benchmark's own printout, to
    the last digit shown."""
    saved = tmp_path / "benchmark.csv"
    main(["--data", "breast-cancer", "--models", "logistic regression", "gradient boosting", "--save", str(saved)])
    printed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| breast-cancer (n=569)")]
    table = saved_table(saved)
    assert table is not None
    shown = [line for line in markdown(table).splitlines() if line.startswith("| breast-cancer (n=569)")]
    assert len(printed) == 2
    assert shown == printed
    # a figure on the fourth place's edge reads as printed too
    edge = table.assign(ece=0.006512)
    save_table(edge, saved)
    assert formatted(saved_table(saved))["ECE (pooled)"].tolist() == formatted(edge)["ECE (pooled)"].tolist()


def test_the_benchmark_refuses_a_data_set_it_does_not_have_and_no_repeats(capsys: pytest.CaptureFixture[str]) -> None:
    """`--data nosuch` was a KeyError traceback, `--repeats 0` a ZeroDivisionError, `--repeats -1` a table of nan."""
    for argv, words in ((["--data", "nosuch"], "invalid choice: 'nosuch'"), (["--repeats", "0"], "must be 1 or more"),
                        (["--repeats", "-1"], "must be 1 or more, not -1")):  # fmt: skip
        with pytest.raises(SystemExit) as stopped:
            main(argv)
        assert stopped.value.code == 2
        assert words in capsys.readouterr().err
