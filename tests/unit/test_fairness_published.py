"""The audit's "current shortlist" rows count the pupils actually published, whatever rule chose them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.config import Settings
from pipeline.evaluate.compare import top_at_capacity
from pipeline.evaluate.fairness import audit_published
from pipeline.model.scoring import StageOrderError

# One school of six pupils on one night; A has the highest score but already has a mentor.
FEATURES = pd.DataFrame(
    {
        "as_of": pd.to_datetime(["2025-10-17"] * 6),
        "school_id": ["100001"] * 6,
        "upn": list("ABCDEF"),
        "fsm_eligible": [True, True, False, False, False, True],
        "sen_provision": ["N", "K", "N", "E", "N", "N"],
        "eal": [False, False, True, False, False, False],
        "year_group": ["7", "7", "8", "8", "9", "9"],
        "attendance_rate_term": [0.8, 0.85, None, 0.9, 0.95, 0.97],
        "negative_points_4wk": [3.0, 1.0, 0.0, None, 0.0, 0.0],
    }
)
SCORES = np.array([50.0, 40.0, 40.0, 30.0, 10.0, 0.0])
DEMOGRAPHICS = pd.DataFrame(
    {"school_id": ["100001"] * 6, "upn": list("ABCDEF"), "sex": list("MFMFMF"), "ethnicity": ["WBRI"] * 6}
)


def _published(upns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"school_id": ["100001"] * len(upns), "upn": upns})


def test_the_audit_counts_exactly_the_published_pupils_when_the_rule_differs_from_a_re_ranking() -> None:
    # The rule that chose tonight's list left out the current mentee (A) and took the next two; a re-ranking by
    # score at this capacity would have chosen A.
    settings = Settings(capacity_share=0.01, capacity_minimum=2)
    re_ranked = set(FEATURES["upn"].iloc[top_at_capacity(FEATURES, SCORES, settings)])
    published = ["B", "C"]
    assert re_ranked != set(published)
    table = audit_published(FEATURES, DEMOGRAPHICS, _published(published), n_boot=10)
    assert table["scope"].unique().tolist() == ["current shortlist (published, 2025-10-17)"]
    for _, rows in table.groupby("attribute"):
        assert rows["shortlisted"].sum() == 2
        assert rows["pupils"].sum() == 6
    fsm = table[table["attribute"] == "FSM"].set_index("group")
    assert fsm.loc["FSM", "shortlisted"] == 1  # B
    assert fsm.loc["not FSM", "shortlisted"] == 1  # C
    sex = table[table["attribute"] == "sex"].set_index("group")
    assert sex.loc["female", "shortlisted"] == 1  # B
    assert sex.loc["male", "shortlisted"] == 1  # C, not A
    years = table[table["attribute"] == "year group"].set_index("group")["shortlisted"].to_dict()
    assert years == {"Y7": 1, "Y8": 1, "Y9": 0}


def test_an_empty_published_list_selects_nobody() -> None:
    table = audit_published(FEATURES, DEMOGRAPHICS, _published([]), n_boot=10)
    assert table["shortlisted"].sum() == 0


def test_a_publication_of_pupils_the_feature_table_lacks_is_refused() -> None:
    with pytest.raises(StageOrderError, match="1 published pupils are not in the feature table"):
        audit_published(FEATURES, DEMOGRAPHICS, _published(["B", "Z"]), n_boot=10)
