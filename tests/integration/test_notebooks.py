"""The analysts' notebooks run top to bottom on the sample, and are stored in git without outputs."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import duckdb
import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.slow

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
ALL = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))


def test_there_are_notebooks_for_the_warehouse_the_models_the_audit_and_mentoring() -> None:
    assert ALL == [
        "01_explore_warehouse.ipynb",
        "02_model_comparison.ipynb",
        "03_fairness_audit.ipynb",
        "04_mentoring_impact.ipynb",
    ]


@pytest.mark.parametrize("name", ALL)
def test_the_notebook_is_stored_without_outputs(name: str) -> None:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == []
            assert cell.execution_count is None


@pytest.mark.parametrize("name", ALL)
def test_the_notebook_runs_top_to_bottom(name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MENTOR_NOTEBOOK_SOURCE", "sample")  # never a developer's own warehouse
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the kernel's temporary files, to look for after it ends
    notebook = copy.deepcopy(nbformat.read(NOTEBOOKS / name, as_version=4))
    client = NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.execute()  # raises CellExecutionError, with the cell and its traceback, if any cell fails
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    assert any(o.get("data", {}).get("image/png") for c in notebook.cells for o in c.get("outputs", []))
    # Nothing of pupils' data is left behind: the audit notebook's published shortlists stayed in a temporary folder
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("mentor-")]


def test_a_notebook_s_copy_of_the_warehouse_is_removed_when_its_kernel_ends(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create table attendance as select date '2025-11-07' as date")
    script = (
        "import sys; from pathlib import Path; from pipeline.notebook import analysis_warehouse\n"
        "w = analysis_warehouse(Path(sys.argv[1])); print(w.con.execute('pragma database_list').fetchall()[0][2])\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(warehouse)], capture_output=True, text=True, check=True)
    copy_made = Path(done.stdout.strip())
    assert copy_made.name == "warehouse.duckdb"
    assert copy_made.parent.name.startswith("mentor-notebook-")
    assert not copy_made.parent.exists()  # a copy of pupils' data, outside every retention rule: gone
