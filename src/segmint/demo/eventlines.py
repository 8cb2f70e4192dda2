"""Numeric event rows to Segment-spec messages: JSON lines, or Parquet columns.

Each message is assembled from fragments: a fragment is looked up per row from a small table
(product, page, campaign and customer fragments are built once) and the fragments are joined
row-wise by Arrow kernels, so no Python code runs per event. Keys follow the Segment tracking
spec (``messageId``, ``anonymousId``, ``userId``, ``previousId``, ``receivedAt``...).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from segmint.demo import text
from segmint.demo.campaigns import Campaigns
from segmint.demo.catalogue import CURRENCY, STORE_URL, Catalogue
from segmint.demo.events import (
    ALIAS,
    CHECKOUT_STARTED,
    EMAIL_CLICKED,
    EMAIL_DELIVERED,
    EMAIL_OPENED,
    IDENTIFY,
    ORDER_COMPLETED,
    PAGE,
    PRODUCT_ADDED,
    PRODUCT_VIEWED,
    EventTable,
)
from segmint.demo.vocab import CATEGORIES

TYPES = ("page", "track", "track", "track", "track", "identify", "alias", "track", "track", "track")
EVENT_NAMES = (
    None,
    "Product Viewed",
    "Product Added",
    "Checkout Started",
    "Order Completed",
    None,
    None,
    "Email Delivered",
    "Email Opened",
    "Email Link Clicked",
)
_WEB_LIBRARY = '"library":{"name":"analytics.js","version":"4.1.0"}'
_MAIL_LIBRARY = '"library":{"name":"segmint-demo-mailer","version":"1.0.0"}'

#: Parquet layout of events: the JSON keys as columns, nested objects as JSON text.
PARQUET_SCHEMA = pa.schema(
    [
        ("messageId", pa.string()),
        ("type", pa.string()),
        ("event", pa.string()),
        ("anonymousId", pa.string()),
        ("userId", pa.string()),
        ("previousId", pa.string()),
        ("timestamp", pa.timestamp("ms", tz="UTC")),
        ("properties", pa.string()),
        ("traits", pa.string()),
        ("context", pa.string()),
        ("receivedAt", pa.timestamp("ms", tz="UTC")),
    ]
)


@dataclass(frozen=True)
class SiteFragments:
    """Store-wide fragments: pages (home, categories, products, checkout) and campaigns."""

    page_name: pa.Array
    page_properties: pa.Array
    page_context: pa.Array
    product_properties: pa.Array
    campaign_properties: pa.Array
    campaign_click_properties: pa.Array
    campaign_context: pa.Array

    @classmethod
    def build(cls, catalogue: Catalogue, campaigns: Campaigns) -> SiteFragments:
        names, paths, cats = ["Home"], ["/"], [""]
        for c in CATEGORIES:
            names.append(c.name.capitalize())
            paths.append(f"/collections/{c.name}")
            cats.append(c.name)
        cat_names = catalogue.category_names
        for name, slug, c in zip(
            catalogue.name, catalogue.slugs(), catalogue.category.tolist(), strict=True
        ):
            names.append(name)
            paths.append(f"/products/{slug}")
            cats.append(cat_names[c])
        names += ["Checkout", "Order Confirmation"]
        paths += ["/checkout", "/checkout/thank-you"]
        cats += ["", ""]
        ctx, props = [], []
        for name, path, cat in zip(names, paths, cats, strict=True):
            where = f'"path":"{path}","url":"{STORE_URL}{path}"'
            ctx.append(where)
            body = f'"name":"{name}",{where},"title":"{name} | Segmint Demo Store"'
            props.append(f'{body},"category":"{cat}"' if cat else body)
        campaign_ctx = [
            f'"name":"cmp_{i + 1:05d}","source":"newsletter","medium":"email"'
            for i in range(len(campaigns))
        ]
        return cls(
            page_name=pa.array(names, pa.string()),
            page_properties=pa.array(props, pa.string()),
            page_context=pa.array(ctx, pa.string()),
            product_properties=catalogue.event_properties(),
            campaign_properties=campaigns.properties,
            campaign_click_properties=campaigns.click_properties,
            campaign_context=pa.array(campaign_ctx, pa.string()),
        )


@dataclass(frozen=True)
class ChunkFragments:
    """Per-chunk fragments: devices' anonymous ids, customers' ids and traits, web orders."""

    key: int
    """Hash key of the chunk's message ids."""
    anonymous_id: pa.Array
    user_agent: pa.Array
    ip: pa.Array
    customer_id: pa.Array
    traits: pa.Array
    email: pa.Array
    order_id: pa.Array
    order_properties: pa.Array
    """Order Completed properties per order (null for orders not placed on the web)."""


