"""Identity resolution at scale: a full build, an incremental build, and a baseline.

    /work/venv/bin/python bench/identity_bench.py [--customers 1000000] [--events 10000000]

Generates a synthetic store inside DuckDB (customers with emails and phone numbers, orders
including guest checkouts, Segment-shaped events from known and anonymous devices, identify
calls with traits, a few shared devices and a shop phone number the guard must catch), then
measures, each step in a process of its own so peak memory is the step's own:

1. ``full``: ``build_identity(full=True)`` over everything;
2. ``incremental``: after adding 1% new records (new and returning people), ``build_identity()``;
3. ``baseline``: the connected-components step alone on the same final edges, two ways: a
   union-find in Python (the usual hand-written reference; a recursive CTE is not practical
   here, it enumerates paths and does not finish on millions of edges) and segmint's label
   propagation on the same edge table.

Prints a Markdown table; figures go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# Area codes phonenumbers accepts as US numbers.
AREA_CODES = [212, 213, 310, 312, 415, 512, 617, 646, 702, 713, 718, 805, 818, 917, 206]


def _peak_mb() -> float:
    # ru_maxrss is in kilobytes on Linux: the process's own peak, DuckDB's native memory included.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(root: Path, customers: int, events: int, *, start: int, loaded_at: str) -> None:
    """Append a batch of synthetic records: customers [start, start + customers) and so on."""
    from segmint import Workspace

    orders = customers * 2
    people = int(customers * 1.3)  # 30% more devices that never identify
    areas = "[" + ", ".join(str(a) for a in AREA_CODES) + "]"
    with Workspace.open(root) as ws:
        con = ws.engine.connection  # type: ignore[attr-defined]
        con.execute(
            f"""
            INSERT INTO customers (customer_id, email, phone, country, created_at, _loaded_at)
            SELECT 'c' || i,
                CASE WHEN i % 5 <> 0 THEN 'user' || i || '@example.org' END,
                CASE WHEN i % 20000 = 7 THEN '(212) 555-0199'  -- the shop's own number
                     WHEN i % 2 = 0
                        THEN '(' || {areas}[1 + CAST(hash(i, 'area') % 15 AS BIGINT)] || ') '
                        || (201 + hash(i, 'exchange') % 798) || '-'
                        || lpad(CAST(hash(i, 'line') % 10000 AS VARCHAR), 4, '0') END,
                CASE WHEN i % 3 = 0 THEN 'US' END,
                TIMESTAMP '2020-01-01' + to_seconds(CAST(i * 60 AS BIGINT)),
                TIMESTAMP '{loaded_at}'
            FROM range({start}, {start + customers}) AS t(i)
            """
        )
        # Orders of a random customer of this batch or earlier: 70% signed in, 30% guest
        # checkouts by email; one in 50,000 typed the placeholder test@example.com.
        con.execute(
            f"""
            INSERT INTO orders (order_id, customer_id, email, ordered_at, total, _loaded_at)
            SELECT 'o' || i,
                CASE WHEN hash(i, 'guest') % 10 < 7 OR c % 5 = 0 THEN 'c' || c END,
                CASE WHEN i % 50000 = 3 THEN 'test@example.com'
                     WHEN c % 5 <> 0 THEN 'user' || c || '@example.org' END,
                TIMESTAMP '2021-01-01' + to_seconds(CAST(i * 13 AS BIGINT)),
                10, TIMESTAMP '{loaded_at}'
            FROM (SELECT i, hash(i, 'who') % {start + customers} AS c
                  FROM range({start * 2}, {start * 2 + orders}) AS t(i)) AS o
            """
        )
        # Events: a person p < customers is a customer with a device a<p> (one in five has a
        # second device); others are visitors v<p> who never sign in. 15% of a customer's
        # events carry the user id, 2% are identify calls with the email in traits; 0.1% come
        # from 100 shared devices used by many customers.
        con.execute(
            f"""
            INSERT INTO events (message_id, type, event, anonymous_id, user_id, traits,
                "timestamp", _loaded_at)
            SELECT 'm' || i,
                CASE WHEN r < 20 THEN 'identify' WHEN r < 600 THEN 'page' ELSE 'track' END,
                CASE WHEN r >= 600 THEN 'Product Viewed' END,
                CASE WHEN shared THEN 'shared-' || (hash(i, 'dev') % 100)
                     WHEN p < {start + customers} AND hash(i, 'dev2') % 5 = 0
                        THEN 'a' || p || '-2'
                     WHEN p < {start + customers} THEN 'a' || p
                     ELSE 'v' || p END,
                CASE WHEN p < {start + customers} AND (shared OR r < 150) THEN 'c' || p END,
                CASE WHEN r < 20 AND p < {start + customers} AND p % 5 <> 0
                     THEN '{{"email": "user' || p || '@example.org"}}' END,
                TIMESTAMP '2022-01-01' + to_seconds(CAST(i AS BIGINT)),
                TIMESTAMP '{loaded_at}'
            FROM (SELECT i, hash(i, 'person') % {int(people * (start + customers) / customers)}
                    AS p,
                    hash(i, 'kind') % 1000 AS r, hash(i, 'shared') % 1000 = 0 AS shared
                  FROM range({start * 10}, {start * 10 + events}) AS t(i)) AS e
            """
        )


def step(name: str, root: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Run one measured step in this process and return its figures."""
    from segmint import Workspace

    if name == "generate":
        started = time.perf_counter()
        generate(root, args.customers, args.events, start=0, loaded_at="2026-01-01")
        return {"seconds": time.perf_counter() - started, "peak_mb": _peak_mb()}
    if name == "add":
        started = time.perf_counter()
        generate(
            root,
            args.customers // 100,
            args.events // 100,
            start=args.customers,
            loaded_at="2026-02-01",
        )
        return {"seconds": time.perf_counter() - started, "peak_mb": _peak_mb()}
    if name in ("full", "incremental"):
        with Workspace.open(root) as ws:
            result = ws.build_identity(full=name == "full")
        return {**result.to_dict(), "peak_mb": _peak_mb()}
    if name == "verify":
        # The incremental result must equal a full rebuild of the same data, row for row.
        with Workspace.open(root) as ws:
            rebuilt = ws.build_identity(full=True, prefix="verify_")
            differing = ws.engine.fetch_value(
                "SELECT count(*) FROM ((SELECT * FROM identities EXCEPT "
                "SELECT * FROM verify_identities) UNION ALL (SELECT * FROM verify_identities "
                "EXCEPT SELECT * FROM identities))"
            )
        return {"differing_rows": int(differing), "full_seconds": rebuilt.seconds}
    if name == "union_find":
        return union_find(root)
    if name == "label_propagation":
        return label_propagation(root)
    raise SystemExit(f"unknown step {name}")


