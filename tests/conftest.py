"""Shared fixtures: the bundled synthetic sample, read once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
SAMPLE_TRUTH = ROOT / "data" / "sample-truth"


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """The committed default sample (``make sample`` regenerates it)."""
    if not any(p.is_dir() for p in SAMPLE.glob("[0-9]*")):
        pytest.fail("data/sample is missing: run `make sample` to regenerate it")
    return SAMPLE


@pytest.fixture(scope="session")
def sample_truth_dir() -> Path:
    if not (SAMPLE_TRUTH / "outcomes.csv").exists():
        pytest.fail("data/sample-truth is missing: run `make sample` to regenerate it")
    return SAMPLE_TRUTH
