"""Web traits: sessionization, visit rhythm, product views and open carts (worked by hand).

Builds run as of the end of 2025-06-30 (UTC); "the last 30 days" starts after
2025-05-31 23:59:59.999999.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from segmint.profiles.types import ProfileBuildResult

from .profile_helpers import Store


def _event(
    mid: str,
    at: str,
    *,
    event: str | None = None,
    anon: str | None = None,
    user: str | None = None,
    kind: str = "track",
    **extra: object,
) -> dict[str, object]:
    row: dict[str, object] = {"message_id": mid, "type": kind, "timestamp": at}
    if event:
        row["event"] = event
    if anon:
        row["anonymous_id"] = anon
    if user:
        row["user_id"] = user
    row.update(extra)
    return row


@pytest.fixture(scope="module")
def built() -> Iterator[tuple[Store, ProfileBuildResult]]:
    store = Store()
    store.person("p1", "customer_id:c1", "anonymous_id:a1")
    store.person("p2", "customer_id:c2", "anonymous_id:a2")
    store.person("p3", "customer_id:c3")
    store.person("p4", "customer_id:c4")
    store.add(
        "events",
        [
            # p1, session A on Jun 29: 10:00 -> 10:20 (20 min) -> 10:50 (exactly 30 min: the
            # same session), on two ids of the same person. 50 minutes long.
            _event("m1", "2025-06-29T10:00:00Z", kind="page", anon="a1"),
            _event("m2", "2025-06-29T10:20:00Z", event="Product Viewed", anon="a1"),
            _event("m3", "2025-06-29T10:50:00Z", event="Product Added", user="c1"),
            # Not web activity: must not glue sessions A and B together.
            _event("m4", "2025-06-29T11:05:00Z", event="Email Opened", user="c1"),
            _event("m5", "2025-06-29T11:06:00Z", kind="identify", anon="a1", user="c1"),
            # Session B: 30 min 1 s after 10:50, a one-event session (0 minutes).
            _event("m6", "2025-06-29T11:20:01Z", kind="page", anon="a1"),
            # Session C on May 1 (outside the last 30 days): 09:00 -> 09:10, 10 minutes.
            _event("m7", "2025-05-01T09:00:00Z", kind="page", anon="a1"),
            _event("m8", "2025-05-01T09:10:00Z", kind="screen", anon="a1"),
            # p2: seen first on Jan 1 (one session), then added to cart on Jun 28 and ordered.
            _event("n1", "2025-01-01T08:00:00Z", event="Product Viewed", anon="a2"),
            _event("n2", "2025-06-28T10:00:00Z", event="Product Added", anon="a2"),
            # p3: the Order Completed event after the add closes the cart.
            _event("q1", "2025-06-27T12:00:00Z", event="Product Added", user="c3"),
            _event("q2", "2025-06-27T12:05:00Z", event="Order Completed", user="c3"),
            # p4: an Order Completed before the add does not close it.
            _event("r1", "2025-06-27T11:00:00Z", event="Order Completed", user="c4"),
            _event("r2", "2025-06-27T12:00:00Z", event="Product Added", user="c4"),
            # After the build date: left out.
            _event("z1", "2025-07-01T00:00:00Z", kind="page", anon="a1"),
            # Bad data: no id at all, and an id nobody has.
            _event("x1", "2025-06-29T10:00:00Z", kind="page"),
            _event("x2", "2025-06-29T10:00:00Z", kind="page", anon="stranger"),
        ],
    )
    store.add(
        "orders",
        [
            {
                "order_id": "o1",
                "customer_id": "c2",
                "ordered_at": "2025-06-28T10:30:00Z",
                "total": "10",
            },
        ],
    )
    result = store.build()
    yield store, result
    store.close()


def test_sessions_are_cut_after_30_minutes_without_a_web_event(built):
    store, _ = built
    p1 = store.profile("p1")
    assert p1["sessions"] == 3  # A, B, C
    assert p1["sessions_30d"] == 2  # A and B start on Jun 29
    assert p1["web_active_days_30d"] == 1
    # (50 + 0 + 10) / 3 sessions.
    assert p1["average_session_minutes"] == pytest.approx(20.0)
    assert p1["page_views"] == 4  # m1, m6, m7 (page) and m8 (screen)
    assert (p1["product_views"], p1["product_views_30d"]) == (1, 1)
    assert (p1["add_to_carts"], p1["add_to_carts_30d"]) == (1, 1)
    assert p1["first_seen_web_at"] == datetime(2025, 5, 1, 9)
    assert p1["last_seen_at"] == datetime(2025, 6, 29, 11, 20, 1)
    assert p1["last_product_view_at"] == datetime(2025, 6, 29, 10, 20)
    assert p1["last_add_to_cart_at"] == datetime(2025, 6, 29, 10, 50)


def test_visits_per_month(built):
    store, _ = built
    # p1 first seen May 1: May 1 -> Jun 30 is 60 days, 61 with both ends; 3 sessions.
    assert store.profile("p1")["visits_per_month"] == pytest.approx(3 * 30 / 61)
    # p2 first seen Jan 1: 181 days, capped at 180. The window starts after Jan 1 23:59:59,
    # so the Jan 1 session is outside it: 1 session in 180 days.
    p2 = store.profile("p2")
    assert p2["sessions"] == 2
    assert p2["visits_per_month"] == pytest.approx(1 * 30 / 180)
    # p3: one session, 12:00 -> 12:05 (the Order Completed track event is web activity).
    p3 = store.profile("p3")
    assert (p3["sessions"], p3["average_session_minutes"]) == (1, pytest.approx(5.0))


def test_open_carts(built):
    store, _ = built
    assert store.profile("p1")["has_open_cart"] is True  # added, never ordered
    assert store.profile("p2")["has_open_cart"] is False  # order o1 came after the add
    assert store.profile("p3")["has_open_cart"] is False  # Order Completed after the add
    assert store.profile("p4")["has_open_cart"] is True  # Order Completed was before it


def test_bad_events_are_counted_and_later_ones_left_out(built):
    store, result = built
    assert result.issues.events_without_ids == 1  # x1
    assert result.issues.unresolved_events == 1  # x2
    assert result.after_as_of["events"] == 1  # z1
    assert store.profile("p1")["last_seen_at"] < datetime(2025, 7, 1)


def test_a_longer_timeout_joins_sessions(store: Store):
    store.config.profiles.session_timeout_minutes = 60
    store.person("p1", "anonymous_id:a1")
    store.add(
        "events",
        [
            _event("m1", "2025-06-29T10:00:00Z", kind="page", anon="a1"),
            _event("m2", "2025-06-29T10:45:00Z", kind="page", anon="a1"),
            _event("m3", "2025-06-29T12:00:00Z", kind="page", anon="a1"),
        ],
    )
    store.build()
    p1 = store.profile("p1")
    # Gaps 45 min (same session at 60) and 75 min (new session): 45 and 0 minutes long.
    assert p1["sessions"] == 2
    assert p1["average_session_minutes"] == pytest.approx(22.5)
    # An anonymous visitor is a profile too, but not identified.
    assert p1["identified"] is False
    assert p1["visits_per_month"] == pytest.approx(2.0)  # 2 sessions, seen for < 30 days
