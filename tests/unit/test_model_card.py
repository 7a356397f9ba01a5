"""The model card (Markdown, from templates/model_card.md): every table keeps its columns whatever the text."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from pipeline.config import ROOT
from pipeline.evaluate.release import Release, model_card, write_release
from pipeline.model import Scorecard

NASTY = "A | B\n<script>alert(1)</script> =SUM(1)"


def _release() -> Release:
    card = Scorecard.load(ROOT / "models" / "scorecard-v1.yaml")
    first = dataclasses.replace(card.features[0], description=NASTY, usual_points=5)
    card = dataclasses.replace(
        card,
        name="learned",
        version="1.0.0",
        description="A test card.",
        features=(first, *card.features[1:]),
        extra={"trained_on": {"first_night": "2025-09-05", "last_night": "2025-10-17", "pupil_nights": 12345,
                              "outcome_rate": 0.1234}},
    )  # fmt: skip
    metrics = {"roc_auc": 0.7, "average_precision": 0.3, "precision_at_capacity": 0.4, "recall_at_capacity": 0.2,
               "brier": 0.1, "ece": 0.05}  # fmt: skip
    comparison = pd.DataFrame([{"window": NASTY, "model": "ABC rules", **metrics}])
    return Release(card, comparison, pd.DataFrame(), pd.DataFrame(), [])


def _tables(text: str) -> list[list[str]]:
    """Each Markdown table's lines."""
    tables: list[list[str]] = []
    previous = ""
    for line in text.splitlines():
        if line.startswith("|"):
            if not previous.startswith("|"):
                tables.append([])
            tables[-1].append(line)
        previous = line
    return tables


def _columns(line: str) -> int:
    return len(line.replace("\\|", "").strip().strip("|").split("|"))


BENCHMARK = pd.DataFrame(
    [
        {"dataset": "oulad", "model": "points scorecard", "n": 26361, "auc": 0.8035, "auc_sd": 0.009,
         "precision_at_10": 0.952, "ece": 0.011, "ece_floor": 0.006, "ece_floor_95": 0.009, "brier": 0.1722,
         "fit_seconds": 3.4, "lines": 28.8, "measured_on": "2026-12-04", "quick": False},
        {"dataset": NASTY, "model": "logistic regression", "n": 395, "auc": 0.669, "auc_sd": 0.071,
         "precision_at_10": 0.575, "ece": 0.104, "ece_floor": 0.048, "ece_floor_95": 0.069, "brier": 0.2162,
         "fit_seconds": 0.02, "lines": None, "measured_on": "2026-12-04", "quick": False},
    ]
)  # fmt: skip


def test_every_row_of_every_table_has_the_header_s_columns(tmp_path: Path) -> None:
    BENCHMARK.to_csv(tmp_path / "benchmark.csv", index=False)
    text = model_card(_release(), tmp_path / "benchmark.csv")
    tables = _tables(text)
    assert len(tables) == 5  # points, a usual pupil's points, the windows, the means, the learner on public data
    for table in tables:
        assert len({_columns(line) for line in table}) == 1, table
    assert "A \\| B &lt;script&gt;alert(1)&lt;/script&gt; =SUM(1)" in text
    assert "<script>" not in text
    assert "| A \\| B &lt;script&gt;alert(1)&lt;/script&gt; =SUM(1) | 5 |" in text  # its usual pupil's points
    assert "**Data.** 12,345 pupil-nights from 2025-09-05 to 2025-10-17; outcome rate 12.3%." in text
    assert text.startswith("# Model card: learned 1.0.0\n")
    assert "## Known limits" in text
    assert "measured on 2026-12-04 by `make benchmark-model`" in text
    assert (
        "| oulad (n=26,361) | points scorecard | 0.803 (0.009) | 0.952 | 0.011 | 0.006, 0.009 | 0.1722 | 28.8 |" in text
    )


