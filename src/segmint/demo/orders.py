"""Orders and line items from a buy-till-you-die process (BG/NBD), with baskets, coupons,
markdowns, shipping, tax, refunds and cancellations.

Each buyer places a first order, then repeat orders as a Poisson process with their own rate
(in seasonal shopping time, see :mod:`segmint.demo.calendar`); after every repeat order they
drop out for good with their own probability. That is exactly the BG/NBD story, so a BG/NBD
model fitted to the orders recovers parameters close to the population ones in
:mod:`segmint.demo.people`, and spend per order varies by customer (basket size and category
mix) independently of frequency, as the Gamma-Gamma spend model assumes.

Money is integer cents throughout, so totals add up exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from segmint.demo import text
from segmint.demo.calendar import DAY, StoreCalendar
from segmint.demo.catalogue import Catalogue
from segmint.demo.people import People
from segmint.demo.vocab import PLACES

CHANNELS = ("web", "pos", "marketplace")
STATUSES = ("completed", "pending", "refunded", "partially_refunded", "cancelled")
COMPLETED, PENDING, REFUNDED, PARTIAL, CANCELLED = range(5)

#: Coupon codes and their percentage off; which one an order gets depends on its date.
COUPONS = (
    ("WELCOME10", 10),
    ("BFCM25", 25),
    ("HOLIDAY15", 15),
    ("NEWYEAR20", 20),
    ("SPRING15", 15),
    ("SUMMER20", 20),
    ("VIP20", 20),
    ("FRIENDS10", 10),
)
FREE_SHIPPING_FROM = 7_500
STANDARD_SHIPPING, EXPRESS_SHIPPING = 595, 1_295
_US_TAX = {
    "NY": 8.875, "CA": 7.25, "IL": 10.25, "TX": 8.25, "AZ": 8.6, "PA": 8.0, "WA": 10.1,
    "OR": 0.0, "CO": 8.81, "FL": 7.0, "GA": 8.9, "MA": 6.25, "MN": 8.03, "TN": 9.25,
}  # fmt: skip
_CA_TAX = {"ON": 13.0, "BC": 12.0, "QC": 14.975}
#: Sales tax percentage by place; European and Australian prices include VAT/GST.
TAX_RATE = np.array(
    [
        _US_TAX.get(p.region, 0.0) if p.country == "US" else _CA_TAX.get(p.region, 0.0)
        for p in PLACES
    ]
)


@dataclass
class Orders:
    """Orders (one entry each) and their lines, for one chunk of customers."""

    number: np.ndarray
    """Order number, unique in the store."""
    customer: np.ndarray
    """Chunk position of the buyer."""
    placed_at: np.ndarray
    channel: np.ndarray
    status: np.ndarray
    coupon: np.ndarray
    """Index into COUPONS or -1."""
    subtotal: np.ndarray
    discount: np.ndarray
    shipping: np.ndarray
    express: np.ndarray
    tax: np.ndarray
    total: np.ndarray
    refunded: np.ndarray
    guest: np.ndarray
    """Checked out without logging in: the order carries the email but no customer id."""
    legacy: np.ndarray
    """Placed on the old Shopify store: exported in the Shopify orders file instead."""
    line_start: np.ndarray
    """Offsets of each order's lines (one more entry than orders)."""
    # Lines.
    line_order: np.ndarray
    line_number: np.ndarray
    product: np.ndarray
    quantity: np.ndarray
    unit_price: np.ndarray
    line_discount: np.ndarray
    full_price: np.ndarray
    # Per customer of the chunk.
    dropped_at: np.ndarray
    """When the customer silently churned (seconds); far future if still active."""

    def __len__(self) -> int:
        return len(self.number)

    def order_ids(self) -> pa.Array:
        """Order ids: Shopify names (``#1234``) for legacy orders, ``SO1234`` for the others."""
        prefix = pa.array(np.where(self.legacy, "#", "SO"), pa.string())
        return text.concat(prefix, text.integers(self.number))


