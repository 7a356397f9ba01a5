"""Generate a trust's synthetic MIS exports, one school at a time, plus the simulation truth kept apart.

Each school is drawn and simulated from its own random stream (spawned from the seed), written, and dropped
before the next one starts, so memory is bounded by the largest school, not by the trust.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.sample.attainment import assessment_points, draw_assessments, draw_interventions
from pipeline.sample.calendar import AcademicYear, academic_year
from pipeline.sample.mentoring import Mentoring, mentoring_truth
from pipeline.sample.population import SchoolPlan, draw_pupils
from pipeline.sample.simulate import ABSENT_MARKS, CODE, NOT_ON_ROLL, POSSIBLE_MARKS, SchoolHistory, simulate_school
from pipeline.sample.writer import FLAVOURS, write_decisions, write_school

TRUTH_README = """\
SIMULATION TRUTH - NOT AN EXPORT

These files were written by `mentor sample` beside the synthetic exports. They record what each synthetic pupil
goes on to do after the extract date, and the latent traits that drove the simulation. They exist only so that
models can be evaluated against a known answer. The pipeline never reads them, and no school export has them.

outcomes.csv: one row per pupil on roll on the extract date.
  horizon_start, horizon_end     the school days after the extract date that the outcome covers
  horizon_possible_sessions      possible sessions in the horizon
  horizon_absence_rate           absence in the horizon (DfE: authorised + unauthorised / possible)
  horizon_persistent_absence     horizon absence rate >= 10%
  horizon_suspensions            suspensions that start in the horizon
  english_maths_gap_before/after grade gap to target (working-at minus target, English and maths averaged;
                                 primary steps BLW..GDS count as grades) at the last data drop before the
                                 extract date and the first one after it
  fell_further_below_target      the gap shrank by at least half a grade and is below zero afterwards
  adverse_outcome                persistent absence, a suspension or falling further below target in the horizon
  under_challenged               an able pupil (high prior attainment) coasting below target
  would_benefit                  adverse_outcome or under_challenged
  latent_*                       the simulation's latent traits (engagement as of the extract date)

mentoring_effect.json: what learning mentors really did (`mentor sample --mentoring-effect X` sets the aim).
  aimed_effect_pp                the average effect on attendance asked for, in percentage points
  average_effect_pp              the mentees' true average effect on attendance over the half-term after the
                                 start (percentage points), over the starts whose half-term ended by the extract
                                 date (complete), which are the ones the exports can show
  mentees                        one entry per mentoring start: school_urn, upn, start_date, half_term_end,
                                 complete, barrier (the simulation's: circumstances, engagement, school
                                 avoidance), engagement_lift, possible_sessions, attendance with and without
                                 mentoring and attendance_effect_pp (their difference, from the same random draws)
"""


@dataclass(frozen=True)
class SampleSpec:
    """What to generate: the same spec and seed always give the same files."""

    seed: int = 20241
    schools: int = 2
    pupils_per_school: int = 600
    years: int = 2
    end_date: dt.date = dt.date(2025, 11, 7)
    mentoring_effect: float = 0.0
    """Average effect of a learning mentor on the mentee's attendance over the half-term after the start, in
    percentage points (see :mod:`pipeline.sample.mentoring`)."""
    varied_needs: bool = False
    """Schools whose needs differ: in turn typical, mostly behaviour, mostly attendance (``NEEDS_CYCLE``)."""
    decisions: bool = True
    """Write a ``decisions.csv`` (staff decisions on the shortlist) for every secondary school."""


NEEDS_CYCLE = ("typical", "behaviour", "attendance")


@dataclass(frozen=True)
class SchoolSummary:
    urn: int
    phase: str
    pupils: int
    attendance_rows: int


@dataclass(frozen=True)
class SampleResult:
    schools: list[SchoolSummary]
    exports_dir: Path
    truth_dir: Path


def academic_start(day: dt.date) -> int:
    """The calendar year in which the academic year containing ``day`` began (years start in September)."""
    return day.year if day.month >= 9 else day.year - 1


def plan_schools(spec: SampleSpec) -> list[SchoolPlan]:
    """Decide each school's identity: URN, LA, phase (alternating primary/secondary), MIS and FSM share."""
    rng = np.random.default_rng([spec.seed, 0])
    urns = rng.choice(np.arange(100_000, 150_000), size=spec.schools, replace=False)
    la_code = int(rng.choice([801, 802, 803, 916, 919]))
    plans = []
    for k in range(spec.schools):
        phase = "primary" if k % 2 == 0 else "secondary"
        # FSM share varies between schools around the national 24.6%; the default two-school sample sits near it.
        fsm_share = 0.246 if spec.schools <= 2 else float(np.clip(rng.normal(0.246, 0.09), 0.05, 0.6))
        plans.append(
            SchoolPlan(
                index=k,
                urn=int(urns[k]),
                la_code=la_code,
                establishment=(2000 if phase == "primary" else 4000) + int(rng.integers(1, 999)),
                phase=phase,
                flavour="arbor" if phase == "primary" else "sims",
                fsm_share=fsm_share,
                needs=NEEDS_CYCLE[k % len(NEEDS_CYCLE)] if spec.varied_needs else "typical",
            )
        )
    return plans


