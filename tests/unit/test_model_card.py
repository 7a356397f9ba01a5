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
    first = dataclasses.replace(card.features[0], description=NASTY)
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


def test_every_row_of_every_table_has_the_header_s_columns() -> None:
    text = model_card(_release())
    tables = _tables(text)
    assert len(tables) == 3  # points, the windows, the means
    for table in tables:
        assert len({_columns(line) for line in table}) == 1, table
    assert "A \\| B &lt;script&gt;alert(1)&lt;/script&gt; =SUM(1)" in text
    assert "<script>" not in text
    assert "**Data.** 12,345 pupil-nights from 2025-09-05 to 2025-10-17; outcome rate 12.3%." in text
    assert text.startswith("# Model card: learned 1.0.0\n")
    assert "## Known limits" in text


def test_a_release_is_written_durably_once_and_never_overwritten(tmp_path: Path) -> None:
    yaml_path, card_path = write_release(_release(), tmp_path / "models" / "learned.yaml")
    assert Scorecard.load(yaml_path).name == "learned"
    assert card_path.read_text(encoding="utf-8") == model_card(_release())
    assert card_path.stat().st_mode & 0o777 == 0o644
    with pytest.raises(FileExistsError, match="released files are never edited"):
        write_release(_release(), yaml_path)
