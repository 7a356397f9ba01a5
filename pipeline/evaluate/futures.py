"""Shortlists against known futures: the project's synthetic sample and the independent world, per school.

A world (exports plus its truth, ``outcomes.csv``) is ingested through the real pipeline into a warehouse of its
own, its features are built for the extract date (the last school day before the truth's horizon) and each
school's pupils are ranked by each method; precision and recall at each school's mentoring capacity are measured
against the truth's ``adverse_outcome`` (persistent absence, a suspension or falling further below target in the
next 30 school days, the project's outcome).

Two regimes:

- **no history** (a school's first term of use): each released expert card ranks as released (its score, with the
  shortlist's tie-breaks, :func:`pipeline.caseload.policy.rank_order`, at the school's places);
- **a year of history**: a card learned as ``mentor fit`` learns it
  (:func:`pipeline.model.scorecard.history_learner`) from the world's own earlier nights, those whose 30-day
  horizon ended by the extract date, then ranks as the shortlist; and each released card with only its chance
  curve refitted on those nights, as ``mentor fit --keep-points`` does (method ``... (chances refitted)``: its
  ranking, and so its precision, is the released card's; its ECE is what refitting buys).

Each card is also measured as the **published list** (method name ending in
:data:`pipeline.evaluate.compare.PUBLISHED`): the shortlist's places as the settings fill them
(:func:`pipeline.caseload.policy.published_order`, ``need_points`` and ``barrier_places``; by default the places
by score and other barriers' pupils listed beside them), every pupil a candidate,
then the other pupils in rank order. The card's own ranking says how well it finds the pupils with the outcome;
the published list says what keeping places for other barriers costs in it (nothing by default: the places are the
ranking's), and its breadth what the list shows for them
(:data:`BREADTH`: the main barriers on it, the barriers some pupil on it has real need in, and those some pupil of
the school has real need in).

Beside them in both regimes: the ABC rules and attendance alone (:mod:`pipeline.evaluate`); with a year of
history also scikit-learn's gradient boosting on every numeric feature (as in ``mentor evaluate``), the black-box
challenger that shows how much any model could add to attendance in that world. ECE is the expected
calibration error of a card's probabilities (10 equal-width bins, pooled over the school's pupils).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from scipy.stats import binomtest

from pipeline.caseload.policy import capacity as school_capacity
from pipeline.caseload.policy import list_breadth, published_order, rank_order, scored_with_need
from pipeline.config import Settings
from pipeline.contract import PRIMARY_YEARS
from pipeline.evaluate import abc_score, attendance_score, expected_calibration_error
from pipeline.evaluate.compare import PUBLISHED, Challenger
from pipeline.evaluate.release import evaluation_data
from pipeline.features import build_features
from pipeline.ingest import ingest
from pipeline.model import PointsScorecard, Scorecard
from pipeline.model.scorecard import history_learner
from pipeline.warehouse import connect

LAST_DAY_BEFORE = "select max(date) from attendance where date < $start"
QUARANTINED = "select school_id, file, count(*) as n from quarantine group by all order by all"
NO_HISTORY, YEAR_OF_HISTORY = "no history", "a year of history"
BASELINES = ("ABC rules", "attendance alone")
CHALLENGER = "gradient boosting (challenger)"
REFITTED = "(chances refitted)"
"""After a released card's name: its points as released, its chance curve refitted on the year of history."""
BOTH_WORLDS = "both"
BREADTH = ("main_barriers", "barriers_covered", "barriers_in_need")
"""A published list's breadth (:func:`pipeline.caseload.policy.list_breadth`): blank for a ranking."""


@dataclass(frozen=True)
class FutureWorld:
    """One world to evaluate: its exports and its truth folder, with a name for the tables."""

    world: str
    seed: int
    exports: Path
    truth: Path


@dataclass
class FuturesResult:
    table: pd.DataFrame
    """One row per school, regime and method: capacity, base rate, precision and recall at capacity, ECE."""
    quarantined: pd.DataFrame
    """Rows quarantined by the ingest, per school and file."""


@dataclass
class WorldData:
    """What measuring a world reads, once ingested: tonight's features with each pupil's known future, and the
    year of history a card is learned from. Building it is the slow part (minutes); scoring it takes seconds, so
    :mod:`pipeline.evaluate.cache` keeps it between runs."""

    world: str
    seed: int
    as_of: dt.date
    pupils: pd.DataFrame
    """The features as of ``as_of`` (one row per pupil on roll), joined with the truth's ``adverse_outcome``."""
    history: pd.DataFrame | None
    """Features and outcomes of each earlier night whose horizon ended by ``as_of`` (None: not built)."""
    quarantined: pd.DataFrame
    """Rows quarantined by the ingest, per school and file."""


