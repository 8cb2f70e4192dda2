"""Snapshots of compiled SQL, one file per case and dialect under ``snapshots/``.

Regenerate after an intended change with ``SEGMINT_UPDATE_SNAPSHOTS=1 pytest
tests/segments/test_snapshots.py`` and read the diff before committing it. Record resolution
is the test stub (records name their profile), so the snapshots show the segment compiler's
SQL alone.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from segmint.segments.catalogue import Catalogue
from segmint.segments.compiler import CompileContext, SegmentCompiler
from segmint.segments.custom_sql import CustomSqlTemplate, SqlParameter
from segmint.segments.model import SegmentDefinition
from segmint.segments.service import default_traits
from segmint.segments.validation import Checker

from .conftest import AS_OF, stub_resolver

SNAPSHOTS = Path(__file__).parent / "snapshots"
DIALECTS = ("duckdb", "postgres", "spark", "bigquery", "snowflake")
UPDATE = os.environ.get("SEGMINT_UPDATE_SNAPSHOTS") == "1"

CUSTOM = CustomSqlTemplate(
    "recent-big-orders",
    "SELECT customer_id AS profile_id FROM orders WHERE total > :min_total "
    "AND ordered_at > :as_of - INTERVAL 30 DAY",
    parameters=[SqlParameter("min_total", "number", 100)],
)
OTHER = SegmentDefinition.model_validate(
    {
        "name": "loyal",
        "include": {"type": "trait", "trait": "lifecycle_stage", "op": "eq", "value": "loyal"},
    }
)

CASES: dict[str, dict[str, Any]] = {
    "trait_groups": {
        "all": [
            {"type": "trait", "trait": "total_spend", "op": "between", "value": [100, 500]},
            {
                "any": [
                    {"type": "trait", "trait": "gender", "op": "in", "value": ["female", "other"]},
                    {"not": {"type": "trait", "trait": "city", "op": "contains", "value": "york"}},
                ]
            },
            {"type": "trait", "trait": "first_order_at", "op": "within_last", "value": 7},
            {
                "type": "trait",
                "trait": "days_since_last_order",
                "op": "gt",
                "value": {"trait": "average_days_between_orders", "times": 2},
            },
        ]
    },
    "top_percent": {"type": "trait", "trait": "total_spend", "op": "top_percent", "value": 10},
    "orders_category_share": {
        "type": "orders",
        "measure": "share_of_value",
        "op": "gt",
        "value": 0.75,
        "categories": ["apparel"],
        "window": {"last": 3, "unit": "months"},
    },
    "orders_no_coupon": {"type": "orders", "discount": "used", "op": "eq", "value": 0},
    "event_count_with_filter": {
        "type": "event",
        "event": "Product Viewed",
        "op": "gte",
        "value": 3,
        "where": [{"property": "category", "value": "shoes"}],
        "window": {"last": 30},
    },
    "event_ratio": {
        "type": "event_ratio",
        "numerator": {"event": "Email Opened"},
        "denominator": {"event": "Email Delivered"},
        "op": "between",
        "value": [0.2, 0.3],
        "window": {"last": 1, "unit": "months"},
    },
    "event_sequence": {
        "type": "event_sequence",
        "first": {"event": "Product Added"},
        "then_not": [{"event": "Order Completed"}],
        "no_order_after": True,
        "within": {"amount": 2, "unit": "days"},
        "window": {"since": "2026-11-01", "until": "2026-11-20"},
    },
    "reviews_tickets_membership": {
        "all": [
            {"type": "reviews", "max_rating": 2, "window": {"last": 1, "unit": "years"}},
            {"type": "tickets", "op": "eq", "value": 0},
            {"type": "segment", "segment": "loyal"},
        ]
    },
    "sql_template": {
        "type": "sql_template",
        "template": "recent-big-orders",
        "params": {"min_total": 250},
    },
}


def compile_case(include: dict[str, Any], dialect: str) -> Any:
    catalogue = Catalogue.from_traits(default_traits())
    definition = Checker(
        catalogue,
        segments=lambda name: OTHER if name == "loyal" else None,
        sql_templates=lambda name: CUSTOM if name == CUSTOM.name else None,
    ).validate({"name": "case", "include": include})
    context = CompileContext(
        catalogue=catalogue,
        as_of=AS_OF,
        resolver=lambda kind: stub_resolver(kind),
        segments=lambda name: OTHER if name == "loyal" else None,
        sql_templates=lambda name: CUSTOM if name == CUSTOM.name else None,
        dialect=dialect,
    )
    return SegmentCompiler(context).members_query(definition)


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_compiled_sql_matches_snapshot(case: str, dialect: str) -> None:
    sql = compile_case(CASES[case], dialect).sql(dialect=dialect, pretty=True) + "\n"
    path = SNAPSHOTS / f"{case}.{dialect}.sql"
    if UPDATE or not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(sql, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"wrote a new snapshot {path.name}: review it, then run again")
    assert sql == path.read_text(encoding="utf-8"), (
        f"{path.name} differs; if intended, regenerate with SEGMINT_UPDATE_SNAPSHOTS=1"
    )
