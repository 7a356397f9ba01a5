"""report.html from its templates: hostile text stays text, the next-steps box links the files, charts are inline.

The page is built from a small literal run report and an in-memory warehouse holding the two tables it reads.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import shutil
import subprocess
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipeline.model import Scorecard
from pipeline.model.card import Band, FeatureCard
from pipeline.report.html import build_page, render_page, weekly_attendance, write_html_report
from pipeline.report.trends import draw_trends
from pipeline.safe_csv import write_csv

HOSTILE = "<script>document.title='pwned'</script>"
FORMULA = '=HYPERLINK("http://evil.example","x")'
NASTY = f"{HOSTILE} & \"quoted\" 'single' {FORMULA}"
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "main", "footer", "section", "h1", "h2", "h3", "p",
    "span", "ul", "li", "a", "div", "table", "caption", "thead", "tbody", "tr", "th", "td", "figure", "figcaption",
    "svg", "rect", "line", "polyline", "polygon", "circle", "text", "dl", "dt", "dd",
}  # fmt: skip


class Tags(HTMLParser):
    """Every start tag and its attributes, and the text of the page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _report(school: str, out: Path) -> dict[str, object]:
    write_csv(
        pd.DataFrame(
            {"rank": [1, 2], "score": [40, 31], "change_since_last_run": ["new", "up 2"], "reasons": [NASTY, FORMULA]}
        ),
        out / school / "shortlist.csv",
    )
    return {
        "status": "ok",
        "exit_code": 0,
        "as_of": "2025-10-17",
        "started": "2025-10-17T22:00:00+00:00",
        "load_id": "L1",
        "versions": {"pipeline_version": "0.1.0", "scorecard_version": NASTY, "config_hash": "abc123"},
        "files": [
            {
                "school": school,
                "file": f"attendance{NASTY}.csv",
                "status": "loaded",
                "rows_read": 12345,
                "rows_loaded": 12344,
                "rows_quarantined": 1,
            },
        ],
        "notes": [
            f"{school}: behaviour.csv not delivered (optional); what its earlier deliveries brought stays in use (last "
            "read on 16 October 2025)",
            f"{school}: ignored {NASTY}.csv, which is not an export file of the contract",
        ],
        "checks": [
            {"check": NASTY, "blocking": False, "passed": False, "rows_checked": 10, "unexpected": 1},
            {"check": "roll size", "blocking": True, "passed": True, "rows_checked": 10, "unexpected": 0},
        ],
        "schools": {
            school: {
                "pupils_on_roll": 300,
                "places": 15,
                "places_rule": NASTY,
                "current_mentees": 13,
                "referrals_pending": 1,
                "free_places": 1,
                "shortlist": 2,
                "shortlist_by_main_barrier": {"attendance": 4, NASTY: 2},  # the pending referral too
                "new_candidates_by_main_barrier": {"attendance": 3, NASTY: 2},
                "beside_the_places_by_main_barrier": {NASTY: 1},
                "severe_absence_on_shortlist": 1,
                "held_by_decisions": 2,
                "left_the_shortlist": 3,
                "under_challenged": 1,
                "caseload": {"mentees": 13, "by_status": {"improving": 4, "mixed": 1, "worsening": 2}, "review_due": 3},
            },
        },
    }


def _warehouse(school: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(
        "create table quarantine "
        "(load_id varchar, school_id varchar, file varchar, column_name varchar, reason varchar)"
    )
    con.execute("insert into quarantine values ('L1', $school, $file, 'sex', $reason)",
                {"school": school, "file": FORMULA, "reason": NASTY})  # fmt: skip
    con.execute("create table scores (school_id varchar, score integer)")
    con.executemany("insert into scores values (?, ?)", [(school, s) for s in (0, 3, 5, 8, 12, 20, 31, 40)])
    return con


def _weekly(school: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "school_id": [school] * 4,
            "year_group": ["7", "7", "10", "10"],
            "week": pd.to_datetime(["2025-09-01", "2025-09-08"] * 2),
            "attendance_rate": [0.95, 0.93, 0.90, 0.88],
            "persistent_absence_share": [0.1, 0.12, 0.2, 0.25],
        }
    )


@pytest.fixture
def hostile_page(tmp_path: Path) -> tuple[str, Path]:
    school = NASTY
    out = tmp_path / "out"
    path = write_html_report(_warehouse(school), _report(school, out), None, out, draw_trends(_weekly(school)))
    return path.read_text(encoding="utf-8"), path


