"""Row-level incremental loading gives exactly what checking every line gives.

Two warehouses load the same three nights of deliveries (amended, added, removed, repeated, fixed and broken lines;
a pupil added to the roll; a night may be a delta, holding only new and changed lines; a night's attendance.csv may
quote its fields, so that it is read by the CSV reader rather than as whole lines): one incrementally, the
other checking every line again each night (``force``). After each night the staged tables, the raw layer, the
night's quarantine (of every file, read or passed over as unchanged) and every count must be the same; only lineage
(which load and line a row came from) may differ. Some lines cannot be read at all (a field too many, a stray quote).
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
LINEAGE = {"load_id", "line_number", "file_sha256", "source_file", "loaded_at", "checked_on", "delivery"}
COUNTS = ("rows_read", "rows_loaded", "rows_quarantined", "values_blanked", "duplicates_dropped",
          "withdrawn_codes_mapped")  # fmt: skip

Night = tuple[list[str], list[str], int, bool]
"""A night's pupils.csv lines, attendance.csv lines, how many days after the night before it is loaded, and whether
its attendance.csv quotes every field."""


def _broken(lines: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Now and then a line that cannot be read at all (a field too many, a stray quote): it is in no table."""
    return st.one_of(lines, lines.map(lambda line: f"{line},extra"), lines.map(lambda line: line.replace(",", ',"', 1)))


mark_line = _broken(
    st.builds(
        lambda upn, day, session, mark: f"{upn},{day},{session},{mark}",
        st.sampled_from([*ROLL, NOT_ON_ROLL, ROLL[0].lower(), "Z" + ROLL[1][1:]]),
        st.sampled_from(
            # the last three: two month first (a file of such is refused) and one day first
            [
                *("2025-11-03", "03/11/2025", "2025-11-04", "04/11/2025", "2025-11-05", "2025-13-01", "2026-01-05"),
                *("10/13/2025", "10/14/2025", "13/10/2025"),
            ]
        ),
        st.sampled_from(["AM", "PM", "am", "XX"]),
        st.sampled_from(["/", "\\", "L", "N", "U", "I", "#", "-", "", "C2", "H", "Q9"]),
    )
)
pupil_line = _broken(
    st.builds(
        lambda upn, sex: f"{upn},Example,Pupil,2014-03-01,{sex},7,,N,N",
        st.sampled_from(ROLL),
        st.sampled_from(["F", "M", "X"]),  # X is blanked with a reported warning
    )
)


@st.composite
def three_nights(draw: st.DrawFn) -> list[Night]:
    """Three nights of deliveries, each made from the one before."""
    pupils = draw(st.lists(pupil_line, min_size=1, max_size=5))
    marks = draw(st.lists(mark_line, min_size=1, max_size=25))
    nights = [(pupils, marks, 0, draw(st.booleans()))]
    delivered = list(marks)
    for _ in range(2):
        delta = draw(st.booleans())  # only new and changed lines, not the year to date
        kept = [] if delta else [line for line in marks if draw(st.booleans()) or draw(st.booleans())]
        # new lines, and lines of earlier nights delivered again (a mark amended back to what it was)
        changed = draw(st.lists(st.one_of(mark_line, st.sampled_from(delivered)), max_size=6))
        repeated = draw(st.lists(st.sampled_from(marks), max_size=3))
        marks = draw(st.permutations(kept + changed + repeated)) or marks
        pupils = draw(st.sampled_from([pupils, [*pupils, draw(pupil_line)], draw(st.lists(pupil_line, min_size=1))]))
        nights.append((pupils, marks, draw(st.sampled_from([0, 1, 3])), draw(st.booleans())))
        delivered += marks
    return nights


def _deliver(folder: Path, pupils: list[str], marks: list[str], quoted: bool = False) -> Path:
    school = folder / "100001"
    school.mkdir(parents=True, exist_ok=True)
    (school / "pupils.csv").write_text(HEADER + "".join(f"{p}\n" for p in pupils))
    lines = [",".join(f'"{v}"' for v in m.split(",")) if quoted else m for m in marks]
    (school / "attendance.csv").write_text("upn,date,session,mark\n" + "".join(f"{m}\n" for m in lines))
    return folder


def _table(con: duckdb.DuckDBPyConnection, table: str, where: str = "true") -> list[tuple[object, ...]]:
    columns = [c for (c,) in con.execute(f"select column_name from (describe {table})").fetchall() if c not in LINEAGE]
    rows = con.execute(f"select {', '.join(columns)} from {table} where {where}").fetchall()
    return sorted(rows, key=repr)


def _counts(result: IngestResult) -> dict[str, tuple[object, ...]]:
    """Counts of the files read (a file byte-identical to the last delivery is skipped unread, unless forced)."""
    return {f.file: tuple(getattr(f, c) for c in COUNTS) for f in result.files if f.status == "loaded"}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(three_nights())
