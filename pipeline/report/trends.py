"""The report's weekly-trends section: per school, attendance and the persistently absent share by year group.

Each school has two small charts side by side (one above the other on a phone): the year groups' attendance each
week, and the share of their pupils who are persistently absent so far this year. Each year group's line has its
own marker shape as well as its own colour, and is labelled at its right end (no legend box sits over the data).
The charts are SVG written here, to be placed inline in the page (no ids, so two charts cannot clash), not drawn
by matplotlib, which spent about 45 ms on each; matplotlib still chooses the y axis ticks
(:class:`~matplotlib.ticker.MaxNLocator`) and the line colours (its default cycle).

The attendance chart has no 90% line: 90% is the threshold for one pupil (DfE), and a year group's average can sit
above it while many of its pupils are below; the second chart counts those pupils.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
from markupsafe import Markup

WIDTH, HEIGHT = 520, 300
"""Pixels (SVG units) of one panel; the page scales it down to fit a narrow screen."""
LEFT, RIGHT, BOTTOM, TOP = 58, 46, 38, 34
"""Margins around the plot area; the right one holds the year groups' labels."""
MARGIN = 0.05
"""Data padding on each side of an axis, as a share of the data range (as matplotlib pads)."""
PERSISTENT_ABSENCE = 90.0
"""At or below 90% attendance so far this year (missing 10% of sessions or more) a pupil is persistently absent
(DfE)."""
LABEL_GAP = 12.5
"""The least vertical distance, in pixels, between two year groups' end labels."""
MARKERS = ("circle", "square", "triangle", "diamond", "down", "cross", "plus", "bar")
"""Marker shapes, one per year group in turn, so that lines are told apart without colour."""


@dataclass(frozen=True)
class Panel:
    """Where the plot area sits in a chart, in pixels, and the data ranges it shows."""

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


@dataclass(frozen=True)
class SchoolTrends:
    """One school's two charts (inline SVG, every text in them escaped)."""

    school: str
    attendance: Markup
    persistent_absence: Markup


@dataclass(frozen=True)
class Trends:
    """The report section: one pair of charts per school, in school order (empty: no marks this year)."""

    template: ClassVar[str] = "sections/trends.html"
    schools: tuple[SchoolTrends, ...]
    threshold: float = PERSISTENT_ABSENCE


@dataclass(frozen=True)
class Series:
    """One year group's weekly values (NaN where a week has none)."""

    year_group: str
    days: np.ndarray
    values: np.ndarray


