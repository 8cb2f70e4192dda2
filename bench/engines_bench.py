"""Engine benchmark: the same job on DuckDB (the baseline), PostgreSQL and Spark, side by side.

Two stores, chosen with ``--store``:

- ``demo`` (default): the demo store's files (``--customers``, about 90 events per customer).
  Each engine runs what a user runs: import every file, resolve identities and build
  profiles, and evaluate every built-in template.
- ``synthetic``: the store of ``bench/profiles_bench.py`` without its identities (10 orders,
  20 order lines and 51 events per customer, as many anonymous visitors as customers),
  generated in DuckDB with SQL and written as Parquet. Each engine loads the canonical tables
  as they are (``Engine.load_parquet``; Spark reads the files itself), then resolves
  identities, builds profiles and evaluates every built-in template. This is the size the
  import path is too slow for, and the job the engines differ in.

Each step is timed on each engine in the same run and printed next to DuckDB's time with the
ratio, so a noisy machine still gives comparable figures.

    python bench/engines_bench.py --customers 10000   # demo store, all three engines
    python bench/engines_bench.py --store synthetic --customers 1000000 --engines duckdb,spark

PostgreSQL uses ``--postgres-url`` (a scratch schema, dropped afterwards); Spark runs
``local[2]`` unless ``--spark-master`` says otherwise, with ``--spark-conf KEY=VALUE`` settings
(the driver's memory, shuffle partitions).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from segmint import Workspace
from segmint.config import EngineConfig, save_config
from segmint.demo import generate_store
from segmint.segments.templates import BUILTIN_TEMPLATES

STEPS = ("load", "identity + profiles", "all templates")


@dataclass(frozen=True)
class Store:
    """What each engine loads: how (``load``), and the clock its run is set to."""

    label: str
    clock: dt.datetime
    load: Callable[[Workspace], None]


def demo_store(scratch: Path, customers: int) -> Store:
    data = scratch / f"store-{customers}"
    manifest = generate_store(data, customers=customers, seed=42)

    def load(ws: Workspace) -> None:
        for item in manifest.files:
            fmt: Any = item.format if item.format != "csv" else None
            ws.import_file(item.kind, data / item.path, format=fmt)

    end = dt.date.fromisoformat(manifest.end_date) + dt.timedelta(days=1)
    return Store("import every file", dt.datetime.combine(end, dt.time()), load)


def synthetic_store(scratch: Path, customers: int) -> Store:
    import duckdb

    sys.path.insert(0, str(Path(__file__).parent))
    from profiles_bench import AS_OF, generate

    folder = scratch / f"synthetic-{customers}"
    written = folder / "rows.json"  # written last: the store is complete (and kept for reuse)
    if not written.exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        database = scratch / f"synthetic-{customers}.duckdb"
        rows = generate(database, customers, identities=False)["rows"]
        with duckdb.connect(str(database), read_only=True) as con:
            for table in (t for t, count in rows.items() if count):
                con.execute(f"COPY {table} TO '{folder / table}.parquet' (FORMAT parquet)")
        database.unlink()
        written.write_text(json.dumps(rows))
    rows = json.loads(written.read_text())
    print(f"rows: {rows}")
    files = {table: folder / f"{table}.parquet" for table, count in rows.items() if count}

    def load(ws: Workspace) -> None:
        for table, path in files.items():
            ws.engine.load_parquet(table, path)

    clock = dt.datetime.combine(dt.date.fromisoformat(AS_OF) + dt.timedelta(days=1), dt.time())
    return Store("load canonical tables", clock, load)


def run(kind: str, root: Path, store: Store, args: argparse.Namespace) -> dict:
    schema = f"segmint_bench_{uuid.uuid4().hex[:8]}"
    engine = {
        "duckdb": EngineConfig(),
        "postgres": EngineConfig(kind="postgres", url=args.postgres_url, schema_name=schema),
        "spark": EngineConfig(
            kind="spark",
            schema_name=schema,
            master=args.spark_master,
            spark_conf=dict(item.split("=", 1) for item in args.spark_conf),
        ),
    }[kind]
    timings: dict[str, float] = {}

    def done(step: str, start: float) -> None:
        timings[step] = time.perf_counter() - start
        print(f"  {kind}: {step} {timings[step]:,.1f} s", flush=True)  # progress of long runs

    try:
        with Workspace.init(root, engine=engine) as ws:
            ws.config = ws.config.model_copy(update={"clock": store.clock})
            save_config(root, ws.config)
            start = time.perf_counter()
            store.load(ws)
            done("load", start)

            start = time.perf_counter()
            build = ws.build_profiles()
            done("identity + profiles", start)
            timings["profiles"] = build.profiles

            start = time.perf_counter()
            members = 0
            for name in BUILTIN_TEMPLATES:
                ws.segments.create(ws.segments.from_template(name, name))
                members += ws.segments.run(name).members
            done("all templates", start)
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
    parser.add_argument(
        "--spark-conf", action="append", default=[], metavar="KEY=VALUE",
        help="A Spark setting (repeatable), e.g. spark.driver.memory=16g",
    )
    parser.add_argument("--store", choices=("demo", "synthetic"), default="demo")
    parser.add_argument("--dir", type=Path, default=None, help="Scratch folder (kept).")
    args = parser.parse_args()
    kinds = [k.strip() for k in args.engines.split(",") if k.strip()]
    if kinds[0] != "duckdb":
        kinds.insert(0, "duckdb")  # the baseline always runs, first

    scratch = args.dir or Path(tempfile.mkdtemp(prefix="segmint-engines-"))
    started = time.perf_counter()
    store = (demo_store if args.store == "demo" else synthetic_store)(scratch, args.customers)
    print(
        f"{args.store} store: {args.customers:,} customers written in "
        f"{time.perf_counter() - started:.1f} s"
    )
    results = {}
    for kind in kinds:
        root = scratch / f"ws-{kind}"
        shutil.rmtree(root, ignore_errors=True)
        results[kind] = run(kind, root, store, args)
        figures = ", ".join(f"{k} {v:,.1f}" for k, v in results[kind].items())
        print(f"{kind}: {figures}", flush=True)

    print(
        f"\n{args.store} store, {args.customers:,} customers; {platform.machine()}, "
        f"{os.cpu_count()} cores, {dt.date.today()}"
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
        label = store.label if step == "load" else step
        print(f"| {label} | " + " | ".join(cells + ratios) + " |")
    same = {k: (results[k]["profiles"], results[k]["members"]) for k in kinds}
    print(f"\nprofiles and template members per engine (must agree): {same}")


if __name__ == "__main__":
    main()
