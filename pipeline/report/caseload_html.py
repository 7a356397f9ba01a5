"""report.html's "caseload at a glance": each school's places, how they are filled, the mix of needs on the
shortlist and how the current mentees are doing. Self-contained HTML from the run's report, nothing else."""

from __future__ import annotations

import html
from typing import Any

STATUSES = ("improving", "no change", "worsening", "too early to tell")


def caseload_section(schools: dict[str, Any]) -> str:
    """One table row per school, from ``run.json``'s ``schools`` (as :func:`pipeline.report.write_reports`
    returns them); an empty string when there is nothing to show."""
    rows = []
    for school, summary in sorted(schools.items()):
        if "places" not in summary:
            continue
        caseload = summary.get("caseload", {})
        statuses = caseload.get("by_status", {})
        status_text = ", ".join(f"{statuses[s]} {s}" for s in STATUSES if statuses.get(s)) or "none"
        mix = summary.get("shortlist_by_main_barrier", {})
        mix_text = ", ".join(f"{n} {barrier}" for barrier, n in sorted(mix.items(), key=lambda t: (-t[1], t[0])))
        rows.append(
            "<tr>"
            f"<td>{_e(school)}</td>"
            f"<td>{summary['places']}<br><small>{_e(summary.get('places_rule', ''))}</small></td>"
            f"<td>{summary.get('current_mentees', 0)}</td>"
            f"<td>{summary.get('referrals_pending', 0)}</td>"
            f"<td>{summary.get('free_places', 0)}</td>"
            f"<td>{_e(status_text)}</td>"
            f"<td>{caseload.get('review_due', 0)}</td>"
            f"<td>{summary.get('shortlist', 0)}: {_e(mix_text)}</td>"
            f"<td>{summary.get('severe_absence_on_shortlist', 0)}</td>"
            f"<td>{summary.get('held_by_decisions', 0)}</td>"
            "</tr>"
        )
    if not rows:
        return ""
    return (
        "<section id='caseload'><h2>Caseload at a glance</h2>"
        "<p>Places are filled first by current mentees and pupils referred but not yet started; the shortlist "
        "holds the free places' worth of new candidates (at least the set minimum). Each school folder has "
        "<code>caseload.csv</code> (every current mentee, before against since, and the status rule) and "
        "<code>shortlist.csv</code>. See docs/pastoral-guide.md.</p>"
        "<table><tr><th>school</th><th>places</th><th>current mentees</th><th>referred, pending</th>"
        "<th>free places</th><th>mentees' progress</th><th>reviews due</th><th>shortlist by main barrier</th>"
        "<th>severe absence (for the attendance team)</th><th>held off by staff decisions</th></tr>"
        + "".join(rows)
        + "</table></section>"
    )


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)
