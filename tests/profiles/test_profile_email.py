"""Email traits per window and per category (worked by hand).

Build date: end of 2025-06-30 (UTC). Windows start after: 7d 2025-06-23 23:59:59.999999,
30d 2025-05-31 23:59:59.999999, 90d 2025-04-01 23:59:59.999999.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from .profile_helpers import Store


def _email(mid: str, event: str, at: str, user: str = "c1", **props: str) -> dict[str, object]:
    return {
        "message_id": mid,
        "type": "track",
        "event": event,
        "user_id": user,
        "timestamp": at,
        "properties": props,
    }


@pytest.fixture(scope="module")
def store() -> Iterator[Store]:
    s = Store()
    s.person("p1", "customer_id:c1")
    s.person("p2", "customer_id:c2")
    s.person("p3", "customer_id:c3")
    s.add(
        "events",
        [
            # e1 (apparel): delivered Jun 28, opened twice (Jun 28, Jun 29), clicked Jun 28.
            # Only the delivery carries the category.
            _email(
                "a1", "Email Delivered", "2025-06-28T09:00:00Z", email_id="e1", category="apparel"
            ),
            _email("a2", "Email Opened", "2025-06-28T10:00:00Z", email_id="e1"),
            _email("a3", "Email Opened", "2025-06-29T08:00:00Z", email_id="e1"),
            _email("a4", "Email Link Clicked", "2025-06-28T10:01:00Z", email_id="e1"),
            # e2 (apparel): delivered Jun 10, never opened.
            _email(
                "b1", "Email Delivered", "2025-06-10T09:00:00Z", email_id="e2", category="apparel"
            ),
            # e3 (shoes): delivered May 15, opened Jun 25.
            _email(
                "c1", "Email Delivered", "2025-05-15T09:00:00Z", email_id="e3", category="shoes"
            ),
            _email("c2", "Email Opened", "2025-06-25T09:00:00Z", email_id="e3", category="shoes"),
            # e4 (no category): delivered Apr 15, opened and clicked Apr 16.
            _email("d1", "Email Delivered", "2025-04-15T09:00:00Z", email_id="e4"),
            _email("d2", "Email Opened", "2025-04-16T09:00:00Z", email_id="e4"),
            _email("d3", "Email Link Clicked", "2025-04-16T09:01:00Z", email_id="e4"),
            # e5 (apparel): delivered Mar 1, outside every window.
            _email(
                "f1", "Email Delivered", "2025-03-01T09:00:00Z", email_id="e5", category="apparel"
            ),
            # Not rated: a bounce.
            _email("g1", "Email Bounced", "2025-06-29T09:00:00Z", email_id="e6"),
            # p2: a campaign delivered once and two opens without any id: each open counts.
            _email("h1", "Email Delivered", "2025-06-29T09:00:00Z", user="c2", campaign_id="k9"),
            _email("h2", "Email Opened", "2025-06-29T10:00:00Z", user="c2"),
            _email("h3", "Email Opened", "2025-06-29T11:00:00Z", user="c2"),
            # p3: the 7-day boundary with zone offsets. 01:00 at +02:00 on Jun 24 is Jun 23 23:00
            # UTC (outside); 23:30 at -01:00 on Jun 23 is Jun 24 00:30 UTC (inside).
            _email("t1", "Email Opened", "2025-06-24T01:00:00+02:00", user="c3", email_id="x1"),
            _email("t2", "Email Opened", "2025-06-23T23:30:00-01:00", user="c3", email_id="x2"),
        ],
    )
    s.build()
    yield s
    s.close()


def test_counts_and_rates_per_window(store: Store):
    p1 = store.profile("p1")
    # 7d: delivered e1; opened e1 (last open Jun 29) and e3 (Jun 25); clicked e1.
    # open rate 2 / 1 capped at 1.
    assert (p1["email_delivered_7d"], p1["email_opened_7d"], p1["email_clicked_7d"]) == (1, 2, 1)
    assert p1["email_open_rate_7d"] == 1.0
    assert p1["email_click_rate_7d"] == 1.0
    # 30d: delivered e1, e2; opened e1, e3; clicked e1.
    assert (p1["email_delivered_30d"], p1["email_opened_30d"], p1["email_clicked_30d"]) == (2, 2, 1)
    assert p1["email_open_rate_30d"] == 1.0
    assert p1["email_click_rate_30d"] == 0.5
    # 90d: delivered e1..e4; opened e1, e3, e4; clicked e1, e4.
    assert (p1["email_delivered_90d"], p1["email_opened_90d"], p1["email_clicked_90d"]) == (4, 3, 2)
    assert p1["email_open_rate_90d"] == 0.75
    assert p1["email_click_rate_90d"] == 0.5
    assert p1["last_email_open_at"] == datetime(2025, 6, 29, 8)
    assert p1["last_email_click_at"] == datetime(2025, 6, 28, 10, 1)
    assert p1["last_email_engagement_at"] == datetime(2025, 6, 29, 8)
    # Email engagement counts as engagement; the bounce does not (and is not web activity).
    assert p1["last_engagement_at"] == datetime(2025, 6, 29, 8)
    assert p1["sessions"] == 0


def test_rates_per_category(store: Store):
    rows = store.rows("SELECT * FROM profile_email_stats WHERE profile_id = 'p1' ORDER BY category")
    assert [r["category"] for r in rows] == ["apparel", "shoes"]  # e4 has no category
    apparel, shoes = rows
    # apparel: e1 (opens and click inherit the delivery's category), e2; e5 is too old.
    assert (apparel["delivered_7d"], apparel["opened_7d"], apparel["clicked_7d"]) == (1, 1, 1)
    assert (apparel["open_rate_7d"], apparel["click_rate_7d"]) == (1.0, 1.0)
    assert (apparel["delivered_30d"], apparel["opened_30d"], apparel["clicked_30d"]) == (2, 1, 1)
    assert (apparel["open_rate_30d"], apparel["click_rate_30d"]) == (0.5, 0.5)
    assert (apparel["delivered_90d"], apparel["opened_90d"]) == (2, 1)
    assert apparel["last_open_at"] == datetime(2025, 6, 29, 8)
    assert apparel["last_click_at"] == datetime(2025, 6, 28, 10, 1)
    # shoes: e3 delivered May 15 (only in 90d), opened Jun 25. Nothing delivered in 7d or 30d:
    # no rate there.
    assert (shoes["delivered_7d"], shoes["opened_7d"], shoes["open_rate_7d"]) == (0, 1, None)
    assert (shoes["delivered_30d"], shoes["open_rate_30d"]) == (0, None)
    assert (shoes["delivered_90d"], shoes["opened_90d"], shoes["clicked_90d"]) == (1, 1, 0)
    assert (shoes["open_rate_90d"], shoes["click_rate_90d"]) == (1.0, 0.0)
    assert shoes["last_click_at"] is None


def test_emails_without_ids_count_each_event(store: Store):
    p2 = store.profile("p2")
    assert (p2["email_delivered_7d"], p2["email_opened_7d"]) == (1, 2)
    assert p2["email_open_rate_7d"] == 1.0  # 2 / 1, capped
    assert p2["email_click_rate_7d"] == 0.0
    assert store.rows("SELECT * FROM profile_email_stats WHERE profile_id = 'p2'") == []


def test_seven_day_boundary_with_time_zones(store: Store):
    p3 = store.profile("p3")
    assert p3["email_opened_7d"] == 1  # x2 only
    assert p3["email_opened_30d"] == 2
    assert p3["email_open_rate_7d"] is None  # nothing delivered
    assert p3["last_email_open_at"] == datetime(2025, 6, 24, 0, 30)


def test_custom_event_names(store: Store):
    custom = Store(email_opened_events=["Email Opened", "Opened Email"])
    try:
        custom.person("p1", "customer_id:c1")
        custom.add(
            "events",
            [
                _email("a", "Email Delivered", "2025-06-29T09:00:00Z", email_id="e1"),
                _email("b", "Opened Email", "2025-06-29T10:00:00Z", email_id="e1"),
            ],
        )
        custom.build()
        assert custom.profile("p1")["email_open_rate_7d"] == 1.0
    finally:
        custom.close()