def _scatter(n: int, pieces: list[tuple[np.ndarray, pa.Array]]) -> pa.Array:
    """A column of n rows from fragments computed for subsets of the rows; others are null."""
    covered = np.concatenate([idx for idx, _ in pieces]) if pieces else np.zeros(0, np.int64)
    rest = np.setdiff1d(np.arange(n), covered, assume_unique=True)
    order = np.concatenate([covered, rest])
    values = pa.concat_arrays([arr for _, arr in pieces] + [pa.nulls(len(rest), pa.string())])
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.arange(n)
    return values.take(pa.array(inverse))


def _properties(rows: EventTable, site: SiteFragments, chunk: ChunkFragments) -> pa.Array:
    kind = rows.kind
    pieces = []

    def where(*kinds: int) -> np.ndarray:
        return np.flatnonzero(np.isin(kind, kinds))

    i = where(PAGE)
    pieces.append((i, text.concat("{", text.lookup(site.page_properties, rows.page[i]), "}")))
    i = where(PRODUCT_VIEWED)
    pieces.append((i, text.concat("{", text.lookup(site.product_properties, rows.product[i]), "}")))
    i = where(PRODUCT_ADDED)
    pieces.append(
        (
            i,
            text.concat(
                "{",
                text.lookup(site.product_properties, rows.product[i]),
                ',"quantity":',
                text.integers(rows.quantity[i]),
                ',"cart_id":"',
                text.lookup(chunk.anonymous_id, rows.device[i]),
                '"}',
            ),
        )
    )
    i = where(CHECKOUT_STARTED)
    value = text.money(rows.value[i])
    order = text.concat('"order_id":"', text.lookup(chunk.order_id, rows.order[i]), '",')
    pieces.append(
        (
            i,
            text.concat(
                "{",
                order,
                '"value":',
                value,
                ',"revenue":',
                value,
                f',"currency":"{CURRENCY}"}}',
                skip_nulls=True,
            ),
        )
    )
    i = where(ORDER_COMPLETED)
    pieces.append((i, text.concat("{", text.lookup(chunk.order_properties, rows.order[i]), "}")))
    i = where(EMAIL_DELIVERED, EMAIL_OPENED)
    pieces.append(
        (i, text.concat("{", text.lookup(site.campaign_properties, rows.campaign[i]), "}"))
    )
    i = where(EMAIL_CLICKED)
    pieces.append(
        (i, text.concat("{", text.lookup(site.campaign_click_properties, rows.campaign[i]), "}"))
    )
    return _scatter(len(rows), pieces)


def _context(rows: EventTable, site: SiteFragments, chunk: ChunkFragments) -> pa.Array:
    email_kinds = np.isin(rows.kind, (EMAIL_DELIVERED, EMAIL_OPENED, EMAIL_CLICKED))
    mail = np.flatnonzero(email_kinds)
    web = np.flatnonzero(~email_kinds)
    dev = rows.device[web]
    page = text.concat('"page":{', text.lookup(site.page_context, rows.page[web]), "},")
    campaign = text.concat(
        ',"campaign":{', text.lookup(site.campaign_context, rows.campaign[web]), "}"
    )
    web_ctx = text.concat(
        "{",
        page,
        '"userAgent":"',
        text.lookup(chunk.user_agent, dev),
        '","ip":"',
        text.lookup(chunk.ip, dev),
        '",',
        _WEB_LIBRARY,
        campaign,
        "}",
        skip_nulls=True,
    )
    mail_ctx = text.concat(
        "{", _MAIL_LIBRARY, ',"traits":{"email":"', text.lookup(chunk.email, rows.user[mail]), '"}}'
    )
    return _scatter(len(rows), [(web, web_ctx), (mail, mail_ctx)])


def _received(rows: EventTable, counter: np.ndarray, key: int) -> np.ndarray:
    h = text.mix64(counter.astype(np.uint64) ^ np.uint64((key * 31 + 7) & 0xFFFFFFFFFFFFFFFF))
    delay = 40 + (h % np.uint64(1_500)).astype(np.int64)
    # A few messages arrive late (a phone that was offline).
    late = ((h >> np.uint64(20)) % np.uint64(100)) < np.uint64(2)
    return (
        rows.at
        + delay
        + np.where(late, ((h >> np.uint64(32)) % np.uint64(3_600_000)).astype(np.int64), 0)
    )


@dataclass
class Rendered:
    """The text columns of a block of events (JSON object bodies, ids, times)."""

    message_id: pa.Array
    type: pa.Array
    event: pa.Array
    anonymous_id: pa.Array
    user_id: pa.Array
    previous_id: pa.Array
    timestamp_ms: np.ndarray
    received_ms: np.ndarray
    name: pa.Array
    properties: pa.Array
    traits: pa.Array
    context: pa.Array
    timestamp_text: pa.Array | None = None
    """Replaces the formatted timestamp in JSON (a dirty row's unparseable one)."""
    timestamp_missing: np.ndarray | None = None
    """Rows whose timestamp Parquet leaves null (the same dirty rows)."""


