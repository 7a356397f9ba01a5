"""The report's weekly-trends section: per school, attendance and the persistently absent share by year group.

Each school's chart is a small SVG written here, not drawn by matplotlib: a trust's report has one per school, and
matplotlib spent about 45 ms on each (laying out every tick label and title again, and emitting every marker), 2.2 s
of CPU a night at 50 schools, against about 1 ms here. matplotlib still chooses the y axis ticks
(:class:`~matplotlib.ticker.MaxNLocator`) and the line colours (its default cycle), so the charts look as they did.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

WIDTH, HEIGHT = 1200, 340
"""Pixels of one school's chart (two panels side by side)."""
LEFT, RIGHT, BOTTOM, TOP, GAP = 72, 12, 40, 36, 0.18
"""Margins in pixels around the two panels, and the gap between them as a share of a panel's width."""
MARGIN = 0.05
"""Data padding on each side of an axis, as a share of the data range (as matplotlib pads)."""
PERSISTENT_ABSENCE_LINE = 90.0
"""Below 90% attendance a pupil is persistently absent (DfE); the left panel shows the line."""


@dataclass(frozen=True)
class Panel:
    """Where a panel sits in the chart, in pixels, and the data ranges it shows."""

    left: float
    width: float
    x_range: tuple[float, float]
    y_range: tuple[float, float]

    def x(self, value: float) -> float:
        low, high = self.x_range
        return self.left + (value - low) / (high - low) * self.width

    def y(self, value: float) -> float:
        low, high = self.y_range
        return TOP + (high - value) / (high - low) * (HEIGHT - TOP - BOTTOM)


def draw_trends(weekly: pd.DataFrame) -> str:
    """The weekly-trends section of ``weekly`` (see :func:`pipeline.report.html.weekly_attendance`): two charts per
    school. Needs no database and draws on no matplotlib figure (it reads matplotlib's colour cycle only), so it can
    run in a worker thread."""
    if weekly.empty:
        return "<section><h2>Attendance by week</h2><p>No marks this academic year.</p></section>"
    parts = ["<section><h2>Attendance and persistent absence by week, this academic year</h2>"]
    weeks = sorted(pd.Timestamp(w) for w in weekly["week"].unique())
    every = max(1, len(weeks) // 8)
    ticks = [(_day(w), w.strftime("%d %b")) for w in weeks[::every]]
    for school, frame in weekly.groupby("school_id", sort=True):
        svg = school_chart(str(school), frame, ticks, (_day(weeks[0]), _day(weeks[-1])))
        data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
        alt = _e(f"Attendance and persistent absence by week for school {school}")
        parts.append(f"<img alt='{alt}' src='data:image/svg+xml;base64,{data}'>")
    parts.append("<p>The dashed line is 90%: below it a pupil is persistently absent (DfE).</p></section>")
    return "".join(parts)


def school_chart(
    school: str, frame: pd.DataFrame, ticks: Sequence[tuple[float, str]], weeks: tuple[float, float]
) -> str:
    """One school's chart as an SVG document: attendance % (left) and the persistently absent share (right) per
    year group and week. ``ticks`` are the x axis ticks (day number, label); ``weeks`` the first and last week."""
    from matplotlib import rcParams
    from matplotlib.colors import to_hex

    colours = [to_hex(colour) for colour in rcParams["axes.prop_cycle"].by_key()["color"]]
    groups = sorted(frame.groupby("year_group"), key=lambda pair: _year_order(str(pair[0])))
    series = [
        (
            str(year),
            np.array([_day(pd.Timestamp(w)) for w in group["week"]]),
            100 * group["attendance_rate"].to_numpy(dtype=float),
            100 * group["persistent_absence_share"].to_numpy(dtype=float),
        )
        for year, group in groups
    ]
    width = (WIDTH - LEFT - RIGHT) / (2 + GAP)
    x_range = _padded(*weeks)
    attendance = [values for _, _, values, _ in series] + [np.array([PERSISTENT_ABSENCE_LINE])]
    absence = [values for _, _, _, values in series]
    left = Panel(LEFT, width, x_range, _padded(*_extent(attendance)))
    right = Panel(LEFT + width * (1 + GAP), width, x_range, _padded(*_extent(absence)))
    out = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{WIDTH}' height='{HEIGHT}' viewBox='0 0 {WIDTH} {HEIGHT}' "
        "font-family='sans-serif' font-size='10'><rect width='100%' height='100%' fill='white'/>"
    ]
    for panel, title, label, column in (
        (left, f"School {school}: attendance %", "% of possible sessions", 2),
        (right, f"School {school}: persistently absent so far this year", "% of pupils", 3),
    ):
        out.append(_axes(panel, title, label, ticks))
        if panel is left:
            y = panel.y(PERSISTENT_ABSENCE_LINE)
            out.append(
                f"<line x1='{panel.left:.1f}' x2='{panel.left + panel.width:.1f}' y1='{y:.1f}' y2='{y:.1f}' "
                "stroke='grey' stroke-dasharray='5 3'/>"
            )
        for index, row in enumerate(series):
            colour = colours[index % len(colours)]
            # A week without a value breaks the line, as in matplotlib.
            segments: list[list[tuple[str, str]]] = [[]]
            for x, y in zip(row[1], row[column], strict=True):
                if np.isfinite(y):
                    segments[-1].append((f"{panel.x(x):.1f}", f"{panel.y(y):.1f}"))
                elif segments[-1]:
                    segments.append([])
            for points in filter(None, segments):
                path = " ".join(f"{x},{y}" for x, y in points)
                out.append(f"<polyline points='{path}' fill='none' stroke='{colour}' stroke-width='1.5'/>")
                out.extend(f"<circle cx='{x}' cy='{y}' r='2.5' fill='{colour}'/>" for x, y in points)
    out.append(_legend(left, [name for name, *_ in series], colours))
    out.append("</svg>")
    return "".join(out)


