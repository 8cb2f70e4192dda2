"""Web traits: sessions, visit rhythm, product views, carts.

Sessions are cut per person (all of their devices and anonymous ids after identity
resolution) with window functions: an event starts a session when the previous web event of
the person is more than ``session_timeout_minutes`` earlier (a gap of exactly the timeout
continues the session), and ends one when the next is more than the timeout later.

Session lengths need no second pass over the events: every session has exactly one start row
and one end row (the same row for a one-event session), so the total length of a person's
sessions is the sum of their end times less the sum of their start times.

``visits_per_month`` is the number of sessions started in the last ``visits_window_days`` days,
per 30 days of the time the person has been seen on the web: from their first web event to the
build date (both days included), at least 30 days and at most ``visits_window_days``. Someone
first seen 10 days ago with 4 sessions makes 4 visits a month; someone seen for years with 12
sessions in the last 180 days makes 2.

An *open cart* is an add-to-cart later than the person's latest order (of any status) and
latest Order Completed event. Product Removed events are not tracked against the cart.
"""

from __future__ import annotations

from segmint.profiles.sources import WEB_KINDS, BuildContext
from segmint.profiles.sql import in_list


def build_web_stats(ctx: BuildContext) -> None:
    """``w_web``: one row per person with web events."""
    cfg = ctx.config
    ctx.create(
        "web",
        """
        WITH w AS (
          SELECT profile_id, ts, kind,
                 LAG(ts) OVER (PARTITION BY profile_id ORDER BY ts) AS prev_ts,
                 LEAD(ts) OVER (PARTITION BY profile_id ORDER BY ts) AS next_ts
          FROM {w_events}
          WHERE profile_id IS NOT NULL AND kind IN ({web_kinds})
        ),
        m AS (
          SELECT profile_id, ts, kind,
                 (prev_ts IS NULL OR EPOCH(ts) - EPOCH(prev_ts) > :timeout) AS starts,
                 (next_ts IS NULL OR EPOCH(next_ts) - EPOCH(ts) > :timeout) AS ends
          FROM w
        )
        SELECT
          profile_id,
          COUNT(*) FILTER (WHERE starts) AS sessions,
          COUNT(*) FILTER (WHERE starts AND ts > :since_30) AS sessions_30d,
          COUNT(DISTINCT CAST(ts AS DATE)) FILTER (WHERE ts > :since_30) AS web_active_days_30d,
          COUNT(*) FILTER (WHERE starts AND ts > :since_visits) AS sessions_visits_window,
          (COALESCE(SUM(EPOCH(ts)) FILTER (WHERE ends), 0)
            - COALESCE(SUM(EPOCH(ts)) FILTER (WHERE starts), 0))
            / 60.0 / COUNT(*) FILTER (WHERE starts) AS average_session_minutes,
          COUNT(*) FILTER (WHERE kind = 'page') AS page_views,
          COUNT(*) FILTER (WHERE kind = 'product_view') AS product_views,
          COUNT(*) FILTER (WHERE kind = 'product_view' AND ts > :since_30) AS product_views_30d,
          COUNT(*) FILTER (WHERE kind = 'add_to_cart') AS add_to_carts,
          COUNT(*) FILTER (WHERE kind = 'add_to_cart' AND ts > :since_30) AS add_to_carts_30d,
          MIN(ts) AS first_seen_web_at,
          MAX(ts) AS last_seen_at,
          MAX(ts) FILTER (WHERE kind = 'product_view') AS last_product_view_at,
          MAX(ts) FILTER (WHERE kind = 'add_to_cart') AS last_add_to_cart_at,
          MAX(ts) FILTER (WHERE kind = 'order_completed') AS last_order_completed_at
        FROM m
        GROUP BY profile_id
        """,
        {"web_kinds": in_list(WEB_KINDS)},
        timeout=cfg.session_timeout_minutes * 60,
        since_30=ctx.since(30),
        since_visits=ctx.since(cfg.visits_window_days),
    )


#: SQL of ``visits_per_month`` over the joined profile columns (see docs/profiles.md): sessions
#: in the last ``visits_window_days`` days per 30 days, over the days the person has been seen
#: on the web (from their first web event to the build date, counted inclusively), at least 30
#: and at most ``visits_window_days``.
VISITS_PER_MONTH = """
CASE WHEN web.first_seen_web_at IS NOT NULL THEN
  web.sessions_visits_window * 30.0 / LEAST(GREATEST(
    DATE_DIFF('day', CAST(web.first_seen_web_at AS DATE), CAST(:as_of AS DATE)) + 1, 30),
    :visits_window_days)
END
"""

#: SQL of ``has_open_cart``: an add-to-cart later than the latest order (any status) and the
#: latest Order Completed event.
HAS_OPEN_CART = """
CASE WHEN web.last_add_to_cart_at IS NULL THEN FALSE
     ELSE web.last_add_to_cart_at > COALESCE(
       GREATEST(os.last_any_order_at, web.last_order_completed_at),
       os.last_any_order_at, web.last_order_completed_at, CAST('0001-01-01' AS TIMESTAMP))
END
"""