def calendars(spec: SampleSpec, rng: np.random.Generator) -> tuple[list[AcademicYear], dt.date]:
    """The academic years to simulate and the end of the truth horizon.

    The horizon runs from the day after the extract date to the end of the next half-term.
    """
    last = academic_start(spec.end_date)
    years = [academic_year(s, rng) for s in range(last - spec.years + 1, last + 1)]
    final = years[-1]
    half_terms = [h for d, h in zip(final.days, final.half_term, strict=True) if d <= spec.end_date]
    current = half_terms[-1] if half_terms else 1
    if current >= 6:  # the extract is in the last half-term: follow into next year's first half-term
        years.append(academic_year(last + 1, rng))
        horizon_end = years[-1].half_term_bounds(1)[1]
    else:
        horizon_end = final.half_term_bounds(current + 1)[1]
    return years, horizon_end


def generate_trust(
    spec: SampleSpec,
    exports_dir: Path,
    truth_dir: Path,
    progress: Callable[[SchoolSummary], None] | None = None,
) -> SampleResult:
    """Write every school's exports into ``exports_dir/<URN>/`` and the simulation truth into ``truth_dir``.

    School folders and truth files a previous run generated there are replaced, so a run is repeatable; nothing
    else in the folders is touched. ``progress`` is called after each school is written. Returns counts.
    """
    for folder in (exports_dir, truth_dir):
        if folder.exists():
            _clear_generated(folder)
        folder.mkdir(parents=True, exist_ok=True)
    (truth_dir / "README.txt").write_text(TRUTH_README, encoding="utf-8")
    summaries = []
    truth_path = truth_dir / "outcomes.csv"
    mentees = []
    for k, plan in enumerate(plan_schools(spec)):
        summary, truth, mentored = _generate_school(spec, plan, exports_dir / str(plan.urn))
        summaries.append(summary)
        truth.to_csv(truth_path, mode="a" if k else "w", header=k == 0, index=False, lineterminator="\n")
        mentees.append(mentored.assign(school_urn=plan.urn))
        if progress is not None:
            progress(summary)
    _write_mentoring_truth(spec, pd.concat(mentees, ignore_index=True), truth_dir / MENTORING_TRUTH)
    return SampleResult(summaries, exports_dir, truth_dir)


MENTORING_TRUTH = "mentoring_effect.json"


def _write_mentoring_truth(spec: SampleSpec, mentees: pd.DataFrame, path: Path) -> None:
    complete = mentees[mentees["complete"] & (mentees["possible_sessions"] > 0)]
    records = mentees[["school_urn", *[c for c in mentees.columns if c != "school_urn"]]].copy()
    for column in ("start_date", "half_term_end"):
        records[column] = records[column].map(lambda d: d.isoformat())
    document = {
        "aimed_effect_pp": spec.mentoring_effect,
        "average_effect_pp": round(float(complete["attendance_effect_pp"].mean()), 4) if len(complete) else None,
        "complete_mentees": len(complete),
        "outcome": "attendance rate over the school days from the start to the end of that half-term, mentored "
        "minus not mentored, in percentage points",
        "mentees": json.loads(records.to_json(orient="records", double_precision=6)),
    }
    path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


