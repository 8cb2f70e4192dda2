"""Import throughput: ``segmint import`` against DuckDB's own typed CSV load of the same file.

    python bench/import_bench.py --rows 1000000,10000000 [--kinds orders,customers] [--dir D]

For each size it generates an orders CSV and a customers CSV with DuckDB (about 0.1% dirty
rows: bad amounts, impossible dates, unknown statuses, broken emails, repeated ids), then
times, each in a child process of its own so its peak memory can be read:

* **limit** – ``CREATE TABLE t AS SELECT * FROM read_csv(..., columns = {typed})`` into a
  fresh DuckDB file, skipping rows that do not parse: what the engine does with no checks,
  no quarantine, no key and no upsert. The practical ceiling.
* **segmint** – ``Workspace.import_file`` of the same file into a fresh workspace: staging,
  validation, quarantine, de-duplication and a keyed insert, in one transaction.

It prints rows/s for both, the ratio (segmint / limit) and each child's peak RSS. It also
prints the CPU seconds (all threads) of each measured section and their ratio: on a machine
shared with other work, wall time stretches with the others' load, CPU time much less.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ORDER_TYPES = {
    "order_id": "VARCHAR",
    "customer_id": "VARCHAR",
    "email": "VARCHAR",
    "ordered_at": "TIMESTAMP",
    "status": "VARCHAR",
    "currency": "VARCHAR",
    "subtotal": "DECIMAL(18,4)",
    "discount_amount": "DECIMAL(18,4)",
    "shipping": "DECIMAL(18,4)",
    "tax": "DECIMAL(18,4)",
    "total": "DECIMAL(18,4)",
    "refunded_amount": "DECIMAL(18,4)",
    "coupon_code": "VARCHAR",
    "channel": "VARCHAR",
}
CUSTOMER_TYPES = {
    "customer_id": "VARCHAR",
    "email": "VARCHAR",
    "first_name": "VARCHAR",
    "last_name": "VARCHAR",
    "city": "VARCHAR",
    "country": "VARCHAR",
    "created_at": "TIMESTAMP",
    "accepts_marketing": "BOOLEAN",
    "loyalty_tier": "VARCHAR",
}
TYPES = {"orders": ORDER_TYPES, "customers": CUSTOMER_TYPES}

# Every 1000th row (offset 7) is broken in some way; every 5000th repeats an earlier id.
_ORDERS_SQL = """
COPY (
  SELECT
    '#' || CASE WHEN i % 5000 = 3 THEN i - 1 ELSE i END + 1000 AS order_id,
    'C' || (i % 250000) AS customer_id,
    CASE WHEN i % 4000 = 7 THEN 'not-an-email' ELSE 'user' || (i % 250000) || '@example.com' END
      AS email,
    CASE WHEN i % 3000 = 7 THEN '2024-13-45 10:00:00'
         ELSE strftime(TIMESTAMP '2023-01-01' + to_seconds(i % 31536000), '%Y-%m-%d %H:%M:%S')
              || ' -0500' END AS ordered_at,
    CASE WHEN i % 5000 = 7 THEN 'shipped'
         WHEN i % 10 = 0 THEN 'refunded' WHEN i % 10 = 1 THEN 'pending' ELSE 'completed' END
      AS status,
    'USD' AS currency,
    printf('%.2f', (i % 50000) / 100.0) AS subtotal,
    CASE WHEN i % 7 = 0 THEN '5.00' ELSE '0.00' END AS discount_amount,
    '4.95' AS shipping,
    printf('%.2f', (i % 50000) / 1000.0) AS tax,
    CASE WHEN i % 1000 = 7 THEN 'abc' WHEN i % 6000 = 8 THEN '-1.00'
         ELSE printf('%.2f', (i % 50000) / 100.0 + 4.95) END AS total,
    CASE WHEN i % 10 = 0 THEN printf('%.2f', (i % 50000) / 100.0) ELSE '' END AS refunded_amount,
    CASE WHEN i % 7 = 0 THEN 'SAVE5' ELSE '' END AS coupon_code,
    CASE WHEN i % 3 = 0 THEN 'pos' ELSE 'web' END AS channel
  FROM range({rows}) t(i)
) TO '{path}' (HEADER, DELIMITER ',')
"""
_CUSTOMERS_SQL = """
COPY (
  SELECT
    'C' || CASE WHEN i % 5000 = 3 THEN i - 1 ELSE i END AS customer_id,
    CASE WHEN i % 1000 = 7 THEN 'user' || i || '@' ELSE 'user' || i || '@example.com' END AS email,
    'First' || (i % 997) AS first_name,
    'Last' || (i % 991) AS last_name,
    CASE i % 4 WHEN 0 THEN 'Berlin' WHEN 1 THEN 'Paris' WHEN 2 THEN 'Austin' ELSE 'Osaka' END
      AS city,
    CASE i % 4 WHEN 0 THEN 'DE' WHEN 1 THEN 'FR' WHEN 2 THEN 'US' ELSE 'JP' END AS country,
    CASE WHEN i % 3000 = 7 THEN 'last tuesday'
         ELSE strftime(TIMESTAMP '2020-01-01' + to_seconds(i % 94608000), '%Y-%m-%dT%H:%M:%SZ')
    END AS created_at,
    CASE WHEN i % 2 = 0 THEN 'yes' ELSE 'no' END AS accepts_marketing,
    CASE i % 3 WHEN 0 THEN 'gold' WHEN 1 THEN 'silver' ELSE '' END AS loyalty_tier
  FROM range({rows}) t(i)
) TO '{path}' (HEADER, DELIMITER ',')
"""


def generate(kind: str, rows: int, path: Path) -> float:
    """Write the CSV; returns seconds taken."""
    import duckdb

    sql = (_ORDERS_SQL if kind == "orders" else _CUSTOMERS_SQL).format(
        rows=rows, path=path.as_posix()
    )
    start = time.perf_counter()
    con = duckdb.connect()
    con.execute(sql)
    con.close()
    return time.perf_counter() - start


# -- children: one measurement each -----------------------------------------------------------


def child_limit(kind: str, csv: Path, db: Path) -> dict[str, float]:
    import duckdb

    columns = ", ".join(f"'{name}': '{t}'" for name, t in TYPES[kind].items())
    con = duckdb.connect(str(db))
    con.execute("SET TimeZone = 'UTC'")
    start, cpu = time.perf_counter(), time.process_time()
    con.execute(
        f"CREATE TABLE t AS SELECT * FROM read_csv('{csv.as_posix()}', header = true, "
        f"columns = {{{columns}}}, ignore_errors = true, timestampformat = '%Y-%m-%d %H:%M:%S %z')"
        if kind == "orders"
        else f"CREATE TABLE t AS SELECT * FROM read_csv('{csv.as_posix()}', header = true, "
        f"columns = {{{columns}}}, ignore_errors = true)"
    )
    con.execute("CHECKPOINT")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    loaded = con.execute("SELECT count(*) FROM t").fetchone()
    con.close()
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "rows_loaded": float(loaded[0] if loaded else 0),
    }


def child_segmint(kind: str, csv: Path, root: Path) -> dict[str, float]:
    from segmint import Workspace

    with Workspace.init(root) as ws:
        start, cpu = time.perf_counter(), time.process_time()
        result = ws.import_file(kind, csv)
        ws.engine.execute("CHECKPOINT")
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "rows_loaded": float(result.inserted),
        "rejected": float(result.rejected),
    }


def measure(mode: str, kind: str, csv: Path, target: Path) -> dict[str, float]:
    """Run one measurement in a child process; adds its peak RSS in MiB."""
    proc = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--child",
            mode,
            "--kind",
            kind,
            "--csv",
            str(csv),
            "--target",
            str(target),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{mode} {kind} failed with exit code {proc.returncode}")
    figures: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    figures["peak_rss_mib"] = usage.ru_maxrss / 1024  # Linux reports KiB
    return figures


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{model}, {os.cpu_count()} cores, {memory:.0f} GiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", default="1000000", help="comma-separated sizes")
    parser.add_argument("--kinds", default="orders,customers")
    parser.add_argument("--dir", type=Path, default=None, help="scratch folder (default: temp)")
    parser.add_argument("--child", choices=["limit", "segmint"], help=argparse.SUPPRESS)
    parser.add_argument("--kind", help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--target", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        run = child_limit if args.child == "limit" else child_segmint
        print(json.dumps(run(args.kind, args.csv, args.target)))
        return

    scratch = args.dir or Path(tempfile.mkdtemp(prefix="segmint-import-bench-"))
    scratch.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine()}; python {platform.python_version()}; scratch {scratch}")
    header = (
        "| kind | rows | file MiB | limit s | limit rows/s | limit CPU s | limit peak MiB "
        "| segmint s | segmint rows/s | segmint CPU s | segmint peak MiB | ratio (wall) "
        "| ratio (CPU) | rejected |"
    )
    print(header)
    print("|---" * header.count(" | ") + "|---|")
    try:
        for rows in [int(r) for r in args.rows.split(",")]:
            for kind in args.kinds.split(","):
                csv = scratch / f"{kind}_{rows}.csv"
                generate(kind, rows, csv)
                db = scratch / f"limit_{kind}_{rows}.duckdb"
                ws = scratch / f"ws_{kind}_{rows}"
                limit = measure("limit", kind, csv, db)
                db.unlink(missing_ok=True)
                ours = measure("segmint", kind, csv, ws)
                shutil.rmtree(ws, ignore_errors=True)
                limit_rate = rows / limit["seconds"]
                our_rate = rows / ours["seconds"]
                print(
                    f"| {kind} | {rows:,} | {csv.stat().st_size / 2**20:,.0f} "
                    f"| {limit['seconds']:.1f} | {limit_rate:,.0f} | {limit['cpu_seconds']:.1f} "
                    f"| {limit['peak_rss_mib']:,.0f} "
                    f"| {ours['seconds']:.1f} | {our_rate:,.0f} | {ours['cpu_seconds']:.1f} "
                    f"| {ours['peak_rss_mib']:,.0f} "
                    f"| {our_rate / limit_rate:.2f}x "
                    f"| {limit['cpu_seconds'] / ours['cpu_seconds']:.2f}x "
                    f"| {ours['rejected']:,.0f} |",
                    flush=True,
                )
                csv.unlink(missing_ok=True)
    finally:
        if args.dir is None:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
