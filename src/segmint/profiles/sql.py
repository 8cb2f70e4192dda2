"""Readable SQL for the profile build, kept as sqlglot expressions.

The profile statements are long, so they are written as SQL text in DuckDB's dialect (using
only constructs sqlglot translates to other dialects; a test renders every statement for
PostgreSQL and Spark), parsed into sqlglot expressions and run by the engine, which renders
them in its own dialect. Table names are validated identifiers filled in with ``{name}``;
values are bound as ``:name`` placeholders and become typed literals; lists of names become
``IN`` lists through :func:`in_list`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlglot import exp

from segmint.engines.base import Engine, parse_sql
from segmint.model.tables import ColumnType
from segmint.profiles.catalogue import Trait
from segmint.profiles.types import ProfilesError

_PREFIX = re.compile(r"^[a-z][a-z0-9_]*$")
_PART = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def statement(template: str, names: Mapping[str, str], **values: Any) -> exp.Expression:
    """Parse ``template`` with ``{name}`` parts filled in and ``:name`` values bound.

    Parts are substituted in one pass, so SQL text put in by a part (a sub-query, an ``IN``
    list) is never scanned for further parts; an unknown ``{name}`` is an error.
    """

    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in names:
            raise ValueError(f"unknown SQL template part {{{key}}}")
        return names[key]

    parsed = parse_sql(_PART.sub(fill, template))
    if values:
        bound = {k: literal(v) for k, v in values.items()}
        parsed = cast(exp.Expression, exp.replace_placeholders(parsed, **bound))
    missing = sorted({p.name for p in parsed.find_all(exp.Placeholder)})
    if missing:
        raise ValueError(f"unbound SQL placeholders: {', '.join(missing)}")
    return parsed


def literal(value: Any) -> exp.Expression:
    """A typed SQL literal for a Python value (timestamps and dates become casts)."""
    if isinstance(value, exp.Expression):
        return value
    if isinstance(value, datetime):
        text = value.isoformat(sep=" ", timespec="microseconds")
        return exp.cast(exp.Literal.string(text), exp.DataType(this=exp.DataType.Type.TIMESTAMP))
    if isinstance(value, date):
        return exp.cast(
            exp.Literal.string(value.isoformat()), exp.DataType(this=exp.DataType.Type.DATE)
        )
    return cast(exp.Expression, exp.convert(value))


def in_list(values: Iterable[str]) -> str:
    """SQL text of a list of string literals, for ``x IN ({names})`` in a template."""
    items = [exp.Literal.string(v).sql(dialect="duckdb") for v in values]
    return ", ".join(items) if items else "NULL"


def typed_columns(engine: Engine, columns: Sequence[Trait], source: str = "") -> str:
    """SQL text of a SELECT list casting each column to its catalogue type, in order.

    ``source`` is an expression per column name (``{name}`` is the column itself); by default
    each column is selected by its name.
    """
    selected = []
    for column in columns:
        key = (type(engine), column.type)
        if key not in _TYPE_SQL:
            _TYPE_SQL[key] = engine.data_type(column.type).sql(dialect="duckdb")
        expression = source.format(name=column.name) if source else column.name
        selected.append(f"CAST({expression} AS {_TYPE_SQL[key]}) AS {column.name}")
    return ",\n".join(selected)


_TYPE_SQL: dict[tuple[type, ColumnType], str] = {}


def rename_table(old: str, new: str) -> exp.Alter:
    """``ALTER TABLE old RENAME TO new``."""
    return exp.Alter(
        this=exp.to_table(old),
        kind="TABLE",
        actions=[exp.AlterRename(this=exp.to_table(new))],
    )


@dataclass(frozen=True)
class ProfileTables:
    """Physical names of the tables one profile build writes, for a name prefix.

    A prefix lets an as-of build live next to the current profiles (e.g. ``asof_20250101_``);
    the identity tables it reads take the same prefix.
    """

    prefix: str = ""

    def __post_init__(self) -> None:
        if self.prefix and not _PREFIX.match(self.prefix):
            raise ProfilesError(
                f"table prefix {self.prefix!r} must start with a lower-case letter and hold "
                "only lower-case letters, digits and underscores (e.g. 'asof_20250101_')"
            )

    @property
    def profiles(self) -> str:
        return f"{self.prefix}profiles"

    @property
    def category_stats(self) -> str:
        return f"{self.prefix}profile_category_stats"

    @property
    def email_stats(self) -> str:
        return f"{self.prefix}profile_email_stats"

    @property
    def builds(self) -> str:
        return f"{self.prefix}profile_builds"

    @property
    def identities(self) -> str:
        return f"{self.prefix}identities"

    @property
    def merges(self) -> str:
        return f"{self.prefix}identity_merges"

    def outputs(self) -> tuple[str, ...]:
        """The result tables a build replaces together."""
        return (self.profiles, self.category_stats, self.email_stats)
