"""OUT/report.html: one self-contained page a data lead, a head or a pastoral manager can open.

At the top, what to do next: the shortlists to review (with links to the files), the schools held back, and the
data to fix. Then the data-quality gate; rows read, loaded and quarantined per school and file; the top quarantine
reasons; attendance and persistent absence by week per school and year group; the score distribution and shortlist
sizes; movement since the last run; and the scorecard in use. Versions and the settings' hash are in the footer.
Charts are inline SVG (their text can be searched and read aloud), so the page needs no network. It shows counts
and rates only: no pupil is named.

The page is ``templates/report.html``; each section is a typed object (a frozen dataclass naming its template under
``templates/sections/``), built here from the run's report and the warehouse. docs/report.md says how to add one.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol
from urllib.parse import quote

import duckdb
import numpy as np
import pandas as pd
from markupsafe import Markup

from pipeline.caseload.review import named_otherwise
from pipeline.contract import STAFF_FILES
from pipeline.ingest.checks import REASON_SHOWN
from pipeline.model.card import Scorecard
from pipeline.pages.render import render
from pipeline.report.shortlist import given_a_new_place
from pipeline.report.trends import Trends, draw_trends
from pipeline.safe_csv import atomic_write

WEEKLY_ATTENDANCE = """
with marks as (
    select a.school_id, p.year_group, a.upn, date_trunc('week', a.date) as week,
        count(*) filter (where a.category in ('present', 'approved_activity', 'authorised', 'unauthorised'))
            as possible,
        count(*) filter (where a.category in ('present', 'approved_activity')) as attended
    from attendance as a
    join pupils as p using (school_id, upn)
    where a.date <= $as_of and a.date >= $year_start
    group by all
),
cumulative as (
    select *, sum(possible) over w as possible_to_date, sum(attended) over w as attended_to_date
    from marks
    window w as (partition by school_id, upn order by week rows between unbounded preceding and current row)
)
select school_id, year_group, week,
    sum(attended)::double / nullif(sum(possible), 0) as attendance_rate,
    avg(case when possible_to_date > 0 then (possible_to_date - attended_to_date >= 0.1 * possible_to_date)::int end)
        as persistent_absence_share
from cumulative
where possible > 0
group by all
order by school_id, year_group, week
"""
QUARANTINE_REASONS = f"""
select school_id, file, {REASON_SHOWN} as reason, count(*) as rows
from quarantine where load_id = $load_id
group by all order by rows desc limit 10
"""
SCORES = "select school_id, score from scores"
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
"""The score chart's whiskers (5th and 95th percentiles), box (middle half) and median."""


class Section(Protocol):
    """A part of report.html: an object whose fields its template (``templates/<template>``) shows as ``section``."""

    template: ClassVar[str]


@dataclass(frozen=True)
class Link:
    """A file the page links to, by its path relative to the report (the output folder)."""

    text: str
    href: str


@dataclass(frozen=True)
class ShortlistToReview:
    school: str
    pupils: int
    new: int
    beside: int
    """Of ``pupils``, those listed beside the places (taking none), for staff to swap in or not."""
    link: Link
    under_challenged: int
    under_challenged_link: Link


@dataclass(frozen=True)
class HeldBack:
    school: str
    reason: str


@dataclass(frozen=True)
class DataToFix:
    what: str
    link: Link | None


@dataclass(frozen=True)
class NextSteps:
    """The box at the top: what a reader should do after tonight's run."""

    template: ClassVar[str] = "sections/next_steps.html"
    published: bool
    status: str
    shortlists: tuple[ShortlistToReview, ...]
    held_back: tuple[HeldBack, ...]
    data_to_fix: tuple[DataToFix, ...]
    learn: str = ""
    """When the warehouse holds enough history for ``mentor fit``: what it could learn from, in one sentence."""


@dataclass(frozen=True)
class Check:
    name: str
    blocking: bool
    passed: bool
    rows_checked: int
    unexpected: int


@dataclass(frozen=True)
class Gate:
    template: ClassVar[str] = "sections/gate.html"
    checks: tuple[Check, ...]
    docs: Link | None


@dataclass(frozen=True)
class FileRow:
    school: str
    file: str
    status: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    notes: str
    """How the file was read and what a column it lacks is taken to mean (docs/contract.md)."""


