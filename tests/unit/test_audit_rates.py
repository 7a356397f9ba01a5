"""The audit's three rates mean what fairlearn's and scikit-learn's functions of the same name do."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from fairlearn.metrics import false_negative_rate, selection_rate
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import precision_score

from pipeline.evaluate.audit import _miss_rate, _precision, _selection_rate, audit

pairs = st.lists(st.tuples(st.integers(0, 1), st.integers(0, 1)), min_size=1, max_size=60)


@given(pairs)
def test_the_rates_equal_the_libraries_and_are_nan_where_they_have_no_pupils(rows: list[tuple[int, int]]) -> None:
    y_true, y_pred = (np.array(column) for column in zip(*rows, strict=True))
    assert _selection_rate(y_true, y_pred) == selection_rate(y_true, y_pred)
    if y_pred.sum():
        assert _precision(y_true, y_pred) == precision_score(y_true, y_pred)
    else:
        assert np.isnan(_precision(y_true, y_pred))
    if y_true.sum():
        assert _miss_rate(y_true, y_pred) == false_negative_rate(y_true, y_pred)
    else:
        assert np.isnan(_miss_rate(y_true, y_pred))


def test_the_rates_by_hand() -> None:
    y_true = np.array([1, 1, 0, 0, 1])
    y_pred = np.array([1, 0, 1, 0, 0])
    assert _selection_rate(y_true, y_pred) == 0.4  # 2 of 5 selected
    assert _precision(y_true, y_pred) == 0.5  # 1 of the 2 selected had the outcome
    assert _miss_rate(y_true, y_pred) == 2 / 3  # 2 of the 3 with the outcome not selected
    assert np.isnan(_selection_rate(y_true[:0], y_pred[:0]))


def test_a_group_with_no_one_selected_has_no_interval_and_no_warning() -> None:
    attributes = pd.DataFrame({"EAL": ["EAL"] * 5 + ["not EAL"] * 35})
    selected = np.array([0] * 5 + [1] * 10 + [0] * 25)
    outcome = np.array([1, 0, 1, 0, 0] + [1] * 8 + [0] * 2 + [1] * 5 + [0] * 20)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        table = audit(attributes, selected, outcome, n_boot=10).set_index("group")
    assert table.loc["EAL", "shortlisted"] == 0
    assert np.isnan(table.loc["EAL", "precision"])
    assert table.loc["EAL", "precision_ci"] == "nan-nan"
    assert table.loc["not EAL", "precision"] == 0.8  # 8 of the 10 selected had the outcome
    assert table.loc["EAL", "miss_rate"] == 1.0  # both with the outcome missed
