"""Assessment results and interventions for synthetic pupils, driven by the same latent traits.

Secondary schools record KS2 scaled scores and CAT4 as prior attainment, a GCSE target grade per subject each
September, and a "working at" grade three times a year. Primary schools record WTS/EXS/GDS judgements, targets,
reading ages and their own Year 6 KS2 results. Working-at grades follow recent engagement, so disengaged pupils
fall below target; able pupils who coast sit below target despite high KS2 and CAT4.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from pipeline.sample.calendar import AcademicYear
from pipeline.sample.mentoring import MENTOR
from pipeline.sample.population import SchoolPlan
from pipeline.sample.simulate import SchoolHistory

SECONDARY_SUBJECTS = ("English", "Maths", "Science", "History", "Geography")
PRIMARY_SUBJECTS = ("Reading", "Writing", "Maths")
KS2_SUBJECTS = ("Reading", "Maths", "GPS")
CAT4_BATTERIES = ("Verbal", "Quantitative", "Non-verbal", "Spatial")
PRIMARY_SCALE = ("BLW", "PKS", "WTS", "EXS", "GDS")
PRIMARY_CUTS = np.array([-2.0, -1.3, -0.55, 1.0])  # latent position -> BLW | PKS | WTS | EXS | GDS


def assessment_points(year: AcademicYear) -> list[tuple[str, dt.date]]:
    """The three data drops of a year: before October half-term, before February half-term, in July."""
    return [
        (f"{year.label} Autumn", year.half_term_bounds(1)[1] - dt.timedelta(days=7)),
        (f"{year.label} Spring", year.half_term_bounds(3)[1] - dt.timedelta(days=4)),
        (f"{year.label} Summer", year.half_term_bounds(6)[1] - dt.timedelta(days=14)),
    ]


def gcse_grade_text(value: float) -> str:
    """A fine GCSE grade as schools write it: ``5-``, ``5``, ``5+``, or ``U`` below grade 1.

    >>> [gcse_grade_text(v) for v in (5.0, 4.7, 5.3, 0.2, 9.6)]
    ['5', '5-', '5+', 'U', '9']
    """
    if value < 0.67:
        return "U"
    value = min(value, 9.0)
    whole = int(np.floor(value + 0.5))
    rest = value - whole
    return f"{whole}{'+' if rest > 1 / 6 else '-' if rest < -1 / 6 else ''}"


def draw_assessments(
    pupils: pd.DataFrame,
    plan: SchoolPlan,
    years: list[AcademicYear],
    history: SchoolHistory,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Every result the school holds for its pupils, in the long layout of assessments.csv (dates as dates)."""
    n = len(pupils)
    attainment = pupils["attainment"].to_numpy()
    literacy = pupils["literacy"].to_numpy()
    coasting = pupils["coasting"].to_numpy(dtype=float)
    last_start = years[-1].start_year
    final_yg = pupils["final_year_group"].to_numpy()
    subject_effect = {s: rng.normal(0, 0.4, n) for s in (*SECONDARY_SUBJECTS, *PRIMARY_SUBJECTS)}
    rows: list[tuple[int, str, str, dt.date, str, str]] = []

    # KS2 scaled scores: national mean about 104-105, three quarters at the expected standard (100).
    year6_end = last_start - (final_yg - 6) + 1  # calendar year of the July when the pupil was in Year 6
    new_arrival = (pupils["joined_mid_year"] & pupils["eal"]).to_numpy()
    sat_ks2 = (rng.random(n) > 0.03) & ~(new_arrival & (rng.random(n) < 0.6))
    ks2_mean = np.zeros(n)
    for subject in KS2_SUBJECTS:
        latent = literacy if subject != "Maths" else attainment
        mean = 105.0 if subject == "Reading" else 104.0  # national means, KS2 2024
        score = np.clip(np.round(mean + 6.5 * (latent + rng.normal(0, 0.45, n))), 80, 120)
        ks2_mean += score / len(KS2_SUBJECTS)
        for i in np.flatnonzero(sat_ks2):
            if plan.phase == "secondary" or dt.date(int(year6_end[i]), 7, 8) <= history.dates[-1]:
                if plan.phase == "primary" and not _on_roll_in_year6(history, int(i)):
                    continue
                rows.append(
                    (
                        int(i),
                        subject,
                        "KS2",
                        dt.date(int(year6_end[i]), 7, 8),
                        "ks2_scaled",
                        str(int(score[i])),
                    )
                )
    ks2_mean = np.where(sat_ks2, ks2_mean, np.nan)

    cat4_mean = np.full(n, np.nan)
    if plan.phase == "secondary":
        # CAT4 in the autumn of Year 7.
        year7_start = last_start - (final_yg - 7)
        took_cat4 = rng.random(n) < 0.95
        scores = np.stack(
            [
                np.clip(np.round(100 + 16.5 * (0.8 * attainment + 0.6 * rng.normal(0, 1, n))), 59, 141)
                for _ in CAT4_BATTERIES
            ]
        )
        cat4_mean = np.where(took_cat4, scores.mean(axis=0), np.nan)
        for i in np.flatnonzero(took_cat4):
            when = dt.date(int(year7_start[i]), 9, 26)
            label = f"{int(year7_start[i])}-{(int(year7_start[i]) + 1) % 100:02d} CAT4"
            for b, battery in enumerate(CAT4_BATTERIES):
                rows.append((int(i), battery, label, when, "cat4_sas", str(int(scores[b, i]))))
            rows.append((int(i), "Mean", label, when, "cat4_sas", str(round(cat4_mean[i]))))

    # Targets each September and working-at judgements at each data drop.
    for y, year in enumerate(years):
        in_year = np.flatnonzero(history.year_index == y)
        if len(in_year) == 0:
            continue
        target_day = year.days[min(19, len(year.days) - 1)]
        for label, when in [(f"{year.label} Targets", target_day), *assessment_points(year)]:
            d = _day_index(history, when)
            if d is None:
                continue
            on_roll = history.marks[:, d, 0] >= 0
            yg = history.year_group[:, d]
            recent = history.engagement[:, max(0, d - 30) : d + 1].mean(axis=1)
            if plan.phase == "secondary":
                prior = np.where(
                    np.isnan(ks2_mean),
                    np.where(np.isnan(cat4_mean), 103 + 6 * attainment, 103 + (cat4_mean - 100) * 0.45),
                    ks2_mean,
                )
                target = np.clip(np.round(4.2 + 0.32 * (prior - 103)), 1, 9)
                for subject in SECONDARY_SUBJECTS:
                    if label.endswith("Targets"):
                        values = [str(int(t)) for t in target]
                        kind = "target"
                    else:
                        gap = (
                            -0.35 + 0.7 * recent + subject_effect[subject] - 1.4 * coasting
                            + rng.normal(0, 0.3, n) - 0.1 * (yg - 9)
                        )  # fmt: skip
                        values = [gcse_grade_text(v) for v in target + gap]
                        kind = "working_at"
                    for i in np.flatnonzero(on_roll):
                        rows.append((int(i), subject, label, when, kind, values[i]))
                if not label.endswith("Targets"):
                    # Reading age for Years 7 and 8 (literacy screening), in whole months.
                    chronological = _age_months(pupils["date_of_birth"], when)
                    reading = chronological + 16 * literacy + 5 * recent + rng.normal(0, 6, n)
                    for i in np.flatnonzero(on_roll & (yg <= 8)):
                        rows.append((int(i), "Reading", label, when, "reading_age", str(int(max(60, reading[i])))))
            else:
                for subject in PRIMARY_SUBJECTS:
                    latent = literacy if subject != "Maths" else attainment
                    if label.endswith("Targets"):
                        position = latent + 0.35
                        kind = "target"
                    else:
                        position = (
                            latent + 0.45 * recent + subject_effect[subject] - 0.9 * coasting + rng.normal(0, 0.25, n)
                        )
                        kind = "working_at"
                    levels = np.asarray(PRIMARY_SCALE)[np.searchsorted(PRIMARY_CUTS, position)]
                    for i in np.flatnonzero(on_roll & (yg >= 1)):
                        rows.append((int(i), subject, label, when, kind, str(levels[i])))
                if not label.endswith("Targets"):
                    chronological = _age_months(pupils["date_of_birth"], when)
                    reading = chronological + 14 * literacy + 4 * recent + rng.normal(0, 5, n)
                    for i in np.flatnonzero(on_roll & (yg >= 2)):
                        months = int(max(48, reading[i]))
                        rows.append(
                            (
                                int(i),
                                "Reading",
                                label,
                                when,
                                "reading_age",
                                f"{months // 12}:{months % 12:02d}",
                            )
                        )
    return pd.DataFrame(rows, columns=["pupil", "subject", "assessment_point", "date", "result_type", "result"])


