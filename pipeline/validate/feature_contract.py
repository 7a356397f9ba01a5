"""The feature table's contract judged school by school: one school's bad value never stops the others.

The feature table is built for the whole trust at once (one set of SQL models), then validated against
:class:`pipeline.features.schema.FeatureTable`. When a value breaks the contract (a date of birth of 1900 gives a
reading-age gap of a century), pandera names the failing rows; their schools are taken out of the table and held
back with a plain message, and the rows of every other school are validated again on their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from pandera.errors import SchemaErrors

from pipeline.features.schema import FeatureTable

FIX_HINT = (
    "this usually means an implausible value in the school's export (a date of birth, a reading age, a grade): "
    "fix it in the MIS"
)


@dataclass(frozen=True)
class FeatureContractResult:
    table: pd.DataFrame
    """The validated (coerced) rows of the schools that passed, in the order given."""
    failed: dict[str, str] = field(default_factory=dict)
    """School -> why its rows broke the contract, in plain words (no names, no UPNs)."""


def validate_by_school(table: pd.DataFrame) -> FeatureContractResult:
    """Validate ``table`` against the feature contract; drop (and explain) the schools whose rows break it.

    A failure that names no row (a column missing or of the wrong type for the whole table) cannot be pinned on a
    school: every school fails with it.
    """
    try:
        return FeatureContractResult(FeatureTable.validate(table, lazy=True))
    except SchemaErrors as errors:
        cases = errors.failure_cases
    rows = pd.to_numeric(cases["index"], errors="coerce")
    pinned = cases[rows.notna() & rows.isin(table.index)]
    if len(pinned) < len(cases):
        unpinned = cases[~cases.index.isin(pinned.index)]
        message = "the feature table breaks its contract: " + _describe(unpinned)
        return FeatureContractResult(table.iloc[0:0], {str(s): message for s in table["school_id"].unique()})
    schools = table.loc[rows[pinned.index].astype(int), "school_id"].astype(str).to_numpy()
    failed = {
        school: f"features of this school break the contract: {_describe(group)}; {FIX_HINT}"
        for school, group in pinned.assign(school=schools).groupby("school", sort=True)
    }
    kept = table[~table["school_id"].astype(str).isin(list(failed))]
    return FeatureContractResult(FeatureTable.validate(kept, lazy=True), failed)


def _describe(cases: pd.DataFrame) -> str:
    """``column must satisfy check (n pupils)`` per column and check; the failing values are not repeated."""
    counts = cases.groupby(["column", "check"], dropna=False, sort=True).size().reset_index(name="n")
    return "; ".join(
        f"{row.column if isinstance(row.column, str) else 'the table'} must satisfy {row.check} "
        f"({row.n:,} pupil{'s' * (row.n != 1)})"
        for row in counts.itertuples()
    )
