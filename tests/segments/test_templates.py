"""Every built-in template on a small hand-made store; expected members worked out by hand.

The evaluation time is 2026-11-22 12:00:00 (AS_OF). Profiles consent to marketing unless a case
says otherwise; opted-out people who otherwise match are part of most cases.
"""

from __future__ import annotations

from typing import Any

import pytest

from segmint.segments.templates import BUILTIN_TEMPLATES, RFM_SEGMENTS, TemplateError, get_template

from .conftest import Store


def members(store: Store, template: str, **params: Any) -> set[str]:
    definition = get_template(template).instantiate("t", params)
    return store.members(definition)


def test_every_template_validates_against_the_real_catalogue(store: Store) -> None:
    for template in BUILTIN_TEMPLATES.values():
        definition = template.instantiate("t")
        store.service.validate(definition)
        assert template.describe()  # every placeholder of the description has a parameter


def test_library_covers_the_brief() -> None:
    expected = {
        "first-time-buyers",
        "one-time-buyers",
        "cart-abandoners",
        "browse-abandoners",
        "checkout-abandoners",
        "product-viewers",
        "category-viewers",
        "home-page-viewers",
        "frequent-buyers",
        "category-loyalists",
        "rhythm-basket-buyers",
        "high-spend-engaged",
        "email-open-rate-band",
        "recent-openers",
        "unengaged",
        "at-risk",
        "vips",
        "coupon-inclined",
        "full-price-buyers",
        "product-line-buyers",
        "demographic",
        "recent-reviewers",
        "negative-reviewers",
        "no-support-ticket",
        "lifecycle-stage",
        "high-predicted-clv",
        "likely-to-churn",
    } | {"rfm-" + s.lower().replace("'", "").replace(" ", "-") for s in RFM_SEGMENTS}
    assert set(BUILTIN_TEMPLATES) == expected
    assert len(RFM_SEGMENTS) == 11


def test_first_time_buyers(store: Store) -> None:
    store.profile("a", first_order_at="2026-11-20 09:00:00")
    store.profile("b", first_order_at="2026-11-15 12:00:00")  # exactly 7 days: outside
    store.profile("c", first_order_at="2026-11-15 12:00:01")
    store.profile("d", first_order_at="2026-11-01 00:00:00")
    store.profile("e")  # never ordered
    store.profile("f", first_order_at="2026-11-21 00:00:00", accepts_marketing=False)
    store.profile("g", first_order_at="2026-11-22 12:00:00")  # exactly the evaluation time
    store.profile("h", first_order_at="2026-11-23 00:00:00")  # after it
    assert members(store, "first-time-buyers") == {"a", "c", "g"}
    assert members(store, "first-time-buyers", days=30) == {"a", "b", "c", "d", "g"}


def test_one_time_buyers(store: Store) -> None:
    store.profile("a", order_count=1, first_order_at="2026-09-01 00:00:00")
    store.profile("b", order_count=2, first_order_at="2026-09-01 00:00:00")
    store.profile("c", order_count=1, first_order_at="2026-11-01 00:00:00")
    store.profile("d", order_count=1, first_order_at="2026-10-23 12:00:00")  # exactly 30 days
    store.profile("e", order_count=0)
    assert members(store, "one-time-buyers") == {"a"}


def test_cart_abandoners(store: Store) -> None:
    store.profiles("a", "b", "c", "d", "e", "f", "g", "h")
    store.event("a", "Product Added", "2026-11-21 10:00:00")
    store.event("b", "Product Added", "2026-11-21 10:00:00")
    store.event("b", "Order Completed", "2026-11-21 11:00:00")
    store.event("c", "Product Added", "2026-11-21 10:00:00")
    store.order("c", "2026-11-22 09:00:00")
    store.event("d", "Product Added", "2026-11-19 14:00:00")  # before the 48 hours
    store.event("e", "Product Added", "2026-11-21 10:00:00")
    store.order("e", "2026-11-21 12:00:00", status="cancelled")  # not a purchase
    store.event("f", "Product Added", "2026-11-20 13:00:00")
    store.event("f", "Order Completed", "2026-11-21 00:00:00")
    store.event("f", "Product Added", "2026-11-22 08:00:00")  # the later cart is open
    store.event("g", "Product Added", "2026-11-21 10:00:00")
    store.event("g", "Order Completed", "2026-11-21 10:00:00")  # same instant: not after
    assert members(store, "cart-abandoners") == {"a", "e", "f", "g"}
    # Three days back the 2026-11-19 cart counts too.
    assert members(store, "cart-abandoners", period=3, unit="days") == {"a", "d", "e", "f", "g"}


