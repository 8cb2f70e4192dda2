"""What the segment compiler works with: table names, record resolution, lookups."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlglot import exp

from segmint.errors import SegmintError
from segmint.segments.catalogue import Catalogue
from segmint.segments.model import (
    SegmentDefinition,
)


class SegmentCompileError(SegmintError):
    """A definition that cannot be compiled (a validated one always can)."""


class BoundTemplate(Protocol):
    """A custom SQL template ready to embed: returns the query selecting ``profile_id``."""

    def bind(
        self, params: dict[str, Any], *, as_of: datetime, tables: SourceTables
    ) -> exp.Query: ...


@dataclass(frozen=True)
class SourceTables:
    """Names of the tables a segment reads. ``profiles`` differs for past evaluation times."""

    profiles: str = "profiles"
    orders: str = "orders"
    order_lines: str = "order_lines"
    products: str = "products"
    events: str = "events"
    reviews: str = "reviews"
    tickets: str = "tickets"
    profile_category_stats: str = "profile_category_stats"
    profile_email_stats: str = "profile_email_stats"

    def renames(self) -> dict[str, str]:
        """Canonical name → actual name, for the tables whose name differs."""
        defaults = SourceTables()
        return {key: value for key, value in vars(self).items() if value != getattr(defaults, key)}


#: kind (orders, events, reviews, tickets) → a query of (``<key column>``, ``profile_id``).
Resolver = Callable[[str], exp.Query]

#: The key column of each resolved record kind.
RECORD_KEYS = {
    "orders": "order_id",
    "events": "message_id",
    "reviews": "review_id",
    "tickets": "ticket_id",
}


@dataclass
class CompileContext:
    """Everything the compiler needs besides the definition."""

    catalogue: Catalogue
    as_of: datetime
    resolver: Resolver
    tables: SourceTables = field(default_factory=SourceTables)
    segments: Callable[[str], SegmentDefinition | None] = lambda name: None
    sql_templates: Callable[[str], BoundTemplate | None] = lambda name: None
    dialect: str = "duckdb"
    """The dialect the query will be rendered in (JSON text is read differently in each)."""
    keyed: dict[str, str] = field(default_factory=dict)
    """Record kind → a table of those records that already carries ``profile_id`` (a
    materialised resolution, see :mod:`segmint.segments.keyed`); kinds not named here are
    joined to the resolver's query."""


@dataclass
class CompiledLeaf:
    """A leaf condition as SQL: its predicate over ``p`` and how to read its value."""

    predicate: exp.Expr
    values: exp.Query | None
    """(profile_id, value) rows for the profiles that have a value; None when not meaningful."""
    default: Any = None
    """The value of a profile absent from ``values`` (0 for counts and sums)."""