def test_hostile_names_and_reasons_stay_text(hostile_page: tuple[str, Path]) -> None:
    page, _ = hostile_page
    parser = Tags()
    parser.feed(page)
    parser.close()
    tags = {tag for tag, _ in parser.tags}
    assert tags <= ALLOWED_TAGS, tags - ALLOWED_TAGS
    assert "script" not in tags
    assert not [attr for _, attrs in parser.tags for attr in attrs if attr.startswith("on")]
    # Every link is relative, to a file in the output folder (the school's folder percent-encoded).
    hrefs = [attrs["href"] or "" for tag, attrs in parser.tags if tag == "a"]
    assert hrefs
    assert all(not re.match(r"^[a-z]+:", href) and "<" not in href for href in hrefs)
    text = "".join(parser.text)
    assert HOSTILE in text  # shown to the reader as written, not run
    assert f"School {NASTY}" in text
    assert page.count("<script") == 0
    assert "<img" not in page
    assert "data:" not in page


def test_the_files_section_lists_the_delivery_s_notes_beside_the_files_read(hostile_page: tuple[str, Path]) -> None:
    """run.json's notes (an optional file not delivered, a file that is not an export) were in no part of the page."""
    page, _ = hostile_page
    parser = Tags()
    parser.feed(page[page.index("<h2>Files</h2>") : page.index("</section>", page.index("<h2>Files</h2>"))])
    text = " ".join(" ".join(parser.text).split())
    assert f"{NASTY}: behaviour.csv not delivered (optional); what its earlier deliveries brought stays in use" in text
    assert f"{NASTY}: ignored {NASTY}.csv, which is not an export file of the contract" in text


def test_the_next_steps_box_comes_first_and_links_the_files(hostile_page: tuple[str, Path]) -> None:
    page, _ = hostile_page
    box = page[page.index("What to do next") : page.index("Data-quality gate")]
    assert page.index("What to do next") < page.index("Data-quality gate")
    assert "2 pupils (1 new since the last run); may be under-challenged:" in box
    assert "beside the places" not in box  # none listed there
    # the lists at a glance: who left the list since the last night too (a pupil gone was in no count)
    assert "1 new, 1 up, 0 down, 0 same, 3 left the list" in page