def test_checkout_abandoners(store: Store) -> None:
    store.profiles("a", "b", "c")
    store.event("a", "Checkout Started", "2026-11-20 00:00:00")
    store.event("b", "Checkout Started", "2026-11-20 00:00:00")
    store.order("b", "2026-11-20 00:05:00")
    assert members(store, "checkout-abandoners") == {"a"}


def test_browse_abandoners(store: Store) -> None:
    store.profiles("a", "b", "c", "d", "e")
    store.event("a", "Product Viewed", "2026-11-20 12:00:00")
    store.event("b", "Product Viewed", "2026-11-20 12:00:00")
    store.event("b", "Product Added", "2026-11-20 13:00:00")
    store.event("c", "Product Viewed", "2026-11-20 12:00:00")
    store.order("c", "2026-11-21 00:00:00")
    store.event("d", "Product Viewed", "2026-11-10 12:00:00")
    store.event("e", "Product Added", "2026-11-18 12:00:00")
    store.event("e", "Product Viewed", "2026-11-20 12:00:00")
    assert members(store, "browse-abandoners") == {"a", "e"}


def test_product_viewers(store: Store) -> None:
    store.profiles("a", "b", "c", "d", "e", "f")
    store.event("a", "Product Viewed", "2026-11-01 00:00:00", {"product_id": "p1"})
    store.event("b", "Product Viewed", "2026-11-01 00:00:00", {"product_id": "p2"})
    store.event("c", "Product Viewed", "2026-10-01 00:00:00", {"product_id": "p1"})
    store.event("d", "Product Viewed", "2026-11-01 00:00:00", "{not json")  # ignored, no failure
    store.event("d", "Product Viewed", "2026-11-02 00:00:00", {"product_id": "p1"})
    store.event("e", "Product Viewed", "2026-11-01 00:00:00", "{not json")
    store.event("f", "Product Viewed", "2026-11-01 00:00:00", {"product_id": "P1"})
    assert members(store, "product-viewers", products=["p1"]) == {"a", "d", "f"}
    assert members(store, "product-viewers", products=["p1", "p2"], days=60) == {
        "a",
        "b",
        "c",
        "d",
        "f",
    }


def test_category_viewers(store: Store) -> None:
    store.profiles("a", "b", "c", "d")
    store.event("a", "Product List Viewed", "2026-11-10 00:00:00", {"category": "apparel"})
    store.event("b", "Product Viewed", "2026-11-10 00:00:00", {"category": "Apparel"})
    store.event("c", "Product Viewed", "2026-11-10 00:00:00", {"category": "shoes"})
    store.event("d", "Product Viewed", "2026-10-10 00:00:00", {"category": "apparel"})
    assert members(store, "category-viewers", categories=["apparel"]) == {"a", "b"}


def test_home_page_viewers(store: Store) -> None:
    store.profiles("a", "b", "c", "d", "e")
    store.event("a", None, "2026-11-10 00:00:00", {"path": "/"}, type="page")
    store.event(
        "b", None, "2026-11-10 00:00:00", None, type="page", context={"page": {"path": "/"}}
    )
    store.event("c", None, "2026-11-10 00:00:00", {"path": "/shoes"}, type="page")
    store.event("d", "Page Viewed", "2026-11-10 00:00:00", {"path": "/"})
    store.event("e", None, "2026-09-10 00:00:00", {"path": "/"}, type="page")
    assert members(store, "home-page-viewers") == {"a", "b", "d"}


def test_frequent_buyers(store: Store) -> None:
    store.profiles("a", "b", "c", "d", "e", "f")
    days = [
        f"2026-{m:02d}-{d:02d} 10:00:00"
        for m, d in [(9, 1), (9, 10), (9, 20), (10, 1), (10, 10), (10, 20), (11, 1), (11, 10)]
    ]
    for when in days:  # 8 purchases in the last 3 months
        store.order("a", when)
        store.order("c", when)
        store.order("e", when)
    for when in days[:7]:
        store.order("b", when)  # 7 purchases: not more than 7
    store.engine.execute(
        "UPDATE orders SET status = 'cancelled' WHERE customer_id = 'c' "
        "AND ordered_at = '2026-09-01 10:00:00'"
    )
    store.engine.execute(
        "UPDATE orders SET status = 'partially_refunded' WHERE customer_id = 'e' "
        "AND ordered_at = '2026-09-01 10:00:00'"
    )
    for when in ["2026-08-22 12:00:00", *days[1:]]:  # the first exactly 3 months back
        store.order("d", when)
    assert members(store, "frequent-buyers") == {"a", "e"}
    assert members(store, "frequent-buyers", orders=6) == {"a", "b", "c", "d", "e"}


