"""Identity builds on small hand-made stores; every expectation is worked out by hand."""

from __future__ import annotations

import json

import pytest
from identity_helpers import Store, at, pid

from segmint.config import IdentityConfig
from segmint.identity import IdentityError, resolved_records


def test_anonymous_browsing_then_signup_is_one_person_with_the_history(store: Store):
    store.add(
        "events",
        [
            {
                "message_id": "m1",
                "type": "page",
                "anonymous_id": "a1",
                "timestamp": at("2024-01-01"),
            },
            {
                "message_id": "m2",
                "type": "track",
                "event": "Product Viewed",
                "anonymous_id": "a1",
                "timestamp": at("2024-01-02"),
            },
            {
                "message_id": "m3",
                "type": "identify",
                "anonymous_id": "a1",
                "user_id": "c1",
                "traits": json.dumps({"email": " Ann@Example.org "}),
                "timestamp": at("2024-01-03"),
            },
        ],
    )
    store.add(
        "customers",
        [{"customer_id": "c1", "email": "ann@example.org", "created_at": at("2024-01-03")}],
    )
    result = store.build()

    person = {("anonymous_id", "a1"), ("customer_id", "c1"), ("email", "ann@example.org")}
    assert store.groups() == {frozenset(person)}
    # The anonymous id was seen first, so it anchors the profile.
    expected = pid("anonymous_id", "a1")
    assert store.resolved("events") == {"m1": expected, "m2": expected, "m3": expected}
    assert store.resolved("customers") == {"c1": expected}
    assert result.profiles == 1
    assert result.mode == "full"
    assert result.unresolved == dict.fromkeys(
        ("customers", "orders", "events", "reviews", "tickets"), 0
    )


def test_two_emails_linked_by_one_phone_written_two_ways(store: Store):
    store.add(
        "customers",
        [
            {
                "customer_id": "c1",
                "email": "ann@home.example",
                "phone": "(415) 555-0100",
                "country": "US",
                "created_at": at("2024-01-01"),
            },
            # The +1 prefix wins over the customer's country.
            {
                "customer_id": "c2",
                "email": "ann@work.example",
                "phone": "+1 415 555 0100",
                "country": "GB",
                "created_at": at("2024-02-01"),
            },
        ],
    )
    store.build()
    assert store.groups() == {
        frozenset(
            {
                ("customer_id", "c1"),
                ("customer_id", "c2"),
                ("email", "ann@home.example"),
                ("email", "ann@work.example"),
                ("phone", "+14155550100"),
            }
        )
    }
    assert store.profile_of("email", "ann@work.example") == pid("customer_id", "c1")


def test_country_column_is_the_phone_region_and_invalid_phones_are_counted(store: Store):
    store.add(
        "customers",
        [
            {"customer_id": "uk", "phone": "020 7946 0018", "country": "gb"},
            # No usable country: read with the default region (US), where it is not valid.
            {"customer_id": "nowhere", "phone": "020 7946 0018", "country": "United Kingdom"},
            {"customer_id": "junk", "phone": "call me"},
        ],
    )
    result = store.build()
    assert store.profile_of("phone", "+442079460018") == pid("customer_id", "uk")
    assert result.invalid_phones == 2
    assert store.engine.fetch_all(
        "SELECT source_key, raw_value FROM identity_invalid ORDER BY source_key"
    ) == [("junk", "call me"), ("nowhere", "020 7946 0018")]


def test_alias_links_the_previous_id_to_the_user(store: Store):
    store.add(
        "events",
        [
            {
                "message_id": "m1",
                "type": "page",
                "anonymous_id": "anon-9",
                "timestamp": at("2024-03-01"),
            },
            {
                "message_id": "m2",
                "type": "alias",
                "previous_id": "anon-9",
                "user_id": "c5",
                "timestamp": at("2024-03-02"),
            },
            {
                "message_id": "m3",
                "type": "track",
                "event": "Order Completed",
                "user_id": "c5",
                "timestamp": at("2024-03-03"),
            },
        ],
    )
    store.build()
    assert store.groups() == {frozenset({("anonymous_id", "anon-9"), ("customer_id", "c5")})}
    assert set(store.resolved("events").values()) == {pid("anonymous_id", "anon-9")}


