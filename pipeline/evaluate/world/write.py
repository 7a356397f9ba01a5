"""Write a simulated school as its MIS would export it (contract files), and its futures apart from the exports.

Each school's MIS writes in its own way, all within the contract: ``plain`` (canonical headers, ISO dates, UTF-8),
``aliases`` (SIMS-style headers such as ``Legal Surname`` and ``Session Date``, UK dates, Windows-1252, CRLF) and
``yes-no`` (canonical headers, UK dates, ``Y``/``N`` booleans, ``Male``/``Female``, UTF-8 with a BOM).
Only what a school could know on the extract date is written: no mark, incident or result dated after it.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.evaluate.world.simulate import CODES, SchoolWorld
from pipeline.evaluate.world.tables import make_upn

HEADERS: dict[str, dict[str, str]] = {
    "aliases": {
        "upn": "UPN", "mis_id": "Adno", "surname": "Legal Surname", "forename": "Legal Forename",
        "date_of_birth": "DOB", "sex": "Gender", "year_group": "NC Year", "reg_group": "Reg Group",
        "admission_date": "Admission Date", "leaving_date": "Leaving Date", "sen_provision": "SEN Status",
        "fsm_eligible": "FSM", "pupil_premium": "Pupil Premium", "eal": "EAL", "looked_after": "In LA Care",
        "ethnicity": "Ethnic Code", "date": "Date", "session": "AM/PM", "mark": "Mark", "minutes_late": "Mins Late",
        "subject": "Subject", "assessment_point": "Result Set", "result_type": "Result Type", "result": "Result",
        "incident_id": "Incident ID", "category": "Type", "points": "Behaviour Points", "action": "Action",
        "start_date": "Start Date", "sessions": "Length (sessions)", "reason": "Reason",
        "intervention": "Intervention", "end_date": "End Date", "outcome": "Outcome",
    },
}  # fmt: skip
DAMAGED_MARK = "?"
"""Not an attendance code: a row carrying it must be quarantined."""


def write_school(world: SchoolWorld, folder: Path, damage: bool) -> dict[str, int]:
    """Write the school's six export files into ``folder``; return the rows damaged on purpose, per file."""
    folder.mkdir(parents=True, exist_ok=True)
    style = world.spec.style
    extract = world.extract_index
    days = world.days
    pupils = world.pupils
    written = pupils[pupils["first"] <= extract]
    upn = pupils["upn"].to_numpy()
    damaged: dict[str, int] = {}

    def date(value: Any) -> str:
        if not isinstance(value, dt.date):
            return ""
        return value.strftime("%d/%m/%Y") if style in ("aliases", "yes-no") else value.isoformat()

    def flag(value: Any) -> str:
        return ("Y" if value else "N") if style == "yes-no" else ("Yes" if value else "No")

    _write(
        folder / "pupils.csv",
        style,
        ["upn", "mis_id", "surname", "forename", "date_of_birth", "sex", "year_group", "reg_group", "admission_date",
         "leaving_date", "sen_provision", "fsm_eligible", "pupil_premium", "eal", "looked_after", "ethnicity"],
        (
            [p["upn"], p["mis_id"], p["surname"], p["forename"], date(p["date_of_birth"]),
             ({"F": "Female", "M": "Male"}[p["sex"]] if style == "yes-no" else p["sex"]), p["year_group"],
             p["reg_group"], date(p["admission_date"]), date(p["leaving_date"]), p["sen_provision"],
             flag(p["fsm_eligible"]), flag(p["pupil_premium"]), flag(p["eal"]), flag(p["looked_after"]),
             p["ethnicity"]]
            for p in _records(written)
        ),
    )  # fmt: skip

    marks = world.marks[:, : extract + 1, :]
    pupil_index, day_index, session_index = np.nonzero(marks)
    codes = np.array(CODES, dtype=object)[marks[pupil_index, day_index, session_index]]
    late = world.minutes_late[pupil_index, day_index]
    day_text = [date(d) for d in days[: extract + 1]]
    attendance_rows = [
        [upn[p], day_text[d], "AM" if s == 0 else "PM", code, str(int(m)) if s == 0 and m > 0 else ""]
        for p, d, s, code, m in zip(pupil_index, day_index, session_index, codes, late, strict=True)
    ]
    if damage and style == "plain":
        for row in attendance_rows[1000:3000:1000] + attendance_rows[-5:-4]:
            row[3] = DAMAGED_MARK
        damaged["attendance.csv"] = 3
    _write(folder / "attendance.csv", style, ["upn", "date", "session", "mark", "minutes_late"], attendance_rows)

    results = world.assessments[world.assessments["date"] <= days[extract]]
    _write(
        folder / "assessments.csv",
        style,
        ["upn", "subject", "assessment_point", "date", "result_type", "result"],
        ([upn[r["pupil"]], r["subject"], r["assessment_point"], date(r["date"]), r["result_type"], r["result"]]
         for r in _records(results)),
    )  # fmt: skip

    incidents = world.behaviour[world.behaviour["day"] <= extract].reset_index(drop=True)
    behaviour_rows = [
        [upn[r["pupil"]], f"B{i + 5001}", date(days[r["day"]]), r["category"], str(r["points"]), r["action"]]
        for i, r in enumerate(_records(incidents))
    ]
    if damage and style == "aliases":
        stranger = make_upn(999, 9999, 2012, 999)  # a valid UPN of nobody on this school's roll
        behaviour_rows += [[stranger, f"X{i}", date(days[extract - i]), "Disruption", "-1", ""] for i in (1, 2)]
        damaged["behaviour.csv"] = 2
    _write(folder / "behaviour.csv", style, ["upn", "incident_id", "date", "category", "points", "action"],
           behaviour_rows)  # fmt: skip

    exclusions = world.exclusions[world.exclusions["day"] <= extract]
    _write(
        folder / "exclusions.csv",
        style,
        ["upn", "start_date", "category", "sessions", "reason"],
        (
            [upn[r["pupil"]], date(days[r["day"]]), "SUSP", str(r["sessions"]), r["reason"]]
            for r in _records(exclusions)
        ),
    )
    support = world.interventions[world.interventions["day"] <= extract]
    _write(
        folder / "interventions.csv",
        style,
        ["upn", "intervention", "start_date", "end_date", "outcome"],
        ([upn[r["pupil"]], r["intervention"], date(days[r["day"]]),
          date(days[r["end_day"]]) if r["end_day"] <= extract else "",
          "Completed" if r["end_day"] <= extract else ""]
         for r in _records(support)),
    )  # fmt: skip
    return damaged


def write_truth(worlds: Sequence[SchoolWorld], folder: Path, spec: dict[str, Any], damaged: dict[str, int]) -> Path:
    """``outcomes.csv`` (one row per pupil on roll on the extract date) and ``world.json`` (the spec and the rows
    damaged on purpose), owner-only. Never an export: the pipeline does not read it."""
    from pipeline.safe_csv import write_csv, write_json

    folder.mkdir(parents=True, exist_ok=True)
    outcomes = pd.concat([w.outcomes for w in worlds], ignore_index=True)
    write_csv(outcomes, folder / "outcomes.csv")
    write_json({"spec": spec, "damaged": damaged}, folder / "world.json")
    return folder / "outcomes.csv"


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def _write(path: Path, style: str, columns: list[str], rows: Iterable[Sequence[str]]) -> None:
    names = HEADERS.get(style, {})
    encoding = {"aliases": "cp1252", "yes-no": "utf-8-sig"}.get(style, "utf-8")
    newline = "\r\n" if style == "aliases" else "\n"
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, lineterminator=newline)
        writer.writerow([names.get(c, c) for c in columns])
        writer.writerows(rows)
    path.chmod(0o600)


__all__ = ["write_school", "write_truth"]
