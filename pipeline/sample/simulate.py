"""Day-by-day simulation of one school: register marks, behaviour incidents and suspensions.

Each school day, for every pupil on roll, the simulation draws from hazards that depend on the pupil's latent
traits (see :mod:`pipeline.sample.population`) and on the day:
- illness starts a spell of one or more days (more in winter); a few spells are long;
- unauthorised absence is more likely for disengaged pupils, with a Monday/Friday pattern for some;
- term-time holidays are taken next to a half-term; religious festivals, medical appointments, lates;
- negative behaviour incidents excite further incidents (a self-exciting process), and a suspension becomes
  likely as recent negative points pile up, so points rise before suspensions as they do in real schools.
Engagement drifts week by week and falls during a crisis, which is what makes a pupil's later outcomes partly
predictable from their recent record and partly not.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

from pipeline.sample.calendar import AcademicYear
from pipeline.sample.population import SchoolPlan

if TYPE_CHECKING:
    from pipeline.sample.mentoring import Mentoring, MentoringStart

MARKS: tuple[str, ...] = (
    "/", "\\", "L", "U", "I", "M", "O", "N", "G", "E", "C", "R", "T", "J1", "C1", "C2", "S",
    "V", "P", "B", "K", "W", "D", "X", "Y1", "Z", "#", "-",
)  # fmt: skip
CODE = {mark: np.int8(i) for i, mark in enumerate(MARKS)}
# The generator's own reading of the DfE register codes (the 2024 regulations), kept apart from pipeline/codes.py on
# purpose: the sample is a second, independent statement of the rules, so the realism tests, which check the sample
# against the pipeline's table, check something.
PRESENT_OR_APPROVED = ("/", "\\", "L", "V", "P", "B", "K", "W")
ABSENT_MARKS = ("U", "I", "M", "O", "N", "G", "E", "C", "R", "T", "J1", "C1", "C2", "S")
POSSIBLE_MARKS = PRESENT_OR_APPROVED + ABSENT_MARKS
NOT_ON_ROLL = np.int8(-1)

# Eid al-Fitr and Eid al-Adha as observed in England (the first school day a family would keep).
FESTIVALS = frozenset(
    dt.date.fromisoformat(d)
    for d in (
        "2024-04-10",
        "2024-06-17",
        "2025-03-31",
        "2025-06-06",
        "2026-03-20",
        "2026-05-27",
        "2027-03-10",
    )
)


@dataclass(frozen=True)
class PhaseRates:
    """Base daily rates for a phase, tuned so the sample matches national absence and suspension figures."""

    illness: float
    unauthorised: float
    medical: float
    late: float
    behaviour: float
    praise: float
    suspension_logit: float
    refusal: float
    """Daily chance that a pupil whose engagement is below :data:`REFUSAL_ENGAGEMENT` stays away."""


PHASE_RATES = {
    "primary": PhaseRates(
        illness=0.0097, unauthorised=0.0014, medical=0.0045, late=0.025,
        behaviour=0.004, praise=0.05, suspension_logit=-5.5, refusal=0.35,
    ),
    "secondary": PhaseRates(
        illness=0.0100, unauthorised=0.0037, medical=0.0055, late=0.03,
        behaviour=0.018, praise=0.03, suspension_logit=-5.4, refusal=0.75,
    ),
}  # fmt: skip

NEEDS = {
    "typical": {},
    "behaviour": {"behaviour": 3.0, "unauthorised": 0.3, "illness": 0.5, "medical": 0.5, "refusal": 0.1},
    "attendance": {"unauthorised": 2.0, "refusal": 1.0, "behaviour": 0.5},
}
"""Multipliers of a phase's base rates for a school whose needs differ (``mentor sample --varied-needs``): a
behaviour school has three times the incidents and fewer absences, an attendance school the reverse."""


def rates_for(plan: SchoolPlan) -> PhaseRates:
    """The phase's base rates, scaled by the school's needs (unchanged for a ``typical`` school)."""
    rates = PHASE_RATES[plan.phase]
    factors = NEEDS[plan.needs]
    return dataclasses.replace(rates, **{name: getattr(rates, name) * f for name, f in factors.items()})


REFUSAL_ENGAGEMENT = -2.2
"""Engagement below which a pupil avoids school on most days (emotionally based school avoidance)."""

# Negative behaviour: (category, points, weight, extra suspension log-odds, DfE suspension reason)
NEGATIVE_BEHAVIOUR: tuple[tuple[str, int, float, float, str], ...] = (
    ("Disruption", -1, 0.36, 0.0, "PD"),
    ("Lateness to lesson", -1, 0.12, -1.0, "PD"),
    ("Homework", -1, 0.12, -2.0, "PD"),
    ("Defiance", -2, 0.16, 0.6, "PD"),
    ("Rudeness", -2, 0.08, 0.2, "VA"),
    ("Truancy from lesson", -3, 0.05, 0.6, "PD"),
    ("Verbal abuse", -3, 0.04, 1.0, "VP"),
    ("Bullying", -4, 0.02, 1.2, "BU"),
    ("Fighting", -5, 0.03, 2.1, "PP"),
    ("Damage", -3, 0.01, 0.8, "DM"),
    ("Misuse of phone", -2, 0.01, 0.6, "MT"),
)
POSITIVE_BEHAVIOUR = (
    ("Achievement", 1, 0.45),
    ("Effort", 1, 0.3),
    ("Kindness", 1, 0.15),
    ("Contribution", 2, 0.1),
)
SUSPENSION_DAYS = (np.array([0.5, 1, 2, 3, 5]), np.array([0.05, 0.45, 0.2, 0.2, 0.1]))


class Incident(NamedTuple):
    pupil: int
    incident_id: int
    day: int
    category: str
    points: int
    action: str


class Exclusion(NamedTuple):
    pupil: int
    day: int
    category: str  # SUSP, PERM or LNCH
    sessions: int
    reason: str


@dataclass
class SchoolHistory:
    """What happened at one school, day by day, before and after the extract date."""

    dates: np.ndarray  # datetime64[D], every school day simulated
    year_index: np.ndarray  # which academic year each day belongs to
    half_term: np.ndarray
    marks: np.ndarray  # int8 (pupils, days, 2): index into MARKS, or NOT_ON_ROLL
    year_group: np.ndarray  # int (pupils, days)
    engagement: np.ndarray  # float (pupils, days)
    minutes_late: np.ndarray  # int16 (pupils, days): minutes late for the AM session
    incidents: list[Incident] = field(default_factory=list)
    exclusions: list[Exclusion] = field(default_factory=list)
    mentoring: list[MentoringStart] = field(default_factory=list)
    """Learning mentors started in the simulation (see :mod:`pipeline.sample.mentoring`)."""
    marks_without_mentoring: np.ndarray | None = None
    """The register as it would have been had no pupil been mentored (only when mentoring has an effect)."""


def simulate_school(
    pupils: pd.DataFrame,
    plan: SchoolPlan,
    years: list[AcademicYear],
    horizon_end: dt.date,
    rng: np.random.Generator,
    mentoring: Mentoring | None = None,
) -> SchoolHistory:
    """Simulate every school day of ``years`` up to ``horizon_end`` for the pupils of one school.

    The caller decides which days are exported; days after the extract date become the simulation truth. With
    ``mentoring``, learning mentors are started at half-term starts and lift their mentees' engagement.
    """
    days = [(d, y, h) for y, year in enumerate(years) for d, h in zip(year.days, year.half_term, strict=True)]
    days = [t for t in days if t[0] <= horizon_end]
    dates = np.array([d for d, _, _ in days], dtype="datetime64[D]")
    year_index = np.array([y for _, y, _ in days])
    half_term = np.array([h for _, _, h in days])
    inset = np.array([d in years[y].inset_days for d, y, _ in days])
    weekday = (dates.astype("datetime64[D]").view("int64") - 4) % 7  # 0 = Monday
    n, n_days = len(pupils), len(days)
    n_years = len(years)

    low, high = plan.year_groups[0], plan.year_groups[-1]
    year_group = pupils["final_year_group"].to_numpy()[:, None] - (n_years - 1 - year_index)[None, :]
    admitted = np.array(pupils["admission_date"].tolist(), dtype="datetime64[D]")
    leaving = np.array(
        [d if d is not None and not pd.isna(d) else dt.date(9999, 1, 1) for d in pupils["leaving_date"]],
        dtype="datetime64[D]",
    )
    on_roll = (
        (admitted[:, None] <= dates[None, :])
        & (dates[None, :] <= leaving[:, None])
        & (year_group >= low)
        & (year_group <= high)
    )

    engagement = _engagement_paths(pupils, plan, year_group, year_index, weekday, rng).astype(float)
    rates = rates_for(plan)
    traits = _Traits.of(pupils)

    marks = np.full((n, n_days, 2), NOT_ON_ROLL, dtype=np.int8)
    minutes_late = np.zeros((n, n_days), dtype=np.int16)
    planned = _planned_marks(pupils, plan, years, dates, year_index, half_term, year_group, inset, rng)

    from pipeline.sample.mentoring import Mentors

    spells = Spells.none(n)
    mentors = None if mentoring is None else Mentors(mentoring, pupils, dates, year_index, half_term, engagement)
    suspended_left = np.zeros(n, dtype=np.int32)  # sessions
    part_time_left = np.zeros(n, dtype=np.int32)  # days on a part-time timetable (C2 in the afternoon)
    in_provision = np.zeros(n, dtype=bool)  # alternative provision two days a week
    excitement = np.zeros(n)
    recent_points = np.zeros(n)
    suspensions_this_year = np.zeros(n, dtype=np.int32)
    last_suspension = np.full(n, -1000)
    perm_excluded = np.zeros(n, dtype=bool)
    season = np.array([_season(d) for d, _, _ in days])
    incidents: list[Incident] = []
    exclusions: list[Exclusion] = []
    neg_cats, neg_points, neg_weights, neg_bonus, neg_reason = zip(*NEGATIVE_BEHAVIOUR, strict=True)
    neg_p = np.asarray(neg_weights, dtype=float) / np.sum(np.asarray(neg_weights, dtype=float))
    pos_cats, pos_points, pos_weights = zip(*POSITIVE_BEHAVIOUR, strict=True)
    pos_p = np.asarray(pos_weights, dtype=float) / np.sum(np.asarray(pos_weights, dtype=float))
    incident_seq = 10_000 * (plan.index + 1)

    for d in range(n_days):
        if d and year_index[d] != year_index[d - 1]:
            suspensions_this_year[:] = 0
            in_provision[:] = False
        roll = on_roll[:, d] & ~perm_excluded | (on_roll[:, d] & perm_excluded & (suspended_left > 0))
        today = marks[:, d, :]
        if inset[d]:
            today[roll] = CODE["#"]
            if mentors is not None:
                mentors.inset_day(d, roll)
            continue
        if mentors is not None:
            mentors.choose(d, roll, marks, recent_points, engagement)
        e = engagement[:, d]
        day = RegisterDay(
            d=d, rates=rates, traits=traits, season=float(season[d]), weekday=int(weekday[d]), phase=plan.phase,
            planned=planned[:, d], year_group=year_group[:, d], part_time=part_time_left > 0,
            in_provision=in_provision, suspended_left=suspended_left,
        )  # fmt: skip
        draws = Draws(rng, n, keep=mentors is not None and mentors.counterfactual is not None)
        ill, truant, has_plan, suspended = register_day(today, roll, e, spells, day, draws, minutes_late)
        if mentors is not None:
            mentors.register_without_mentoring(d, roll, day, draws)
        part_time_left = np.maximum(part_time_left - 1, 0)
        suspended_left = np.maximum(suspended_left - 2, 0)

        # Behaviour, for pupils in school today.
        attended = roll & ~ill & ~truant & ~suspended & ~has_plan
        recent_points *= 0.95
        excitement *= 0.88
        rate = rates.behaviour * np.exp(
            0.6 * -e + 0.25 * traits.circumstances + 0.35 * traits.boy + 0.3 * traits.sen
            + 0.5 * traits.behaviour + 0.3 * traits.coasting
        ) * (1 + 0.35 * np.minimum(excitement, 4))  # fmt: skip
        rate = np.minimum(rate, 0.6)
        counts = rng.poisson(np.where(attended, rate, 0.0))
        for i in np.flatnonzero(counts):
            for _ in range(int(counts[i])):
                k = int(rng.choice(len(neg_cats), p=neg_p))
                points = int(neg_points[k])
                excitement[i] += 1.0
                recent_points[i] += -points
                logit = rates.suspension_logit + 0.25 * min(recent_points[i], 16) + neg_bonus[k]
                action = _action(points, rng)
                # Schools rarely suspend the same pupil again within a fortnight of the last suspension.
                refractory = d - last_suspension[i] < 10
                suspend = not refractory and rng.random() < 1 / (1 + np.exp(-logit))
                incident_seq += 1
                if suspend:
                    action = "Suspension"
                incidents.append(Incident(int(i), incident_seq, d, str(neg_cats[k]), points, action))
                if suspend and suspended_left[i] == 0:
                    length = float(rng.choice(SUSPENSION_DAYS[0], p=SUSPENSION_DAYS[1]))
                    suspensions_this_year[i] += 1
                    permanent = (
                        suspensions_this_year[i] >= 4 and neg_bonus[k] > 1.0 and plan.phase == "secondary"
                        and rng.random() < 0.05
                    )  # fmt: skip
                    reasons = [neg_reason[k]]
                    if rng.random() < 0.1:
                        reasons.append(str(rng.choice(["PD", "VA", "DA", "SM", "TH", "RA", "OW", "LG", "DS"])))
                    sessions = 10 if permanent else int(length * 2)
                    exclusions.append(
                        Exclusion(
                            int(i),
                            min(d + 1, n_days - 1),
                            "PERM" if permanent else "SUSP",
                            sessions,
                            ";".join(dict.fromkeys(reasons)),
                        )
                    )
                    suspended_left[i] = sessions
                    last_suspension[i] = d
                    perm_excluded[i] |= permanent
                    excitement[i] *= 0.4
                    recent_points[i] *= 0.5
                    if rng.random() < 0.12:
                        part_time_left[i] = int(rng.integers(10, 30))
                    if plan.phase == "secondary" and suspensions_this_year[i] >= 2 and rng.random() < 0.3:
                        in_provision[i] = True
                elif rng.random() < 0.004:
                    exclusions.append(Exclusion(int(i), d, "LNCH", 1, str(neg_reason[k])))
        praise = rng.poisson(np.where(attended, rates.praise * np.exp(0.5 * e + 0.3 * traits.attainment), 0.0))
        for i in np.flatnonzero(praise):
            k = int(rng.choice(len(pos_cats), p=pos_p))
            incident_seq += 1
            incidents.append(Incident(int(i), incident_seq, d, str(pos_cats[k]), int(pos_points[k]), ""))  # type: ignore[call-overload]

    return SchoolHistory(
        dates=dates,
        year_index=year_index,
        half_term=half_term,
        marks=marks,
        year_group=year_group,
        engagement=engagement,
        minutes_late=minutes_late,
        incidents=incidents,
        exclusions=exclusions,
        mentoring=[] if mentors is None else mentors.starts,
        marks_without_mentoring=None if mentors is None else mentors.counterfactual,
    )


@dataclass
class Spells:
    """School days left of each pupil's current illness and unauthorised-absence spells."""

    ill_left: np.ndarray
    truant_left: np.ndarray

    @classmethod
    def none(cls, n: int) -> Spells:
        return cls(np.zeros(n, dtype=np.int32), np.zeros(n, dtype=np.int32))