def render(
    rows: EventTable, first_row: int, site: SiteFragments, chunk: ChunkFragments
) -> Rendered:
    """The Segment fields of ``rows``; ``first_row`` is their position in the chunk."""
    counter = np.arange(first_row, first_row + len(rows), dtype=np.int64)
    kind = rows.kind
    alias = kind == ALIAS
    identify = np.flatnonzero(kind == IDENTIFY)
    traits = _scatter(
        len(rows),
        [(identify, text.concat("{", text.lookup(chunk.traits, rows.user[identify]), "}"))],
    )
    page = kind == PAGE
    return Rendered(
        message_id=text.hashed_uuids(chunk.key, counter),
        type=text.lookup(TYPES, kind),
        event=text.lookup(pa.array(EVENT_NAMES, pa.string()), kind),
        anonymous_id=text.lookup(chunk.anonymous_id, rows.device),
        user_id=text.lookup(chunk.customer_id, rows.user),
        previous_id=text.lookup(chunk.anonymous_id, np.where(alias, rows.device, -1)),
        timestamp_ms=rows.at,
        received_ms=_received(rows, counter, chunk.key),
        name=text.lookup(site.page_name, np.where(page, rows.page, -1)),
        properties=_properties(rows, site, chunk),
        traits=traits,
        context=_context(rows, site, chunk),
    )


def json_lines(r: Rendered) -> pa.Array:
    """One Segment JSON message per line."""

    def member(key: str, value: pa.Array, quoted: bool = True) -> pa.Array:
        return (
            text.concat(f',"{key}":"', value, '"') if quoted else text.concat(f',"{key}":', value)
        )

    return text.concat(
        '{"messageId":"',
        r.message_id,
        '","type":"',
        r.type,
        '"',
        member("event", r.event),
        member("anonymousId", r.anonymous_id),
        member("userId", r.user_id),
        member("previousId", r.previous_id),
        member("name", r.name),
        ',"timestamp":"',
        r.timestamp_text if r.timestamp_text is not None else text.iso_millis(r.timestamp_ms),
        '"',
        member("properties", r.properties, quoted=False),
        member("traits", r.traits, quoted=False),
        member("context", r.context, quoted=False),
        ',"receivedAt":"',
        text.iso_millis(r.received_ms),
        '"}\n',
        skip_nulls=True,
    )


def parquet_batch(r: Rendered) -> pa.RecordBatch:
    """The same messages as a record batch of :data:`PARQUET_SCHEMA`."""
    ts = pa.array(r.timestamp_ms, pa.timestamp("ms", tz="UTC"), mask=r.timestamp_missing)
    received = pa.array(r.received_ms, pa.timestamp("ms", tz="UTC"))
    return pa.RecordBatch.from_arrays(
        [
            r.message_id,
            r.type,
            r.event,
            r.anonymous_id,
            r.user_id,
            r.previous_id,
            ts,
            r.properties,
            r.traits,
            r.context,
            received,
        ],
        schema=PARQUET_SCHEMA,
    )


def customer_traits(email: pa.Array, first: pa.Array, last: pa.Array, phone: pa.Array) -> pa.Array:
    """Identify traits per customer: email, names and (when known) phone."""
    phone_member = text.concat(',"phone":"', phone, '"')
    return text.concat(
        '"email":"',
        email,
        '","first_name":"',
        first,
        '","last_name":"',
        last,
        '"',
        phone_member,
        skip_nulls=True,
    )


def order_properties(
    order_id: pa.Array,
    subtotal: np.ndarray,
    discount: np.ndarray,
    shipping: np.ndarray,
    tax: np.ndarray,
    total: np.ndarray,
    coupon: pa.Array,
    line_start: np.ndarray,
    line_product_props: pa.Array,
    line_quantity: np.ndarray,
) -> pa.Array:
    """Order Completed properties per order, with its products array."""
    items = text.concat("{", line_product_props, ',"quantity":', text.integers(line_quantity), "}")
    grouped = pa.ListArray.from_arrays(pa.array(line_start.astype(np.int32)), items)
    products = pc.binary_join(grouped, ",")
    return text.concat(
        '"order_id":"',
        order_id,
        '","total":',
        text.money(total),
        ',"subtotal":',
        text.money(subtotal),
        ',"revenue":',
        text.money(subtotal - discount),
        ',"shipping":',
        text.money(shipping),
        ',"tax":',
        text.money(tax),
        ',"discount":',
        text.money(discount),
        text.concat(',"coupon":"', coupon, '"'),
        f',"currency":"{CURRENCY}","products":[',
        products,
        "]",
        skip_nulls=True,
    )
