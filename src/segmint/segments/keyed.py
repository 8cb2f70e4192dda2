"""Events and orders with their ``profile_id``, materialised for fast segment evaluation.

Resolving every event to its profile at query time joins the whole events table with the whole
identity resolution, for each event condition. Segments instead read ``segment_events`` and
``segment_orders``: the records with their profile id, sorted by event name (events) and time so
that a condition on one event in a window reads only the row groups that hold it.

Each table is rebuilt when its inputs change, detected by a fingerprint: the source table's row
count, its latest import (``imports``), the latest identity build of the same prefix and the
resolution query itself. Rows changed in place without an import are not detected;
:meth:`KeyedRecords.refresh` rebuilds on demand.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from sqlglot import exp

from segmint.engines.base import Engine
from segmint.model.tables import Column, ColumnType, Table
from segmint.segments.context import RECORD_KEYS
from segmint.segments.store import insert_row
from segmint.segments.timeutil import utc_now

SOURCES = Table(
    name="segment_sources",
    description="Fingerprints of the materialised segment_events / segment_orders tables.",
    key=("name",),
    columns=(
        Column("name", ColumnType.STRING, "Materialised table.", required=True),
        Column("fingerprint", ColumnType.STRING, "Inputs it was built from.", required=True),
        Column("built_at", ColumnType.TIMESTAMP, "When it was built (UTC).", required=True),
    ),
)

#: kind → (columns copied from the source table, sort order of the materialised table).
LAYOUT: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "events": (
        ("message_id", "type", "event", "timestamp", "properties", "context"),
        ("event", "timestamp"),
    ),
    "orders": (
        (
            "order_id",
            "ordered_at",
            "status",
            "total",
            "refunded_amount",
            "discount_amount",
            "coupon_code",
        ),
        ("ordered_at",),
    ),
}


class KeyedRecords:
    """Keeps ``<prefix>segment_events`` and ``<prefix>segment_orders`` up to date."""

    def __init__(self, engine: Engine, resolver: Callable[[str, str], exp.Query]) -> None:
        self.engine = engine
        self.resolver = resolver
        engine.create_table(SOURCES, if_not_exists=True)

    def ensure(self, prefix: str = "") -> dict[str, str]:
        """The materialised tables for a prefix, rebuilt where their inputs changed."""
        names = {kind: f"{prefix}segment_{kind}" for kind in LAYOUT}
        current, stored = self._fingerprints(prefix, names)
        for kind, name in names.items():
            if stored.get(kind) != current[kind]:
                self._build(kind, name, prefix, current[kind])
        return names

    def refresh(self, prefix: str = "") -> dict[str, str]:
        """Rebuild the tables whatever their fingerprint says."""
        self.engine.execute(
            exp.delete(SOURCES.name).where(
                exp.In(
                    this=exp.column("name"),
                    expressions=[exp.Literal.string(f"{prefix}segment_{k}") for k in LAYOUT],
                )
            )
        )
        return self.ensure(prefix)

    def _fingerprints(
        self, prefix: str, names: dict[str, str]
    ) -> tuple[dict[str, str], dict[str, str | None]]:
        """(current fingerprint, stored fingerprint or None when the table is missing) per kind,
        in two queries: this runs before every evaluation."""
        runs = f"{prefix}identity_runs"
        wanted = ["imports", runs, *names.values()]
        existing = self.engine.existing_tables(wanted)
        probes: list[exp.Expr] = []
        for kind, name in names.items():
            probes.append(_scalar(exp.select("COUNT(*)").from_(kind)))
            probes.append(
                _scalar(
                    exp.select("MAX(finished_at)")
                    .from_("imports")
                    .where(exp.EQ(this=exp.column("kind"), expression=exp.Literal.string(kind)))
                )
                if "imports" in existing
                else exp.Null()
            )
            probes.append(
                _scalar(exp.select("fingerprint").from_(SOURCES.name).where(_named(name)))
            )
        probes.append(
            _scalar(
                exp.select(
                    "CAST(COUNT(*) AS VARCHAR) || '/' || "
                    "COALESCE(CAST(MAX(finished_at) AS VARCHAR), '')"
                ).from_(runs)
            )
            if runs in existing
            else exp.Null()
        )
        row = self.engine.fetch_one(exp.select(*probes)) or ()
        identity = str(row[-1])
        current: dict[str, str] = {}
        stored: dict[str, str | None] = {}
        for i, (kind, name) in enumerate(names.items()):
            count, imported, saved = row[3 * i : 3 * i + 3]
            query = self.resolver(kind, prefix).sql(dialect=self.engine.dialect)
            digest = hashlib.sha256(query.encode()).hexdigest()[:16]
            current[kind] = f"{count}|{imported}|{identity}|{digest}"
            stored[kind] = saved if name in existing else None
        return current, stored

    def _build(self, kind: str, name: str, prefix: str, fingerprint: str) -> None:
        columns, order = LAYOUT[kind]
        key = RECORD_KEYS[kind]
        resolved = exp.Subquery(
            this=self.resolver(kind, prefix), alias=exp.TableAlias(this=exp.to_identifier("r"))
        )
        query = (
            exp.select(
                exp.column("profile_id", "r", quoted=True),
                *(exp.column(c, "s", quoted=True) for c in columns),
            )
            .from_(exp.to_table(kind).as_("s"))
            .join(
                resolved,
                on=exp.EQ(
                    this=exp.column(key, "r", quoted=True),
                    expression=exp.column(key, "s", quoted=True),
                ),
            )
            .order_by(*(exp.column(c, "s", quoted=True) for c in order))
        )
        with self.engine.transaction():
            self.engine.execute(
                exp.Create(this=exp.to_table(name), kind="TABLE", replace=True, expression=query)
            )
            self.engine.execute(exp.delete(SOURCES.name).where(_named(name)))
            insert_row(
                self.engine,
                SOURCES.name,
                {"name": name, "fingerprint": fingerprint, "built_at": utc_now()},
            )


def _scalar(query: exp.Select) -> exp.Expr:
    return exp.Subquery(this=query)


def _named(name: str) -> exp.Expr:
    return exp.EQ(this=exp.column("name"), expression=exp.Literal.string(name))