def test_a_benchmark_saved_with_fold_aucs_shows_the_goals_fold_by_fold(tmp_path: Path) -> None:
    folds = {"points scorecard": "0.81 0.80 0.79", "logistic regression": "0.80 0.79 0.78",
             "gradient boosting": "0.83 0.83 0.82"}  # fmt: skip
    saved = pd.DataFrame(
        [{**BENCHMARK.iloc[0].to_dict(), "dataset": "oulad", "model": m, "fold_aucs": f} for m, f in folds.items()]
    )
    saved.to_csv(tmp_path / "benchmark.csv", index=False)
    text = model_card(_release(), tmp_path / "benchmark.csv")
    tables = _tables(text)
    assert len(tables) == 6  # ... and the goals
    assert all(len({_columns(line) for line in table}) == 1 for table in tables)
    assert "| oulad | not below logistic regression | AUC +0.0100, paired by fold | 0.0000 | 3 of 3 | met |" in text
    assert "| oulad | within 0.01 AUC of gradient boosting | AUC -0.0267, paired by fold | " in text
    assert "| oulad | ECE at most 0.03 | ECE 0.011 (a calibrated model, by chance: up to 0.009) |  |  | met |" in text
    assert text.count("| not met |") == 1


def test_without_a_saved_benchmark_the_card_says_how_to_measure_it(tmp_path: Path) -> None:
    text = model_card(_release(), tmp_path / "none.csv")
    assert len(_tables(text)) == 4  # points, a usual pupil's points, the windows, the means
    assert "`make benchmark-model` measures it" in text


def test_a_release_is_written_durably_once_and_never_overwritten(tmp_path: Path) -> None:
    yaml_path, card_path = write_release(_release(), tmp_path / "models" / "learned.yaml")
    assert Scorecard.load(yaml_path).name == "learned"
    assert card_path.read_text(encoding="utf-8") == model_card(_release())
    assert card_path.stat().st_mode & 0o777 == 0o644
    with pytest.raises(FileExistsError, match="released files are never edited"):
        write_release(_release(), yaml_path)


METRICS = ("roc_auc", "average_precision", "precision_at_capacity", "recall_at_capacity", "brier", "ece")


def _judged(learned: list[float], expert: list[float], published: list[float] | None = None) -> Release:
    """A release whose comparison has these precisions at capacity, window by window."""
    rows = []
    for n, (mine, theirs) in enumerate(zip(learned, expert, strict=True)):
        mine_listed = (published or learned)[n]
        for model, value in [("learned scorecard", mine), ("learned scorecard, published list", mine_listed),
                             ("expert scorecard", theirs), ("expert scorecard, published list", theirs)]:  # fmt: skip
            rows.append({"window": f"half-term {n}", "model": model, **dict.fromkeys(METRICS, 0.5),
                         "precision_at_capacity": value})  # fmt: skip
    release = _release()
    learned_card = dataclasses.replace(release.card, kind="learned")
    return dataclasses.replace(release, card=learned_card, comparison=pd.DataFrame(rows), in_use="scorecard-v5 5.0.0")


def test_the_card_says_whether_to_switch_by_the_data_leads_rule() -> None:
    """At least level with the card in use at capacity, in its ranking and its published list, on the mean."""
    switch = _judged([0.80, 0.84], [0.81, 0.80])
    assert switch.advice == (
        "**Switch to it.** On this trust's own history its lists held 82.0 pupils with the outcome per 100 places, "
        "against 80.5 for scorecard-v5 5.0.0 (mean over 2 half-terms; at least level in 1 of them). To use it, name "
        "it as `scorecard` in the settings file."
    )
    assert f"**Should you use it?** {switch.advice}" in model_card(switch)
    assert _judged([0.79, 0.80], [0.80, 0.81]).advice.startswith("**Keep scorecard-v5 5.0.0.** On this trust's")
    behind_as_published = _judged([0.82, 0.84], [0.81, 0.80], published=[0.70, 0.70])
    assert behind_as_published.advice.startswith("**Keep scorecard-v5 5.0.0.**")


def test_a_card_that_kept_its_points_is_not_judged_on_its_ranking() -> None:
    release = dataclasses.replace(_judged([0.7], [0.8]), card=dataclasses.replace(_release().card, kind="expert"))
    assert release.advice.startswith("Its points are those of scorecard-v5 5.0.0, so it lists the same pupils")
