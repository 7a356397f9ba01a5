"""`mentor purge --before` never reaches a pupil still on roll: a date after today is refused, removing nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipeline.ingest import ingest
from pipeline.retention import purge_leavers
from pipeline.upn import make_upn
from pipeline.warehouse import connect

TODAY = dt.date(2025, 11, 7)
LEFT, LEAVING = (make_upn(801, 4000, 14, n) for n in (1, 2))


def _warehouse(tmp_path: Path):  # type: ignore[no-untyped-def]
    school = tmp_path / "100001"
    school.mkdir()
    (school / "pupils.csv").write_text(
        "upn,surname,forename,date_of_birth,sex,year_group,leaving_date,sen_provision,fsm_eligible\n"
        f"{LEFT},Example,Left,2012-03-01,F,9,2025-07-18,N,N\n"
        f"{LEAVING},Example,Leaving,2012-03-02,F,9,2025-12-19,N,N\n",  # on roll: leaves at Christmas
        encoding="utf-8",
    )
    (school / "attendance.csv").write_text(
        f"upn,date,session,mark\n{LEFT},2025-07-18,AM,/\n{LEAVING},2025-11-03,AM,/\n", encoding="utf-8"
    )
    con = connect()
    ingest(con, tmp_path, today=TODAY)
    return con


def test_a_date_after_today_is_refused_and_removes_nothing(tmp_path: Path) -> None:
    con = _warehouse(tmp_path)
    with pytest.raises(ValueError, match=r"--before 2026-01-01 is after today \(2025-11-07\): a pupil whose leaving"):
        purge_leavers(con, dt.date(2026, 1, 1), today=TODAY)
    assert con.execute("select count(*) from pupils").fetchone() == (2,)


def test_today_removes_the_leaver_and_keeps_the_pupil_leaving_later(tmp_path: Path) -> None:
    con = _warehouse(tmp_path)
    removed = purge_leavers(con, TODAY, today=TODAY)
    assert (removed["pupils"], removed["attendance"]) == (1, 1)
    assert con.execute("select upn from pupils").fetchall() == [(LEAVING,)]
