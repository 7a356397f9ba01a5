"""A second, independent world of known futures: a trust's pupils day by day, with their own causal story.

The story (no latent structure is shared with pipeline.sample):

- **Family shocks** arrive at random, more often in some households (free school meals, in care). A shock shows
  first in lateness (late marks, arriving after registers close) and only over the following weeks in absence
  (unexplained at first, then unauthorised); it fades at its own pace, so some pupils recover within weeks and
  others do not. A term-long attendance rate is slow to show a recent shock and slow to forget an old one.
- **Attainment slips before attendance**: a pupil may start to slip (working-at grades drift down, faster for able
  pupils who disengage); after a lag of weeks the slip turns into disengagement: unauthorised absence, lateness,
  and behaviour incidents.
- **Behaviour spirals**: every incident makes the next more likely for a while (self-exciting), and a run of
  points can end in a suspension.
- **Chronic illness** gives a steady authorised absence that persists; **term-time holidays** give a block of
  absence that says nothing about the future.
- **Learning mentors** assigned by the school to its most visible cases shorten their shocks and calm their spiral.

Outcomes over the half-term after the extract date use the project's definition (persistent absence in the horizon,
a suspension starting in it, or English and maths falling half a grade further below target at the first data drop
in it); they are computed from the simulated marks and grades exactly as the exports record them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.evaluate.world import tables as t

CODES = ("", t.PRESENT_AM, t.PRESENT_PM, t.LATE, t.ILLNESS, t.MEDICAL, t.SUSPENDED, t.EXCEPTIONAL,
         t.NO_REASON_YET, t.UNAUTHORISED_OTHER, t.AFTER_REGISTERS, t.HOLIDAY, t.EDUCATIONAL_VISIT)  # fmt: skip
"""Mark codes by index; 0 is "not on roll" (no row)."""
C = {code: index for index, code in enumerate(CODES)}
ABSENT_INDEX = np.array([code in t.ABSENT_MARKS for code in CODES])
INCIDENTS = (("Disruption", -1), ("Defiance", -2), ("Truancy", -2), ("Fighting", -3), ("Bullying", -3))
INCIDENT_SHARES = np.cumsum([0.5, 0.25, 0.1, 0.11])
"""Negative incidents a school records, and the cumulative share of each but the last."""
HORIZON_SCHOOL_DAYS = 30
PERSISTENT_ABSENCE = 0.10
GRADE_DROP = 0.5


@dataclass(frozen=True)
class SchoolSpec:
    urn: str
    phase: str  # "primary" or "secondary"
    pupils: int
    la: int
    establishment: int
    style: str  # "plain", "aliases" or "yes-no": how the MIS writes its files (see write.py)


@dataclass(frozen=True)
class WorldSpec:
    """What to simulate; the same spec gives the same world, byte for byte."""

    seed: int
    extract_date: dt.date = dt.date(2025, 11, 21)
    first_year: int = 2024
    """The academic year of the oldest history (September of this year); the extract date is in the next one."""
    schools: tuple[SchoolSpec, ...] = (
        SchoolSpec("140412", "secondary", 720, 873, 4012, "plain"),
        SchoolSpec("140587", "secondary", 560, 873, 4027, "aliases"),
        SchoolSpec("118230", "primary", 360, 873, 2145, "yes-no"),
    )
    damage: bool = True
    """Damage a few rows on purpose (an unknown mark, incidents of a pupil not on the roll) to be quarantined."""


@dataclass
class SchoolWorld:
    spec: SchoolSpec
    days: list[dt.date]
    extract_index: int
    pupils: pd.DataFrame
    marks: np.ndarray  # pupils x days x 2 (AM, PM): index into CODES
    minutes_late: np.ndarray  # pupils x days (AM only)
    behaviour: pd.DataFrame
    exclusions: pd.DataFrame
    assessments: pd.DataFrame
    interventions: pd.DataFrame
    outcomes: pd.DataFrame
    damaged: dict[str, int] = field(default_factory=dict)


def simulate(spec: WorldSpec) -> list[SchoolWorld]:
    """Simulate every school of the world from its own random stream."""
    streams = np.random.SeedSequence([spec.seed, 21_2]).spawn(len(spec.schools))
    return [
        _simulate_school(spec, school, np.random.default_rng(s))
        for school, s in zip(spec.schools, streams, strict=True)
    ]


def _simulate_school(spec: WorldSpec, school: SchoolSpec, rng: np.random.Generator) -> SchoolWorld:
    all_days = t.school_days(spec.first_year, spec.extract_date.year)
    extract_index = max(i for i, d in enumerate(all_days) if d <= spec.extract_date)
    days = all_days[: extract_index + 1 + HORIZON_SCHOOL_DAYS]
    n_days = len(days)
    secondary = school.phase == "secondary"
    years = list(range(7, 12)) if secondary else list(range(1, 7))
    current_year = spec.extract_date.year if spec.extract_date.month >= 9 else spec.extract_date.year - 1
    year_starts = [i for i, d in enumerate(days) if i == 0 or (d - days[i - 1]).days > 30]
    this_year_start = year_starts[-1]

    # Population: this year's roll by year group, plus last year's leavers; a few joiners and leavers in-year.
    per_year = school.pupils // len(years)
    year_now = np.repeat(years, per_year)
    leavers_year = np.full(per_year, years[-1] + 1)  # left last July, in the top year then
    year_now = np.concatenate([year_now, leavers_year])
    n = len(year_now)
    first = np.zeros(n, dtype=int)
    last = np.full(n, n_days - 1)
    new_intake = year_now == years[0]
    first[new_intake] = this_year_start
    last[year_now > years[-1]] = this_year_start - 1
    joiners = rng.random(n) < 0.04
    joiners &= year_now <= years[-1]
    first[joiners] = np.maximum(first[joiners], rng.integers(1, extract_index - 10, joiners.sum()))
    movers = (rng.random(n) < 0.03) & (year_now <= years[-1]) & ~joiners
    last[movers] = rng.integers(20, extract_index - 5, movers.sum())
    ok = first < last
    year_now, first, last = year_now[ok], first[ok], last[ok]
    n = len(year_now)

    sex = np.where(rng.random(n) < 0.5, "F", "M")
    fsm = rng.random(n) < (0.27 if secondary else 0.22)
    sen = rng.choice(["N", "K", "E"], n, p=[0.8, 0.155, 0.045])
    eal = rng.random(n) < 0.18
    cla = rng.random(n) < 0.012
    premium = fsm | cla | (rng.random(n) < 0.04)
    boy = sex == "M"
    needs = sen != "N"

    # Latent traits.
    base_absence = (
        rng.beta(1.6, 95, n) * np.where(fsm, 1.7, 1.0) * np.where(needs, 1.3, 1.0) * (1.3 if secondary else 0.9)
    )
    authorised_share = rng.uniform(0.45, 0.85, n)
    chronic = np.where(rng.random(n) < 0.05, rng.uniform(0.05, 0.2, n), 0.0)
    shock_hazard = 0.0009 * np.exp(rng.normal(0, 0.9, n)) * np.where(fsm, 1.8, 1.0) * np.where(cla, 1.6, 1.0)
    ability = rng.normal(4.6, 1.5, n).clip(1.2, 8.8) if secondary else rng.normal(2.9, 0.75, n).clip(0.3, 4.4)
    scale = 1.0 if secondary else 0.5  # grades per unit of slip: primary steps are coarser
    able = ability >= np.quantile(ability, 0.8)
    slip_hazard = 0.0010 * np.where(able, 2.2, 1.0) * np.where(needs, 1.3, 1.0)
    temper = (
        rng.gamma(0.6, (0.03 if secondary else 0.01) / 0.6, n) * np.where(boy, 1.5, 0.8) * np.where(needs, 1.4, 1.0)
    )
    threshold = rng.uniform(7, 14, n) * (1.0 if secondary else 1.4)
    lateness = 0.012 * np.exp(rng.normal(0, 0.6, n)) * np.where(fsm, 1.5, 1.0)
    holiday_day = {y: np.where(rng.random(n) < 0.07, rng.integers(0, 150, n), -1) for y in range(len(year_starts))}

    # State.
    shock_onset = np.full(n, -10_000)
    shock_severity = np.zeros(n)
    shock_fade = np.ones(n)
    slip_onset = np.full(n, -10_000)
    slip_rate = np.zeros(n)
    slip_length = np.zeros(n)
    slip_lag = np.zeros(n)
    damage = np.zeros(n)
    excitement = np.zeros(n)
    recent_points = np.zeros(n)
    suspended_until = np.full(n, -1)
    absent_yesterday = np.zeros(n, dtype=bool)
    mentored_until = np.full(n, -1)
    marks = np.zeros((n, n_days, 2), dtype=np.int8)
    minutes = np.zeros((n, n_days), dtype=np.int16)
    attainment = np.zeros((n, n_days))
    incidents: list[tuple[int, int, str, int, str]] = []
    suspensions: list[tuple[int, int, int, str]] = []
    mentoring: list[tuple[int, str, int, int]] = []
    mentor_rounds = {year_starts[y] + offset for y in range(len(year_starts)) for offset in (40, 95)}

    for d in range(n_days):
        on = (first <= d) & (d <= last)
        if d in year_starts:
            damage *= 0.5  # a summer's rest
        # A new shock replaces a fading one.
        new_shock = on & (rng.random(n) < shock_hazard)
        shock_onset[new_shock] = d
        shock_severity[new_shock] = rng.uniform(0.35, 1.0, new_shock.sum())
        shock_fade[new_shock] = np.exp(rng.normal(np.log(40), 0.7, new_shock.sum()))
        age = d - shock_onset
        fading = np.exp(-age / shock_fade)
        shock_late = np.where(age >= 0, shock_severity * fading, 0.0)
        shock_absent = shock_late * np.clip(age / 15.0, 0, 1)
        # Slips: attainment drifts down first, disengagement follows after a lag.
        new_slip = on & (rng.random(n) < slip_hazard) & (d - slip_onset > 150)
        slip_onset[new_slip] = d
        slip_rate[new_slip] = rng.uniform(0.012, 0.03, new_slip.sum())
        slip_length[new_slip] = rng.uniform(25, 60, new_slip.sum())
        slip_lag[new_slip] = rng.uniform(15, 35, new_slip.sum())
        slip_age = d - slip_onset
        slipping = (slip_age >= 0) & (slip_age < slip_length)
        disengaged = np.clip((slip_age - slip_lag) / 30.0, 0, 1) * np.clip(slip_rate * slip_length, 0, 1.2)
        disengaged *= np.exp(-np.clip(slip_age - slip_lag - slip_length - 40, 0, None) / 40.0)
        mentored = mentored_until >= d
        disengaged = np.where(mentored, disengaged * 0.6, disengaged)
        damage += np.where(slipping, slip_rate, 0.0) + 0.006 * shock_absent + 0.003 * disengaged
        damage *= 0.998
        attainment[:, d] = ability - damage * scale

        # Attendance.
        p_absent = base_absence + chronic + 0.45 * shock_absent + 0.3 * disengaged
        p_absent = np.where(absent_yesterday & (chronic > 0), np.maximum(p_absent, 0.45), p_absent)
        p_absent = np.where(absent_yesterday, np.maximum(p_absent, 0.25), p_absent).clip(0, 0.95)
        absent = on & (rng.random(n) < p_absent)
        authorised = rng.random(n) < (base_absence * authorised_share + chronic + 0.1 * shock_absent) / np.maximum(
            p_absent, 1e-9
        )
        unexplained = rng.random(n) < 0.25 + 0.5 * shock_absent
        absent_code = np.where(
            authorised,
            np.where(rng.random(n) < 0.85, C[t.ILLNESS], C[t.MEDICAL]),
            np.where(unexplained, C[t.NO_REASON_YET], C[t.UNAUTHORISED_OTHER]),
        )
        for y, start in enumerate(year_starts):
            on_holiday = (holiday_day[y] >= 0) & (d - start >= holiday_day[y]) & (d - start < holiday_day[y] + 6)
            absent |= on & on_holiday
            absent_code = np.where(on_holiday, C[t.HOLIDAY], absent_code)
        suspended = on & (suspended_until >= d)
        late = on & ~absent & ~suspended & (rng.random(n) < lateness + 0.3 * shock_late + 0.1 * disengaged)
        very_late = late & (rng.random(n) < 0.1 + 0.4 * shock_late)
        am = np.where(on, C[t.PRESENT_AM], 0)
        pm = np.where(on, C[t.PRESENT_PM], 0)
        trip = on & (rng.random(n) < 0.004)
        am = np.where(trip, C[t.EDUCATIONAL_VISIT], am)
        pm = np.where(trip, C[t.EDUCATIONAL_VISIT], pm)
        am = np.where(late, C[t.LATE], am)
        am = np.where(very_late, C[t.AFTER_REGISTERS], am)
        minutes[:, d] = np.where(late, np.where(very_late, rng.integers(35, 80, n), rng.integers(3, 25, n)), 0)
        half_day = absent & (rng.random(n) < 0.12)
        am = np.where(absent & ~half_day, absent_code, am)
        pm = np.where(absent, absent_code, pm)
        am = np.where(suspended, C[t.SUSPENDED], am)
        pm = np.where(suspended, C[t.SUSPENDED], pm)
        marks[:, d, 0], marks[:, d, 1] = am, pm
        absent_yesterday = absent

        # Behaviour: a self-exciting spiral, fed by shocks and disengagement; calmer with a mentor.
        present = on & ~suspended & ~(absent & ~half_day)
        rate = (temper + excitement + 0.02 * shock_late + 0.06 * disengaged) * np.where(mentored, 0.6, 1.0)
        count = np.where(present, rng.poisson(rate.clip(0, 2)), 0).clip(0, 2)
        for pupil in np.flatnonzero(count):
            for _ in range(count[pupil]):
                roll = rng.random()
                kind = int(np.searchsorted(INCIDENT_SHARES, roll, side="right"))
                category, points = INCIDENTS[kind]
                action = ("Detention", "Warning", "Isolation", "Phone call home")[int(rng.integers(0, 4))]
                incidents.append((int(pupil), d, category, points, action))
                recent_points[pupil] += -points
        excitement = excitement * np.exp(-1 / 10) + 0.04 * count
        recent_points *= np.exp(-1 / 12)
        praise = present & (rng.random(n) < 0.015)
        for pupil in np.flatnonzero(praise):
            incidents.append((int(pupil), d, "Achievement", 1, "Praise postcard"))
        to_suspend = present & (recent_points >= threshold) & (rng.random(n) < 0.25) & (suspended_until < d)
        for pupil in np.flatnonzero(to_suspend):
            sessions = int(rng.choice([2, 2, 4, 6]))
            reason = str(rng.choice(["PP", "PP", "VP", "PA", "DA", "VA"]))
            suspensions.append((int(pupil), d + 1, sessions, reason))
            suspended_until[pupil] = d + sessions // 2
            recent_points[pupil] *= 0.3

        # The school's mentor rounds: its most visible pupils of the last weeks (absence and behaviour).
        if d in mentor_rounds and d > 20:
            window = marks[:, d - 20 : d + 1, :]
            seen = (window > 0).sum(axis=(1, 2))
            missed = ABSENT_INDEX[window].sum(axis=(1, 2)) / np.maximum(seen, 1)
            visible = missed + recent_points / 20
            visible[~on | (mentored_until >= d)] = -1
            chosen = np.argsort(-visible, kind="stable")[: max(3, int(0.025 * on.sum()))]
            for pupil in chosen:
                length = int(rng.integers(50, 70))
                mentoring.append((int(pupil), "Learning mentor", d, d + length))
                mentored_until[pupil] = d + length
                shock_fade[pupil] *= 0.5
                excitement[pupil] *= 0.5

    pupils = _pupil_table(
        spec, school, rng, days, year_now, first, last, sex, fsm, premium, sen, eal, cla, current_year
    )
    behaviour = pd.DataFrame(incidents, columns=["pupil", "day", "category", "points", "action"])
    exclusions = pd.DataFrame(suspensions, columns=["pupil", "day", "sessions", "reason"])
    exclusions = exclusions[exclusions["day"] < n_days]
    interventions = pd.DataFrame(mentoring, columns=["pupil", "intervention", "day", "end_day"])
    assessments = _assessments(school, rng, days, first, last, year_now, attainment, current_year, pupils)
    world = SchoolWorld(school, days, extract_index, pupils, marks, minutes, behaviour, exclusions, assessments,
                        interventions, pd.DataFrame())  # fmt: skip
    world.outcomes = outcomes(world)
    return world


def _pupil_table(
    spec: WorldSpec, school: SchoolSpec, rng: np.random.Generator, days: list[dt.date], year_now: np.ndarray,
    first: np.ndarray, last: np.ndarray, sex: np.ndarray, fsm: np.ndarray, premium: np.ndarray, sen: np.ndarray,
    eal: np.ndarray, cla: np.ndarray, current_year: int,
) -> pd.DataFrame:  # fmt: skip
    n = len(year_now)
    # Year of birth: a pupil in year Y in the academic year starting in September C was born Sept C-Y-5 .. Aug.
    birth_start = np.array([dt.date(current_year - int(y) - 5, 9, 1).toordinal() for y in year_now])
    birth = [dt.date.fromordinal(int(o)) for o in birth_start + rng.integers(0, 365, n)]
    # UPN: allocated at entry to school (age 4-5), by the LA of a first school; serials unique within the trust.
    upns: list[str] = []
    taken: set[str] = set()
    for born in birth:
        while True:
            upn = t.make_upn(int(rng.choice([873, 874, 909])), int(rng.integers(2000, 2400)), born.year + 5,
                             int(rng.integers(0, 1000)))  # fmt: skip
            if upn not in taken:
                taken.add(upn)
                upns.append(upn)
                break
    forename = np.where(sex == "F", rng.choice(t.FORENAMES_F, n), rng.choice(t.FORENAMES_M, n))
    extract = days[max(i for i, d in enumerate(days) if d <= spec.extract_date)]
    return pd.DataFrame(
        {
            "upn": upns,
            "mis_id": [f"{school.urn[-3:]}{i:05d}" for i in range(n)],
            "surname": rng.choice(t.SURNAMES, n),
            "forename": forename,
            "date_of_birth": birth,
            "sex": sex,
            "year_group": [str(min(int(y), 11 if school.phase == "secondary" else 6)) for y in year_now],
            "reg_group": [
                f"{min(int(y), 11 if school.phase == 'secondary' else 6)}{'ABCD'[i % 4]}"
                for i, y in enumerate(year_now)
            ],
            "admission_date": [days[f] if f > 0 else None for f in first],
            "leaving_date": [days[x] if x < len(days) - 1 and days[x] <= extract else None for x in last],
            "sen_provision": sen,
            "fsm_eligible": fsm,
            "pupil_premium": premium,
            "eal": eal,
            "looked_after": cla,
            "ethnicity": rng.choice(t.ETHNICITIES, n),
            "first": first,
            "last": last,
        }
    )


def _assessments(
    school: SchoolSpec, rng: np.random.Generator, days: list[dt.date], first: np.ndarray, last: np.ndarray,
    year_now: np.ndarray, attainment: np.ndarray, current_year: int, pupils: pd.DataFrame,
) -> pd.DataFrame:  # fmt: skip
    secondary = school.phase == "secondary"
    subjects = ("English", "Maths", "Science") if secondary else ("Reading", "Writing", "Maths")
    n = len(first)
    offset = rng.normal(0, 0.35 if secondary else 0.2, (n, len(subjects)))
    index = {d: i for i, d in enumerate(days)}
    rows: list[tuple[int, str, str, dt.date, str, str, float]] = []
    drops = [(p, d) for p, d in t.data_drops(current_year - 1, current_year) if d <= days[-1] and d in index]
    for point, day in drops:
        d = index[day]
        on = np.flatnonzero((first <= d) & (d <= last))
        for s, subject in enumerate(subjects):
            value = attainment[on, d] + offset[on, s] + rng.normal(0, 0.12, len(on))
            if point.endswith("Targets"):
                if secondary:
                    target = np.clip(np.round(attainment[on, d] + offset[on, s] + 0.8), 1, 9)
                    texts = [str(int(v)) for v in target]
                    values = target
                else:
                    values = np.where(value >= 3.6, 4.0, np.where(value >= 1.8, 3.0, 2.0))
                    texts = [t.PRIMARY_GRADES[int(v)] for v in values]
                kind = "target"
            else:
                if secondary:
                    texts = [t.secondary_grade_text(v) for v in value]
                    values = np.array([t.secondary_grade_value(x) for x in texts])
                else:
                    values = np.clip(np.round(value), 0, 4)
                    texts = [t.PRIMARY_GRADES[int(v)] for v in values]
                kind = "working_at"
            rows += [
                (int(p), subject, point, day, kind, x, float(v)) for p, x, v in zip(on, texts, values, strict=True)
            ]
        if point.endswith("Autumn 1") and not secondary:
            # Reading age, once a year, for years 3 to 6.
            born = pd.to_datetime(pupils["date_of_birth"]).dt.date.to_numpy()
            for p in on:
                year = int(year_now[p]) - (1 if day.year == current_year - 1 or day < dt.date(current_year, 9, 1)
                                            else 0)  # fmt: skip
                if year >= 3:
                    age = (day.year - born[p].year) * 12 + day.month - born[p].month
                    months = round(float(age + (attainment[p, d] - 2.9) * 14 + rng.normal(0, 6)))
                    rows.append((int(p), "Reading", point.split(" ")[0] + " Reading test", day, "reading_age",
                                 f"{months // 12}:{months % 12:02d}", float(months)))  # fmt: skip
    if secondary:
        # KS2 results (the July before year 7) and a CAT4 mean in the autumn of year 7.
        for pupil in range(n):
            entry = current_year - (int(year_now[pupil]) - 7)
            ks2_day, cat_day = dt.date(entry, 7, 8), dt.date(entry, 9, 24)
            base = attainment[pupil, max(first[pupil], 0)]
            for subject in ("Reading", "Maths"):
                score = int(np.clip(round(float(100 + (base - 4.6) * 4.5 + rng.normal(0, 3))), 80, 120))
                rows.append((pupil, subject, "KS2", ks2_day, "ks2_scaled", str(score), float(score)))
            sas = int(np.clip(round(float(100 + (base - 4.6) * 8 + rng.normal(0, 6))), 59, 141))
            rows.append(
                (pupil, "Mean", f"{entry}-{(entry + 1) % 100:02d} CAT4", cat_day, "cat4_sas", str(sas), float(sas))
            )
    return pd.DataFrame(
        rows, columns=["pupil", "subject", "assessment_point", "date", "result_type", "result", "value"]
    )


def outcomes(world: SchoolWorld) -> pd.DataFrame:
    """Each pupil on roll on the extract date: what happened over the next 30 school days (the project's outcome)."""
    e = world.extract_index
    as_of = world.days[e]
    horizon = slice(e + 1, e + 1 + HORIZON_SCHOOL_DAYS)
    start, end = world.days[e + 1], world.days[min(e + HORIZON_SCHOOL_DAYS, len(world.days) - 1)]
    pupils = world.pupils
    on_roll = (pupils["first"] <= e) & (pupils["last"] >= e)
    marks = world.marks[:, horizon, :]
    possible = (marks > 0).sum(axis=(1, 2))
    absent = ABSENT_INDEX[marks].sum(axis=(1, 2))
    rate = absent / np.maximum(possible, 1)
    suspended = world.exclusions[(world.exclusions["day"] > e) & (world.exclusions["day"] <= horizon.stop - 1)]
    suspensions = suspended.groupby("pupil").size().reindex(range(len(pupils)), fill_value=0).to_numpy()
    gap_before, gap_after = _gaps(world.assessments, as_of, end, len(pupils))
    fell = (~np.isnan(gap_after)) & (gap_after <= gap_before - GRADE_DROP) & (gap_after < 0)
    frame = pd.DataFrame(
        {
            "school_urn": world.spec.urn,
            "upn": pupils["upn"],
            "as_of": as_of,
            "horizon_start": start,
            "horizon_end": end,
            "horizon_possible_sessions": possible,
            "horizon_absence_rate": rate.round(4),
            "outcome_persistent_absence": (possible > 0) & (rate >= PERSISTENT_ABSENCE),
            "horizon_suspensions": suspensions,
            "outcome_suspension": suspensions > 0,
            "gap_before": np.round(gap_before, 4),
            "gap_after": np.round(gap_after, 4),
            "outcome_fell_below_target": fell,
        }
    )
    frame["adverse_outcome"] = frame[
        ["outcome_persistent_absence", "outcome_suspension", "outcome_fell_below_target"]
    ].any(axis=1)
    return frame[on_roll.to_numpy()].reset_index(drop=True)


def _gaps(assessments: pd.DataFrame, as_of: dt.date, end: dt.date, n: int) -> tuple[np.ndarray, np.ndarray]:
    """English (or reading) and maths working-at against target, before and at the first drop after ``as_of``,
    averaged over the subjects; the "after" gap only where the same subjects have both."""
    core = assessments[assessments["subject"].isin(["English", "Reading", "Maths"]) & (assessments["date"] <= end)]
    core = core.assign(subject=core["subject"].replace({"Reading": "English"}))
    targets = core[core["result_type"] == "target"].sort_values("date").groupby(["pupil", "subject"])["value"].last()
    working = core[core["result_type"] == "working_at"]
    before = working[working["date"] <= as_of].sort_values("date").groupby(["pupil", "subject"])["value"].last()
    after = working[working["date"] > as_of].sort_values("date").groupby(["pupil", "subject"])["value"].first()
    gaps = pd.DataFrame({"target": targets, "before": before, "after": after}).dropna(subset=["target"])
    gaps = gaps.assign(b=gaps["before"] - gaps["target"], a=gaps["after"] - gaps["target"])
    per_pupil = gaps.groupby(level="pupil").agg(
        b=("b", "mean"), a=("a", "mean"), nb=("before", "count"), na=("after", "count")
    )
    per_pupil.loc[(per_pupil["nb"] != per_pupil["na"]) | (per_pupil["na"] == 0), "a"] = np.nan
    full = per_pupil.reindex(range(n))
    return full["b"].to_numpy(dtype=float), full["a"].to_numpy(dtype=float)
