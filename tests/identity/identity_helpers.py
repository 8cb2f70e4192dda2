"""Helpers for identity tests: load hand-made rows, build, read back profiles."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from segmint.config import IdentityConfig
from segmint.engines.duckdb import DuckDBEngine
from segmint.identity import IdentityResult, build_identity, resolved_records
from segmint.model.tables import ALL_TABLES


def pid(id_type: str, id_value: str) -> str:
    """The profile id of a component anchored on this identifier (the documented rule)."""
    return "p_" + hashlib.md5(f"{id_type}:{id_value}".encode()).hexdigest()[:20]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


class Store:
    """A warehouse in memory with the canonical tables, loaded the way imports load it."""

    def __init__(self, config: IdentityConfig | None = None) -> None:
        self.engine = DuckDBEngine(":memory:")
        for spec in ALL_TABLES:
            self.engine.create_table(spec)
        self.config = config or IdentityConfig()
        self._clock = datetime(2026, 1, 1)

    def add(self, table: str, rows: list[dict[str, Any]]) -> None:
        """Append rows; like an import, each call stamps its rows with a later ``_loaded_at``."""
        self._clock += timedelta(minutes=1)
        keys = list(dict.fromkeys(k for row in rows for k in row))
        data = [{**{k: row.get(k) for k in keys}, "_loaded_at": self._clock} for row in rows]
        self.engine.load_arrow(table, pa.Table.from_pylist(data))

    def touch(self, sql: str) -> None:
        """Run an UPDATE on a source table, as a re-import would: a new ``_loaded_at``."""
        self._clock += timedelta(minutes=1)
        self.engine.execute(sql.replace("SET ", f"SET _loaded_at = '{self._clock}', ", 1))

    def build(self, **kwargs: Any) -> IdentityResult:
        return build_identity(self.engine, self.config, **kwargs)

    def profile_of(self, id_type: str, id_value: str, prefix: str = "") -> str | None:
        return self.engine.fetch_value(
            f"SELECT profile_id FROM {prefix}identities WHERE id_type = ? AND id_value = ?",
            [id_type, id_value],
        )

    def identities(self, prefix: str = "") -> set[tuple[Any, ...]]:
        return set(self.engine.fetch_all(f"SELECT * FROM {prefix}identities"))

    def groups(self, prefix: str = "") -> set[frozenset[tuple[str, str]]]:
        """The people: sets of (type, value) identifiers sharing a profile."""
        by_profile: dict[str, set[tuple[str, str]]] = {}
        for id_type, id_value, profile in self.engine.fetch_all(
            f"SELECT id_type, id_value, profile_id FROM {prefix}identities"
        ):
            by_profile.setdefault(profile, set()).add((id_type, id_value))
        return {frozenset(ids) for ids in by_profile.values()}

    def resolved(self, kind: str, prefix: str = "") -> dict[str, str]:
        return dict(self.engine.fetch_all(resolved_records(kind, prefix=prefix)))

    def merges(self, prefix: str = "") -> list[tuple[Any, ...]]:
        return self.engine.fetch_all(
            "SELECT action, from_profile_id, to_profile_id, a_type, a_value, b_type, b_value, "
            f"source, source_key FROM {prefix}identity_merges ORDER BY recorded_at, from_profile_id"
        )

    def close(self) -> None:
        self.engine.close()
