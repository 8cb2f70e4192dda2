"""Join the per-source work tables into the profile tables, in catalogue column order.

Every core trait has exactly one SQL expression here, in one of two layers:

- ``BASE``: over the joined work tables (one row per person);
- ``FINAL``: over the ``BASE`` columns (RFM cell and segment, lifecycle stage).

The wide query has no window function: rankings (RFM scores, top categories) are computed on
narrow work tables first, because a window sorts every column it carries.

Counts and amounts are 0 when there is nothing to count; times, averages, shares, rates and
scores are NULL when they are undefined (no order, no web session, nothing delivered).
Extension traits (e.g. CLV) are created as typed NULL columns for their ``fill`` step.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from segmint.engines.base import Engine, create_table_as
from segmint.model.tables import ColumnType
from segmint.profiles.catalogue import (
    CORE_TRAITS,
    EMAIL_WINDOWS,
    ORDER_WINDOWS,
    Trait,
    profile_traits,
)
from segmint.profiles.lifecycle import INTERVAL_SQL, STAGE_SQL
from segmint.profiles.people import age_band_sql, age_sql
from segmint.profiles.rfm import FM_SQL, cell_sql, segment_sql
from segmint.profiles.sources import BuildContext
from segmint.profiles.web import HAS_OPEN_CART, VISITS_PER_MONTH


def _latest(*columns: str) -> str:
    """The latest of several nullable times (NULL only when all are NULL), in any dialect."""
    return f"COALESCE(GREATEST({', '.join(columns)}), {', '.join(columns)})"


def _zero(column: str) -> str:
    return f"COALESCE({column}, 0)"


def _days_since(column: str) -> str:
    return f"DATE_DIFF('day', CAST({column} AS DATE), CAST(:as_of AS DATE))"


_LAST_ENGAGEMENT = _latest(
    "os.last_any_order_at",
    "web.last_seen_at",
    "em.last_email_open_at",
    "em.last_email_click_at",
    "rv.last_review_at",
    "tk.last_ticket_at",
)


def _base_expressions() -> dict[str, str]:
    base: dict[str, str] = {
        "profile_id": "ids.profile_id",
        "as_of": ":as_of",
        "customer_id": "cust.customer_id",
        "email": "COALESCE(cust.email, ppl.latest_email)",
        "phone": "COALESCE(ppl.latest_phone, cust.phone)",
        "customer_id_count": _zero("ppl.customer_id_count"),
        "email_count": _zero("ppl.email_count"),
        "phone_count": _zero("ppl.phone_count"),
        "anonymous_id_count": _zero("ppl.anonymous_id_count"),
        "identified": (
            "(COALESCE(ppl.customer_id_count, 0) + COALESCE(ppl.email_count, 0) "
            "+ COALESCE(ppl.phone_count, 0) > 0 OR cust.customer_id IS NOT NULL)"
        ),
        "first_seen_at": "ppl.first_seen_at",
    }
    for name in (
        "first_name",
        "last_name",
        "gender",
        "birth_date",
        "marital_status",
        "city",
        "region",
        "country",
        "accepts_marketing",
        "created_at",
    ):
        base[name] = f"cust.{name}"
    base["age"] = age_sql()
    base["age_band"] = age_band_sql(age_sql())
    base.update(
        first_order_at="os.first_order_at",
        last_order_at="os.last_order_at",
        order_count=_zero("os.order_count"),
        total_spend=_zero("os.total_spend"),
        average_order_value=(
            "CASE WHEN os.order_count > 0 THEN os.total_spend / os.order_count END"
        ),
    )
    for days in ORDER_WINDOWS:
        base[f"order_count_{days}d"] = _zero(f"os.order_count_{days}d")
        base[f"spend_{days}d"] = _zero(f"os.spend_{days}d")
    base.update(
        average_days_between_orders=(
            "CASE WHEN os.order_count > 1 THEN (EPOCH(os.last_order_at) - "
            "EPOCH(os.first_order_at)) / 86400.0 / (os.order_count - 1) END"
        ),
        median_days_between_orders="os.median_days_between_orders",
        days_since_first_order=_days_since("os.first_order_at"),
        days_since_last_order=_days_since("os.last_order_at"),
        discount_order_share="os.discount_order_share",
        full_price_line_share=(
            "CASE WHEN os.purchase_lines > 0 "
            "THEN CAST(os.full_price_lines AS DOUBLE) / os.purchase_lines END"
        ),
        refund_count=_zero("os.refund_count"),
        refunded_amount=_zero("os.refunded_amount"),
        cancelled_count=_zero("os.cancelled_count"),
        pending_count=_zero("os.pending_count"),
        category_count=_zero("td.category_count"),
    )
    for name in ("recency_score", "frequency_score", "monetary_score"):
        base[name] = f"sc.{name}"
    for name in (
        "top_category",
        "top_category_spend_share",
        "top_category_order_share",
        "top_product_line",
        "top_product_line_spend_share",
        "top_product_line_order_share",
    ):
        base[name] = f"td.{name}"
    for name in ("sessions", "sessions_30d", "web_active_days_30d"):
        base[name] = _zero(f"web.{name}")
    base["visits_per_month"] = f"COALESCE({VISITS_PER_MONTH}, 0)"
    base["average_session_minutes"] = "web.average_session_minutes"
    for name in (
        "page_views",
        "product_views",
        "product_views_30d",
        "add_to_carts",
        "add_to_carts_30d",
    ):
        base[name] = _zero(f"web.{name}")
    for name in (
        "first_seen_web_at",
        "last_seen_at",
        "last_product_view_at",
        "last_add_to_cart_at",
    ):
        base[name] = f"web.{name}"
    base["has_open_cart"] = HAS_OPEN_CART
    for days in EMAIL_WINDOWS:
        for kind in ("delivered", "opened", "clicked"):
            base[f"email_{kind}_{days}d"] = _zero(f"em.email_{kind}_{days}d")
        for rate in ("open_rate", "click_rate"):
            base[f"email_{rate}_{days}d"] = f"em.email_{rate}_{days}d"
    base.update(
        last_email_open_at="em.last_email_open_at",
        last_email_click_at="em.last_email_click_at",
        last_email_engagement_at=_latest("em.last_email_open_at", "em.last_email_click_at"),
        review_count=_zero("rv.review_count"),
        average_rating="rv.average_rating",
        lowest_rating="rv.lowest_rating",
        last_rating="rv.last_rating",
        last_review_at="rv.last_review_at",
        ticket_count=_zero("tk.ticket_count"),
        open_ticket_count=_zero("tk.open_ticket_count"),
        last_ticket_at="tk.last_ticket_at",
        purchase_interval_days=INTERVAL_SQL,
        last_engagement_at=_LAST_ENGAGEMENT,
        days_since_last_engagement=_days_since(_LAST_ENGAGEMENT),
    )
    return base


#: Layer 1: one expression per trait over the joined work tables.
BASE: dict[str, str] = _base_expressions()
#: Layer 2: expressions over the base columns.
FINAL: dict[str, str] = {
    "fm_score": FM_SQL,
    "rfm_cell": cell_sql(),
    "rfm_segment": segment_sql(),
    "lifecycle_stage": STAGE_SQL,
    "overdue_ratio": (
        "CASE WHEN purchase_interval_days > 0 "
        "THEN days_since_last_order / purchase_interval_days END"
    ),
}


def missing_expressions() -> list[str]:
    """Core traits without exactly one expression (a test keeps this empty)."""
    layers = (BASE, FINAL)
    return [t.name for t in CORE_TRAITS if sum(t.name in layer for layer in layers) != 1]


def _cast(ctx: BuildContext, expression: str, trait: Trait) -> str:
    return f"CAST({expression} AS {_type_sql(ctx.engine, trait.type)}) AS {trait.name}"


def _type_sql(engine: Engine, column_type: ColumnType) -> str:
    key = (type(engine), column_type)
    if key not in _TYPE_SQL:
        _TYPE_SQL[key] = engine.data_type(column_type).sql(dialect="duckdb")
    return _TYPE_SQL[key]


_TYPE_SQL: dict[tuple[type, ColumnType], str] = {}


#: The per-source work tables, by the alias the ``BASE`` expressions use for them.
SOURCES: tuple[tuple[str, str], ...] = (
    ("ppl", "people"),
    ("cust", "customer_stats"),
    ("os", "order_stats"),
    ("td", "top"),
    ("sc", "scores"),
    ("web", "web"),
    ("em", "email_stats"),
    ("rv", "review_stats"),
    ("tk", "ticket_stats"),
)


def join_sources(ctx: BuildContext) -> str:
    """Join every work table onto the set of people, one join per statement.

    Each step writes a table (spillable like any other) with the new source's columns named
    ``alias__column``. One join at a time keeps the build within a memory limit far below
    the size of the data: a single statement with all the joins needs every hash table at
    once. Returns the name of the last table.
    """
    ids = " UNION ".join(
        f"SELECT profile_id FROM {{w_{name}}}"
        for _, name in SOURCES
        if name not in ("top", "scores")  # subsets of order_stats
    )
    ctx.create("joined_0", ids)
    previous = ctx.work("joined_0")
    for step, (alias, name) in enumerate(SOURCES, start=1):
        columns = [c for c in ctx.engine.table_columns(ctx.work(name)) if c != "profile_id"]
        selected = ", ".join(f"{alias}.{c} AS {alias}__{c}" for c in columns)
        ctx.create(
            f"joined_{step}",
            f"SELECT j.*, {selected} FROM {{previous}} AS j "
            f"LEFT JOIN {{w_{name}}} AS {alias} ON {alias}.profile_id = j.profile_id",
            {"previous": previous},
        )
        ctx.engine.drop_table(previous)
        previous = ctx.work(f"joined_{step}")
    return previous


def _unqualify(node: exp.Expression) -> exp.Expression:
    """``alias.column`` of a source to the joined table's ``alias__column``."""
    if isinstance(node, exp.Column) and node.table:
        if node.table == "ids":
            return exp.column(node.name)
        return exp.column(f"{node.table}__{node.name}")
    return node


