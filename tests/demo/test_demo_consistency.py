"""The clean rows form a consistent store: totals add up, references resolve, flags agree."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING

import phonenumbers

if TYPE_CHECKING:
    from .conftest import Store


EMAIL = re.compile(r"^[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$")
SHOPIFY_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}$")
CENT = Decimal("0.01")


def _money(value: str) -> Decimal:
    return Decimal(value or "0")


def test_order_totals_add_up_from_their_lines(clean_store: Store) -> None:
    lines: dict[str, Decimal] = defaultdict(Decimal)
    for line in clean_store.records("order_lines.csv"):
        assert int(line["quantity"]) > 0
        lines[line["order_id"]] += int(line["quantity"]) * _money(line["unit_price"]) - _money(
            line["discount"]
        )
    orders = clean_store.records("orders.csv")
    assert len(orders) > 1000
    assert set(lines) == {o["order_id"] for o in orders}
    for o in orders:
        assert lines[o["order_id"]] == _money(o["subtotal"]), o["order_id"]
        expected = (
            _money(o["subtotal"]) - _money(o["discount_amount"]) + _money(o["shipping"])
            + _money(o["tax"])
        )  # fmt: skip
        assert _money(o["total"]) == expected, o["order_id"]


def test_discounts_coupons_and_full_price_flags_agree(clean_store: Store) -> None:
    orders = {o["order_id"]: o for o in clean_store.records("orders.csv")}
    for o in orders.values():
        assert (o["coupon_code"] != "") == (_money(o["discount_amount"]) > 0), o
    for line in clean_store.records("order_lines.csv"):
        no_discount = (
            _money(line["discount"]) == 0 and orders[line["order_id"]]["coupon_code"] == ""
        )
        assert line["full_price"] == ("true" if no_discount else "false"), line
    shares = Counter(line["full_price"] for line in clean_store.records("order_lines.csv"))
    assert shares["true"] > shares["false"] > 0


def test_refunds_follow_the_status(clean_store: Store) -> None:
    statuses = Counter()
    for o in clean_store.records("orders.csv"):
        total, refunded = _money(o["total"]), _money(o["refunded_amount"])
        statuses[o["status"]] += 1
        if o["status"] == "refunded":
            assert refunded == total
        elif o["status"] == "partially_refunded":
            assert 0 < refunded < total
        else:
            assert refunded == 0
    assert set(statuses) <= {"completed", "pending", "refunded", "partially_refunded", "cancelled"}
    assert statuses["refunded"] and statuses["cancelled"] and statuses["partially_refunded"]
    assert statuses["completed"] > 0.85 * sum(statuses.values())


def test_every_order_points_to_an_existing_customer(clean_store: Store) -> None:
    customers = clean_store.records("customers.csv")
    ids = {c["customer_id"] for c in customers}
    emails = {c["email"].strip().lower() for c in customers}
    guests = 0
    for o in clean_store.records("orders.csv"):
        if o["customer_id"]:
            assert o["customer_id"] in ids
        else:
            guests += 1
            assert o["email"].strip().lower() in emails
    assert guests > 0
    for row in clean_store.records("shopify_orders.csv"):
        assert row["Email"].strip().lower() in emails
    for name in ("reviews.csv", "tickets.csv"):
        for r in clean_store.records(name):
            assert r["customer_id"] or r["email"]
            assert not r["customer_id"] or r["customer_id"] in ids
            assert not r["email"] or r["email"].strip().lower() in emails


def test_shopify_export_holds_other_orders_in_shopify_layout(clean_store: Store) -> None:
    canonical = {o["order_id"] for o in clean_store.records("orders.csv")}
    rows = clean_store.records("shopify_orders.csv")
    by_order: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_order[row["Name"]].append(row)
    assert len(by_order) == clean_store.manifest.file("shopify_orders.csv").orders
    assert len(by_order) > 300
    assert not canonical & set(by_order)
    offsets = set()
    for name, items in by_order.items():
        head, rest = items[0], items[1:]
        assert name.startswith("#")
        assert head["Financial Status"] and head["Total"] and head["Currency"] == "USD"
        assert all(r["Financial Status"] == r["Total"] == r["Billing Name"] == "" for r in rest)
        assert all(
            r["Email"] == head["Email"] and r["Created at"] == head["Created at"] for r in items
        )
        assert SHOPIFY_TIME.match(head["Created at"])
        offsets.add(head["Created at"][-5:])
        goods = sum(int(r["Lineitem quantity"]) * _money(r["Lineitem price"]) for r in items)
        # Shopify's Subtotal is after the order discount.
        assert _money(head["Subtotal"]) + _money(head["Discount Amount"]) == goods, name
        total = _money(head["Subtotal"]) + _money(head["Shipping"]) + _money(head["Taxes"])
        assert _money(head["Total"]) == total, name
        assert (head["Discount Code"] != "") == (_money(head["Discount Amount"]) > 0)
        # The code's discount is shared out over the lines.
        shares = sum(_money(r["Lineitem discount"]) for r in items)
        assert shares == _money(head["Discount Amount"]), name
        if head["Discount Code"]:
            assert all(_money(r["Lineitem discount"]) >= 0 for r in items)
        for r in items:
            if r["Lineitem compare at price"]:
                assert _money(r["Lineitem compare at price"]) > _money(r["Lineitem price"])
        if head["Financial Status"] == "voided":
            assert head["Cancelled at"]
        assert head["Accepts Marketing"] in ("yes", "no")
    assert len(offsets) >= 3


def test_legacy_orders_come_before_the_migration(clean_store: Store) -> None:
    shopify_last = max(r["Created at"][:10] for r in clean_store.records("shopify_orders.csv"))
    canonical_first = min(o["ordered_at"][:10] for o in clean_store.records("orders.csv"))
    assert shopify_last <= canonical_first


def test_customers_look_like_a_real_customer_list(clean_store: Store) -> None:
    customers = clean_store.records("customers.csv")
    assert len(customers) == 1_500
    opted_out = sum(c["accepts_marketing"] == "false" for c in customers) / len(customers)
    assert 0.13 <= opted_out <= 0.21  # 17% expected; four standard deviations either side
    emails = [c["email"].strip().lower() for c in customers]
    assert len(set(emails)) == len(emails)
    assert all(EMAIL.match(e) for e in emails)
    assert any(c["email"] != c["email"].strip() for c in customers)
    assert any(c["email"] != c["email"].lower() for c in customers)
    for c in customers:
        assert c["marketing_consent_updated_at"] >= c["created_at"]
        if c["accepts_marketing"] == "true":
            assert c["marketing_consent_updated_at"] == c["created_at"]
        assert c["attributes"].startswith('{"loyalty_tier":')
    assert {c["gender"] for c in customers} >= {"female", "male"}
    assert len({c["country"] for c in customers}) >= 4
    tiers = Counter(c["attributes"].split('"')[3] for c in customers)
    assert set(tiers) >= {"bronze", "silver", "gold"}


def test_phones_are_valid_numbers_in_mixed_formats(clean_store: Store) -> None:
    customers = clean_store.records("customers.csv")
    e164 = {}
    for c in customers:
        if c["phone"]:
            number = phonenumbers.parse(c["phone"], c["country"])
            assert phonenumbers.is_valid_number(number), c["phone"]
            e164[c["customer_id"]] = phonenumbers.format_number(
                number, phonenumbers.PhoneNumberFormat.E164
            )
    assert len(e164) > 0.85 * len(customers)
    phones = [c["phone"] for c in customers if c["phone"]]
    assert any(p.startswith("+") for p in phones) and any(p.startswith("(") for p in phones)
    assert any(p.startswith("0") for p in phones)
    # Some people have two accounts (two emails) linked by the same number.
    by_number: dict[str, list[dict[str, str]]] = defaultdict(list)
    for c in customers:
        if c["customer_id"] in e164:
            by_number[e164[c["customer_id"]]].append(c)
    shared = [group for group in by_number.values() if len(group) > 1]
    assert len(shared) >= 10
    for group in shared:
        assert len({(c["first_name"], c["last_name"]) for c in group}) == 1
        assert len({c["email"].strip().lower() for c in group}) == len(group)
    assert any(len({c["phone"] for c in group}) > 1 for group in shared)


def test_products_and_lines_use_the_catalogue(clean_store: Store) -> None:
    products = {p["product_id"]: p for p in clean_store.records("products.csv")}
    assert len(products) == 800
    assert {p["category"] for p in products.values()} == {
        "apparel", "shoes", "accessories", "home", "beauty", "electronics",
    }  # fmt: skip
    assert all(_money(p["price"]) > 0 and p["product_line"] for p in products.values())
    assert len({p["sku"] for p in products.values()}) == 800
    for line in clean_store.records("order_lines.csv"):
        p = products[line["product_id"]]
        assert (line["sku"], line["product_name"]) == (p["sku"], p["name"])
        assert _money(line["unit_price"]) == _money(p["price"])


def test_reviews_and_tickets(clean_store: Store) -> None:
    reviews = clean_store.records("reviews.csv")
    ratings = Counter(int(r["rating"]) for r in reviews)
    assert set(ratings) <= {1, 2, 3, 4, 5}
    assert ratings[5] > ratings[3] and ratings[1] + ratings[2] > 0
    assert len({r["source"] for r in reviews}) >= 4
    assert len({r["review_id"] for r in reviews}) == len(reviews)
    tickets = clean_store.records("tickets.csv")
    assert len({t["ticket_id"] for t in tickets}) == len(tickets) > 50
    assert {t["status"] for t in tickets} <= {"open", "pending", "solved", "closed"}
    assert any("(order " in t["subject"] for t in tickets)
