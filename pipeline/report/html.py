"""OUT/report.html: one self-contained page a data lead, a head or a pastoral manager can open.

Run status and gate results; rows read, loaded and quarantined per school and file; the top quarantine reasons;
attendance and persistent absence by week per school and year group; the score distribution and shortlist sizes;
movement since the last run; and the scorecard in use. Charts are SVGs embedded in the file (the score chart drawn
by matplotlib, the weekly trends written by :mod:`pipeline.report.trends`), so it needs no network. It shows
counts and rates only: no pupil is named.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pandas as pd

from pipeline.model.card import Scorecard
from pipeline.report.caseload_html import caseload_section
from pipeline.report.trends import draw_trends
from pipeline.safe_csv import atomic_write

if TYPE_CHECKING:
    from matplotlib.figure import Figure

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
    avg(case when possible_to_date > 0 then (attended_to_date::double / possible_to_date < 0.9)::int end)
        as persistent_absence_share
from cumulative
where possible > 0
group by all
order by school_id, year_group, week
"""
QUARANTINE_REASONS = """
select school_id, file, reason, count(*) as rows
from quarantine where load_id = $load_id
group by all order by rows desc limit 10
"""
SCORES = "select school_id, score from scores"


def write_html_report(
    con: duckdb.DuckDBPyConnection,
    report: dict[str, Any],
    card: Scorecard | None,
    out: Path,
    trends: str | None = None,
) -> Path:
    """Write ``out/report.html`` from the run's report dict and the warehouse; return its path.

    ``trends`` is the weekly-trends section if it was drawn already (the nightly run draws it while the gate and the
    features run: :func:`draw_trends` of :func:`weekly_attendance`); otherwise it is drawn here.
    """
    sections = [_status(report), _files(report)]
    if report.get("load_id"):
        sections.append(_quarantine(con, str(report["load_id"])))
    as_of = report.get("as_of")
    if trends is not None:
        sections.append(trends)
    elif as_of:
        day = as_of if isinstance(as_of, dt.date) else dt.date.fromisoformat(str(as_of))
        sections.append(draw_trends(weekly_attendance(con, day)))
    if report.get("schools"):
        sections.append(caseload_section(report["schools"]))
        sections.append(_scores(con, report, out))
    if card is not None:
        sections.append(_scorecard(card))
    title = f"Mentor pipeline run, {as_of or 'no night'}"
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{_e(title)}</h1>" + "".join(sections) + "</body></html>\n"
    )
    return atomic_write(out / "report.html", lambda handle: handle.write(page))


def _status(report: dict[str, Any]) -> str:
    ok = report.get("exit_code") == 0 or report.get("status") == "ok"
    checks = report.get("checks", [])
    rows = "".join(
        f"<tr class='{'' if c['passed'] else ('fail' if c['blocking'] else 'warn')}'><td>{_e(c['check'])}</td>"
        f"<td>{'blocking' if c['blocking'] else 'warning'}</td><td>{'passed' if c['passed'] else 'FAILED'}</td>"
        f"<td>{c['rows_checked']:,}</td><td>{c['unexpected']:,}</td></tr>"
        for c in checks
    )
    versions = report.get("versions", {})
    return (
        f"<section><h2>Status: <span class='{'ok' if ok else 'fail'}'>{_e(str(report.get('status', '')))}</span></h2>"
        f"<p>Night {_e(str(report.get('as_of', '')))}; started {_e(str(report.get('started', '')))}; "
        f"{_e(' '.join(f'{k} {v}' for k, v in versions.items()))}</p>"
        "<h3>Data-quality gate</h3><table><tr><th>check</th><th>kind</th><th>result</th><th>rows checked</th>"
        f"<th>unexpected</th></tr>{rows}</table></section>"
    )


def _files(report: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{_e(f['school'])}</td><td>{_e(f['file'])}</td><td>{_e(f['status'])}</td>"
        f"<td>{f['rows_read']:,}</td><td>{f['rows_loaded']:,}</td><td>{f['rows_quarantined']:,}</td></tr>"
        for f in report.get("files", [])
    )
    return (
        "<section><h2>Files</h2><table><tr><th>school</th><th>file</th><th>status</th><th>rows read</th>"
        f"<th>loaded</th><th>quarantined</th></tr>{rows}</table>"
        "<p>Unchanged files (same content as their last load, every line loaded cleanly) are not read again."
        "</p></section>"
    )


def _quarantine(con: duckdb.DuckDBPyConnection, load_id: str) -> str:
    top = con.execute(QUARANTINE_REASONS, {"load_id": load_id}).df()
    if top.empty:
        return "<section><h2>Quarantine</h2><p>No row was quarantined in this load.</p></section>"
    rows = "".join(
        f"<tr><td>{_e(r.school_id)}</td><td>{_e(r.file)}</td><td>{_e(r.reason)}</td><td>{r.rows:,}</td></tr>"
        for r in top.itertuples()
    )
    return (
        "<section><h2>Top quarantine reasons</h2><table><tr><th>school</th><th>file</th><th>reason</th>"
        f"<th>rows</th></tr>{rows}</table><p>Every row is in quarantine.csv with its line number.</p></section>"
    )


