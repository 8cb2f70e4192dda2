"""The built-in template library: the segments people ask for, each with parameters and a
plain-language description (see :mod:`segmint.segments.templating` for how slots work)."""

from __future__ import annotations

from typing import Any

from segmint.profiles.catalogue import LIFECYCLE_STAGES, RFM_SEGMENTS
from segmint.segments.templating import SegmentTemplate, Slot, TemplateParam


def _days(default: int, what: str = "Window, in days") -> TemplateParam:
    return TemplateParam("days", "integer", default, what, minimum=1, maximum=3650)


def _event(name: str, *, where: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "event", "event": name, **extra}
    if where:
        out["where"] = where
    return out


def _trait(trait: Any, op: str, value: Any = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "trait", "trait": trait, "op": op, **extra}
    if value is not None:
        out["value"] = value
    return out


def _window(amount: Any, unit: Any = "days") -> dict[str, Any]:
    return {"last": amount, "unit": unit}


LIBRARY: list[SegmentTemplate] = [
    SegmentTemplate(
        "first-time-buyers",
        "First-time buyers",
        "Customers whose first purchase was in the last {days} days.",
        (_days(7),),
        {"include": _trait("first_order_at", "within_last", Slot("days"), unit="days")},
        ("orders", "lifecycle"),
    ),
    SegmentTemplate(
        "one-time-buyers",
        "One-time buyers without a second order",
        "Customers with exactly one purchase, made more than {days} days ago.",
        (_days(30, "How long ago the only purchase must be, in days"),),
        {
            "include": {
                "all": [
                    _trait("order_count", "eq", 1),
                    _trait("first_order_at", "more_than_ago", Slot("days"), unit="days"),
                ]
            }
        },
        ("orders",),
    ),
    SegmentTemplate(
        "cart-abandoners",
        "Cart abandoners",
        "Added a product to the cart in the last {period} {unit}, with no order since.",
        (
            TemplateParam("period", "integer", 48, "How far back to look", minimum=1),
            TemplateParam(
                "unit", "choice", "hours", "Unit of the period", choices=("hours", "days")
            ),
        ),
        {
            "include": {
                "type": "event_sequence",
                "first": {"event": "Product Added"},
                "then_not": [{"event": "Order Completed"}],
                "no_order_after": True,
                "window": _window(Slot("period"), Slot("unit")),
            }
        },
        ("web", "funnel"),
    ),
    SegmentTemplate(
        "checkout-abandoners",
        "Checkout abandoners",
        "Started a checkout in the last {days} days, with no order since.",
        (_days(7),),
        {
            "include": {
                "type": "event_sequence",
                "first": {"event": "Checkout Started"},
                "then_not": [{"event": "Order Completed"}],
                "no_order_after": True,
                "window": _window(Slot("days")),
            }
        },
        ("web", "funnel"),
    ),
    SegmentTemplate(
        "browse-abandoners",
        "Browse abandoners",
        "Viewed a product page in the last {days} days and neither added to cart nor ordered "
        "after it.",
        (_days(7),),
        {
            "include": {
                "type": "event_sequence",
                "first": {"event": "Product Viewed"},
                "then_not": [{"event": "Product Added"}, {"event": "Order Completed"}],
                "no_order_after": True,
                "window": _window(Slot("days")),
            }
        },
        ("web", "funnel"),
    ),
    SegmentTemplate(
        "product-viewers",
        "Viewers of a product",
        "Viewed product {products} in the last {days} days.",
        (
            TemplateParam("products", "text_list", ["p1"], "Product ids (or SKUs)"),
            _days(30),
        ),
        {
            "include": _event(
                "Product Viewed",
                where=[{"property": "product_id", "op": "in", "value": Slot("products")}],
                window=_window(Slot("days")),
            )
        },
        ("web",),
    ),
    SegmentTemplate(
        "category-viewers",
        "Viewers of a category",
        "Viewed the {categories} category page or one of its products in the last {days} days.",
        (TemplateParam("categories", "text_list", ["apparel"], "Categories"), _days(30)),
        {
            "include": {
                "any": [
                    _event(
                        "Product List Viewed",
                        where=[{"property": "category", "op": "in", "value": Slot("categories")}],
                        window=_window(Slot("days")),
                    ),
                    _event(
                        "Product Viewed",
                        where=[{"property": "category", "op": "in", "value": Slot("categories")}],
                        window=_window(Slot("days")),
                    ),
                ]
            }
        },
        ("web", "funnel"),
    ),
    SegmentTemplate(
        "home-page-viewers",
        "Home page viewers",
        "Viewed the home page in the last {days} days.",
        (_days(30),),
        {
            "include": {
                "any": [
                    _event(
                        "Page Viewed",
                        where=[{"property": "path", "op": "eq", "value": "/"}],
                        window=_window(Slot("days")),
                    ),
                    _event(
                        "Page Viewed",
                        where=[{"property": "context.page.path", "op": "eq", "value": "/"}],
                        window=_window(Slot("days")),
                    ),
                ]
            }
        },
        ("web", "funnel"),
    ),
    SegmentTemplate(
        "frequent-buyers",
        "Frequent buyers",
        "More than {orders} orders in the last {months} months.",
        (
            TemplateParam("orders", "integer", 7, "Orders to exceed", minimum=0),
            TemplateParam("months", "integer", 3, "Window, in months", minimum=1, maximum=120),
        ),
        {
            "include": {
                "type": "orders",
                "measure": "count",
                "op": "gt",
                "value": Slot("orders"),
                "window": _window(Slot("months"), "months"),
            }
        },
        ("orders",),
    ),
    SegmentTemplate(
        "category-loyalists",
        "Category loyalists who click",
        "More than {share}% of orders (by {by}) in {category}, and an email click rate in "
        "{category} above {click_rate}% over the last {days} days.",
        (
            TemplateParam("category", "text", "apparel", "Product category"),
            TemplateParam("share", "percent", 75, "Share of orders in the category", 0, 100),
            TemplateParam(
                "by",
                "choice",
                "value",
                "Share by order value or by order count",
                choices=("value", "count"),
            ),
            TemplateParam("click_rate", "percent", 20, "Email click rate in the category", 0, 100),
            _days(90, "Window of the email click rate, in days"),
        ),
        {
            "include": {
                "all": [
                    {
                        "type": "orders",
                        "measure": Slot(
                            "by", choices={"value": "share_of_value", "count": "share_of_count"}
                        ),
                        "op": "gt",
                        "value": Slot("share", times=0.01),
                        "categories": [Slot("category")],
                    },
                    {
                        "type": "event_ratio",
                        "numerator": {
                            "event": "Email Link Clicked",
                            "where": [
                                {"property": "category", "op": "eq", "value": Slot("category")}
                            ],
                        },
                        "denominator": {
                            "event": "Email Delivered",
                            "where": [
                                {"property": "category", "op": "eq", "value": Slot("category")}
                            ],
                        },
                        "op": "gt",
                        "value": Slot("click_rate", times=0.01),
                        "window": _window(Slot("days")),
                    },
                ]
            }
        },
        ("orders", "email"),
    ),
    SegmentTemplate(
        "rhythm-basket-buyers",
        "Rhythm and basket-size buyers",
        "Order every {min_days} to {max_days} days on average, with an average order value "
        "between {min_aov} and {max_aov}.",
        (
            TemplateParam("min_days", "number", 12, "Shortest average gap, in days", minimum=0),
            TemplateParam("max_days", "number", 18, "Longest average gap, in days", minimum=0),
            TemplateParam("min_aov", "number", 500, "Lowest average order value", minimum=0),
            TemplateParam("max_aov", "number", 1000, "Highest average order value", minimum=0),
        ),
        {
            "include": {
                "all": [
                    _trait(
                        "average_days_between_orders",
                        "between",
                        [Slot("min_days"), Slot("max_days")],
                    ),
                    _trait("average_order_value", "between", [Slot("min_aov"), Slot("max_aov")]),
                ]
            }
        },
        ("orders",),
    ),
    SegmentTemplate(
        "high-spend-engaged",
        "High spenders who visit",
        "Spent between {min_spend} and {max_spend} in the last {months} months, with more "
        "than {visits} website visits a month lasting over {minutes} minutes on average.",
        (
            TemplateParam("min_spend", "number", 5000, "Lowest spend", minimum=0),
            TemplateParam("max_spend", "number", 10000, "Highest spend", minimum=0),
            TemplateParam("months", "integer", 6, "Spend window, in months", minimum=1),
            TemplateParam("visits", "number", 3, "Visits a month to exceed", minimum=0),
            TemplateParam("minutes", "number", 15, "Average visit length to exceed", minimum=0),
        ),
        {
            "include": {
                "all": [
                    {
                        "type": "orders",
                        "measure": "sum",
                        "op": "between",
                        "value": [Slot("min_spend"), Slot("max_spend")],
                        "window": _window(Slot("months"), "months"),
                    },
                    _trait("visits_per_month", "gt", Slot("visits")),
                    _trait("average_session_minutes", "gt", Slot("minutes")),
                ]
            }
        },
        ("orders", "web"),
    ),
    SegmentTemplate(
        "email-open-rate-band",
        "Email open-rate band",
        "Opened between {low}% and {high}% of the emails delivered in the last {window} days.",
        (
            TemplateParam("low", "percent", 20, "Lowest open rate", 0, 100),
            TemplateParam("high", "percent", 30, "Highest open rate", 0, 100),
            TemplateParam("window", "choice", "30", "Window, in days", choices=("7", "30", "90")),
        ),
        {
            "include": _trait(
                Slot("window", choices={d: f"email_open_rate_{d}d" for d in ("7", "30", "90")}),
                "between",
                [Slot("low", times=0.01), Slot("high", times=0.01)],
            )
        },
        ("email",),
    ),
    SegmentTemplate(
        "recent-openers",
        "Recent email openers",
        "Opened an email in the last {days} days.",
        (_days(7),),
        {"include": _event("Email Opened", window=_window(Slot("days")))},
        ("email",),
    ),
    SegmentTemplate(
        "unengaged",
        "Unengaged on every channel",
        "No website visit, no email open or click and no order in the last {days} days.",
        (_days(30),),
        {
            "include": {
                "not": {
                    "any": [
                        _trait("last_seen_at", "within_last", Slot("days"), unit="days"),
                        _trait(
                            "last_email_engagement_at", "within_last", Slot("days"), unit="days"
                        ),
                        _trait("last_order_at", "within_last", Slot("days"), unit="days"),
                    ]
                }
            }
        },
        ("lifecycle",),
    ),
    SegmentTemplate(
        "at-risk",
        "At risk",
        "Regular buyers ({min_orders}+ orders) whose days since their last order exceed "
        "{factor} times their own average gap between orders.",
        (
            TemplateParam("min_orders", "integer", 3, "Orders that make a regular buyer", 2),
            TemplateParam("factor", "number", 2, "How many of their usual gaps is overdue", 1),
        ),
        {
            "include": {
                "all": [
                    _trait("order_count", "gte", Slot("min_orders")),
                    _trait(
                        "days_since_last_order",
                        "gt",
                        {"trait": "average_days_between_orders", "times": Slot("factor")},
                    ),
                ]
            }
        },
        ("orders", "lifecycle"),
    ),
    SegmentTemplate(
        "vips",
        "VIPs",
        "The top {percent}% of customers by {by}.",
        (
            TemplateParam("percent", "number", 10, "Top share, in percent", 0.01, 100),
            TemplateParam(
                "by",
                "trait",
                "total_spend",
                "Number trait to rank by (total_spend, or a predicted CLV trait)",
            ),
        ),
        {"include": _trait(Slot("by"), "top_percent", Slot("percent"))},
        ("orders", "clv"),
    ),
    SegmentTemplate(
        "high-predicted-clv",
        "High predicted lifetime value",
        "The top {percent}% of buyers by predicted 12-month customer lifetime value.",
        (TemplateParam("percent", "number", 10, "Top share, in percent", 0.01, 100),),
        {"include": _trait("clv_predicted_12m", "top_percent", Slot("percent"))},
        ("clv",),
    ),
    SegmentTemplate(
        "likely-to-churn",
        "Valuable customers likely to churn",
        "Customers in the top {percent}% by spend whose probability of still being active has "
        "fallen below {p_alive}%.",
        (
            TemplateParam("percent", "number", 25, "Top share by spend, in percent", 0.01, 100),
            TemplateParam("p_alive", "percent", 50, "Probability alive below, in percent", 0, 100),
        ),
        {
            "include": {
                "all": [
                    _trait("total_spend", "top_percent", Slot("percent")),
                    _trait("clv_p_alive", "lt", Slot("p_alive", times=0.01)),
                ]
            }
        },
        ("clv", "orders"),
    ),
    SegmentTemplate(
        "coupon-inclined",
        "Coupon-inclined customers",
        "At least {min_orders} orders, more than {share}% of them with a coupon or discount.",
        (
            TemplateParam("min_orders", "integer", 2, "Orders needed", minimum=1),
            TemplateParam("share", "percent", 50, "Share of discounted orders to exceed", 0, 100),
        ),
        {
            "include": {
                "type": "orders",
                "measure": "share_of_count",
                "discount": "used",
                "op": "gt",
                "value": Slot("share", times=0.01),
                "min_orders": Slot("min_orders"),
            }
        },
        ("orders",),
    ),
    SegmentTemplate(
        "full-price-buyers",
        "Full-price buyers",
        "At least {min_orders} orders, none with a coupon or discount.",
        (TemplateParam("min_orders", "integer", 1, "Orders needed", minimum=1),),
        {
            "include": {
                "type": "orders",
                "measure": "share_of_count",
                "discount": "used",
                "op": "eq",
                "value": 0,
                "min_orders": Slot("min_orders"),
            }
        },
        ("orders",),
    ),
    SegmentTemplate(
        "product-line-buyers",
        "Buyers of a product line",
        "Bought from the {product_lines} product line in the last {days} days.",
        (
            TemplateParam("product_lines", "text_list", ["classic"], "Product lines"),
            _days(365),
        ),
        {
            "include": {
                "type": "orders",
                "op": "gte",
                "value": 1,
                "product_lines": Slot("product_lines"),
                "window": _window(Slot("days")),
            }
        },
        ("orders",),
    ),
    SegmentTemplate(
        "demographic",
        "Demographic group",
        "Customers whose {trait} is {values}.",
        (
            TemplateParam(
                "trait",
                "choice",
                "gender",
                "Which trait",
                choices=("gender", "age_band", "marital_status", "country", "region", "city"),
            ),
            TemplateParam("values", "text_list", ["female"], "Values to match (any of them)"),
        ),
        {"include": _trait(Slot("trait"), "in", Slot("values"))},
        ("demographics",),
    ),
    SegmentTemplate(
        "recent-reviewers",
        "Recent reviewers",
        "Wrote a review in the last {days} days.",
        (_days(30),),
        {"include": {"type": "reviews", "op": "gte", "value": 1, "window": _window(Slot("days"))}},
        ("reviews",),
    ),
    SegmentTemplate(
        "negative-reviewers",
        "Negative reviewers",
        "Gave a rating of {max_rating} or less in the last {days} days.",
        (
            TemplateParam("max_rating", "integer", 2, "Highest rating that counts", 1, 5),
            _days(365),
        ),
        {
            "include": {
                "type": "reviews",
                "op": "gte",
                "value": 1,
                "max_rating": Slot("max_rating"),
                "window": _window(Slot("days")),
            }
        },
        ("reviews",),
    ),
    SegmentTemplate(
        "no-support-ticket",
        "Buyers without a support ticket",
        "Customers with an order and no support ticket in the last {days} days (for review "
        "invitations).",
        (_days(365),),
        {
            "include": {
                "all": [
                    {"type": "orders", "op": "gte", "value": 1},
                    {"type": "tickets", "op": "eq", "value": 0, "window": _window(Slot("days"))},
                ]
            }
        },
        ("tickets",),
    ),
    SegmentTemplate(
        "lifecycle-stage",
        "Lifecycle stage",
        "Customers in the lifecycle stages {stages}.",
        (
            TemplateParam(
                "stages", "choice", ["at_risk"], "Stages (any of them)", choices=LIFECYCLE_STAGES
            ),
        ),
        {"include": _trait("lifecycle_stage", "in", Slot("stages"))},
        ("lifecycle",),
    ),
]

for _segment in RFM_SEGMENTS:
    _slug = "rfm-" + _segment.lower().replace("'", "").replace(" ", "-")
    LIBRARY.append(
        SegmentTemplate(
            _slug,
            f"RFM: {_segment}",
            f"Customers in the {_segment} RFM segment.",
            (),
            {"include": _trait("rfm_segment", "eq", _segment)},
            ("rfm",),
        )
    )
