"""The SQL files of every stage, read in one way.

Each stage keeps its SQL in a ``sql/`` folder beside its code (``pipeline/features/sql/``, ...) and reads it with
:func:`sql_file`. A file may import a shared expression from this folder, such as the grade scale, as a Jinja2
macro (as dbt does), so that a rule stated once is used everywhere::

    {% from "grades.sql" import grade -%}
    select {{ grade("a.result") }} as grade from assessments as a

SQL built in code (ingest's row checks) uses the same macros through :func:`sql_macro`.

Rendering only expands such macros: data never goes into SQL text (values are bound as parameters), and a file with
no Jinja2 markup reads exactly as written. The result is plain SQL that DuckDB runs and sqlglot can translate for
Spark.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib.resources import files

import jinja2

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("pipeline", "sql"),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,  # SQL, not HTML; nothing rendered here comes from data
)


@cache
def sql_file(package: str, name: str) -> str:
    """The SQL of ``<package>/sql/<name>`` (``name`` with its ``.sql``), its shared macros expanded."""
    return render_sql((files(package) / "sql" / name).read_text(encoding="utf-8"))


def render_sql(text: str) -> str:
    """``text`` with the shared macros it imports expanded (see the module notes)."""
    return _ENVIRONMENT.from_string(text).render()


def sql_macro(file: str, name: str) -> Callable[..., str]:
    """The shared macro ``name`` of ``file`` as a function of SQL expressions, for SQL built in code:
    ``sql_macro("grades.sql", "whole_number")("t.sessions")`` is the macro's SQL for the column ``t.sessions``.
    Its arguments are SQL (column names, expressions), never data."""
    macro = getattr(_ENVIRONMENT.get_template(file).module, name)

    def expand(*expressions: str) -> str:
        return str(macro(*expressions))

    return expand


def sql_string(text: str) -> str:
    """``text`` as a SQL string literal, its quotes doubled: for our own words and names put into SQL (a file path,
    which DuckDB's ATTACH and LOAD do not take as a parameter; a contract's words). Data goes in as parameters."""
    return "'" + text.replace("'", "''") + "'"
