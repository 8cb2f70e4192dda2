"""Conformance: one store, the same pipeline, identical results on every engine.

A small demo store (with its dirty rows) is imported, resolved, profiled, scored by the CLV
model and segmented with every built-in template and a custom SQL template on the embedded
DuckDB engine, which is the reference, and on PostgreSQL and Spark. Every table the pipeline
writes is then compared row by row: the imported records and the quarantine, identities,
profiles and their long tables, members of every segment, and the membership history of two
runs. Only columns that record when something ran, or a random run id, are left out.

PostgreSQL and Spark must run in CI (the ``CI`` environment variable); elsewhere they skip,
saying how to enable them (see ``tests/conftest.py``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlglot import exp

from segmint import Workspace
from segmint.config import EngineConfig, save_config
from segmint.demo import generate_store
from segmint.segments.templates import BUILTIN_TEMPLATES

CUSTOMERS = 150
SEED = 23

# Columns that record when something ran or carry a random id: they differ between any two
# runs, on one engine too.
VOLATILE = {
    "_loaded_at",
    "_import_id",
    "import_id",
    "quarantined_at",
    "run_id",
    "build_id",
    "started_at",
    "finished_at",
    "built_at",
    "fitted_at",
    "recorded_at",
    "created_at",
}

# What each comparison reads: table -> the columns that identify a row (for sorting).
TABLES = {
    "customers": ["customer_id"],
    "products": ["product_id"],
    "orders": ["order_id"],
    "order_lines": ["order_id", "line_number"],
    "events": ["message_id"],
    "reviews": ["review_id"],
    "tickets": ["ticket_id"],
    "quarantine": ["kind", "file", "row_number", "reason"],
    "identities": ["id_type", "id_value"],
    "identity_links": ["source", "source_key", "a", "b"],
    "profiles": ["profile_id"],
    "profile_category_stats": ["profile_id", "dimension", "value"],
    "profile_email_stats": ["profile_id", "category"],
    "segment_members": ["segment", "profile_id"],
    "segment_changes": ["segment", "run_number", "profile_id"],
    "segment_runs": ["segment", "run_number"],
}

#: A custom SQL template written in PostgreSQL's dialect, run on every engine.
BIG_SPENDERS = (
    "SELECT profile_id FROM profiles "
    "WHERE total_spend >= :min_spend AND CAST(last_order_at AS DATE) >= DATE '2025-01-01'"
)


@dataclass
class Snapshot:
    rows: dict[str, list[tuple[Any, ...]]]
    columns: dict[str, list[str]]
    clv: dict[str, float]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    folder = tmp_path_factory.mktemp("store")
    return folder, generate_store(folder, customers=CUSTOMERS, seed=SEED)


def run_pipeline(root: Path, engine: EngineConfig, store: tuple[Path, Any]) -> Snapshot:
    """The whole job, as a user runs it, on one engine; then every table it wrote."""
    folder, manifest = store
    with Workspace.init(root, engine=engine) as ws:
        end = dt.date.fromisoformat(manifest.end_date) + dt.timedelta(days=1)
        ws.config = ws.config.model_copy(update={"clock": dt.datetime.combine(end, dt.time())})
        save_config(root, ws.config)
        for item in manifest.files:
            fmt: Any = item.format if item.format != "csv" else None
            ws.import_file(item.kind, folder / item.path, format=fmt)
        # A re-import upserts on the natural key and changes nothing.
        orders = next(i for i in manifest.files if i.kind == "orders")
        ws.import_file("orders", folder / orders.path)
        ws.build_profiles()
        fit = ws.fit_clv()
        segments = ws.segments
        segments.create_sql_template(
            "big-spenders",
            BIG_SPENDERS,
            dialect="postgres",
            parameters=["min_spend:number=100"],
        )
        segments.create(
            {
                "name": "big-spenders",
                "purpose": "analysis",
                "include": {"type": "sql_template", "template": "big-spenders"},
            }
        )
        names = ["big-spenders", *BUILTIN_TEMPLATES]
        for name in BUILTIN_TEMPLATES:
            segments.create(segments.from_template(name, name))
        # Two runs: 60 days before the store's end, then now, so members enter and exit.
        earlier = ws.now() - dt.timedelta(days=60)
        for as_of in (earlier, None):
            for name in names:
                segments.run(name, as_of=as_of)
        rows, columns = {}, {}
        for table, key in TABLES.items():
            kept = [c for c in ws.engine.table_columns(table) if c not in VOLATILE]
            query = exp.select(*[exp.column(c, quoted=True) for c in kept]).from_(table)
            rows[table] = sorted(
                (tuple(normal(v) for v in row) for row in ws.engine.fetch_all(query)),
                key=lambda row, kept=kept, key=key: tuple(str(row[kept.index(k)]) for k in key),
            )
            columns[table] = kept
        return Snapshot(rows, columns, dict(fit.params))


def normal(value: Any) -> Any:
    """A value in a form equal across engines: JSON text parsed, floats to 12 digits."""
    if isinstance(value, float):
        return float(f"{value:.12g}") if math.isfinite(value) else value
    if isinstance(value, Decimal):
        return value.normalize()
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.dumps(json.loads(value), sort_keys=True)
        except ValueError:
            return value
    return value


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, store: tuple[Path, Any]) -> Snapshot:
    return run_pipeline(tmp_path_factory.mktemp("duckdb") / "ws", EngineConfig(), store)


@pytest.fixture(scope="module", params=["postgres", "spark"])
def other(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    store: tuple[Path, Any],
) -> Iterator[tuple[str, Snapshot]]:
    kind = request.param
    root = tmp_path_factory.mktemp(kind) / "ws"
    schema = f"segmint_conformance_{uuid.uuid4().hex[:8]}"
    if kind == "postgres":
        url = request.getfixturevalue("postgres_url")
        engine = EngineConfig(kind="postgres", url=url, schema_name=schema)
    else:
        request.getfixturevalue("spark_ready")
        engine = EngineConfig(kind="spark", schema_name=schema)
    try:
        yield kind, run_pipeline(root, engine, store)
    finally:
        if kind == "postgres":
            import psycopg

            with psycopg.connect(url, autocommit=True) as con:
                con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.mark.parametrize("table", list(TABLES))
def test_every_table_is_identical(reference: Snapshot, other: tuple[str, Snapshot], table: str):
    kind, snapshot = other
    assert snapshot.columns[table] == reference.columns[table]
    expected, got = reference.rows[table], snapshot.rows[table]
    assert len(got) == len(expected), f"{kind}: {table} has {len(got)} rows, not {len(expected)}"
    columns = reference.columns[table]
    for want, have in zip(expected, got, strict=True):
        differing = {
            c: (w, h)
            for c, w, h in zip(columns, want, have, strict=True)
            if w != h and not (c.startswith("clv_") and _within_fit_tolerance(w, h))
        }
        if differing:
            pytest.fail(f"{kind}: {table} row differs (duckdb, {kind}): {differing}")


def _within_fit_tolerance(want: Any, have: Any) -> bool:
    """CLV predictions come from a numerical fit. Each engine computes the customer summary
    (recency and age in weeks, as floating point) with its own arithmetic, which may differ
    in the last bits; the optimiser then stops at a point that differs around its own
    tolerance (1e-8 relative), so predictions are held to 1e-6 relative, not every digit."""
    if isinstance(want, float) and isinstance(have, float):
        return math.isclose(want, have, rel_tol=1e-6)
    return False


def test_the_store_exercises_every_part(reference: Snapshot):
    """The comparison means something: rows everywhere, dirty rows quarantined, both runs."""
    for table in TABLES:
        assert reference.rows[table], f"{table} is empty on the reference engine"
    changes = {
        row[reference.columns["segment_changes"].index("change")]
        for row in reference.rows["segment_changes"]
    }
    assert changes == {"entered", "exited"}


def test_clv_fit_is_identical(reference: Snapshot, other: tuple[str, Snapshot]):
    kind, snapshot = other
    assert snapshot.clv.keys() == reference.clv.keys()
    for name, value in reference.clv.items():
        # The fit's own tolerance, as for the predictions (see _within_fit_tolerance).
        assert math.isclose(snapshot.clv[name], value, rel_tol=1e-6), (kind, name)
