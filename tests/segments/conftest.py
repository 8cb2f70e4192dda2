"""A small hand-made store for segment tests.

Profiles are written directly (every trait of the real catalogue is a column; the tests fill
the few each case needs), and source records name their profile directly: the test resolver
maps an order's ``customer_id`` (an event's ``user_id``) to the profile of that id. That keeps
each expectation worked out by hand from the rows of the test alone, independent of identity
resolution and the profile build (which have their own tests, and an integration test here).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pyarrow as pa
import pytest
import sqlglot
from sqlglot import exp

from segmint.engines.duckdb import DuckDBEngine
from segmint.model.tables import ALL_TABLES, IMPORTABLE
from segmint.profiles.catalogue import profile_traits
from segmint.segments.service import SegmentService, as_of_prefix

AS_OF = datetime(2026, 11, 22, 12, 0, 0)
PREFIX = as_of_prefix(AS_OF)

_KEYS = {
    "orders": "order_id",
    "events": "message_id",
    "reviews": "review_id",
    "tickets": "ticket_id",
}


def stub_resolver(kind: str, prefix: str = "") -> exp.Query:
    """Records belong to the profile named by their customer id (events: user id, else
    anonymous id)."""
    owner = "COALESCE(user_id, anonymous_id)" if kind == "events" else "customer_id"
    query = sqlglot.parse_one(f"SELECT {_KEYS[kind]}, {owner} AS profile_id FROM {kind}")
    assert isinstance(query, exp.Query)
    return query


class Store:
    """An in-memory warehouse with canonical tables and a hand-filled profiles table."""

    def __init__(self, *, materialize: bool = True) -> None:
        self.engine = DuckDBEngine()
        for spec in ALL_TABLES:
            self.engine.create_table(spec)
        self.traits = profile_traits()
        columns = ", ".join(
            f'"{t.name}" {self.engine.data_type(t.type).sql("duckdb")}' for t in self.traits
        )
        self.profiles_table = f"{PREFIX}profiles"
        self.engine.execute(f"CREATE TABLE {self.profiles_table} ({columns})")
        self.engine.execute(f"CREATE VIEW profiles AS SELECT * FROM {self.profiles_table}")
        self._ids = 0
        # materialize=False joins records with the resolver in every query instead of reading
        # segment_events / segment_orders: both paths must select the same members.
        self.service = SegmentService(self.engine, resolver=stub_resolver, materialize=materialize)

    def _id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}{self._ids:05d}"

    def profile(self, profile_id: str, **traits: Any) -> None:
        """A profile; accepts_marketing is True unless given."""
        row = {"profile_id": profile_id, "accepts_marketing": True, **traits}
        self._insert(self.profiles_table, [row])

    def profiles(self, *ids: str, **traits: Any) -> None:
        for pid in ids:
            self.profile(pid, **traits)

    def order(
        self,
        customer: str,
        at: str,
        total: float = 100,
        *,
        lines: list[tuple[str, float]] | None = None,
        **columns: Any,
    ) -> str:
        """An order; ``lines`` are (product id, net value) with quantity 1."""
        order_id = columns.pop("order_id", None) or self._id("o")
        self._insert(
            "orders",
            [
                {
                    "order_id": order_id,
                    "customer_id": customer,
                    "ordered_at": _ts(at),
                    "total": total,
                    **columns,
                }
            ],
        )
        for number, (product, value) in enumerate(lines or [], start=1):
            self._insert(
                "order_lines",
                [
                    {
                        "order_id": order_id,
                        "line_number": number,
                        "product_id": product,
                        "quantity": 1,
                        "unit_price": value,
                    }
                ],
            )
        return order_id

    def product(
        self, product_id: str, category: str | None = None, line: str | None = None
    ) -> None:
        self._insert(
            "products", [{"product_id": product_id, "category": category, "product_line": line}]
        )

    def event(
        self,
        user: str,
        name: str | None,
        at: str,
        properties: dict[str, Any] | str | None = None,
        *,
        type: str = "track",
        context: dict[str, Any] | None = None,
    ) -> None:
        props = (
            properties
            if properties is None or isinstance(properties, str)
            else json.dumps(properties)
        )
        self._insert(
            "events",
            [
                {
                    "message_id": self._id("m"),
                    "type": type,
                    "event": name,
                    "user_id": user,
                    "timestamp": _ts(at),
                    "properties": props,
                    "context": json.dumps(context) if context else None,
                }
            ],
        )

    def review(self, customer: str, at: str, rating: int, product: str = "p1") -> None:
        self._insert(
            "reviews",
            [
                {
                    "review_id": self._id("r"),
                    "customer_id": customer,
                    "reviewed_at": _ts(at),
                    "rating": rating,
                    "product_id": product,
                }
            ],
        )

    def ticket(self, customer: str, at: str, status: str = "open") -> None:
        self._insert(
            "tickets",
            [
                {
                    "ticket_id": self._id("t"),
                    "customer_id": customer,
                    "created_at": _ts(at),
                    "status": status,
                }
            ],
        )

    def _insert(self, table: str, rows: list[dict[str, Any]]) -> None:
        names = list(rows[0])
        cols = ", ".join(f'"{n}"' for n in names)
        marks = ", ".join("?" for _ in names)
        for row in rows:
            self.engine.execute(
                f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', [row[n] for n in names]
            )

    def members(self, segment: Any, *, as_of: datetime | str = AS_OF) -> set[str]:
        """Profile ids a definition (or saved segment name) selects."""
        query = self.service.compile(segment, as_of=as_of)
        return {str(r[0]) for r in self.engine.fetch_all(query)}

    def arrow(self, query: str) -> pa.Table:
        return self.engine.fetch_arrow(query)


def _ts(text: str) -> datetime:
    return (
        datetime.fromisoformat(text)
        if ("T" in text or " " in text)
        else datetime.fromisoformat(text + " 00:00:00")
    )


@pytest.fixture
def store() -> Iterator[Store]:
    s = Store()
    try:
        yield s
    finally:
        s.engine.close()


assert set(_KEYS) <= set(IMPORTABLE)
