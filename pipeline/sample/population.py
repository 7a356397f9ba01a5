"""Synthetic pupils of one school, with the latent traits that drive everything they later do.

Three latent traits per pupil, standard-normal before adjustment:
- prior attainment (``attainment``): drives KS2, CAT4, targets and reading age;
- circumstances (``circumstances``): difficulty at home; raised by FSM and being looked after;
- engagement (``engagement``): baseline willingness to be in school and to work; it drifts week by week and
  drops in a "crisis" for some pupils (see :mod:`pipeline.sample.simulate`).
Characteristics (FSM, SEN, EAL, ...) are drawn first and shift the traits, so the correlations seen in DfE
statistics (FSM and SEN pupils absent more, lower attainment) come out of the model rather than being painted on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

from pipeline.sample.calendar import AcademicYear
from pipeline.sample.identifiers import LETTERS, new_upn
from pipeline.sample.names import ETHNICITIES, NAMES

PRIMARY_YEARS = (0, 1, 2, 3, 4, 5, 6)  # 0 is Reception
SECONDARY_YEARS = (7, 8, 9, 10, 11)

# National shares (DfE statistics: Schools, pupils and their characteristics; Special educational needs in
# England): SEN support 14.2%, EHC plan 5.3%, FSM 24.6%, EAL about 1 in 5.
SEN_SUPPORT_SHARE = 0.142
EHCP_SHARE = 0.053
FSM_SHARE = 0.246
LOOKED_AFTER_SHARE = 0.007
MID_YEAR_TURNOVER = 0.03
"""Share of pupils who leave during a year (moving house, elective home education); as many join."""


@dataclass(frozen=True)
class SchoolPlan:
    """Who a school is: what the generator needs to know before drawing pupils."""

    index: int
    urn: int
    la_code: int
    establishment: int
    phase: str  # "primary" or "secondary"
    flavour: str  # "arbor" or "sims": how the MIS writes its exports
    fsm_share: float
    needs: str = "typical"
    """What most of the school's need is: ``typical``, ``behaviour`` or ``attendance`` (see ``NEEDS``)."""

    @property
    def year_groups(self) -> tuple[int, ...]:
        return PRIMARY_YEARS if self.phase == "primary" else SECONDARY_YEARS

    @property
    def forms(self) -> int:
        return 2 if self.phase == "primary" else 5


def _school_start(year_group: int, academic_start: int) -> int:
    """Calendar year in which a pupil in ``year_group`` during ``academic_start`` began Reception."""
    return academic_start - year_group