def evaluate_world(
    world: FutureWorld,
    cards: Sequence[Scorecard],
    settings: Settings,
    learn: bool = True,
    workdir: Path | None = None,
) -> FuturesResult:
    """Ingest ``world`` into a fresh warehouse and measure every method in each school (see the module text)."""
    with tempfile.TemporaryDirectory(dir=workdir) as folder:
        data = load_world(world, settings, Path(folder) / "world.duckdb", learn)
    return FuturesResult(score_world(data, cards, settings), data.quarantined)


def load_world(world: FutureWorld, settings: Settings, warehouse: Path, learn: bool = True) -> WorldData:
    """Ingest ``world``'s exports into a new (unencrypted) warehouse file and read what measuring it needs."""
    con = connect(warehouse, key=None)
    try:
        ingest(con, world.exports)
        return world_data(con, world.world, world.seed, world.truth / "outcomes.csv", settings, learn)
    finally:
        con.close()


def world_data(
    con: duckdb.DuckDBPyConnection, kind: str, seed: int, outcomes: Path, settings: Settings, learn: bool = True
) -> WorldData:
    """Features as of the last school day before the truth's horizon, joined with the truth (``outcomes``), and
    (with ``learn``) the history before it, from a warehouse the world has been ingested into."""
    truth = pd.read_csv(outcomes, dtype={"school_urn": str, "upn": str})
    start = dt.date.fromisoformat(str(truth["horizon_start"].min()))
    quarantined = con.execute(QUARANTINED).df()
    row = con.execute(LAST_DAY_BEFORE, {"start": start}).fetchone()
    if not row or row[0] is None:
        raise ValueError(f"{kind} seed {seed} has no marks before the truth's horizon ({start})")
    as_of: dt.date = row[0]
    features = build_features(con, as_of, persist=False).table
    history = evaluation_data(con, settings, until=as_of)[0] if learn else None
    pupils = features.merge(truth, left_on=["school_id", "upn"], right_on=["school_urn", "upn"], how="inner")
    return WorldData(kind, seed, as_of, pupils, history, quarantined)


def score_world(data: WorldData, cards: Sequence[Scorecard], settings: Settings) -> pd.DataFrame:
    """Measure every method in each school of ``data``: one row per school, regime and method (see the module
    text). With no history in ``data``, the no-history regime only."""
    history = data.history
    # (regime, method, model, whether its published list is measured too)
    models: list[tuple[str, str, PointsScorecard, bool]] = [
        (NO_HISTORY, f"{card.name} (as released)", PointsScorecard(card=card).fit(data.pupils), True) for card in cards
    ]
    challenger = None
    if history is not None:
        y = history["outcome"].astype(int)
        models += [
            (YEAR_OF_HISTORY, f"learned from {card.name}", history_learner(card).fit(history, y), True)
            for card in cards
        ]
        models += [  # the released points (so the released card's list), the chances fitted to the history
            (YEAR_OF_HISTORY, f"{card.name} {REFITTED}", PointsScorecard(card=card).fit(history, y), False)
            for card in cards
        ]
        challenger = Challenger(0).fit(history, y)
    rows = []
    for school, group in data.pupils.groupby("school_id", sort=True):
        pupils = group.reset_index(drop=True)
        capacity = school_capacity(str(school), len(pupils), settings)
        outcome = pupils["adverse_outcome"].astype(bool).to_numpy()
        base = {
            "world": data.world,
            "seed": data.seed,
            "as_of": data.as_of.isoformat(),
            "school": str(school),
            "phase": school_phase(pupils),
            "pupils": len(pupils),
            "capacity": capacity,
            "base_rate": round(float(outcome.mean()), 3),
        }
        ranked: list[tuple[str, str, np.ndarray, float]] = []
        breadth: dict[tuple[str, str], dict[str, int]] = {}
        for regime, name, model, published in models:
            # The card's ranking with the shortlist's tie-breaks, at the school's places, and the published list
            # (which can keep places for other barriers, ``barrier_places``; the nightly one leaves out current
            # mentees as well: here every pupil is a candidate for both).
            points = model.points(pupils)
            order = rank_order(pupils, points.sum(axis=1)).to_numpy()
            ranked.append((regime, name, order, _ece(outcome, model.predict_proba(pupils)[:, 1])))
            if published:
                scored = scored_with_need(pupils, points, model.card_, settings)
                listed, shown = published_order(scored, settings, capacity)
                ranked.append((regime, name + PUBLISHED, listed, float("nan")))  # a list, not probabilities
                breadth[regime, name + PUBLISHED] = list_breadth(scored, listed[:shown], settings.need_points)
        if challenger is not None:
            score = pd.Series(challenger.predict_proba(pupils)[:, 1], index=pupils.index)
            probability = score.to_numpy()
            ranked.append((YEAR_OF_HISTORY, CHALLENGER, order_by_score(score), _ece(outcome, probability)))
        for regime in [NO_HISTORY] + ([YEAR_OF_HISTORY] if history is not None else []):
            ranked.append((regime, "ABC rules", order_by_score(abc_score(pupils)), float("nan")))
            ranked.append((regime, "attendance alone", order_by_score(attendance_score(pupils)), float("nan")))
        baseline_orders = {(regime, name): order for regime, name, order, _ in ranked if name in BASELINES}
        for regime, name, order, ece in ranked:
            row = base | {"regime": regime, "method": name} | ranking_measures(outcome, order, capacity, ece)
            row |= breadth.get((regime, name), dict.fromkeys(BREADTH, float("nan")))
            if name not in BASELINES:
                tests = [discordant_hits(outcome, order, baseline_orders[regime, b], capacity) for b in BASELINES]
                row["below_beyond_noise"] = any(t > o and p < BEYOND_NOISE_P for o, t, p in tests)
                row["above_both_beyond_noise"] = all(o > t and p < BEYOND_NOISE_P for o, t, p in tests)
            rows.append(row)
    return pd.DataFrame(rows)


