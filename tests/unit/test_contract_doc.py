"""docs/contract.md and pipeline/contract.py describe the same files, columns, aliases and optional columns."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.contract import EXPORT_FILES, FILES_BY_NAME, read_header

DOC = Path(__file__).resolve().parents[2] / "docs" / "contract.md"
CELL = re.compile(r"`([^`]+)`")


def _doc_tables() -> dict[str, dict[str, tuple[list[str], bool, str]]]:
    """File name -> column -> (aliases, required, what its absence means), from the doc's column tables."""
    tables: dict[str, dict[str, tuple[list[str], bool, str]]] = {}
    current = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^## (\S+\.csv)\b", line)
        if heading:
            current = tables.setdefault(heading.group(1), {})
            continue
        if line.startswith("## "):
            current = None
        if current is None or not line.startswith("| `"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        assert len(cells) == 5, line
        name = CELL.fullmatch(cells[0])
        assert name is not None, line
        current[name.group(1)] = (CELL.findall(cells[1]), cells[3] == "yes", cells[4])
    return tables


def test_every_file_column_and_alias_in_the_code_is_in_the_doc_and_the_other_way_round() -> None:
    doc = _doc_tables()
    code = {
        f.name: {c.name: (list(c.aliases), c.required, c.absent_means or "—") for c in f.columns} for f in EXPORT_FILES
    }
    assert doc == code


def test_every_optional_column_says_what_its_absence_means() -> None:
    for export in EXPORT_FILES:
        for column in export.columns:
            assert column.required or column.absent_means, f"{export.name} {column.name}"
            assert column.nullable or column.required, f"{export.name} {column.name}: optional but not nullable"


def test_the_columns_the_issue_names_are_optional() -> None:
    pupils, marks = FILES_BY_NAME["pupils.csv"], FILES_BY_NAME["attendance.csv"]
    for name in ("leaving_date", "pupil_premium", "looked_after", "ethnicity", "reg_group", "admission_date", "mis_id"):
        assert not pupils.column(name).required, name
    assert not marks.column("minutes_late").required


@pytest.mark.parametrize("style", ["SIMS", "Arbor", "Bromcom"])
def test_the_docs_example_headers_match_every_column(style: str) -> None:
    text = DOC.read_text(encoding="utf-8")
    pupils = re.search(rf"\*\*{style}\*\*[^\n]*:\n\s*`([^`]+)`", text)
    assert pupils is not None
    reading = read_header(FILES_BY_NAME["pupils.csv"], pupils.group(1).split(","))
    assert reading.unknown == []
    assert (reading.missing_required, reading.missing_optional) == ([], [])
    attendance = re.search(rf"`([^`]+)` \({style}\)", text)
    assert attendance is not None
    reading = read_header(FILES_BY_NAME["attendance.csv"], attendance.group(1).split(","))
    assert (reading.unknown, reading.missing_required, reading.missing_optional) == ([], [], [])


def test_nothing_points_outside_the_repository() -> None:
    root = DOC.parents[1]
    outside = re.compile(r"\.\./shared|shared/(contracts|design)")
    skipped = {".venv", ".git", "data", "out", "node_modules"}
    tops = [p for p in root.iterdir() if p.name not in skipped and not p.name.startswith(".")]
    texts = [
        path
        for top in tops
        for path in ([top] if top.is_file() else top.rglob("*"))
        if path.suffix in {".py", ".md", ".toml", ".ipynb", ".yaml", ".cfg", ".txt", ".sql", ".j2", ".html"}
        and path != Path(__file__).resolve()
    ]
    assert any(p.name == "README.md" for p in texts)
    for path in [*texts, root / "Makefile"]:
        assert not outside.search(path.read_text(encoding="utf-8", errors="replace")), path
