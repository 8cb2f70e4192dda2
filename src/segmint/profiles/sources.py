"""The build's inputs: source rows up to the build date, each attributed to a person.

Identity resolution says which person each record belongs to
(:func:`segmint.identity.resolved_records`: a query of the record's key and its
``profile_id``). This module joins every source table to it once, keeps only rows up to the
build date, and materialises narrow work tables the trait steps read. Rows that resolve to no
person stay in the work tables with a NULL ``profile_id`` so they can be counted
(:class:`~segmint.profiles.types.BuildIssues`); the trait steps skip them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlglot import exp

from segmint.config import ProfilesConfig
from segmint.engines.base import Engine, create_table_as
from segmint.model.tables import PURCHASE_STATUSES
from segmint.profiles.catalogue import Trait
from segmint.profiles.sql import (
    ProfileTables,
    in_list,
    statement,
    typed_columns,
)
from segmint.profiles.types import BuildIssues, ProfilesError

#: Event kinds of the ``kind`` column of the events work table.
WEB_KINDS = ("page", "product_view", "add_to_cart", "order_completed", "track")
EMAIL_KINDS = ("email_delivered", "email_opened", "email_clicked")


class RecordResolver(Protocol):
    """``resolved_records`` of the identity module: a record kind's key and ``profile_id``."""

    def __call__(self, kind: str, *, prefix: str = "") -> exp.Select: ...


def identity_resolver() -> RecordResolver:
    """The identity module's resolver (imported late: the profile module does not need it to
    load, and tests substitute their own)."""
    try:
        from segmint.identity import resolved_records
    except ImportError as exc:  # pragma: no cover - only without the identity module
        raise ProfilesError(
            f"identity resolution is not available ({exc}); profiles need it to know who is who"
        ) from exc
    return resolved_records


@dataclass(frozen=True)
class BuildContext:
    """Everything one build's SQL depends on."""

    engine: Engine
    config: ProfilesConfig
    tables: ProfileTables
    as_of: datetime
    resolver: RecordResolver
    work_prefix: str
    """Prefix of this build's temporary work tables."""

    def output(self, kind: str) -> str:
        """The not-yet-visible name a result table is built under (swapped in at the end)."""
        final = {
            "profiles": self.tables.profiles,
            "category_stats": self.tables.category_stats,
            "email_stats": self.tables.email_stats,
        }[kind]
        return f"{final}__next"

    def work(self, name: str) -> str:
        return f"{self.work_prefix}{name}"

    def since(self, days: float) -> datetime:
        """Start (exclusive) of the window of the last ``days`` days ending at the build date."""
        return self.as_of - timedelta(days=days)

    def names(self, **extra: str) -> dict[str, str]:
        """Table names for SQL templates: work tables as ``{w_name}``, outputs, extras."""
        names = {
            f"w_{n}": self.work(n)
            for n in (
                "orders",
                "lines",
                "order_facts",
                "order_stats",
                "events",
                "web",
                "email",
                "email_stats",
                "customers",
                "customer_stats",
                "people",
                "reviews",
                "tickets",
                "review_stats",
                "ticket_stats",
                "top",
                "scores",
                *(f"joined_{step}" for step in range(10)),
            )
        }
        names.update(
            category_next=self.output("category_stats"),
            email_next=self.output("email_stats"),
            identities=self.tables.identities,
            profiles=self.tables.profiles,
            category_stats=self.tables.category_stats,
            email_stats=self.tables.email_stats,
        )
        names.update(extra)
        return names

    def resolved(self, kind: str) -> str:
        """SQL text of the resolved-records query for a source table (for a ``WITH``)."""
        query = self.resolver(kind, prefix=self.tables.prefix)
        if not isinstance(query, exp.Expression):
            raise ProfilesError(f"the identity resolver returned no query for {kind!r}")
        return query.sql(dialect="duckdb")

    def sql(
        self, template: str, parts: Mapping[str, str] | None = None, **values: Any
    ) -> exp.Expression:
        """A template as an expression: work and output table names, ``parts``, ``values``."""
        return statement(template, self.names(**(parts or {})), **values)

    def run(self, template: str, parts: Mapping[str, str] | None = None, **values: Any) -> None:
        self.engine.execute(self.sql(template, parts, **values))

    def create(
        self, name: str, template: str, parts: Mapping[str, str] | None = None, **values: Any
    ) -> None:
        """Materialise a work table from a query template."""
        query = self.sql(template, parts, **values)
        self.engine.execute(create_table_as(self.work(name), query, temporary=True))

    def create_output(
        self,
        kind: str,
        template: str,
        columns: Sequence[Trait],
        parts: Mapping[str, str] | None = None,
        **values: Any,
    ) -> None:
        """Create a result table from a query, its columns cast to the catalogue's types."""
        typed = f"SELECT {typed_columns(self.engine, columns)} FROM ({template}) AS result"
        query = self.sql(typed, parts, **values)
        self.engine.execute(create_table_as(self.output(kind), query))

    def value(self, template: str, **values: Any) -> Any:
        return self.engine.fetch_value(self.sql(template, **values))

    def row(self, template: str, **values: Any) -> tuple[Any, ...]:
        row = self.engine.fetch_one(self.sql(template, **values))
        if row is None:
            raise ProfilesError("a build query returned no row")
        return row