def weekly_attendance(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> pd.DataFrame:
    """Attendance rate and persistent-absence share per school, year group and week, this academic year."""
    year_start = dt.date(as_of.year if as_of.month >= 9 else as_of.year - 1, 9, 1)
    return con.execute(WEEKLY_ATTENDANCE, {"as_of": as_of, "year_start": year_start}).df()


def _scores(con: duckdb.DuckDBPyConnection, report: dict[str, Any], out: Path) -> str:
    schools = sorted(report["schools"].items())
    scores = {str(school): frame.to_numpy(dtype=float) for school, frame in con.execute(SCORES).df().groupby(
        "school_id", sort=False)["score"]}  # fmt: skip
    from matplotlib.figure import Figure

    # One box per school on one shared score axis (a trust's schools compare at a glance, and one axis draws in a
    # fraction of the time of a grid of small histograms, whose ticks and labels are most of the work).
    height = 1.1 + 0.3 * max(1, len(schools))  # inches: a row per school, and room for the axis below
    figure = Figure(figsize=(10, height))
    axis = figure.subplots()
    figure.subplots_adjust(left=0.14, right=0.98, bottom=0.7 / height, top=0.98)
    positions = range(1, len(schools) + 1)
    axis.boxplot([scores.get(school, np.zeros(0)) for school, _ in schools], orientation="horizontal",
                 positions=positions, tick_labels=[f"School {school}" for school, _ in schools], whis=(5, 95),
                 showfliers=False, widths=0.6, patch_artist=True, boxprops={"facecolor": "#bbccee"},
                 medianprops={"color": "#4477aa"})  # fmt: skip
    rows, cut_offs = [], []
    for position, (school, summary) in zip(positions, schools, strict=True):
        shortlist = _shortlist(out / school / "shortlist.csv")
        if shortlist is not None and len(shortlist):
            cut_offs.append((int(shortlist["score"].astype(int).min()), position))
        rows.append(
            f"<tr><td>{_e(school)}</td><td>{summary['pupils_on_roll']:,}</td><td>{summary['places']}</td>"
            f"<td>{summary['shortlist']}</td><td>{summary['under_challenged']}</td>"
            f"<td>{summary['current_mentees']}</td><td>{_e(_movement(shortlist))}</td></tr>"
        )
    if cut_offs:
        cut_off_scores, cut_off_positions = zip(*cut_offs, strict=True)
        axis.scatter(cut_off_scores, cut_off_positions, marker="|", s=250, linewidths=2, color="#cc3311", zorder=3,
                     label="shortlist cut-off")  # fmt: skip
        axis.legend(loc="lower right", fontsize=8)
    axis.set(xlabel="score", ylim=(len(schools) + 0.6, 0.4))
    axis.tick_params(axis="y", labelsize=8)
    return (
        "<section><h2>Scores and shortlists</h2>"
        + _figure(figure, "Score distribution per school")
        + "<p>Each box spans the middle half of a school's scores, with a line at the median; the whiskers reach "
        "from the 5th to the 95th percentile. The red mark is the school's shortlist cut-off: the lowest score on "
        "its shortlist.</p>"
        + "<table><tr><th>school</th><th>on roll</th><th>places</th><th>shortlist</th><th>under-challenged</th>"
        "<th>current mentees</th><th>movement since last run</th></tr>" + "".join(rows) + "</table></section>"
    )


def _scorecard(card: Scorecard) -> str:
    rows = []
    for feature in card.features:
        bands = "; ".join(f"{b.label}: {b.points:+d}" for b in feature.bands)
        rows.append(f"<tr><td>{_e(feature.description)}</td><td>{_e(bands)}</td><td>{_e(feature.rationale)}</td></tr>")
    score_bands = ", ".join(f"{b.label} from {b.min_score}" for b in card.score_bands)
    return (
        f"<section><h2>Scorecard in use: {_e(card.name)} {_e(card.version)} ({_e(card.kind)})</h2>"
        f"<p>Score bands: {_e(score_bands)}.</p><table><tr><th>feature</th><th>bands and points</th>"
        f"<th>why</th></tr>{''.join(rows)}</table></section>"
    )


def _shortlist(path: Path) -> pd.DataFrame | None:
    """The school's published shortlist, as text, or None if there is none."""
    if not path.exists():
        return None
    return pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)


def _movement(shortlist: pd.DataFrame | None) -> str:
    if shortlist is None:
        return ""
    change = shortlist["change_since_last_run"]
    if change.eq("").all():
        return "first run"
    kinds = change.str.split(" ").str[0].value_counts()
    return ", ".join(f"{int(kinds.get(k, 0))} {k}" for k in ("new", "up", "down", "same"))


def _figure(figure: Figure, alt: str) -> str:
    """``figure`` as an SVG image inside the page. Text is kept as text (the browser sets it in its own sans-serif
    font), which is smaller and draws in about half the time of a PNG, whose glyphs are rasterised one by one.
    The image is a data URI, so that the element ids of one chart cannot clash with another's."""
    import matplotlib

    buffer = io.BytesIO()
    # The nightly run draws nothing else while this chart is saved (the trend charts are written before, and read
    # only the colour cycle), so changing the settings for this call does not affect another chart.
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "mentor-report"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f"<img alt='{_e(alt)}' src='data:image/svg+xml;base64,{data}'>"


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 1300px; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } tr.fail td { background: #fde2e2; } tr.warn td { background: #fff4d6; }
.ok { color: #1a7f37; } .fail { color: #b42318; } img { max-width: 100%; }
"""