def _on_roll_in_year6(history: SchoolHistory, pupil: int) -> bool:
    return bool(((history.year_group[pupil] == 6) & (history.marks[pupil, :, 0] >= 0)).any())


def _day_index(history: SchoolHistory, when: dt.date) -> int | None:
    d = int(np.searchsorted(history.dates, np.datetime64(when, "D")))
    return d if d < len(history.dates) else None


def _age_months(dates_of_birth: pd.Series, when: dt.date) -> np.ndarray:
    return np.array([(when.year - b.year) * 12 + when.month - b.month for b in dates_of_birth], dtype=float)


INTERVENTIONS = (
    ("Learning mentor", "engagement"),
    ("Reading catch-up", "literacy"),
    ("Attendance support", "absence"),
    ("Counselling", "circumstances"),
    ("Maths tutoring", "attainment"),
)


def draw_interventions(
    pupils: pd.DataFrame, years: list[AcademicYear], history: SchoolHistory, rng: np.random.Generator
) -> pd.DataFrame:
    """Support already in place: staff notice some (not all) pupils in difficulty at the start of a half-term.

    Learning mentors are those the simulation started (they change what the pupil does next, see
    :mod:`pipeline.sample.mentoring`); the other kinds of support are drawn here and change nothing.
    """
    n = len(pupils)
    rows: list[tuple[int, str, dt.date, dt.date | None, str]] = []
    for start in history.mentoring:
        end = start.day + start.length
        ended = history.dates[end].item() if end < len(history.dates) else None
        outcome = "" if ended is None else start.outcome
        rows.append((start.pupil, MENTOR, history.dates[start.day].item(), ended, outcome))
    starts = [d for d in range(len(history.dates)) if d == 0 or history.half_term[d] != history.half_term[d - 1]]
    active_until = {name: np.zeros(n, dtype=int) for name, _ in INTERVENTIONS}
    literacy = pupils["literacy"].to_numpy()
    absence = pupils["absence_effect"].to_numpy()
    circumstances = pupils["circumstances"].to_numpy()
    attainment = pupils["attainment"].to_numpy()
    for d in starts:
        on_roll = history.marks[:, d, 0] >= 0
        e = history.engagement[:, max(0, d - 20) : d + 1].mean(axis=1)
        need = {
            "Reading catch-up": 1 / (1 + np.exp(-(-3.5 - 1.8 * literacy))),
            "Attendance support": 1 / (1 + np.exp(-(-5.0 + 0.9 * absence - 1.0 * e))),
            "Counselling": 1 / (1 + np.exp(-(-5.0 + 0.9 * circumstances))),
            "Maths tutoring": 1 / (1 + np.exp(-(-4.0 - 1.2 * attainment))),
        }
        for name, _ in INTERVENTIONS:
            if name == MENTOR:
                continue
            chosen = on_roll & (active_until[name] <= d) & (rng.random(n) < need[name])
            for i in np.flatnonzero(chosen):
                length = int(rng.integers(25, 80))
                end = d + length
                active_until[name][i] = end + 30
                end_date = history.dates[end].item() if end < len(history.dates) else None
                outcome = (
                    "" if end_date is None else str(rng.choice(["Completed", "Improved", "No change", "Disengaged"]))
                )
                rows.append((int(i), name, history.dates[d].item(), end_date, outcome))
    return pd.DataFrame(rows, columns=["pupil", "intervention", "start_date", "end_date", "outcome"])
