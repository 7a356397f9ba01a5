"""The feature SQL models, written for DuckDB, translated to Spark SQL with sqlglot at run time.

``pipeline/features/sql/`` stays the only definition of a feature. sqlglot translates most of it; the rewrites here
fix the places where the two engines share a name but not a meaning (or Spark 3.5 lacks a function), each one
proven by the tests in ``tests/spark`` that compare every model's Spark result with DuckDB's on the sample:

- ``dayofweek``: DuckDB counts Sunday as 0, Spark as 1.
- ``datediff('month', a, b)``: DuckDB counts month boundaries crossed; Spark counts whole months elapsed.
- ``date - lag(date) over (...)``: days in DuckDB, an interval in Spark; ``datediff`` gives the days.
- ``regexp_full_match``: not in Spark; ``rlike`` with the pattern anchored at both ends, the end by ``\\z``: Java's
  ``$`` also matches before a last line break, so ``"12\\n"`` would pass for ``"12"``.
- ``arg_max(x, key)``: DuckDB skips rows where ``x`` is NULL, Spark's ``max_by`` does not; ``arg_max_null`` keeps
  them in both (a tuple key becomes a struct, which Spark orders field by field as DuckDB orders tuples).
- ``string_agg(distinct x, sep order by x)``: Spark 3.5 has no ``listagg``; the sorted set joined by ``sep``
  (NULL when there is nothing to join, as in DuckDB).
- an aggregate with ``filter (where ...)`` used as a window: Spark refuses the filter there; ``case`` inside.
- a decimal literal divided or dividing (``1.0 / 3``): DuckDB divides in double precision, Spark in decimals of
  limited scale (0.333333); the literal is made a double.
- ``w.*`` of a table joined ``using (school_id)`` beside ``b.school_id``: DuckDB lets the two equal columns share a
  name, Spark calls the name ambiguous; the star is expanded (from the CTE's own columns) without the repeat.

Parameters (``$as_of``) become Spark's named parameter markers (``:as_of``), bound by ``spark.sql(..., args=)``.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

READ = "duckdb"
WRITE = "spark"


def to_spark(sql: str) -> str:
    """One DuckDB statement as Spark SQL (comments dropped)."""
    tree = sqlglot.parse_one(sql, read=READ)
    _expand_stars_beside_using_keys(tree)
    return _translated(tree).sql(dialect=WRITE, comments=False)


def _translated(tree: exp.Expr) -> exp.Expr:
    """``tree`` with every construct rewritten innermost first (reversed pre-order: a node's descendants come before
    it), so a rewrite that wraps an expression (``arg_max``'s NULL guard, a filter moved inside) wraps it already
    translated; a rewritten node is not visited again."""
    for node in reversed(list(tree.dfs())):
        new = _rewrite(node)
        if new is node:
            continue
        if node is tree:
            tree = new
        else:
            node.replace(new)
    return tree


def _rewrite(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.Div):
        return exp.Div(this=_as_double(node.this), expression=_as_double(node.expression))
    if isinstance(node, exp.DayOfWeek):
        return exp.Paren(this=exp.Sub(this=node.copy(), expression=exp.Literal.number(1)))
    if isinstance(node, exp.DateDiff) and node.args.get("date_part_boundary"):
        return _boundary_datediff(node)
    if isinstance(node, exp.Sub) and _is_lag_of(node.expression, node.this):
        return exp.DateDiff(this=node.this.copy(), expression=node.expression.copy())
    if isinstance(node, exp.RegexpFullMatch):
        pattern = node.expression
        if not isinstance(pattern, exp.Literal) or not pattern.is_string:
            raise ValueError(f"regexp_full_match needs a literal pattern to translate: {node.sql(READ)}")
        anchored = exp.Literal.string(f"^(?:{pattern.this})\\z")
        return exp.RegexpLike(this=node.this.copy(), expression=anchored)
    if isinstance(node, exp.ArgMax) and not isinstance(node.parent, exp.Filter):
        return _arg_max_skipping_null(node)
    if isinstance(node, exp.Filter) and isinstance(node.this, exp.ArgMax):
        return exp.Filter(this=_arg_max_skipping_null(node.this), expression=node.expression.copy())
    if isinstance(node, exp.Anonymous) and node.name.lower() == "arg_max_null":
        value, key = node.expressions
        return exp.ArgMax(this=value.copy(), expression=_struct_of(key))
    if isinstance(node, exp.GroupConcat):
        return _sorted_distinct_join(node)
    if isinstance(node, exp.Window) and isinstance(node.this, exp.Filter):
        window = node.copy()
        window.set("this", _filter_inside(node.this))
        return window
    return node


def _boundary_datediff(node: exp.DateDiff) -> exp.Expr:
    """``datediff('month', a, b)`` counting month boundaries: 12 * (year(b) - year(a)) + month(b) - month(a)."""
    unit = node.text("unit").upper()
    if unit != "MONTH":
        raise ValueError(f"datediff by {unit} is not translated to Spark yet")
    end, start = node.this, node.expression
    years = exp.Sub(this=exp.Year(this=end.copy()), expression=exp.Year(this=start.copy()))
    months = exp.Sub(this=exp.Month(this=end.copy()), expression=exp.Month(this=start.copy()))
    return exp.Paren(
        this=exp.Add(this=exp.Mul(this=exp.Literal.number(12), expression=exp.Paren(this=years)), expression=months)
    )


def _is_lag_of(node: exp.Expr, column: exp.Expr) -> bool:
    return (
        isinstance(node, exp.Window)
        and isinstance(node.this, exp.Lag)
        and isinstance(column, exp.Column)
        and node.this.this == column
    )


def _arg_max_skipping_null(node: exp.ArgMax) -> exp.Expr:
    """``arg_max(x, key)`` as DuckDB means it: ``max_by(x, case when x is not null then key end)``."""
    value, key = node.this, node.expression
    if isinstance(key, exp.Struct):  # already rewritten from arg_max_null: NULL values are kept
        return node
    guarded = exp.Case(
        ifs=[exp.If(this=exp.Not(this=exp.Is(this=value.copy(), expression=exp.Null())), true=key.copy())]
    )
    return exp.ArgMax(this=value.copy(), expression=guarded)


def _struct_of(key: exp.Expr) -> exp.Expr:
    if isinstance(key, exp.Tuple):
        return exp.Struct(expressions=[e.copy() for e in key.expressions])
    return key.copy()


def _sorted_distinct_join(node: exp.GroupConcat) -> exp.Expr:
    """``string_agg(distinct x, sep order by x)`` as ``array_join(array_sort(collect_set(x)), sep)``."""
    inner = node.this
    order = inner if isinstance(inner, exp.Order) else None
    distinct = order.this if order is not None else inner
    if not isinstance(distinct, exp.Distinct) or len(distinct.expressions) != 1:
        raise ValueError(f"only string_agg(distinct x, sep order by x) is translated: {node.sql(READ)}")
    value = distinct.expressions[0]
    if order is not None and [o.this for o in order.expressions] != [value]:
        raise ValueError(f"string_agg must be ordered by the value it joins: {node.sql(READ)}")
    separator = node.args.get("separator") or exp.Literal.string(",")
    collected = exp.Anonymous(this="collect_set", expressions=[value.copy()])
    joined = exp.Anonymous(
        this="array_join",
        expressions=[exp.Anonymous(this="array_sort", expressions=[collected]), separator.copy()],
    )
    nothing = exp.EQ(this=exp.Count(this=value.copy()), expression=exp.Literal.number(0))
    return exp.Case(ifs=[exp.If(this=nothing, true=exp.Null())], default=joined)


def _filter_inside(node: exp.Filter) -> exp.Expr:
    """``agg(x) filter (where c)`` as ``agg(case when c then x end)``; ``count(*)`` counts ``case when c then 1``."""
    aggregate: exp.Expr = node.this.copy()
    condition = node.expression.this.copy()
    argument = aggregate.this
    kept = exp.Literal.number(1) if isinstance(argument, exp.Star) else argument
    aggregate.set("this", exp.Case(ifs=[exp.If(this=condition, true=kept.copy())]))
    return aggregate


def _as_double(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.Literal) and not node.is_string and not node.is_int:
        return exp.cast(node.copy(), exp.DataType.Type.DOUBLE)
    return node.copy()


def _expand_stars_beside_using_keys(tree: exp.Expr) -> None:
    """In a select joining ``using (keys)``, ``w.*`` becomes w's columns but the keys the select names already."""
    ctes = {cte.alias_or_name: cte.this for cte in tree.find_all(exp.CTE)}
    for select in list(tree.find_all(exp.Select)):
        keys = {key.name for join in select.args.get("joins") or [] for key in join.args.get("using") or []}
        if not keys:
            continue
        named = {e.alias_or_name for e in select.selects if not isinstance(e, exp.Column) or not e.is_star}
        if not keys & named:  # no key is named beside the star: nothing is repeated
            continue
        projections: list[exp.Expr] = []
        for projection in select.selects:
            if not (isinstance(projection, exp.Column) and projection.is_star and projection.table):
                projections.append(projection)
                continue
            source = _source_of(select, projection.table)
            if source not in ctes or any(e.alias_or_name == "*" for e in ctes[source].selects):
                raise ValueError(f"cannot expand {projection.sql(READ)}: name its columns in the model")
            columns = [e.alias_or_name for e in ctes[source].selects]
            projections.extend(exp.column(c, table=projection.table) for c in columns if not (c in keys and c in named))
        select.set("expressions", projections)


def _source_of(select: exp.Select, alias: str) -> str:
    """The table or CTE name behind ``alias`` in a select's from and joins."""
    origin = select.args.get("from_") or select.args.get("from")
    if origin is None:
        raise ValueError(f"no from in {select.sql(READ)}")
    sources = [origin.this, *(join.this for join in select.args.get("joins") or [])]
    for source in sources:
        if isinstance(source, exp.Table) and source.alias_or_name == alias:
            return source.name
    raise ValueError(f"no table {alias} in {select.sql(READ)}")
