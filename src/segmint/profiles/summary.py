"""The customer base at a glance: counts, revenue, repeat rate, RFM segments, lifecycle."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from segmint.engines.base import Engine
from segmint.profiles.catalogue import LIFECYCLE_STAGES, RFM_SEGMENTS
from segmint.profiles.show import require_profiles
from segmint.profiles.sql import ProfileTables, statement
from segmint.profiles.types import ProfileSummary


def profile_summary(engine: Engine, *, prefix: str = "") -> ProfileSummary:
    """Summarise the profiles of the last build (with this table ``prefix``).

    Every RFM segment and lifecycle stage is listed, with 0 where nobody is in it.
    """
    tables = ProfileTables(prefix)
    require_profiles(engine, tables)
    names = {"profiles": tables.profiles}
    row = engine.fetch_one(
        statement(
            """
            SELECT MAX(as_of), COUNT(*), COUNT(*) FILTER (WHERE identified),
                   COUNT(*) FILTER (WHERE order_count > 0), COALESCE(SUM(order_count), 0),
                   COALESCE(SUM(total_spend), 0), COUNT(*) FILTER (WHERE order_count >= 2),
                   COUNT(*) FILTER (WHERE NOT accepts_marketing)
            FROM {profiles}
            """,
            names,
        )
    )
    assert row is not None
    as_of, profiles, identified, buyers, orders, revenue, repeaters, opted_out = row
    revenue = Decimal(revenue)
    segments = _counts(engine, names, "rfm_segment", RFM_SEGMENTS)
    stages = _counts(engine, names, "lifecycle_stage", LIFECYCLE_STAGES)
    return ProfileSummary(
        as_of=as_of,
        profiles=int(profiles),
        identified=int(identified),
        buyers=int(buyers),
        orders=int(orders),
        revenue=_money(revenue),
        average_order_value=_money(revenue / orders) if orders else None,
        repeat_rate=round(repeaters / buyers, 4) if buyers else None,
        opted_out=int(opted_out),
        rfm_segments=segments,
        lifecycle_stages=stages,
    )


def _counts(
    engine: Engine, names: dict[str, str], column: str, known: tuple[str, ...]
) -> dict[str, int]:
    rows = engine.fetch_all(
        statement(
            f"SELECT {column}, COUNT(*) FROM {{profiles}} WHERE {column} IS NOT NULL "
            f"GROUP BY {column}",
            names,
        )
    )
    found: dict[str, Any] = dict(rows)
    counts = {name: int(found.pop(name, 0)) for name in known}
    counts.update({str(k): int(v) for k, v in found.items()})
    return counts


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))
