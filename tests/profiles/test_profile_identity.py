"""Profiles over real identity resolution: merges, as-of identity graphs, merge history."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from segmint.config import WorkspaceConfig
from segmint.profiles import ProfileExtension, build_profiles, register_extension, show_profile
from segmint.profiles.catalogue import ExtensionContext, unregister_extension

from .profile_helpers import Store


def _build(store: Store, **kwargs: object):
    return build_profiles(store.engine, store.config, **kwargs)  # type: ignore[arg-type]


def _profile_of(store: Store, email: str, prefix: str = "") -> dict[str, object]:
    rows = store.rows(f"SELECT * FROM {prefix}profiles WHERE email = ?", [email])
    assert len(rows) == 1
    return rows[0]


@pytest.fixture
def shop() -> Iterator[Store]:
    s = Store()
    s.engine.execute("DROP TABLE identities")  # identity resolution makes its own
    s.config = WorkspaceConfig()
    # Ann browses anonymously on Jun 1, signs up on Jun 2 (identify links a1 to c1), orders
    # on Jun 3.
    s.add(
        "events",
        [
            {
                "message_id": "m1",
                "type": "page",
                "anonymous_id": "a1",
                "timestamp": "2025-06-01T10:00:00Z",
            },
            {
                "message_id": "m2",
                "type": "track",
                "event": "Product Viewed",
                "anonymous_id": "a1",
                "timestamp": "2025-06-01T10:05:00Z",
            },
            {
                "message_id": "m3",
                "type": "identify",
                "anonymous_id": "a1",
                "user_id": "c1",
                "timestamp": "2025-06-02T09:00:00Z",
                "traits": {"email": "ann@x.com"},
            },
        ],
    )
    s.add(
        "customers",
        [
            {"customer_id": "c1", "email": "ann@x.com", "created_at": "2025-06-02T09:00:00Z"},
            # Bob has two accounts with two emails; the same phone, written two ways, links them.
            {
                "customer_id": "c2",
                "email": "bob@x.com",
                "phone": "+1 212 555 0100",
                "created_at": "2024-01-01",
            },
            {
                "customer_id": "c3",
                "email": "robert@y.com",
                "phone": "(212) 555-0100",
                "created_at": "2024-02-01",
            },
        ],
    )
    s.add(
        "orders",
        [
            {
                "order_id": "o1",
                "customer_id": "c1",
                "ordered_at": "2025-06-03T12:00:00Z",
                "total": "40",
            },
            {
                "order_id": "o2",
                "email": "bob@x.com",
                "ordered_at": "2025-05-01T12:00:00Z",
                "total": "10",
            },
            {
                "order_id": "o3",
                "email": "robert@y.com",
                "ordered_at": "2025-05-11T12:00:00Z",
                "total": "15",
            },
        ],
    )
    yield s
    s.close()


@pytest.fixture
def built(shop: Store) -> Store:
    result = _build(shop, as_of=None, prefix="")
    assert result.identity is not None and result.identity["profiles"] == 2
    return shop


def test_anonymous_browsing_then_signup_and_two_emails_linked_by_a_phone(built: Store):
    shop = built
    ann = _profile_of(shop, "ann@x.com")
    # The browsing before the signup belongs to Ann.
    assert (ann["page_views"], ann["product_views"], ann["sessions"]) == (1, 1, 1)
    assert ann["average_session_minutes"] == pytest.approx(5.0)
    assert (ann["customer_id"], ann["anonymous_id_count"], ann["order_count"]) == ("c1", 1, 1)
    assert ann["first_seen_at"] == datetime(2025, 6, 1, 10)

    bob = _profile_of(shop, "bob@x.com")  # c2 is the older account: its email is primary
    assert (bob["customer_id"], bob["customer_id_count"]) == ("c2", 2)
    assert (bob["email_count"], bob["phone_count"], bob["phone"]) == (2, 1, "+12125550100")
    # Orders by either email: 10 + 15, 10 days apart.
    assert (bob["order_count"], str(bob["total_spend"])) == (2, "25.0000")
    assert bob["average_days_between_orders"] == pytest.approx(10.0)


def test_as_of_uses_the_identity_graph_of_that_day(shop: Store):
    # At the end of Jun 1 Ann was an anonymous visitor: no account, no order yet.
    result = _build(shop, as_of="2025-06-01")
    assert result.prefix == "asof_20250601_"
    anonymous = shop.rows("SELECT * FROM asof_20250601_profiles WHERE anonymous_id_count = 1")
    assert len(anonymous) == 1
    visitor = anonymous[0]
    assert (visitor["identified"], visitor["customer_id"], visitor["order_count"]) == (
        False,
        None,
        0,
    )
    assert visitor["page_views"] == 1
    assert not shop.engine.table_exists("profiles")  # the current tables were not written


def test_show_has_identifiers_merge_history_and_timeline(shop: Store):
    # First build: Dan's account and an anonymous visitor are two people.
    shop.add("customers", [{"customer_id": "c4", "email": "dan@x.com", "created_at": "2024-01-01"}])
    shop.add(
        "events",
        [
            {
                "message_id": "d1",
                "type": "page",
                "anonymous_id": "a4",
                "timestamp": "2025-06-05T10:00:00Z",
            }
        ],
    )
    _build(shop)
    assert shop.rows("SELECT count(*) AS n FROM profiles")[0]["n"] == 4
    # Then the visitor signs in: the two profiles merge.
    shop.add(
        "events",
        [
            {
                "message_id": "d2",
                "type": "identify",
                "anonymous_id": "a4",
                "user_id": "c4",
                "timestamp": "2025-06-06T10:00:00Z",
            }
        ],
    )
    _build(shop)
    view = show_profile(shop.engine, "DAN@x.com", identity_config=shop.config.identity)
    assert {(i["id_type"], i["id_value"]) for i in view.identifiers} == {
        ("customer_id", "c4"),
        ("email", "dan@x.com"),
        ("anonymous_id", "a4"),
    }
    assert len(view.merges) == 1
    assert [(t["kind"], t["id"]) for t in view.timeline] == [("event", "d2"), ("event", "d1")]
    assert view.traits["page_views"] == 1
    # By phone, in another format: the same person as bob@x.com.
    bob = show_profile(shop.engine, "212-555-0100", identity_config=shop.config.identity)
    assert bob.traits["email"] == "bob@x.com"
    assert [t["id"] for t in bob.timeline] == ["o3", "o2"]


def test_a_failed_build_also_rolls_identity_back(shop: Store):
    _build(shop)
    identities = shop.rows("SELECT * FROM identities ORDER BY id_type, id_value")
    shop.add("customers", [{"customer_id": "c9", "email": "eve@x.com"}])

    def explode(ctx: ExtensionContext) -> None:
        raise RuntimeError("disk full")

    register_extension(ProfileExtension("exploding", (), explode))
    try:
        with pytest.raises(RuntimeError, match="disk full"):
            _build(shop)
    finally:
        unregister_extension("exploding")
    # Identity resolution ran in the same transaction: eve@x.com is not there either.
    assert shop.rows("SELECT * FROM identities ORDER BY id_type, id_value") == identities
    _build(shop)
    assert _profile_of(shop, "eve@x.com")["customer_id"] == "c9"
