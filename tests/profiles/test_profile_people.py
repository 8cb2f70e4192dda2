"""Identifiers, customer-record attributes, consent, age, reviews and tickets (by hand).

Build date: end of 2025-06-30 (UTC).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import pytest

from segmint.profiles.types import ProfileBuildResult

from .profile_helpers import Store


@pytest.fixture(scope="module")
def built() -> Iterator[tuple[Store, ProfileBuildResult]]:
    s = Store()
    s.add_identities(
        [
            {
                "id_type": "customer_id",
                "id_value": "c1",
                "profile_id": "p1",
                "first_seen": "2023-01-01",
                "last_seen": "2025-01-01",
            },
            {
                "id_type": "customer_id",
                "id_value": "c1b",
                "profile_id": "p1",
                "first_seen": "2024-05-01",
                "last_seen": "2025-01-01",
            },
            {
                "id_type": "email",
                "id_value": "ann@x.com",
                "profile_id": "p1",
                "first_seen": "2023-01-01",
                "last_seen": "2024-01-01",
            },
            {
                "id_type": "email",
                "id_value": "ann.b@x.com",
                "profile_id": "p1",
                "first_seen": "2024-05-01",
                "last_seen": "2025-06-01",
            },
            {
                "id_type": "phone",
                "id_value": "+4915112345678",
                "profile_id": "p1",
                "first_seen": "2023-01-01",
                "last_seen": "2023-01-01",
            },
            {
                "id_type": "anonymous_id",
                "id_value": "a1",
                "profile_id": "p1",
                "first_seen": "2022-12-01",
                "last_seen": "2023-01-01",
            },
            {
                "id_type": "anonymous_id",
                "id_value": "a1b",
                "profile_id": "p1",
                "first_seen": "2024-01-01",
                "last_seen": "2024-01-01",
            },
            # An identifier first seen after the build date does not count yet.
            {
                "id_type": "anonymous_id",
                "id_value": "a1c",
                "profile_id": "p1",
                "first_seen": "2025-07-02",
                "last_seen": "2025-07-02",
            },
        ]
    )
    for pid, cids in (
        ("p2", ("c2", "c2b")),
        ("p3", ("c3", "c3b")),
        ("p4", ("c4",)),
        ("p7", ("c7",)),
    ):
        s.person(pid, *(f"customer_id:{c}" for c in cids))
    # p5 exists only after the build date (identity resolution saw c5 first on Jul 15).
    s.person("p5", "customer_id:c5", first_seen="2025-07-15")
    s.person("p6", "anonymous_id:a6")
    s.add(
        "customers",
        [
            # p1: c1 is the oldest account (primary); c1b fills in the city. c1's opt-in
            # (2024-01-01) is more recent than c1b's opt-out (2023-06-01): accepts marketing.
            {
                "customer_id": "c1",
                "email": " Ann@X.com ",
                "first_name": "Ann",
                "gender": " F ",
                "birth_date": "1990-07-01",
                "country": "DE",
                "created_at": "2023-01-01",
                "accepts_marketing": True,
                "marketing_consent_updated_at": "2024-01-01",
            },
            {
                "customer_id": "c1b",
                "email": "ann.b@x.com",
                "first_name": "Anna",
                "city": "Berlin",
                "marital_status": "Married",
                "created_at": "2024-05-01",
                "accepts_marketing": False,
                "marketing_consent_updated_at": "2023-06-01",
            },
            # p2: the opt-out (2025-01-01) is the most recent decision.
            {
                "customer_id": "c2",
                "created_at": "2023-01-01",
                "accepts_marketing": True,
                "marketing_consent_updated_at": "2024-01-01",
            },
            {
                "customer_id": "c2b",
                "created_at": "2023-02-01",
                "accepts_marketing": False,
                "marketing_consent_updated_at": "2025-01-01",
            },
            # p3: an opt-out with no decision time at all wins over a dated opt-in.
            {
                "customer_id": "c3",
                "created_at": "2023-01-01",
                "accepts_marketing": True,
                "marketing_consent_updated_at": "2025-01-01",
            },
            {"customer_id": "c3b", "accepts_marketing": False},
            # p4: consent unknown; birthday after the build date.
            {"customer_id": "c4", "created_at": "2023-01-01", "birth_date": "2030-01-01"},
            # p5: created after the build date: not a customer yet.
            {"customer_id": "c5", "created_at": "2025-07-15", "first_name": "Later"},
            # p7: a birthday on the build date.
            {"customer_id": "c7", "created_at": "2023-01-01", "birth_date": "1960-06-30"},
        ],
    )
    s.add(
        "events",
        [
            {
                "message_id": "m6",
                "type": "page",
                "anonymous_id": "a6",
                "timestamp": "2025-06-01T00:00:00Z",
            },
        ],
    )
    s.add(
        "reviews",
        [
            {"review_id": "r1", "customer_id": "c1", "rating": 5, "reviewed_at": "2025-03-01"},
            {"review_id": "r2", "customer_id": "c1b", "rating": 2, "reviewed_at": "2025-06-01"},
            # Same time as r2: the higher review id is the latest.
            {"review_id": "r3", "email": "ann@x.com", "rating": 4, "reviewed_at": "2025-06-01"},
            {"review_id": "r4", "customer_id": "c1", "rating": 1, "reviewed_at": "2025-07-01"},
            {"review_id": "r9", "email": "ghost@x.com", "rating": 3, "reviewed_at": "2025-06-01"},
        ],
    )
    s.add(
        "tickets",
        [
            {
                "ticket_id": "t1",
                "customer_id": "c1",
                "created_at": "2025-05-01",
                "status": "Solved",
            },
            {"ticket_id": "t2", "customer_id": "c1", "created_at": "2025-06-15", "status": "open"},
            {"ticket_id": "t3", "customer_id": "c1b", "created_at": "2025-06-20"},
            {"ticket_id": "t9", "customer_id": "nobody", "created_at": "2025-06-20"},
        ],
    )
    result = s.build()
    yield s, result
    s.close()


def test_identifiers_and_primary_record(built):
    store, _ = built
    p1 = store.profile("p1")
    assert p1["customer_id"] == "c1"
    # The primary record's email wins over the more recently seen ann.b@x.com.
    assert p1["email"] == "ann@x.com"
    assert p1["phone"] == "+4915112345678"
    assert (p1["customer_id_count"], p1["email_count"], p1["phone_count"]) == (2, 2, 1)
    assert p1["anonymous_id_count"] == 2  # a1c is first seen after the build date
    assert p1["identified"] is True
    assert p1["first_seen_at"] == datetime(2022, 12, 1)
    assert p1["created_at"] == datetime(2023, 1, 1)


def test_attributes_come_from_the_primary_record_then_the_next(built):
    store, _ = built
    p1 = store.profile("p1")
    assert p1["first_name"] == "Ann"  # c1's, not c1b's "Anna"
    assert p1["gender"] == "f"  # trimmed, lower-cased
    assert p1["city"] == "Berlin"  # c1 has none: c1b's
    assert p1["marital_status"] == "married"
    assert p1["country"] == "DE"
    assert p1["birth_date"] == date(1990, 7, 1)


def test_age_on_the_build_date(built):
    store, _ = built
    # Born 1990-07-01: 35 tomorrow, 34 on Jun 30.
    p1 = store.profile("p1")
    assert (p1["age"], p1["age_band"]) == (34, "25-34")
    # Born 1960-06-30: 65 on the build date itself.
    p7 = store.profile("p7")
    assert (p7["age"], p7["age_band"]) == (65, "65+")
    p4 = store.profile("p4")  # born after the build date
    assert (p4["age"], p4["age_band"]) == (None, None)


def test_leap_day_birthdays(store: Store):
    store.person("p1", "customer_id:c1")
    store.add("customers", [{"customer_id": "c1", "birth_date": "2000-02-29"}])
    store.build("2026-02-28")
    assert store.profile("p1")["age"] == 25  # Feb 29 has not come yet
    store.build("2026-03-01")
    assert store.profile("p1")["age"] == 26


def test_marketing_consent_over_several_records(built):
    store, _ = built
    assert store.profile("p1")["accepts_marketing"] is True
    assert store.profile("p2")["accepts_marketing"] is False
    assert store.profile("p3")["accepts_marketing"] is False
    assert store.profile("p4")["accepts_marketing"] is None


def test_records_after_the_build_date_do_not_make_a_customer(built):
    store, result = built
    assert store.rows("SELECT * FROM profiles WHERE profile_id = 'p5'") == []
    assert result.after_as_of["customers"] == 1


def test_anonymous_visitors_are_profiles_without_identity(built):
    store, _ = built
    p6 = store.profile("p6")
    assert p6["identified"] is False
    assert p6["customer_id"] is None and p6["email"] is None
    assert p6["lifecycle_stage"] == "prospect"
    assert p6["page_views"] == 1


def test_reviews_and_tickets(built):
    store, result = built
    p1 = store.profile("p1")
    # r1 5, r2 2, r3 4 (r4 is after the build date).
    assert p1["review_count"] == 3
    assert p1["average_rating"] == pytest.approx(11 / 3)
    assert p1["lowest_rating"] == 2
    assert p1["last_rating"] == 4
    assert p1["last_review_at"] == datetime(2025, 6, 1)
    # t1 solved (closed, any case), t2 open, t3 no status (open).
    assert (p1["ticket_count"], p1["open_ticket_count"]) == (3, 2)
    assert p1["last_ticket_at"] == datetime(2025, 6, 20)
    # Latest of everything: the ticket of Jun 20, 10 days before the build date.
    assert p1["last_engagement_at"] == datetime(2025, 6, 20)
    assert p1["days_since_last_engagement"] == 10
    assert result.issues.unresolved_reviews == 1
    assert result.issues.unresolved_tickets == 1


def test_a_person_with_nothing_but_a_record(built):
    store, _ = built
    p2 = store.profile("p2")
    assert (p2["sessions"], p2["visits_per_month"], p2["average_session_minutes"]) == (0, 0.0, None)
    assert (p2["review_count"], p2["average_rating"]) == (0, None)
    assert (p2["email_delivered_30d"], p2["email_open_rate_30d"]) == (0, None)
    assert p2["last_engagement_at"] is None and p2["days_since_last_engagement"] is None
    assert p2["has_open_cart"] is False