def json_text(ctx: BuildContext, document: str, key: str) -> str:
    """SQL text extracting ``key`` of a JSON text column as text (NULL if absent or invalid)."""
    expression = ctx.engine.json_text(exp.column(document), key)
    return expression.sql(dialect="duckdb")


def stage_orders(ctx: BuildContext) -> None:
    """``w_orders``: every order up to the build date with its person and what it counts as.

    A NULL status counts as completed: exports that carry no status hold paid orders.
    """
    ctx.create(
        "orders",
        """
        WITH r AS ({resolved}),
        o AS (
          SELECT o.*, LOWER(TRIM(o.status)) AS st FROM orders AS o WHERE o.ordered_at <= :as_of
        )
        SELECT
          o.order_id, r.profile_id, o.ordered_at, o.total,
          (o.st IS NULL OR o.st IN ({purchase_statuses})) AS is_purchase,
          (o.st IN ('refunded', 'partially_refunded') OR COALESCE(o.refunded_amount, 0) > 0)
            AS is_refund,
          COALESCE(o.st = 'cancelled', FALSE) AS is_cancelled,
          COALESCE(o.st = 'pending', FALSE) AS is_pending,
          GREATEST(o.total - COALESCE(o.refunded_amount, 0), 0) AS net_total,
          CASE WHEN o.st = 'refunded' THEN COALESCE(o.refunded_amount, o.total)
               ELSE COALESCE(o.refunded_amount, 0) END AS refund_amount,
          (COALESCE(o.discount_amount, 0) > 0 OR NULLIF(TRIM(o.coupon_code), '') IS NOT NULL)
            AS order_discounted
        FROM o LEFT JOIN r ON r.order_id = o.order_id
        """,
        {"resolved": ctx.resolved("orders"), "purchase_statuses": in_list(PURCHASE_STATUSES)},
        as_of=ctx.as_of,
    )


def stage_lines(ctx: BuildContext) -> None:
    """``w_lines``: line items of attributed purchases, with category, product line and spend.

    A line finds its product by product_id, else by SKU. It is full price when the source says
    so; otherwise when neither the line nor its order has a discount and it was not sold below
    the product's list price.
    """
    ctx.create(
        "lines",
        """
        WITH by_sku AS (
          SELECT sku, MIN(NULLIF(TRIM(category), '')) AS category,
                 MIN(NULLIF(TRIM(product_line), '')) AS product_line, MIN(price) AS price
          FROM products WHERE sku IS NOT NULL GROUP BY sku
        )
        SELECT
          o.profile_id, o.order_id, o.ordered_at,
          COALESCE(NULLIF(TRIM(p.category), ''), s.category) AS category,
          COALESCE(NULLIF(TRIM(p.product_line), ''), s.product_line) AS product_line,
          GREATEST(l.quantity * l.unit_price - COALESCE(l.discount, 0), 0) AS amount,
          COALESCE(l.discount, 0) > 0 AS line_discounted,
          COALESCE(
            l.full_price,
            COALESCE(l.discount, 0) = 0 AND NOT o.order_discounted
              AND l.unit_price >= COALESCE(p.price, s.price, l.unit_price)
          ) AS full_price
        FROM order_lines AS l
        JOIN {w_orders} AS o ON o.order_id = l.order_id
        LEFT JOIN products AS p ON p.product_id = l.product_id
        LEFT JOIN by_sku AS s ON p.product_id IS NULL AND s.sku = l.sku
        WHERE o.is_purchase AND o.profile_id IS NOT NULL
        """,
    )


