"""Long work shows a bar on a terminal and plain log lines elsewhere (never a bar in a scheduler's log)."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
from rich.console import Console

from pipeline.progress import steps


def test_off_a_terminal_each_step_is_one_log_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pipeline.progress")
    with steps(3, "schools", terminal=False) as step:
        for urn in ("100001", "100002", "100003"):
            step(urn)
    assert [r.getMessage() for r in caplog.records] == [
        "schools 1/3: 100001",
        "schools 2/3: 100002",
        "schools 3/3: 100003",
    ]


def test_on_a_terminal_a_bar_is_drawn_and_each_step_is_printed(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pipeline.progress")
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)
    with steps(2, "schools", console=console) as step:
        step("100001")
        step("100002")
    text = screen.getvalue()
    assert "schools: 100001" in text
    assert "schools: 100002" in text
    assert "━" in text  # the bar itself
    assert caplog.records == []  # no log lines when a bar is shown


def test_ingest_says_as_each_school_has_loaded(tmp_path: Path) -> None:
    from pipeline.ingest import ingest
    from pipeline.sample import SampleSpec, generate_trust
    from pipeline.warehouse import connect

    spec = SampleSpec(seed=7, schools=2, pupils_per_school=40, years=1)
    generate_trust(spec, tmp_path / "exports", tmp_path / "truth")
    told: list[str] = []
    ingest(connect(), tmp_path / "exports", today=spec.end_date, progress=told.append)
    assert sorted(told) == ["1 of 2 schools loaded", "2 of 2 schools loaded"]
