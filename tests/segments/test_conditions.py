"""Condition forms the templates do not use, each on hand-made rows (evaluated at AS_OF,
2026-11-22 12:00:00)."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Store


def members(store: Store, include: dict[str, Any], **extra: Any) -> set[str]:
    return store.members({"name": "c", "purpose": "analysis", "include": include, **extra})


def test_trait_text_and_missing_values(store: Store) -> None:
    store.profile("a", city="New York", email="a@shop.com")
    store.profile("b", city="York", email=None)
    store.profile("c")
    assert members(
        store, {"type": "trait", "trait": "city", "op": "starts_with", "value": "new"}
    ) == {"a"}
    # A trait that is not set matches no comparison, not even a negative one...
    assert members(
        store, {"type": "trait", "trait": "city", "op": "not_contains", "value": "new"}
    ) == {"b"}
    # ...but `not` is the exact complement.
    assert members(
        store, {"not": {"type": "trait", "trait": "city", "op": "contains", "value": "new"}}
    ) == {"b", "c"}
    assert members(store, {"type": "trait", "trait": "email", "op": "is_not_set"}) == {"b", "c"}


def test_time_between_and_bottom_percent(store: Store) -> None:
    store.profile("a", first_order_at="2026-01-01 00:00:00", total_spend=1)
    store.profile("b", first_order_at="2026-03-31 23:00:00", total_spend=2)
    store.profile("c", first_order_at="2026-04-01 00:00:01", total_spend=2)
    store.profile("d", total_spend=9)
    assert members(
        store,
        {
            "type": "trait",
            "trait": "first_order_at",
            "op": "between",
            "value": ["2026-01-01", "2026-04-01"],
        },
    ) == {"a", "b"}
    # Bottom 25% of 4: one profile; nobody ranks below a.
    assert members(
        store, {"type": "trait", "trait": "total_spend", "op": "bottom_percent", "value": 25}
    ) == {"a"}
    # Bottom 50%: b and c tie in second place and both get in.
    assert members(
        store, {"type": "trait", "trait": "total_spend", "op": "bottom_percent", "value": 50}
    ) == {"a", "b", "c"}


def test_event_property_aggregates(store: Store) -> None:
    store.profiles("a", "b", "c")
    for amount in (10, 30):
        store.event("a", "Order Completed", "2026-11-01", {"revenue": amount, "coupon": "X"})
    store.event("a", "Order Completed", "2026-11-02", {"revenue": "n/a", "coupon": "Y"})
    store.event("b", "Order Completed", "2026-11-01", {"revenue": 100})
    base = {"type": "event", "event": "Order Completed", "property": "revenue"}
    assert members(store, {**base, "measure": "sum", "op": "gte", "value": 40}) == {"a", "b"}
    assert members(store, {**base, "measure": "average", "op": "eq", "value": 20}) == {"a"}
    assert members(store, {**base, "measure": "max", "op": "lt", "value": 50}) == {"a"}
    assert members(store, {**base, "measure": "min", "op": "gte", "value": 100}) == {"b"}
    # Sum 0 passes for people without the event; an average never does.
    assert members(store, {**base, "measure": "sum", "op": "lt", "value": 1}) == {"c"}
    assert members(
        store,
        {
            "type": "event",
            "event": "Order Completed",
            "property": "coupon",
            "measure": "distinct_count",
            "op": "eq",
            "value": 2,
        },
    ) == {"a"}


def test_event_ratio_needs_enough_deliveries(store: Store) -> None:
    store.profiles("a", "b", "c")
    for who, delivered, opened in (("a", 4, 1), ("b", 1, 1), ("c", 0, 2)):
        for _ in range(delivered):
            store.event(who, "Email Delivered", "2026-11-10")
        for _ in range(opened):
            store.event(who, "Email Opened", "2026-11-10 01:00:00")
    ratio = {
        "type": "event_ratio",
        "numerator": {"event": "Email Opened"},
        "denominator": {"event": "Email Delivered"},
        "op": "gte",
        "value": 0.25,
    }
    assert members(store, ratio) == {"a", "b"}  # c: nothing delivered, no ratio
    assert members(store, {**ratio, "min_denominator": 2}) == {"a"}


def test_sequence_within_a_time_limit(store: Store) -> None:
    store.profiles("a", "b", "c")
    store.event("a", "Product Added", "2026-11-10 00:00:00")
    store.event("a", "Order Completed", "2026-11-10 20:00:00")  # within a day: followed
    store.event("b", "Product Added", "2026-11-10 00:00:00")
    store.event("b", "Order Completed", "2026-11-12 00:00:00")  # two days later: too late
    store.event("c", "Product Added", "2026-11-10 00:00:00")
    store.event("c", "Order Completed", "2026-11-11 00:00:00")  # exactly one day: followed
    sequence = {
        "type": "event_sequence",
        "first": {"event": "Product Added"},
        "then_not": [{"event": "Order Completed"}],
        "within": {"amount": 1},
    }
    assert members(store, sequence) == {"b"}


def test_absolute_window_and_calendar_months(store: Store) -> None:
    store.profiles("a", "b", "c")
    store.order("a", "2026-10-31 23:59:59")
    store.order("b", "2026-11-01 00:00:00")
    store.order("c", "2026-08-22 12:00:01")  # just inside three calendar months back
    november = {"type": "orders", "window": {"since": "2026-11-01", "until": "2026-12-01"}}
    assert members(store, november) == {"b"}
    october = {"type": "orders", "window": {"since": "2026-10-01", "until": "2026-11-01"}}
    assert members(store, october) == {"a"}
    assert members(store, {"type": "orders", "window": {"last": 3, "unit": "months"}}) == {
        "a",
        "b",
        "c",
    }


def test_order_average_and_coupon_codes(store: Store) -> None:
    store.profiles("a", "b")
    store.order("a", "2026-10-01", 100, coupon_code="WELCOME")
    store.order("a", "2026-10-02", 300)
    store.order("b", "2026-10-01", 50, coupon_code="welcome ")
    assert members(store, {"type": "orders", "measure": "average", "op": "eq", "value": 200}) == {
        "a"
    }
    assert members(store, {"type": "orders", "coupon_codes": ["Welcome"]}) == {"a", "b"}


def test_reviews_and_tickets_filters(store: Store) -> None:
    store.profiles("a", "b")
    store.review("a", "2026-10-01", 5)
    store.review("a", "2026-10-02", 2)
    store.review("b", "2026-10-01", 4, product="p9")
    store.ticket("a", "2026-10-01", status="solved")
    store.ticket("b", "2026-10-01", status="open")
    assert members(
        store, {"type": "reviews", "measure": "average_rating", "op": "lt", "value": 4}
    ) == {"a"}
    assert members(store, {"type": "reviews", "products": ["p9"]}) == {"b"}
    assert members(store, {"type": "tickets", "statuses": ["OPEN"]}) == {"b"}


def test_exclude_and_sql_template_under_not(store: Store) -> None:
    store.profile("a", total_spend=10)
    store.profile("b", total_spend=20)
    store.profile("c")
    store.service.create_sql_template(
        "spenders", "SELECT profile_id FROM profiles WHERE total_spend > 15"
    )
    assert members(store, {"not": {"type": "sql_template", "template": "spenders"}}) == {"a", "c"}
    everyone = {"type": "trait", "trait": "total_spend", "op": "is_set"}
    assert members(store, everyone, exclude={"type": "sql_template", "template": "spenders"}) == {
        "a"
    }


@pytest.mark.parametrize("materialize", [True, False])
def test_both_record_paths_agree(materialize: bool) -> None:
    store = Store(materialize=materialize)
    try:
        store.profiles("a", "b")
        store.event("a", "Product Viewed", "2026-11-20", {"category": "shoes"})
        store.order("b", "2026-11-20", 500)
        assert members(
            store,
            {
                "type": "event",
                "event": "Product Viewed",
                "where": [{"property": "category", "value": "shoes"}],
            },
        ) == {"a"}
        assert members(store, {"type": "orders", "measure": "sum", "op": "gt", "value": 100}) == {
            "b"
        }
    finally:
        store.engine.close()