def test_category_loyalists(store: Store) -> None:
    store.product("ap", category="apparel")
    store.product("sh", category="shoes")
    store.profiles("a", "b", "c", "d", "e")

    def emails(who: str, delivered: int, clicked: int, category: str = "apparel") -> None:
        for _ in range(delivered):
            store.event(who, "Email Delivered", "2026-11-01 00:00:00", {"category": category})
        for _ in range(clicked):
            store.event(who, "Email Link Clicked", "2026-11-01 01:00:00", {"category": category})

    store.order("a", "2026-10-01", lines=[("ap", 80), ("sh", 20)])
    emails("a", 5, 2)
    store.order("b", "2026-10-01", lines=[("ap", 75), ("sh", 25)])  # exactly 75%: not above
    emails("b", 5, 2)
    store.order("c", "2026-10-01", lines=[("ap", 100)])
    emails("c", 5, 1)  # 20% clicks: not above
    store.order("d", "2026-10-01", lines=[("ap", 100)])
    emails("d", 5, 0)
    emails("d", 5, 3, category="shoes")  # clicks in another category do not count
    store.order("e", "2026-10-01", lines=[("ap", 90), ("sh", 10)])  # no email at all
    assert members(store, "category-loyalists", category="apparel") == {"a"}


def test_category_loyalists_by_count(store: Store) -> None:
    store.product("ap", category="apparel")
    store.product("sh", category="shoes")
    store.profiles("a", "b")
    for i in range(4):  # a: 4 orders, all with an apparel line, but most value in shoes
        store.order("a", f"2026-10-0{i + 1}", lines=[("ap", 10), ("sh", 90)])
    for i in range(4):  # b: 3 of 4 orders with apparel: 75%, not above
        store.order("b", f"2026-10-0{i + 1}", lines=[("ap" if i < 3 else "sh", 50)])
    for who in ("a", "b"):
        store.event(who, "Email Delivered", "2026-11-01", {"category": "apparel"})
        store.event(who, "Email Link Clicked", "2026-11-01 01:00:00", {"category": "apparel"})
    assert members(store, "category-loyalists", category="apparel", by="count") == {"a"}
    assert members(store, "category-loyalists", category="apparel", by="value") == set()


def test_rhythm_basket_buyers(store: Store) -> None:
    store.profile("a", average_days_between_orders=15, average_order_value=700)
    store.profile("b", average_days_between_orders=12, average_order_value=500)  # both ends in
    store.profile("c", average_days_between_orders=18.5, average_order_value=700)
    store.profile("d", average_days_between_orders=15, average_order_value=1000.01)
    store.profile("e", average_order_value=700)
    assert members(store, "rhythm-basket-buyers") == {"a", "b"}


def test_high_spend_engaged(store: Store) -> None:
    engaged = {"visits_per_month": 4, "average_session_minutes": 20}
    store.profile("a", **engaged)
    store.order("a", "2026-10-01", 6000)
    store.profile("b", **engaged)
    store.order("b", "2026-10-01", 6000, refunded_amount=1500)  # net 4500
    store.profile("c", visits_per_month=3, average_session_minutes=20)
    store.order("c", "2026-10-01", 6000)
    store.profile("d", **engaged)
    store.order("d", "2026-10-01", 4000)
    store.order("d", "2026-05-01", 3000)  # before the 6 months
    store.profile("e", visits_per_month=3.5, average_session_minutes=15.5)
    store.order("e", "2026-06-01", 4000)
    store.order("e", "2026-11-01", 6000)  # exactly 10000 in the window
    assert members(store, "high-spend-engaged") == {"a", "e"}


def test_email_open_rate_band(store: Store) -> None:
    store.profile("a", email_open_rate_30d=0.25)
    store.profile("b", email_open_rate_30d=0.2)
    store.profile("c", email_open_rate_30d=0.3)
    store.profile("d", email_open_rate_30d=0.31)
    store.profile("e")
    store.profile("f", email_open_rate_30d=0.25, accepts_marketing=None)  # consent unknown
    store.profile("g", email_open_rate_30d=0.25, email_open_rate_7d=0.9)
    assert members(store, "email-open-rate-band") == {"a", "b", "c", "g"}
    assert members(store, "email-open-rate-band", window="7", low=80, high=100) == {"g"}


def test_recent_openers(store: Store) -> None:
    store.profiles("a", "b", "c", "d", "e")
    store.event("a", "Email Opened", "2026-11-20 00:00:00")
    store.event("b", "Email Opened", "2026-11-10 00:00:00")
    store.event("c", "Email Delivered", "2026-11-20 00:00:00")
    store.event("d", "Email Opened", "2026-11-20 00:00:00")
    store.event("d", "Unsubscribed", "2026-11-21 00:00:00")  # marketing must not reach d
    assert members(store, "recent-openers") == {"a"}


