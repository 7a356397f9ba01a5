"""Output files are written durably: flushed, renamed into place, then their folder flushed; never half written."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from pipeline.safe_csv import atomic_write, write_csv, write_json, write_text


@pytest.fixture
def synced(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, bool]]:
    """Every fsync: ("folder" or "file", its path, whether the target file existed at the time)."""
    calls: list[tuple[str, str, bool]] = []
    real = os.fsync

    def fsync(descriptor: int) -> None:
        kind = "folder" if stat.S_ISDIR(os.fstat(descriptor).st_mode) else "file"
        calls.append((kind, str(Path(f"/proc/self/fd/{descriptor}").readlink()), TARGET[0].exists()))
        real(descriptor)

    monkeypatch.setattr(os, "fsync", fsync)
    return calls


TARGET: list[Path] = [Path("/nonexistent")]


@pytest.mark.parametrize(
    "writer",
    [
        lambda path: write_csv(pd.DataFrame({"a": ["=1+1"]}), path),
        lambda path: write_json({"a": 1}, path),
        lambda path: write_text("<html></html>\n", path),
    ],
)
def test_the_file_then_the_renamed_entry_are_flushed_to_disk(tmp_path: Path, synced: list, writer: object) -> None:
    target = tmp_path / "new folder" / "out.file"
    TARGET[0] = target
    writer(target)  # type: ignore[operator]
    kinds = [kind for kind, _, _ in synced]
    # The new folder is flushed into its parent, the temporary file's content is flushed before the rename, and
    # the folder holding the renamed file is flushed after it.
    assert kinds == ["folder", "file", "folder"]
    assert synced[0][1] == str(tmp_path)
    assert synced[1][1].startswith(str(target.parent / ".out.file."))
    assert not synced[1][2]
    assert synced[2] == ("folder", str(target.parent), True)
    assert target.stat().st_mode & 0o777 == 0o600
    assert target.parent.stat().st_mode & 0o777 == 0o700


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    write_text("old\n", target)

    def broken(out: object) -> None:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(target, broken)
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_csv_cells_that_look_like_formulas_are_text(tmp_path: Path) -> None:
    path = write_csv(pd.DataFrame({"name": ["=HYPERLINK(1)", "@SUM(A1)", "Smith"]}), tmp_path / "x.csv")
    assert path.read_text(encoding="utf-8-sig").splitlines() == ["name", "'=HYPERLINK(1)", "'@SUM(A1)", "Smith"]


def test_a_value_rounded_to_nothing_is_written_0_not_minus_0(tmp_path: Path) -> None:
    """caseload.csv showed a mentee's gap to target before mentoring as "-0.0" (-0.004 rounded)."""
    frame = pd.DataFrame(
        {
            "gap": pd.Series([round(-0.004, 2), -0.67, float("nan")], dtype=float),
            "gap_or_none": pd.Series([round(-0.004, 2), None, 1.5], dtype=object),  # as a column holding None is
        }
    )
    path = write_csv(frame, tmp_path / "x.csv")
    assert path.read_text(encoding="utf-8-sig").splitlines() == ["gap,gap_or_none", "0.0,0.0", "-0.67,", ",1.5"]
