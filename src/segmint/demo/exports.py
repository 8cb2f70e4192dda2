"""The demo store's data as export files: canonical table columns and the Shopify orders export.

Every function returns the columns of one file as Arrow string arrays in header order; the
caller turns them into CSV lines. Values are written the way the importers read them: money
with two decimals, timestamps as UTC ``YYYY-MM-DD HH:MM:SS``, booleans as ``true``/``false``,
and JSON objects as text.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from segmint.demo import text
from segmint.demo.calendar import DAY
from segmint.demo.catalogue import CURRENCY, Catalogue
from segmint.demo.orders import (
    CANCELLED,
    CHANNELS,
    COMPLETED,
    COUPONS,
    PARTIAL,
    PENDING,
    REFUNDED,
    STATUSES,
    TAX_RATE,
    Orders,
)
from segmint.demo.people import People
from segmint.demo.vocab import LOYALTY_TIERS, PLACES, SIGNUP_SOURCES

Columns = dict[str, pa.Array]

#: The columns of Shopify's orders export (Admin > Orders > Export), in Shopify's order.
SHOPIFY_ORDER_COLUMNS = (
    "Name",
    "Email",
    "Financial Status",
    "Paid at",
    "Fulfillment Status",
    "Fulfilled at",
    "Accepts Marketing",
    "Currency",
    "Subtotal",
    "Shipping",
    "Taxes",
    "Total",
    "Discount Code",
    "Discount Amount",
    "Shipping Method",
    "Created at",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
    "Lineitem compare at price",
    "Lineitem sku",
    "Lineitem requires shipping",
    "Lineitem taxable",
    "Lineitem fulfillment status",
    "Billing Name",
    "Billing Street",
    "Billing Address1",
    "Billing Address2",
    "Billing Company",
    "Billing City",
    "Billing Zip",
    "Billing Province",
    "Billing Country",
    "Billing Phone",
    "Shipping Name",
    "Shipping Street",
    "Shipping Address1",
    "Shipping Address2",
    "Shipping Company",
    "Shipping City",
    "Shipping Zip",
    "Shipping Province",
    "Shipping Country",
    "Shipping Phone",
    "Notes",
    "Note Attributes",
    "Cancelled at",
    "Payment Method",
    "Payment Reference",
    "Refunded Amount",
    "Vendor",
    "Outstanding Balance",
    "Employee",
    "Location",
    "Device ID",
    "Id",
    "Tags",
    "Risk Level",
    "Source",
    "Lineitem discount",
    "Tax 1 Name",
    "Tax 1 Value",
    "Tax 2 Name",
    "Tax 2 Value",
    "Tax 3 Name",
    "Tax 3 Value",
    "Tax 4 Name",
    "Tax 4 Value",
    "Tax 5 Name",
    "Tax 5 Value",
    "Phone",
    "Receipt Number",
    "Duties",
    "Billing Province Name",
    "Shipping Province Name",
    "Payment ID",
    "Payment Terms Name",
    "Next Payment Due At",
    "Payment References",
)

#: Shopify export columns filled on every row of an order, not only its first.
SHOPIFY_LINE_COLUMNS = (
    "Name", "Email", "Created at", "Lineitem quantity", "Lineitem name", "Lineitem price",
    "Lineitem compare at price", "Lineitem sku", "Lineitem requires shipping", "Lineitem taxable",
    "Lineitem fulfillment status", "Vendor", "Lineitem discount",
)  # fmt: skip

_STREETS = (
    "Main St",
    "Oak Ave",
    "Maple Dr",
    "Cedar Ln",
    "Park Rd",
    "Elm St",
    "Lake View Rd",
    "Hill St",
    "River Rd",
    "Station Rd",
    "Church St",
    "Mill Lane",
    "High St",
    "King St",
)
_SHOPIFY_ID_BASE = 4_500_000_000_000
VENDOR = "Segmint Demo Co"


def _bools(values: np.ndarray) -> pa.Array:
    return text.lookup(("false", "true"), np.asarray(values, dtype=np.int64))


def _place_field(field: str, place: np.ndarray) -> pa.Array:
    return text.lookup([getattr(p, field) for p in PLACES], place)


def customer_columns(people: People, orders: Orders) -> Columns:
    """The canonical ``customers`` columns; the loyalty tier follows spend so far."""
    n = len(people)
    spend = np.bincount(orders.customer, weights=orders.total - orders.refunded, minlength=n)
    tier = np.searchsorted(np.array([25_000, 80_000, 200_000]), spend, side="right")
    source = (people.index * 2_654_435_761 % 1_000_003) % len(SIGNUP_SOURCES)
    sms = (people.index * 40_503 % 7) < 2
    attributes = text.concat(
        '{"loyalty_tier":"',
        text.lookup(LOYALTY_TIERS, tier),
        '","signup_source":"',
        text.lookup(SIGNUP_SOURCES, source),
        '","sms_opt_in":',
        _bools(sms),
        "}",
    )
    return {
        "customer_id": people.customer_id,
        "email": people.email_raw,
        "phone": people.phone,
        "first_name": people.first_name,
        "last_name": people.last_name,
        "gender": people.gender,
        "birth_date": people.birth_date,
        "marital_status": people.marital_status,
        "city": _place_field("city", people.place),
        "region": _place_field("region", people.place),
        "country": _place_field("country", people.place),
        "postal_code": people.postal_code,
        "created_at": text.timestamps(people.created_at),
        "accepts_marketing": _bools(people.accepts_marketing),
        "marketing_consent_updated_at": text.timestamps(people.consent_updated_at),
        "attributes": attributes,
    }


def order_columns(orders: Orders, people: People, ids: pa.Array, pick: np.ndarray) -> Columns:
    """The canonical ``orders`` columns of the orders at positions ``pick``."""
    cust = orders.customer[pick]
    guest = orders.guest[pick]
    # Most orders carry the checkout email too; guest checkouts carry only the email.
    with_email = guest | ((orders.number[pick] * 2_654_435_761 % 97) < 70)
    customer_id = people.customer_id.take(pa.array(cust))
    email = people.email_raw.take(pa.array(cust))
    coupon = orders.coupon[pick]
    return {
        "order_id": ids.take(pa.array(pick)),
        "customer_id": pc.if_else(pa.array(guest), None, customer_id),
        "email": pc.if_else(pa.array(with_email), email, None),
        "ordered_at": text.timestamps(orders.placed_at[pick]),
        "status": text.lookup(STATUSES, orders.status[pick]),
        "currency": pa.array([CURRENCY] * len(pick), pa.string()),
        "subtotal": text.money(orders.subtotal[pick]),
        "discount_amount": text.money(orders.discount[pick]),
        "shipping": text.money(orders.shipping[pick]),
        "tax": text.money(orders.tax[pick]),
        "total": text.money(orders.total[pick]),
        "refunded_amount": text.money(orders.refunded[pick]),
        "coupon_code": text.lookup([c[0] for c in COUPONS], coupon),
        "channel": text.lookup(CHANNELS, orders.channel[pick]),
    }


def order_line_columns(
    orders: Orders, catalogue: Catalogue, ids: pa.Array, lines: np.ndarray
) -> Columns:
    """The canonical ``order_lines`` columns of the lines at positions ``lines``."""
    product = orders.product[lines]
    return {
        "order_id": ids.take(pa.array(orders.line_order[lines])),
        "line_number": text.integers(orders.line_number[lines]),
        "product_id": text.lookup(catalogue.product_id, product),
        "sku": text.lookup(catalogue.sku, product),
        "product_name": text.lookup(catalogue.name, product),
        "quantity": text.integers(orders.quantity[lines]),
        "unit_price": text.money(orders.unit_price[lines]),
        "discount": text.money(orders.line_discount[lines]),
        "full_price": _bools(orders.full_price[lines]),
    }


def _utc_offsets(place: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """Hours from UTC at each moment: the place's standard offset plus summer time."""
    standard = np.array([p.utc_offset for p in PLACES])[place]
    month = seconds.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64) % 12
    north_summer = (month >= 3) & (month <= 9)
    south = standard >= 10
    no_dst = np.array([p.region == "AZ" for p in PLACES])[place]
    summer = np.where(south, ~north_summer, north_summer) & ~no_dst
    return standard + summer.astype(np.int64)