def school_phase(pupils: pd.DataFrame) -> str:
    """``primary`` when every pupil's year group is a primary one (nursery to Year 6), ``secondary`` when none is,
    else ``all-through``; ``unknown`` without year groups.

    >>> [school_phase(pd.DataFrame({"year_group": years})) for years in (["R", "3", "6"], ["7", "11"], ["6", "7"])]
    ['primary', 'secondary', 'all-through']
    """
    years = pupils.get("year_group", pd.Series(dtype=object)).dropna().astype(str)
    if years.empty:
        return "unknown"
    primary = years.isin(PRIMARY_YEARS)
    return "primary" if primary.all() else "secondary" if not primary.any() else "all-through"


BEYOND_NOISE_P = 0.05
"""A school-seed's list is below (above) a baseline's beyond noise when the sign test of the pupils only one of
the two lists holds (:func:`discordant_hits`) gives a p-value under this, in the baseline's (the list's) favour."""


def discordant_hits(outcome: np.ndarray, ours: np.ndarray, theirs: np.ndarray, capacity: int) -> tuple[int, int, float]:
    """Two shortlists of ``capacity`` places (``ours`` and ``theirs``: rankings, positions into ``outcome``, best
    first) differ only where they list different pupils, and their precisions differ by what those pupils hold: how
    many of the pupils only on ours had the outcome, how many of those only on theirs, and the two-sided sign test
    of the two counts (the exact McNemar test of two lists of the same length: were the lists equally good, each
    such pupil would be on either as likely). A school-seed's margin of one or two pupils is then read against the
    pupils the lists actually disagree on.

    >>> discordant_hits(np.array([1, 1, 0, 0, 1, 0]), np.array([0, 1, 2]), np.array([0, 2, 3]), 3)
    (1, 0, 1.0)
    """
    mine, other = set(ours[:capacity].tolist()), set(theirs[:capacity].tolist())
    only_ours = int(outcome[sorted(mine - other)].sum())
    only_theirs = int(outcome[sorted(other - mine)].sum())
    return only_ours, only_theirs, sign_test(only_ours, only_theirs)