def profiles_query(ctx: BuildContext, joined: str, values: dict[str, Any]) -> exp.Expression:
    """The SELECT of the ``profiles`` table (core traits, then NULL extension columns) over
    the joined sources (see :func:`join_sources`)."""
    problems = missing_expressions()
    if problems:
        raise RuntimeError(f"profile traits without an expression: {', '.join(problems)}")
    base = ",\n".join(f"{sql} AS {name}" for name, sql in BASE.items())
    final = []
    for trait in profile_traits():
        if trait.name in FINAL:
            final.append(_cast(ctx, FINAL[trait.name], trait))
        elif trait.name in BASE:
            final.append(_cast(ctx, trait.name, trait))
        else:  # an extension's column: NULL until its fill step writes it
            final.append(_cast(ctx, "NULL", trait))
    query = ctx.sql(
        "WITH base AS (SELECT {base} FROM {joined}) SELECT {final} FROM base",
        {"base": base, "final": ",\n".join(final), "joined": joined},
        **values,
    )
    return query.transform(_unqualify, copy=False)


def create_outputs(ctx: BuildContext, values: dict[str, Any]) -> None:
    """Create the profiles table under its not-yet-visible name (the long tables are built
    by their own steps)."""
    joined = join_sources(ctx)
    query = profiles_query(ctx, joined, values)
    ctx.engine.execute(create_table_as(ctx.output("profiles"), query))
    ctx.engine.drop_table(joined)
