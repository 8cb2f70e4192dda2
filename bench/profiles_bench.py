"""Benchmark: the full profile build on a synthetic store, next to a hand-written DuckDB query.

    python bench/profiles_bench.py --customers 1000000            # 10M orders, 50M events
    python bench/profiles_bench.py --customers 100000 --memory-limits none,1GB

The store is generated in DuckDB with SQL (no Python loops over rows): ``--customers N``
customers, 10 N orders (with 1 to 3 lines each, 20 N lines), 50 N events, N / 10 products, and
N anonymous visitors besides the customers. Identities are written directly (customer id,
email and anonymous id of each customer belong to one person; each visitor is a person), so
the benchmark measures the profile build, not identity resolution.

Each measurement runs in a fresh process (so its peak memory is its own) on the same file:

- ``baseline``: one hand-written DuckDB SQL statement computing the per-person order traits
  (counts, net spend, first/last order, mean and median gaps, windows, discount and full-price
  shares, refunds, top category): the practical limit of a single query;
- ``build``: the whole profile build (every trait, the long tables, RFM, lifecycle), with its
  per-step timings; the order steps are the ones comparable with the baseline.

Both run under each ``--memory-limits`` value (``none`` = DuckDB's default, 80% of RAM), to
show the build works out of core under a limit well below the data size.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

AS_OF = "2025-12-31"
_AS_OF_TS = "TIMESTAMP '2025-12-31 23:59:59.999999'"


def _uniform(seed: int, key: str = "i") -> str:
    """SQL of a deterministic pseudo-random number in [0, 1) from a row number."""
    return f"((hash({key}, {seed}) % 1000003) / 1000003.0)"


def generate(path: Path, customers: int, *, identities: bool = True) -> dict[str, Any]:
    """Write the synthetic store to a DuckDB file; returns row counts and seconds.

    ``identities=False`` leaves identity resolution to do (``bench/engines_bench.py``): instead
    of the ``identities`` rows, each customer's site visits are tied to their customer id by
    one ``identify`` event, as a login sends.
    """
    from segmint.engines.duckdb import DuckDBEngine
    from segmint.identity.tables import IDENTITIES
    from segmint.model.tables import ALL_TABLES

    started = time.perf_counter()
    path.unlink(missing_ok=True)
    engine = DuckDBEngine(path, threads=os.cpu_count())
    for spec in (*ALL_TABLES, IDENTITIES):
        # No primary-key indexes: they cost memory at load and no profile query uses them.
        engine.create_table(spec, with_key=False)
    n = customers
    products = max(n // 10, 100)
    orders = 10 * n
    events = 50 * n
    visitors = n
    u = _uniform
    con = engine.connection
    con.execute(f"""
        INSERT INTO customers (customer_id, email, phone, gender, birth_date, city, country,
                               created_at, accepts_marketing, marketing_consent_updated_at)
        SELECT 'c' || i, 'user' || i || '@example.com',
               CASE WHEN {u(1)} < 0.3 THEN '+1555' || lpad(CAST(i AS VARCHAR), 7, '0') END,
               CASE WHEN {u(2)} < 0.5 THEN 'female' ELSE 'male' END,
               DATE '1950-01-01' + CAST({u(3)} * 20000 AS INTEGER),
               'city' || (hash(i, 4) % 500), CASE WHEN {u(5)} < 0.7 THEN 'US' ELSE 'DE' END,
               {_AS_OF_TS} - INTERVAL 1100 DAY + CAST({u(6)} * 1000 AS INTEGER) * INTERVAL 1 DAY,
               {u(7)} < 0.8, NULL
        FROM range({n}) AS t(i)
    """)
    con.execute(f"""
        INSERT INTO products (product_id, sku, name, category, product_line, price, currency)
        SELECT 'sku' || i, 'SKU-' || i, 'Product ' || i, 'category' || (i % 20),
               'line' || (i % 50), CAST(5 + {u(8)} * 195 AS DECIMAL(18, 2)), 'USD'
        FROM range({products}) AS t(i)
    """)
    # 60% of orders spread over 80% of customers, 40% over the most loyal 10%: repeat buyers,
    # one-time buyers and customers who never ordered.
    con.execute(f"""
        INSERT INTO orders (order_id, customer_id, email, ordered_at, status, currency, subtotal,
                            discount_amount, total, refunded_amount, coupon_code)
        SELECT 'o' || i,
               CASE WHEN {u(11)} < 0.02 THEN NULL ELSE 'c' || c END,
               CASE WHEN {u(11)} < 0.05 THEN 'user' || c || '@example.com' END,
               {_AS_OF_TS} - CAST({u(12)} * 730 * 86400 AS BIGINT) * INTERVAL 1 SECOND,
               CASE WHEN s < 0.90 THEN 'completed' WHEN s < 0.93 THEN 'refunded'
                    WHEN s < 0.95 THEN 'partially_refunded' WHEN s < 0.98 THEN 'cancelled'
                    ELSE 'pending' END,
               'USD', total + discount, discount, total,
               CASE WHEN s >= 0.93 AND s < 0.95 THEN round(total / 3, 2) END,
               CASE WHEN discount > 0 AND {u(13)} < 0.5 THEN 'SAVE10' END
        FROM (
          SELECT i,
                 CASE WHEN {u(9)} < 0.6 THEN CAST({u(10)} * {n} * 0.8 AS BIGINT)
                      ELSE CAST({u(10)} * {n} * 0.1 AS BIGINT) END AS c,
                 {u(14)} AS s,
                 CAST(10 + {u(15)} * 290 AS DECIMAL(18, 2)) AS total,
                 CASE WHEN {u(16)} < 0.2 THEN CAST(5 AS DECIMAL(18, 2)) ELSE 0 END AS discount
          FROM range({orders}) AS t(i)
        )
    """)
    con.execute(f"""
        INSERT INTO order_lines (order_id, line_number, product_id, quantity, unit_price,
                                 discount, full_price)
        SELECT 'o' || i, line + 1, 'sku' || (hash(i, line, 17) % {products}),
               1 + hash(i, line, 18) % 3,
               CAST(5 + ((hash(i, line, 19) % 1000) / 1000.0) * 95 AS DECIMAL(18, 2)),
               CASE WHEN hash(i, line, 20) % 10 = 0 THEN 1 END, NULL
        FROM range({orders}) AS t(i), range(1 + CAST(hash(i, 21) % 3 AS BIGINT)) AS l(line)
    """)
    # 70% of events come from customers (half with user_id, half with their anonymous id),
    # 30% from anonymous visitors; email events carry user_id and properties.
    con.execute(f"""
        INSERT INTO events (message_id, type, event, anonymous_id, user_id, "timestamp",
                            properties)
        SELECT 'm' || i,
               CASE WHEN k < 0.45 OR (visitor AND k >= 0.70 AND k < 0.93) THEN 'page'
                    ELSE 'track' END,
               CASE WHEN k < 0.45 OR (visitor AND k >= 0.70 AND k < 0.93) THEN NULL
                    WHEN k < 0.63 THEN 'Product Viewed' WHEN k < 0.68 THEN 'Product Added'
                    WHEN k < 0.70 THEN 'Order Completed' WHEN k < 0.82 THEN 'Email Delivered'
                    WHEN k < 0.90 THEN 'Email Opened' WHEN k < 0.93 THEN 'Email Link Clicked'
                    ELSE 'Checkout Started' END,
               CASE WHEN visitor THEN 'v' || who
                    WHEN k >= 0.70 AND k < 0.93 THEN NULL
                    WHEN {u(22)} < 0.5 THEN 'a' || who END,
               CASE WHEN NOT visitor AND (k >= 0.70 AND k < 0.93 OR {u(22)} >= 0.5)
                    THEN 'c' || who END,
               {_AS_OF_TS} - CAST({u(23)} * 365 * 86400 AS BIGINT) * INTERVAL 1 SECOND,
               CASE WHEN NOT visitor AND k >= 0.70 AND k < 0.93 THEN
                 '{{"email_id": "e' || (hash(who, 24) % 5000) || '", "category": "category'
                 || (hash(who, 25) % 20) || '"}}' END
        FROM (
          SELECT i, {u(26)} AS k, {u(27)} >= 0.7 AS visitor,
                 CAST({u(28)} * {n} AS BIGINT) AS who
          FROM range({events}) AS t(i)
        )
    """)
    if not identities:
        con.execute(f"""
            INSERT INTO events (message_id, type, anonymous_id, user_id, "timestamp")
            SELECT 'id' || i, 'identify', 'a' || i, 'c' || i,
                   {_AS_OF_TS} - CAST({u(29)} * 365 * 86400 AS BIGINT) * INTERVAL 1 SECOND
            FROM range({n}) AS t(i)
        """)
    else:
        con.execute(f"""
            INSERT INTO identities
            SELECT 'customer_id', 'c' || i, 'p' || i, created_at, created_at
            FROM (SELECT i, {_AS_OF_TS} - INTERVAL 1100 DAY AS created_at FROM range({n}) t(i))
            UNION ALL
            SELECT 'email', 'user' || i || '@example.com', 'p' || i, NULL, NULL FROM range({n}) t(i)
            UNION ALL
            SELECT 'anonymous_id', 'a' || i, 'p' || i, NULL, NULL FROM range({n}) t(i)
            UNION ALL
            SELECT 'anonymous_id', 'v' || i, 'v' || i, NULL, NULL FROM range({visitors}) t(i)
        """)
    counts = {
        name: engine.count_rows(name)
        for name in ("customers", "products", "orders", "order_lines", "events", "identities")
    }
    engine.execute("CHECKPOINT")
    engine.close()
    return {
        "rows": counts,
        "seconds": round(time.perf_counter() - started, 1),
        "file_gb": round(path.stat().st_size / 1e9, 2),
    }


def resolve_by_identities(kind: str, *, prefix: str = "") -> Any:
    """Records to people through ``identities``: customer id (an event's user_id), then email,
    then (events) anonymous id; the contract of ``segmint.identity.resolved_records``."""
    from sqlglot import exp

    ident = f"{prefix}identities"

    def via(alias: str, id_type: str, value: str) -> str:
        return (
            f"LEFT JOIN {ident} AS {alias} ON {alias}.id_type = '{id_type}' "
            f"AND {alias}.id_value = {value}"
        )

    if kind == "customers":
        sql = (
            f"SELECT c.customer_id, i.profile_id FROM customers AS c JOIN {ident} AS i "
            "ON i.id_type = 'customer_id' AND i.id_value = c.customer_id"
        )
    elif kind == "events":
        sql = (
            "SELECT e.message_id, COALESCE(u.profile_id, a.profile_id) AS profile_id "
            f"FROM events AS e {via('u', 'customer_id', 'e.user_id')} "
            f"{via('a', 'anonymous_id', 'e.anonymous_id')} "
            "WHERE COALESCE(u.profile_id, a.profile_id) IS NOT NULL"
        )
    else:
        key = {"orders": "order_id", "reviews": "review_id", "tickets": "ticket_id"}[kind]
        sql = (
            f"SELECT s.{key}, COALESCE(c.profile_id, m.profile_id) AS profile_id "
            f"FROM {kind} AS s {via('c', 'customer_id', 's.customer_id')} "
            f"{via('m', 'email', 'LOWER(s.email)')} "
            "WHERE COALESCE(c.profile_id, m.profile_id) IS NOT NULL"
        )
    return exp.maybe_parse(sql, dialect="duckdb")


#: The hand-written baseline: the per-person order traits in one DuckDB statement.
BASELINE = f"""
CREATE OR REPLACE TABLE baseline_order_traits AS
WITH o AS (
  SELECT o.order_id, COALESCE(ic.profile_id, ie.profile_id) AS profile_id, o.ordered_at,
         lower(trim(o.status)) AS st, o.total, o.refunded_amount,
         coalesce(o.discount_amount, 0) > 0 OR nullif(trim(o.coupon_code), '') IS NOT NULL
           AS order_discounted
  FROM orders o
  LEFT JOIN identities ic ON ic.id_type = 'customer_id' AND ic.id_value = o.customer_id
  LEFT JOIN identities ie ON ie.id_type = 'email' AND ie.id_value = lower(o.email)
  WHERE o.ordered_at <= {_AS_OF_TS}
),
p AS (SELECT * FROM o WHERE profile_id IS NOT NULL AND (st IS NULL OR st IN
      ('completed', 'partially_refunded'))),
l AS (
  SELECT p.profile_id, p.order_id, pr.category, pr.product_line,
         greatest(l.quantity * l.unit_price - coalesce(l.discount, 0), 0) AS amount,
         coalesce(l.full_price, coalesce(l.discount, 0) = 0 AND NOT p.order_discounted
                  AND l.unit_price >= coalesce(pr.price, l.unit_price)) AS full_price,
         coalesce(l.discount, 0) > 0 AS line_discounted
  FROM order_lines l JOIN p ON p.order_id = l.order_id
  LEFT JOIN products pr ON pr.product_id = l.product_id
),
per_order AS (
  SELECT order_id, count(*) AS lines, count(*) FILTER (WHERE full_price) AS fpl,
         bool_or(line_discounted) AS line_discounted
  FROM l GROUP BY order_id
),
gaps AS (
  SELECT p.*, coalesce(po.lines, 0) AS lines, coalesce(po.fpl, 0) AS fpl,
         p.order_discounted OR coalesce(po.line_discounted, false) AS discounted,
         epoch(ordered_at) - epoch(lag(ordered_at) OVER (PARTITION BY profile_id
                                                          ORDER BY ordered_at, p.order_id)) AS gap
  FROM p LEFT JOIN per_order po ON po.order_id = p.order_id
),
stats AS (
  SELECT profile_id, count(*) AS order_count,
         sum(greatest(total - coalesce(refunded_amount, 0), 0)) AS total_spend,
         min(ordered_at) AS first_order_at, max(ordered_at) AS last_order_at,
         median(gap) / 86400 AS median_gap, avg(gap) / 86400 AS mean_gap,
         avg(CASE WHEN discounted THEN 1.0 ELSE 0.0 END) AS discount_share,
         sum(fpl) / nullif(sum(lines), 0) AS full_price_share,
         count(*) FILTER (WHERE ordered_at > {_AS_OF_TS} - INTERVAL 30 DAY) AS orders_30d,
         count(*) FILTER (WHERE ordered_at > {_AS_OF_TS} - INTERVAL 90 DAY) AS orders_90d,
         count(*) FILTER (WHERE ordered_at > {_AS_OF_TS} - INTERVAL 180 DAY) AS orders_180d,
         count(*) FILTER (WHERE ordered_at > {_AS_OF_TS} - INTERVAL 365 DAY) AS orders_365d
  FROM gaps GROUP BY profile_id
),
refunds AS (
  SELECT profile_id,
         count(*) FILTER (WHERE st IN ('refunded', 'partially_refunded')
                          OR coalesce(refunded_amount, 0) > 0) AS refund_count,
         sum(CASE WHEN st = 'refunded' THEN coalesce(refunded_amount, total)
                  ELSE coalesce(refunded_amount, 0) END) AS refunded_amount
  FROM o WHERE profile_id IS NOT NULL GROUP BY profile_id
),
cats AS (
  SELECT profile_id, 'category' AS dimension, category AS value, sum(amount) AS spend,
         count(DISTINCT order_id) AS orders
  FROM l WHERE category IS NOT NULL GROUP BY profile_id, category
  UNION ALL
  SELECT profile_id, 'product_line', product_line, sum(amount), count(DISTINCT order_id)
  FROM l WHERE product_line IS NOT NULL GROUP BY profile_id, product_line
),
top AS (
  SELECT profile_id,
         arg_max(value, spend) FILTER (WHERE dimension = 'category') AS top_category,
         arg_max(value, spend) FILTER (WHERE dimension = 'product_line') AS top_product_line
  FROM cats GROUP BY profile_id
)
SELECT s.*, r.refund_count, r.refunded_amount, t.top_category, t.top_product_line
FROM stats s LEFT JOIN refunds r USING (profile_id) LEFT JOIN top t USING (profile_id)
"""


def worker(task: str, path: Path, memory_limit: str | None) -> dict[str, Any]:
    """Run one measurement in this process; returns its figures."""
    from segmint.config import WorkspaceConfig
    from segmint.engines.duckdb import DuckDBEngine
    from segmint.profiles import build_profiles

    engine = DuckDBEngine(
        path, memory_limit=memory_limit, threads=os.cpu_count(), temp_directory=path.parent / "tmp"
    )
    started = time.perf_counter()
    figures: dict[str, Any] = {}
    if task == "baseline":
        engine.execute(BASELINE)
        figures["rows"] = engine.count_rows("baseline_order_traits")
    elif task == "build":
        result = build_profiles(
            engine,
            WorkspaceConfig(),
            as_of=AS_OF,
            prefix="",
            run_identity=False,
            resolver=resolve_by_identities,
        )
        figures["timings"] = result.timings
        figures["profiles"] = result.profiles
        figures["buyers"] = result.buyers
        order_steps = (
            "stage orders",
            "stage order lines",
            "order facts",
            "order stats",
            "category stats",
            "top categories",
        )
        figures["order_steps_seconds"] = round(sum(result.timings[s] for s in order_steps), 2)
    else:
        raise SystemExit(f"unknown task {task}")
    figures["seconds"] = round(time.perf_counter() - started, 2)
    engine.close()
    return figures


def run_worker(task: str, path: Path, memory_limit: str | None) -> dict[str, Any]:
    """Run :func:`worker` in a child process (which reports its own peak resident memory)."""
    args = [sys.executable, __file__, "--worker", task, "--db", str(path)]
    if memory_limit:
        args += ["--memory-limit", memory_limit]
    proc = subprocess.run(args, stdout=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{task} failed with exit code {proc.returncode}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/segmint-profiles-bench"))
    parser.add_argument(
        "--memory-limits",
        default="none,1GB",
        help="comma-separated DuckDB memory limits; 'none' for the default",
    )
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--tasks", default="baseline,build", help="which runs: baseline,build")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--memory-limit", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

    if args.worker:
        figures = worker(args.worker, args.db, args.memory_limit)
        figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0)
        print(json.dumps(figures))
        return

    args.dir.mkdir(parents=True, exist_ok=True)
    path = args.dir / f"store_{args.customers}.duckdb"
    report: dict[str, Any] = {
        "date": datetime.now().strftime("%Y-%m-%d"),
        "customers": args.customers,
        "cpus": os.cpu_count(),
    }
    if args.regenerate or not path.exists():
        print(f"generating {args.customers:,} customers into {path} ...", flush=True)
        report["generate"] = generate(path, args.customers)
        print(json.dumps(report["generate"]), flush=True)
    report["runs"] = []
    for limit in args.memory_limits.split(","):
        memory_limit = None if limit.strip().lower() == "none" else limit.strip()
        for task in args.tasks.split(","):
            print(f"{task} (memory limit {limit}) ...", flush=True)
            figures = run_worker(task, path, memory_limit)
            figures.update(task=task, memory_limit=limit)
            print(json.dumps(figures), flush=True)
            report["runs"].append(figures)
    print("\nsummary")
    print(
        f"{'run':<10} {'memory limit':<13} {'seconds':>9} {'order steps':>12} {'peak RSS MB':>12}"
    )
    for r in report["runs"]:
        order = r.get("order_steps_seconds", r["seconds"])
        print(
            f"{r['task']:<10} {r['memory_limit']:<13} {r['seconds']:>9} {order:>12} "
            f"{r['peak_rss_mb']:>12}"
        )
    name = f"report_{args.customers}_{args.memory_limits.replace(',', '_')}.json"
    (args.dir / name).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