def draw_trends(weekly: pd.DataFrame) -> Trends:
    """The weekly-trends section of ``weekly`` (see :func:`pipeline.report.html.weekly_attendance`). Needs no database
    and draws on no matplotlib figure (it reads matplotlib's colour cycle only), so it can run in a worker thread."""
    if weekly.empty:
        return Trends(())
    weeks = sorted(pd.Timestamp(w) for w in weekly["week"].unique())
    every = max(1, -(-len(weeks) // 5))
    ticks = [(_day(w), w.strftime("%d %b")) for w in weeks[::every]]
    span = (_day(weeks[0]), _day(weeks[-1]))
    charts = []
    for school, frame in weekly.groupby("school_id", sort=True):
        groups = sorted(frame.groupby("year_group"), key=lambda pair: _year_order(str(pair[0])))
        days = [np.array([_day(pd.Timestamp(w)) for w in group["week"]]) for _, group in groups]
        attendance = [Series(str(y), d, 100 * g["attendance_rate"].to_numpy(dtype=float))
                      for (y, g), d in zip(groups, days, strict=True)]  # fmt: skip
        absent = [Series(str(y), d, 100 * g["persistent_absence_share"].to_numpy(dtype=float))
                  for (y, g), d in zip(groups, days, strict=True)]  # fmt: skip
        charts.append(
            SchoolTrends(
                str(school),
                panel_chart(f"School {school}: attendance", "% of possible sessions attended", attendance, ticks, span),
                panel_chart(
                    f"School {school}: persistently absent so far",
                    f"% of pupils at or below {PERSISTENT_ABSENCE:g}% attendance",
                    absent,
                    ticks,
                    span,
                ),
            )
        )
    return Trends(tuple(charts))


def panel_chart(
    title: str, label: str, series: Sequence[Series], ticks: Sequence[tuple[float, str]], span: tuple[float, float]
) -> Markup:
    """One chart as an inline SVG element: a line per year group, with its marker shape and its label at the right
    end. ``ticks`` are the x axis ticks (day number, label); ``span`` the first and last week's day numbers."""
    from matplotlib import rcParams
    from matplotlib.colors import to_hex

    colours = [to_hex(colour) for colour in rcParams["axes.prop_cycle"].by_key()["color"]]
    panel = Panel(LEFT, WIDTH - LEFT - RIGHT, _padded(*span), _padded(*_extent([s.values for s in series])))
    out = [
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {WIDTH} {HEIGHT}' role='img' "
        f"aria-label='{_e(title)}' font-family='sans-serif' font-size='12'>"
        f"<title>{_e(title)}</title><rect width='100%' height='100%' fill='white'/>",
        _axes(panel, title, label, ticks),
    ]
    ends: list[tuple[float, str, str]] = []
    for index, row in enumerate(series):
        colour = colours[index % len(colours)]
        marker = MARKERS[index % len(MARKERS)]
        # A week without a value breaks the line, as in matplotlib.
        segments: list[list[tuple[float, float]]] = [[]]
        for x, y in zip(row.days, row.values, strict=True):
            if np.isfinite(y):
                segments[-1].append((panel.x(x), panel.y(y)))
            elif segments[-1]:
                segments.append([])
        points = [point for segment in segments for point in segment]
        for segment in filter(None, segments):
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in segment)
            out.append(f"<polyline points='{path}' fill='none' stroke='{colour}' stroke-width='1.5'/>")
        out.extend(_marker(marker, x, y, colour) for x, y in points)
        if points:
            ends.append((points[-1][1], f"Y{row.year_group}", colour))
    out.extend(_end_labels(panel, ends))
    out.append("</svg>")
    return Markup("".join(out))


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    """A marker of ``shape`` centred on (x, y), about 6 pixels across."""
    if shape == "circle":
        return f"<circle cx='{x:.1f}' cy='{y:.1f}' r='3' fill='{colour}'/>"
    if shape == "square":
        return f"<rect x='{x - 2.8:.1f}' y='{y - 2.8:.1f}' width='5.6' height='5.6' fill='{colour}'/>"
    if shape in ("triangle", "down", "diamond"):
        corners = {
            "triangle": [(0, -3.6), (3.4, 2.6), (-3.4, 2.6)],
            "down": [(0, 3.6), (3.4, -2.6), (-3.4, -2.6)],
            "diamond": [(0, -3.8), (3.4, 0), (0, 3.8), (-3.4, 0)],
        }[shape]
        path = " ".join(f"{x + dx:.1f},{y + dy:.1f}" for dx, dy in corners)
        return f"<polygon points='{path}' fill='{colour}'/>"
    if shape == "bar":
        return f"<rect x='{x - 1.2:.1f}' y='{y - 4:.1f}' width='2.4' height='8' fill='{colour}'/>"
    arms = [(-3, -3, 3, 3), (-3, 3, 3, -3)] if shape == "cross" else [(-3.5, 0, 3.5, 0), (0, -3.5, 0, 3.5)]
    return "".join(
        f"<line x1='{x + a:.1f}' y1='{y + b:.1f}' x2='{x + c:.1f}' y2='{y + d:.1f}' stroke='{colour}' "
        "stroke-width='2'/>"
        for a, b, c, d in arms
    )


def _end_labels(panel: Panel, ends: Sequence[tuple[float, str, str]]) -> list[str]:
    """Each line's name just right of the plot, at the height of its last point, nudged apart so none overlap."""
    placed = spread([y for y, _, _ in ends], LABEL_GAP, TOP, HEIGHT - BOTTOM)
    x = panel.left + panel.width + 5
    return [
        f"<text x='{x:.1f}' y='{y + 4:.1f}' fill='{colour}' font-weight='bold'>{_e(name)}</text>"
        for y, (_, name, colour) in zip(placed, ends, strict=True)
    ]


def spread(positions: Sequence[float], gap: float, low: float, high: float) -> list[float]:
    """``positions`` moved as little as needed to be at least ``gap`` apart, in the input order.

    >>> spread([100, 104, 200], 10, 0, 300)
    [97.0, 107.0, 200.0]
    """
    if not positions:
        return []
    order = sorted(range(len(positions)), key=lambda i: positions[i])
    wanted = [float(positions[i]) for i in order]
    placed = list(wanted)
    # Clusters of labels closer than ``gap`` are centred on their mean, merging with the one above when they meet.
    clusters: list[list[int]] = []
    for index in range(len(placed)):
        clusters.append([index])
        while True:
            last = clusters[-1]
            centre = float(np.mean([wanted[i] for i in last]))
            start = centre - gap * (len(last) - 1) / 2
            start = min(max(start, low), high - gap * (len(last) - 1))
            for offset, i in enumerate(last):
                placed[i] = start + offset * gap
            if len(clusters) > 1 and placed[clusters[-2][-1]] + gap > placed[last[0]]:
                clusters[-2].extend(clusters.pop())
                continue
            break
    result = [0.0] * len(positions)
    for rank, i in enumerate(order):
        result[i] = round(placed[rank], 1)
    return result


def _axes(panel: Panel, title: str, label: str, ticks: Sequence[tuple[float, str]]) -> str:
    """A panel's frame, its ticks and their labels, light grid lines, its title and its y axis label."""
    from matplotlib.ticker import MaxNLocator

    top, bottom = TOP, HEIGHT - BOTTOM
    right = panel.left + panel.width
    out = []
    low, high = panel.y_range
    for value in MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]).tick_values(low, high):
        if low <= value <= high:
            y = panel.y(value)
            out.append(f"<line x1='{panel.left:.1f}' x2='{right:.1f}' y1='{y:.1f}' y2='{y:.1f}' stroke='#e4e4e4'/>")
            out.append(f"<text x='{panel.left - 6:.1f}' y='{y + 4:.1f}' text-anchor='end'>{value:g}</text>")
    out.append(f"<rect x='{panel.left:.1f}' y='{top}' width='{panel.width:.1f}' height='{bottom - top}' fill='none' "
               "stroke='#444' stroke-width='0.8'/>")  # fmt: skip
    for day, text in ticks:
        x = panel.x(day)
        out.append(f"<line x1='{x:.1f}' x2='{x:.1f}' y1='{bottom}' y2='{bottom + 4}' stroke='#444'/>")
        out.append(f"<text x='{x:.1f}' y='{bottom + 16}' text-anchor='middle'>{_e(text)}</text>")
    middle = (top + bottom) / 2
    out.append(f"<text x='{panel.left}' y='{top - 12}' font-size='14' font-weight='bold'>{_e(title)}</text>")
    out.append(f"<text transform='translate({panel.left - 38:.1f} {middle:.1f}) rotate(-90)' text-anchor='middle'>"
               f"{_e(label)}</text>")  # fmt: skip
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