def draw_pupils(
    plan: SchoolPlan,
    pupils_on_roll: int,
    years: list[AcademicYear],
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Draw every pupil on the school's roll at any time in ``years``, with characteristics and latent traits.

    Cohorts are followed through the years: a pupil's ``final_year_group`` is the year group they are (or would
    be) in during the last academic year, so leavers of earlier years have a final year group beyond the school's
    range. Mid-year joiners and leavers are added on top.
    """
    n_years = len(years)
    last_start = years[-1].start_year
    low, high = plan.year_groups[0], plan.year_groups[-1]
    per_year_group = pupils_on_roll / len(plan.year_groups)
    rows: list[pd.DataFrame] = []
    for final_year_group in range(low, high + n_years):
        size = int(rng.poisson(per_year_group))
        cohort = pd.DataFrame({"final_year_group": np.full(size, final_year_group)})
        cohort["joined_mid_year"] = False
        rows.append(cohort)
    pupils = pd.concat(rows, ignore_index=True)

    # Everyone's normal admission date is the first September of their cohort at this school.
    entry = last_start - (pupils["final_year_group"] - low)
    pupils["admission_date"] = [_first_day_on_or_after(dt.date(int(y), 9, 1)) for y in entry]

    # Mid-year joiners: same cohorts, admitted on a random school day of some year.
    joiners = _mid_year_moves(pupils, years, plan, rng)
    pupils = pd.concat([pupils, joiners], ignore_index=True)
    n = len(pupils)

    # Natural leavers: the last year group leaves at the end of the summer term.
    final_day = {y.start_year: y.days[-1] for y in years}
    leave_start = last_start - (pupils["final_year_group"] - high)
    pupils["leaving_date"] = [final_day.get(int(s)) if s < last_start else None for s in leave_start]
    # Year 11 leave after their last GCSE exam, before the end of the summer term.
    if plan.phase == "secondary":
        exam_end = {y.start_year: dt.date(y.start_year + 1, 6, 19) for y in years}
        left = pupils["leaving_date"].notna()
        pupils.loc[left, "leaving_date"] = [exam_end[int(s)] for s in leave_start[left]]
    # Mid-year leavers among the rest.
    movers = rng.random(n) < MID_YEAR_TURNOVER * n_years
    for i in np.flatnonzero(movers):
        year = years[int(rng.integers(n_years))]
        day = year.days[int(rng.integers(len(year.days)))]
        admitted = cast(dt.date, pupils.at[i, "admission_date"])
        leaving = cast(dt.date | None, pupils.at[i, "leaving_date"])
        if day > admitted and (leaving is None or day < leaving):
            pupils.at[i, "leaving_date"] = day

    _characteristics(pupils, plan, rng)
    _latent_traits(pupils, rng)
    _identities(pupils, plan, years, rng)
    return pupils


def _first_day_on_or_after(day: dt.date) -> dt.date:
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def _mid_year_moves(
    pupils: pd.DataFrame, years: list[AcademicYear], plan: SchoolPlan, rng: np.random.Generator
) -> pd.DataFrame:
    n_years = len(years)
    low, high = plan.year_groups[0], plan.year_groups[-1]
    count = int(rng.poisson(len(pupils) * MID_YEAR_TURNOVER * n_years / (1 + (n_years - 1) / len(plan.year_groups))))
    rows = []
    for _ in range(count):
        y_index = int(rng.integers(n_years))
        year = years[y_index]
        day = year.days[int(rng.integers(10, len(year.days) - 10))]
        year_group = int(rng.integers(low, high + 1))
        final = year_group + (n_years - 1 - y_index)
        rows.append({"final_year_group": final, "admission_date": day, "joined_mid_year": True})
    return pd.DataFrame(rows, columns=["final_year_group", "admission_date", "joined_mid_year"])


def _characteristics(pupils: pd.DataFrame, plan: SchoolPlan, rng: np.random.Generator) -> None:
    n = len(pupils)
    pupils["sex"] = np.where(rng.random(n) < 0.49, "F", "M")
    codes, shares, heritage, eal_rate = zip(*ETHNICITIES, strict=True)
    p = np.asarray(shares) / np.sum(shares)
    pick = rng.choice(len(codes), size=n, p=p)
    pupils["ethnicity"] = np.asarray(codes)[pick]
    pupils["heritage"] = np.asarray(heritage)[pick]
    # EAL is more common among pupils who joined mid-year (new arrivals).
    eal_p = np.asarray(eal_rate)[pick] * np.where(pupils["joined_mid_year"], 1.5, 1.0)
    pupils["eal"] = rng.random(n) < np.clip(eal_p, 0, 0.95)

    pupils["fsm"] = rng.random(n) < plan.fsm_share
    pupils["looked_after"] = rng.random(n) < LOOKED_AFTER_SHARE
    # Pupil premium: FSM now, FSM in the last six years ("Ever 6") or looked after.
    pupils["pupil_premium"] = pupils["fsm"] | pupils["looked_after"] | (rng.random(n) < 0.06)
    # SEN: more common among boys and FSM pupils; logit shifts chosen to keep the national shares.
    boy = (pupils["sex"] == "M").to_numpy()
    fsm = pupils["fsm"].to_numpy()
    risk = 0.45 * boy + 0.55 * fsm + 0.6 * pupils["looked_after"].to_numpy() + rng.normal(0, 1, n)
    rank = risk.argsort().argsort() / n
    pupils["sen"] = np.select([rank >= 1 - EHCP_SHARE, rank >= 1 - EHCP_SHARE - SEN_SUPPORT_SHARE], ["E", "K"], "N")


def _latent_traits(pupils: pd.DataFrame, rng: np.random.Generator) -> None:
    n = len(pupils)
    fsm = pupils["fsm"].to_numpy(dtype=float)
    cla = pupils["looked_after"].to_numpy(dtype=float)
    sen_k = (pupils["sen"] == "K").to_numpy(dtype=float)
    sen_e = (pupils["sen"] == "E").to_numpy(dtype=float)
    new_arrival_eal = (pupils["eal"] & pupils["joined_mid_year"]).to_numpy(dtype=float)

    circumstances = rng.normal(0, 1, n) + 0.7 * fsm + 1.0 * cla + 0.2 * (sen_k + sen_e)
    attainment = rng.normal(0, 0.9, n) - 0.35 * fsm - 0.7 * sen_k - 1.3 * sen_e - 0.3 * cla
    attainment = attainment + 0.25  # pupils without SEN or FSM sit above the national mean
    # Low attainment that comes with SEN does not by itself make a pupil less willing to be in school.
    engagement = 0.75 * rng.normal(0, 1, n) + 0.2 * (attainment + 0.7 * sen_k + 1.3 * sen_e) - 0.35 * circumstances
    pupils["circumstances"] = circumstances
    pupils["attainment"] = attainment
    pupils["engagement"] = engagement
    # Literacy tracks attainment, lower for new arrivals learning English.
    pupils["literacy"] = 0.8 * attainment + 0.6 * rng.normal(0, 1, n) - 0.8 * new_arrival_eal
    # Able pupils who coast: high prior attainment, working below what they could.
    pupils["coasting"] = (attainment > 0.9) & (rng.random(n) < 0.3)
    # Pupil-level propensities that are not explained by the traits (families, health, habits).
    pupils["absence_effect"] = rng.normal(0, 1, n)
    pupils["behaviour_effect"] = rng.normal(0, 1, n)
    pupils["monday_friday"] = rng.random(n) < 1 / (1 + np.exp(-(-1.2 - 1.2 * engagement)))
    pupils["holiday_taker"] = rng.random(n) < 0.12 + 0.04 * fsm
    pupils["sporty"] = rng.random(n) < 0.12
    # A crisis (bereavement, family breakdown, exploitation, mental health) hits some pupils each year.
    pupils["crisis_risk"] = 0.05 * np.exp(0.5 * circumstances - 0.2 * engagement)


def _identities(pupils: pd.DataFrame, plan: SchoolPlan, years: list[AcademicYear], rng: np.random.Generator) -> None:
    n = len(pupils)
    last_start = years[-1].start_year
    # Date of birth: the cohort is born between 1 September and 31 August.
    birth_year_start = last_start - pupils["final_year_group"].to_numpy() - 5
    offsets = rng.integers(0, 365, n)
    pupils["date_of_birth"] = [
        dt.date(int(y), 9, 1) + dt.timedelta(days=int(o)) for y, o in zip(birth_year_start, offsets, strict=True)
    ]

    forenames, surnames = [], []
    for heritage, sex in zip(pupils["heritage"], pupils["sex"], strict=True):
        girls, boys, family = NAMES[heritage]
        given = girls if sex == "F" else boys
        forenames.append(given[int(rng.integers(len(given)))])
        surnames.append(family[int(rng.integers(len(family)))])
    pupils["forename"] = forenames
    pupils["surname"] = surnames

    # UPNs are allocated by the school where a child first starts (Reception): for a secondary school that is
    # one of its feeder primaries, mostly in the same local authority.
    reception_start = last_start - pupils["final_year_group"].to_numpy()
    feeders = rng.integers(2000, 3999, size=12)
    upns: list[str] = []
    used: set[str] = set()
    for i in range(n):
        moved_in = rng.random() >= 0.85
        la = int(rng.choice([202, 330, 341, 878, 936])) if moved_in else plan.la_code
        if moved_in:
            estab = int(rng.integers(2000, 3999))
        elif plan.phase == "primary":
            estab = plan.establishment
        else:
            estab = int(feeders[int(rng.integers(len(feeders)))])
        year = int(reception_start[i])
        while True:
            if pupils.at[i, "joined_mid_year"] and pupils.at[i, "eal"] and rng.random() < 0.3:
                serial: int | str = f"{int(rng.integers(100)):02d}{LETTERS[int(rng.integers(23))]}"
            else:
                serial = int(rng.integers(1000))
            upn = new_upn(la, estab, year, serial)
            if upn not in used:
                used.add(upn)
                upns.append(upn)
                break
    pupils["upn"] = upns
    pupils["mis_id"] = [f"{plan.index + 1:02d}{k:04d}" for k in rng.permutation(n) + 1]
    forms = np.asarray(list("ABCDE"[: plan.forms]))
    pupils["form_letter"] = forms[rng.integers(plan.forms, size=n)]
