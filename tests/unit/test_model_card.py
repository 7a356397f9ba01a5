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
