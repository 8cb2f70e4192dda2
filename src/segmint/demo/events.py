"""Behavioural events of one chunk: web sessions, identity calls and email engagement.

Every customer browses from one or two devices (browsers, each with its anonymous id). Visits
before signing up are anonymous; the sign-up ``identify`` call ties the first device's history
to the customer, and the second device is linked later by a login ``identify`` or an ``alias``
(or never, when that happens after the window). Web orders end a session with Checkout Started
and Order Completed; other sessions browse categories and products, and some add to cart and
leave (cart and checkout abandoners). Clicked emails open a session on the campaign's page.
Visitors who never identify browse too.

The result is numeric: one row per event, in time order. :mod:`segmint.demo.eventlines` turns
rows into Segment JSON lines or Parquet columns.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from segmint.demo.calendar import DAY, StoreCalendar
from segmint.demo.campaigns import NEWSLETTER, Campaigns, EmailActivity
from segmint.demo.catalogue import Catalogue
from segmint.demo.orders import Orders
from segmint.demo.people import People
from segmint.demo.vocab import CATEGORIES

# Event kinds (row codes).
PAGE, PRODUCT_VIEWED, PRODUCT_ADDED, CHECKOUT_STARTED, ORDER_COMPLETED = range(5)
IDENTIFY, ALIAS, EMAIL_DELIVERED, EMAIL_OPENED, EMAIL_CLICKED = range(5, 10)

#: Anonymous visitors who never identify, per customer of a chunk (before scaling).
ANONYMOUS_VISITORS_PER_CUSTOMER = 0.6

_K = len(CATEGORIES)
HOME_PAGE = 0
"""Page ids: 0 home, 1..K category pages, then one per product, then checkout and thank-you."""

_LANDING_P = np.array([0.45, 0.35, 0.2])  # home, category, product
_NEXT_P = np.array([0.1, 0.35, 0.55])


def category_page(category: np.ndarray) -> np.ndarray:
    return 1 + np.asarray(category)


def product_page(product: np.ndarray) -> np.ndarray:
    return 1 + _K + np.asarray(product)


def checkout_page(catalogue: Catalogue) -> int:
    return 1 + _K + len(catalogue)


@dataclass
class EventTable:
    """One row per event, numeric; -1 means absent."""

    kind: np.ndarray
    at: np.ndarray
    """Milliseconds since the epoch (UTC)."""
    device: np.ndarray
    """Chunk device number (its anonymous id), or -1."""
    user: np.ndarray
    """Chunk customer position (its customer id), or -1."""
    page: np.ndarray
    product: np.ndarray
    order: np.ndarray
    campaign: np.ndarray
    """Email campaign for email events; the campaign that led to a web session otherwise."""
    quantity: np.ndarray
    value: np.ndarray
    """Cents: cart value of Checkout Started."""

    def __len__(self) -> int:
        return len(self.kind)

    def take(self, index: np.ndarray | slice) -> EventTable:
        return EventTable(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    @classmethod
    def concat(cls, parts: list[EventTable]) -> EventTable:
        return cls(
            **{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)}
        )


def ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(start, start + count)`` for every pair, without a Python loop."""
    total = int(counts.sum())
    group_start = np.r_[0, np.cumsum(counts)[:-1]]
    return np.repeat(starts - group_start, counts) + np.arange(total)


def _rows(n: int, kind: int | np.ndarray, at: np.ndarray, **values: np.ndarray) -> EventTable:
    cols = {f.name: np.full(n, -1, dtype=np.int64) for f in fields(EventTable)}
    cols["kind"] = np.broadcast_to(np.asarray(kind, dtype=np.int64), (n,)).copy()
    cols["at"] = np.asarray(at, dtype=np.int64)
    for name, v in values.items():
        cols[name] = np.broadcast_to(np.asarray(v, dtype=np.int64), (n,)).copy()
    return EventTable(**cols)


@dataclass
class Devices:
    """Browsers of the chunk: two slots per customer, then the anonymous visitors'."""

    count: int
    first_use: np.ndarray
    identified_at: np.ndarray
    """When the device was tied to its customer (seconds); far future if never."""


