"""Jinja2 templates of the pages the pipeline writes: report.html and the model card (``templates/`` in this package).

Autoescaping is on for every template except Markdown ones (``.md``), so a value from the data cannot add markup
to an HTML page; Markdown templates escape table cells with the ``cell`` filter instead. Charts are the only
pre-rendered markup (:class:`markupsafe.Markup`, built by code that escapes every text it places). Undefined
variables are errors, so a misspelt name in a template fails a test instead of printing nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

if TYPE_CHECKING:
    import pandas as pd

TEMPLATES = Path(__file__).with_name("templates")


@cache
def environment() -> jinja2.Environment:
    """The templates' environment (one per process; Jinja2 caches the compiled templates in it)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), disabled_extensions=("md",), default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["cell"] = markdown_cell
    env.filters["thousands"] = thousands
    return env


def render(template: str, **context: Any) -> str:
    """``template`` (a name under ``templates/``) rendered with ``context``."""
    return environment().get_template(template).render(**context)


def markdown_cell(value: object) -> str:
    """A value made safe for one cell of a Markdown table: pipes escaped, line breaks and HTML tags made text.

    >>> markdown_cell("a | b\\n<script>")
    'a \\\\| b &lt;script&gt;'
    """
    text = " ".join(str(value).split())
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def thousands(value: object) -> str:
    """A whole number with thousands separators (``12,345``); anything else as text.

    >>> thousands(12345), thousands(None)
    ('12,345', '')
    """
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:,.0f}"
    return str(value)


@dataclass(frozen=True)
class MarkdownTable:
    """A table for a Markdown template: column names and rows of values (each shown as ``str(value)``; a missing
    value as a blank cell)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]

    @classmethod
    def of(cls, frame: pd.DataFrame) -> MarkdownTable:
        rows = frame.astype(object).where(frame.notna(), "")
        return cls(tuple(str(c) for c in frame.columns), tuple(tuple(row) for row in rows.itertuples(index=False)))