# Edges both baselines use: distinct identifier pairs whose two ends may merge.
ELIGIBLE_EDGES = """
    SELECT DISTINCT l.a, l.b FROM identity_links AS l
        JOIN identity_nodes AS na ON na.node_id = l.a
        JOIN identity_nodes AS nb ON nb.node_id = l.b
    WHERE NOT na.guarded AND NOT nb.guarded
"""


def union_find(root: Path) -> dict[str, Any]:
    """Components by union-find (path halving, union by size) in Python on the same edges."""
    from segmint import Workspace

    with Workspace.open(root) as ws:
        reading = time.perf_counter()
        edges = ws.engine.fetch_arrow(ELIGIBLE_EDGES)
        nodes = ws.engine.fetch_arrow(
            "SELECT node_id FROM identity_nodes WHERE NOT guarded ORDER BY node_id"
        )
        # Into Python objects before the clock starts: the baseline is the algorithm itself.
        ids = nodes.column("node_id").to_pylist()
        a_list = edges.column("a").to_pylist()
        b_list = edges.column("b").to_pylist()
        read_seconds = time.perf_counter() - reading
    started = time.perf_counter()
    index = {n: k for k, n in enumerate(ids)}
    parent = list(range(len(ids)))
    size = [1] * len(ids)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in zip(a_list, b_list, strict=True):
        ra, rb = find(index[a]), find(index[b])
        if ra != rb:
            if size[ra] < size[rb]:
                ra, rb = rb, ra
            parent[rb] = ra
            size[ra] += size[rb]
    components = len({find(x) for x in range(len(ids))})
    done = time.perf_counter()
    return {
        "seconds": done - started,
        "load_seconds": read_seconds,
        "components": components,
        "edges": edges.num_rows,
        "nodes": len(ids),
        "peak_mb": _peak_mb(),
    }


