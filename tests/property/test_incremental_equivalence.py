"""Row-level incremental loading gives exactly what checking every line gives.

Two warehouses load the same first delivery; then the same second delivery (amended, added, removed, repeated,
fixed and broken lines; a pupil added to the roll) is loaded incrementally into one and with every line checked
again (``force``) into the other. The staged tables, the raw layer, the night's quarantine and every count must
be the same; only lineage (which load and line a row came from) may differ.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.ingest import IngestResult, ingest
from pipeline.upn import make_upn
from pipeline.warehouse import STAGED_COLUMNS, connect

ROLL = [make_upn(801, 4000, 14, n) for n in range(1, 6)]
NOT_ON_ROLL = make_upn(801, 4000, 14, 99)
HEADER = "upn,surname,forename,date_of_birth,sex,year_group,leaving_date,sen_provision,fsm_eligible\n"
LINEAGE = {"load_id", "line_number", "file_sha256", "source_file", "loaded_at", "checked_on"}
COUNTS = ("rows_read", "rows_loaded", "rows_quarantined", "values_blanked", "duplicates_dropped",
          "withdrawn_codes_mapped")  # fmt: skip

Nights = tuple[list[str], list[str], list[str], list[str], int]
mark_line = st.builds(
    lambda upn, day, session, mark: f"{upn},{day},{session},{mark}",
    st.sampled_from([*ROLL, NOT_ON_ROLL, ROLL[0].lower(), "Z" + ROLL[1][1:]]),
    st.sampled_from(["2025-11-03", "03/11/2025", "2025-11-04", "04/11/2025", "2025-11-05", "2025-13-01", "2026-01-05"]),
    st.sampled_from(["AM", "PM", "am", "XX"]),
    st.sampled_from(["/", "\\", "L", "N", "U", "I", "#", "-", "", "C2", "H", "Q9"]),
)
pupil_line = st.builds(
    lambda upn, sex: f"{upn},Example,Pupil,2014-03-01,{sex},7,,N,N",
    st.sampled_from(ROLL),
    st.sampled_from(["F", "M", "X"]),  # X is blanked with a reported warning
)


@st.composite
def two_nights(draw: st.DrawFn) -> Nights:
    """(pupils, marks) of night 1 and night 2, and how many days later night 2 is loaded."""
    pupils_1 = draw(st.lists(pupil_line, min_size=1, max_size=5))
    marks_1 = draw(st.lists(mark_line, min_size=1, max_size=25))
    kept = [line for line in marks_1 if draw(st.booleans()) or draw(st.booleans())]  # most lines are delivered again
    changed = draw(st.lists(mark_line, max_size=6))
    repeated = draw(st.lists(st.sampled_from(marks_1), max_size=3))
    marks_2 = draw(st.permutations(kept + changed + repeated)) or marks_1
    pupils_2 = draw(st.sampled_from([pupils_1, [*pupils_1, draw(pupil_line)], draw(st.lists(pupil_line, min_size=1))]))
    return pupils_1, marks_1, pupils_2, marks_2, draw(st.sampled_from([0, 1, 3]))


def _deliver(folder: Path, pupils: list[str], marks: list[str]) -> Path:
    school = folder / "100001"
    school.mkdir(parents=True, exist_ok=True)
    (school / "pupils.csv").write_text(HEADER + "".join(f"{p}\n" for p in pupils))
    (school / "attendance.csv").write_text("upn,date,session,mark\n" + "".join(f"{m}\n" for m in marks))
    return folder


def _table(con: duckdb.DuckDBPyConnection, table: str, where: str = "true") -> list[tuple[object, ...]]:
    columns = [c for (c,) in con.execute(f"select column_name from (describe {table})").fetchall() if c not in LINEAGE]
    rows = con.execute(f"select {', '.join(columns)} from {table} where {where}").fetchall()
    return sorted(rows, key=repr)


def _counts(result: IngestResult) -> dict[str, tuple[object, ...]]:
    """Counts of the files read (a file byte-identical to the last delivery is skipped unread, unless forced)."""
    return {f.file: tuple(getattr(f, c) for c in COUNTS) for f in result.files if f.status == "loaded"}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(two_nights())
def test_an_incremental_load_equals_checking_every_line(nights: Nights) -> None:
    pupils_1, marks_1, pupils_2, marks_2, days_later = nights
    first, second = dt.date(2025, 11, 22), dt.date(2025, 11, 22) + dt.timedelta(days=days_later)
    with tempfile.TemporaryDirectory() as folder:
        night_1 = _deliver(Path(folder) / "1", pupils_1, marks_1)
        night_2 = _deliver(Path(folder) / "2", pupils_2, marks_2)
        incremental, full = connect(), connect()
        for con in (incremental, full):
            ingest(con, night_1, today=first, load_id="night1")
        by_row = ingest(incremental, night_2, today=second, load_id="night2")
        by_file = ingest(full, night_2, today=second, load_id="night2", force=True)

    read = _counts(by_row)
    assert read == {name: counts for name, counts in _counts(by_file).items() if name in read}
    for result in (by_row, by_file):
        assert all(f.reconciles for f in result.files if f.status == "loaded")
    for table in STAGED_COLUMNS:
        assert _table(incremental, table) == _table(full, table), table
        assert _table(incremental, f"raw_{table}") == _table(full, f"raw_{table}"), f"raw_{table}"
    files = ", ".join(f"'{name}'" for name in read) or "''"
    night = f"load_id = 'night2' and file in ({files})"
    assert _table(incremental, "quarantine", night) == _table(full, "quarantine", night)


def test_a_normal_night_checks_only_the_new_lines(tmp_path: Path) -> None:
    marks = [f"{u},2025-11-03,{s},/" for u in ROLL for s in ("AM", "PM")]
    new_day = [f"{u},2025-11-04,{s},/" for u in ROLL for s in ("AM", "PM")]
    pupils = [f"{u},Example,Pupil,2014-03-01,F,7,,N,N" for u in ROLL]
    con = connect()
    ingest(con, _deliver(tmp_path / "1", pupils, marks), today=dt.date(2025, 11, 3))
    result = ingest(con, _deliver(tmp_path / "2", pupils, marks + new_day), today=dt.date(2025, 11, 4))
    attendance = next(f for f in result.files if f.file == "attendance.csv")
    pupils_file = next(f for f in result.files if f.file == "pupils.csv")
    assert pupils_file.status == "unchanged"  # same content: not read again
    assert (attendance.rows_read, attendance.rows_unchanged, attendance.rows_loaded) == (20, 10, 20)
    assert con.execute("select count(*) from attendance").fetchone() == (20,)


def test_an_unchanged_file_is_read_again_when_a_quarantined_line_may_now_load(tmp_path: Path) -> None:
    # Night 1: a mark for a pupil not yet on roll is quarantined. Night 2: the pupil joins; the marks file is
    # byte-identical, but the mark must load now, as it would in a rebuild.
    marks = [f"{ROLL[1]},2025-11-03,AM,/"]
    con = connect()
    ingest(con, _deliver(tmp_path / "1", [f"{ROLL[0]},Example,Pupil,2014-03-01,F,7,,N,N"], marks),
           today=dt.date(2025, 11, 3))  # fmt: skip
    assert con.execute("select count(*) from attendance").fetchone() == (0,)
    roll = [f"{u},Example,Pupil,2014-03-01,F,7,,N,N" for u in ROLL[:2]]
    result = ingest(con, _deliver(tmp_path / "2", roll, marks), today=dt.date(2025, 11, 4))
    assert next(f for f in result.files if f.file == "attendance.csv").status == "loaded"
    assert con.execute("select upn, mark from attendance").fetchall() == [(ROLL[1], "/")]


def test_a_delivery_that_reverts_to_an_earlier_one_is_loaded_again(tmp_path: Path) -> None:
    pupils = [f"{u},Example,Pupil,2014-03-01,F,7,,N,N" for u in ROLL]
    first, amended = [f"{ROLL[0]},2025-11-03,AM,N"], [f"{ROLL[0]},2025-11-03,AM,/"]
    con = connect()
    for night, marks in enumerate((first, amended, first), start=1):
        ingest(con, _deliver(tmp_path / str(night), pupils, marks), today=dt.date(2025, 11, 3 + night))
    assert con.execute("select mark from attendance").fetchall() == [("N",)]


def test_a_key_delivered_twice_is_counted_the_same_on_the_next_night(tmp_path: Path) -> None:
    # The same mark written two ways (ISO and UK date) is one key: the second copy is dropped as a duplicate on
    # every night, not counted as an unchanged line the night after.
    pupils = [f"{ROLL[0]},Example,Pupil,2014-03-01,F,7,,N,N"]
    marks = [f"{ROLL[0]},2025-11-04,AM,/", f"{ROLL[0]},04/11/2025,AM,/", f"{ROLL[0]},2025-11-03,AM,/"]
    con = connect()
    ingest(con, _deliver(tmp_path / "1", pupils, marks), today=dt.date(2025, 11, 5))
    result = ingest(con, _deliver(tmp_path / "2", pupils, [*marks, f"{ROLL[0]},2025-11-05,AM,/"]),
                    today=dt.date(2025, 11, 5))  # fmt: skip
    attendance = next(f for f in result.files if f.file == "attendance.csv")
    assert (attendance.rows_read, attendance.rows_loaded, attendance.duplicates_dropped) == (4, 4, 1)
    assert attendance.rows_unchanged == 1  # only the 3 November mark