@dataclass(frozen=True)
class Files:
    template: ClassVar[str] = "sections/files.html"
    files: tuple[FileRow, ...]
    notes: tuple[str, ...] = ()
    """The delivery's notes that belong to no file read (an optional file not delivered, a file that is not an export
    of the contract), as run.json has them."""


@dataclass(frozen=True)
class QuarantineReason:
    school: str
    file: str
    reason: str
    rows: int


@dataclass(frozen=True)
class Quarantine:
    template: ClassVar[str] = "sections/quarantine.html"
    reasons: tuple[QuarantineReason, ...]
    link: Link


@dataclass(frozen=True)
class SchoolScores:
    school: str
    on_roll: int
    places: int
    shortlist: int
    under_challenged: int
    current_mentees: int
    movement: str


@dataclass(frozen=True)
class SchoolCaseload:
    school: str
    places: int
    rule: str
    mentees: int
    pending: int
    free: int
    improving: int
    mixed: int
    no_change: int
    worsening: int
    too_early: int
    review_due: int
    file: Link
    mix: str
    beside: str
    severe_absence: int
    held: int


@dataclass(frozen=True)
class Caseload:
    """Each school's places, how they are filled, how the mentees are doing, and the mix of needs on the shortlist."""

    template: ClassVar[str] = "sections/caseload.html"
    schools: tuple[SchoolCaseload, ...]


@dataclass(frozen=True)
class Scores:
    template: ClassVar[str] = "sections/scores.html"
    chart: Markup
    schools: tuple[SchoolScores, ...]


@dataclass(frozen=True)
class FeaturePoints:
    feature: str
    bands: str
    why: str


@dataclass(frozen=True)
class ScorecardInUse:
    template: ClassVar[str] = "sections/scorecard.html"
    name: str
    version: str
    kind: str
    score_bands: str
    features: tuple[FeaturePoints, ...]


@dataclass(frozen=True)
class ImpactRow:
    outcome: str
    """The outcome, with which way is better."""
    barrier: str
    effect: str
    """The estimate and its interval in words, with what it means (better, worse, or the data cannot tell), or why
    there is none."""
    mentees: int
    compared_with: str
    naive: bool
    """The mentees' own before/after change (biased), shown shaded."""


@dataclass(frozen=True)
class Impact:
    """ "Does mentoring work?": the table `mentor impact` wrote (OUT/impact.csv), in words; docs/impact.md."""

    template: ClassVar[str] = "sections/impact.html"
    rows: tuple[ImpactRow, ...]
    link: Link
    stands_on: str = ""
    """How many learning-mentor starts the estimate stands on, and how many were left out for want of a comparison
    pupil close enough (empty for an impact.csv from before it said)."""


IMPACT_OUTCOMES = {
    "attendance": ("Attendance", "percentage points", "higher is better"),
    "negative_behaviour_points": ("Negative behaviour points", "points per 30 school days", "lower is better"),
    "attainment_gap": (
        "English and maths gap to target",
        "grades",
        "higher is better: the gap closed; lower: it widened",
    ),
}
IMPACT_READINGS = {
    "attendance": ("the mentees attended more than they would have", "the mentees attended less than they would have"),
    "negative_behaviour_points": (
        "the mentees got more negative behaviour points than they would have (worse)",
        "the mentees got fewer negative behaviour points than they would have (better)",
    ),
    "attainment_gap": ("the gap to target closed", "the gap to target widened"),
}
"""What an interval wholly above 0, and wholly below it, says about each outcome."""


def _impact_reading(outcome: str, low: float, high: float) -> str:
    """What an effect's 95% interval says, in words.

    >>> _impact_reading("negative_behaviour_points", -2.0, -0.5)
    'the mentees got fewer negative behaviour points than they would have (better)'
    >>> _impact_reading("attainment_gap", -0.4, -0.1)
    'the gap to target widened'
    >>> _impact_reading("attendance", -1.0, 3.0)
    'the data cannot tell whether it helped'
    """
    above, below = IMPACT_READINGS.get(outcome, ("above 0", "below 0"))
    if low > 0:
        return above
    if high < 0:
        return below
    return "the data cannot tell whether it helped"


