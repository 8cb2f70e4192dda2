"""Readable SQL templates kept as sqlglot expressions.

Identity resolution's statements are long; they are written as SQL text in DuckDB's dialect,
parsed once into sqlglot expressions and handed to the engine, which renders them in its own
dialect. Table names come from :class:`~segmint.identity.tables.TableNames` (validated
identifiers); values are bound as ``:name`` placeholders and become typed literals.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, cast

import sqlglot
from sqlglot import exp

from segmint.engines.base import Engine


@functools.lru_cache(maxsize=1024)
def _parse(sql: str) -> exp.Expr:
    # A build runs the same statements every time: parse each text once per process.
    return sqlglot.parse_one(sql, read="duckdb")


def statement(template: str, tables: Mapping[str, str], **values: Any) -> exp.Expression:
    """Parse ``template`` with ``{table}`` names filled in and ``:name`` values bound."""
    parsed = _parse(template.format_map(tables)).copy()
    if values:
        # None becomes SQL NULL (replace_placeholders would leave the placeholder in place).
        bound = {k: exp.null() if v is None else v for k, v in values.items()}
        parsed = exp.replace_placeholders(parsed, **bound)
    missing = [p.name for p in parsed.find_all(exp.Placeholder)]
    if missing:
        raise ValueError(f"unbound SQL placeholders: {', '.join(sorted(set(missing)))}")
    # Statements are always Expression nodes (parse_one is typed with their Expr base).
    return cast(exp.Expression, parsed)


def create_temp(name: str, query: exp.Expression) -> exp.Expression:
    """``CREATE TEMPORARY TABLE name AS query``, replacing a leftover of the same name."""
    return exp.Create(
        this=exp.to_table(name),
        kind="TABLE",
        replace=True,
        expression=query,
        properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
    )


def drop_table(engine: Engine, name: str) -> None:
    """``DROP TABLE IF EXISTS name`` (temporary or not)."""
    engine.execute(exp.Drop(tables=[exp.to_table(name)], kind="TABLE", exists=True))