def simulate_events(
    rng: np.random.Generator,
    people: People,
    orders: Orders,
    catalogue: Catalogue,
    calendar: StoreCalendar,
    email: EmailActivity,
    campaigns: Campaigns,
    browse_scale: float,
) -> tuple[EventTable, Devices, int]:
    """All events of the chunk in time order, its devices, and the number of visitors."""
    n = len(people)
    end = calendar.end
    never = np.iinfo(np.int64).max // 4

    # Devices: slot 2c is the customer's main browser, 2c + 1 a second one (if any).
    second = people.devices == 2
    pre_signup = np.where(rng.random(n) < 0.6, rng.exponential(7 * DAY, size=n), 0).astype(np.int64)
    main_first_use = np.maximum(people.created_at - pre_signup, calendar.start)
    second_first_use = people.created_at + rng.exponential(40 * DAY, size=n).astype(np.int64)
    second_identified = second_first_use + rng.exponential(25 * DAY, size=n).astype(np.int64)
    second_identified = np.where(second & (second_identified < end), second_identified, never)
    visitors = round(n * ANONYMOUS_VISITORS_PER_CUSTOMER * max(browse_scale, 0.25))
    first_use = np.empty(2 * n + visitors, dtype=np.int64)
    first_use[0 : 2 * n : 2] = main_first_use
    first_use[1 : 2 * n : 2] = np.where(second, second_first_use, never)
    visitor_first = calendar.start + (rng.random(visitors) * (end - calendar.start)).astype(
        np.int64
    )
    first_use[2 * n :] = visitor_first
    identified = np.full(2 * n + visitors, never, dtype=np.int64)
    identified[0 : 2 * n : 2] = people.created_at
    identified[1 : 2 * n : 2] = second_identified
    devices = Devices(count=2 * n + visitors, first_use=first_use, identified_at=identified)

    # Identity calls: the sign-up identify, then the second device's login identify or alias.
    linked = np.flatnonzero(second_identified < never)
    by_alias = rng.random(len(linked)) < 0.4
    identity = EventTable.concat(
        [
            _rows(
                n,
                IDENTIFY,
                people.created_at * 1000 - 1500,
                device=2 * np.arange(n),
                user=np.arange(n),
            ),
            _rows(
                len(linked),
                np.where(by_alias, ALIAS, IDENTIFY),
                second_identified[linked] * 1000,
                device=2 * linked + 1,
                user=linked,
            ),
        ]
    )

    sessions = _plan_sessions(
        rng, people, orders, calendar, email, campaigns, devices, browse_scale, visitors
    )
    web = _expand_sessions(rng, sessions, people, orders, catalogue, calendar, visitors)
    # Only devices already tied to the customer carry the user id; guest checkouts do not.
    web.user = np.where(
        (web.user >= 0) & (web.at // 1000 >= identified[np.maximum(web.device, 0)]), web.user, -1
    )

    mail = EventTable.concat(
        [
            _rows(
                len(email.customer),
                EMAIL_DELIVERED,
                email.delivered_at,
                user=email.customer,
                campaign=email.campaign,
            ),
            *[
                _rows(int(m.sum()), kind, at[m], user=email.customer[m], campaign=email.campaign[m])
                for kind, at in ((EMAIL_OPENED, email.opened_at), (EMAIL_CLICKED, email.clicked_at))
                for m in [at >= 0]
            ],
        ]
    )
    table = EventTable.concat([identity, web, mail])
    table = table.take(np.argsort(table.at, kind="stable"))
    return table, devices, visitors


@dataclass
class _Sessions:
    device: np.ndarray
    user: np.ndarray
    """Customer position, or -1 for visitors (and guest checkouts)."""
    owner: np.ndarray
    """Whose tastes drive the session: customer position, or n + visitor number."""
    anchor: np.ndarray
    """Start (seconds), or for purchase sessions the order time (the session's end)."""
    order: np.ndarray
    campaign: np.ndarray
    landing: np.ndarray
    """Category of the landing page, -1 for the home page, -2 to browse as usual."""


def _plan_sessions(
    rng: np.random.Generator,
    people: People,
    orders: Orders,
    calendar: StoreCalendar,
    email: EmailActivity,
    campaigns: Campaigns,
    devices: Devices,
    browse_scale: float,
    visitors: int,
) -> _Sessions:
    n = len(people)
    end = calendar.end

    def pick_device(cust: np.ndarray, at: np.ndarray, share_second: float) -> np.ndarray:
        use_second = (devices.first_use[2 * cust + 1] <= at) & (
            rng.random(len(cust)) < share_second
        )
        return 2 * cust + use_second

    # Web orders: one session each, ending with the order.
    web_orders = np.flatnonzero(orders.channel == 0)
    o_cust = orders.customer[web_orders]
    o_at = orders.placed_at[web_orders]
    o_dev = pick_device(o_cust, o_at, 0.3)
    o_user = np.where(orders.guest[web_orders], -1, o_cust)

    # Browsing sessions while the customer is engaged: from the first visit until a while
    # after they silently churn.
    engaged_from = devices.first_use[0 : 2 * n : 2]
    engaged_until = np.minimum(
        end, orders.dropped_at + rng.exponential(45 * DAY, size=n).astype(np.int64)
    )
    engaged_until = np.maximum(engaged_until, engaged_from)
    span = calendar.to_shopping_time(engaged_until) - calendar.to_shopping_time(engaged_from)
    count = rng.poisson(people.browse_rate * browse_scale * span)
    b_cust = np.repeat(np.arange(n), count)
    b_at = calendar.seasonal_times(
        engaged_from[b_cust], engaged_until[b_cust] + 1, rng.random(len(b_cust))
    )
    b_dev = pick_device(b_cust, b_at, 0.35)

    # Half of the email clicks land in a session on the campaign's page.
    clicked = np.flatnonzero((email.clicked_at >= 0) & (rng.random(len(email.customer)) < 0.5))
    c_cust = email.customer[clicked]
    c_at = email.clicked_at[clicked] // 1000 + 2
    c_dev = pick_device(c_cust, c_at, 0.5)
    c_cat = campaigns.category[email.campaign[clicked]]

    # Visitors who never identify: one or a few sessions each.
    v_count = 1 + rng.poisson(0.7, size=visitors)
    v_owner = np.repeat(np.arange(visitors), v_count)
    v_first = devices.first_use[2 * n + v_owner]
    v_at = v_first + (rng.random(len(v_owner)) * np.minimum(30 * DAY, end - v_first)).astype(
        np.int64
    )
    v_at = np.where(np.r_[True, v_owner[1:] != v_owner[:-1]], v_first, v_at)

    return _Sessions(
        device=np.concatenate([o_dev, b_dev, c_dev, 2 * n + v_owner]),
        user=np.concatenate([o_user, b_cust, c_cust, np.full(len(v_owner), -1)]),
        owner=np.concatenate([o_cust, b_cust, c_cust, n + v_owner]),
        anchor=np.concatenate([o_at, b_at, c_at, v_at]),
        order=np.concatenate([web_orders, np.full(len(b_cust) + len(c_cust) + len(v_owner), -1)]),
        campaign=np.concatenate(
            [
                np.full(len(o_cust) + len(b_cust), -1),
                email.campaign[clicked],
                np.full(len(v_owner), -1),
            ]
        ),
        landing=np.concatenate(
            [
                np.full(len(o_cust) + len(b_cust), -2),
                np.where(c_cat == NEWSLETTER, -1, c_cat),
                np.full(len(v_owner), -2),
            ]
        ),
    )


def _expand_sessions(
    rng: np.random.Generator,
    s: _Sessions,
    people: People,
    orders: Orders,
    catalogue: Catalogue,
    calendar: StoreCalendar,
    visitors: int,
) -> EventTable:
    n_sessions = len(s.device)
    purchase = s.order >= 0

    # Visitors' tastes: drawn like customers' but not stored with them.
    base = np.array([c.share for c in CATEGORIES])
    v_aff = rng.dirichlet(base / base.sum() * 1.2, size=visitors) if visitors else np.zeros((0, _K))
    affinity = np.concatenate([people.affinity, v_aff])
    depth = np.concatenate([people.session_depth, rng.gamma(1.5, 1.5, size=visitors)])
    dwell = np.concatenate(
        [people.dwell_seconds, np.exp(rng.normal(np.log(35.0), 0.7, size=visitors))]
    )
    cart_p = np.concatenate([people.cart_propensity, rng.beta(1.2, 8.0, size=visitors)])

    # Browsing steps (page views) of every session.
    steps = 1 + rng.poisson(np.where(purchase, 0.5, 1.0) * depth[s.owner])
    st_session = np.repeat(np.arange(n_sessions), steps)
    first_step = np.r_[0, np.cumsum(steps)[:-1]]
    st_index = np.arange(len(st_session)) - first_step[st_session]
    p = np.where((st_index == 0)[:, None], _LANDING_P[None, :], _NEXT_P[None, :])
    kind = (rng.random(len(st_session))[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
    cumulative = np.cumsum(affinity[s.owner[st_session]], axis=1)
    category = np.minimum((rng.random(len(st_session))[:, None] > cumulative).sum(axis=1), _K - 1)
    # Sessions from a campaign land on its category page (the newsletter on the home page).
    landing = np.where(st_index == 0, s.landing[st_session], -2)
    kind = np.select([landing == -1, landing >= 0], [0, 1], kind)
    category = np.where(landing >= 0, landing, category)
    product = catalogue.draw(rng, category)
    page = np.select(
        [kind == 0, kind == 1], [HOME_PAGE, category_page(category)], product_page(product)
    )
    product = np.where(kind == 2, product, -1)
    carting = rng.random(n_sessions) < cart_p[s.owner]
    added = (product >= 0) & carting[st_session] & (rng.random(len(st_session)) < 0.5)
    quantity = np.where(added, 1 + (rng.random(len(st_session)) < 0.12), -1)
    order = np.full(len(st_session), -1)

    # Purchase sessions: a product page per line (added to cart), then checkout.
    web_order = s.order[purchase]
    purchase_session = np.flatnonzero(purchase)
    line_count = orders.line_start[web_order + 1] - orders.line_start[web_order]
    ln_session = np.repeat(purchase_session, line_count)
    ln = ranges(orders.line_start[web_order], line_count)
    # Abandoned checkouts: some carting sessions go on to the checkout page and leave.
    any_added = np.bincount(st_session[added], minlength=n_sessions) > 0
    abandon = any_added & ~purchase & (rng.random(n_sessions) < 0.35)
    checkout = np.flatnonzero(purchase | abandon)
    thanks = purchase_session

    parts_session = [st_session, ln_session, checkout, thanks]
    order_of_step = [
        np.zeros(len(st_session)),
        np.ones(len(ln_session)),
        np.full(len(checkout), 2),
        np.full(len(thanks), 3),
    ]
    step_session = np.concatenate(parts_session)
    phase = np.concatenate(order_of_step)
    step_kind = np.concatenate(
        [kind, np.full(len(ln), 2), np.full(len(checkout), 3), np.full(len(thanks), 4)]
    )
    step_page = np.concatenate(
        [
            page,
            product_page(orders.product[ln]),
            np.full(len(checkout), checkout_page(catalogue)),
            np.full(len(thanks), checkout_page(catalogue) + 1),
        ]
    )
    step_product = np.concatenate(
        [product, orders.product[ln], np.full(len(checkout) + len(thanks), -1)]
    )
    step_qty = np.concatenate(
        [quantity, orders.quantity[ln], np.full(len(checkout) + len(thanks), -1)]
    )
    step_order = np.concatenate([order, orders.line_order[ln], s.order[checkout], s.order[thanks]])
    arrange = np.lexsort((np.arange(len(step_session)), phase, step_session))
    step_session, step_kind, step_page = (
        step_session[arrange],
        step_kind[arrange],
        step_page[arrange],
    )
    step_product, step_qty, step_order = (
        step_product[arrange],
        step_qty[arrange],
        step_order[arrange],
    )

    # Time on each page: the owner's dwell time, exponential, at least a few seconds.
    gap = (rng.exponential(dwell[s.owner[step_session]]) * 1000).astype(np.int64) + 3_000
    # Every session has at least one step and steps are grouped by session, so a session's
    # steps run from first[s] to first[s + 1] - 1.
    first = np.searchsorted(step_session, np.arange(n_sessions + 1))
    elapsed = np.r_[0, np.cumsum(gap)[:-1]]
    offset = elapsed - elapsed[first[step_session]]
    duration = offset[first[1:] - 1]
    session_start = s.anchor * 1000 + rng.integers(0, 1000, size=n_sessions)
    session_start = np.where(purchase, s.anchor * 1000 - duration, session_start)
    at = session_start[step_session] + offset
    at = np.minimum(at, calendar.end * 1000 - 1)

    device = s.device[step_session]
    user = s.user[step_session]
    campaign = s.campaign[step_session]
    is_thanks = step_kind == 4
    pages = _rows(
        len(at),
        PAGE,
        np.where(is_thanks, at + 800, at),
        device=device,
        user=user,
        page=step_page,
        campaign=campaign,
    )
    viewed = np.flatnonzero(step_kind == 2)
    adds = np.flatnonzero((step_kind == 2) & (step_qty > 0))
    add_at = at[adds] + (gap[adds] * 0.6).astype(np.int64)
    # Cart value at checkout: what was added during the session.
    cart_value = np.bincount(
        step_session[adds],
        weights=catalogue.price_cents[step_product[adds]] * step_qty[adds],
        minlength=n_sessions,
    ).astype(np.int64)
    chk = np.flatnonzero(step_kind == 3)
    chk_order = np.maximum(step_order[chk], 0)
    chk_value = np.where(
        step_order[chk] >= 0,
        orders.subtotal[chk_order] - orders.discount[chk_order],
        cart_value[step_session[chk]],
    )
    done = np.flatnonzero(is_thanks)

    def track(idx: np.ndarray, kind: int, when: np.ndarray, **extra: np.ndarray) -> EventTable:
        return _rows(
            len(idx),
            kind,
            when,
            device=device[idx],
            user=user[idx],
            page=step_page[idx],
            campaign=campaign[idx],
            **extra,
        )

    return EventTable.concat(
        [
            pages,
            track(viewed, PRODUCT_VIEWED, at[viewed] + 1_200, product=step_product[viewed]),
            track(adds, PRODUCT_ADDED, add_at, product=step_product[adds], quantity=step_qty[adds]),
            track(chk, CHECKOUT_STARTED, at[chk] + 2_000, order=step_order[chk], value=chk_value),
            track(done, ORDER_COMPLETED, at[done], order=step_order[done]),
        ]
    )
