"""Small SQL building blocks shared by the segment compiler: literals, comparisons, JSON
properties, and the predicate forms every condition compiles to."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlglot import exp

from segmint.segments.model import (
    PropertyFilter,
)
from segmint.segments.timeutil import (
    timestamp_literal,
)

P = "p"  # alias of the profiles table in every compiled query
PROFILE_ID = "profile_id"


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def lit(value: Any) -> exp.Expr:
    """A literal for a Python scalar."""
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | float):
        return exp.Literal.number(repr(value) if isinstance(value, float) else value)
    if isinstance(value, datetime):
        return timestamp_literal(value)
    return exp.Literal.string(str(value))


def compare(op: str, left: exp.Expr, value: Any) -> exp.Expr:
    """``left <op> value`` for the numeric operators (eq, neq, gt, gte, lt, lte, between)."""
    if op == "between":
        low, high = value
        return exp.Between(this=left, low=as_expr(low), high=as_expr(high))
    right = as_expr(value)
    cls = {
        "eq": exp.EQ,
        "neq": exp.NEQ,
        "gt": exp.GT,
        "gte": exp.GTE,
        "lt": exp.LT,
        "lte": exp.LTE,
    }[op]
    return cls(this=left, expression=right)


def as_expr(value: Any) -> exp.Expr:
    return value if isinstance(value, exp.Expr) else lit(value)


def passes(op: str, measured: float, value: Any) -> bool:
    """Whether a measure passes a numeric comparison, in Python (for the zero shortcut)."""
    if op == "between":
        return bool(value[0] <= measured <= value[1])
    return {
        "eq": measured == value,
        "neq": measured != value,
        "gt": measured > value,
        "gte": measured >= value,
        "lt": measured < value,
        "lte": measured <= value,
    }[op]


def false_if_null(predicate: exp.Expr) -> exp.Expr:
    return exp.func("COALESCE", exp.paren(predicate), exp.false())


def in_profiles(query: exp.Query) -> exp.Expr:
    return exp.In(this=col(PROFILE_ID, P), query=exp.Subquery(this=query))


def lower_texts(values: Sequence[Any]) -> list[exp.Expr]:
    return [exp.Literal.string(str(v).lower()) for v in values]


def case(condition: exp.Expr, then: exp.Expr, otherwise: exp.Expr) -> exp.Case:
    return exp.Case().when(condition, then).else_(otherwise)


def ratio(numerator: exp.Expr, denominator: exp.Expr) -> exp.Expr:
    """numerator / denominator as a double, NULL when the denominator is 0."""
    return exp.Div(
        this=exp.cast(numerator, exp.DataType.build("DOUBLE")),
        expression=exp.func("NULLIF", denominator, exp.Literal.number(0)),
    )


def status_filter(column: exp.Expr, statuses: Sequence[str]) -> exp.Expr:
    # An order without a status is a completed one (many exports leave it empty).
    return exp.In(
        this=exp.Lower(this=exp.func("COALESCE", column, exp.Literal.string("completed"))),
        expressions=lower_texts(statuses),
    )


#: How each dialect reads a JSON object stored as text before a path lookup. DuckDB's TRY_CAST
#: keeps one event with malformed JSON from failing a whole segment; Postgres needs a JSON value;
#: Spark, BigQuery and Snowflake read paths straight from the text.
JSON_DOCUMENT: dict[str, Callable[[exp.Expr], exp.Expr]] = {
    "duckdb": lambda e: exp.TryCast(this=e, to=exp.DataType.build("JSON")),
    "postgres": lambda e: exp.cast(e, exp.DataType.build("JSON")),
}


def json_value(path: str, alias: str, dialect: str = "duckdb") -> exp.Expr:
    """The text of a property (``category``) or context value (``context.page.path``)."""
    parts = path.split(".")
    column = "properties"
    if parts[0] == "context" and len(parts) > 1:
        column, parts = "context", parts[1:]
    steps: list[exp.Expr] = [exp.JSONPathRoot()]
    for part in parts:
        steps.append(
            exp.JSONPathSubscript(this=int(part)) if part.isdigit() else exp.JSONPathKey(this=part)
        )
    document = JSON_DOCUMENT.get(dialect, lambda e: e)(col(column, alias))
    return exp.JSONExtractScalar(this=document, expression=exp.JSONPath(expressions=steps))


def property_predicate(f: PropertyFilter, alias: str, dialect: str = "duckdb") -> exp.Expr:
    """A two-valued test of one event property."""
    raw = json_value(f.property, alias, dialect)
    if f.op == "is_set":
        return exp.not_(exp.Is(this=raw, expression=exp.Null()))
    if f.op == "is_not_set":
        return exp.Is(this=raw, expression=exp.Null())
    values = f.value if isinstance(f.value, list) else [f.value]
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    subject: exp.Expr
    if numeric:
        subject = exp.TryCast(this=raw, to=exp.DataType.build("DOUBLE"))
        items = [lit(v) for v in values]
    else:
        subject = exp.Lower(this=raw)
        items = [exp.Literal.string(_text(v).lower()) for v in values]
    if f.op in ("in", "not_in"):
        test: exp.Expr = exp.In(this=subject, expressions=items)
        if f.op == "not_in":
            test = exp.not_(test)
    elif f.op == "contains":
        test = exp.GT(
            this=exp.StrPosition(this=subject, substr=items[0]), expression=exp.Literal.number(0)
        )
    elif f.op == "between":
        test = exp.Between(this=subject, low=items[0], high=items[1])
    else:
        test = compare(f.op, subject, items[0])
    return false_if_null(test)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