def test_previous_id_of_a_non_alias_call_links_nothing(store: Store):
    store.add(
        "events",
        [
            {
                "message_id": "m1",
                "type": "track",
                "user_id": "c1",
                "previous_id": "x",
                "timestamp": at("2024-01-01"),
            }
        ],
    )
    store.build()
    assert store.groups() == {frozenset({("customer_id", "c1")})}


def test_shared_device_does_not_merge_five_customers_and_is_reported(store: Store):
    store.add(
        "events",
        [
            {
                "message_id": f"m{i}",
                "type": "identify",
                "anonymous_id": "family-ipad",
                "user_id": f"c{i}",
                "timestamp": at(f"2024-01-0{i}"),
            }
            for i in range(1, 6)
        ],
    )
    result = store.build()
    assert store.groups() == {frozenset({("customer_id", f"c{i}")}) for i in range(1, 6)}
    assert result.guarded == 1
    assert store.engine.fetch_all(
        "SELECT id_type, id_value, customers, reason, profile_id FROM identity_guarded"
    ) == [("anonymous_id", "family-ipad", 5, "links 5 customers (more than 3)", None)]
    # Each event still resolves through its user id.
    assert store.resolved("events") == {f"m{i}": pid("customer_id", f"c{i}") for i in range(1, 6)}


def test_identifier_linking_exactly_the_limit_still_merges(store: Store):
    store.add(
        "events",
        [
            {
                "message_id": f"m{i}",
                "type": "identify",
                "anonymous_id": "shared",
                "user_id": f"c{i}",
                "timestamp": at(f"2024-01-0{i}"),
            }
            for i in range(1, 4)
        ],
    )
    result = store.build()
    assert result.guarded == 0
    assert len(store.groups()) == 1


def test_placeholder_email_at_every_checkout_is_held_back():
    # With the deny list emptied, the count alone catches it: 4 customers > 3.
    s = Store(IdentityConfig(deny_list=[]))
    s.add(
        "orders",
        [
            {
                "order_id": f"o{i}",
                "customer_id": f"c{i}",
                "email": "test@example.com",
                "ordered_at": at(f"2024-02-0{i}"),
                "total": 10,
            }
            for i in range(1, 5)
        ]
        + [
            {
                "order_id": "guest",
                "email": "test@example.com",
                "ordered_at": at("2024-02-09"),
                "total": 5,
            }
        ],
    )
    result = s.build()
    assert s.groups() == {frozenset({("customer_id", f"c{i}")}) for i in range(1, 5)}
    assert s.profile_of("email", "test@example.com") is None  # ambiguous: not an identity
    assert result.guarded == 1
    # The guest order has no other identifier: it resolves to nobody and is counted.
    assert result.unresolved["orders"] == 1
    assert "guest" not in s.resolved("orders")


def test_deny_listed_identifier_with_one_owner_still_resolves_to_it(store: Store):
    store.add(
        "orders",
        [
            {
                "order_id": "o1",
                "customer_id": "c1",
                "email": "test@example.com",
                "ordered_at": at("2024-02-01"),
                "total": 10,
            },
            {
                "order_id": "o2",
                "customer_id": "c2",
                "email": "NoEmail@shop.example",
                "ordered_at": at("2024-02-02"),
                "total": 10,
            },
        ],
    )
    result = store.build()
    assert store.groups() == {
        frozenset({("customer_id", "c1"), ("email", "test@example.com")}),
        frozenset({("customer_id", "c2"), ("email", "noemail@shop.example")}),
    }
    reasons = dict(store.engine.fetch_all("SELECT id_value, reason FROM identity_guarded"))
    assert reasons == {"test@example.com": "deny list", "noemail@shop.example": "deny list"}
    assert result.guarded == 2


