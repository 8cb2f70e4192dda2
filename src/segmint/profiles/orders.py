"""Order traits: purchases, spend, rhythm, discounts, refunds, and category shares.

What counts:

- A *purchase* is an order whose status is completed or partially_refunded (or missing).
  Refunded, cancelled and pending orders are not purchases; refunds and cancellations are
  counted on their own.
- *Net spend* of a purchase is its total less the amount refunded on it (never below 0).
- The gap between two consecutive purchases is measured exactly (fractional days).
- Category and product-line shares use line spend (quantity x unit price less the line's
  discount) of purchased lines; order-level discounts, shipping and tax are not spread over
  lines. Lines of unknown products count in the denominator (spend without a category).
"""

from __future__ import annotations

from segmint.profiles.catalogue import CATEGORY_STATS_COLUMNS, ORDER_WINDOWS
from segmint.profiles.sources import BuildContext


def build_order_facts(ctx: BuildContext) -> None:
    """``w_order_facts``: attributed orders with line counts, discount flag and purchase gap."""
    ctx.create(
        "order_facts",
        """
        WITH line_orders AS (
          SELECT order_id, COUNT(*) AS lines,
                 SUM(CASE WHEN full_price THEN 1 ELSE 0 END) AS full_price_lines,
                 MAX(CASE WHEN line_discounted THEN 1 ELSE 0 END) AS line_discounted
          FROM {w_lines} GROUP BY order_id
        )
        SELECT
          o.profile_id, o.order_id, o.ordered_at, o.is_purchase, o.is_refund, o.is_cancelled,
          o.is_pending, o.net_total, o.refund_amount,
          COALESCE(lo.lines, 0) AS lines,
          COALESCE(lo.full_price_lines, 0) AS full_price_lines,
          (o.order_discounted OR COALESCE(lo.line_discounted, 0) = 1) AS discounted,
          CASE WHEN o.is_purchase THEN
            EPOCH(o.ordered_at) - EPOCH(LAG(o.ordered_at) OVER (
              PARTITION BY o.profile_id, o.is_purchase ORDER BY o.ordered_at, o.order_id))
          END AS gap_seconds
        FROM {w_orders} AS o LEFT JOIN line_orders AS lo ON lo.order_id = o.order_id
        WHERE o.profile_id IS NOT NULL
        """,
    )


def build_order_stats(ctx: BuildContext) -> None:
    """``w_order_stats``: one row per person with orders (any status)."""
    windows = []
    values: dict[str, object] = {}
    for days in ORDER_WINDOWS:
        windows.append(
            f"COUNT(*) FILTER (WHERE is_purchase AND ordered_at > :since_{days}) "
            f"AS order_count_{days}d, "
            f"SUM(net_total) FILTER (WHERE is_purchase AND ordered_at > :since_{days}) "
            f"AS spend_{days}d"
        )
        values[f"since_{days}"] = ctx.since(days)
    ctx.create(
        "order_stats",
        """
        SELECT
          profile_id,
          MIN(ordered_at) FILTER (WHERE is_purchase) AS first_order_at,
          MAX(ordered_at) FILTER (WHERE is_purchase) AS last_order_at,
          MAX(ordered_at) AS last_any_order_at,
          COUNT(*) FILTER (WHERE is_purchase) AS order_count,
          SUM(net_total) FILTER (WHERE is_purchase) AS total_spend,
          {windows},
          MEDIAN(gap_seconds) / 86400.0 AS median_days_between_orders,
          AVG(CASE WHEN discounted THEN 1.0 ELSE 0.0 END) FILTER (WHERE is_purchase)
            AS discount_order_share,
          SUM(lines) FILTER (WHERE is_purchase) AS purchase_lines,
          SUM(full_price_lines) FILTER (WHERE is_purchase) AS full_price_lines,
          COUNT(*) FILTER (WHERE is_refund) AS refund_count,
          SUM(refund_amount) AS refunded_amount,
          COUNT(*) FILTER (WHERE is_cancelled) AS cancelled_count,
          COUNT(*) FILTER (WHERE is_pending) AS pending_count
        FROM {w_order_facts}
        GROUP BY profile_id
        """,
        {"windows": ",\n".join(windows)},
        **values,
    )


def store_median_gap_days(ctx: BuildContext) -> float | None:
    """The store's median gap between consecutive purchases of the same person, in days."""
    value = ctx.value("SELECT MEDIAN(gap_seconds) / 86400.0 FROM {w_order_facts}")
    return None if value is None else float(value)