def stage_events(ctx: BuildContext) -> None:
    """``w_events``: events up to the build date, narrowed to person, time and kind.

    ``kind`` is page (page and screen calls), product_view, add_to_cart, order_completed,
    track (any other track event), one of the email kinds, or NULL (identify, alias, group and
    email events segmint does not rate, e.g. Email Bounced). Email rows also carry the email's
    key (``email_id``, else ``campaign_id``, else the message id) and ``category`` property.
    """
    cfg = ctx.config
    parts = {
        "resolved": ctx.resolved("events"),
        "delivered": in_list(cfg.email_delivered_events),
        "opened": in_list(cfg.email_opened_events),
        "clicked": in_list(cfg.email_clicked_events),
        "viewed": in_list(cfg.product_viewed_events),
        "added": in_list(cfg.product_added_events),
        "completed": in_list(cfg.order_completed_events),
        "email_id": json_text(ctx, "properties", "email_id"),
        "campaign_id": json_text(ctx, "properties", "campaign_id"),
        "category": json_text(ctx, "properties", "category"),
    }
    ctx.create(
        "events",
        """
        WITH r AS ({resolved}),
        e AS (
          SELECT e.*,
            CASE WHEN e.type <> 'track' THEN NULL
                 WHEN e.event IN ({delivered}) THEN 'email_delivered'
                 WHEN e.event IN ({opened}) THEN 'email_opened'
                 WHEN e.event IN ({clicked}) THEN 'email_clicked'
            END AS email_kind
          FROM events AS e WHERE e."timestamp" <= :as_of
        )
        SELECT
          r.profile_id,
          e."timestamp" AS ts,
          CASE
            WHEN e.email_kind IS NOT NULL THEN e.email_kind
            WHEN e.type IN ('page', 'screen') THEN 'page'
            WHEN e.type <> 'track' THEN NULL
            WHEN e.event IN ({viewed}) THEN 'product_view'
            WHEN e.event IN ({added}) THEN 'add_to_cart'
            WHEN e.event IN ({completed}) THEN 'order_completed'
            WHEN e.event LIKE 'Email %' OR e.event = 'Unsubscribed' THEN NULL
            ELSE 'track'
          END AS kind,
          CASE WHEN e.email_kind IS NOT NULL
            THEN COALESCE({email_id}, {campaign_id}, e.message_id) END AS email_key,
          CASE WHEN e.email_kind IS NOT NULL THEN NULLIF(TRIM({category}), '') END
            AS email_category,
          (NULLIF(TRIM(e.anonymous_id), '') IS NULL AND NULLIF(TRIM(e.user_id), '') IS NULL)
            AS no_ids
        FROM e LEFT JOIN r ON r.message_id = e.message_id
        """,
        parts,
        as_of=ctx.as_of,
    )


def stage_customers(ctx: BuildContext) -> None:
    """``w_customers``: customer records that existed at the build date, with their person."""
    ctx.create(
        "customers",
        """
        WITH r AS ({resolved})
        SELECT c.*, r.profile_id
        FROM customers AS c LEFT JOIN r ON r.customer_id = c.customer_id
        WHERE c.created_at IS NULL OR c.created_at <= :as_of
        """,
        {"resolved": ctx.resolved("customers")},
        as_of=ctx.as_of,
    )