def summary(table: pd.DataFrame, resamples: int = 2000, by: str | None = None) -> pd.DataFrame:
    """Per world, regime and method, over its school-seeds: the mean of each measure, the worst school-seed's
    precision at capacity, and against the better baseline of each school-seed (the higher of the ABC rules and
    attendance alone there) the mean margin in precision at capacity, with a 95% paired bootstrap interval
    (``resamples`` resamples of the school-seeds; percentile), and how many school-seeds it beat both baselines
    (``wins``, also ``beats_both``), matched the better one (``ties``) or fell below it (``losses``), with the
    two-sided sign test's p-value of wins against losses (ties left out). ``at_least_both`` is wins plus ties,
    ``of`` the school-seeds; ``wins_beyond_noise`` and ``losses_beyond_noise`` the school-seeds whose list is above
    both baselines' (``above_both_beyond_noise``), or below either's (``below_beyond_noise``), by more than the
    pupils the two lists disagree on can show by chance (:func:`discordant_hits`): with a few dozen places, a
    school-seed's margin of a few pupils is neither. The margins over each baseline alone are beside, each with
    its own interval (``margin_abc_low`` ...). Baselines themselves show blanks.
    With more than one world in ``table``, the rows of world ``both`` pool every world's school-seeds.

    ``by``: per world, ``by`` (a column of ``table``), regime and method instead. ``"school"``: over the seeds each
    school was measured on, for the schools measured on two seeds or more (the independent world's three schools
    are the same on every seed; the sample's are drawn afresh): whether a list beats the baselines in each school
    on several seeds, which no one school-seed can tell. ``"phase"``: over the school-seeds of each kind of school
    (:func:`school_phase`), which the sample, one primary and one secondary a seed, can be judged by."""
    keys = ["world", "seed", "school", "regime"]
    baselines = table[table["method"].isin(BASELINES)]
    per = baselines.pivot_table(index=keys, columns="method", values="precision_at_capacity", aggfunc="first")
    scored = table.join(per.max(axis=1).rename("best"), on=keys)
    scored = scored.join(per.rename(columns={"ABC rules": "abc", "attendance alone": "attendance"}), on=keys)
    scored["margin"] = scored["precision_at_capacity"] - scored["best"]
    scored["margin_abc"] = scored["precision_at_capacity"] - scored["abc"]
    scored["margin_attendance"] = scored["precision_at_capacity"] - scored["attendance"]
    # Precision is a share of a few pupils, rounded to 3 places: a margin within rounding is a tie.
    scored["wins"] = scored["margin"] > 5e-4
    scored["losses"] = scored["margin"] < -5e-4
    scored["ties"] = ~scored["wins"] & ~scored["losses"]
    groups = ["world", "regime", "method"]
    if by is not None:
        groups.insert(1, by)
        if by == "school":
            scored = scored[scored.groupby(["world", "school"])["seed"].transform("nunique") >= 2]
    elif scored["world"].nunique() > 1:  # and every world's school-seeds together, for a test with more pairs
        scored = pd.concat([scored, scored.assign(world=BOTH_WORLDS)], ignore_index=True)
    rows = []
    for key, group in scored.groupby(groups, sort=False):
        row: dict[str, object] = {
            **dict(zip(groups, key, strict=True)),
            "precision_at_capacity": group["precision_at_capacity"].mean(),
            "worst": group["precision_at_capacity"].min(),
            "recall_at_capacity": group["recall_at_capacity"].mean(),
            "precision_at_2x_capacity": group["precision_at_2x_capacity"].mean(),
            "average_precision": group["average_precision"].mean(),
            "ece": group["ece"].mean(),
            **{column: group[column].mean() for column in BREADTH if column in group},
            "of": len(group),
        }
        if row["method"] not in BASELINES:
            wins, ties, losses = int(group["wins"].sum()), int(group["ties"].sum()), int(group["losses"].sum())
            for margin in ("margin", "margin_abc", "margin_attendance"):  # over the better baseline, then each
                low, high = paired_bootstrap_interval(group[margin].to_numpy(), resamples)
                row |= {margin: group[margin].mean(), f"{margin}_low": low, f"{margin}_high": high}
            row |= {
                "wins": wins,
                "ties": ties,
                "losses": losses,
                "sign_test_p": sign_test(wins, losses),
                "beats_both": wins,
                "at_least_both": wins + ties,
            }
            if "below_beyond_noise" in group:
                row["wins_beyond_noise"] = int(group["above_both_beyond_noise"].eq(True).sum())
                row["losses_beyond_noise"] = int(group["below_beyond_noise"].eq(True).sum())
        rows.append(row)
    return pd.DataFrame(rows).round(3)


def sign_test(wins: int, losses: int) -> float:
    """Two-sided sign test of ``wins`` against ``losses`` (ties left out): the binomial p-value at one half.

    >>> sign_test(9, 1), sign_test(0, 0)
    (0.021, 1.0)
    """
    if wins + losses == 0:
        return 1.0
    return round(float(binomtest(wins, wins + losses, 0.5).pvalue), 3)