def build_category_stats(ctx: BuildContext) -> None:
    """``profile_category_stats``: spend and orders per person and category or product line."""
    ctx.create_output(
        "category_stats",
        """
        WITH per_order AS (
          -- One row per order and category first: counting orders is then a plain COUNT,
          -- which parallelises better than COUNT(DISTINCT order_id).
          SELECT profile_id, 'category' AS dimension, category AS value, order_id,
                 SUM(amount) AS amount, MIN(ordered_at) AS ordered_at
          FROM {w_lines} WHERE category IS NOT NULL
          GROUP BY profile_id, category, order_id
          UNION ALL
          SELECT profile_id, 'product_line' AS dimension, product_line AS value, order_id,
                 SUM(amount) AS amount, MIN(ordered_at) AS ordered_at
          FROM {w_lines} WHERE product_line IS NOT NULL
          GROUP BY profile_id, product_line, order_id
        ),
        agg AS (
          SELECT profile_id, dimension, value, COUNT(*) AS orders, SUM(amount) AS spend,
                 MIN(ordered_at) AS first_order_at, MAX(ordered_at) AS last_order_at
          FROM per_order GROUP BY profile_id, dimension, value
        ),
        totals AS (
          SELECT profile_id, SUM(amount) AS line_spend FROM {w_lines} GROUP BY profile_id
        )
        SELECT
          a.profile_id, a.dimension, a.value, a.orders, a.spend,
          CAST(a.orders AS DOUBLE) / s.order_count AS order_share,
          CASE WHEN t.line_spend > 0 THEN CAST(a.spend AS DOUBLE) / CAST(t.line_spend AS DOUBLE)
          END AS spend_share,
          a.first_order_at, a.last_order_at
        FROM agg AS a
        JOIN totals AS t ON t.profile_id = a.profile_id
        JOIN {w_order_stats} AS s ON s.profile_id = a.profile_id
        """,
        CATEGORY_STATS_COLUMNS,
    )


def build_top_dimensions(ctx: BuildContext) -> None:
    """``w_top``: per person, the category and product line with the highest spend.

    Ties go to more purchases, then to the first name in alphabetical order. Written as
    aggregates and joins rather than a ranking window: they parallelise over the long table.
    """
    ctx.create(
        "top",
        """
        WITH best AS (
          SELECT profile_id, dimension, MAX(spend) AS spend
          FROM {category_next} GROUP BY profile_id, dimension
        ),
        at_best AS (
          SELECT c.* FROM {category_next} AS c
          JOIN best AS b ON b.profile_id = c.profile_id AND b.dimension = c.dimension
            AND b.spend = c.spend
        ),
        most_orders AS (
          SELECT profile_id, dimension, MAX(orders) AS orders
          FROM at_best GROUP BY profile_id, dimension
        ),
        top AS (
          -- Rows tied on spend and orders have the same shares: only the name differs.
          SELECT a.profile_id, a.dimension, MIN(a.value) AS value,
                 MIN(a.spend_share) AS spend_share, MIN(a.order_share) AS order_share
          FROM at_best AS a
          JOIN most_orders AS m ON m.profile_id = a.profile_id AND m.dimension = a.dimension
            AND m.orders = a.orders
          GROUP BY a.profile_id, a.dimension
        ),
        counts AS (
          SELECT profile_id, COUNT(*) AS category_count FROM {category_next}
          WHERE dimension = 'category' GROUP BY profile_id
        )
        SELECT t.profile_id,
          MAX(c.category_count) AS category_count,
          MAX(CASE WHEN t.dimension = 'category' THEN t.value END) AS top_category,
          MAX(CASE WHEN t.dimension = 'category' THEN t.spend_share END)
            AS top_category_spend_share,
          MAX(CASE WHEN t.dimension = 'category' THEN t.order_share END)
            AS top_category_order_share,
          MAX(CASE WHEN t.dimension = 'product_line' THEN t.value END) AS top_product_line,
          MAX(CASE WHEN t.dimension = 'product_line' THEN t.spend_share END)
            AS top_product_line_spend_share,
          MAX(CASE WHEN t.dimension = 'product_line' THEN t.order_share END)
            AS top_product_line_order_share
        FROM top AS t LEFT JOIN counts AS c ON c.profile_id = t.profile_id
        GROUP BY t.profile_id
        """,
    )
