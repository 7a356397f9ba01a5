"""The stages' import rules that docs/architecture.md states, checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PIPELINE = Path(__file__).resolve().parents[2] / "pipeline"


def imported_modules(package: str) -> dict[str, set[str]]:
    """Every module each file of ``pipeline/<package>`` imports (absolute names; relative imports resolved)."""
    found: dict[str, set[str]] = {}
    for path in sorted((PIPELINE / package).rglob("*.py")):
        parts = ("pipeline", *path.relative_to(PIPELINE).with_suffix("").parts)
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = list(parts[: len(parts) - node.level]) if node.level else []
                module = ".".join([*base, *([node.module] if node.module else [])])
                names.add(module)
                names.update(f"{module}.{alias.name}" for alias in node.names)
        found[str(path.relative_to(PIPELINE.parent))] = names
    return found


@pytest.mark.parametrize(("package", "forbidden"), [("evaluate", "pipeline.report"), ("report", "pipeline.evaluate")])
def test_evaluate_and_report_share_pages_but_never_import_each_other(package: str, forbidden: str) -> None:
    offenders = {
        path: sorted(name for name in names if name == forbidden or name.startswith(forbidden + "."))
        for path, names in imported_modules(package).items()
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_checker_sees_lazy_and_relative_imports() -> None:
    """The walk reaches imports inside functions (release.py imports the pages lazily) and resolves ``from .x``."""
    release = imported_modules("evaluate")["pipeline/evaluate/release.py"]
    assert "pipeline.pages.render" in release
    report = imported_modules("report")
    assert any(name.startswith("pipeline.") for names in report.values() for name in names)