@dataclass(frozen=True)
class RegisterDay:
    """What the register of one school day depends on besides engagement, spells and the random draws."""

    d: int
    rates: PhaseRates
    traits: _Traits
    season: float
    weekday: int
    phase: str
    planned: np.ndarray
    year_group: np.ndarray
    part_time: np.ndarray
    in_provision: np.ndarray
    suspended_left: np.ndarray


class Draws:
    """One day's random draws for the register, taken from ``rng`` in a fixed order.

    With ``keep``, each draw is kept by name so that :meth:`replay` can hand the same numbers to the register as
    it would have been without mentoring (common random numbers: only what mentoring changed differs).
    """

    def __init__(self, rng: np.random.Generator, n: int, keep: bool) -> None:
        self._rng, self._n, self._keep = rng, n, keep
        self._kept: dict[str, np.ndarray | int] = {}
        self._replaying = False

    def replay(self) -> Draws:
        again = Draws(self._rng, self._n, keep=False)
        again._kept, again._replaying = self._kept, True
        return again

    def _take(self, name: str, draw: Callable[[], np.ndarray | int]) -> np.ndarray | int:
        if self._replaying:
            return self._kept[name]
        value = draw()
        if self._keep:
            self._kept[name] = value
        return value

    def uniform(self, name: str) -> np.ndarray:
        return np.asarray(self._take(name, lambda: self._rng.random(self._n)))

    def geometric(self, name: str, p: float) -> np.ndarray:
        return np.asarray(self._take(name, lambda: self._rng.geometric(p, self._n)))

    def integers(self, name: str, low: int, high: int) -> np.ndarray:
        return np.asarray(self._take(name, lambda: self._rng.integers(low, high, self._n)))

    def session(self, name: str) -> int:
        return int(self._take(name, lambda: int(self._rng.integers(0, 2))))

    def sized(self, low: int, high: int, size: int) -> np.ndarray:
        """Minutes late: drawn for the real register only (the register without mentoring has no minutes)."""
        return self._rng.integers(low, high, size)