def _shopify_time(seconds: np.ndarray, offset_hours: np.ndarray) -> pa.Array:
    sign = np.where(offset_hours < 0, "-", "+")
    hours = pc.utf8_lpad(text.integers(np.abs(offset_hours)), width=2, padding="0")
    local = text.timestamps(seconds + offset_hours * 3_600)
    return text.concat(local, " ", pa.array(sign, pa.string()), hours, "00")


def _allocated_discounts(orders: Orders) -> np.ndarray:
    """Each line's share of its order's coupon discount (cents), by line value; the rounding
    remainder goes to the order's first line, so the shares add up exactly."""
    value = orders.quantity * orders.unit_price - orders.line_discount
    order_of = orders.line_order
    subtotal = np.maximum(orders.subtotal[order_of], 1)
    share = orders.discount[order_of] * value // subtotal
    allocated_sum = np.bincount(order_of, weights=share, minlength=len(orders)).astype(np.int64)
    remainder = orders.discount - allocated_sum
    share[orders.line_start[:-1]] += remainder  # every order has at least one line
    return share


def shopify_columns(
    orders: Orders, people: People, catalogue: Catalogue, ids: pa.Array, lines: np.ndarray
) -> Columns:
    """Shopify's orders export rows (one per line item) for the lines at positions ``lines``.

    As in Shopify's own export, order-level fields are filled on the first row of each order
    only; ``Subtotal`` is after the order discount (``Total = Subtotal + Shipping + Taxes``),
    ``Lineitem price`` is the price per unit before the discount code, ``Lineitem compare at
    price`` the list price of marked-down items, and ``Lineitem discount`` the line's share of
    the order's discount code (the shares add up to ``Discount Amount``).
    """
    o = orders.line_order[lines]
    first = orders.line_number[lines] == 1
    cust = orders.customer[o]
    place = people.place[cust]
    placed = orders.placed_at[o]
    status = orders.status[o]
    offset = _utc_offsets(place, placed)
    n = len(lines)

    def order_level(values: pa.Array) -> pa.Array:
        return pc.if_else(pa.array(first), values, None)

    def when(mask: np.ndarray, seconds: np.ndarray) -> pa.Array:
        return order_level(pc.if_else(pa.array(mask), _shopify_time(seconds, offset), None))

    financial = text.lookup(("paid", "pending", "refunded", "partially_refunded", "voided"), status)
    fulfilled = (status == COMPLETED) | (status == REFUNDED) | (status == PARTIAL)
    fulfilled_at = placed + DAY + (orders.number[o] % 3) * DAY
    pos = orders.channel[o] == 1
    method = np.where(
        pos, -1, np.where(orders.express[o], 1, np.where(orders.shipping[o] == 0, 2, 0))
    )
    product = orders.product[lines]
    qty = orders.quantity[lines]
    markdown_unit = orders.line_discount[lines] // np.maximum(qty, 1)
    price_paid = orders.unit_price[lines] - markdown_unit
    allocated = _allocated_discounts(orders)[lines]
    name = text.concat(
        people.first_name.take(pa.array(cust)), " ", people.last_name.take(pa.array(cust))
    )
    street = text.concat(
        text.integers(1 + (people.index[cust] * 7_919) % 480),
        " ",
        text.lookup(_STREETS, (people.index[cust] * 104_729) % len(_STREETS)),
    )
    city, zip_ = _place_field("city", place), people.postal_code.take(pa.array(cust))
    region, country = _place_field("region", place), _place_field("country", place)
    phone = people.phone.take(pa.array(cust))
    rate = TAX_RATE[place]
    tax_name = text.concat(
        _place_field("region", place), " Tax ", pc.cast(pa.array(rate), pa.string()), "%"
    )
    empty = pa.nulls(n, pa.string())
    money = text.money
    columns: Columns = {
        "Name": ids.take(pa.array(o)),
        "Email": people.email_raw.take(pa.array(cust)),
        "Financial Status": order_level(financial),
        "Paid at": when((status != PENDING) & (status != CANCELLED), placed + 5),
        "Fulfillment Status": order_level(text.lookup(("unfulfilled", "fulfilled"), fulfilled)),
        "Fulfilled at": when(fulfilled, fulfilled_at),
        "Accepts Marketing": order_level(
            text.lookup(("no", "yes"), people.accepts_marketing[cust])
        ),
        "Currency": order_level(pa.array([CURRENCY] * n, pa.string())),
        "Subtotal": order_level(money(orders.subtotal[o] - orders.discount[o])),
        "Shipping": order_level(money(orders.shipping[o])),
        "Taxes": order_level(money(orders.tax[o])),
        "Total": order_level(money(orders.total[o])),
        "Discount Code": order_level(text.lookup([c[0] for c in COUPONS], orders.coupon[o])),
        "Discount Amount": order_level(money(orders.discount[o])),
        "Shipping Method": order_level(
            text.lookup(("Standard Shipping", "Express Shipping", "Free Shipping"), method)
        ),
        "Created at": _shopify_time(placed, offset),
        "Lineitem quantity": text.integers(qty),
        "Lineitem name": text.lookup(catalogue.name, product),
        "Lineitem price": money(price_paid),
        "Lineitem compare at price": pc.if_else(
            pa.array(markdown_unit > 0), money(orders.unit_price[lines]), None
        ),
        "Lineitem sku": text.lookup(catalogue.sku, product),
        "Lineitem requires shipping": text.lookup(("true", "false"), pos.astype(np.int64)),
        "Lineitem taxable": pa.array(["true"] * n, pa.string()),
        "Lineitem fulfillment status": text.lookup(("pending", "fulfilled"), fulfilled),
        "Billing Name": order_level(name),
        "Billing Street": order_level(street),
        "Billing Address1": order_level(street),
        "Billing Address2": empty,
        "Billing Company": empty,
        "Billing City": order_level(city),
        "Billing Zip": order_level(zip_),
        "Billing Province": order_level(region),
        "Billing Country": order_level(country),
        "Billing Phone": order_level(phone),
        "Shipping Name": order_level(pc.if_else(pa.array(pos), None, name)),
        "Shipping Street": order_level(pc.if_else(pa.array(pos), None, street)),
        "Shipping Address1": order_level(pc.if_else(pa.array(pos), None, street)),
        "Shipping Address2": empty,
        "Shipping Company": empty,
        "Shipping City": order_level(pc.if_else(pa.array(pos), None, city)),
        "Shipping Zip": order_level(pc.if_else(pa.array(pos), None, zip_)),
        "Shipping Province": order_level(pc.if_else(pa.array(pos), None, region)),
        "Shipping Country": order_level(pc.if_else(pa.array(pos), None, country)),
        "Shipping Phone": order_level(pc.if_else(pa.array(pos), None, phone)),
        "Notes": empty,
        "Note Attributes": empty,
        "Cancelled at": when(status == CANCELLED, placed + 2 * 3_600),
        "Payment Method": order_level(
            text.lookup(
                ("Shopify Payments", "PayPal Express Checkout", "Shop Pay"), orders.number[o] % 3
            )
        ),
        "Payment Reference": order_level(
            text.concat("c", text.integers(orders.number[o] * 31 + 7), ".1")
        ),
        "Refunded Amount": order_level(money(orders.refunded[o])),
        "Vendor": pa.array([VENDOR] * n, pa.string()),
        "Outstanding Balance": order_level(money(np.zeros(n, np.int64))),
        "Employee": empty,
        "Location": order_level(pc.if_else(pa.array(pos), "Flagship Store", None)),
        "Device ID": empty,
        "Id": order_level(text.integers(_SHOPIFY_ID_BASE + orders.number[o])),
        "Tags": empty,
        "Risk Level": order_level(pa.array(["Low"] * n, pa.string())),
        "Source": order_level(pc.if_else(pa.array(pos), "pos", "web")),
        "Lineitem discount": money(allocated),
        "Tax 1 Name": order_level(pc.if_else(pa.array(rate > 0), tax_name, None)),
        "Tax 1 Value": order_level(pc.if_else(pa.array(rate > 0), money(orders.tax[o]), None)),
    }
    for col in SHOPIFY_ORDER_COLUMNS:
        if col not in columns:
            columns[col] = empty
    columns["Phone"] = order_level(phone)
    return {col: columns[col] for col in SHOPIFY_ORDER_COLUMNS}
