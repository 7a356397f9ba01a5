"""What the analysts' notebooks share: a warehouse to read, and year groups in school order.

A notebook never writes to the nightly warehouse. :func:`analysis_warehouse` copies it into a scratch folder when it
exists (so a notebook can build features or fit models as it likes), and otherwise loads the bundled synthetic
sample into a fresh one with the pipeline's own ingest. The scratch folder is removed when the kernel ends.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from pipeline.config import ROOT
from pipeline.ingest.checks import YEAR_GROUPS
from pipeline.warehouse import DEFAULT_WAREHOUSE, connect

SOURCE_VARIABLE = "MENTOR_NOTEBOOK_SOURCE"
"""Set to ``sample`` to make every notebook read the bundled sample even where a nightly warehouse exists (the
test suite does, so that the notebooks' results do not depend on what a developer ran before)."""
LATEST_NIGHT = "select max(date) from attendance"


@dataclass(frozen=True)
class AnalysisWarehouse:
    con: duckdb.DuckDBPyConnection
    night: dt.date
    """The night the notebook looks at."""
    source: str
    """Where the data came from, in words (a notebook prints it)."""
    scratch: Path
    """The notebook's scratch folder (the warehouse copy's): lists a notebook publishes go here, and are removed with
    it when the kernel ends."""


def analysis_warehouse(warehouse: Path | None = None, night: dt.date | None = None) -> AnalysisWarehouse:
    """A scratch copy of ``warehouse`` (default: the nightly one, ``$MENTOR_DB`` or ``data/warehouse.duckdb``) when
    it exists, else the bundled sample loaded into a fresh warehouse; and the night to look at (default: the
    latest night with attendance marks)."""
    from pipeline.ingest import ingest  # the ingest stage's imports are only needed for the sample

    scratch = Path(tempfile.mkdtemp(prefix="mentor-notebook-"))
    nightly = warehouse or Path(os.environ.get("MENTOR_DB", ROOT / DEFAULT_WAREHOUSE))
    if os.environ.get(SOURCE_VARIABLE) != "sample" and nightly.is_file():
        copy = scratch / "warehouse.duckdb"
        shutil.copyfile(nightly, copy)
        wal = nightly.with_name(nightly.name + ".wal")
        if wal.is_file():
            shutil.copyfile(wal, copy.with_name(copy.name + ".wal"))
        con = connect(copy)
        source = f"a copy of the nightly warehouse {nightly}"
    else:
        con = connect(scratch / "warehouse.duckdb", key=None)
        ingest(con, ROOT / "data" / "sample")
        source = "the bundled synthetic sample (data/sample/)"
    atexit.register(_discard, con, scratch)  # a copy of pupils' data: gone when the kernel (or script) ends
    row = con.execute(LATEST_NIGHT).fetchone()
    chosen = night or (row[0] if row else None)
    if chosen is None:
        raise ValueError(f"{source} holds no attendance marks: run `make run` or point WAREHOUSE at a warehouse")
    return AnalysisWarehouse(con, chosen, source, scratch)


def _discard(con: duckdb.DuckDBPyConnection, scratch: Path) -> None:
    """Close a notebook's scratch warehouse and remove its folder."""
    with contextlib.suppress(duckdb.Error):
        con.close()
    shutil.rmtree(scratch, ignore_errors=True)


def in_school_order(frame: pd.DataFrame, column: str = "year_group") -> pd.DataFrame:
    """``frame`` with ``column`` as an ordered category in school order (N1, N2, R, 1, 2, ... 14), not as text
    (1, 10, 11, 2, ... R), so that grouping, sorting and plotting follow the school's years.

    >>> in_school_order(pd.DataFrame({"year_group": ["10", "R", "2"]})).sort_values("year_group")["year_group"].tolist()
    ['R', '2', '10']
    """
    ordered = frame.copy()
    ordered[column] = pd.Categorical(ordered[column], categories=_present(YEAR_GROUPS, ordered[column]), ordered=True)
    return ordered


def _present(order: Iterable[str], values: pd.Series) -> list[str]:
    seen = set(values.dropna().astype(str))
    return [value for value in order if value in seen]
