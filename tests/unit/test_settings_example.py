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
