"""The report's weekly-trend charts: what each school's SVG shows, from a small literal frame."""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd

from pipeline.report.trends import draw_trends

SVG = "{http://www.w3.org/2000/svg}"


def _weekly(rows: list[tuple[str, str, str, float, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=["school_id", "year_group", "week", "attendance_rate", "persistent_absence_share"]
    )
    frame["week"] = pd.to_datetime(frame["week"])
    return frame


def _charts(section: str) -> list[ET.Element]:
    """Each school's chart, parsed (which also proves it is well-formed XML)."""
    encoded = re.findall(r"src='data:image/svg\+xml;base64,([^']+)'", section)
    return [ET.fromstring(base64.b64decode(data)) for data in encoded]


def _lines(chart: ET.Element) -> list[list[tuple[float, float]]]:
    return [
        [tuple(float(v) for v in point.split(",")) for point in line.attrib["points"].split()]  # type: ignore[misc]
        for line in chart.iter(f"{SVG}polyline")
    ]


def test_one_chart_per_school_with_a_line_per_year_group_in_each_panel() -> None:
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
    section = draw_trends(weekly)
    first, second = _charts(section)
    texts = [t.text for t in first.iter(f"{SVG}text")]
    assert "School 200001: attendance %" in texts
    assert "School 200001: persistently absent so far this year" in texts
    # The legend lists the year groups in school order, not text order.
    assert [t for t in texts if t and t.startswith("Y")] == ["YR", "Y7", "Y10"]
    lines = _lines(first)
    assert [len(line) for line in lines] == [1, 2, 2, 1, 2, 2]  # R, 7, 10 on the left, then on the right
    # Year 7's attendance fell from 97% to 85%: higher on the page (smaller y) in week 1, later on the x axis in week 2.
    (x1, y1), (x2, y2) = lines[1]
    assert x1 < x2
    assert y1 < y2
    # Year 7's persistently absent share rose from 5% to 30%.
    (_, y1), (_, y2) = lines[4]
    assert y1 > y2
    assert len(_lines(second)) == 2
    assert "The dashed line is 90%" in section


def test_the_90_percent_line_sits_between_the_values_around_it() -> None:
    weekly = _weekly([("200001", "8", "2025-09-01", 0.80, 0.5), ("200001", "8", "2025-09-08", 0.95, 0.5)])
    (chart,) = _charts(draw_trends(weekly))
    dashed = [line for line in chart.iter(f"{SVG}line") if "stroke-dasharray" in line.attrib]
    assert len(dashed) == 1
    (_, low), (_, high) = _lines(chart)[0]  # 80% then 95%
    assert high < float(dashed[0].attrib["y1"]) < low
    # 90% is two thirds of the way from 80% to 95%.
    assert np.isclose((low - float(dashed[0].attrib["y1"])) / (low - high), 10 / 15, atol=0.01)


def test_a_week_without_a_value_breaks_the_line() -> None:
    weekly = _weekly(
        [
            ("200001", "8", "2025-09-01", 0.9, 0.1),
            ("200001", "8", "2025-09-08", float("nan"), 0.1),
            ("200001", "8", "2025-09-15", 0.8, 0.1),
        ]
    )
    (chart,) = _charts(draw_trends(weekly))
    assert [len(line) for line in _lines(chart)] == [1, 1, 3]


def test_text_is_escaped_and_no_marks_says_so() -> None:
    weekly = _weekly([("<b>&", "8", "2025-09-01", 0.9, 0.1)])
    section = draw_trends(weekly)
    (chart,) = _charts(section)
    assert "School <b>&: attendance %" in [t.text for t in chart.iter(f"{SVG}text")]
    assert "<b>" not in re.sub(r"data:[^']+", "", section)
    assert "No marks this academic year" in draw_trends(weekly.iloc[0:0])