def _impact_stands_on(table: pd.DataFrame) -> str:
    """One sentence: the learning-mentor starts the estimate stands on, from the overall rows' starts and unmatched.

    >>> _impact_stands_on(pd.DataFrame({"barrier": ["all"], "starts": [60], "unmatched": [36]}))
    'The estimate stands on 24 of 60 learning-mentor starts: 36 had no comparison pupil close enough and are left out.'
    """
    if not {"starts", "unmatched"} <= set(table.columns):
        return ""
    overall = table[table["barrier"] == "all"]
    if overall.empty or pd.isna(overall["starts"].iloc[0]):
        return ""
    starts, unmatched = int(overall["starts"].iloc[0]), overall["unmatched"].iloc[0]
    if pd.isna(unmatched):
        return f"{starts:,} learning-mentor start(s) could be used: too few to match and estimate."
    if int(unmatched) == 0:
        return (
            f"The estimate stands on all {starts:,} learning-mentor starts: each had a comparison pupil close enough."
        )
    return (
        f"The estimate stands on {starts - int(unmatched):,} of {starts:,} learning-mentor starts: {int(unmatched):,} "
        "had no comparison pupil close enough and are left out."
    )


def impact_section(table: pd.DataFrame) -> Impact:
    """The report's section for ``table`` (as `mentor impact` writes it). Counts and estimates only."""
    rows = []
    for record in table.to_dict("records"):
        outcome = str(record["outcome"])
        label, unit, better = IMPACT_OUTCOMES.get(outcome, (outcome, "", ""))
        naive = str(record["method"]).startswith("naive")
        if pd.isna(record["estimate"]):
            note = record.get("note")
            effect = "no estimate" if note is None or pd.isna(note) else str(note)
        else:
            interval = f"95% interval {record['ci_low']:+.2f} to {record['ci_high']:+.2f}"
            effect = f"{record['estimate']:+.2f} {unit} ({interval})"
            if naive:
                effect += ": not the effect of mentoring (no comparison)"
            else:
                effect += f": {_impact_reading(outcome, float(record['ci_low']), float(record['ci_high']))}"
        compared = "the mentees alone, before against after" if naive else f"{int(record['controls']):,} pupils"
        shown = f"{label} ({better})" if better else label
        rows.append(ImpactRow(shown, str(record["barrier"]), effect, int(record["treated"]), compared, naive))
    return Impact(tuple(rows), Link("impact.csv", "impact.csv"), _impact_stands_on(table))


@dataclass(frozen=True)
class Footer:
    """What the run was made with: for whoever investigates, not for the first read (so not in the header)."""

    versions: tuple[tuple[str, str], ...]
    started: str


@dataclass(frozen=True)
class Page:
    title: str
    night: str
    ok: bool
    lead: str
    """The headline: every school published, some held back (how many of each), or nothing published."""
    next_steps: NextSteps
    sections: tuple[Section, ...]
    footer: Footer


def write_html_report(
    con: duckdb.DuckDBPyConnection,
    report: dict[str, Any],
    card: Scorecard | None,
    out: Path,
    trends: Trends | None = None,
) -> Path:
    """Write ``out/report.html`` from the run's report dict and the warehouse; return its path.

    ``trends`` is the weekly-trends section if it was drawn already (the nightly run draws it while the gate and the
    features run: :func:`draw_trends` of :func:`weekly_attendance`); otherwise it is drawn here.
    """
    page = render_page(build_page(con, report, card, out, trends))
    return atomic_write(out / "report.html", lambda handle: handle.write(page))


def render_page(page: Page) -> str:
    """The page as HTML (``templates/report.html``)."""
    return render("report.html", page=page)


def build_page(
    con: duckdb.DuckDBPyConnection,
    report: dict[str, Any],
    card: Scorecard | None,
    out: Path,
    trends: Trends | None = None,
) -> Page:
    """The page's typed context, from the run's report, the warehouse and the files written in ``out``."""
    as_of = report.get("as_of")
    sections: list[Section] = [_gate(report, out), _files(report)]
    if report.get("load_id"):
        sections.append(_quarantine(con, str(report["load_id"])))
    if trends is None and as_of:
        day = as_of if isinstance(as_of, dt.date) else dt.date.fromisoformat(str(as_of))
        trends = draw_trends(weekly_attendance(con, day))
    if trends is not None:
        sections.append(trends)
    shortlists = {school: _shortlist(out / school / "shortlist.csv") for school in report.get("schools", {})}
    if report.get("schools"):
        sections.append(_caseload(report))
        sections.append(_scores(con, report, shortlists))
    if (out / "impact.csv").exists():
        sections.append(impact_section(pd.read_csv(out / "impact.csv", encoding="utf-8-sig")))
    if card is not None:
        sections.append(_scorecard(card))
    night = str(as_of) if as_of else "no night"
    return Page(
        title=f"Learning mentor shortlists, night of {night}",
        night=night,
        ok=_ok(report),
        lead=_lead(report),
        next_steps=_next_steps(report, shortlists, out),
        sections=tuple(sections),
        footer=_footer(report),
    )