def _clear_generated(folder: Path) -> None:
    """Remove what a previous run generated (school folders and truth files), nothing else."""
    for child in folder.iterdir():
        if child.is_dir() and child.name.isdigit():
            shutil.rmtree(child)
        elif child.name in ("outcomes.csv", "README.txt", MENTORING_TRUTH):
            child.unlink()


def _generate_school(
    spec: SampleSpec, plan: SchoolPlan, school_dir: Path
) -> tuple[SchoolSummary, pd.DataFrame, pd.DataFrame]:
    streams = np.random.SeedSequence([spec.seed, 1, plan.index]).spawn(5)
    rng_calendar, rng_pupils, rng_days, rng_results, rng_record = (np.random.default_rng(s) for s in streams)
    years, horizon_end = calendars(spec, rng_calendar)
    exported_years = [y for y in years if y.days[0] <= spec.end_date]
    pupils = draw_pupils(plan, spec.pupils_per_school, exported_years, rng_pupils)
    mentoring = Mentoring(spec.mentoring_effect, np.random.default_rng([spec.seed, 2, plan.index]))
    history = simulate_school(pupils, plan, years, horizon_end, rng_days, mentoring)
    _record_leavers(pupils, history)
    assessments = draw_assessments(pupils, plan, years, history, rng_results)
    interventions = draw_interventions(pupils, years, history, rng_results)
    truth = _truth(pupils, plan, years, history, assessments, spec.end_date)
    mentored = mentoring_truth(history, pupils, spec.end_date)
    mentored = mentored[mentored["start_date"] <= spec.end_date]

    recorded = _as_recorded(history, pupils, spec.end_date, rng_record)
    exported = history.dates <= np.datetime64(spec.end_date, "D")
    pupils_out = pupils[(recorded[:, exported, 0] >= 0).any(axis=1) & _admitted_by(pupils, spec.end_date).to_numpy()]
    rows = write_school(
        school_dir=school_dir,
        plan=plan,
        flavour=FLAVOURS[plan.flavour],
        pupils=pupils,
        keep=pupils_out.index.to_numpy(),
        history=history,
        marks=recorded,
        assessments=assessments,
        interventions=interventions,
        end_date=spec.end_date,
    )
    if spec.decisions and plan.phase == "secondary":
        # A stream of its own, so that the other files are the same with or without decisions.
        rng_decisions = np.random.default_rng(np.random.SeedSequence([spec.seed, 2, plan.index]))
        decisions = draw_decisions(pupils_out.index.to_numpy(), history, interventions, spec.end_date, rng_decisions)
        write_decisions(school_dir, FLAVOURS[plan.flavour], pupils, decisions)
    return SchoolSummary(plan.urn, plan.phase, len(pupils_out), rows), truth, mentored


DECISIONS = ("referred", "declined", "not now", "supported elsewhere")
DECISION_SHARES = (0.3, 0.25, 0.25, 0.2)


