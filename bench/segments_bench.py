"""Segment benchmark: preview latency and every built-in template next to hand-written SQL.

Generates a synthetic store in DuckDB (default 1M profiles, 10M orders, 50M events; ``--scale``
shrinks or grows every count), then measures in the same run:

- preview latency (p50 of 5) of trait-only segments (target < 200 ms) and of event-window
  segments (target < 3 s);
- the time to evaluate every built-in template with its default parameters, each next to the
  same segment written by hand in DuckDB SQL (target: within 1.5x).

Both sides read the same tables: profiles, and events and orders with their profile id
(``segment_events`` / ``segment_orders``, materialised once from the records and identity
resolution -- here ``resolved_<kind>`` tables stand in for identity's output; the time to
materialise is printed on its own), so the comparison measures compiled against hand-written
SQL.

    python bench/segments_bench.py --scale 1.0 --db /tmp/segbench.duckdb
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

import sqlglot
from sqlglot import exp

from segmint.engines.duckdb import DuckDBEngine
from segmint.model.tables import ALL_TABLES
from segmint.profiles.catalogue import profile_traits
from segmint.segments.service import SegmentService
from segmint.segments.templates import BUILTIN_TEMPLATES, RFM_SEGMENTS

AS_OF = datetime(2026, 11, 22, 12, 0, 0)
PREFIX = "asof_20261122_120000_"
KEYS = {
    "orders": "order_id",
    "events": "message_id",
    "reviews": "review_id",
    "tickets": "ticket_id",
}


def resolver(kind: str, prefix: str = "") -> exp.Query:
    query = sqlglot.parse_one(f"SELECT {KEYS[kind]}, profile_id FROM resolved_{kind}")
    assert isinstance(query, exp.Query)
    return query


def generate(engine: DuckDBEngine, profiles: int, orders: int, events: int) -> None:
    for spec in ALL_TABLES:
        engine.create_table(spec, with_key=False)
    columns = ", ".join(
        f'"{t.name}" {engine.data_type(t.type).sql("duckdb")}' for t in profile_traits()
    )
    engine.execute(f"CREATE TABLE {PREFIX}profiles ({columns})")
    rfm = ", ".join(f"'{s}'" for s in RFM_SEGMENTS).replace("'Can't", "'Can''t")
    engine.execute(f"""
        INSERT INTO {PREFIX}profiles (profile_id, accepts_marketing, gender, age_band,
            total_spend, order_count, first_order_at, last_order_at, average_days_between_orders,
            average_order_value, days_since_last_order, visits_per_month,
            average_session_minutes, email_open_rate_7d, email_open_rate_30d,
            email_open_rate_90d, last_seen_at, last_email_engagement_at, rfm_segment,
            lifecycle_stage)
        SELECT 'c' || i, hash(i) % 10 <> 0, ['female', 'male', 'other'][1 + i % 3],
            ['18-24', '25-34', '35-44', '45-54'][1 + i % 4],
            (hash(i * 7) % 200000) / 10.0, i % 12,
            TIMESTAMP '2024-01-01' + INTERVAL (hash(i * 3) % 1000) DAY,
            TIMESTAMP '2026-01-01' + INTERVAL (hash(i * 5) % 320) DAY,
            1 + hash(i * 11) % 60, (hash(i * 13) % 150000) / 100.0, hash(i * 17) % 400,
            (hash(i * 19) % 80) / 10.0, (hash(i * 23) % 400) / 10.0,
            (hash(i * 29) % 100) / 100.0, (hash(i * 31) % 100) / 100.0,
            (hash(i * 37) % 100) / 100.0,
            TIMESTAMP '2026-06-01' + INTERVAL (hash(i * 41) % 174) DAY,
            TIMESTAMP '2026-06-01' + INTERVAL (hash(i * 43) % 174) DAY,
            [{rfm}][1 + i % 11],
            ['prospect', 'new', 'active', 'loyal', 'at_risk', 'lapsed'][1 + i % 6]
        FROM range({profiles}) t(i)
    """)
    engine.execute(f"CREATE VIEW profiles AS SELECT * FROM {PREFIX}profiles")
    engine.execute("""
        INSERT INTO products (product_id, category, product_line)
        SELECT 'p' || i, ['apparel', 'shoes', 'home', 'beauty'][1 + i % 4],
               ['classic', 'modern', 'sport'][1 + i % 3]
        FROM range(1000) t(i)
    """)
    engine.execute(f"""
        INSERT INTO orders (order_id, customer_id, ordered_at, status, total, discount_amount,
                            coupon_code, refunded_amount)
        SELECT 'o' || i, 'c' || (hash(i) % {profiles}),
            TIMESTAMP '2024-11-22' + INTERVAL (hash(i * 3) % 63072000) SECOND,
            CASE WHEN i % 20 = 0 THEN 'cancelled' ELSE 'completed' END,
            10 + hash(i * 5) % 900, CASE WHEN i % 4 = 0 THEN 5 ELSE 0 END,
            CASE WHEN i % 7 = 0 THEN 'SAVE10' END, 0
        FROM range({orders}) t(i)
    """)
    engine.execute("""
        INSERT INTO order_lines (order_id, line_number, product_id, quantity, unit_price)
        SELECT order_id, 1, 'p' || (hash(order_id) % 1000), 1, total FROM orders
    """)
    engine.execute(f"""
        INSERT INTO events (message_id, type, event, user_id, timestamp, properties)
        SELECT 'm' || i,
            CASE WHEN k = 0 THEN 'page' ELSE 'track' END,
            ['Page Viewed', 'Product Viewed', 'Product List Viewed', 'Product Added',
             'Checkout Started', 'Order Completed', 'Email Delivered', 'Email Opened',
             'Email Link Clicked'][1 + k],
            'c' || (hash(i) % {profiles}),
            TIMESTAMP '2026-05-22' + INTERVAL (hash(i * 3) % 15768000) SECOND,
            CASE WHEN k = 0 THEN '{{"path": "' || ['/', '/shoes', '/apparel'][1 + i % 3] || '"}}'
                 ELSE '{{"category": "' || ['apparel', 'shoes', 'home', 'beauty'][1 + i % 4]
                      || '", "product_id": "p' || (i % 1000) || '"}}' END
        FROM (SELECT i, CASE WHEN i % 10 < 3 THEN 0 WHEN i % 10 < 5 THEN 1 ELSE
                   (hash(i * 7) % 9)::INTEGER END AS k FROM range({events}) t(i))
    """)
    engine.execute(f"""
        INSERT INTO reviews (review_id, customer_id, rating, reviewed_at)
        SELECT 'r' || i, 'c' || (hash(i) % {profiles}), 1 + i % 5,
               TIMESTAMP '2025-11-22' + INTERVAL (hash(i * 3) % 31536000) SECOND
        FROM range({max(profiles // 5, 1)}) t(i)
    """)
    engine.execute(f"""
        INSERT INTO tickets (ticket_id, customer_id, created_at, status)
        SELECT 't' || i, 'c' || (hash(i) % {profiles}),
               TIMESTAMP '2025-11-22' + INTERVAL (hash(i * 3) % 31536000) SECOND, 'open'
        FROM range({max(profiles // 10, 1)}) t(i)
    """)
    for kind, key in KEYS.items():
        owner = "user_id" if kind == "events" else "customer_id"
        engine.execute(
            f"CREATE TABLE resolved_{kind} AS SELECT {key}, {owner} AS profile_id FROM {kind}"
        )
    engine.execute("CHECKPOINT")


# Hand-written DuckDB SQL for each template with its default parameters: what a data person
# would write against the same tables (profiles, and events and orders with their profile).
# {P} is the profiles table; consent applies as in segmint: accepts_marketing must be true and
# no Unsubscribed event.
CONSENT = f""" AND p.accepts_marketing AND p.profile_id NOT IN (
    SELECT profile_id FROM {PREFIX}segment_events
    WHERE event = 'Unsubscribed' AND timestamp <= TIMESTAMP '2026-11-22 12:00:00')"""
EV = f"""SELECT * FROM {PREFIX}segment_events
    WHERE timestamp <= TIMESTAMP '2026-11-22 12:00:00'"""
OR = f"""SELECT * FROM {PREFIX}segment_orders
    WHERE ordered_at <= TIMESTAMP '2026-11-22 12:00:00'
      AND coalesce(status, 'completed') IN ('completed', 'partially_refunded')"""


def abandon(first: str, blockers: str, since: str) -> str:
    # Only what happens after the window starts can follow an event in it.
    return f"""profile_id IN (
        SELECT f.profile_id FROM (SELECT profile_id, max(timestamp) ts FROM ({EV}) e
            WHERE event = '{first}' AND timestamp > TIMESTAMP '{since}' GROUP BY 1) f
        LEFT JOIN (SELECT profile_id, max(ts) ts FROM (
            SELECT profile_id, timestamp ts FROM ({EV}) e
            WHERE event IN ({blockers}) AND timestamp > TIMESTAMP '{since}'
            UNION ALL SELECT profile_id, ordered_at FROM ({OR}) o
            WHERE ordered_at > TIMESTAMP '{since}') GROUP BY 1) b
        USING (profile_id) WHERE b.ts IS NULL OR b.ts <= f.ts)"""


HAND: dict[str, str] = {
    "first-time-buyers": "first_order_at > TIMESTAMP '2026-11-15 12:00:00' "
    "AND first_order_at <= TIMESTAMP '2026-11-22 12:00:00'",
    "one-time-buyers": "order_count = 1 AND first_order_at < TIMESTAMP '2026-10-23 12:00:00'",
    "cart-abandoners": abandon("Product Added", "'Order Completed'", "2026-11-20 12:00:00"),
    "checkout-abandoners": abandon("Checkout Started", "'Order Completed'", "2026-11-15 12:00:00"),
    "browse-abandoners": abandon(
        "Product Viewed", "'Product Added', 'Order Completed'", "2026-11-15 12:00:00"
    ),
    "product-viewers": f"""profile_id IN (SELECT profile_id FROM ({EV}) e
        WHERE event = 'Product Viewed' AND timestamp > TIMESTAMP '2026-10-23 12:00:00'
        AND lower(properties::JSON ->> 'product_id') = 'p1')""",
    "category-viewers": f"""profile_id IN (SELECT profile_id FROM ({EV}) e
        WHERE event IN ('Product List Viewed', 'Product Viewed')
        AND timestamp > TIMESTAMP '2026-10-23 12:00:00'
        AND lower(properties::JSON ->> 'category') = 'apparel')""",
    "home-page-viewers": f"""profile_id IN (SELECT profile_id FROM ({EV}) e
        WHERE (type = 'page' OR event = 'Page Viewed')
        AND timestamp > TIMESTAMP '2026-10-23 12:00:00'
        AND (properties::JSON ->> 'path' = '/' OR context::JSON -> 'page' ->> 'path' = '/'))""",
    "frequent-buyers": f"""profile_id IN (SELECT profile_id FROM ({OR}) o
        WHERE ordered_at > TIMESTAMP '2026-08-22 12:00:00' GROUP BY 1 HAVING count(*) > 7)""",
    "category-loyalists": f"""profile_id IN (
        SELECT o.profile_id FROM ({OR}) o JOIN order_lines l USING (order_id)
        LEFT JOIN products pr USING (product_id) GROUP BY 1
        HAVING sum(CASE WHEN lower(pr.category) = 'apparel' THEN l.quantity * l.unit_price
                   - coalesce(l.discount, 0) ELSE 0 END)
               / nullif(sum(l.quantity * l.unit_price - coalesce(l.discount, 0)), 0) > 0.75)
        AND profile_id IN (SELECT profile_id FROM ({EV}) e
        WHERE event IN ('Email Link Clicked', 'Email Delivered')
          AND lower(properties::JSON ->> 'category') = 'apparel'
          AND timestamp > TIMESTAMP '2026-08-24 12:00:00' GROUP BY 1
        HAVING count(*) FILTER (WHERE event = 'Email Delivered') >= 1
           AND count(*) FILTER (WHERE event = 'Email Link Clicked')::DOUBLE
               / count(*) FILTER (WHERE event = 'Email Delivered') > 0.2)""",
    "rhythm-basket-buyers": "average_days_between_orders BETWEEN 12 AND 18 "
    "AND average_order_value BETWEEN 500 AND 1000",
    "high-spend-engaged": f"""visits_per_month > 3 AND average_session_minutes > 15
        AND profile_id IN (SELECT profile_id FROM ({OR}) o
        WHERE ordered_at > TIMESTAMP '2026-05-22 12:00:00' GROUP BY 1
        HAVING sum(total - coalesce(refunded_amount, 0)) BETWEEN 5000 AND 10000)""",
    "email-open-rate-band": "email_open_rate_30d BETWEEN 0.2 AND 0.3",
    "recent-openers": f"""profile_id IN (SELECT profile_id FROM ({EV}) e
        WHERE event = 'Email Opened' AND timestamp > TIMESTAMP '2026-11-15 12:00:00')""",
    "unengaged": "NOT coalesce(last_seen_at > TIMESTAMP '2026-10-23 12:00:00', false) "
    "AND NOT coalesce(last_email_engagement_at > TIMESTAMP '2026-10-23 12:00:00', false) "
    "AND NOT coalesce(last_order_at > TIMESTAMP '2026-10-23 12:00:00', false)",
    "at-risk": "order_count >= 3 AND days_since_last_order > 2 * average_days_between_orders",
    "vips": """profile_id IN (SELECT profile_id FROM (SELECT profile_id,
        rank() OVER (ORDER BY total_spend DESC) rk, count(*) OVER () n
        FROM {P} WHERE total_spend IS NOT NULL) WHERE (rk - 1) * 100 < n * 10)""",
    "coupon-inclined": f"""profile_id IN (SELECT profile_id FROM ({OR}) o GROUP BY 1
        HAVING count(*) >= 2 AND avg(CASE WHEN trim(coalesce(coupon_code, '')) <> ''
        OR coalesce(discount_amount, 0) > 0 THEN 1.0 ELSE 0 END) > 0.5)""",
    "full-price-buyers": f"""profile_id IN (SELECT profile_id FROM ({OR}) o GROUP BY 1
        HAVING count(*) >= 1 AND count(*) FILTER (WHERE trim(coalesce(coupon_code, '')) <> ''
        OR coalesce(discount_amount, 0) > 0) = 0)""",
    "product-line-buyers": f"""profile_id IN (SELECT o.profile_id FROM ({OR}) o
        JOIN order_lines l USING (order_id) JOIN products pr USING (product_id)
        WHERE lower(pr.product_line) = 'classic'
          AND o.ordered_at > TIMESTAMP '2025-11-22 12:00:00')""",
    "demographic": "lower(gender) = 'female'",
    "recent-reviewers": """profile_id IN (SELECT r.profile_id FROM reviews v
        JOIN resolved_reviews r USING (review_id)
        WHERE reviewed_at > TIMESTAMP '2026-10-23 12:00:00'
          AND reviewed_at <= TIMESTAMP '2026-11-22 12:00:00')""",
    "negative-reviewers": """profile_id IN (SELECT r.profile_id FROM reviews v
        JOIN resolved_reviews r USING (review_id) WHERE rating <= 2
        AND reviewed_at > TIMESTAMP '2025-11-22 12:00:00'
        AND reviewed_at <= TIMESTAMP '2026-11-22 12:00:00')""",
    "no-support-ticket": f"""profile_id IN (SELECT profile_id FROM ({OR}) o)
        AND profile_id NOT IN (SELECT r.profile_id FROM tickets k
        JOIN resolved_tickets r USING (ticket_id)
        WHERE created_at > TIMESTAMP '2025-11-22 12:00:00'
          AND created_at <= TIMESTAMP '2026-11-22 12:00:00')""",
    "lifecycle-stage": "lifecycle_stage = 'at_risk'",
}
for _segment in RFM_SEGMENTS:
    _slug = "rfm-" + _segment.lower().replace("'", "").replace(" ", "-")
    HAND[_slug] = "rfm_segment = '" + _segment.replace("'", "''") + "'"


def timed(engine: DuckDBEngine, query: str | exp.Expr) -> tuple[float, int]:
    start = time.perf_counter()
    n = engine.fetch_value(
        exp.select("count(*)").from_(
            exp.Subquery(
                this=sqlglot.parse_one(query, read="duckdb") if isinstance(query, str) else query,
                alias=exp.TableAlias(this=exp.to_identifier("q")),
            )
        )
    )
    return time.perf_counter() - start, int(n)


def hand_query(name: str) -> str:
    condition = HAND[name].format(P=PREFIX + "profiles")
    return f"SELECT p.profile_id FROM {PREFIX}profiles p WHERE ({condition})" + CONSENT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    profiles, orders, events = (int(n * args.scale) for n in (1_000_000, 10_000_000, 50_000_000))
    db = args.db or Path(tempfile.mkdtemp()) / "segbench.duckdb"
    fresh = not db.exists()
    engine = DuckDBEngine(db, temp_directory=db.parent / "tmp")
    if fresh:
        t0 = time.perf_counter()
        generate(engine, profiles, orders, events)
        print(
            f"generated {profiles:,} profiles, {orders:,} orders, {events:,} events "
            f"in {time.perf_counter() - t0:.1f} s ({db})"
        )
    service = SegmentService(engine, resolver=resolver)
    t0 = time.perf_counter()
    service.keyed.ensure(PREFIX)
    print(
        f"materialised events and orders with their profile in {time.perf_counter() - t0:.1f} s"
        " (once per data change; both sides below read them)"
    )
    print(
        f"machine: {platform.machine()}, {platform.processor() or platform.system()}, "
        f"python {platform.python_version()}"
    )

    def preview_p50(name: str) -> float:
        definition = BUILTIN_TEMPLATES[name].instantiate("bench")
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            service.preview(definition, as_of=AS_OF)
            times.append(time.perf_counter() - t0)
        return statistics.median(times)

    print(f"\npreview latency (p50 of {args.repeat})")
    for kind, names in (
        (
            "trait-only",
            [
                "vips",
                "rhythm-basket-buyers",
                "email-open-rate-band",
                "rfm-champions",
                "demographic",
            ],
        ),
        (
            "event-window",
            ["recent-openers", "cart-abandoners", "category-viewers", "browse-abandoners"],
        ),
    ):
        for name in names:
            print(f"  {kind:12} {name:24} {preview_p50(name) * 1000:9.0f} ms")

    print("\nevery template: compiled vs hand-written DuckDB SQL (best of 2)")
    print(f"  {'template':26} {'members':>9} {'compiled':>10} {'hand':>10} {'ratio':>6}")
    worst = 0.0
    for name, template in BUILTIN_TEMPLATES.items():
        compiled = service.compile(template.instantiate("bench"), as_of=AS_OF)
        ours = min(timed(engine, compiled) for _ in range(2))
        theirs = min(timed(engine, hand_query(name)) for _ in range(2))
        ratio = ours[0] / theirs[0]
        worst = max(worst, ratio)
        flag = "" if ours[1] == theirs[1] else f"  MISMATCH hand={theirs[1]}"
        print(f"  {name:26} {ours[1]:9,} {ours[0]:9.3f}s {theirs[0]:9.3f}s {ratio:6.2f}{flag}")
    print(f"\nworst ratio: {worst:.2f}")


if __name__ == "__main__":
    main()