def weekly_attendance(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> pd.DataFrame:
    """Attendance rate and persistent-absence share per school, year group and week, this academic year."""
    year_start = dt.date(as_of.year if as_of.month >= 9 else as_of.year - 1, 9, 1)
    return con.execute(WEEKLY_ATTENDANCE, {"as_of": as_of, "year_start": year_start}).df()


def _ok(report: dict[str, Any]) -> bool:
    return report.get("exit_code") == 0 or report.get("status") == "ok"


def _lead(report: dict[str, Any]) -> str:
    """The page's headline. A night on which some schools published and others were held back (exit 3) says both:
    those schools did get new shortlists tonight."""
    if _ok(report):
        return "Tonight\u2019s run finished and published new shortlists."
    statuses = report.get("school_status") or {}
    published = sum(1 for status in statuses.values() if status.get("published"))
    held = len(statuses) - published
    if published and held:
        return (
            f"Tonight\u2019s run published new shortlists for {published} of {len(statuses)} schools; "
            f"{held} school{'' if held == 1 else 's'} held back keep{'s' if held == 1 else ''} the last good "
            "shortlists, marked stale; why is below."
        )
    return "Tonight\u2019s run published nothing new: the last good shortlists stay."


def _next_steps(report: dict[str, Any], shortlists: dict[str, pd.DataFrame | None], out: Path) -> NextSteps:
    published = bool(report.get("schools")) and (_ok(report) or "school_status" in report)
    to_review = []
    for school, summary in sorted(report.get("schools", {}).items()):
        shortlist = shortlists.get(school)
        new = 0 if shortlist is None else int(shortlist["change_since_last_run"].str.startswith("new").sum())
        to_review.append(
            ShortlistToReview(
                str(school),
                int(summary["shortlist"]),
                new,
                int(summary.get("listed_beside_the_places", 0)),
                Link(f"{school}/shortlist.csv", _href(str(school), "shortlist.csv")),
                int(summary["under_challenged"]),
                Link(f"{school}/under_challenged.csv", _href(str(school), "under_challenged.csv")),
            )
        )
    status = str(report.get("status", ""))
    if "school_status" in report:  # each school judged on its own (pipeline.run)
        held_back = tuple(
            HeldBack(str(school), _held_back_reason(school_status))
            for school, school_status in sorted(report["school_status"].items())
            if not school_status.get("published")
        )
    else:
        schools = sorted({str(f["school"]) for f in report.get("files", [])})
        blocked = [str(c["check"]) for c in report.get("checks", []) if c["blocking"] and not c["passed"]]
        reason = "the check " + ", ".join(f"\u201c{name}\u201d" for name in blocked) + " failed" if blocked else status
        held_back = () if published else tuple(HeldBack(school, reason) for school in schools)
    fixes = []
    quarantined: dict[tuple[str, str], int] = {}  # (school, "" for the MIS's files or a file staff write): rows
    for f in report.get("files", []):
        if f["rows_quarantined"]:
            where = (str(f["school"]), str(f["file"]) if f["file"] in STAFF_FILES else "")
            quarantined[where] = quarantined.get(where, 0) + int(f["rows_quarantined"])
    for (school, staff_file), rows in sorted(quarantined.items()):
        noun = "row was" if rows == 1 else "rows were"
        fixes.append(
            DataToFix(
                f"School {school}: {rows:,} {noun} not loaded, correct them in the MIS"
                if not staff_file
                else f"School {school}: {rows:,} {noun.replace(' ', f' of {staff_file} ')} not loaded, correct them "
                "in that file (staff write it, not the MIS)",
                Link("quarantine.csv", "quarantine.csv"),
            )
        )
    for f in report.get("files", []):
        if f["file"] in STAFF_FILES and f["status"] == "failed":  # a whole file staff wrote, unread
            fixes.append(
                DataToFix(
                    f"School {f['school']}: {f['file']} could not be read, so the decisions written in it since it "
                    "was last read are not in use: save it again as CSV with its header row (the Files table says "
                    "why)",
                    None,
                )
            )
    for school, summary in sorted(report.get("schools", {}).items()):
        named = summary.get("open_interventions_named_like_mentoring") or {}
        if named and not summary.get("current_mentees"):
            sentence = named_otherwise(str(school), named)
            fixes.append(DataToFix(sentence[0].upper() + sentence[1:], None))
    docs = _docs_link(out)
    for check in report.get("checks", []):
        if not check["passed"]:
            kind = "and held back tonight's shortlists" if check["blocking"] else "(a warning)"
            fixes.append(DataToFix(f"The check \u201c{check['check']}\u201d failed {kind}", docs))
    return NextSteps(published, status, tuple(to_review), held_back, tuple(fixes), learn_sentence(report))


def learn_sentence(report: dict[str, Any]) -> str:
    """What ``mentor fit`` could learn from tonight, in one sentence, when it is worth a fit (run.json's
    ``history``); otherwise ``""``. The figure quoted is docs/evaluation.md's: a card learned from a year of history
    ranked 0.919 at capacity against v4's 0.901 (221 held-out school-seeds), 0.927 against 0.907 (164 fresh ones)."""
    history = report.get("history") or {}
    if not history.get("worth_fitting"):
        return ""
    span = f"{_day(history['first_night'])} to {_day(history['last_night'])}"
    if history.get("learned_until"):
        return (
            f"The scorecard in use was learned from nights up to {_day(history['learned_until'])}; "
            f"{history['nights']} newer nights have a known outcome ({span}). Learn this term's card with "
            "mentor fit and compare the two model cards before switching."
        )
    return (
        f"The warehouse holds {history['nights']} past nights whose outcome is known ({span}): mentor fit can "
        "learn the trust's own scorecard from them, with a model card that compares it with the card in use, "
        "half-term by half-term. On simulated futures a card learned from a year of history found about 2 more "
        "pupils with the outcome per 100 places than the expert card."
    )


def _day(iso: str) -> str:
    day = dt.date.fromisoformat(iso)
    return f"{day.day} {day:%B %Y}"


def _held_back_reason(school_status: dict[str, Any]) -> str:
    """Why a school was held back, and which night the shortlist that stays is for (it is stale)."""
    reasons = "; ".join(school_status.get("reasons") or ["held back"])
    if school_status.get("shortlist"):
        return (
            f"{reasons}. Its shortlist is stale: the last good one, for {school_status.get('shortlist_as_of')}, stays"
        )
    return f"{reasons}. It has no shortlist yet"


def _gate(report: dict[str, Any], out: Path) -> Gate:
    checks = tuple(
        Check(str(c["check"]), bool(c["blocking"]), bool(c["passed"]), int(c["rows_checked"]), int(c["unexpected"]))
        for c in report.get("checks", [])
    )
    return Gate(checks, _docs_link(out))


def _docs_link(out: Path) -> Link | None:
    return (
        Link("data checks in detail", "data_docs/index.html") if (out / "data_docs" / "index.html").exists() else None
    )


def _files(report: dict[str, Any]) -> Files:
    return Files(
        tuple(
            FileRow(
                str(f["school"]),
                str(f["file"]),
                str(f["status"]),
                int(f["rows_read"]),
                int(f["rows_loaded"]),
                int(f["rows_quarantined"]),
                "; ".join(str(n) for n in f.get("notes", [])),
            )
            for f in report.get("files", [])
        ),
        tuple(str(n) for n in report.get("notes", [])),
    )


def _quarantine(con: duckdb.DuckDBPyConnection, load_id: str) -> Quarantine:
    top = con.execute(QUARANTINE_REASONS, {"load_id": load_id}).fetchall()
    return Quarantine(
        tuple(QuarantineReason(str(s), str(f), str(r), int(n)) for s, f, r, n in top),
        Link("quarantine.csv", "quarantine.csv"),
    )


def _scores(
    con: duckdb.DuckDBPyConnection, report: dict[str, Any], shortlists: dict[str, pd.DataFrame | None]
) -> Scores:
    schools = sorted(report["schools"].items())
    scores = {str(school): frame.to_numpy(dtype=float) for school, frame in con.execute(SCORES).df().groupby(
        "school_id", sort=False)["score"]}  # fmt: skip
    rows, boxes = [], []
    for school, summary in schools:
        shortlist = shortlists.get(school)
        placed = None if shortlist is None else shortlist[given_a_new_place(shortlist)]
        lowest = int(placed["score"].astype(int).min()) if placed is not None and len(placed) else None
        boxes.append((str(school), scores.get(str(school), np.zeros(0)), lowest))
        rows.append(
            SchoolScores(
                str(school),
                int(summary["pupils_on_roll"]),
                int(summary["places"]),
                int(summary["shortlist"]),
                int(summary["under_challenged"]),
                int(summary["current_mentees"]),
                _movement(shortlist, summary.get("left_the_shortlist")),
            )
        )
    return Scores(score_chart(boxes), tuple(rows))


def _caseload(report: dict[str, Any]) -> Caseload:
    rows = []
    for school, summary in sorted(report["schools"].items()):
        caseload = summary.get("caseload", {})
        statuses = caseload.get("by_status", {})
        rows.append(
            SchoolCaseload(
                school=str(school),
                places=int(summary["places"]),
                rule=str(summary.get("places_rule", "")),
                mentees=int(summary.get("current_mentees", 0)),
                pending=int(summary.get("referrals_pending", 0)),
                free=int(summary.get("free_places", 0)),
                improving=int(statuses.get("improving", 0)),
                mixed=int(statuses.get("mixed", 0)),
                no_change=int(statuses.get("no change", 0)),
                worsening=int(statuses.get("worsening", 0)),
                too_early=int(statuses.get("too early to tell", 0)),
                review_due=int(caseload.get("review_due", 0)),
                file=Link(f"{school}/caseload.csv", _href(str(school), "caseload.csv")),
                mix=_mix_text(summary.get("new_candidates_by_main_barrier", {})),
                beside=_mix_text(summary.get("beside_the_places_by_main_barrier", {})),
                severe_absence=int(summary.get("severe_absence_on_shortlist", 0)),
                held=int(summary.get("held_by_decisions", 0)),
            )
        )
    return Caseload(tuple(rows))


def _mix_text(mix: dict[str, int]) -> str:
    """Pupils by main barrier, most first, then by name.

    >>> _mix_text({"attendance": 3, "behaviour": 5, "literacy": 3})
    '5 behaviour, 3 attendance, 3 literacy'
    """
    return ", ".join(f"{n} {barrier}" for barrier, n in sorted(mix.items(), key=lambda t: (-t[1], t[0])))


def score_chart(boxes: Sequence[tuple[str, np.ndarray, int | None]]) -> Markup:
    """One row per school on one shared score axis: a box over the middle half of its scores with a line at the
    median, whiskers from the 5th to the 95th percentile, and the lowest score given a place on its shortlist marked and
    labelled in place."""
    from matplotlib.ticker import MaxNLocator

    left, right, top, row, bottom, width = 104, 56, 16, 34, 40, 520
    height = top + row * max(1, len(boxes)) + bottom
    values = [v for _, scores, _ in boxes for v in scores] + [c for _, _, c in boxes if c is not None]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    pad = (high - low) * 0.04 or 1.0
    low, high = low - pad, high + pad

    def x(value: float) -> float:
        return left + (value - low) / (high - low) * (width - left - right)

    out = [
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width} {height}' role='img' "
        "aria-label='Score distribution per school' font-family='sans-serif' font-size='12'>"
        "<title>Score distribution per school</title><rect width='100%' height='100%' fill='white'/>"
    ]
    axis_y = top + row * max(1, len(boxes))
    for tick in MaxNLocator(nbins=8, integer=True).tick_values(low, high):
        if low <= tick <= high:
            out.append(f"<line x1='{x(tick):.1f}' x2='{x(tick):.1f}' y1='{top}' y2='{axis_y}' stroke='#e4e4e4'/>")
            out.append(f"<text x='{x(tick):.1f}' y='{axis_y + 15}' text-anchor='middle'>{tick:g}</text>")
    out.append(f"<line x1='{left}' x2='{width - right}' y1='{axis_y}' y2='{axis_y}' stroke='#444'/>")
    out.append(f"<text x='{(left + width - right) / 2:.1f}' y='{axis_y + 32}' text-anchor='middle'>score</text>")
    for index, (school, scores, lowest) in enumerate(boxes):
        middle = top + row * index + row / 2
        out.append(f"<text x='{left - 8}' y='{middle + 4:.1f}' text-anchor='end'>School {_e(school)}</text>")
        if len(scores):
            q05, q25, q50, q75, q95 = (float(q) for q in np.quantile(scores, QUANTILES))
            out.append(f"<line x1='{x(q05):.1f}' x2='{x(q95):.1f}' y1='{middle}' y2='{middle}' stroke='#4477aa'/>")
            out.extend(f"<line x1='{x(q):.1f}' x2='{x(q):.1f}' y1='{middle - 5}' y2='{middle + 5}' stroke='#4477aa'/>"
                       for q in (q05, q95))  # fmt: skip
            out.append(f"<rect x='{x(q25):.1f}' y='{middle - 9}' width='{max(x(q75) - x(q25), 1):.1f}' height='18' "
                       "fill='#bbccee' stroke='#4477aa'/>")  # fmt: skip
            out.append(f"<line x1='{x(q50):.1f}' x2='{x(q50):.1f}' y1='{middle - 9}' y2='{middle + 9}' "
                       "stroke='#223355' stroke-width='2'/>")  # fmt: skip
        if lowest is not None:
            cx = x(lowest)
            out.append(f"<line x1='{cx:.1f}' x2='{cx:.1f}' y1='{middle - 13}' y2='{middle + 13}' stroke='#cc3311' "
                       "stroke-width='3'/>")  # fmt: skip
            out.append(f"<text x='{cx + 5:.1f}' y='{middle - 5:.1f}' fill='#cc3311' font-size='11'>lowest listed "
                       f"{lowest}</text>")  # fmt: skip
    out.append("</svg>")
    return Markup("".join(out))


