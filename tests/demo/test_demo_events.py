"""Events: Segment-spec messages with stitchable anonymous history, funnels and email."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pytest

from segmint.model.tables import EVENT_TYPES

if TYPE_CHECKING:
    from .conftest import Store


SPEC_EVENTS = {
    "Product Viewed", "Product Added", "Checkout Started", "Order Completed", "Email Delivered",
    "Email Opened", "Email Link Clicked",
}  # fmt: skip


def _ts(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.fixture(scope="module")
def events(clean_store: Store) -> list[dict[str, Any]]:
    parsed, broken = clean_store.events()
    assert broken == 0
    return parsed


def test_messages_follow_the_segment_spec(events: list[dict[str, Any]], clean_store: Store) -> None:
    assert len(events) == clean_store.manifest.file("events.jsonl").rows
    assert len({e["messageId"] for e in events}) == len(events)
    allowed = {"messageId", "type", "event", "anonymousId", "userId", "previousId", "name",
               "timestamp", "properties", "traits", "context", "receivedAt"}  # fmt: skip
    start = datetime.fromisoformat(clean_store.manifest.start)
    for e in events:
        assert set(e) <= allowed
        assert e["type"] in EVENT_TYPES
        assert "anonymousId" in e or "userId" in e
        assert start <= _ts(e["timestamp"]) <= _ts(e["receivedAt"])
        if e["type"] == "track":
            assert e["event"] in SPEC_EVENTS
        else:
            assert "event" not in e
    kinds = Counter(e.get("event", e["type"]) for e in events)
    assert set(kinds) == SPEC_EVENTS | {"page", "identify", "alias"}
    assert kinds["page"] > kinds["Product Viewed"] > kinds["Product Added"]
    assert kinds["Product Added"] > kinds["Checkout Started"] > kinds["Order Completed"]
    assert kinds["Email Delivered"] > kinds["Email Opened"] > kinds["Email Link Clicked"]


def test_pages_carry_their_url_path_and_category(events: list[dict[str, Any]]) -> None:
    pages = [e for e in events if e["type"] == "page"]
    for e in pages[:5000]:
        props, page = e["properties"], e["context"]["page"]
        assert props["url"].endswith(props["path"]) and page["path"] == props["path"]
        assert props["name"] == e["name"]
        if props["path"].startswith(("/collections/", "/products/")):
            assert props["category"] in props["path"] or props["path"].startswith("/products/")
    paths = Counter(e["properties"]["path"].split("/")[1] for e in pages)
    assert paths[""] and paths["collections"] and paths["products"] and paths["checkout"]


def test_anonymous_history_can_be_stitched(events: list[dict[str, Any]]) -> None:
    identified: dict[str, tuple[str, datetime]] = {}
    for e in events:
        if e["type"] in ("identify", "alias"):
            identified.setdefault(e["anonymousId"], (e["userId"], _ts(e["timestamp"])))
            if e["type"] == "identify":
                assert "@" in e["traits"]["email"]
            else:
                assert e["previousId"] == e["anonymousId"]
    before_identify = set()
    never = set()
    for e in events:
        anon = e.get("anonymousId")
        if anon is None:
            continue
        if anon not in identified:
            never.add(anon)
            assert "userId" not in e
        elif "userId" not in e and _ts(e["timestamp"]) < identified[anon][1]:
            before_identify.add(anon)
        elif "userId" in e and e["type"] != "alias":
            assert e["userId"] == identified[anon][0]
    # Visitors who browsed before signing up, and visitors who never identify.
    assert len(before_identify) > 100
    assert len(never) > 100
    assert sum(e["type"] == "alias" for e in events) > 10


def test_web_orders_complete_a_checkout(events: list[dict[str, Any]], clean_store: Store) -> None:
    web = {o["order_id"] for o in clean_store.records("orders.csv") if o["channel"] == "web"}
    legacy: dict[str, str] = {}
    for row in clean_store.records("shopify_orders.csv"):
        legacy.setdefault(row["Name"], row["Source"])
    web |= {name for name, source in legacy.items() if source == "web"}
    quantities: dict[str, int] = defaultdict(int)
    for line in clean_store.records("order_lines.csv"):
        quantities[line["order_id"]] += int(line["quantity"])
    for row in clean_store.records("shopify_orders.csv"):
        quantities[row["Name"]] += int(row["Lineitem quantity"])
    completed = [e for e in events if e.get("event") == "Order Completed"]
    assert {e["properties"]["order_id"] for e in completed} == web
    assert len(completed) == len(web)
    for e in completed:
        props = e["properties"]
        assert sum(p["quantity"] for p in props["products"]) == quantities[props["order_id"]]
        assert props["revenue"] == pytest.approx(props["subtotal"] - props["discount"])
    checkouts = [e for e in events if e.get("event") == "Checkout Started"]
    abandoned = [e for e in checkouts if "order_id" not in e["properties"]]
    assert len(abandoned) > 20
    assert all(e["properties"]["value"] > 0 for e in abandoned)


def test_cart_abandoners_exist(events: list[dict[str, Any]]) -> None:
    added, ordered = set(), set()
    for e in events:
        who = e.get("userId") or e.get("anonymousId")
        if e.get("event") == "Product Added":
            added.add(who)
        elif e.get("event") == "Order Completed":
            ordered.add(who)
    assert len(added - ordered) > 50


def test_sessions_have_realistic_lengths(events: list[dict[str, Any]]) -> None:
    visits: dict[str, list[datetime]] = defaultdict(list)
    for e in events:
        if e["type"] == "page":
            visits[e["anonymousId"]].append(_ts(e["timestamp"]))
    lengths = []
    for times in visits.values():
        times.sort()
        start = prev = times[0]
        for t in times[1:]:
            if (t - prev).total_seconds() > 1800:  # a new session after 30 minutes idle
                lengths.append((prev - start).total_seconds())
                start = t
            prev = t
        lengths.append((prev - start).total_seconds())
    lengths.sort()
    median = lengths[len(lengths) // 2]
    assert 30 < median < 900
    assert sum(x > 900 for x in lengths) > 0.01 * len(lengths)  # visits longer than 15 minutes


def test_email_engagement_by_campaign(events: list[dict[str, Any]], clean_store: Store) -> None:
    customers = {c["customer_id"]: c for c in clean_store.records("customers.csv")}
    mails = [e for e in events if e.get("event", "").startswith("Email")]
    categories = Counter()
    for e in mails:
        props = e["properties"]
        assert {"campaign_id", "campaign_name", "email_subject", "category"} <= set(props)
        categories[props["category"]] += 1
        c = customers[e["userId"]]
        assert e["context"]["traits"]["email"] == c["email"].strip().lower()
        if e["event"] == "Email Delivered":
            sent = _ts(e["timestamp"]).strftime("%Y-%m-%d %H:%M:%S")
            assert sent >= c["created_at"]
            # Opted-out customers get nothing after they opted out.
            if c["accepts_marketing"] == "false":
                assert sent < c["marketing_consent_updated_at"]
    assert len(categories) >= 5 and "newsletter" in categories
    opened = Counter(e["userId"] for e in mails if e["event"] == "Email Opened")
    delivered = Counter(e["userId"] for e in mails if e["event"] == "Email Delivered")
    rates = [opened[u] / delivered[u] for u in delivered if delivered[u] >= 5]
    assert 0.1 < sum(rates) / len(rates) < 0.5
    assert min(rates) < 0.1 and max(rates) > 0.5  # engagement differs from person to person
