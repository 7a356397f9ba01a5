"""A card learned from one world's history ranks another world's pupils with no history."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.config import Settings
from pipeline.evaluate import transfer
from pipeline.evaluate.futures import NO_HISTORY, WorldData
from pipeline.model import Scorecard
from tests.unit.test_losses import LATENESS_CARD, _school


def _history(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Past pupil-nights where being late twice or more in four weeks is followed by the outcome 80% of the time."""
    rng = np.random.default_rng(seed)
    late = rng.integers(0, 6, n).astype(float)
    outcome = rng.random(n) < np.where(late >= 2, 0.8, 0.1)
    return pd.DataFrame({"school_id": "100001", "upn": [f"H{i:04d}" for i in range(n)], "late_marks_4wk": late,
                         "outcome": outcome})  # fmt: skip


def test_the_learned_card_ranks_other_worlds_without_their_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "card.yaml"
    path.write_text(LATENESS_CARD, encoding="utf-8")
    template = Scorecard.load(path)
    measured = _school().assign(adverse_outcome=[False] * 5 + [True] * 5 + [False] * 10)  # the late five
    worlds = {
        ("world", 1): WorldData("world", 1, dt.date(2025, 11, 21), measured, _history(), pd.DataFrame()),
        ("world", 2): WorldData("world", 2, dt.date(2025, 11, 21), measured, _history(seed=1), pd.DataFrame()),
    }
    monkeypatch.setattr(transfer, "cached_world", lambda kind, seed, cache, settings: worlds[(kind, seed)])

    (card,) = transfer.learned_elsewhere(template, {"world 1": [("world", 1)]}, tmp_path, Settings())
    table = transfer.measure_transfer(template, [card], [("world", 2)], tmp_path, Settings())

    assert card.name == "learned on world 1"
    assert set(table["regime"]) == {NO_HISTORY}  # world 2's own history is never learned from
    precision = table.set_index("method")["precision_at_capacity"]
    assert precision["learned on world 1 (as released)"] == 1.0  # the five late pupils, at five places
    assert precision["attendance alone"] == 0.0