def _scorecard(card: Scorecard) -> ScorecardInUse:
    return ScorecardInUse(
        card.name,
        card.version,
        card.kind,
        ", ".join(f"{b.label} from {b.min_score}" for b in card.score_bands),
        tuple(
            FeaturePoints(feature.description, feature.points_text(), feature.rationale) for feature in card.features
        ),
    )


def _footer(report: dict[str, Any]) -> Footer:
    versions: dict[str, Any] = dict(report.get("versions") or {})
    if not versions:
        versions = {k: report[k] for k in ("pipeline_version", "scorecard", "config_hash") if report.get(k)}
    names = {"pipeline_version": "pipeline", "scorecard_version": "scorecard", "config_hash": "settings hash"}
    return Footer(
        tuple((names.get(str(k), str(k)), str(v)) for k, v in versions.items()), str(report.get("started", ""))
    )


def _href(*parts: str) -> str:
    """A relative link to a file under the output folder, each part percent-encoded."""
    return "/".join(quote(part, safe="") for part in parts)


def _shortlist(path: Path) -> pd.DataFrame | None:
    """The school's published shortlist, as text, or None if there is none."""
    if not path.exists():
        return None
    return pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)


def _movement(shortlist: pd.DataFrame | None, left: int | None = None) -> str:
    """The shortlist's movement since the last night: new, up, down, same, and how many of its pupils left it.

    >>> _movement(pd.DataFrame({"change_since_last_run": ["new", "up 2", "same", "still pending"]}), 3)
    '1 new, 1 up, 0 down, 1 same, 1 still pending, 3 left the list'
    """
    if shortlist is None:
        return ""
    change = shortlist["change_since_last_run"]
    if change.eq("").all():
        return "first run"
    kinds = change.str.replace("still pending", "still-pending").str.split(" ").str[0].value_counts()
    moved = [f"{int(kinds.get(k, 0))} {k}" for k in ("new", "up", "down", "same")]
    if kinds.get("still-pending"):
        moved.append(f"{int(kinds['still-pending'])} still pending")
    if left is not None:
        moved.append(f"{left} left the list")
    return ", ".join(moved)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)