def test_device_that_only_collected_emails_of_many_customers_is_held_back(store: Store):
    # No login on the device, but it signed up four emails that belong to four customers.
    store.add(
        "customers", [{"customer_id": f"c{i}", "email": f"p{i}@example.org"} for i in range(1, 5)]
    )
    store.add(
        "events",
        [
            {
                "message_id": f"m{i}",
                "type": "identify",
                "anonymous_id": "kiosk",
                "traits": json.dumps({"email": f"p{i}@example.org"}),
                "timestamp": at("2024-05-01"),
            }
            for i in range(1, 5)
        ],
    )
    store.build()
    assert len(store.groups()) == 4
    assert store.engine.fetch_all("SELECT id_value, customers FROM identity_guarded") == [
        ("kiosk", 4)
    ]


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        (
            False,
            {
                frozenset({("customer_id", "c1"), ("email", "j.doe+shop@googlemail.com")}),
                frozenset({("customer_id", "c2"), ("email", "jdoe@gmail.com")}),
            },
        ),
        (
            True,
            {
                frozenset(
                    {("customer_id", "c1"), ("customer_id", "c2"), ("email", "jdoe@gmail.com")}
                )
            },
        ),
    ],
)
def test_gmail_dots_and_tags(rules: bool, expected: set[frozenset[tuple[str, str]]]):
    s = Store(IdentityConfig(email_provider_rules=rules))
    s.add(
        "customers",
        [
            {
                "customer_id": "c1",
                "email": "J.Doe+shop@googlemail.com",
                "created_at": at("2024-01-01"),
            },
            {"customer_id": "c2", "email": "jdoe@gmail.com", "created_at": at("2024-01-02")},
            # Other providers keep their dots either way.
            {"customer_id": "c3", "email": "j.doe@example.org", "created_at": at("2024-01-03")},
        ],
    )
    s.build()
    assert s.groups() == expected | {
        frozenset({("customer_id", "c3"), ("email", "j.doe@example.org")})
    }


def test_changed_settings_force_a_full_rebuild(store: Store):
    store.add("customers", [{"customer_id": "c1", "email": "a.b@gmail.com"}])
    assert store.build().mode == "full"
    assert store.build().mode == "incremental"
    store.config = IdentityConfig(email_provider_rules=True)
    assert store.build().mode == "full"
    assert store.profile_of("email", "ab@gmail.com") == pid("customer_id", "c1")
    assert store.build(full=True).mode == "full"


def test_profile_id_is_stable_when_unrelated_data_arrives(store: Store):
    store.add(
        "customers",
        [{"customer_id": "c1", "email": "ann@example.org", "created_at": at("2024-01-01")}],
    )
    store.build()
    before = store.profile_of("customer_id", "c1")
    store.add(
        "customers",
        [{"customer_id": "c9", "email": "zed@example.org", "created_at": at("2023-01-01")}],
    )
    store.add(
        "orders",
        [{"order_id": "o9", "customer_id": "c9", "ordered_at": at("2023-02-01"), "total": 3}],
    )
    result = store.build()
    assert result.mode == "incremental"
    assert result.records_read == 2  # only the new records were read
    assert store.profile_of("customer_id", "c1") == before == pid("customer_id", "c1")
    assert result.merges == 0


def test_merge_keeps_the_older_profile_id_and_is_audited(store: Store):
    store.add(
        "customers",
        [
            {"customer_id": "c1", "email": "ann@example.org", "created_at": at("2024-01-01")},
            {"customer_id": "c2", "email": "ann.b@example.org", "created_at": at("2024-02-01")},
        ],
    )
    store.add(
        "orders",
        [{"order_id": "o0", "customer_id": "c2", "ordered_at": at("2024-02-05"), "total": 1}],
    )
    store.build()
    old, young = pid("customer_id", "c1"), pid("customer_id", "c2")
    assert store.resolved("orders") == {"o0": young}

    store.add(
        "orders",
        [
            {
                "order_id": "o1",
                "customer_id": "c2",
                "email": "ann@example.org",
                "ordered_at": at("2024-03-01"),
                "total": 20,
            }
        ],
    )
    result = store.build()
    assert result.mode == "incremental"
    assert result.merges == 1
    assert store.resolved("orders") == {"o0": old, "o1": old}
    assert store.resolved("customers") == {"c1": old, "c2": old}
    [row] = store.merges()
    action, from_p, to_p, a_type, a_value, b_type, b_value, source, key = row
    assert (action, from_p, to_p, source, key) == ("merge", young, old, "orders", "o1")
    assert {(a_type, a_value), (b_type, b_value)} == {
        ("customer_id", "c2"),
        ("email", "ann@example.org"),
    }


