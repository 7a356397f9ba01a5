"""The report's weekly-trend charts: what each school's SVG panels show, from a small literal frame."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from pipeline.report.trends import MARKERS, Trends, draw_trends, spread

SVG = "{http://www.w3.org/2000/svg}"


def _weekly(rows: list[tuple[str, str, str, float, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=["school_id", "year_group", "week", "attendance_rate", "persistent_absence_share"]
    )
    frame["week"] = pd.to_datetime(frame["week"])
    return frame


def _panels(trends: Trends) -> list[tuple[ET.Element, ET.Element]]:
    """Each school's two charts, parsed (which also proves each is well-formed XML)."""
    return [(ET.fromstring(s.attendance), ET.fromstring(s.persistent_absence)) for s in trends.schools]


def _lines(chart: ET.Element) -> list[list[tuple[float, float]]]:
    return [
        [tuple(float(v) for v in point.split(",")) for point in line.attrib["points"].split()]  # type: ignore[misc]
        for line in chart.iter(f"{SVG}polyline")
    ]


def _texts(chart: ET.Element) -> list[str]:
    return [t.text or "" for t in chart.iter(f"{SVG}text")]


def _end_labels(chart: ET.Element) -> list[ET.Element]:
    return [t for t in chart.iter(f"{SVG}text") if (t.text or "").startswith("Y")]


def test_one_pair_of_charts_per_school_with_a_line_per_year_group() -> None:
    weekly = _weekly(
        [
            ("200001", "10", "2025-09-01", 0.95, 0.10),
            ("200001", "10", "2025-09-08", 0.91, 0.20),
            ("200001", "7", "2025-09-01", 0.97, 0.05),
            ("200001", "7", "2025-09-08", 0.85, 0.30),
            ("200001", "R", "2025-09-08", 0.93, 0.15),
            ("200002", "9", "2025-09-01", 0.90, 0.25),
        ]
    )
    trends = draw_trends(weekly)
    assert [s.school for s in trends.schools] == ["200001", "200002"]
    (attendance, absent), (second, _) = _panels(trends)
    assert "School 200001: attendance" in _texts(attendance)
    assert "School 200001: persistently absent so far" in _texts(absent)
    # Each line is labelled at its end, in school order (R, 7, 10), not text order; there is no legend box.
    assert [t.text for t in _end_labels(attendance)] == ["YR", "Y7", "Y10"]
    assert [len(line) for line in _lines(attendance)] == [1, 2, 2]
    # Year 7's attendance fell from 97% to 85%: higher on the page (smaller y) in week 1, later on the x axis in week 2.
    (x1, y1), (x2, y2) = _lines(attendance)[1]
    assert x1 < x2
    assert y1 < y2
    # Year 7's persistently absent share rose from 5% to 30%.
    (_, y1), (_, y2) = _lines(absent)[1]
    assert y1 > y2
    assert len(_lines(second)) == 1


def test_year_groups_differ_by_marker_shape_as_well_as_colour() -> None:
    weekly = _weekly([("1", year, "2025-09-01", 0.9, 0.1) for year in ("7", "8", "9")])
    attendance, _ = _panels(draw_trends(weekly))[0]
    kinds = [el.tag.removeprefix(SVG) for el in attendance if el.tag.removeprefix(SVG) in ("circle", "polygon")]
    squares = [el for el in attendance.iter(f"{SVG}rect") if el.attrib.get("width") == "5.6"]
    assert kinds.count("circle") == 1  # Y7
    assert len(squares) == 1  # Y8
    assert kinds.count("polygon") == 1  # Y9: a triangle
    assert len(MARKERS) >= 8


def test_end_labels_never_overlap_and_stay_beside_their_lines() -> None:
    # Four year groups ending at almost the same value: their labels are pushed apart.
    weekly = _weekly([("1", year, "2025-09-01", 0.9 + i * 0.001, 0.1) for i, year in enumerate(("7", "8", "9", "10"))])
    attendance, _ = _panels(draw_trends(weekly))[0]
    heights = sorted(float(t.attrib["y"]) for t in _end_labels(attendance))
    assert all(b - a >= 12.4 for a, b in itertools.pairwise(heights))


def test_no_threshold_line_sits_among_the_year_group_averages() -> None:
    weekly = _weekly([("1", "8", "2025-09-01", 0.80, 0.5), ("1", "8", "2025-09-08", 0.95, 0.5)])
    attendance, absent = _panels(draw_trends(weekly))[0]
    assert not [line for line in attendance.iter(f"{SVG}line") if "stroke-dasharray" in line.attrib]
    assert "% of pupils at or below 90% attendance" in _texts(absent)


def test_a_week_without_a_value_breaks_the_line() -> None:
    weekly = _weekly(
        [
            ("200001", "8", "2025-09-01", 0.9, 0.1),
            ("200001", "8", "2025-09-08", float("nan"), 0.1),
            ("200001", "8", "2025-09-15", 0.8, 0.1),
        ]
    )
    attendance, absent = _panels(draw_trends(weekly))[0]
    assert [len(line) for line in _lines(attendance)] == [1, 1]
    assert [len(line) for line in _lines(absent)] == [3]


def test_text_is_escaped_and_no_marks_gives_no_charts() -> None:
    weekly = _weekly([("<b>&", "8", "2025-09-01", 0.9, 0.1)])
    attendance, _ = _panels(draw_trends(weekly))[0]
    assert "School <b>&: attendance" in _texts(attendance)
    assert "<b>" not in str(draw_trends(weekly).schools[0].attendance)
    assert draw_trends(weekly.iloc[0:0]).schools == ()


@given(
    st.lists(st.floats(0, 300, allow_nan=False), max_size=12),
    st.floats(1, 20),
)
def test_spread_keeps_labels_apart_in_order_and_inside(positions: list[float], gap: float) -> None:
    low, high = 0.0, 300.0 + gap * len(positions)
    placed = spread(positions, gap, low, high)
    assert len(placed) == len(positions)
    ordered = [placed[i] for i in sorted(range(len(positions)), key=lambda i: positions[i])]
    assert all(b - a >= gap - 0.11 for a, b in itertools.pairwise(ordered))
    assert all(low - 0.1 <= p <= high + 0.1 for p in placed)
