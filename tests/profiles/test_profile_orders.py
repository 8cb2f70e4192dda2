"""Order traits on a hand-made store; every expected value is worked out in the comments.

Builds run as of the end of 2025-06-30 (UTC) unless a test says otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

import pytest

from segmint.profiles.types import ProfileBuildResult

from .profile_helpers import Store


@pytest.fixture(scope="module")
def shop() -> Iterator[Store]:
    store = Store()
    _fill(store)
    yield store
    store.close()


@pytest.fixture(scope="module")
def built(shop: Store) -> tuple[Store, ProfileBuildResult]:
    return shop, shop.build()


def _fill(store: Store) -> None:
    store.person("p1", "customer_id:c1", "email:ann@x.com", first_seen="2024-01-01")
    store.person("p2", "customer_id:c2", first_seen="2024-01-01")
    store.person("p3", "customer_id:c3", first_seen="2024-01-01")
    store.add(
        "customers",
        [
            {"customer_id": "c1", "email": "ann@x.com", "created_at": "2024-01-01"},
            {"customer_id": "c2", "created_at": "2024-01-01"},
            {"customer_id": "c3", "created_at": "2024-01-01"},
        ],
    )
    store.add(
        "products",
        [
            {
                "product_id": "sh1",
                "sku": "SKU-SH1",
                "category": "shoes",
                "product_line": "running",
                "price": "60",
            },
            {
                "product_id": "sh2",
                "sku": "SKU-SH2",
                "category": "shoes",
                "product_line": "running",
                "price": "120.25",
            },
            {
                "product_id": "ap1",
                "sku": "SKU-AP1",
                "category": "apparel",
                "product_line": "basics",
                "price": "50",
            },
        ],
    )
    store.add(
        "orders",
        [
            # p1's purchases: o1, o2 (partially refunded), o5 (by email only), o8.
            {
                "order_id": "o1",
                "customer_id": "c1",
                "ordered_at": "2025-01-10T12:00:00Z",
                "status": "completed",
                "total": "100.00",
            },
            {
                "order_id": "o2",
                "customer_id": "c1",
                "ordered_at": "2025-02-09T12:00:00Z",
                "status": "partially_refunded",
                "total": "80.00",
                "refunded_amount": "30.00",
                "coupon_code": "SPRING",
            },
            {
                "order_id": "o3",
                "customer_id": "c1",
                "ordered_at": "2025-03-01T12:00:00Z",
                "status": "refunded",
                "total": "45.50",
            },
            {
                "order_id": "o4",
                "customer_id": "c1",
                "ordered_at": "2025-03-11T12:00:00Z",
                "status": "cancelled",
                "total": "20",
            },
            {
                "order_id": "o5",
                "email": "ANN@x.com",
                "ordered_at": "2025-04-10T12:00:00Z",
                "status": "completed",
                "total": "120.25",
            },
            {
                "order_id": "o8",
                "customer_id": "c1",
                "ordered_at": "2025-04-20T12:00:00Z",
                "status": "completed",
                "total": "10.00",
            },
            {
                "order_id": "o7",
                "customer_id": "c1",
                "ordered_at": "2025-06-20T12:00:00Z",
                "status": "pending",
                "total": "10",
            },
            # After the build date: left out.
            {
                "order_id": "o6",
                "customer_id": "c1",
                "ordered_at": "2025-07-05T12:00:00Z",
                "status": "completed",
                "total": "999",
            },
            # p3 only has a refunded order.
            {
                "order_id": "o10",
                "customer_id": "c3",
                "ordered_at": "2025-05-05T12:00:00Z",
                "status": "refunded",
                "total": "30",
                "refunded_amount": "30",
            },
            # Nobody we know: counted as an issue, not dropped silently.
            {
                "order_id": "o9",
                "customer_id": "ghost",
                "email": "ghost@x.com",
                "ordered_at": "2025-05-01T00:00:00Z",
                "total": "15.50",
            },
        ],
    )
    store.add(
        "order_lines",
        [
            # o1: shoes at list price (full price), apparel below list price (a markdown).
            {
                "order_id": "o1",
                "line_number": 1,
                "product_id": "sh1",
                "quantity": 1,
                "unit_price": "60",
            },
            {
                "order_id": "o1",
                "line_number": 2,
                "product_id": "ap1",
                "quantity": 1,
                "unit_price": "40",
            },
            # o2: two apparel units; the order has a coupon, so not full price.
            {
                "order_id": "o2",
                "line_number": 1,
                "product_id": "ap1",
                "quantity": 2,
                "unit_price": "40",
            },
            {
                "order_id": "o3",
                "line_number": 1,
                "product_id": "sh1",
                "quantity": 1,
                "unit_price": "45.50",
            },
            # o5's line names its product by SKU only.
            {
                "order_id": "o5",
                "line_number": 1,
                "sku": "SKU-SH2",
                "quantity": 1,
                "unit_price": "120.25",
            },
            {
                "order_id": "nope",
                "line_number": 1,
                "product_id": "sh1",
                "quantity": 1,
                "unit_price": "1",
            },
        ],
    )


def test_purchases_spend_and_rhythm(built: tuple[Store, ProfileBuildResult]):
    shop, result = built
    p1 = shop.profile("p1")
    # Purchases: o1 (completed), o2 (partially refunded), o5 (via email), o8 -> 4.
    assert p1["order_count"] == 4
    # Net spend: 100 + (80 - 30) + 120.25 + 10 = 280.25; AOV 280.25 / 4 = 70.0625.
    assert p1["total_spend"] == Decimal("280.25")
    assert p1["average_order_value"] == Decimal("70.0625")
    assert p1["first_order_at"] == datetime(2025, 1, 10, 12)
    assert p1["last_order_at"] == datetime(2025, 4, 20, 12)
    # Gaps: Jan 10 -> Feb 9 = 30 days, Feb 9 -> Apr 10 = 19 + 31 + 10 = 60, Apr 10 -> 20 = 10.
    # Mean (last - first) / 3 = 100 / 3; median of 10, 30, 60 = 30.
    assert p1["average_days_between_orders"] == pytest.approx(100 / 3)
    assert p1["median_days_between_orders"] == pytest.approx(30.0)
    # Jan 10 -> Jun 30: 21 + 28 + 31 + 30 + 31 + 30 = 171 days; Apr 20 -> Jun 30: 10 + 31 + 30.
    assert p1["days_since_first_order"] == 171
    assert p1["days_since_last_order"] == 71
    # Only o2 (coupon) of the 4 purchases had a discount.
    assert p1["discount_order_share"] == pytest.approx(0.25)
    # Purchased lines: o1/1 full, o1/2 markdown, o2/1 coupon, o5/1 full -> 2 of 4.
    assert p1["full_price_line_share"] == pytest.approx(0.5)
    # o2 (partial) and o3 (full) refunds: 30 + 45.50 (no refunded_amount: the total).
    assert p1["refund_count"] == 2
    assert p1["refunded_amount"] == Decimal("75.50")
    assert p1["cancelled_count"] == 1
    assert p1["pending_count"] == 1
    # Windows end at Jun 30 23:59:59.999999. 30d: from Jun 1: no purchase (o7 is pending).
    assert (p1["order_count_30d"], p1["spend_30d"]) == (0, Decimal("0"))
    # 90d: from Apr 2: o5 and o8 -> 120.25 + 10.
    assert (p1["order_count_90d"], p1["spend_90d"]) == (2, Decimal("130.25"))
    # 180d: from Jan 2: all four.
    assert (p1["order_count_180d"], p1["spend_180d"]) == (4, Decimal("280.25"))
    assert (p1["order_count_365d"], p1["spend_365d"]) == (4, Decimal("280.25"))
    assert result.buyers == 1
    assert result.after_as_of["orders"] == 1  # o6


def test_category_and_product_line_shares(built: tuple[Store, ProfileBuildResult]):
    shop, _ = built
    rows = shop.rows(
        "SELECT dimension, value, orders, spend, order_share, spend_share, first_order_at, "
        "last_order_at FROM profile_category_stats WHERE profile_id = 'p1' "
        "ORDER BY dimension, value"
    )
    # Line spend: o1 shoes 60 + apparel 40, o2 apparel 2 x 40 = 80, o5 shoes 120.25 (found by
    # SKU); total 300.25. o8 has no lines. Order shares are of the 4 purchases.
    shoes = 60 + 120.25
    apparel = 40 + 80
    assert rows == [
        {
            "dimension": "category",
            "value": "apparel",
            "orders": 2,
            "spend": Decimal("120"),
            "order_share": 0.5,
            "spend_share": pytest.approx(apparel / 300.25),
            "first_order_at": datetime(2025, 1, 10, 12),
            "last_order_at": datetime(2025, 2, 9, 12),
        },
        {
            "dimension": "category",
            "value": "shoes",
            "orders": 2,
            "spend": Decimal("180.25"),
            "order_share": 0.5,
            "spend_share": pytest.approx(shoes / 300.25),
            "first_order_at": datetime(2025, 1, 10, 12),
            "last_order_at": datetime(2025, 4, 10, 12),
        },
        {
            "dimension": "product_line",
            "value": "basics",
            "orders": 2,
            "spend": Decimal("120"),
            "order_share": 0.5,
            "spend_share": pytest.approx(apparel / 300.25),
            "first_order_at": datetime(2025, 1, 10, 12),
            "last_order_at": datetime(2025, 2, 9, 12),
        },
        {
            "dimension": "product_line",
            "value": "running",
            "orders": 2,
            "spend": Decimal("180.25"),
            "order_share": 0.5,
            "spend_share": pytest.approx(shoes / 300.25),
            "first_order_at": datetime(2025, 1, 10, 12),
            "last_order_at": datetime(2025, 4, 10, 12),
        },
    ]
    p1 = shop.profile("p1")
    assert p1["category_count"] == 2
    assert p1["top_category"] == "shoes"
    assert p1["top_category_spend_share"] == pytest.approx(shoes / 300.25)
    assert p1["top_category_order_share"] == 0.5
    assert p1["top_product_line"] == "running"
    assert p1["top_product_line_spend_share"] == pytest.approx(shoes / 300.25)


def test_prospects_and_refund_only_customers(built: tuple[Store, ProfileBuildResult]):
    shop, _ = built
    p2 = shop.profile("p2")  # no order at all
    assert p2["order_count"] == 0 and p2["total_spend"] == Decimal("0")
    assert p2["first_order_at"] is None and p2["days_since_last_order"] is None
    assert p2["average_order_value"] is None and p2["discount_order_share"] is None
    assert p2["lifecycle_stage"] == "prospect"
    assert p2["rfm_segment"] is None and p2["recency_score"] is None
    p3 = shop.profile("p3")  # a refunded order is not a purchase
    assert p3["order_count"] == 0 and p3["refund_count"] == 1
    assert p3["refunded_amount"] == Decimal("30")
    assert p3["lifecycle_stage"] == "prospect"


def test_unattributed_orders_and_lines_are_counted(built: tuple[Store, ProfileBuildResult]):
    _, result = built
    assert result.issues.unresolved_orders == 1  # o9
    assert result.issues.unresolved_order_total == "15.5"
    assert result.issues.orphan_order_lines == 1  # the line of order "nope"
    assert result.issues.purchases_without_lines == 1  # o8
    assert result.issues.lines_without_category == 0


def test_as_of_leaves_later_orders_out(built: tuple[Store, ProfileBuildResult]):
    shop, _ = built
    # Into tables of their own (asof_20250331_...), next to the current profiles; identity
    # resolution would have written asof_20250331_identities (here: the same people).
    shop.engine.execute("CREATE TABLE asof_20250331_identities AS SELECT * FROM identities")
    result = shop.build("2025-03-31", prefix=None)
    assert result.prefix == "asof_20250331_"
    p1 = shop.profile("p1", prefix="asof_20250331_")
    # Only o1 and o2 are purchases by the end of March; o3 (refund) and o4 (cancelled) count.
    assert p1["order_count"] == 2
    assert p1["total_spend"] == Decimal("150.00")  # 100 + (80 - 30)
    assert p1["refund_count"] == 2 and p1["cancelled_count"] == 1
    assert p1["pending_count"] == 0
    assert p1["as_of"] == datetime(2025, 3, 31, 23, 59, 59, 999999)
    # Feb 9 -> Mar 31: 19 + 31 = 50 days.
    assert p1["days_since_last_order"] == 50
    cats = shop.rows(
        "SELECT value, spend FROM asof_20250331_profile_category_stats "
        "WHERE dimension = 'category' ORDER BY value"
    )
    assert cats == [
        {"value": "apparel", "spend": Decimal("120")},
        {"value": "shoes", "spend": Decimal("60")},
    ]
    # The current profiles are untouched.
    assert shop.profile("p1")["order_count"] == 4


def test_time_zones_and_the_last_days_boundary(store: Store):
    store.person("p1", "customer_id:c1")
    store.add(
        "orders",
        [
            # 01:30 at +02:00 is 23:30 UTC the day before: 7 days before Jun 30, not 6.
            {
                "order_id": "a",
                "customer_id": "c1",
                "ordered_at": "2025-06-24T01:30:00+02:00",
                "total": "10",
            },
            # 00:30 at +01:00 on Jun 1 is May 31 23:30 UTC: outside the last 30 days.
            {
                "order_id": "b",
                "customer_id": "c1",
                "ordered_at": "2025-06-01T00:30:00+01:00",
                "total": "1",
            },
            # Shopify's offset without a colon: 23:30 at -01:00 on May 31 is Jun 1 00:30 UTC,
            # inside.
            {
                "order_id": "c",
                "customer_id": "c1",
                "ordered_at": "2025-05-31 23:30:00 -0100",
                "total": "2",
            },
        ],
    )
    store.build()
    p1 = store.profile("p1")
    assert p1["last_order_at"] == datetime(2025, 6, 23, 23, 30)
    assert p1["days_since_last_order"] == 7
    assert p1["first_order_at"] == datetime(2025, 5, 31, 23, 30)
    # 30-day window: a (Jun 23) and c (Jun 1 00:30 UTC); not b (May 31 23:30 UTC).
    assert p1["order_count_30d"] == 2
    assert p1["spend_30d"] == Decimal("12")


def test_partial_refund_never_makes_spend_negative(store: Store):
    store.person("p1", "customer_id:c1")
    store.add(
        "orders",
        [
            {
                "order_id": "a",
                "customer_id": "c1",
                "ordered_at": "2025-06-01T00:00:00Z",
                "status": "partially_refunded",
                "total": "10",
                "refunded_amount": "25",
            },
            {
                "order_id": "b",
                "customer_id": "c1",
                "ordered_at": "2025-06-02T00:00:00Z",
                "status": "COMPLETED",
                "total": "5.125",
            },
        ],
    )
    store.build()
    p1 = store.profile("p1")
    # a: max(10 - 25, 0) = 0; b counts although its status is upper case.
    assert p1["order_count"] == 2
    assert p1["total_spend"] == Decimal("5.125")
    # 5.125 / 2 = 2.5625: exact to four decimals.
    assert p1["average_order_value"] == Decimal("2.5625")
