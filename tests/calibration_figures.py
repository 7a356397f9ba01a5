"""Measure a synthetic trust's exports against the national figures (DfE statistics) the generator is tuned to.

Computed from the CSV files alone, with this module's own small reader, so the check is independent of the
generator's internals. Run `python -m tests.calibration_figures [DIR]` to print the table.

Figures are for the last complete academic year in the sample (2024-25), for pupils of compulsory school age
(Years 1-11), following the DfE methodology: possible sessions exclude D, X, Q, Y1-Y7, Z, # and missing marks;
Year 11 sessions after the May half-term are left out, as in the school census.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

YEAR_START, YEAR_END = pd.Timestamp("2024-09-01"), pd.Timestamp("2025-08-31")
YEAR11_CUTOFF = pd.Timestamp("2025-06-01")  # census: no Year 11 absence after the May half-term

ATTENDED = {"/", "\\", "L", "K", "V", "P", "W", "B"}
AUTHORISED = {"C1", "M", "J1", "S", "C2", "C", "T", "R", "I", "E"}
UNAUTHORISED = {"G", "N", "O", "U"}

# This reader's own view of the headers the two MIS flavours write.
HEADER = {
    "upn": "upn", "dob": "date_of_birth", "date_of_birth": "date_of_birth", "gender": "sex", "sex": "sex",
    "sen provision": "sen_provision", "sen_provision": "sen_provision", "fsm eligible": "fsm_eligible",
    "fsm_eligible": "fsm_eligible", "eal": "eal", "leaving date": "leaving_date", "leaving_date": "leaving_date",
    "date": "date", "session": "session", "mark": "mark", "start date": "start_date", "start_date": "start_date",
    "exclusion type": "category", "category": "category", "reason": "reason", "subject": "subject",
    "result type": "result_type", "result_type": "result_type", "result": "result", "year": "year_group",
    "year_group": "year_group", "end date": "end_date", "end_date": "end_date", "incident date": "date",
    "behaviour type": "category", "points": "points", "result set": "assessment_point",
    "assessment_point": "assessment_point", "intervention": "intervention", "incident id": "incident_id",
}  # fmt: skip


@dataclass(frozen=True)
class Target:
    name: str
    national: float
    tolerance: float
    source: str


# national: domain.md; "derived" where the notes give only the overall figure (method in the README).
TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target("primary absence %", 5.5, 1.0, "DfE 2023/24"),
        Target("primary authorised %", 4.1, 0.9, "derived from overall and secondary splits"),
        Target("primary unauthorised %", 1.4, 0.7, "derived from overall and secondary splits"),
        Target("primary persistent absence %", 15.9, 5.0, "derived: 20.0% overall, 24.6% secondary"),
        Target("primary severe absence %", 0.9, 1.0, "derived: 2.3% overall, assumed 4x rarer than secondary"),
        Target("secondary absence %", 8.9, 1.3, "DfE 2023/24"),
        Target("secondary authorised %", 5.4, 1.0, "DfE 2023/24"),
        Target("secondary unauthorised %", 3.5, 1.0, "DfE 2023/24"),
        Target("secondary persistent absence %", 24.6, 5.0, "DfE autumn 2023"),
        Target("secondary severe absence %", 3.9, 2.0, "derived: 2.3% overall, assumed 4x commoner than primary"),
        Target("FSM absence %", 10.4, 2.0, "DfE autumn 2023"),
        Target("non-FSM absence %", 5.5, 1.5, "DfE autumn 2023"),
        Target("FSM persistent absence %", 33.0, 8.0, "DfE autumn 2023"),
        Target("non-FSM persistent absence %", 15.6, 5.0, "DfE autumn 2023"),
        # About 65 pupils with EHC plans in the default sample: 3 standard errors of their mean absence.
        Target("EHCP absence %", 12.4, 4.5, "DfE 2023/24"),
        Target("SEN support absence %", 10.3, 2.5, "DfE 2023/24"),
        Target("no SEN absence %", 6.1, 1.5, "DfE 2023/24"),
        Target(
            "primary suspensions per 100",
            3.2,
            2.5,
            "derived: 11.31 overall, ~85% of suspensions in secondary",
        ),
        Target(
            "secondary suspensions per 100",
            20.5,
            7.0,
            "derived: 11.31 overall, ~85% of suspensions in secondary",
        ),
        Target("suspensions per 100 (national phase mix)", 11.31, 4.0, "DfE 2023/24"),
        Target("persistent disruptive share of reasons %", 51.0, 12.0, "DfE 2023/24"),
        Target("permanent exclusions per 100", 0.13, 0.3, "DfE 2023/24"),
        Target("SEN support %", 14.2, 2.5, "DfE Jan 2025"),
        Target("EHC plan %", 5.3, 1.5, "DfE Jan 2025"),
        Target("FSM eligible %", 24.6, 3.5, "DfE Jan 2024"),
        Target("EAL %", 20.0, 5.0, "DfE (about 1 in 5)"),
        Target("KS2 reading expected standard %", 74.0, 6.0, "DfE KS2 2024"),
        Target("KS2 maths expected standard %", 73.0, 6.0, "DfE KS2 2024"),
        Target("KS2 reading mean scaled score", 105.0, 1.5, "DfE KS2 2024"),
        Target("KS2 maths mean scaled score", 104.0, 1.5, "DfE KS2 2024"),
        Target("CAT4 mean SAS", 100.0, 3.0, "GL Assessment"),
        Target("CAT4 SAS standard deviation", 15.0, 3.0, "GL Assessment"),
    )
}


def _read(path: Path) -> pd.DataFrame:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
    from io import StringIO

    frame = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)
    return frame.rename(columns=lambda c: HEADER.get(c.strip().lower(), c.strip().lower()))


def _date(values: pd.Series) -> pd.Series:
    iso = pd.to_datetime(values, format="%Y-%m-%d", errors="coerce")
    uk = pd.to_datetime(values, format="%d/%m/%Y", errors="coerce")
    return iso.fillna(uk)


def _truthy(values: pd.Series) -> pd.Series:
    return values.str.strip().str.upper().isin({"Y", "YES", "TRUE", "T", "1"})


def measure(exports: Path) -> dict[str, float]:
    """Compute every figure in :data:`TARGETS` from the CSV files under ``exports``."""
    figures: dict[str, float] = {}
    pupil_frames, absence_frames, exclusion_frames, ks2_frames, cat4_frames = [], [], [], [], []
    for school in sorted(p for p in exports.iterdir() if p.is_dir()):
        pupils = _read(school / "pupils.csv")
        pupils["dob"] = _date(pupils["date_of_birth"])
        birth_year = pupils["dob"].dt.year - (pupils["dob"].dt.month < 9)
        pupils["year_2024"] = 2024 - birth_year - 5  # year group in 2024-25, from date of birth
        pupils["sen"] = pupils["sen_provision"].str[0]
        pupils["fsm"] = _truthy(pupils["fsm_eligible"])
        pupils["eal_flag"] = _truthy(pupils["eal"])
        pupils["on_roll"] = pupils["leaving_date"].str.strip() == ""
        pupils["phase"] = "primary" if pupils["year_2024"].max() <= 6 else "secondary"

        marks = _read(school / "attendance.csv")
        marks["day"] = _date(marks["date"])
        marks = marks[(marks["day"] >= YEAR_START) & (marks["day"] <= YEAR_END)]
        marks = marks.merge(pupils[["upn", "year_2024"]], on="upn")
        marks = marks[(marks["year_2024"] >= 1) & ~((marks["year_2024"] == 11) & (marks["day"] >= YEAR11_CUTOFF))]
        mark = marks["mark"].str.strip()
        marks["attended"] = mark.isin(ATTENDED)
        marks["authorised"] = mark.isin(AUTHORISED)
        marks["unauthorised"] = mark.isin(UNAUTHORISED)
        per_pupil = marks.groupby("upn")[["attended", "authorised", "unauthorised"]].sum()
        per_pupil["possible"] = per_pupil.sum(axis=1)
        per_pupil = per_pupil[per_pupil["possible"] > 0].join(pupils.set_index("upn")[["fsm", "sen", "phase"]])
        absence_frames.append(per_pupil)

        year_pupils = pupils[pupils["upn"].isin(marks["upn"])]
        pupil_frames.append(pupils)
        exclusions = _read(school / "exclusions.csv")
        exclusions["day"] = _date(exclusions["start_date"])
        exclusions = exclusions[(exclusions["day"] >= YEAR_START) & (exclusions["day"] <= YEAR_END)]
        exclusion_frames.append((pupils["phase"].iloc[0], len(year_pupils), exclusions))

        results = _read(school / "assessments.csv")
        ks2_frames.append(results[results["result_type"] == "ks2_scaled"])
        cat4_frames.append(results[(results["result_type"] == "cat4_sas") & (results["subject"] == "Mean")])

    absence = pd.concat(absence_frames)
    absence["rate"] = (absence["authorised"] + absence["unauthorised"]) / absence["possible"]

    def session_rate(rows: pd.DataFrame, column: str = "absent") -> float:
        absent = rows["authorised"] + rows["unauthorised"] if column == "absent" else rows[column]
        return float(100 * absent.sum() / rows["possible"].sum())

    for phase in ("primary", "secondary"):
        rows = absence[absence["phase"] == phase]
        figures[f"{phase} absence %"] = session_rate(rows)
        figures[f"{phase} authorised %"] = session_rate(rows, "authorised")
        figures[f"{phase} unauthorised %"] = session_rate(rows, "unauthorised")
        figures[f"{phase} persistent absence %"] = float(100 * (rows["rate"] >= 0.10).mean())
        figures[f"{phase} severe absence %"] = float(100 * (rows["rate"] >= 0.50).mean())
    for label, rows in (
        ("FSM", absence[absence["fsm"]]),
        ("non-FSM", absence[~absence["fsm"]]),
    ):
        figures[f"{label} absence %"] = session_rate(rows)
        figures[f"{label} persistent absence %"] = float(100 * (rows["rate"] >= 0.10).mean())
    for label, code in (("EHCP", "E"), ("SEN support", "K"), ("no SEN", "N")):
        figures[f"{label} absence %"] = session_rate(absence[absence["sen"] == code])

    per_100: dict[str, float] = {}
    suspensions = permanent = roll = 0
    reasons: list[str] = []
    for phase, pupils_in_year, exclusions in exclusion_frames:
        count = int(exclusions["category"].isin(["SUSP", "FIXD"]).sum())
        per_100[phase] = 100 * count / pupils_in_year
        suspensions += count
        permanent += int((exclusions["category"] == "PERM").sum())
        roll += pupils_in_year
        for reason in exclusions.loc[exclusions["category"] != "LNCH", "reason"]:
            reasons.extend(r.strip() for r in reason.split(";") if r.strip())
    figures["primary suspensions per 100"] = per_100["primary"]
    figures["secondary suspensions per 100"] = per_100["secondary"]
    figures["suspensions per 100 (national phase mix)"] = 0.53 * per_100["primary"] + 0.47 * per_100["secondary"]
    figures["persistent disruptive share of reasons %"] = 100 * reasons.count("PD") / max(len(reasons), 1)
    figures["permanent exclusions per 100"] = 100 * permanent / roll

    pupils = pd.concat(pupil_frames)
    current = pupils[pupils["on_roll"]]
    figures["SEN support %"] = float(100 * (current["sen"] == "K").mean())
    figures["EHC plan %"] = float(100 * (current["sen"] == "E").mean())
    figures["FSM eligible %"] = float(100 * current["fsm"].mean())
    figures["EAL %"] = float(100 * current["eal_flag"].mean())

    ks2 = pd.concat(ks2_frames).drop_duplicates(["upn", "subject"])
    ks2["score"] = ks2["result"].astype(float)
    for subject, label in (("Reading", "reading"), ("Maths", "maths")):
        scores = ks2.loc[ks2["subject"] == subject, "score"]
        figures[f"KS2 {label} expected standard %"] = float(100 * (scores >= 100).mean())
        figures[f"KS2 {label} mean scaled score"] = float(scores.mean())
    cat4 = pd.concat(cat4_frames)["result"].astype(float)
    figures["CAT4 mean SAS"] = float(cat4.mean())
    figures["CAT4 SAS standard deviation"] = float(cat4.std())
    return figures


def table(figures: dict[str, float]) -> str:
    """A plain-text table of measured figures beside the national ones."""
    lines = [f"{'measure':45} {'sample':>8} {'national':>9} {'tolerance':>10}  ok"]
    for name, target in TARGETS.items():
        value = figures[name]
        ok = abs(value - target.national) <= target.tolerance
        lines.append(
            f"{name:45} {value:8.2f} {target.national:9.2f} {'±' + str(target.tolerance):>10}  {'yes' if ok else 'NO'}"
        )
    return "\n".join(lines)


def markdown(figures: dict[str, float]) -> str:
    """The same comparison as a Markdown table (for the README)."""
    lines = ["| measure | sample | national | tolerance | source |", "| --- | ---: | ---: | ---: | --- |"]
    for name, target in TARGETS.items():
        lines.append(
            f"| {name} | {figures[name]:.2f} | {target.national:g} | ±{target.tolerance:g} | {target.source} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--markdown"]
    folder = Path(args[0] if args else "data/sample")
    figures = measure(folder)
    print(markdown(figures) if "--markdown" in sys.argv else table(figures))
