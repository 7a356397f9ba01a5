"""A second, independent world of known futures, for evaluation only (see simulate.py for its causal story).

``generate_world(WorldSpec(seed=7), exports, truth)`` writes a trust's contract exports (one folder per school,
named by URN) up to the extract date, and apart from them the truth: each pupil's outcome over the next 30 school
days (``outcomes.csv``) and the rows damaged on purpose (``world.json``). It shares no code with pipeline.sample.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from pipeline.evaluate.world.simulate import SchoolSpec, SchoolWorld, WorldSpec, simulate
from pipeline.evaluate.world.write import write_school, write_truth


def generate_world(spec: WorldSpec, exports: Path, truth: Path) -> list[SchoolWorld]:
    """Simulate the world and write its exports and truth (both folders are replaced)."""
    worlds = simulate(spec)
    for folder in (exports, truth):
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True, mode=0o700)
    damaged: dict[str, int] = {}
    for world in worlds:
        for file, rows in write_school(world, exports / world.spec.urn, spec.damage).items():
            damaged[f"{world.spec.urn}/{file}"] = rows
    write_truth(worlds, truth, _jsonable(spec), damaged)
    return worlds


def small_world(seed: int, pupils: int = 60) -> WorldSpec:
    """A quick world for tests: the same three schools, ``pupils`` on roll each."""
    base = WorldSpec(seed=seed)
    return dataclasses.replace(base, schools=tuple(dataclasses.replace(s, pupils=pupils) for s in base.schools))


def _jsonable(spec: WorldSpec) -> dict[str, object]:
    data = dataclasses.asdict(spec)
    data["extract_date"] = spec.extract_date.isoformat()
    return data


__all__ = ["SchoolSpec", "SchoolWorld", "WorldSpec", "generate_world", "small_world"]