def test_newly_guarded_identifier_splits_the_profile_it_had_merged(store: Store):
    store.add(
        "events",
        [
            {
                "message_id": "m1",
                "type": "identify",
                "anonymous_id": "tablet",
                "user_id": "c1",
                "timestamp": at("2024-01-01"),
            },
            {
                "message_id": "m2",
                "type": "identify",
                "anonymous_id": "tablet",
                "user_id": "c2",
                "timestamp": at("2024-01-02"),
            },
        ],
    )
    store.build()
    assert len(store.groups()) == 1
    store.add(
        "events",
        [
            {
                "message_id": f"m{i}",
                "type": "identify",
                "anonymous_id": "tablet",
                "user_id": f"c{i}",
                "timestamp": at(f"2024-01-0{i}"),
            }
            for i in (3, 4)
        ],
    )
    result = store.build()
    assert store.groups() == {frozenset({("customer_id", f"c{i}")}) for i in range(1, 5)}
    assert result.splits == 1
    # The tablet anchored the old profile (seen first, by type c1 before it): c1 keeps... no
    # anchor any more, so every customer gets the id of its own customer id.
    rows = store.merges()
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("split", pid("customer_id", "c1"), pid("customer_id", "c2"))
    ]
    reason = store.engine.fetch_value("SELECT reason FROM identity_merges")
    assert "anonymous_id tablet is now held back" in reason


def test_changed_record_that_broke_a_link_splits_and_matches_a_full_rebuild(store: Store):
    store.add(
        "customers",
        [
            {"customer_id": "c1", "email": "one@example.org", "created_at": at("2024-01-01")},
            {"customer_id": "c2", "email": "two@example.org", "created_at": at("2024-01-02")},
        ],
    )
    store.add(
        "orders",
        [
            {
                "order_id": "o1",
                "customer_id": "c2",
                "email": "one@example.org",
                "ordered_at": at("2024-02-01"),
                "total": 1,
            }
        ],
    )
    store.build()
    assert len(store.groups()) == 1
    # The order's email is corrected, as a re-import would do it.
    store.touch("UPDATE orders SET email = 'two@example.org' WHERE order_id = 'o1'")
    result = store.build()
    assert result.mode == "incremental"
    assert result.splits == 1
    assert store.groups() == {
        frozenset({("customer_id", "c1"), ("email", "one@example.org")}),
        frozenset({("customer_id", "c2"), ("email", "two@example.org")}),
    }
    incremental = store.identities()
    store.build(full=True)
    assert store.identities() == incremental


def test_older_record_arriving_late_reanchors_the_profile(store: Store):
    store.add("customers", [{"customer_id": "c1", "created_at": at("2024-05-01")}])
    store.build()
    # A cookie that browsed in 2023 logs in as c1 after the account was created.
    store.add(
        "events",
        [
            {
                "message_id": "m0",
                "type": "page",
                "anonymous_id": "old-cookie",
                "timestamp": at("2023-01-01"),
            },
            {
                "message_id": "m1",
                "type": "identify",
                "anonymous_id": "old-cookie",
                "user_id": "c1",
                "timestamp": at("2024-06-01"),
            },
        ],
    )
    store.build()
    assert store.profile_of("customer_id", "c1") == pid("anonymous_id", "old-cookie")
    [row] = store.merges()
    assert row[:3] == ("reanchor", pid("customer_id", "c1"), pid("anonymous_id", "old-cookie"))


def test_customer_without_created_at_counts_as_oldest(store: Store):
    store.add(
        "events",
        [
            {
                "message_id": "m1",
                "type": "identify",
                "anonymous_id": "a1",
                "user_id": "c1",
                "timestamp": at("2020-01-01"),
            }
        ],
    )
    store.add("customers", [{"customer_id": "c1", "email": "c1@example.org"}])
    store.build()
    assert store.profile_of("anonymous_id", "a1") == pid("customer_id", "c1")
    assert store.engine.fetch_one(
        "SELECT first_seen, last_seen FROM identities WHERE id_value = 'c1@example.org'"
    ) == (None, None)


