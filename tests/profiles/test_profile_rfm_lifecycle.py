"""RFM scores with ties, the named segments, and lifecycle stages (all worked by hand).

Build date: end of 2025-06-30 (UTC). An order "k days ago" is placed at 12:00 UTC on
2025-06-30 minus k days, so days_since_last_order is k.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from segmint.profiles.catalogue import RFM_SEGMENTS
from segmint.profiles.rfm import RFM_GRID, rfm_segment, segment_sql
from segmint.profiles.sql import statement

from .profile_helpers import Store

BUILD_DAY = date(2025, 6, 30)


def _orders(
    customer: str, days_ago: list[int], totals: list[str], *, times: list[str] | None = None
) -> list[dict[str, object]]:
    rows = []
    for i, (ago, total) in enumerate(zip(days_ago, totals, strict=True)):
        day = BUILD_DAY - timedelta(days=ago)
        clock = times[i] if times else "12:00:00"
        rows.append(
            {
                "order_id": f"{customer}-{i}",
                "customer_id": customer,
                "ordered_at": f"{day}T{clock}Z",
                "total": total,
            }
        )
    return rows


# buyer: (days ago of each order, totals). Ten buyers:
#   frequency   1 1 1 1 1 1 2 2 3 5
#   spend      10 10 20 30 40 50 60 60 90 200
#   recency   200 150 150 100 60 30 20 10 5 5 (days since the last order)
RFM_BUYERS: dict[str, tuple[list[int], list[str]]] = {
    "b1": ([200], ["10"]),
    "b2": ([150], ["10"]),
    "b3": ([150], ["20"]),
    "b4": ([100], ["30"]),
    "b5": ([60], ["40"]),
    "b6": ([30], ["50"]),
    "b7": ([40, 20], ["30", "30"]),
    "b8": ([40, 10], ["30", "30"]),
    "b9": ([25, 15, 5], ["30", "30", "30"]),
    "b10": ([45, 35, 25, 15, 5], ["40", "40", "40", "40", "40"]),
}


@pytest.fixture(scope="module")
def rfm_store() -> Iterator[Store]:
    s = Store()
    orders = []
    for buyer, (ago, totals) in RFM_BUYERS.items():
        s.person(buyer, f"customer_id:{buyer}")
        orders += _orders(buyer, ago, totals)
    s.person("p0", "customer_id:p0")  # never ordered
    s.add("customers", [{"customer_id": "p0"}])
    s.add("orders", orders)
    s.build()
    yield s
    s.close()


def test_scores_rank_buyers_and_ties_share_a_score(rfm_store: Store):
    # score = 1 + floor(5 x worse / 10) = 1 + floor(worse / 2), "worse" = buyers strictly worse.
    # F: six buyers with 1 order (worse 0) -> 1; 2 orders (worse 6) -> 4; 3 (worse 8) -> 5;
    #    5 (worse 9) -> 5.
    # M: 10, 10 (worse 0) -> 1; 20 (2) -> 2; 30 (3) -> 2; 40 (4) -> 3; 50 (5) -> 3;
    #    60, 60 (6) -> 4; 90 (8) -> 5; 200 (9) -> 5.
    # R (more days is worse): 200 (0) -> 1; 150, 150 (1) -> 1; 100 (3) -> 2; 60 (4) -> 3;
    #    30 (5) -> 3; 20 (6) -> 4; 10 (7) -> 4; 5, 5 (8) -> 5.
    expected = {
        "b1": (1, 1, 1),
        "b2": (1, 1, 1),
        "b3": (1, 1, 2),
        "b4": (2, 1, 2),
        "b5": (3, 1, 3),
        "b6": (3, 1, 3),
        "b7": (4, 4, 4),
        "b8": (4, 4, 4),
        "b9": (5, 5, 5),
        "b10": (5, 5, 5),
    }
    got = {
        r["profile_id"]: (r["recency_score"], r["frequency_score"], r["monetary_score"])
        for r in rfm_store.rows("SELECT * FROM profiles WHERE order_count > 0")
    }
    assert got == expected
    assert rfm_store.profile("b3")["rfm_cell"] == "112"
    assert rfm_store.profile("b5")["rfm_cell"] == "313"


def test_named_segments(rfm_store: Store):
    # FM = floor((F + M) / 2); segment from (R, FM) on the map.
    expected = {
        "b1": ("Lost", 1),  # R1 FM1
        "b2": ("Lost", 1),
        "b3": ("Lost", 1),  # R1, (1 + 2) / 2 -> 1
        "b4": ("Hibernating", 1),  # R2 FM1
        "b5": ("About to Sleep", 2),  # R3, (1 + 3) / 2 = 2
        "b6": ("About to Sleep", 2),
        "b7": ("Loyal", 4),  # R4 FM4
        "b8": ("Loyal", 4),
        "b9": ("Champions", 5),  # R5 FM5
        "b10": ("Champions", 5),
    }
    got = {
        r["profile_id"]: (r["rfm_segment"], r["fm_score"])
        for r in rfm_store.rows("SELECT * FROM profiles WHERE order_count > 0")
    }
    assert got == expected
    p0 = rfm_store.profile("p0")
    assert (p0["recency_score"], p0["rfm_cell"], p0["rfm_segment"]) == (None, None, None)


def test_the_map_by_hand():
    assert rfm_segment(5, 1, 1) == "New"
    assert rfm_segment(4, 1, 1) == "Promising"
    assert rfm_segment(3, 3, 3) == "Need Attention"
    assert rfm_segment(1, 5, 5) == "Can't Lose Them"
    assert rfm_segment(2, 4, 3) == "At Risk"  # FM (4 + 3) // 2 = 3
    assert rfm_segment(5, 2, 3) == "Potential Loyalists"  # FM 2
    assert rfm_segment(5, 5, 4) == "Champions"  # FM 4
    assert rfm_segment(3, 5, 4) == "Loyal"
    with pytest.raises(ValueError, match="1 to 5"):
        rfm_segment(0, 1, 1)
    assert {name for row in RFM_GRID.values() for name in row} == set(RFM_SEGMENTS)


def test_the_sql_map_matches_the_documented_grid(store: Store):
    combos = list(itertools.product(range(1, 6), repeat=3))
    values = ", ".join(f"({r}, {f}, {m})" for r, f, m in combos)
    query = statement(
        f"SELECT r, f, m, {{segment}} FROM (SELECT r AS recency_score, f AS frequency_score, "
        f"m AS monetary_score, r, f, m FROM (VALUES {values}) AS t(r, f, m)) AS s",
        {"segment": segment_sql()},
    )
    got = {(r, f, m): name for r, f, m, name in store.engine.fetch_all(query)}
    assert got == {c: rfm_segment(*c) for c in combos}


@pytest.fixture(scope="module")
def lifecycle_store() -> Iterator[Store]:
    s = Store()
    buyers = {
        "n1": ([10], None),  # first order 10 days ago
        "L": ([95, 65, 35, 5], None),  # own gaps 30, 30, 30
        "R": ([60, 50, 40], None),  # own gaps 10, 10
        "X": ([100, 90, 80], None),  # own gaps 10, 10
        "T": ([70, 50], None),  # gap 20, only 2 orders
        "a1": ([40], None),
        "a2": ([100], None),
        "act": ([40, 20], None),  # gap 20
        # 31 days ago at 12:00, then four orders an hour apart 12 days ago (09:00 to 12:00):
        # gaps 18.875 days, 1 h, 1 h, 1 h; own average 19 / 4 = 4.75 days.
        "S": ([31, 12, 12, 12, 12], ["12:00:00", "09:00:00", "10:00:00", "11:00:00", "12:00:00"]),
    }
    orders = []
    for buyer, (ago, times) in buyers.items():
        s.person(buyer, f"customer_id:{buyer}")
        orders += _orders(buyer, ago, ["10"] * len(ago), times=times)
    s.person("p0", "customer_id:p0")
    orders.append(
        {
            "order_id": "p0-0",
            "customer_id": "p0",
            "status": "cancelled",
            "ordered_at": "2025-06-01T00:00:00Z",
            "total": "5",
        }
    )
    s.add("orders", orders)
    yield s
    s.close()


def test_lifecycle_stages_follow_the_store_rhythm(lifecycle_store: Store):
    lifecycle_store.build()
    # Gaps of the store: S 1h, 1h, 1h, 18.875; R 10, 10; X 10, 10; act 20; T 20; L 30 x 3.
    # Sorted: 1h 1h 1h 10 10 10 10 18.875 20 20 30 30 30 -> the median (7th of 13) is 10.
    # Intervals: own average from 3 orders on, else 10; at least 7.
    expected = {
        "n1": ("new", 10.0),  # first order 10 < 30 days ago
        "L": ("loyal", 30.0),  # 5 days since, not overdue, 4 orders
        "R": ("at_risk", 10.0),  # 40 > 2 x 10, not > 4 x 10
        "X": ("lapsed", 10.0),  # 80 > 4 x 10
        "T": ("lapsed", 10.0),  # 2 orders: the store's 10; 50 > 40
        "a1": ("at_risk", 10.0),  # 40 > 20
        "a2": ("lapsed", 10.0),  # 100 > 40
        "act": ("active", 10.0),  # 20 is not > 2 x 10; 2 orders: not loyal
        # Own 4.75 days, floored at 7: 12 is not > 14 -> loyal (unfloored: 12 > 9.5, at risk).
        "S": ("loyal", 7.0),
        "p0": ("prospect", None),  # a cancelled order is not a purchase
    }
    got = {
        r["profile_id"]: (r["lifecycle_stage"], r["purchase_interval_days"])
        for r in lifecycle_store.rows("SELECT * FROM profiles")
    }
    assert got == {k: (stage, pytest.approx(v) if v else v) for k, (stage, v) in expected.items()}
    assert lifecycle_store.profile("R")["overdue_ratio"] == pytest.approx(4.0)
    assert lifecycle_store.profile("T")["overdue_ratio"] == pytest.approx(5.0)
    builds = lifecycle_store.rows("SELECT store_median_gap_days FROM profile_builds")
    assert builds[-1]["store_median_gap_days"] == pytest.approx(10.0)


def test_lifecycle_thresholds_come_from_the_config(lifecycle_store: Store):
    lifecycle_store.config.profiles.new_customer_days = 5
    lifecycle_store.config.profiles.loyal_min_orders = 5
    try:
        lifecycle_store.build()
    finally:
        lifecycle_store.config.profiles.new_customer_days = 30
        lifecycle_store.config.profiles.loyal_min_orders = 3
    # n1 (10 days) is no longer new: 1 order, 10 days since is not > 20 -> active.
    assert lifecycle_store.profile("n1")["lifecycle_stage"] == "active"
    # L has 4 orders < 5: active rather than loyal.
    assert lifecycle_store.profile("L")["lifecycle_stage"] == "active"


def test_a_store_without_repeat_purchases_uses_the_default_interval(store: Store):
    store.person("p1", "customer_id:c1")
    store.add("orders", _orders("c1", [100], ["10"]))
    store.build()
    p1 = store.profile("p1")
    # No gaps anywhere: interval 90 (default); 100 > 2 x 90 is false -> active.
    assert (p1["purchase_interval_days"], p1["lifecycle_stage"]) == (90.0, "active")
    # A single buyer: nobody is worse, every score is 1.
    assert (p1["rfm_cell"], p1["rfm_segment"]) == ("111", "Lost")