def test_unengaged(store: Store) -> None:
    store.profile("a")  # never engaged anywhere
    store.profile("b", last_seen_at="2026-11-01 00:00:00")
    store.profile("c", last_email_engagement_at="2026-11-01 00:00:00")
    store.profile("d", last_order_at="2026-11-01 00:00:00")
    store.profile(
        "e",
        last_seen_at="2026-10-01",
        last_email_engagement_at="2026-10-01",
        last_order_at="2026-10-01",
    )
    store.profile("f", last_order_at="2026-10-23 12:00:00")  # exactly 30 days ago
    assert members(store, "unengaged") == {"a", "e", "f"}


def test_at_risk(store: Store) -> None:
    store.profile("a", order_count=5, average_days_between_orders=30, days_since_last_order=61)
    store.profile("b", order_count=5, average_days_between_orders=30, days_since_last_order=60)
    store.profile("c", order_count=2, average_days_between_orders=10, days_since_last_order=100)
    store.profile("d", order_count=3, days_since_last_order=100)
    assert members(store, "at-risk") == {"a"}
    assert members(store, "at-risk", factor=1.5) == {"a", "b"}


def test_vips_ties_at_the_boundary(store: Store) -> None:
    spends = {"v01": 1000, "v02": 900, "v03": 900, "v04": 800}
    for i in range(5, 21):
        spends[f"v{i:02d}"] = 100 + i
    for pid, spend in spends.items():
        store.profile(pid, total_spend=spend)
    store.profile("v21")  # no spend: not ranked, not counted
    # 20 ranked profiles, top 10% = 2: v01 (none above) and v02, v03 (one above) tie in.
    assert members(store, "vips") == {"v01", "v02", "v03"}
    assert members(store, "vips", percent=5) == {"v01"}
    assert members(store, "vips", percent=20) == {"v01", "v02", "v03", "v04"}


def test_high_predicted_clv(store: Store) -> None:
    # Ten buyers with predictions 100, 200, ..., 1000; one profile without a prediction.
    for i in range(1, 11):
        store.profile(f"c{i:02d}", clv_predicted_12m=100.0 * i)
    store.profile("c11")
    # Top 10% of 10 ranked = 1 profile: c10; top 30% = c08, c09, c10.
    assert members(store, "high-predicted-clv") == {"c10"}
    assert members(store, "high-predicted-clv", percent=30) == {"c08", "c09", "c10"}


def test_likely_to_churn(store: Store) -> None:
    # Spend ranks: k1 > k2 > k3 > k4 (top 50% = k1, k2).
    store.profile("k1", total_spend=1000, clv_p_alive=0.2)  # top spender, fading: in
    store.profile("k2", total_spend=900, clv_p_alive=0.8)  # top spender, alive: out
    store.profile("k3", total_spend=100, clv_p_alive=0.1)  # fading but low value: out
    store.profile("k4", total_spend=50, clv_p_alive=0.9)
    store.profile("k5")  # no orders: no prediction, out
    assert members(store, "likely-to-churn", percent=50) == {"k1"}
    # Threshold 85%: k2 (0.8) now counts as fading too.
    assert members(store, "likely-to-churn", percent=50, p_alive=85) == {"k1", "k2"}


def test_coupon_inclined(store: Store) -> None:
    store.profiles("a", "b", "c", "d", "e")
    store.order("a", "2026-10-01", coupon_code="WELCOME")
    store.order("a", "2026-10-02", coupon_code="AGAIN")
    store.order("a", "2026-10-03")
    store.order("b", "2026-10-01", discount_amount=5)
    store.order("b", "2026-10-02")  # half: not more than half
    store.order("c", "2026-10-01", coupon_code="ONE")  # one order only
    for day in ("01", "02", "03"):
        store.order("d", f"2026-10-{day}", coupon_code=" ")  # blank codes are no coupon
    for day, discount in (("01", 5), ("02", 5), ("03", 5), ("04", 0)):
        store.order("e", f"2026-10-{day}", discount_amount=discount)
    assert members(store, "coupon-inclined") == {"a", "e"}


def test_full_price_buyers(store: Store) -> None:
    store.profiles("a", "b", "c", "d")
    store.order("a", "2026-10-01")
    store.order("a", "2026-10-02")
    store.order("b", "2026-10-01")
    store.order("b", "2026-10-02", coupon_code="X")
    store.order("d", "2026-10-01", discount_amount=0)
    assert members(store, "full-price-buyers") == {"a", "d"}
    assert members(store, "full-price-buyers", min_orders=2) == {"a"}


