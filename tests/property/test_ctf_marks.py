"""Session marks written into a CTF's AttendSessions string are read back as the same marks on the same sessions."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from hypothesis import given
from hypothesis import strategies as st

from pipeline.codes import ATTENDANCE_CODES, WITHDRAWN_CODES
from pipeline.ingest.ctf import _marks
from pipeline.sample.ctf import _attendance

START = dt.date(2024, 9, 2)
MARKS = sorted({*ATTENDANCE_CODES, *WITHDRAWN_CODES, "-"})


@given(
    st.dictionaries(
        st.tuples(st.integers(min_value=0, max_value=500), st.sampled_from(["AM", "PM"])),
        st.sampled_from(MARKS),
        min_size=1,
        max_size=60,
    )
)
def test_marks_round_trip_through_attend_sessions(sessions: dict[tuple[int, str], str]) -> None:
    rows = [
        {"date": (START + dt.timedelta(days=day)).isoformat(), "session": session, "mark": mark}
        for (day, session), mark in sessions.items()
    ]
    pupil = ET.Element("Pupil")
    _attendance(ET.SubElement(pupil, "Attendance"), rows, "801", "4000")
    read = sorted(_marks(ET.fromstring(ET.tostring(pupil))))
    assert read == sorted((r["date"], r["session"], r["mark"]) for r in rows)
