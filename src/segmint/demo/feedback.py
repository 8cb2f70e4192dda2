"""Product reviews and support tickets that follow from the orders.

Reviews come a week or a few after delivery, from some buyers more than others; refunded orders
draw the negative ones. Tickets cluster around refunds, cancellations and slow deliveries.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from segmint.demo import text
from segmint.demo.calendar import DAY
from segmint.demo.catalogue import Catalogue
from segmint.demo.orders import CANCELLED, PARTIAL, PENDING, REFUNDED, Orders
from segmint.demo.people import People
from segmint.demo.vocab import (
    REVIEW_BODIES,
    REVIEW_SOURCES,
    REVIEW_TITLES,
    TICKET_CHANNELS,
    TICKET_SUBJECTS,
)

Columns = dict[str, pa.Array]

# Star ratings as review platforms see them: J-shaped, mostly fives with a bump of ones.
_RATING_P = np.array([0.09, 0.05, 0.08, 0.2, 0.58])
_UNHAPPY_RATING_P = np.array([0.45, 0.25, 0.15, 0.1, 0.05])


def _by_rating(
    pool: Mapping[int, tuple[str, ...]], rating: np.ndarray, pick: np.ndarray
) -> pa.Array:
    flat = [s for r in range(1, 6) for s in pool[r]]
    starts = np.cumsum([0] + [len(pool[r]) for r in range(1, 6)])
    counts = np.array([len(pool[r]) for r in range(1, 6)])
    return text.lookup(flat, starts[rating - 1] + pick % counts[rating - 1])


def review_columns(
    rng: np.random.Generator,
    orders: Orders,
    people: People,
    catalogue: Catalogue,
    end: int,
    first_number: int,
) -> Columns:
    """Reviews of one line of some delivered orders, written before the window ends."""
    m = len(orders)
    propensity = 0.02 + 0.25 * rng.beta(1.0, 6.0, size=len(people))
    delivered = (orders.status != CANCELLED) & (orders.status != PENDING)
    reviewed_at = orders.placed_at + ((5 + rng.gamma(2.0, 6.0, size=m)) * DAY).astype(np.int64)
    chosen = delivered & (rng.random(m) < propensity[orders.customer]) & (reviewed_at < end)
    picked = np.flatnonzero(chosen)
    k = len(picked)
    line_count = orders.line_start[picked + 1] - orders.line_start[picked]
    line = orders.line_start[picked] + (rng.random(k) * line_count).astype(np.int64)
    unhappy = np.isin(orders.status[picked], (REFUNDED, PARTIAL))
    rating = (
        np.where(
            unhappy,
            rng.choice(5, size=k, p=_UNHAPPY_RATING_P),
            rng.choice(5, size=k, p=_RATING_P),
        )
        + 1
    )
    cust = orders.customer[picked]
    # Some platforms know the reviewer only by email, a few only by the store's customer id.
    known_by = rng.choice(3, size=k, p=[0.6, 0.3, 0.1])  # both, email only, id only
    words = rng.integers(0, 1 << 16, size=k)
    order = np.argsort(reviewed_at[picked], kind="stable")
    number = np.empty(k, dtype=np.int64)
    number[order] = first_number + np.arange(k)
    return {
        "review_id": text.prefixed_ids("RV", number),
        "customer_id": pc.if_else(
            pa.array(known_by == 1), None, people.customer_id.take(pa.array(cust))
        ),
        "email": pc.if_else(pa.array(known_by == 2), None, people.email_raw.take(pa.array(cust))),
        "product_id": text.lookup(catalogue.product_id, orders.product[line]),
        "rating": text.integers(rating),
        "title": _by_rating(REVIEW_TITLES, rating, words),
        "body": _by_rating(REVIEW_BODIES, rating, words >> 4),
        "source": text.lookup(
            REVIEW_SOURCES, rng.choice(len(REVIEW_SOURCES), size=k, p=[0.35, 0.25, 0.15, 0.15, 0.1])
        ),
        "reviewed_at": text.timestamps(reviewed_at[picked]),
    }


def ticket_columns(
    rng: np.random.Generator,
    orders: Orders,
    people: People,
    order_ids: pa.Array,
    end: int,
    first_number: int,
) -> Columns:
    """Support tickets: most about an order (refunds and cancellations above all)."""
    m = len(orders)
    troubled = np.isin(orders.status, (REFUNDED, PARTIAL, CANCELLED))
    chance = np.where(troubled, 0.6, 0.05)
    opened = orders.placed_at + rng.exponential(3 * DAY, size=m).astype(np.int64) + 600
    about = np.flatnonzero((rng.random(m) < chance) & (opened < end))
    # Questions that are not about an order (sizing, discount codes), from any customer.
    asking = np.flatnonzero(rng.random(len(people)) < 0.03)
    ask_at = people.created_at[asking] + (
        rng.random(len(asking)) * (end - people.created_at[asking])
    ).astype(np.int64)
    k = len(about) + len(asking)
    cust = np.concatenate([orders.customer[about], asking])
    created = np.concatenate([opened[about], ask_at])
    status = orders.status[about]
    subject_pick = rng.integers(0, len(TICKET_SUBJECTS), size=k)
    about_subject = np.select(
        [status == REFUNDED, status == PARTIAL, status == CANCELLED],
        [6, 1, 8],
        default=np.array([0, 2, 3, 4, 9])[subject_pick[: len(about)] % 5],
    )
    general_subject = np.array([5, 7])[subject_pick[len(about) :] % 2]
    subject_idx = np.concatenate([about_subject, general_subject])
    subject = text.lookup(TICKET_SUBJECTS, subject_idx)
    order_ref = text.concat(
        subject.slice(0, len(about)), " (order ", order_ids.take(pa.array(about)), ")"
    )
    subject = pa.concat_arrays([order_ref, subject.slice(len(about))])
    age = end - created
    state = np.where(
        age < 2 * DAY,
        rng.choice(2, size=k),  # open, pending
        np.where(age < 10 * DAY, 2, 3) - (rng.random(k) < 0.5) * (age >= 10 * DAY),
    )
    with_id = rng.random(k) < 0.8
    order = np.argsort(created, kind="stable")
    number = np.empty(k, dtype=np.int64)
    number[order] = first_number + np.arange(k)
    return {
        "ticket_id": text.prefixed_ids("TK", number),
        "customer_id": pc.if_else(pa.array(with_id), people.customer_id.take(pa.array(cust)), None),
        "email": people.email_raw.take(pa.array(cust)),
        "created_at": text.timestamps(created),
        "status": text.lookup(("open", "pending", "solved", "closed"), state),
        "subject": subject,
        "channel": text.lookup(TICKET_CHANNELS, rng.choice(4, size=k, p=[0.5, 0.3, 0.1, 0.1])),
    }