def test_product_line_buyers(store: Store) -> None:
    store.product("c1", category="apparel", line="classic")
    store.product("m1", category="apparel", line="modern")
    store.profiles("a", "b", "c", "d")
    store.order("a", "2026-06-01", lines=[("m1", 10), ("c1", 10)])
    store.order("b", "2026-06-01", lines=[("m1", 10)])
    store.order("c", "2025-06-01", lines=[("c1", 10)])  # more than 365 days ago
    store.order("d", "2026-06-01", lines=[("c1", 10)], status="cancelled")
    assert members(store, "product-line-buyers", product_lines=["classic"]) == {"a"}
    assert members(store, "product-line-buyers", product_lines=["Classic"], days=730) == {"a", "c"}


def test_demographic(store: Store) -> None:
    store.profile("a", gender="female", age_band="25-34")
    store.profile("b", gender="Female", age_band="35-44")
    store.profile("c", gender="male", age_band="25-34")
    store.profile("d")
    assert members(store, "demographic") == {"a", "b"}
    assert members(store, "demographic", trait="age_band", values=["25-34"]) == {"a", "c"}


def test_recent_reviewers(store: Store) -> None:
    store.profiles("a", "b", "c")
    store.review("a", "2026-11-10", 5)
    store.review("b", "2026-09-01", 4)
    assert members(store, "recent-reviewers") == {"a"}


def test_negative_reviewers(store: Store) -> None:
    store.profiles("a", "b", "c", "d")
    store.review("a", "2026-10-01", 2)
    store.review("b", "2026-10-01", 3)
    store.review("c", "2025-01-01", 1)  # outside the year
    store.review("d", "2026-10-01", 5)
    store.review("d", "2026-10-02", 1)
    assert members(store, "negative-reviewers") == {"a", "d"}
    assert members(store, "negative-reviewers", max_rating=3) == {"a", "b", "d"}


def test_no_support_ticket(store: Store) -> None:
    store.profiles("a", "b", "c", "d")
    for who in ("a", "b", "c"):
        store.order(who, "2026-09-01")
    store.ticket("b", "2026-10-01")
    store.ticket("c", "2025-01-01")  # older than the window
    store.ticket("d", "2026-10-01")
    assert members(store, "no-support-ticket") == {"a", "c"}


def test_lifecycle_stage(store: Store) -> None:
    store.profile("a", lifecycle_stage="at_risk")
    store.profile("b", lifecycle_stage="loyal")
    store.profile("c", lifecycle_stage="new")
    store.profile("d", lifecycle_stage="at_risk", accepts_marketing=False)
    assert members(store, "lifecycle-stage") == {"a"}
    assert members(store, "lifecycle-stage", stages=["new", "loyal"]) == {"b", "c"}


@pytest.mark.parametrize("segment", RFM_SEGMENTS)
def test_rfm_segments(store: Store, segment: str) -> None:
    for i, name in enumerate(RFM_SEGMENTS):
        store.profile(f"p{i:02d}", rfm_segment=name)
    store.profile("opted-out", rfm_segment=segment, accepts_marketing=False)
    store.profile("no-orders")
    slug = "rfm-" + segment.lower().replace("'", "").replace(" ", "-")
    assert members(store, slug) == {f"p{RFM_SEGMENTS.index(segment):02d}"}


def test_template_parameters_are_checked() -> None:
    template = get_template("first-time-buyers")
    with pytest.raises(TemplateError, match="unknown parameter 'dayz'; did you mean 'days'"):
        template.instantiate("x", {"dayz": 3})
    with pytest.raises(TemplateError, match="days: 0 is below the minimum 1"):
        template.instantiate("x", {"days": 0})
    with pytest.raises(TemplateError, match="'seven' is not a number"):
        template.instantiate("x", {"days": "seven"})
    with pytest.raises(TemplateError, match="'hourz' is not one of hours, days; did you mean"):
        get_template("cart-abandoners").instantiate("x", {"unit": "hourz"})
    with pytest.raises(TemplateError, match="no template named 'vip'; did you mean 'vips'"):
        get_template("vip")


def test_instance_remembers_template_and_describes_itself() -> None:
    definition = get_template("frequent-buyers").instantiate("fb", {"orders": "5"})
    assert definition.template is not None
    assert definition.template.name == "frequent-buyers"
    assert definition.template.params == {"orders": 5, "months": 3}
    assert definition.description == "More than 5 orders in the last 3 months."
