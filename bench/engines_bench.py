"""Engine benchmark: the same job on DuckDB (the baseline), PostgreSQL and Spark, side by side.

Writes one demo store (``--customers``, about 90 events per customer), then on each engine
runs what a user runs: import every file, resolve identities and build profiles, and evaluate
every built-in template. Each step is timed on each engine in the same run and printed next
to DuckDB's time with the ratio, so a noisy machine still gives comparable figures.

    python bench/engines_bench.py --customers 100000 --engines duckdb,spark
    python bench/engines_bench.py --customers 10000   # all three engines

PostgreSQL uses ``--postgres-url`` (a scratch schema, dropped afterwards); Spark runs
``local[2]`` unless ``--spark-master`` says otherwise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from segmint import Workspace
from segmint.config import EngineConfig, save_config
from segmint.demo import generate_store
from segmint.segments.templates import BUILTIN_TEMPLATES

STEPS = ("import", "identity + profiles", "all templates")


def run(kind: str, root: Path, data: Path, manifest: Any, args: argparse.Namespace) -> dict:
    schema = f"segmint_bench_{uuid.uuid4().hex[:8]}"
    engine = {
        "duckdb": EngineConfig(),
        "postgres": EngineConfig(kind="postgres", url=args.postgres_url, schema_name=schema),
        "spark": EngineConfig(kind="spark", schema_name=schema, master=args.spark_master),
    }[kind]
    timings: dict[str, float] = {}
    try:
        with Workspace.init(root, engine=engine) as ws:
            end = dt.date.fromisoformat(manifest.end_date) + dt.timedelta(days=1)
            ws.config = ws.config.model_copy(
                update={"clock": dt.datetime.combine(end, dt.time())}
            )
            save_config(root, ws.config)
            start = time.perf_counter()
            for item in manifest.files:
                fmt: Any = item.format if item.format != "csv" else None
                ws.import_file(item.kind, data / item.path, format=fmt)
            timings["import"] = time.perf_counter() - start

            start = time.perf_counter()
            build = ws.build_profiles()
            timings["identity + profiles"] = time.perf_counter() - start
            timings["profiles"] = build.profiles

            start = time.perf_counter()
            members = 0
            for name in BUILTIN_TEMPLATES:
                ws.segments.create(ws.segments.from_template(name, name))
                members += ws.segments.run(name).members
            timings["all templates"] = time.perf_counter() - start
            timings["members"] = members
    finally:
        if kind == "postgres":
            import psycopg

            with psycopg.connect(args.postgres_url, autocommit=True) as con:
                con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--engines", default="duckdb,postgres,spark")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--spark-master", default="local[2]")
    parser.add_argument("--dir", type=Path, default=None, help="Scratch folder (kept).")
    args = parser.parse_args()
    kinds = [k.strip() for k in args.engines.split(",") if k.strip()]
    if kinds[0] != "duckdb":
        kinds.insert(0, "duckdb")  # the baseline always runs, first

    scratch = args.dir or Path(tempfile.mkdtemp(prefix="segmint-engines-"))
    data = scratch / f"store-{args.customers}"
    started = time.perf_counter()
    manifest = generate_store(data, customers=args.customers, seed=42)
    print(
        f"demo store: {args.customers:,} customers written in "
        f"{time.perf_counter() - started:.1f} s"
    )
    results = {}
    for kind in kinds:
        root = scratch / f"ws-{kind}"
        shutil.rmtree(root, ignore_errors=True)
        results[kind] = run(kind, root, data, manifest, args)
        print(f"{kind}: " + ", ".join(f"{k} {v:,.1f}" for k, v in results[kind].items()))

    print(
        f"\n{args.customers:,} customers; {platform.machine()}, {os.cpu_count()} cores, "
        f"{dt.date.today()}"
    )
    header = "| step | " + " | ".join(kinds) + " | " + " | ".join(
        f"{k} / duckdb" for k in kinds[1:]
    ) + " |"
    print(header)
    print("|" + " --- |" * (1 + 2 * len(kinds) - 1))
    for step in (*STEPS, "total"):
        if step == "total":
            seconds = {k: sum(results[k][s] for s in STEPS) for k in kinds}
        else:
            seconds = {k: results[k][step] for k in kinds}
        cells = [f"{seconds[k]:,.1f} s" for k in kinds]
        ratios = [f"{seconds[k] / seconds['duckdb']:.1f}x" for k in kinds[1:]]
        print(f"| {step} | " + " | ".join(cells + ratios) + " |")
    same = {k: (results[k]["profiles"], results[k]["members"]) for k in kinds}
    print(f"\nprofiles and template members per engine (must agree): {same}")


if __name__ == "__main__":
    main()