def register_day(
    today: np.ndarray,
    roll: np.ndarray,
    e: np.ndarray,
    spells: Spells,
    day: RegisterDay,
    draws: Draws,
    minutes_late: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Write one day's marks into ``today`` (pupils x 2 sessions) and advance ``spells``.

    Returns who was ill, absent without authority, on a planned activity and suspended. Called once for the real
    register and, when mentoring has an effect, again with the same draws and engagement as it would have been
    without mentoring (``minutes_late`` None).
    """
    rates, traits = day.rates, day.traits
    # Present by default; everything below overrides.
    today[roll, 0] = CODE["/"]
    today[roll, 1] = CODE["\\"]

    # Illness: continue a spell or start one.
    ill_hazard = (
        rates.illness * day.season * np.exp(0.6 * traits.absence + 0.3 * -e + 0.5 * traits.sen + 0.25 * traits.fsm)
    )
    start_ill = roll & (spells.ill_left == 0) & (draws.uniform("ill") < ill_hazard)
    spell = draws.geometric("spell", 0.5)
    long_spell = draws.uniform("long_spell") < 0.02
    spell = np.where(long_spell, draws.integers("long_spell_days", 8, 30), spell)
    spells.ill_left = np.where(start_ill, spell, spells.ill_left)
    ill = roll & (spells.ill_left > 0)
    spells.ill_left = np.maximum(spells.ill_left - 1, 0)

    # Unauthorised absence: short runs; some pupils skip Mondays and Fridays.
    day_factor = np.where(
        traits.monday_friday,
        (2.6, 0.6, 0.6, 0.7, 2.8)[day.weekday],
        (1.25, 0.9, 0.9, 0.9, 1.35)[day.weekday],
    )
    truant_hazard = (
        rates.unauthorised
        * day_factor
        * np.exp(0.85 * traits.absence + 1.0 * -e + 0.5 * traits.fsm + 0.5 * traits.sen + 0.15 * traits.circumstances)
    )
    start_truant = roll & ~ill & (spells.truant_left == 0) & (draws.uniform("truant") < truant_hazard)
    spells.truant_left = np.where(start_truant, draws.geometric("truant_days", 0.7), spells.truant_left)
    truant = roll & ~ill & (spells.truant_left > 0)
    spells.truant_left = np.maximum(spells.truant_left - 1, 0)
    afternoon_only = truant & start_truant & (draws.uniform("afternoon_only") < 0.25)

    # Emotionally based school avoidance: deeply disengaged pupils miss most days, some reported as ill.
    refusing = roll & ~ill & ~truant & (e < REFUSAL_ENGAGEMENT) & (draws.uniform("refusing") < rates.refusal)
    refusal_ill = refusing & (draws.uniform("refusal_ill") < 0.4)
    ill |= refusal_ill
    truant |= refusing & ~refusal_ill

    today[ill] = CODE["I"]
    today[truant & ~afternoon_only] = CODE["O"]
    today[afternoon_only, 1] = CODE["O"]

    # Planned marks (holidays, trips, work experience, study leave, festivals, ...) replace ordinary days.
    has_plan = roll & (day.planned >= 0) & ~ill
    today[has_plan] = day.planned[has_plan, None]
    free = roll & ~ill & ~truant & ~has_plan

    # Medical appointments take one session; lates and arriving after registers closed.
    medical = free & (draws.uniform("medical") < rates.medical * (1 + 0.8 * traits.ehcp))
    today[medical, draws.session("medical_session")] = CODE["M"]
    exceptional = free & ~medical & (draws.uniform("exceptional") < 0.0006)
    today[exceptional] = CODE["C"]
    late_p = rates.late * np.exp(0.6 * -e + 0.4 * traits.absence + 0.3 * traits.fsm)
    late_roll = free & ~medical & (draws.uniform("late") < late_p)
    after_close = late_roll & (draws.uniform("after_close") < 0.14)
    today[late_roll & ~after_close, 0] = CODE["L"]
    today[after_close, 0] = CODE["U"]
    if minutes_late is not None:
        minutes_late[late_roll & ~after_close, day.d] = draws.sized(2, 25, int((late_roll & ~after_close).sum()))
        minutes_late[after_close, day.d] = draws.sized(31, 80, int(after_close.sum()))
    # Other approved activities, sport fixtures, rare transport failure for pupils with EHC plans.
    sport = free & traits.sporty & (draws.uniform("sport") < 0.012)
    today[sport, 1] = CODE["P"]
    offsite = free & (draws.uniform("offsite") < (0.0012 if day.phase == "secondary" else 0.0003))
    today[offsite] = CODE["B"]
    no_transport = free & traits.ehcp.astype(bool) & (draws.uniform("no_transport") < 0.002)
    today[no_transport] = CODE["Y1"]
    if day.phase == "secondary":
        interview = free & (day.year_group == 11) & (draws.uniform("interview") < 0.0015)
        today[interview, 1] = CODE["J1"]

    # Part-time timetables and alternative provision set up after suspensions.
    part_time = roll & day.part_time & ~ill
    today[part_time, 1] = CODE["C2"]
    if day.weekday in (1, 3):
        in_ap = roll & day.in_provision & ~ill
        today[in_ap] = CODE["K"]

    # Suspended pupils: no alternative provision for the first five days (code E).
    suspended = roll & (day.suspended_left > 0)
    today[suspended, 0] = CODE["E"]
    today[suspended & (day.suspended_left > 1), 1] = CODE["E"]
    return ill, truant, has_plan, suspended


@dataclass(frozen=True)
class _Traits:
    absence: np.ndarray
    behaviour: np.ndarray
    circumstances: np.ndarray
    attainment: np.ndarray
    fsm: np.ndarray
    sen: np.ndarray
    ehcp: np.ndarray
    boy: np.ndarray
    coasting: np.ndarray
    monday_friday: np.ndarray
    sporty: np.ndarray

    @classmethod
    def of(cls, pupils: pd.DataFrame) -> _Traits:
        return cls(
            absence=pupils["absence_effect"].to_numpy(dtype=float),
            behaviour=pupils["behaviour_effect"].to_numpy(dtype=float),
            circumstances=pupils["circumstances"].to_numpy(dtype=float),
            attainment=pupils["attainment"].to_numpy(dtype=float),
            fsm=pupils["fsm"].to_numpy(dtype=float),
            sen=(pupils["sen"] != "N").to_numpy(dtype=float),
            ehcp=(pupils["sen"] == "E").to_numpy(dtype=float),
            boy=(pupils["sex"] == "M").to_numpy(dtype=float),
            coasting=pupils["coasting"].to_numpy(dtype=float),
            monday_friday=pupils["monday_friday"].to_numpy(),
            sporty=pupils["sporty"].to_numpy(),
        )


def _season(day: dt.date) -> float:
    """Illness is commoner in winter and rarer in early autumn and summer."""
    return {9: 0.7, 10: 1.0, 11: 1.15, 12: 1.35, 1: 1.3, 2: 1.15, 3: 1.0, 4: 0.85, 5: 0.8, 6: 0.8, 7: 0.85}[day.month]


def _action(points: int, rng: np.random.Generator) -> str:
    if points >= -1:
        return str(rng.choice(["Warning", "Detention", "", "Phone call home"], p=[0.4, 0.35, 0.15, 0.1]))
    if points >= -3:
        return str(rng.choice(["Detention", "Isolation", "Phone call home"], p=[0.5, 0.3, 0.2]))
    return str(rng.choice(["Isolation", "Internal exclusion"], p=[0.4, 0.6]))


def _engagement_paths(
    pupils: pd.DataFrame,
    plan: SchoolPlan,
    year_group: np.ndarray,
    year_index: np.ndarray,
    weekday: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Each pupil's engagement on each day: baseline, weekly drift, secondary dip and crises."""
    n, n_days = year_group.shape
    base = pupils["engagement"].to_numpy(dtype=float)[:, None]
    # Weekly drift: an AR(1) walk that moves on Mondays.
    drift = np.zeros((n, n_days))
    walk = np.zeros(n)
    for d in range(n_days):
        if d == 0 or weekday[d] <= weekday[d - 1]:
            walk = 0.97 * walk + rng.normal(0, 0.09, n)
        drift[:, d] = walk
    dip = np.where(year_group >= 8, 0.12 * np.clip(year_group - 7, 0, 3), 0.0) if plan.phase == "secondary" else 0.0
    # Crises: an onset day per pupil per year (for some), a ramp down over three weeks, slow recovery.
    crisis = np.zeros((n, n_days))
    risk = pupils["crisis_risk"].to_numpy()
    steps = np.arange(n_days)
    for y in np.unique(year_index):
        in_year = np.flatnonzero(year_index == y)
        hit = rng.random(n) < risk
        for i in np.flatnonzero(hit):
            onset = int(rng.choice(in_year))
            depth = rng.uniform(0.8, 2.2)
            since = steps - onset
            ramp = np.clip(since / 15, 0, 1)
            recovery = np.where(since > 15, np.exp(-(since - 15) / rng.uniform(40, 150)), 1.0)
            crisis[i] -= np.where(since >= 0, depth * ramp * recovery, 0.0)
    result: np.ndarray = base + drift - dip + crisis
    return result


def _planned_marks(
    pupils: pd.DataFrame,
    plan: SchoolPlan,
    years: list[AcademicYear],
    dates: np.ndarray,
    year_index: np.ndarray,
    half_term: np.ndarray,
    year_group: np.ndarray,
    inset: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Marks known in advance for whole days: holidays, trips, work experience, study leave, festivals."""
    n, n_days = year_group.shape
    planned = np.full((n, n_days), -1, dtype=np.int8)
    school_day = ~inset
    # Term-time holidays (G), next to a half-term break.
    takers = pupils["holiday_taker"].to_numpy()
    for y in np.unique(year_index):
        for i in np.flatnonzero(takers & (rng.random(n) < 0.8)):
            ht = int(rng.integers(1, 6))
            in_ht = np.flatnonzero((year_index == y) & (half_term == ht) & school_day)
            if len(in_ht) < 10:
                continue
            length = int(rng.integers(2, 9))
            block = in_ht[-length:] if rng.random() < 0.7 else in_ht[:length]
            planned[i, block] = CODE["G"]
    # Educational visits (V): one or two trip days per year group per year.
    for y in np.unique(year_index):
        in_year = np.flatnonzero((year_index == y) & school_day)
        for yg in plan.year_groups:
            for d in rng.choice(in_year, size=int(rng.integers(1, 3)), replace=False):
                going = (year_group[:, d] == yg) & (rng.random(n) < 0.85)
                planned[going, d] = CODE["V"]
    # Religious observance (R) on Eid for most Muslim families (a proxy: heritage).
    observes = pupils["heritage"].isin(["south_asian", "african", "other"]).to_numpy() & (rng.random(n) < 0.6)
    for d in np.flatnonzero(np.isin(dates, np.array(sorted(FESTIVALS), dtype="datetime64[D]"))):
        planned[observes, d] = CODE["R"]
    # Traveller families (T) on the road in the summer term.
    travellers = pupils["ethnicity"].isin(["WIRT", "WROM"]).to_numpy() & (rng.random(n) < 0.4)
    for y in np.unique(year_index):
        summer = np.flatnonzero((year_index == y) & (half_term == 6) & school_day)
        for i in np.flatnonzero(travellers):
            if len(summer) > 10:
                planned[i, summer[: int(rng.integers(5, 10))]] = CODE["T"]
    if plan.phase == "secondary":
        for y in np.unique(year_index):
            # Work experience (W): a week in the summer term for Year 10.
            summer = np.flatnonzero((year_index == y) & (half_term == 6) & school_day)
            if len(summer) > 15:
                week = summer[10:15]
                for d in week:
                    planned[(year_group[:, d] == 10), d] = CODE["W"]
            # Study leave (S) for Year 11 between exams in June.
            june = np.flatnonzero((year_index == y) & (half_term == 6) & school_day)
            for d in june:
                leave = (year_group[:, d] == 11) & (rng.random(n) < 0.5)
                planned[leave, d] = CODE["S"]
    else:
        # Part-time start for Reception (X, not of compulsory school age) in the first fortnight.
        for y in np.unique(year_index):
            first = np.flatnonzero((year_index == y) & school_day)[:10]
            staggered = rng.random(n) < 0.6
            for d in first:
                planned[staggered & (year_group[:, d] == 0), d] = CODE["X"]
    return planned
