"""Write one school's exports the way its MIS would: headers, date format, encoding and line endings.

Two flavours cover what the export contract asks the pipeline to accept: ``sims`` (SIMS report-builder style:
display headers, DD/MM/YYYY dates, Yes/No, Windows-1252, CRLF, ``-`` for no mark) and ``arbor`` (the contract's
snake_case headers, ISO dates, True/False, UTF-8 with a byte-order mark, LF, blank for no mark).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.sample.population import SchoolPlan
from pipeline.sample.simulate import CODE, MARKS, Exclusion, Incident, SchoolHistory

PUPIL_COLUMNS = (
    "upn", "mis_id", "surname", "forename", "date_of_birth", "sex", "year_group", "reg_group", "admission_date",
    "leaving_date", "sen_provision", "fsm_eligible", "pupil_premium", "eal", "looked_after", "ethnicity",
)  # fmt: skip
ATTENDANCE_COLUMNS = ("upn", "date", "session", "mark", "minutes_late")
ASSESSMENT_COLUMNS = ("upn", "subject", "assessment_point", "date", "result_type", "result")
BEHAVIOUR_COLUMNS = ("upn", "incident_id", "date", "category", "points", "action")
EXCLUSION_COLUMNS = ("upn", "start_date", "category", "sessions", "reason")
INTERVENTION_COLUMNS = ("upn", "intervention", "start_date", "end_date", "outcome")
DECISION_WORDS = {
    "sims": {"referred": "Referred", "declined": "Declined", "not now": "Not now",
             "supported elsewhere": "Supported elsewhere"},
    "arbor": {"referred": "referred", "declined": "declined", "not now": "not_now",
              "supported elsewhere": "supported_elsewhere"},
}  # fmt: skip


@dataclass(frozen=True)
class Flavour:
    name: str
    headers: dict[str, str]
    """Canonical column name -> the header this MIS writes (absent: the canonical name)."""
    date_format: str
    true: str
    false: str
    sex: dict[str, str]
    sen: dict[str, str]
    no_mark: str
    encoding: str
    line_end: str

    def header(self, column: str) -> str:
        return self.headers.get(column, column)


FLAVOURS = {
    "sims": Flavour(
        name="sims",
        headers={
            "upn": "UPN",
            "mis_id": "Adno",
            "surname": "Legal Surname",
            "forename": "Legal Forename",
            "date_of_birth": "DOB",
            "sex": "Gender",
            "year_group": "Year",
            "reg_group": "Reg",
            "admission_date": "Admission Date",
            "leaving_date": "Leaving Date",
            "sen_provision": "SEN Provision",
            "fsm_eligible": "FSM Eligible",
            "pupil_premium": "Pupil Premium Indicator",
            "eal": "EAL",
            "looked_after": "In LA Care",
            "ethnicity": "Ethnicity",
            "date": "Date",
            "session": "Session",
            "mark": "Mark",
            "minutes_late": "Minutes Late",
            "subject": "Subject",
            "assessment_point": "Result Set",
            "result_type": "Result Type",
            "result": "Result",
            "incident_id": "Incident ID",
            "category": "Behaviour Type",
            "points": "Points",
            "action": "Action",
            "start_date": "Start Date",
            "sessions": "Length (sessions)",
            "reason": "Reason",
            "intervention": "Intervention",
            "end_date": "End Date",
            "outcome": "Outcome",
            "decision": "Decision",
            "review_date": "Review Date",
        },
        date_format="%d/%m/%Y",
        true="Yes",
        false="No",
        sex={"M": "Male", "F": "Female"},
        sen={"N": "N", "K": "K - SEN Support", "E": "E - EHC Plan"},
        no_mark="-",
        encoding="cp1252",
        line_end="\r\n",
    ),
    "arbor": Flavour(
        name="arbor",
        headers={},
        date_format="%Y-%m-%d",
        true="True",
        false="False",
        sex={"M": "M", "F": "F"},
        sen={"N": "N", "K": "K", "E": "E"},
        no_mark="",
        encoding="utf-8-sig",
        line_end="\n",
    ),
}
# The behaviour and exclusion files name their date and category columns differently in SIMS reports.
SIMS_FILE_HEADERS = {
    "behaviour.csv": {"date": "Incident Date"},
    "exclusions.csv": {"category": "Exclusion Type"},
    "assessments.csv": {"date": "Date"},
}


def write_school(
    school_dir: Path,
    plan: SchoolPlan,
    flavour: Flavour,
    pupils: pd.DataFrame,
    keep: np.ndarray,
    history: SchoolHistory,
    marks: np.ndarray,
    assessments: pd.DataFrame,
    interventions: pd.DataFrame,
    end_date: dt.date,
) -> int:
    """Write the six export files of one school into ``school_dir``; return the number of attendance rows."""
    school_dir.mkdir(parents=True, exist_ok=True)
    end = np.datetime64(end_date, "D")
    exported_days = int(np.searchsorted(history.dates, end, side="right"))
    fmt = _date_formatter(flavour)
    upn = pupils["upn"].to_numpy()
    kept = np.zeros(len(pupils), dtype=bool)
    kept[keep] = True

    def write(name: str, frame: pd.DataFrame) -> None:
        headers = {**flavour.headers, **(SIMS_FILE_HEADERS.get(name, {}) if flavour.name == "sims" else {})}
        frame = frame.rename(columns=lambda c: headers.get(c, c))
        with (school_dir / name).open("w", encoding=flavour.encoding, newline="") as handle:
            frame.to_csv(handle, index=False, lineterminator=flavour.line_end)

    # pupils.csv: year group and form on the last day the pupil was on roll up to the extract date.
    on_roll = marks[:, :exported_days, 0] >= 0
    last_day = np.where(on_roll.any(axis=1), exported_days - 1 - np.argmax(on_roll[:, ::-1], axis=1), exported_days - 1)
    year_group = history.year_group[np.arange(len(pupils)), last_day]
    year_text = np.where(year_group == 0, "R", year_group.astype(str))
    leaving = [d if d is not None and not pd.isna(d) and d <= end_date else None for d in pupils["leaving_date"]]
    table = pd.DataFrame(
        {
            "upn": upn,
            "mis_id": pupils["mis_id"],
            "surname": pupils["surname"],
            "forename": pupils["forename"],
            "date_of_birth": pupils["date_of_birth"].map(fmt),
            "sex": pupils["sex"].map(flavour.sex),
            "year_group": year_text,
            "reg_group": np.char.add(year_text.astype(str), pupils["form_letter"].to_numpy().astype(str)),
            "admission_date": pupils["admission_date"].map(fmt),
            "leaving_date": [fmt(d) for d in leaving],
            "sen_provision": pupils["sen"].map(flavour.sen),
            "fsm_eligible": _bools(pupils["fsm"], flavour),
            "pupil_premium": _bools(pupils["pupil_premium"], flavour),
            "eal": _bools(pupils["eal"], flavour),
            "looked_after": _bools(pupils["looked_after"], flavour),
            "ethnicity": pupils["ethnicity"],
        }
    )
    write("pupils.csv", table[kept][list(PUPIL_COLUMNS)])

    # attendance.csv: one row per pupil per session on roll, in pupil then date order.
    session_marks = marks[:, :exported_days, :]
    present = (session_marks >= 0) & kept[:, None, None]
    pupil_i, day_i, session_i = np.nonzero(present)
    codes = session_marks[pupil_i, day_i, session_i]
    mark_text = np.asarray(MARKS, dtype=object)
    mark_text[CODE["-"]] = flavour.no_mark
    late = history.minutes_late[pupil_i, day_i]
    late_marks = (session_i == 0) & np.isin(codes, [CODE["L"], CODE["U"]])
    day_text = np.asarray([fmt(d.item()) for d in history.dates[:exported_days]], dtype=object)
    attendance = pd.DataFrame(
        {
            "upn": upn[pupil_i],
            "date": day_text[day_i],
            "session": np.where(session_i == 0, "AM", "PM"),
            "mark": mark_text[codes],
            "minutes_late": np.where(late_marks, late.astype(str), ""),
        }
    )
    write("attendance.csv", attendance)

    results = assessments[(assessments["date"] <= end_date) & kept[assessments["pupil"].to_numpy(dtype=np.int64)]]
    write(
        "assessments.csv",
        pd.DataFrame(
            {
                "upn": upn[results["pupil"].to_numpy(dtype=np.int64)],
                "subject": results["subject"].to_numpy(),
                "assessment_point": results["assessment_point"].to_numpy(),
                "date": results["date"].map(fmt).to_numpy(),
                "result_type": results["result_type"].to_numpy(),
                "result": results["result"].to_numpy(),
            }
        ),
    )

    incidents = pd.DataFrame(history.incidents, columns=list(Incident._fields))
    incidents = incidents[(incidents["day"] < exported_days) & kept[incidents["pupil"].to_numpy(dtype=np.int64)]]
    write(
        "behaviour.csv",
        pd.DataFrame(
            {
                "upn": upn[incidents["pupil"].to_numpy(dtype=np.int64)],
                "incident_id": incidents["incident_id"].to_numpy(),
                "date": day_text[incidents["day"].to_numpy(dtype=np.int64)],
                "category": incidents["category"].to_numpy(),
                "points": incidents["points"].to_numpy(),
                "action": incidents["action"].to_numpy(),
            }
        ),
    )

    exclusions = pd.DataFrame(history.exclusions, columns=list(Exclusion._fields))
    exclusions = exclusions[(exclusions["day"] < exported_days) & kept[exclusions["pupil"].to_numpy(dtype=np.int64)]]
    write(
        "exclusions.csv",
        pd.DataFrame(
            {
                "upn": upn[exclusions["pupil"].to_numpy(dtype=np.int64)],
                "start_date": day_text[exclusions["day"].to_numpy(dtype=np.int64)],
                "category": exclusions["category"].to_numpy(),
                "sessions": exclusions["sessions"].to_numpy(),
                "reason": exclusions["reason"].to_numpy(),
            }
        ),
    )

    support = interventions[
        (interventions["start_date"] <= end_date) & kept[interventions["pupil"].to_numpy(dtype=np.int64)]
    ]
    ongoing = np.array([_after(d, end_date) for d in support["end_date"]], dtype=bool)
    write(
        "interventions.csv",
        pd.DataFrame(
            {
                "upn": upn[support["pupil"].to_numpy(dtype=np.int64)],
                "intervention": support["intervention"].to_numpy(),
                "start_date": support["start_date"].map(fmt).to_numpy(),
                "end_date": np.where(ongoing, "", support["end_date"].map(fmt).to_numpy()),
                "outcome": np.where(ongoing, "", support["outcome"].to_numpy()),
            }
        ),
    )
    return len(attendance)


def _date_formatter(flavour: Flavour) -> Callable[[dt.date | None], str]:
    def fmt(day: dt.date | None) -> str:
        if day is None or pd.isna(day):
            return ""
        return day.strftime(flavour.date_format)

    return fmt


def _after(day: dt.date | None, end_date: dt.date) -> bool:
    """Whether an end date is still to come (blank, or after the extract date)."""
    return day is None or pd.isna(day) or day > end_date


def _bools(values: pd.Series, flavour: Flavour) -> np.ndarray:
    return np.where(values.to_numpy(dtype=bool), flavour.true, flavour.false)


def write_decisions(school_dir: Path, flavour: Flavour, pupils: pd.DataFrame, decisions: pd.DataFrame) -> None:
    """Write ``decisions.csv``: staff decisions (``pupil``, ``date``, ``decision``, ``review_date``) as the school
    records them, in this MIS's headers, dates and words."""
    fmt = _date_formatter(flavour)
    upn = pupils["upn"].to_numpy()
    frame = pd.DataFrame(
        {
            "upn": upn[decisions["pupil"].to_numpy(dtype=np.int64)],
            "date": decisions["date"].map(fmt).to_numpy(),
            "decision": decisions["decision"].map(DECISION_WORDS[flavour.name]).to_numpy(),
            "review_date": decisions["review_date"].map(fmt).to_numpy(),
        }
    ).rename(columns=lambda c: flavour.headers.get(c, c))
    with (school_dir / "decisions.csv").open("w", encoding=flavour.encoding, newline="") as handle:
        frame.to_csv(handle, index=False, lineterminator=flavour.line_end)
