"""Helpers for profile tests: hand-made stores, a stand-in resolver, reading profiles back."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pyarrow as pa
from sqlglot import exp

from segmint.config import ProfilesConfig, WorkspaceConfig
from segmint.engines.base import column_identifier
from segmint.engines.duckdb import DuckDBEngine
from segmint.identity.tables import IDENTITIES
from segmint.model.tables import ALL_TABLES, table
from segmint.profiles.build import build_profiles
from segmint.profiles.types import ProfileBuildResult

AS_OF = "2025-06-30"  # builds in these tests run as of the end of 30 June 2025 (UTC)


def resolve_for_tests(kind: str, *, prefix: str = "") -> exp.Select:
    """A stand-in for ``segmint.identity.resolved_records`` over a hand-filled ``identities``.

    Records resolve through their customer id (an event's user_id), else their email, else
    (events) their anonymous id, exactly like the identity contract; records that resolve to
    nothing are left out.
    """
    ident = f"{prefix}identities"

    def via(alias: str, id_type: str, value: str) -> str:
        return (
            f"LEFT JOIN {ident} AS {alias} ON {alias}.id_type = '{id_type}' "
            f"AND {alias}.id_value = {value}"
        )

    if kind == "customers":
        sql = (
            f"SELECT c.customer_id, i.profile_id FROM customers AS c "
            f"JOIN {ident} AS i ON i.id_type = 'customer_id' AND i.id_value = c.customer_id"
        )
    elif kind == "events":
        sql = (
            "SELECT e.message_id, COALESCE(u.profile_id, a.profile_id) AS profile_id "
            f"FROM events AS e {via('u', 'customer_id', 'e.user_id')} "
            f"{via('a', 'anonymous_id', 'e.anonymous_id')} "
            "WHERE COALESCE(u.profile_id, a.profile_id) IS NOT NULL"
        )
    else:
        key = {"orders": "order_id", "reviews": "review_id", "tickets": "ticket_id"}[kind]
        sql = (
            f"SELECT s.{key}, COALESCE(c.profile_id, m.profile_id) AS profile_id "
            f"FROM {kind} AS s {via('c', 'customer_id', 's.customer_id')} "
            f"{via('m', 'email', 'LOWER(s.email)')} "
            "WHERE COALESCE(c.profile_id, m.profile_id) IS NOT NULL"
        )
    parsed = exp.maybe_parse(sql, dialect="duckdb")
    assert isinstance(parsed, exp.Select)
    return parsed


class Store:
    """A warehouse in memory with the canonical tables and a hand-filled ``identities``."""

    def __init__(self, **profiles: Any) -> None:
        self.engine = DuckDBEngine(":memory:")
        for spec in ALL_TABLES:
            self.engine.create_table(spec)
        self.engine.create_table(IDENTITIES)
        self.config = WorkspaceConfig(profiles=ProfilesConfig(**profiles))
        self._batches = 0

    def close(self) -> None:
        self.engine.close()

    # -- loading ----------------------------------------------------------------------------

    def add(self, kind: str, rows: list[dict[str, Any]]) -> None:
        """Load rows given as text, typed the way imports type them (``try_cast``): a time
        with a zone offset is converted to UTC, money is an exact decimal."""
        spec = table(kind)
        keys = list(dict.fromkeys(k for row in rows for k in row))
        self._batches += 1
        staging = f"_test_stage_{self._batches}"
        data = pa.Table.from_pylist(
            [{k: None if row.get(k) is None else _text(row[k]) for k in keys} for row in rows],
            schema=pa.schema([(k, pa.string()) for k in keys]),
        )
        self.engine.execute(
            f"CREATE TEMP TABLE {staging} ({', '.join(f'{k} VARCHAR' for k in keys)})"
        )
        self.engine.load_arrow(staging, data)
        selects = [
            self.engine.try_cast(column_identifier(k), spec.column(k).type).as_(k) for k in keys
        ]
        insert = exp.insert(
            exp.select(*selects).from_(staging),
            kind,
            columns=[exp.to_identifier(k, quoted=True) for k in keys],
        )
        self.engine.execute(insert)
        self.engine.execute(f"DROP TABLE {staging}")

    def person(self, profile_id: str, *identifiers: str, first_seen: str | None = None) -> None:
        """Identifiers of one profile, written ``type:value`` (``email:ann@x.com``)."""
        rows = []
        for identifier in identifiers:
            id_type, _, value = identifier.partition(":")
            rows.append(
                {
                    "id_type": id_type,
                    "id_value": value,
                    "profile_id": profile_id,
                    "first_seen": first_seen,
                    "last_seen": first_seen,
                }
            )
        self.add_identities(rows)

    def add_identities(self, rows: list[dict[str, Any]]) -> None:
        data = pa.Table.from_pylist(
            rows,
            schema=pa.schema(
                [
                    ("id_type", pa.string()),
                    ("id_value", pa.string()),
                    ("profile_id", pa.string()),
                    ("first_seen", pa.string()),
                    ("last_seen", pa.string()),
                ]
            ),
        )
        self.engine.execute(
            "CREATE OR REPLACE TEMP TABLE _test_ids (id_type VARCHAR, id_value VARCHAR, "
            "profile_id VARCHAR, first_seen VARCHAR, last_seen VARCHAR)"
        )
        self.engine.load_arrow("_test_ids", data)
        self.engine.execute(
            "INSERT INTO identities SELECT id_type, id_value, profile_id, "
            "CAST(first_seen AS TIMESTAMP), CAST(last_seen AS TIMESTAMP) FROM _test_ids"
        )

    # -- building and reading -----------------------------------------------------------------

    def build(
        self, as_of: Any = AS_OF, *, prefix: str | None = "", **kwargs: Any
    ) -> ProfileBuildResult:
        kwargs.setdefault("run_identity", False)
        kwargs.setdefault("resolver", resolve_for_tests)
        return build_profiles(self.engine, self.config, as_of=as_of, prefix=prefix, **kwargs)

    def profile(self, profile_id: str, prefix: str = "") -> dict[str, Any]:
        rows = self.rows(f"SELECT * FROM {prefix}profiles WHERE profile_id = ?", [profile_id])
        assert len(rows) == 1, f"expected one profile {profile_id}, found {len(rows)}"
        return rows[0]

    def rows(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        result = self.engine.fetch_arrow(sql, params)
        return result.to_pylist()


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        import json

        return json.dumps(value)
    return str(value)


def money(text: str) -> Decimal:
    return Decimal(text)


__all__ = ["AS_OF", "Store", "money", "resolve_for_tests"]
