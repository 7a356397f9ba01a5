"""Fairness audit of the shortlist: how it falls across groups of pupils, with bootstrap intervals.

For the current shortlist (what was published: who is on it) and for each evaluation window (who would have been
on it, and what then happened), by FSM, SEN provision, sex, EAL, ethnicity group and year group:

- share of the shortlist and selection rate (share of the group shortlisted);
- precision (of the group's shortlisted pupils, share who had the outcome) and miss rate (of the group's pupils
  who had the outcome, share not shortlisted) where outcomes are known;
- each with a bootstrap 95% interval (fairlearn ``MetricFrame``), and its ratio to the reference group (the
  largest group), flagged when outside 0.8-1.25 (the four-fifths rule and its inverse).

Sex and ethnicity are used here only: they are never features of any model.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame

RATIO_RANGE = (0.8, 1.25)
SMALL_GROUP = 30
"""Groups smaller than this are marked: their rates move a lot with one or two pupils."""
ETHNIC_GROUPS = {"W": "White", "M": "Mixed", "A": "Asian", "B": "Black", "C": "Chinese", "O": "Any other"}
PUPIL_GROUPS = """
select school_id, upn, sex, ethnicity from pupils
"""


def groups(pupils: pd.DataFrame) -> pd.DataFrame:
    """The audit's attributes per pupil, in plain words."""
    sen = {"N": "no SEN", "K": "SEN support", "E": "EHC plan"}
    ethnicity = pupils["ethnicity"].fillna("").astype(str).str.upper()
    return pd.DataFrame(
        {
            "FSM": pupils["fsm_eligible"].map({True: "FSM", False: "not FSM"}).fillna("unknown"),
            "SEN": pupils["sen_provision"].map(sen).fillna("unknown"),
            "sex": pupils["sex"].fillna("unknown").astype(str).str[:1].str.upper().map({"M": "male", "F": "female"}),
            "EAL": pupils["eal"].map({True: "EAL", False: "not EAL"}).fillna("unknown"),
            "ethnicity group": ethnicity.str[:1]
            .map(ETHNIC_GROUPS)
            .where(~ethnicity.isin(["REFU", "NOBT", ""]), "refused or not known"),
            "year group": "Y" + pupils["year_group"].fillna("?").astype(str),
        },
        index=pupils.index,
    ).fillna("unknown")


def audit(
    attributes: pd.DataFrame,
    selected: np.ndarray,
    outcome: np.ndarray | None = None,
    n_boot: int = 200,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per attribute and group: counts, rates with 95% intervals, ratios to the reference group, flags."""
    metrics: dict[str, Callable[..., float]] = {"selection_rate": _selection_rate}
    if outcome is not None:
        metrics |= {"precision": _precision, "miss_rate": _miss_rate}
    truth = outcome if outcome is not None else selected
    rows = []
    for attribute in attributes.columns:
        with warnings.catch_warnings():
            # A group with no pupil selected (or none with the outcome) in every resample has no interval: NaN in
            # the table, not a numpy warning on the data lead's screen.
            warnings.filterwarnings("ignore", "All-NaN slice encountered", RuntimeWarning)
            frame = MetricFrame(
                metrics=metrics,
                y_true=truth.astype(int),
                y_pred=selected.astype(int),
                sensitive_features=attributes[attribute].to_numpy(),
                n_boot=n_boot,
                ci_quantiles=[0.025, 0.975],
                random_state=seed,
            )
        by_group = frame.by_group
        low, high = frame.by_group_ci
        counts = attributes[attribute].value_counts()
        reference = str(counts.idxmax())
        for group in sorted(by_group.index, key=str):
            members = (attributes[attribute] == group).to_numpy()
            row: dict[str, Any] = {
                "attribute": attribute,
                "group": group,
                "pupils": int(members.sum()),
                "shortlisted": int(selected[members].sum()),
                "share_of_shortlist": round(float(selected[members].sum() / max(selected.sum(), 1)), 3),
                "reference": reference,
            }
            flags = []
            for metric in metrics:
                value = float(by_group.loc[group, metric])
                row[metric] = _round(value)
                row[f"{metric}_ci"] = (
                    f"{_round(float(low.loc[group, metric]))}-{_round(float(high.loc[group, metric]))}"
                )
                base = float(by_group.loc[reference, metric])
                ratio = value / base if base and not np.isnan(base) and not np.isnan(value) else float("nan")
                row[f"{metric}_ratio"] = _round(ratio)
                if not np.isnan(ratio) and not RATIO_RANGE[0] <= ratio <= RATIO_RANGE[1]:
                    flags.append(metric.replace("_", " "))
            if flags and row["pupils"] < SMALL_GROUP:
                flags.append(f"small group (under {SMALL_GROUP})")
            row["flags"] = "; ".join(flags)
            rows.append(row)
    return pd.DataFrame(rows)


# The three rates as counts over numpy arrays: fairlearn's MetricFrame calls each once per group and bootstrap
# resample, and scikit-learn's precision_score and fairlearn's false_negative_rate check their input on every call
# (a third of `mentor audit`'s time: docs/performance.md). tests/unit/test_audit_rates.py holds them to those.


def _selection_rate(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Share of the pupils selected (fairlearn's ``selection_rate``)."""
    chosen = np.asarray(y_pred) == 1
    return float(chosen.mean()) if len(chosen) else float("nan")


def _precision(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Of the pupils selected, the share who had the outcome (sklearn's ``precision_score``); none selected: NaN."""
    chosen = np.asarray(y_pred) == 1
    return float((np.asarray(y_true)[chosen] == 1).mean()) if chosen.any() else float("nan")


def _miss_rate(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Of the pupils who had the outcome, the share not selected (fairlearn's ``false_negative_rate``); no one
    had it: NaN."""
    had = np.asarray(y_true) == 1
    return float((np.asarray(y_pred)[had] != 1).mean()) if had.any() else float("nan")


def _round(value: float) -> float:
    return round(value, 3) if not np.isnan(value) else float("nan")