def generate_orders(
    rng: np.random.Generator,
    people: People,
    catalogue: Catalogue,
    calendar: StoreCalendar,
    migration_at: int,
    first_number: int,
    capacity: int,
) -> Orders:
    """Every order of a chunk's customers, numbered from ``first_number`` in time order."""
    n = len(people)
    end = calendar.end
    buys = people.buyer & (people.first_purchase_at < end)
    buyers = np.flatnonzero(buys)
    t0 = people.first_purchase_at[buyers]

    # Repeat purchases: Poisson arrivals in shopping time, cut at the dropout point.
    span = calendar.to_shopping_time(np.full(len(buyers), end)) - calendar.to_shopping_time(t0)
    arrivals = rng.poisson(people.rate[buyers] * span)
    max_repeats = rng.geometric(people.dropout[buyers])
    owner = np.repeat(np.arange(len(buyers)), arrivals)
    u = rng.random(len(owner))
    sort = np.lexsort((u, owner))
    owner, u = owner[sort], u[sort]
    starts = np.concatenate([[0], np.cumsum(arrivals)])
    rank = np.arange(len(owner)) - starts[owner]
    keep = rank < max_repeats[owner]
    owner, u = owner[keep], u[keep]
    repeat_at = calendar.seasonal_times(t0[owner], np.full(len(owner), end), u)
    repeat_at = np.maximum(repeat_at, t0[owner] + 3_600)

    dropped = arrivals >= max_repeats
    last_rank_time = np.full(len(buyers), np.iinfo(np.int64).max // 2)
    if len(owner):
        # The dropout follows the last repeat order (the max_repeats-th), which is the last kept.
        last = np.flatnonzero(np.diff(np.append(owner, -1)) != 0)
        last_rank_time[owner[last]] = repeat_at[last]
    dropped_at = np.full(n, np.iinfo(np.int64).max // 2)
    dropped_at[buyers] = np.where(dropped, last_rank_time, dropped_at[buyers])
    # Customers who never buy lose interest a while after signing up.
    idle = ~buys
    dropped_at[idle] = people.created_at[idle] + rng.exponential(60 * DAY, size=idle.sum()).astype(
        np.int64
    )

    customer = np.concatenate([buyers, buyers[owner]])
    placed = np.concatenate([t0, repeat_at])
    first_order = np.concatenate([np.ones(len(buyers), bool), np.zeros(len(owner), bool)])
    order = np.lexsort((placed, customer))
    customer, placed, first_order = customer[order], placed[order], first_order[order]
    m = len(customer)
    if m > capacity:
        raise RuntimeError(f"{m} orders in a chunk exceed its id capacity {capacity}")
    time_rank = np.empty(m, dtype=np.int64)
    time_rank[np.argsort(placed, kind="stable")] = np.arange(m)
    number = first_number + time_rank

    channel = rng.choice(len(CHANNELS), size=m, p=[0.8, 0.12, 0.08])
    legacy = placed < migration_at
    # Marketplace orders did not exist on the old store.
    channel = np.where(legacy & (channel == 2), 0, channel)
    guest = (~legacy) & (channel == 0) & (rng.random(m) < 0.05)

    lines = _lines(rng, people, catalogue, customer, placed)
    line_order, product, quantity, unit_price, line_discount = lines
    line_start = np.searchsorted(line_order, np.arange(m + 1))
    net = quantity * unit_price - line_discount
    subtotal = np.add.reduceat(net, line_start[:-1]) if m else np.zeros(0, np.int64)

    coupon = _coupons(rng, people, customer, placed, first_order)
    pct = np.array([c[1] for c in COUPONS])
    discount = np.where(coupon >= 0, np.round(subtotal * pct[np.maximum(coupon, 0)] / 100), 0)
    discount = discount.astype(np.int64)
    full_price = (line_discount == 0) & (coupon[line_order] < 0)

    goods = subtotal - discount
    express = (channel != 1) & (rng.random(m) < 0.1)
    shipping = np.where(express, EXPRESS_SHIPPING, STANDARD_SHIPPING)
    shipping = np.where((goods >= FREE_SHIPPING_FROM) & ~express, 0, shipping)
    shipping = np.where(channel == 1, 0, shipping)  # point of sale: carried out of the shop
    tax = np.round(goods * TAX_RATE[people.place[customer]] / 100).astype(np.int64)
    total = goods + shipping + tax

    status = rng.choice(5, size=m, p=[0.92, 0.0, 0.035, 0.025, 0.02])
    recent = placed > end - 3 * DAY
    status = np.where(recent & (rng.random(m) < 0.35), PENDING, status)
    status = np.where(recent & (status != PENDING), COMPLETED, status)
    refunded = np.where(status == REFUNDED, total, 0)
    partial = np.round(total * rng.uniform(0.15, 0.6, size=m)).astype(np.int64)
    refunded = np.where(status == PARTIAL, partial, refunded)

    return Orders(
        number=number,
        customer=customer,
        placed_at=placed,
        channel=channel,
        status=status,
        coupon=coupon,
        subtotal=subtotal,
        discount=discount,
        shipping=shipping,
        express=express,
        tax=tax,
        total=total,
        refunded=refunded,
        guest=guest,
        legacy=legacy,
        line_start=line_start,
        line_order=line_order,
        line_number=np.arange(len(line_order)) - line_start[line_order] + 1,
        product=product,
        quantity=quantity,
        unit_price=unit_price,
        line_discount=line_discount,
        full_price=full_price,
        dropped_at=dropped_at,
    )


def _lines(
    rng: np.random.Generator,
    people: People,
    catalogue: Catalogue,
    customer: np.ndarray,
    placed: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    m = len(customer)
    count = 1 + np.minimum(rng.poisson(people.basket_mean[customer] - 1.0), 11)
    line_order = np.repeat(np.arange(m), count)
    n_lines = len(line_order)
    # Category of each line from the buyer's affinity, then a product of that category.
    cumulative = np.cumsum(people.affinity, axis=1)[customer[line_order]]
    category = (rng.random(n_lines)[:, None] > cumulative).sum(axis=1)
    category = np.minimum(category, cumulative.shape[1] - 1)
    product = catalogue.draw(rng, category)
    quantity = rng.choice(np.array([1, 2, 3, 4]), size=n_lines, p=[0.85, 0.11, 0.03, 0.01])
    unit_price = catalogue.price_cents[product]
    # Markdowns (sale prices below the list price) are more common in sale season.
    month = placed[line_order].astype("datetime64[s]").astype("datetime64[M]").astype(int) % 12
    sale_season = np.isin(month, (0, 6, 10))
    marked = rng.random(n_lines) < np.where(sale_season, 0.22, 0.06)
    cut = rng.choice(np.array([20, 30, 40]), size=n_lines)
    markdown = np.where(marked, np.round(unit_price * cut / 100), 0).astype(np.int64)
    return line_order, product, quantity, unit_price, quantity * markdown


def _coupons(
    rng: np.random.Generator,
    people: People,
    customer: np.ndarray,
    placed: np.ndarray,
    first_order: np.ndarray,
) -> np.ndarray:
    days = placed // DAY
    date = days.astype("datetime64[D]")
    month = date.astype("datetime64[M]").astype(int) % 12
    day = (date - date.astype("datetime64[M]").astype("datetime64[D]")).astype(int) + 1
    propensity = people.coupon_propensity[customer]
    black_friday = (month == 10) & (day >= 24)
    chance = np.clip(propensity * np.where(black_friday, 1.8, 1.0), 0, 0.95)
    chance = np.where(first_order, np.maximum(chance, 0.2), chance)
    used = rng.random(len(customer)) < chance
    seasonal = np.select(
        [
            black_friday,
            month == 11,
            month == 0,
            np.isin(month, (2, 3, 4)),
            np.isin(month, (5, 6, 7)),
        ],
        [1, 2, 3, 4, 5],
        default=6,
    )
    other = np.where(
        rng.random(len(customer)) < 0.5, seasonal, rng.choice(np.array([6, 7]), len(customer))
    )
    code = np.where(first_order, 0, other)
    return np.where(used, code, -1)