def draw_decisions(
    keep: np.ndarray,
    history: SchoolHistory,
    interventions: pd.DataFrame,
    end_date: dt.date,
    rng: np.random.Generator,
    count: int = 12,
) -> pd.DataFrame:
    """Staff decisions on the shortlist in the half-term before the extract date: on a few school days, a pastoral
    manager decides about some of the least engaged pupils who have no learning mentor (referred, declined, not
    now, supported elsewhere; a review date on some). The generator picks them from its own latent traits."""
    exported = np.flatnonzero(history.dates <= np.datetime64(end_date, "D"))
    days = exported[-40:-2]
    mentored = set(interventions.loc[interventions["intervention"] == "Learning mentor", "pupil"].astype(int))
    rows: list[tuple[int, dt.date, str, dt.date | None]] = []
    decided: set[int] = set()
    exported_pupils = set(keep.tolist())
    for d in np.sort(rng.choice(days, size=min(4, len(days)), replace=False)):
        on_roll = np.flatnonzero(history.marks[:, d, 0] >= 0)
        pool = [int(i) for i in on_roll[np.argsort(history.engagement[on_roll, d])] if int(i) in exported_pupils]
        pool = [i for i in pool if i not in mentored and i not in decided][:30]
        for i in rng.choice(pool, size=min(count // 4, len(pool)), replace=False):
            decision = str(rng.choice(DECISIONS, p=DECISION_SHARES))
            day: dt.date = history.dates[d].item()
            review = day + dt.timedelta(weeks=int(rng.integers(4, 9))) if rng.random() < 0.5 else None
            rows.append((int(i), day, decision, None if decision == "referred" else review))
            decided.add(int(i))
    return pd.DataFrame(rows, columns=["pupil", "date", "decision", "review_date"])


def _admitted_by(pupils: pd.DataFrame, end_date: dt.date) -> pd.Series:
    return pupils["admission_date"] <= end_date


def _record_leavers(pupils: pd.DataFrame, history: SchoolHistory) -> None:
    """Permanently excluded pupils leave the roll after their last recorded session."""
    on_roll = history.marks[:, :, 0] >= 0
    for excl in history.exclusions:
        if excl.category == "PERM":
            last = int(np.flatnonzero(on_roll[excl.pupil])[-1])
            pupils.at[excl.pupil, "leaving_date"] = history.dates[last].item()


def _as_recorded(
    history: SchoolHistory, pupils: pd.DataFrame, end_date: dt.date, rng: np.random.Generator
) -> np.ndarray:
    """Marks as the MIS holds them on the extract date.

    Absences first go in as N (reason not yet provided); within about five school days the office replaces N
    with the real reason, so N survives mostly in the last week, plus a few stale ones. A handful of sessions
    have no mark (a register not taken), and a few joiners have Z marks for the days before admission.
    """
    marks = history.marks.copy()
    exported = history.dates <= np.datetime64(end_date, "D")
    school_days_left = np.cumsum(exported[::-1])[::-1] - 1  # exported school days after each day
    recent = exported & (school_days_left < 5)
    illness = marks == CODE["I"]
    other = marks == CODE["O"]
    still_n = (illness & (rng.random(marks.shape) < 0.55)) | (other & (rng.random(marks.shape) < 0.9))
    marks[still_n & recent[None, :, None]] = CODE["N"]
    stale = other & (rng.random(marks.shape) < 0.08)
    marks[stale & (exported & ~recent)[None, :, None]] = CODE["N"]
    # Unrecorded sessions: one-off gaps, and now and then a whole form's register not taken.
    gaps = (marks >= 0) & (marks != CODE["#"]) & (rng.random(marks.shape) < 0.0003)
    marks[gaps] = CODE["-"]
    forms = pupils["form_letter"].to_numpy()
    for d in np.flatnonzero(exported & (rng.random(len(history.dates)) < 0.02)):
        session = int(rng.integers(2))
        yg = int(rng.choice(np.unique(history.year_group[:, d])))
        form = str(rng.choice(np.unique(forms)))
        hit = (history.year_group[:, d] == yg) & (forms == form) & (marks[:, d, session] >= 0)
        marks[hit, d, session] = CODE["-"]
    # Z: a prospective pupil on the register before admission.
    joiners = np.flatnonzero(pupils["joined_mid_year"].to_numpy() & (rng.random(len(pupils)) < 0.4))
    for i in joiners:
        first = np.flatnonzero(marks[i, :, 0] >= 0)
        if len(first) and first[0] >= 2:
            marks[i, first[0] - 2 : first[0], :] = CODE["Z"]
    return marks


def _truth(
    pupils: pd.DataFrame,
    plan: SchoolPlan,
    years: list[AcademicYear],
    history: SchoolHistory,
    assessments: pd.DataFrame,
    end_date: dt.date,
) -> pd.DataFrame:
    """What each pupil on roll at the extract date goes on to do in the horizon, and their latent traits."""
    end = np.datetime64(end_date, "D")
    last_day = int(np.searchsorted(history.dates, end, side="right")) - 1
    horizon = history.dates > end
    marks = history.marks[:, horizon, :]
    possible = np.isin(marks, [CODE[c] for c in POSSIBLE_MARKS]).sum(axis=(1, 2))
    absent = np.isin(marks, [CODE[c] for c in ABSENT_MARKS]).sum(axis=(1, 2))
    absence_rate = np.where(possible > 0, absent / np.maximum(possible, 1), np.nan)
    suspensions = np.zeros(len(pupils), dtype=int)
    for excl in history.exclusions:
        if excl.category in ("SUSP", "PERM") and history.dates[excl.day] > end:
            suspensions[excl.pupil] += 1
    before, after = _english_maths_gap(assessments, pupils, end_date)
    fell = (after - before <= -0.5) & (after < 0)
    persistent = absence_rate >= 0.10
    adverse = persistent | (suspensions > 0) | fell
    under_challenged = pupils["coasting"].to_numpy() & (pupils["attainment"].to_numpy() > 0.9)
    on_roll = history.marks[:, last_day, 0] >= 0
    truth = pd.DataFrame(
        {
            "school_urn": plan.urn,
            "upn": pupils["upn"],
            "horizon_start": history.dates[horizon][0].item() if horizon.any() else None,
            "horizon_end": history.dates[-1].item(),
            "horizon_possible_sessions": possible,
            "horizon_absence_rate": np.round(absence_rate, 4),
            "horizon_persistent_absence": persistent,
            "horizon_suspensions": suspensions,
            "english_maths_gap_before": np.round(before, 2),
            "english_maths_gap_after": np.round(after, 2),
            "fell_further_below_target": fell,
            "adverse_outcome": adverse,
            "under_challenged": under_challenged,
            "would_benefit": adverse | under_challenged,
            "latent_engagement": np.round(history.engagement[:, last_day], 3),
            "latent_circumstances": np.round(pupils["circumstances"].to_numpy(), 3),
            "latent_prior_attainment": np.round(pupils["attainment"].to_numpy(), 3),
            "latent_coasting": pupils["coasting"].to_numpy(),
        }
    )
    return truth[on_roll].reset_index(drop=True)


def _english_maths_gap(
    assessments: pd.DataFrame, pupils: pd.DataFrame, end_date: dt.date
) -> tuple[np.ndarray, np.ndarray]:
    """Average working-at minus target in English (or Reading) and maths, before and after the extract date."""
    core = assessments[assessments["subject"].isin(["English", "Reading", "Maths"])]
    core = core[core["result_type"].isin(["working_at", "target"])].copy()
    core["value"] = core["result"].map(_grade_value)
    targets = core[core["result_type"] == "target"]
    working = core[core["result_type"] == "working_at"]

    def gap_at(side: str) -> np.ndarray:
        rows = working[working["date"] <= end_date] if side == "before" else working[working["date"] > end_date]
        if rows.empty:
            return np.full(len(pupils), np.nan)
        point_dates = sorted(rows["date"].unique())
        chosen = point_dates[-1] if side == "before" else point_dates[0]
        rows = rows[rows["date"] == chosen]
        year_targets = targets[targets["date"] <= chosen]
        latest_target = year_targets.sort_values("date").groupby(["pupil", "subject"])["value"].last()
        merged = rows.set_index(["pupil", "subject"])["value"] - latest_target
        gap = merged.groupby(level="pupil").mean()
        values: np.ndarray = gap.reindex(range(len(pupils))).to_numpy(dtype=float)
        return values

    return gap_at("before"), gap_at("after")


def _grade_value(text: str) -> float:
    primary = {"BLW": 0.0, "PKS": 1.0, "WTS": 2.0, "EXS": 3.0, "GDS": 4.0}
    if text in primary:
        return primary[text]
    if text == "U":
        return 0.0
    return float(text.rstrip("+-")) + (1 / 3 if text.endswith("+") else -1 / 3 if text.endswith("-") else 0.0)


__all__ = [
    "NOT_ON_ROLL",
    "SampleResult",
    "SampleSpec",
    "academic_start",
    "assessment_points",
    "generate_trust",
]
