"""settings.example.toml, the file a new user copies, loads as it stands and names every setting there is."""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.config import Settings

EXAMPLE = Path(__file__).resolve().parents[2] / "settings.example.toml"


def test_the_example_loads_and_gives_the_defaults() -> None:
    assert Settings.load(EXAMPLE).fingerprint() == Settings().fingerprint()


def test_the_example_names_every_setting() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    # a setting as a line "name = value", or a table as "[name]" (commented out where the example has no school)
    named = {a or b for a, b in re.findall(r"^#?\s*(?:\[([a-z_]+)\]|([a-z_]+)\s*=)", text, flags=re.MULTILINE)}
    assert set(Settings.model_fields) <= named


def test_the_example_copied_beside_the_warehouse_loads_and_gives_the_defaults(tmp_path: Path) -> None:
    """A data lead copies it to /etc/mentor or beside the warehouse: its scorecard line, a path relative to the
    file, named a card that is not there (exit 2, "cannot read scorecard …/models/scorecard-v6.yaml")."""
    copy = tmp_path / "settings.toml"
    copy.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    assert Settings.load(copy).fingerprint() == Settings().fingerprint()


def test_every_settings_example_in_the_docs_loads(tmp_path: Path) -> None:
    """The pastoral guide's example wrote settings after `[mentors]`, where TOML reads them as schools: exit 2."""
    blocks = [
        (doc.name, block)
        for doc in sorted((EXAMPLE.parent / "docs").glob("*.md"))
        for block in re.findall(r"```toml\n(.*?)```", doc.read_text(encoding="utf-8"), flags=re.DOTALL)
    ]
    assert blocks
    for number, (name, block) in enumerate(blocks):
        config = tmp_path / f"{number}.toml"
        config.write_text(block, encoding="utf-8")
        assert Settings.load(config), name