def paired_bootstrap_interval(margins: np.ndarray, resamples: int = 2000, seed: int = 0) -> tuple[float, float]:
    """A 95% percentile bootstrap interval of the mean of paired ``margins`` (one per school-seed), resampling the
    school-seeds with replacement; a fixed ``seed`` gives the same interval every run."""
    values = np.asarray(margins, dtype=float)
    if len(values) < 2:
        mean = float(values.mean()) if len(values) else float("nan")
        return mean, mean
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), (resamples, len(values)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def _ece(outcome: np.ndarray, probability: np.ndarray) -> float:
    return expected_calibration_error(outcome, probability)


def order_by_score(score: pd.Series) -> np.ndarray:
    """The index in rank order: highest score first, ties in the order of the rows."""
    return score.sort_values(ascending=False, kind="stable").index.to_numpy()


def ranking_measures(outcome: np.ndarray, order: np.ndarray, capacity: int, ece: float) -> dict[str, float]:
    """Precision and recall at ``capacity``, precision at twice it, and the average precision of the whole ranking
    (``order``: positions into ``outcome``, best first), with the ranking's ``ece``, each rounded to 3 places.

    >>> m = ranking_measures(np.array([1, 0, 1, 0]), np.array([2, 1, 0, 3]), 1, float("nan"))
    >>> m["precision_at_capacity"], m["precision_at_2x_capacity"], m["average_precision"]
    (1.0, 0.5, 0.833)
    """
    hits = outcome[order].astype(bool)
    positives = max(int(hits.sum()), 1)
    found = np.cumsum(hits)
    average_precision = float((found / np.arange(1, len(hits) + 1))[hits].sum() / positives)
    return {
        "precision_at_capacity": round(float(hits[:capacity].mean()), 3),
        "recall_at_capacity": round(float(hits[:capacity].sum() / positives), 3),
        "precision_at_2x_capacity": round(float(hits[: 2 * capacity].mean()), 3),
        "average_precision": round(average_precision, 3),
        "ece": round(ece, 3),
    }


def measure(
    kind: str, seed: int, cards: Sequence[Scorecard], settings: Settings, cache: Path | None = None
) -> pd.DataFrame:
    """One world's table (:func:`score_world`): generated, ingested and measured in a temporary folder, or with
    ``cache`` read from (or built into) :func:`pipeline.evaluate.cache.cached_world`'s folder."""
    if cache is not None:
        from pipeline.evaluate.cache import cached_world

        return score_world(cached_world(kind, seed, cache, settings), cards, settings)
    with tempfile.TemporaryDirectory() as folder:
        world = prepare_world(kind, seed, Path(folder))
        return evaluate_world(world, cards, settings, workdir=Path(folder)).table


def measure_all(
    seeds: Sequence[tuple[str, int]],
    cards: Sequence[Scorecard],
    settings: Settings,
    cache: Path | None = None,
    jobs: int = 1,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """:func:`measure` each ``(kind, seed)`` of ``seeds``, ``jobs`` worlds at a time (in worker processes when
    more than one), and stack their tables in the order given. ``progress`` is told as each world starts (one at
    a time) or ends (several at a time)."""
    tell = progress or (lambda _: None)
    if jobs <= 1 or len(seeds) <= 1:
        tables = []
        for kind, seed in seeds:
            tell(f"{kind} seed {seed}: generating, ingesting, measuring")
            tables.append(measure(kind, seed, cards, settings, cache))
        return pd.concat(tables, ignore_index=True)
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(measure, kind, seed, cards, settings, cache): (kind, seed) for kind, seed in seeds}
        done: dict[tuple[str, int], pd.DataFrame] = {}
        for future in as_completed(futures):
            kind, seed = futures[future]
            done[(kind, seed)] = future.result()
            tell(f"{kind} seed {seed}: measured ({len(done)} of {len(seeds)})")
    return pd.concat([done[key] for key in seeds], ignore_index=True)


def prepare_world(kind: str, seed: int, folder: Path) -> FutureWorld:
    """Generate a world into ``folder``: ``world`` (the independent simulator) or ``sample`` (``mentor sample``)."""
    exports, truth = folder / f"{kind}-{seed}", folder / f"{kind}-{seed}-truth"
    if kind == "world":
        from pipeline.evaluate.world import WorldSpec, generate_world

        generate_world(WorldSpec(seed=seed), exports, truth)
    elif kind == "sample":
        from pipeline.sample import SampleSpec, generate_trust

        generate_trust(SampleSpec(seed=seed), exports, truth)
    else:
        raise ValueError(f"unknown world kind {kind!r}: world or sample")
    return FutureWorld(kind, seed, exports, truth)