def test_the_next_steps_box_says_how_many_are_listed_beside_the_places(tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = _report("100001", out)
    report["schools"]["100001"]["listed_beside_the_places"] = 1  # type: ignore[index]
    page = render_page(build_page(_warehouse("100001"), report, None, out, draw_trends(_weekly("100001"))))
    box = page[page.index("What to do next") : page.index("Data-quality gate")]
    assert (
        "2 pupils (1 new since the last run), 1 of them listed beside the places for another barrier: each takes a "
        "place only if you swap them in; may be under-challenged:"
    ) in box
    assert 'href="quarantine.csv"' in box
    assert "1 row was not loaded, correct them in the MIS" in box


def test_a_school_with_no_mentee_but_mentoring_named_otherwise_is_told_to_name_it_in_the_settings(
    tmp_path: Path,
) -> None:
    """The MIS calls it "Learning Mentor Support": no pupil counted as a current mentee, and every one of them was
    listed as a new candidate, without a word in the report."""
    out = tmp_path / "out"
    report = _report("100001", out)
    school = report["schools"]["100001"]  # type: ignore[index]
    school |= {"current_mentees": 0, "open_interventions_named_like_mentoring": {NASTY: 23}}
    page = render_page(build_page(_warehouse("100001"), report, None, out, draw_trends(_weekly("100001"))))
    box = html.unescape(page[page.index("What to do next") : page.index("Data-quality gate")])
    assert (
        f"School 100001: no current mentee, but 23 pupil(s) have an open \u201c{NASTY}\u201d: if that is learning "
        "mentoring, add its name to mentor_interventions in the settings (docs/settings.md), or those pupils are "
        "listed as new candidates"
    ) in box
    school["current_mentees"] = 13  # some are counted: the name may be another kind of mentoring; nothing said
    page = render_page(build_page(_warehouse("100001"), report, None, out, draw_trends(_weekly("100001"))))
    assert "no current mentee" not in page


def test_rows_of_the_staff_decisions_file_are_sent_to_that_file_not_the_mis(tmp_path: Path) -> None:
    """A mistyped line of decisions.csv was to be corrected "in the MIS", which never holds it."""
    out = tmp_path / "out"
    report = _report("100001", out)
    report["files"].append(  # type: ignore[attr-defined]
        {"school": "100001", "file": "decisions.csv", "status": "loaded", "rows_read": 7, "rows_loaded": 5,
         "rows_quarantined": 2}
    )  # fmt: skip
    page = render_page(build_page(_warehouse("100001"), report, None, out, draw_trends(_weekly("100001"))))
    box = page[page.index("What to do next") : page.index("Data-quality gate")]
    assert "School 100001: 1 row was not loaded, correct them in the MIS" in box
    assert (
        "School 100001: 2 rows of decisions.csv were not loaded, correct them in that file (staff write it, not the "
        "MIS)"
    ) in box
    assert "failed (a warning)." in box
    # Versions and the settings' hash are in the footer only.
    header = page[: page.index("What to do next")]
    assert "abc123" not in header
    assert "0.1.0" not in header
    assert "abc123" in page[page.index("<footer>") :]


def test_the_caseload_at_a_glance_shows_places_mentees_progress_and_the_mix(hostile_page: tuple[str, Path]) -> None:
    page, _ = hostile_page
    section = page[page.index("Caseload at a glance") : page.index("Scores and shortlists")]
    cells = [html.unescape(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", section)]
    # places, the rule, mentees, pending, free, improving, mixed, no change, worsening, too early, reviews due
    assert cells[1:12] == ["15", NASTY, "13", "1", "1", "4", "1", "0", "2", "0", "3"]
    assert 'caseload.csv"' in section
    assert f"3 attendance, 2 {NASTY}" in cells  # the new candidates given a place, not the referral pending
    assert f"1 {NASTY}" in cells  # listed beside the places


def test_a_failed_gate_says_nothing_was_published_and_holds_every_school_back(tmp_path: Path) -> None:
    report = _report("100001", tmp_path)
    report |= {"status": "gate failed: roll size", "exit_code": 3, "schools": {}}
    report["checks"][1]["passed"] = False  # type: ignore[index]
    page = render_page(build_page(_warehouse("100001"), report, None, tmp_path, draw_trends(_weekly("100001"))))
    assert "published nothing new" in page
    assert "Schools held back" in page
    assert "School 100001: the check \u201croll size\u201d failed" in page
    assert "The check \u201croll size\u201d failed and held back tonight&#39;s shortlists; see" not in page  # no docs
    assert "The check \u201croll size\u201d failed and held back tonight&#39;s shortlists." in page
    assert "Review tonight" not in page


def test_charts_are_inline_svg_with_text_a_reader_can_search(hostile_page: tuple[str, Path]) -> None:
    page, _ = hostile_page
    charts = re.findall(r"<svg.*?</svg>", page, flags=re.S)
    assert len(charts) == 3  # two trend panels for the one school, and the score chart
    assert any("lowest listed 31" in chart for chart in charts)
    assert any(">Y7<" in chart and ">Y10<" in chart for chart in charts)


def test_the_score_chart_marks_the_lowest_new_candidate_given_a_place(tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = _report("100001", out)
    # A referral pending and a pupil listed beside the places score lower, but neither is given a free place.
    place_for = ["by rank", "place kept for literacy and numeracy", "referred, pending", "beside the places, not "
                 "taking one: no pupil listed above has real need in behaviour and exclusion"]  # fmt: skip
    listed = pd.DataFrame({"rank": [1, 2, 3, 4], "score": [40, 31, 8, 5], "place_for": place_for,
                           "change_since_last_run": ["new"] * 4})  # fmt: skip
    write_csv(listed, out / "100001" / "shortlist.csv")
    page = render_page(build_page(_warehouse("100001"), report, None, out, draw_trends(_weekly("100001"))))
    chart = re.findall(r"<svg.*?</svg>", page, flags=re.S)[-1]
    assert "lowest listed 31" in chart


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Chromium is not installed (apt-get install chromium)")
def test_nothing_runs_in_a_real_browser(hostile_page: tuple[str, Path]) -> None:
    _, path = hostile_page
    dom = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--dump-dom", path.as_uri()],
        check=True, capture_output=True, text=True, timeout=120,
    ).stdout  # fmt: skip
    assert "<title>Learning mentor shortlists, night of 2025-10-17</title>" in dom
    assert "pwned</title>" not in dom
    assert "<script" not in dom


def test_every_template_is_package_data() -> None:
    """A template the package-data patterns miss would be absent from an installed copy (not from this checkout)."""
    import tomllib

    from pipeline.pages.render import TEMPLATES

    patterns = tomllib.loads((TEMPLATES.parents[2] / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"
    ]["package-data"]["pipeline.pages"]
    shipped = {path for pattern in patterns for path in TEMPLATES.parent.glob(pattern)}
    assert {path for path in TEMPLATES.rglob("*") if path.is_file()} <= shipped


def test_the_scorecard_section_lists_the_lines_that_give_points_and_otherwise_0(tmp_path: Path) -> None:
    """A flag's 0-point band is not printed as a line of its own: the reader sees "yes: +8; otherwise 0"."""
    card = Scorecard.load(Path(__file__).resolve().parents[2] / "models" / "scorecard-v1.yaml")
    flag = FeatureCard("f", "A flag", "behaviour", "flag", "why", (Band(None, 1, 0, "no"), Band(1, None, 8, "yes")))
    school = "A"
    page = render_page(
        build_page(
            _warehouse(school),
            _report(school, tmp_path),
            replace(card, features=(flag,)),
            tmp_path,
            draw_trends(_weekly(school)),
        )
    )
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    assert "yes: +8; otherwise 0" in text
    assert "no: +0" not in text


def test_a_night_on_which_one_school_is_held_back_says_the_other_published(tmp_path: Path) -> None:
    report = _report("100001", tmp_path)
    report |= {
        "status": "1 school(s) held back",
        "exit_code": 3,
        "school_status": {
            "100001": {"published": True, "reasons": []},
            "100002": {"published": False, "reasons": ["attendance.csv failed"], "stale": "2025-10-16"},
        },
    }
    page = render_page(build_page(_warehouse("100001"), report, None, tmp_path, draw_trends(_weekly("100001"))))
    lead = html.unescape(page[page.index('<p class="lead">') : page.index("</p>", page.index('<p class="lead">'))])
    assert "published new shortlists for 1 of 2 schools" in lead
    assert "1 school held back keeps the last good shortlists, marked stale" in lead
    assert "published nothing new" not in page
    assert "Schools held back" in page


def test_a_pupil_who_missed_a_tenth_of_sessions_counts_as_persistently_absent_in_the_weekly_chart() -> None:
    con = duckdb.connect()
    con.execute("create table pupils as select * from (values ('100001', 'A', '7'), ('100001', 'B', '7')) "
                "as t(school_id, upn, year_group)")  # fmt: skip
    marks = [("A", day, "present" if n else "unauthorised") for n, day in enumerate(range(1, 11))]  # 9 of 10
    marks += [("B", day, "present") for day in range(1, 11)]
    con.execute("create table attendance (school_id varchar, upn varchar, date date, category varchar)")
    con.executemany("insert into attendance values ('100001', ?, ?, ?)",
                    [(upn, dt.date(2025, 9, day), category) for upn, day, category in marks])  # fmt: skip
    weekly = weekly_attendance(con, dt.date(2025, 9, 10))
    assert weekly["persistent_absence_share"].iloc[-1] == 0.5  # A at exactly 90% is persistently absent (DfE)


def test_a_quarantine_reason_is_shown_without_the_value_it_quotes(tmp_path: Path) -> None:
    """A pupils.csv whose headers were swapped puts surnames where sex is read: the reasons quote them ("sex 'Smith'
    is not M or F"), and the page listed each, a name per line. It shows one line for the reason, the value as '…'."""
    con = _warehouse("100001")
    for surname in ("Smithson", "Robinson", "O'Toole"):
        con.execute("insert into quarantine values ('L1', '100001', 'pupils.csv', 'sex', $reason)",
                    {"reason": f"sex '{surname}' is not M or F"})  # fmt: skip
    out = tmp_path / "out"
    page = write_html_report(con, _report("100001", out), None, out, draw_trends(_weekly("100001"))).read_text()
    assert "sex &#39;…&#39; is not M or F" in page
    assert not [name for name in ("Smithson", "Robinson", "Toole") if name in page]