def test_as_of_excludes_later_links_and_leaves_current_tables_alone(store: Store):
    store.add(
        "customers",
        [
            {"customer_id": "c1", "email": "one@example.org", "created_at": at("2024-01-01")},
            {"customer_id": "c2", "email": "two@example.org", "created_at": at("2024-01-02")},
            {"customer_id": "c3"},  # no created_at: known always
            {"customer_id": "c4", "created_at": at("2024-09-01")},
        ],
    )
    store.add(
        "orders",
        [
            {
                "order_id": "o1",
                "customer_id": "c2",
                "email": "one@example.org",
                "ordered_at": at("2024-06-01"),
                "total": 1,
            }
        ],
    )
    store.build()
    current = store.identities()
    result = store.build(as_of=at("2024-03-01"), prefix="asof_")
    assert store.groups("asof_") == {
        frozenset({("customer_id", "c1"), ("email", "one@example.org")}),
        frozenset({("customer_id", "c2"), ("email", "two@example.org")}),
        frozenset({("customer_id", "c3")}),
    }
    assert result.unresolved["orders"] == 0  # o1 is after as_of: out of scope, not unresolved
    assert store.resolved("orders", prefix="asof_") == {}
    assert store.identities() == current
    assert len(store.groups()) == 3  # c1+c2 merged by o1, c3, c4


def test_as_of_needs_a_prefix(store: Store):
    with pytest.raises(IdentityError, match="prefix"):
        store.build(as_of=at("2024-01-01"))


def test_bad_prefix_and_kind_are_refused(store: Store):
    with pytest.raises(IdentityError, match="prefix"):
        store.build(prefix="Robert'); DROP TABLE customers; --")
    with pytest.raises(IdentityError, match="kinds: customers, orders, events"):
        resolved_records("products")


def test_events_with_neither_id_are_counted_not_dropped(store: Store):
    store.add(
        "events",
        [
            {"message_id": "m1", "type": "page", "timestamp": at("2024-01-01")},
            {
                "message_id": "m2",
                "type": "page",
                "anonymous_id": "  ",
                "timestamp": at("2024-01-01"),
            },
            {
                "message_id": "m3",
                "type": "page",
                "anonymous_id": "a1",
                "timestamp": at("2024-01-01"),
            },
            # Malformed traits are ignored, the event still resolves through its anonymous id.
            {
                "message_id": "m4",
                "type": "identify",
                "anonymous_id": "a1",
                "traits": "{not json",
                "timestamp": at("2024-01-02"),
            },
        ],
    )
    result = store.build()
    assert result.unresolved["events"] == 2
    assert set(store.resolved("events")) == {"m3", "m4"}


def test_traits_email_that_is_not_an_address_is_counted(store: Store):
    store.add(
        "events",
        [
            {
                "message_id": "m1",
                "type": "identify",
                "user_id": "c1",
                "traits": json.dumps({"email": "not an email", "phone": "+1 212 555 0199"}),
                "timestamp": at("2024-01-01"),
            }
        ],
    )
    result = store.build()
    assert result.invalid_emails == 1
    assert store.groups() == {frozenset({("customer_id", "c1"), ("phone", "+12125550199")})}


def test_reviews_and_tickets_resolve_by_customer_id_first_then_email(store: Store):
    store.add(
        "customers",
        [
            {"customer_id": "c1", "email": "ann@example.org"},
            {"customer_id": "c2", "email": "bob@example.org"},
        ],
    )
    store.add(
        "reviews",
        [
            {
                "review_id": "r1",
                "email": "ANN@example.org",
                "rating": 5,
                "reviewed_at": at("2024-01-01"),
            },
            {"review_id": "r2", "customer_id": "c2", "rating": 1, "reviewed_at": at("2024-01-01")},
        ],
    )
    store.add(
        "tickets",
        [
            {"ticket_id": "t1", "email": "new@example.org", "created_at": at("2024-01-01")},
        ],
    )
    store.build()
    assert store.resolved("reviews") == {
        "r1": pid("customer_id", "c1"),
        "r2": pid("customer_id", "c2"),
    }
    # A ticket from an unknown email is a person of its own.
    assert store.resolved("tickets") == {"t1": pid("email", "new@example.org")}


def test_full_build_after_incremental_records_no_changes(store: Store):
    store.add("customers", [{"customer_id": "c1", "email": "a@example.org"}])
    store.build()
    store.add(
        "orders",
        [
            {
                "order_id": "o1",
                "customer_id": "c1",
                "email": "b@example.org",
                "ordered_at": at("2024-01-01"),
                "total": 1,
            }
        ],
    )
    store.build()
    result = store.build(full=True)
    assert result.merges == result.splits == 0
    assert store.merges() == []