def _axes(panel: Panel, title: str, label: str, ticks: Sequence[tuple[float, str]]) -> str:
    """A panel's frame, its ticks and their labels, its title and its y axis label."""
    from matplotlib.ticker import MaxNLocator

    top, bottom = TOP, HEIGHT - BOTTOM
    right = panel.left + panel.width
    out = [f"<rect x='{panel.left:.1f}' y='{top}' width='{panel.width:.1f}' height='{bottom - top}' fill='none' "
           "stroke='black' stroke-width='0.8'/>"]  # fmt: skip
    for day, text in ticks:
        x = panel.x(day)
        out.append(f"<line x1='{x:.1f}' x2='{x:.1f}' y1='{bottom}' y2='{bottom + 4}' stroke='black'/>")
        out.append(f"<text x='{x:.1f}' y='{bottom + 15}' text-anchor='middle' font-size='9'>{_e(text)}</text>")
    low, high = panel.y_range
    for value in MaxNLocator(nbins="auto", steps=[1, 2, 2.5, 5, 10]).tick_values(low, high):
        if low <= value <= high:
            y = panel.y(value)
            out.append(
                f"<line x1='{panel.left - 4:.1f}' x2='{panel.left:.1f}' y1='{y:.1f}' y2='{y:.1f}' stroke='black'/>"
            )
            out.append(f"<text x='{panel.left - 6:.1f}' y='{y + 3.5:.1f}' text-anchor='end'>{value:g}</text>")
    middle = (top + bottom) / 2
    out.append(f"<text x='{(panel.left + right) / 2:.1f}' y='{top - 10}' text-anchor='middle' font-size='12'>"
               f"{_e(title)}</text>")  # fmt: skip
    out.append(f"<text transform='translate({panel.left - 44:.1f} {middle:.1f}) rotate(-90)' text-anchor='middle'>"
               f"{_e(label)}</text>")  # fmt: skip
    return "".join(out)


def _legend(panel: Panel, names: Sequence[str], colours: Sequence[str]) -> str:
    """Year groups in four columns at the lower left of ``panel``, on a white box."""
    columns, row_height, column_width = 4, 14, 52
    rows = -(-len(names) // columns)
    left, top = panel.left + 8, HEIGHT - BOTTOM - 8 - rows * row_height - 6
    out = [f"<rect x='{left}' y='{top}' width='{min(len(names), columns) * column_width + 8}' "
           f"height='{rows * row_height + 6}' fill='white' fill-opacity='0.8' stroke='#ccc'/>"]  # fmt: skip
    for index, name in enumerate(names):
        x = left + 6 + (index % columns) * column_width
        y = top + 3 + (index // columns) * row_height + row_height / 2
        colour = colours[index % len(colours)]
        out.append(f"<line x1='{x}' x2='{x + 16}' y1='{y}' y2='{y}' stroke='{colour}' stroke-width='1.5'/>")
        out.append(f"<circle cx='{x + 8}' cy='{y}' r='2.5' fill='{colour}'/>")
        out.append(f"<text x='{x + 20}' y='{y + 3.5}' font-size='9'>Y{_e(name)}</text>")
    return "".join(out)


def _extent(arrays: Sequence[np.ndarray]) -> tuple[float, float]:
    """The smallest and largest finite value of ``arrays`` (0 to 100 if there is none)."""
    values = np.concatenate([a[np.isfinite(a)] for a in arrays]) if arrays else np.zeros(0)
    return (float(values.min()), float(values.max())) if values.size else (0.0, 100.0)


def _padded(low: float, high: float) -> tuple[float, float]:
    """``low`` to ``high`` widened by :data:`MARGIN` each side (by one unit each side when they are equal)."""
    pad = (high - low) * MARGIN or 1.0
    return low - pad, high + pad


def _day(week: pd.Timestamp) -> float:
    """A date as a number of days, for the x axis."""
    return float(week.toordinal())


def _year_order(year_group: str) -> tuple[int, str]:
    """Year groups in school order (R, 1, 2, ..., 13), not text order (10 before 7)."""
    return (int(year_group), "") if year_group.isdigit() else (-1, year_group)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)