def test_an_incremental_load_equals_checking_every_line(nights: list[Night]) -> None:
    incremental, full = connect(), connect()
    today = dt.date(2025, 11, 22)
    with tempfile.TemporaryDirectory() as folder:
        for number, (pupils, marks, days_later, quoted) in enumerate(nights, start=1):
            today += dt.timedelta(days=days_later)
            delivery = _deliver(Path(folder) / str(number), pupils, marks, quoted)
            load_id = f"night{number}"
            by_row = ingest(incremental, delivery, today=today, load_id=load_id)
            by_file = ingest(full, delivery, today=today, load_id=load_id, force=number > 1)

            read = _counts(by_row)
            assert read == {name: counts for name, counts in _counts(by_file).items() if name in read}
            for result in (by_row, by_file):
                assert all(f.reconciles for f in result.files if f.status == "loaded")
            for table in STAGED_COLUMNS:
                assert _table(incremental, table) == _table(full, table), (number, table)
                assert _table(incremental, f"raw_{table}") == _table(full, f"raw_{table}"), (number, f"raw_{table}")
            # The night's quarantine, of every file delivered: a file passed over unread as unchanged must have
            # nothing tonight's full check would quarantine (a line that could not be read is in no table).
            night = f"load_id = '{load_id}'"
            assert _table(incremental, "quarantine", night) == _table(full, "quarantine", night), number


def test_month_first_dates_on_the_new_lines_alone_are_judged_with_the_unchanged_lines(tmp_path: Path) -> None:
    """Two new lines dated month first (10/14/2025, 10/15/2025), the rest of the file as it loaded the night before,
    one of its lines dated day first (13/10/2025). Read whole, the file is day first with two bad lines; the new
    lines alone looked month first, and the file was refused on the second night only."""
    pupils = [f"{u},Example,Pupil,2014-03-01,F,7,,N,N" for u in ROLL]
    marks = [f"{ROLL[0]},13/10/2025,AM,/", *(f"{u},03/11/2025,AM,/" for u in ROLL)]
    new = [f"{ROLL[0]},10/14/2025,AM,/", f"{ROLL[0]},10/15/2025,AM,/"]
    incremental, full = connect(), connect()
    ingest(incremental, _deliver(tmp_path / "1", pupils, marks), today=dt.date(2025, 11, 3))
    night = _deliver(tmp_path / "2", pupils, marks + new)
    for con in (incremental, full):
        read = next(f for f in ingest(con, night, today=dt.date(2025, 11, 4)).files if f.file == "attendance.csv")
        assert (read.status, read.rows_quarantined) == ("loaded", 2)
    assert _table(incremental, "attendance") == _table(full, "attendance")


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


def test_withdrawn_codes_on_unchanged_lines_are_still_counted(tmp_path: Path) -> None:
    # The count is of the file's lines, as when every line is checked: the unchanged lines' marks come from the
    # raw lines they pair with, on a night that repeats the year to date and on one delivered as a delta.
    marks = [f"{ROLL[0]},2025-11-03,AM,H", f"{ROLL[0]},2025-11-03,PM,h", f"{ROLL[1]},2025-11-03,AM,/"]
    nights = [marks, [*marks, f"{ROLL[1]},2025-11-04,AM,Y"], [marks[0], f"{ROLL[1]},2025-11-05,AM,J"]]
    pupils = [f"{u},Example,Pupil,2014-03-01,F,7,,N,N" for u in ROLL]
    con = connect()
    counts = []
    for number, night in enumerate(nights, start=1):
        result = ingest(con, _deliver(tmp_path / str(number), pupils, night), today=dt.date(2025, 11, 5))
        counts += [(f.rows_unchanged, f.withdrawn_codes_mapped) for f in result.files if f.file == "attendance.csv"]
    assert counts == [(0, 2), (3, 3), (1, 2)]


def test_a_delta_adds_to_what_is_loaded_and_a_later_snapshot_finds_its_lines_unchanged(tmp_path: Path) -> None:
    # The contract allows a file to be a delta (only new and changed lines) as well as the year to date. A delta
    # leaves the marks it does not carry as they are, and the raw layer keeps their lines, so a snapshot of the
    # year to date on a later night checks only the lines that are new since.
    days = [[f"{u},2025-11-0{day},{s},/" for u in ROLL for s in ("AM", "PM")] for day in (3, 4, 5)]
    pupils = [f"{u},Example,Pupil,2014-03-01,F,7,,N,N" for u in ROLL]
    con = connect()
    ingest(con, _deliver(tmp_path / "1", pupils, days[0]), today=dt.date(2025, 11, 3))
    delta = ingest(con, _deliver(tmp_path / "2", pupils, days[1]), today=dt.date(2025, 11, 4))
    attendance = next(f for f in delta.files if f.file == "attendance.csv")
    assert (attendance.rows_read, attendance.rows_unchanged, attendance.rows_loaded) == (10, 0, 10)
    assert con.execute("select count(*) from attendance").fetchone() == (20,)
    snapshot = ingest(con, _deliver(tmp_path / "3", pupils, [*days[0], *days[1], *days[2]]), today=dt.date(2025, 11, 5))
    attendance = next(f for f in snapshot.files if f.file == "attendance.csv")
    assert (attendance.rows_read, attendance.rows_unchanged, attendance.rows_loaded) == (30, 20, 30)
    assert con.execute("select count(*) from attendance").fetchone() == (30,)


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
    # (no night was published on the amended delivery: the revert corrects it; see test_run_cli for one that was)
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