def label_propagation(root: Path) -> dict[str, Any]:
    """segmint's components step alone on the same edges (what union_find is compared with)."""
    from segmint import Workspace
    from segmint.identity.components import connected_components

    with Workspace.open(root) as ws:
        engine = ws.engine
        engine.execute(f"CREATE TEMP TABLE bench_edges AS {ELIGIBLE_EDGES}")
        engine.execute(
            "CREATE TEMP TABLE bench_nodes AS SELECT node_id AS node FROM identity_nodes "
            "WHERE NOT guarded"
        )
        started = time.perf_counter()
        rounds = connected_components(engine, "bench_nodes", "bench_edges", "bench_labels")
        seconds = time.perf_counter() - started
        components = engine.fetch_value("SELECT count(DISTINCT label) FROM bench_labels")
    return {
        "seconds": seconds,
        "rounds": rounds,
        "components": int(components),
        "peak_mb": _peak_mb(),
    }


def run_step(name: str, root: Path, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--step",
        name,
        "--root",
        str(root),
        "--customers",
        str(args.customers),
        "--events",
        str(args.events),
    ]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--memory-limit", default="4GB", help="DuckDB memory_limit")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        print(json.dumps(step(args.step, Path(args.root), args), default=str))
        return

    from segmint import Workspace
    from segmint.config import load_config, save_config

    with tempfile.TemporaryDirectory(prefix="segmint-identity-bench-") as tmp:
        root = Path(tmp) / "ws"
        Workspace.init(root).close()
        # A memory limit makes the engine spill to disk past it, as a store would configure
        # it on a shared machine; peak memory then shows what the limit buys.
        config = load_config(root)
        config.engine.memory_limit = args.memory_limit
        save_config(root, config)
        figures = {}
        steps = (
            "generate",
            "full",
            "add",
            "incremental",
            "verify",
            "union_find",
            "label_propagation",
        )
        for name in steps:
            figures[name] = run_step(name, root, args)
            print(f"{name}: {json.dumps(figures[name], default=str)}", file=sys.stderr)
        with Workspace.open(root) as ws:
            counts = {t: ws.engine.count_rows(t) for t in ("customers", "orders", "events")}
            counts["identity_links"] = ws.engine.count_rows("identity_links")
            counts["identity_nodes"] = ws.engine.count_rows("identity_nodes")
    full, inc = figures["full"], figures["incremental"]
    uf, lp = figures["union_find"], figures["label_propagation"]
    print(
        f"Machine: {platform.processor() or platform.machine()}, {platform.system()}, "
        f"Python {platform.python_version()}"
    )
    print(f"Engine memory_limit: {args.memory_limit}")
    print(f"Rows after the 1% addition: {json.dumps(counts)}")
    print()
    print("| step | seconds | peak memory (MB) | notes |")
    print("| --- | ---: | ---: | --- |")
    print(
        f"| full build | {full['seconds']:.1f} | {full['peak_mb']:.0f} | "
        f"{full['records_read']:,} records, {full['profiles']:,} profiles, "
        f"{full['phones_parsed']:,} phones parsed, {full['guarded']} guarded, "
        f"{full['rounds']} rounds |"
    )
    print(
        f"| incremental build (+1%) | {inc['seconds']:.1f} | {inc['peak_mb']:.0f} | "
        f"{inc['records_read']:,} records read, {inc['merges']} merges, "
        f"{inc['phones_parsed']:,} phones parsed, {inc['rounds']} rounds |"
    )
    print(
        f"| components: union-find in Python (baseline) | {uf['seconds']:.1f} | "
        f"{uf['peak_mb']:.0f} | {uf['edges']:,} edges, {uf['nodes']:,} nodes, "
        f"{uf['components']:,} components; reading the edges into Python took another "
        f"{uf['load_seconds']:.1f} s |"
    )
    print(
        f"| components: segmint label propagation | {lp['seconds']:.1f} | "
        f"{lp['peak_mb']:.0f} | {lp['components']:,} components in {lp['rounds']} rounds |"
    )
    print(
        f"\nIncremental result equals a full rebuild: "
        f"{'yes' if figures['verify']['differing_rows'] == 0 else 'NO'} "
        f"({figures['verify']['differing_rows']} differing rows of identities)"
    )
    if figures["verify"]["differing_rows"]:
        sys.exit(1)
    if uf["components"] != lp["components"] or lp["components"] != inc["profiles"]:
        print("\nMISMATCH: component counts differ between methods", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
