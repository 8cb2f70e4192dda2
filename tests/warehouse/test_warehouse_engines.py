"""The sync reads the workspace through the Engine API only, so it works from any engine:
here the workspace itself lives in PostgreSQL (a schema of its own on the test server)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlglot import exp

from segmint import Workspace
from segmint.config import EngineConfig
from segmint.warehouse.source import changed_rows, missing_keys, row_hash

from .conftest import Warehouse, fill_shop


@pytest.fixture
def postgres_shop(postgres_url: str, tmp_path: Path) -> Iterator[Workspace]:
    """The shop of conftest.py, on the PostgreSQL engine."""
    import psycopg

    schema = f"segmint_src_{uuid.uuid4().hex[:10]}"
    engine = EngineConfig(kind="postgres", url=postgres_url, schema_name=schema)
    try:
        with Workspace.init(tmp_path / "shop", name="PG shop", engine=engine) as ws:
            fill_shop(ws, tmp_path / "data")
            yield ws
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_sync_from_a_postgres_workspace(postgres_shop: Workspace, warehouse: Warehouse):
    ws = postgres_shop
    first = ws.sync_warehouse(warehouse.url, schema=warehouse.schema)
    inserted = {t.table: t.inserted for t in first.tables}
    assert inserted == {
        "profiles": 4,
        "segments": 2,
        "segment_runs": 2,
        "segment_changes": 3,
        "segment_members": 3,
    }
    assert warehouse.rows(
        "SELECT order_count, total_spend, last_order_at FROM {s}.profiles WHERE customer_id = 'C1'"
    ) == [(2, Decimal("150.2500"), datetime(2026, 8, 15, 10))]
    assert warehouse.value("SELECT min(engine) FROM {s}.sync_state") == "postgres"

    assert ws.sync_warehouse(warehouse.url, schema=warehouse.schema).rows_written == 0

    ws.engine.execute("UPDATE profiles SET city = 'Abuja' WHERE customer_id = 'C2'")
    changed = ws.sync_warehouse(warehouse.url, schema=warehouse.schema)
    assert changed.rows_written == 1
    assert changed.table("profiles").updated == 1
    assert warehouse.value("SELECT city FROM {s}.profiles WHERE customer_id = 'C2'") == "Abuja"


# -- the row hash ------------------------------------------------------------------------------

# One row of every column type a profile has, NULL included, and its canonical text written out
# by hand: non-NULL columns in name order, "name=value" each followed by the unit separator.
_ROW = {
    "profile_id": ("'p1'", "VARCHAR", "p1"),
    "order_count": ("2", "BIGINT", "2"),
    "total_spend": ("150.25", "DECIMAL(18, 4)", "150.2500"),
    "first_order_at": ("'2026-06-01 10:00:00'", "TIMESTAMP", "2026-06-01 10:00:00"),
    "accepts_marketing": ("TRUE", "BOOLEAN", "true"),
    "birth_date": ("'1990-12-10'", "DATE", "1990-12-10"),
    "city": ("NULL", "VARCHAR", None),
    "visits_per_month": ("1.5", "DOUBLE", "1.5"),
}
_EXPECTED_HASH = hashlib.md5(
    "".join(f"{name}={text}\x1f" for name, (_, _, text) in sorted(_ROW.items()) if text).encode()
).hexdigest()


def _typed_row(dialect: str) -> str:
    """The row as a SELECT list, each value cast to its type as ``dialect`` spells it."""
    return ", ".join(
        f"CAST({value} AS {exp.DataType.build(kind).sql(dialect=dialect)}) AS {name}"
        for name, (value, kind, _) in _ROW.items()
    )


def _row_query(dialect: str) -> str:
    hashed = row_hash(list(_ROW)).sql(dialect=dialect)
    return f"SELECT {hashed} FROM (SELECT {_typed_row(dialect)}) AS profiles"


def test_row_hash_on_duckdb_and_postgres(postgres_url: str):
    import duckdb
    import psycopg

    assert duckdb.sql(_row_query("duckdb")).fetchall() == [(_EXPECTED_HASH,)]
    with psycopg.connect(postgres_url) as conn:
        rows = conn.execute(_row_query("postgres")).fetchall()
    assert rows == [(_EXPECTED_HASH,)]


def test_source_queries_run_on_spark(spark_ready: None):
    from pyspark.sql import SparkSession

    # A session another test started is reused (and left running); one started here is
    # stopped, so later tests can start theirs with their own settings.
    existing = SparkSession.getActiveSession()
    spark = existing or (
        SparkSession.builder.master("local[1]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    try:
        _check_source_queries(spark)
    finally:
        if existing is None:
            spark.stop()


def _check_source_queries(spark: Any) -> None:
    assert spark.sql(_row_query("spark")).collect()[0][0] == _EXPECTED_HASH

    spark.sql(f"SELECT {_typed_row('spark')}").createOrReplaceTempView("profiles")
    spark.createDataFrame(
        [("p1", _EXPECTED_HASH), ("p2", "0" * 32)], "profile_id string, _row_hash string"
    ).createOrReplaceTempView("known_same")
    spark.createDataFrame(
        [("p1", "f" * 32)], "profile_id string, _row_hash string"
    ).createOrReplaceTempView("known_other")
    names, key = list(_ROW), ["profile_id"]
    # Known with the same hash: nothing to send, and p2 is gone from the workspace.
    assert spark.sql(changed_rows("profiles", names, key, "known_same").sql("spark")).count() == 0
    gone = spark.sql(missing_keys("profiles", key, "known_same").sql("spark")).collect()
    assert [r[0] for r in gone] == ["p2"]
    # Known with another hash: the row is sent, with its hash.
    sent = spark.sql(changed_rows("profiles", names, key, "known_other").sql("spark")).collect()
    assert [(r["profile_id"], r["_row_hash"]) for r in sent] == [("p1", _EXPECTED_HASH)]
