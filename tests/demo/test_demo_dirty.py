"""Dirty rows: each kind is present, detectable by the rule it breaks, at about the asked rate."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from segmint.demo import generate_store
from segmint.demo.dirty import CSV_KINDS, EVENT_KINDS
from segmint.model.tables import EVENT_TYPES, ORDER_STATUSES

if TYPE_CHECKING:
    from .conftest import Store


EMAIL = re.compile(r"^[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$")
FILES = {
    "products": "products.csv", "customers": "customers.csv", "orders": "orders.csv",
    "order_lines": "order_lines.csv", "shopify_orders": "shopify_orders.csv",
    "reviews": "reviews.csv", "tickets": "tickets.csv",
}  # fmt: skip


def _parses(value: str, fmt: str = "%Y-%m-%d %H:%M:%S") -> bool:
    try:
        datetime.strptime(value, fmt)
    except ValueError:
        return False
    return True


def test_every_intended_kind_is_present(very_dirty: Store) -> None:
    for key, name in FILES.items():
        assert set(very_dirty.manifest.file(name).dirty_rows) == set(CSV_KINDS[key]), name
    assert set(very_dirty.manifest.file("events.jsonl").dirty_rows) == set(EVENT_KINDS)


def _duplicates(rows: list[list[str]], key: slice) -> int:
    counts = Counter(tuple(r[key]) for r in rows)
    return sum(c - 1 for c in counts.values())


def test_customer_dirty_rows_break_the_rules_the_manifest_says(store: Store) -> None:
    header = store.header("customers.csv")
    rows = store.rows("customers.csv")
    found = Counter()
    found["extra_field"] = sum(len(r) > len(header) for r in rows)
    ok = [dict(zip(header, r, strict=True)) for r in rows if len(r) == len(header)]
    found["bad_email"] = sum(not EMAIL.match(c["email"].strip().lower()) for c in ok)
    found["unparseable_date"] = sum(not _parses(c["created_at"]) for c in ok)
    found["duplicate_id"] = _duplicates(rows, slice(0, 1))
    assert +found == store.manifest.file("customers.csv").dirty_rows


def test_order_dirty_rows_break_the_rules_the_manifest_says(store: Store) -> None:
    header = store.header("orders.csv")
    rows = store.rows("orders.csv")
    ok = [dict(zip(header, r, strict=True)) for r in rows if len(r) == len(header)]
    found = Counter(
        extra_field=sum(len(r) > len(header) for r in rows),
        unparseable_date=sum(not _parses(o["ordered_at"]) for o in ok),
        negative_total=sum(o["total"].startswith("-") for o in ok),
        unknown_status=sum(o["status"] not in ORDER_STATUSES for o in ok),
        duplicate_id=_duplicates(rows, slice(0, 1)),
    )
    assert +found == store.manifest.file("orders.csv").dirty_rows

    header = store.header("order_lines.csv")
    rows = store.rows("order_lines.csv")
    ok = [dict(zip(header, r, strict=True)) for r in rows if len(r) == len(header)]
    found = Counter(
        extra_field=sum(len(r) > len(header) for r in rows),
        negative_quantity=sum(int(line["quantity"]) < 0 for line in ok),
        zero_quantity=sum(int(line["quantity"]) == 0 for line in ok),
        duplicate_id=_duplicates(rows, slice(0, 2)),
    )
    assert +found == store.manifest.file("order_lines.csv").dirty_rows

    rows = store.records("shopify_orders.csv")
    found = Counter(
        unparseable_date=sum(not _parses(r["Created at"], "%Y-%m-%d %H:%M:%S %z") for r in rows),
        negative_quantity=sum(int(r["Lineitem quantity"]) < 0 for r in rows),
    )
    assert +found == store.manifest.file("shopify_orders.csv").dirty_rows


def test_other_dirty_rows_break_the_rules_the_manifest_says(store: Store) -> None:
    header = store.header("products.csv")
    rows = store.rows("products.csv")
    found = Counter(
        extra_field=sum(len(r) > len(header) for r in rows),
        negative_price=sum(r[5].startswith("-") for r in rows),
        duplicate_id=_duplicates(rows, slice(0, 1)),
    )
    assert +found == store.manifest.file("products.csv").dirty_rows
    reviews = store.rows("reviews.csv")
    found = Counter(
        rating_out_of_range=sum(not 1 <= int(r[4]) <= 5 for r in reviews),
        unparseable_date=sum(not _parses(r[8]) for r in reviews),
        duplicate_id=_duplicates(reviews, slice(0, 1)),
    )
    assert +found == store.manifest.file("reviews.csv").dirty_rows
    header = store.header("tickets.csv")
    tickets = store.rows("tickets.csv")
    ok = [dict(zip(header, r, strict=True)) for r in tickets if len(r) == len(header)]
    found = Counter(
        extra_field=sum(len(r) > len(header) for r in tickets),
        unparseable_date=sum(not _parses(t["created_at"]) for t in ok),
        missing_contact=sum(not t["customer_id"] and not t["email"] for t in ok),
    )
    assert +found == store.manifest.file("tickets.csv").dirty_rows


def test_event_dirty_rows_break_the_rules_the_manifest_says(store: Store) -> None:
    events, broken = store.events()
    found = Counter(
        malformed_json=broken,
        missing_ids=sum("anonymousId" not in e and "userId" not in e for e in events),
        unknown_type=sum(e["type"] not in EVENT_TYPES for e in events),
        unparseable_timestamp=sum(
            not _parses(e["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ") for e in events
        ),
    )
    assert +found == store.manifest.file("events.jsonl").dirty_rows
    ids = [e["messageId"] for e in events]
    assert len(set(ids)) == len(ids)  # broken copies get ids of their own


def test_dirty_rows_come_at_about_the_requested_rate(store: Store) -> None:
    rate = store.manifest.dirty_rate
    total_dirty = total_clean = 0
    for f in store.manifest.files:
        dirty = sum(f.dirty_rows.values())
        total_dirty += dirty
        total_clean += f.clean_rows
        # Binomial: within five standard deviations (plus one row) of the expectation.
        spread = 5 * math.sqrt(f.clean_rows * rate * (1 - rate)) + 1
        assert abs(dirty - rate * f.clean_rows) <= spread, f.path
    assert total_dirty == pytest.approx(rate * total_clean, rel=0.1)


def test_no_dirty_rows_when_the_rate_is_zero(clean_store: Store) -> None:
    assert all(f.dirty_rows == {} for f in clean_store.manifest.files)
    assert clean_store.events()[1] == 0


def test_parquet_events_carry_the_same_kinds_of_dirt(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    m = generate_store(tmp_path / "p", customers=300, seed=2, dirty_rate=0.05,
                       events_per_customer=30, events_format="parquet")  # fmt: skip
    entry = m.file("events.parquet")
    table = pq.read_table(tmp_path / "p" / "events.parquet").to_pylist()
    assert len(table) == entry.rows
    broken = 0
    for row in table:
        if row["properties"] is not None:
            try:
                json.loads(row["properties"])
            except json.JSONDecodeError:
                broken += 1
    found = Counter(
        malformed_json=broken,
        missing_ids=sum(r["anonymousId"] is None and r["userId"] is None for r in table),
        unknown_type=sum(r["type"] not in EVENT_TYPES for r in table),
        unparseable_timestamp=sum(r["timestamp"] is None for r in table),
    )
    assert +found == entry.dirty_rows