def stage_reviews_and_tickets(ctx: BuildContext) -> None:
    """``w_reviews`` and ``w_tickets``: reviews and tickets up to the build date."""
    ctx.create(
        "reviews",
        """
        WITH r AS ({resolved})
        SELECT v.review_id, r.profile_id, v.rating, v.reviewed_at
        FROM reviews AS v LEFT JOIN r ON r.review_id = v.review_id
        WHERE v.reviewed_at <= :as_of
        """,
        {"resolved": ctx.resolved("reviews")},
        as_of=ctx.as_of,
    )
    ctx.create(
        "tickets",
        """
        WITH r AS ({resolved})
        SELECT t.ticket_id, r.profile_id, t.created_at, LOWER(TRIM(t.status)) AS status
        FROM tickets AS t LEFT JOIN r ON r.ticket_id = t.ticket_id
        WHERE t.created_at <= :as_of
        """,
        {"resolved": ctx.resolved("tickets")},
        as_of=ctx.as_of,
    )


#: The staging steps, in order (name, function).
STAGES: tuple[tuple[str, Callable[[BuildContext], None]], ...] = (
    ("stage customers", stage_customers),
    ("stage orders", stage_orders),
    ("stage order lines", stage_lines),
    ("stage events", stage_events),
    ("stage reviews and tickets", stage_reviews_and_tickets),
)


def count_issues(ctx: BuildContext) -> BuildIssues:
    """Count the rows that could not be attributed to a person (see :class:`BuildIssues`)."""
    row = ctx.row(
        """
        SELECT
          (SELECT COUNT(*) FROM {w_customers} WHERE profile_id IS NULL),
          (SELECT COUNT(*) FROM {w_orders} WHERE profile_id IS NULL),
          (SELECT COALESCE(SUM(total), 0) FROM {w_orders} WHERE profile_id IS NULL),
          (SELECT COUNT(*) FROM {w_lines} WHERE category IS NULL),
          (SELECT COUNT(*) FROM {w_events} WHERE no_ids),
          (SELECT COUNT(*) FROM {w_events} WHERE NOT no_ids AND profile_id IS NULL),
          (SELECT COUNT(*) FROM {w_reviews} WHERE profile_id IS NULL),
          (SELECT COUNT(*) FROM {w_tickets} WHERE profile_id IS NULL)
        """
    )
    # Written as aggregates, not anti-joins: a hash aggregate spills to disk under a small
    # memory limit, a join against every order id may not.
    orphans = ctx.value(
        """
        SELECT COALESCE(SUM(lines), 0) FROM (
          SELECT order_id, SUM(is_line) AS lines, MAX(is_order) AS has_order FROM (
            SELECT order_id, 1 AS is_line, 0 AS is_order FROM order_lines
            UNION ALL
            SELECT order_id, 0 AS is_line, 1 AS is_order FROM orders
          ) AS ids GROUP BY order_id
        ) AS per_order WHERE has_order = 0
        """
    )
    without_lines = ctx.value(
        "SELECT COUNT(*) FROM {w_order_facts} WHERE is_purchase AND lines = 0"
    )
    counts = [int(v) for i, v in enumerate(row) if i != 2]
    return BuildIssues(
        unresolved_customers=counts[0],
        unresolved_orders=counts[1],
        unresolved_order_total=_decimal_text(row[2]),
        orphan_order_lines=int(orphans),
        purchases_without_lines=int(without_lines),
        lines_without_category=counts[2],
        events_without_ids=counts[3],
        unresolved_events=counts[4],
        unresolved_reviews=counts[5],
        unresolved_tickets=counts[6],
    )


#: Time column of each source table, for the rows after the build date.
_TIME_COLUMNS = {
    "customers": "created_at",
    "orders": "ordered_at",
    "events": '"timestamp"',
    "reviews": "reviewed_at",
    "tickets": "created_at",
}


def count_after_as_of(ctx: BuildContext) -> dict[str, int]:
    """Rows per source table left out because they are later than the build date."""
    counts = ", ".join(
        f"(SELECT COUNT(*) FROM {table} WHERE {column} > :as_of)"
        for table, column in _TIME_COLUMNS.items()
    )
    row = ctx.row(f"SELECT {counts}", as_of=ctx.as_of)
    return {table: int(n) for table, n in zip(_TIME_COLUMNS, row, strict=True)}


def _decimal_text(value: Any) -> str:
    text = format(value, "f") if value is not None else "0"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"
