"""Readable SQL templates kept as sqlglot expressions.

Identity resolution's statements are long; they are written as SQL text in DuckDB's dialect,
parsed once into sqlglot expressions and handed to the engine, which renders them in its own
dialect. Table names come from :class:`~segmint.identity.tables.TableNames` (validated
identifiers); values are bound as ``:name`` placeholders and become typed literals.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from sqlglot import exp

from segmint.engines.base import parse_sql


def statement(template: str, tables: Mapping[str, str], **values: Any) -> exp.Expression:
    """Parse ``template`` with ``{table}`` names filled in and ``:name`` values bound."""
    parsed: exp.Expr = parse_sql(template.format_map(tables))
    if values:
        # None becomes SQL NULL (replace_placeholders would leave the placeholder in place).
        bound = {k: exp.null() if v is None else v for k, v in values.items()}
        parsed = exp.replace_placeholders(parsed, **bound)
    missing = [p.name for p in parsed.find_all(exp.Placeholder)]
    if missing:
        raise ValueError(f"unbound SQL placeholders: {', '.join(sorted(set(missing)))}")
    # Statements are always Expression nodes (parse_one is typed with their Expr base).
    return cast(exp.Expression, parsed)
