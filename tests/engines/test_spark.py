"""The Spark engine: the engine contract (as on DuckDB) and the statements it emulates.

One SparkSession serves the whole module (the engine shares it between instances); every test
works in a fresh warehouse database. Parsing cases are asserted on DuckDB as well, so the two
engines are held to the same expectations.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlglot
from sqlglot import exp

from segmint.engines.base import FILE_SOURCE, Engine
from segmint.engines.duckdb import DuckDBEngine
from segmint.model.tables import ORDERS, ColumnType

_databases = itertools.count(1)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("spark-warehouse")


@pytest.fixture(scope="module")
def shared(spark_ready: None, warehouse: Path) -> Iterator[Any]:
    """An engine for tests that only read (parsing cases): it starts the module's Spark."""
    from segmint.engines.spark import SparkEngine

    engine = SparkEngine(warehouse, database="shared")
    try:
        yield engine
    finally:
        engine.close()


@pytest.fixture
def engine(shared: Any, warehouse: Path) -> Iterator[Any]:
    """A Spark engine on a database of its own."""
    from segmint.engines.spark import SparkEngine

    fresh = SparkEngine(warehouse, database=f"test_{next(_databases)}")
    try:
        yield fresh
    finally:
        fresh.close()


@pytest.fixture(scope="module")
def duck() -> Iterator[DuckDBEngine]:
    engine = DuckDBEngine()
    try:
        yield engine
    finally:
        engine.close()


def text(value: str | None) -> exp.Expression:
    return exp.Literal.string(value) if value is not None else exp.Null()


def value_of(engine: Engine, expression: exp.Expr) -> Any:
    return engine.fetch_value(exp.select(expression))


def rows(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    return engine.fetch_all(sql)


# -- parsing, as on DuckDB ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # Shopify writes offsets without a colon; 10:00 at -05:00 is 15:00 UTC.
        ("2024-03-01 10:00:00 -0500", dt.datetime(2024, 3, 1, 15, 0)),
        ("2024-03-01 10:00:00+05:30", dt.datetime(2024, 3, 1, 4, 30)),
        ("2024-03-01T10:00:00Z", dt.datetime(2024, 3, 1, 10, 0)),
        ("2024-03-01T23:30:00-02:00", dt.datetime(2024, 3, 2, 1, 30)),
        ("2024-03-01", dt.datetime(2024, 3, 1, 0, 0)),
        ("  2024-03-01 10:00  ", dt.datetime(2024, 3, 1, 10, 0)),
        ("2024-03-01 10:00:00 EST", dt.datetime(2024, 3, 1, 15, 0)),
        ("2024-02-30", None),
        ("yesterday", None),
        # Spark's own casts read these; DuckDB does not, so neither does the engine.
        ("2024", None),
        ("2024-03", None),
        ("10:00:00", None),
        ("", None),
        (None, None),
    ],
)
def test_timestamps_are_converted_to_utc(
    shared: Engine, duck: DuckDBEngine, value: str | None, expected: object
):
    for engine in (shared, duck):
        assert value_of(engine, engine.try_cast(text(value), ColumnType.TIMESTAMP)) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("TRUE", True),
        ("yes", True),
        (" y ", True),
        ("1", True),
        ("False", False),
        ("no", False),
        ("0", False),
        ("maybe", None),
        ("", None),
    ],
)
def test_booleans(shared: Engine, value: str, expected: object):
    assert value_of(shared, shared.try_cast(text(value), ColumnType.BOOLEAN)) is expected


@pytest.mark.parametrize(
    ("value", "column_type", "expected"),
    [
        ("0.1", ColumnType.MONEY, Decimal("0.1")),
        (" 12.34565 ", ColumnType.MONEY, Decimal("12.3457")),
        ("12.50 EUR", ColumnType.MONEY, None),
        ("7", ColumnType.INTEGER, 7),
        # DuckDB rounds a decimal text into an integer column instead of refusing it.
        ("7.5", ColumnType.INTEGER, 8),
        ("1e3", ColumnType.INTEGER, 1000),
        ("9223372036854775808", ColumnType.INTEGER, None),
        ("seven", ColumnType.INTEGER, None),
        ("2.5", ColumnType.DOUBLE, 2.5),
        ("2,5", ColumnType.DOUBLE, None),
        ("2024-03-01", ColumnType.DATE, dt.date(2024, 3, 1)),
        ("2024-03-01 10:00", ColumnType.DATE, dt.date(2024, 3, 1)),
        ("2024-03-01 25:00", ColumnType.DATE, None),
        ("2024", ColumnType.DATE, None),
        ("  x  ", ColumnType.STRING, "x"),
    ],
)
def test_typed_values_parse_as_on_duckdb(
    shared: Engine, duck: DuckDBEngine, value: str, column_type: ColumnType, expected: object
):
    for engine in (shared, duck):
        assert value_of(engine, engine.try_cast(text(value), column_type)) == expected


def test_money_is_exact(shared: Engine):
    total = exp.Add(
        this=shared.try_cast(text("0.1"), ColumnType.MONEY),
        expression=shared.try_cast(text("0.2"), ColumnType.MONEY),
    )
    assert value_of(shared, total) == Decimal("0.3")


@pytest.mark.parametrize(
    ("value", "column_type", "fmt", "zone", "expected"),
    [
        (
            "01/03/2024 10:00",
            ColumnType.TIMESTAMP,
            "%d/%m/%Y %H:%M",
            None,
            dt.datetime(2024, 3, 1, 10),
        ),
        (
            "1/3/2024 9:05",
            ColumnType.TIMESTAMP,
            "%d/%m/%Y %H:%M",
            None,
            dt.datetime(2024, 3, 1, 9, 5),
        ),
        ("20240301", ColumnType.TIMESTAMP, "%Y%m%d", None, dt.datetime(2024, 3, 1)),
        ("March 01, 2024", ColumnType.TIMESTAMP, "%B %d, %Y", None, dt.datetime(2024, 3, 1)),
        (
            "01/03/24 10:00 PM",
            ColumnType.TIMESTAMP,
            "%d/%m/%y %I:%M %p",
            None,
            dt.datetime(2024, 3, 1, 22),
        ),
        (
            "2024-03-01T10:00:00.123",
            ColumnType.TIMESTAMP,
            "%Y-%m-%dT%H:%M:%S.%f",
            None,
            dt.datetime(2024, 3, 1, 10, 0, 0, 123000),
        ),
        # A written offset is applied, and wins over the zone of naive times.
        (
            "2024-03-01 10:00:00 +0500",
            ColumnType.TIMESTAMP,
            "%Y-%m-%d %H:%M:%S %z",
            None,
            dt.datetime(2024, 3, 1, 5),
        ),
        (
            "2024-03-01 10:00:00 -05:00",
            ColumnType.TIMESTAMP,
            "%Y-%m-%d %H:%M:%S %z",
            "Asia/Tokyo",
            dt.datetime(2024, 3, 1, 15),
        ),
        ("31/02/2024", ColumnType.TIMESTAMP, "%d/%m/%Y", None, None),
        ("2024-03-01", ColumnType.TIMESTAMP, "%d/%m/%Y", None, None),
        # Paris is UTC+1 in March; New York is UTC-5 in March and UTC-4 in July.
        (
            "01/03/2024 10:00",
            ColumnType.TIMESTAMP,
            "%d/%m/%Y %H:%M",
            "Europe/Paris",
            dt.datetime(2024, 3, 1, 9),
        ),
        (
            "2024-03-01 10:00",
            ColumnType.TIMESTAMP,
            None,
            "America/New_York",
            dt.datetime(2024, 3, 1, 15),
        ),
        (
            "2024-07-01 10:00",
            ColumnType.TIMESTAMP,
            None,
            "America/New_York",
            dt.datetime(2024, 7, 1, 14),
        ),
        (
            "2024-03-01 10:00:00 -0500",
            ColumnType.TIMESTAMP,
            None,
            "Europe/Paris",
            dt.datetime(2024, 3, 1, 15),
        ),
        (
            "2024-03-01T10:00:00Z",
            ColumnType.TIMESTAMP,
            None,
            "Europe/Paris",
            dt.datetime(2024, 3, 1, 10),
        ),
        ("2024-03-01T10:00:00Z", ColumnType.TIMESTAMP, None, None, dt.datetime(2024, 3, 1, 10)),
        ("yesterday", ColumnType.TIMESTAMP, None, "Europe/Paris", None),
        ("01/03/2024", ColumnType.DATE, "%d/%m/%Y", None, dt.date(2024, 3, 1)),
        ("2024-03-01", ColumnType.DATE, None, None, dt.date(2024, 3, 1)),
        ("nonsense", ColumnType.DATE, "%d/%m/%Y", None, None),
    ],
)
def test_try_parse_time_as_on_duckdb(
    shared: Engine,
    duck: DuckDBEngine,
    value: str,
    column_type: ColumnType,
    fmt: str | None,
    zone: str | None,
    expected: object,
):
    for engine in (shared, duck):
        parsed = engine.try_parse_time(text(value), column_type, format=fmt, timezone=zone)
        assert value_of(engine, parsed) == expected, engine.name


def test_formats_spark_cannot_read_are_refused(shared: Engine):
    with pytest.raises(ValueError, match="%a"):
        shared.try_parse_time(text("Fri 1 Mar"), ColumnType.DATE, format="%a %d %b")
    with pytest.raises(ValueError, match="timestamps and dates"):
        shared.try_parse_time(text("1"), ColumnType.INTEGER)


def test_strptime_formats_become_spark_patterns():
    from segmint.engines.spark import spark_datetime_pattern

    assert spark_datetime_pattern("%d/%m/%Y %H:%M") == ("d/M/yyyy H:m", False)
    # Numbers that touch need fixed widths; letters are quoted.
    assert spark_datetime_pattern("%Y%m%dT%H%M%S") == ("yyyyMMdd'T'HHmmss", False)
    assert spark_datetime_pattern("%Y-%m-%d %H:%M:%S %z") == (
        "yyyy-M-d H:m:s [xxx][xx][x]",
        True,
    )
    assert spark_datetime_pattern("%F %T") == ("yyyy-M-d H:m:s", False)
    assert spark_datetime_pattern("%d.%m.%Y at %H'%M") == ("d.M.yyyy 'a''t' H''m", False)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('{"a": 1}', True),
        ('  {"a": {"b": [1, 2]}}  ', True),
        ("{}", True),
        ("[1, 2]", False),
        ('"text"', False),
        ("not json", False),
        ("{not json}", False),
        ('{"a": 1} and more', False),
        ("", False),
        (None, False),
    ],
)
def test_is_json_object(shared: Engine, duck: DuckDBEngine, value: str | None, expected: bool):
    for engine in (shared, duck):
        assert value_of(engine, engine.is_json_object(text(value))) is expected


_DOCUMENT = '{"price": 1.50, "name": "Ann", "tags": {"x": [1, 2]}, "none": null, "a b": "spaced"}'


@pytest.mark.parametrize(
    ("document", "key", "expected"),
    [
        (_DOCUMENT, "price", "1.5"),
        (_DOCUMENT, "name", "Ann"),
        (_DOCUMENT, "tags", '{"x":[1,2]}'),
        (_DOCUMENT, "none", None),
        (_DOCUMENT, "missing", None),
        (_DOCUMENT, "a b", "spaced"),
        ("this is not json", "name", None),
        ('{"name": "Ann"', "name", None),
        (None, "name", None),
    ],
)
def test_json_text(
    shared: Engine, duck: DuckDBEngine, document: str | None, key: str, expected: str | None
):
    for engine in (shared, duck):
        assert value_of(engine, engine.json_text(text(document), key)) == expected


def test_json_text_survives_a_trip_through_duckdb_sql(shared: Engine):
    # Identity resolution writes the expression as DuckDB SQL text and parses it back.
    written = shared.json_text(exp.column("traits"), "email").sql("duckdb")
    reparsed = sqlglot.parse_one(f"SELECT {written} AS email FROM t", read="duckdb")
    query = reparsed.from_(
        exp.select(exp.alias_(text('{"email": "a@x.com"}'), "traits")).subquery("t"), copy=False
    )
    assert shared.fetch_all(query) == [("a@x.com",)]


def _json(engine: Engine, expression: exp.Expr) -> Any:
    result = value_of(engine, expression)
    return None if result is None else json.loads(result)


def test_json_object(shared: Engine, duck: DuckDBEngine):
    no_text = exp.cast(exp.Null(), exp.DataType.build("VARCHAR"))
    at = exp.cast(text("2024-01-01 10:00:00"), exp.DataType.build("TIMESTAMP"))
    for engine in (shared, duck):
        pairs = [("a", text("x")), ("b", no_text.copy()), ("n", exp.Literal.number(1))]
        assert _json(engine, engine.json_object(pairs)) == {"a": "x", "b": None, "n": 1}
        assert _json(engine, engine.json_object(pairs, skip_nulls=True)) == {"a": "x", "n": 1}
        only_nulls = [("b", no_text.copy())]
        assert _json(engine, engine.json_object(only_nulls, skip_nulls=True)) == {}
        assert _json(engine, engine.json_object([("at", at.copy()), ("b", exp.Null())])) == {
            "at": "2024-01-01 10:00:00",
            "b": None,
        }
        base = text('{"a": "old", "keep": [1, 2], "z": null}')
        merged = engine.json_object(
            [("a", text("new")), ("keep", no_text.copy())], skip_nulls=True, base=base
        )
        assert _json(engine, merged) == {"a": "new", "keep": [1, 2], "z": None}
        no_base = engine.json_object([("a", text("new"))], skip_nulls=True, base=exp.Null())
        assert _json(engine, no_base) == {"a": "new"}


@pytest.mark.parametrize("buckets", [2, 10, 1000])
def test_hash_buckets_match_duckdb(shared: Engine, duck: DuckDBEngine, buckets: int):
    values = ["a@x.com", "profile-42", "", "Ünïcödé", "0"]
    column = exp.column("v")
    source = exp.values([(text(v),) for v in values], alias="t", columns=["v"])
    query = exp.select("v", exp.alias_(shared.hash_bucket(column, buckets), "b")).from_(source)
    on_spark = dict(shared.fetch_all(query))
    duck_query = exp.select("v", exp.alias_(duck.hash_bucket(column, buckets), "b")).from_(source)
    # By definition: the first 8 hex digits of the MD5, as an unsigned number, modulo buckets.
    by_hand = {v: int(hashlib.md5(v.encode()).hexdigest()[:8], 16) % buckets for v in values}
    assert on_spark == dict(duck.fetch_all(duck_query)) == by_hand


# -- results, tables, types ---------------------------------------------------------------------


def test_results_have_duckdb_types(engine: Any, duck: DuckDBEngine):
    for e in (engine, duck):
        e.create_table(ORDERS)
        e.execute(
            "INSERT INTO orders (order_id, email, ordered_at, total) "
            "VALUES ('1', 'a@x.com', TIMESTAMP '2024-01-01 10:30:00', 10.5)"
        )
    query = "SELECT order_id, ordered_at, total, CAST(ordered_at AS DATE) AS day FROM orders"
    assert engine.fetch_arrow(query).schema == duck.fetch_arrow(query).schema
    assert engine.fetch_all(query) == [
        ("1", dt.datetime(2024, 1, 1, 10, 30), Decimal("10.5"), dt.date(2024, 1, 1))
    ]
    counted = engine.fetch_arrow("SELECT count(*) AS n, max(length(order_id)) AS l FROM orders")
    assert counted.schema.types == [pa.int64(), pa.int64()]
    # DuckDB's EPOCH keeps the fraction of a second.
    assert (
        value_of(
            engine, sqlglot.parse_one("EPOCH(TIMESTAMP '1970-01-01 00:00:01.5')", read="duckdb")
        )
        == 1.5
    )
    duck.execute("DROP TABLE orders")


def test_division_and_averages_are_doubles_as_on_duckdb(shared: Engine, duck: DuckDBEngine):
    query = (
        "SELECT 7 / 2, 1.0 / 3, CAST(1 AS DECIMAL(18, 4)) / 3, 7 // 2, "
        "(SELECT avg(x) FROM (VALUES (1.0), (1.0), (0.0)) AS t(x))"
    )
    expected = (3.5, 1 / 3, 1 / 3, 3, 2 / 3)
    assert shared.fetch_one(query) == duck.fetch_one(query) == expected
    assert shared.fetch_arrow(query).schema.types[:3] == [pa.float64()] * 3
    # Rewrites reach inside each other: EPOCH keeps its fraction inside a division.
    epochs = (
        "SELECT (EPOCH(TIMESTAMP '2024-01-01 00:01:17.32') - EPOCH(TIMESTAMP '2024-01-01')) / 60"
    )
    # (as doubles: seconds since 1970, subtracted, then divided)
    by_hand = ((1_704_067_277.32 - 1_704_067_200.0) / 60,)
    assert shared.fetch_one(epochs) == duck.fetch_one(epochs) == by_hand
    # DuckDB divides by zero as IEEE doubles (inf); Spark cannot, and gives NULL, not an error.
    assert shared.fetch_one("SELECT 1 / 0") == (None,)


def test_fetch_batches_stream_in_order(engine: Any, warehouse: Path):
    engine.execute("CREATE TABLE n (id BIGINT)")
    engine.load_arrow("n", pa.table({"id": list(range(25))}))
    batches = list(
        engine.fetch_batches("SELECT id, id * 2 AS twice FROM n ORDER BY id", batch_size=10)
    )
    assert [b.num_rows for b in batches] == [10, 10, 5]
    table = pa.Table.from_batches(batches)
    assert table.column("twice").to_pylist() == [2 * i for i in range(25)]
    assert table.schema.types == [pa.int64(), pa.int64()]
    # The result's own files are gone once it has been read.
    assert not list((warehouse / engine.database / "_scratch").rglob("_result_*"))


def test_fetch_batches_outlive_changes_made_while_reading(engine: Any):
    engine.execute("CREATE TABLE n (id BIGINT)")
    engine.load_arrow("n", pa.table({"id": list(range(25))}))
    # A repeated column name streams the result row by row, read as the caller goes.
    reading = engine.fetch_batches("SELECT id, id FROM n ORDER BY id", batch_size=10)
    first = next(reading)
    engine.execute("DELETE FROM n WHERE id < 20")
    rest = list(reading)
    assert [b.num_rows for b in [first, *rest]] == [10, 10, 5]
    assert pa.Table.from_batches([first, *rest]).column(1).to_pylist() == list(range(25))
    assert rows(engine, "SELECT count(*) FROM n") == [(5,)]


def test_load_arrow_matches_columns_by_name(engine: Any):
    engine.create_table(ORDERS)
    zoned = pa.array([dt.datetime(2024, 1, 1, 12)], type=pa.timestamp("us", tz="Europe/Paris"))
    engine.load_arrow(
        "orders",
        pa.table({"total": pa.array([Decimal("5.25")]), "ordered_at": zoned, "order_id": ["9"]}),
    )
    assert rows(engine, "SELECT order_id, ordered_at, total, email FROM orders") == [
        ("9", dt.datetime(2024, 1, 1, 12), Decimal("5.25"), None)
    ]
    with pytest.raises(ValueError, match="no column"):
        engine.load_arrow("orders", pa.table({"nope": [1]}))


def test_load_parquet_refuses_unknown_columns(engine: Any, tmp_path: Path):
    # Loading itself is in the engine contract (tests/engines/test_contract.py).
    path = tmp_path / "orders.parquet"
    engine.create_table(ORDERS)
    engine.load_arrow("orders", pa.table({"order_id": ["1", "2"]}))
    pq.write_table(pa.table({"nope": [1]}), path)
    with pytest.raises(ValueError, match="no column nope"):
        engine.load_parquet("orders", path)
    assert engine.count_rows("orders") == 2


def test_create_table_if_not_exists_and_duplicates(engine: Any):
    engine.execute("CREATE TABLE t (a BIGINT)")
    engine.execute("INSERT INTO t VALUES (1)")
    engine.execute("CREATE TABLE IF NOT EXISTS t (a BIGINT, b VARCHAR)")
    assert engine.table_columns("t") == ["a"]
    assert rows(engine, "SELECT a FROM t") == [(1,)]
    with pytest.raises(ValueError, match="already exists"):
        engine.execute("CREATE TABLE t (a BIGINT)")
    with pytest.raises(ValueError, match="gives 2 values for 1 columns"):
        engine.execute("INSERT INTO t VALUES (1, 2)")
    with pytest.raises(ValueError, match="does not exist"):
        engine.execute("DELETE FROM missing WHERE TRUE")
    # Repeated names are made unique as DuckDB makes them.
    engine.execute("CREATE TABLE twice AS SELECT 1 AS a, 2 AS a, NULL AS n")
    assert engine.table_columns("twice") == ["a", "a_1", "n"]


def test_information_schema_tables_lists_the_tables(engine: Any):
    query = (
        "SELECT table_name, table_type FROM information_schema.tables "
        "WHERE table_name IN ('t', 'scratch', 'nowhere') ORDER BY 1"
    )
    assert rows(engine, query) == []
    engine.execute("CREATE TABLE t (a BIGINT)")
    engine.execute("CREATE TEMPORARY TABLE scratch (a BIGINT)")
    assert rows(engine, query) == [("scratch", "LOCAL TEMPORARY"), ("t", "BASE TABLE")]


def test_statements_with_leading_ctes(engine: Any):
    engine.execute("CREATE TABLE t (a BIGINT)")
    engine.execute("WITH x AS (SELECT 1 AS a UNION ALL SELECT 2) INSERT INTO t SELECT a FROM x")
    engine.execute("INSERT INTO t WITH y AS (SELECT 3 AS a) SELECT a FROM y")
    engine.execute("WITH gone AS (SELECT 2 AS a) DELETE FROM t WHERE a IN (SELECT a FROM gone)")
    engine.execute("WITH ten AS (SELECT 10 AS d) UPDATE t SET a = a * (SELECT d FROM ten)")
    assert rows(engine, "SELECT a FROM t ORDER BY a") == [(10,), (30,)]


# -- emulated statements ------------------------------------------------------------------------


def _people(engine: Any) -> None:
    engine.execute("CREATE TABLE p (id BIGINT, name VARCHAR, score BIGINT, PRIMARY KEY (id))")
    engine.execute(
        "INSERT INTO p VALUES (1, 'ann', 10), (2, 'bob', NULL), (3, 'cy', 30), (4, NULL, 40)"
    )


def test_delete_keeps_rows_whose_condition_is_null(engine: Any):
    _people(engine)
    # Bob's score is NULL: "score > 20" is NULL for him, so he stays.
    engine.execute("DELETE FROM p WHERE score > 20")
    assert rows(engine, "SELECT id FROM p ORDER BY id") == [(1,), (2,)]


def test_delete_with_exists_and_in_subqueries(engine: Any):
    _people(engine)
    engine.execute("CREATE TABLE gone (id BIGINT)")
    engine.execute("INSERT INTO gone VALUES (1), (NULL)")
    engine.execute("DELETE FROM p AS x WHERE EXISTS (SELECT 1 FROM gone AS g WHERE g.id = x.id)")
    assert rows(engine, "SELECT id FROM p ORDER BY id") == [(2,), (3,), (4,)]
    # "id NOT IN (1, NULL)" is NULL for every row: nothing is deleted.
    engine.execute("DELETE FROM p WHERE id NOT IN (SELECT id FROM gone)")
    assert rows(engine, "SELECT id FROM p ORDER BY id") == [(2,), (3,), (4,)]
    engine.execute("DELETE FROM p WHERE id IN (SELECT id + 2 FROM gone)")
    assert rows(engine, "SELECT id FROM p ORDER BY id") == [(2,), (4,)]
    engine.execute("DELETE FROM p")
    assert engine.count_rows("p") == 0


def test_update_sets_only_rows_whose_condition_holds(engine: Any):
    _people(engine)
    engine.execute("UPDATE p SET score = score + 1, name = upper(name) WHERE score >= 30")
    assert rows(engine, "SELECT id, name, score FROM p ORDER BY id") == [
        (1, "ann", 10),
        (2, "bob", None),
        (3, "CY", 31),
        (4, None, 41),
    ]
    engine.execute("CREATE TABLE vip (id BIGINT)")
    engine.execute("INSERT INTO vip VALUES (2)")
    engine.execute("UPDATE p SET score = 0 WHERE id IN (SELECT id FROM vip) OR id = 1")
    assert rows(engine, "SELECT id, score FROM p ORDER BY id") == [(1, 0), (2, 0), (3, 31), (4, 41)]


def test_update_from_joins_the_source(engine: Any):
    _people(engine)
    engine.execute("CREATE TABLE s (id BIGINT, new_score BIGINT, new_name VARCHAR)")
    engine.execute("INSERT INTO s VALUES (1, 11, 'ANN'), (2, 22, NULL), (3, 5, 'CY'), (9, 99, 'x')")
    # As PostgreSQL and DuckDB write it: the target named by its table name.
    engine.execute(
        "UPDATE p SET score = s.new_score, name = coalesce(s.new_name, p.name) "
        "FROM s WHERE p.id = s.id AND s.new_score > 10"
    )
    assert rows(engine, "SELECT id, name, score FROM p ORDER BY id") == [
        (1, "ANN", 11),
        (2, "bob", 22),
        (3, "cy", 30),
        (4, None, 40),
    ]
    # A subquery source with an alias, reading the target itself, with a CTE nested inside.
    engine.execute(
        "UPDATE p SET score = m.top FROM (SELECT top FROM "
        "(WITH t AS (SELECT max(score) AS top FROM p) SELECT top FROM t) AS x) AS m "
        "WHERE p.name IS NULL"
    )
    assert rows(engine, "SELECT id, score FROM p ORDER BY id") == [
        (1, 11),
        (2, 22),
        (3, 30),
        (4, 40),
    ]


def test_upsert_do_update_and_do_nothing(engine: Any):
    _people(engine)
    engine.execute(
        "INSERT INTO p (id, name, score) VALUES (1, 'ANN', 11), (5, 'eve', 50) "
        "ON CONFLICT (id) DO UPDATE SET name = excluded.name, score = excluded.score + p.score"
    )
    assert rows(engine, "SELECT id, name, score FROM p ORDER BY id") == [
        (1, "ANN", 21),
        (2, "bob", None),
        (3, "cy", 30),
        (4, None, 40),
        (5, "eve", 50),
    ]
    engine.execute(
        "INSERT INTO p (id, name) VALUES (2, 'BOB'), (6, 'fay') ON CONFLICT (id) DO NOTHING"
    )
    assert rows(engine, "SELECT id, name, score FROM p WHERE id IN (2, 6) ORDER BY id") == [
        (2, "bob", None),
        (6, "fay", None),
    ]
    # Without a conflict target the table's primary key is the key.
    engine.execute("INSERT INTO p VALUES (3, 'x', 0), (7, 'gus', 70) ON CONFLICT DO NOTHING")
    assert rows(engine, "SELECT id, name FROM p WHERE id IN (3, 7) ORDER BY id") == [
        (3, "cy"),
        (7, "gus"),
    ]
    assert engine.count_rows("p") == 7


def test_upsert_as_the_core_builds_it(engine: Any):
    _people(engine)
    statement = exp.Insert(
        this=exp.Schema(
            this=exp.to_table("p"),
            expressions=[exp.to_identifier(c, quoted=True) for c in ("id", "name", "score")],
        ),
        expression=sqlglot.parse_one("SELECT 4 AS id, 'dan' AS name, 44 AS score"),
    )
    statement.set(
        "conflict",
        exp.OnConflict(
            conflict_keys=[exp.to_identifier("id", quoted=True)],
            action=exp.var("DO UPDATE"),
            expressions=[
                exp.EQ(
                    this=exp.column(c, quoted=True),
                    expression=exp.column(c, table="excluded", quoted=True),
                )
                for c in ("name", "score")
            ],
        ),
    )
    engine.execute(statement)
    assert rows(engine, "SELECT id, name, score FROM p WHERE id = 4") == [(4, "dan", 44)]
    assert engine.count_rows("p") == 4


def test_alter_table_rename_and_add_column(engine: Any):
    _people(engine)
    engine.execute("ALTER TABLE p RENAME TO people")
    assert not engine.table_exists("p")
    assert engine.count_rows("people") == 4
    with pytest.raises(Exception, match=r"(?i)cannot be found|not found|does not exist"):
        engine.fetch_all("SELECT * FROM p")
    engine.execute("ALTER TABLE people ADD COLUMN joined DATE")
    engine.execute("ALTER TABLE people ADD COLUMN tier VARCHAR DEFAULT 'basic'")
    assert rows(engine, "SELECT id, joined, tier FROM people WHERE id = 1") == [(1, None, "basic")]
    engine.execute("CREATE TABLE other (a BIGINT)")
    with pytest.raises(ValueError, match="already exists"):
        engine.execute("ALTER TABLE people RENAME TO other")


def test_temporary_tables_are_materialized_and_dropped_on_close(engine: Any, warehouse: Path):
    from segmint.engines.spark import SparkEngine

    _people(engine)
    engine.execute("CREATE TEMPORARY TABLE top AS SELECT id FROM p WHERE score >= 30")
    engine.execute("DELETE FROM p")
    # Materialized: the rows it had when created, not a view over p.
    assert rows(engine, "SELECT id FROM top ORDER BY id") == [(3,), (4,)]
    scratch = warehouse / engine.database / "_scratch"
    assert any(scratch.iterdir())
    database = engine.database
    engine.close()
    assert not any(scratch.iterdir())
    again = SparkEngine(warehouse, database=database)
    try:
        assert again.table_exists("p")
        assert not again.table_exists("top")
    finally:
        again.close()


def test_a_temporary_table_hides_a_table_of_the_same_name(engine: Any):
    _people(engine)
    engine.execute("CREATE TEMPORARY TABLE p AS SELECT 99 AS id")
    assert rows(engine, "SELECT id FROM p") == [(99,)]
    engine.execute("DROP TABLE p")
    assert engine.count_rows("p") == 4


def test_failed_transaction_leaves_previous_state(engine: Any, warehouse: Path):
    engine.create_table(ORDERS)
    engine.execute(
        "INSERT INTO orders (order_id, email, ordered_at, total) "
        "VALUES ('1', 'a@x.com', TIMESTAMP '2024-01-01', 10)"
    )
    _people(engine)
    tables = warehouse / engine.database / "tables"
    files_before = sorted(p.relative_to(tables) for p in tables.rglob("*.parquet"))
    with pytest.raises(RuntimeError), engine.transaction():
        engine.execute("DELETE FROM orders")
        engine.execute("UPDATE p SET score = 0")
        engine.execute("CREATE TABLE fresh AS SELECT 1 AS one")
        engine.execute("DROP TABLE p")
        with engine.transaction():  # nested: the outer transaction decides
            engine.execute("INSERT INTO orders (order_id) VALUES ('2')")
        raise RuntimeError("boom")
    assert engine.count_rows("orders") == 1
    assert rows(engine, "SELECT id, score FROM p ORDER BY id") == [
        (1, 10),
        (2, None),
        (3, 30),
        (4, 40),
    ]
    assert not engine.table_exists("fresh")
    # What the transaction wrote is gone; what it replaced is still there.
    assert sorted(p.relative_to(tables) for p in tables.rglob("*.parquet")) == files_before


def test_committed_transaction_deletes_replaced_segments(engine: Any, warehouse: Path):
    _people(engine)
    with engine.transaction():
        engine.execute("DELETE FROM p WHERE id = 1")
        engine.execute("UPDATE p SET score = 1 WHERE id = 2")
    assert rows(engine, "SELECT id, score FROM p ORDER BY id") == [(2, 1), (3, 30), (4, 40)]
    segments = [d for d in (warehouse / engine.database / "tables" / "p").iterdir() if d.is_dir()]
    assert len(segments) == 1


def test_many_appends_are_compacted(engine: Any, warehouse: Path, monkeypatch: pytest.MonkeyPatch):
    import segmint.engines.spark as spark_engine

    monkeypatch.setattr(spark_engine, "_MAX_SEGMENTS", 3)
    engine.execute("CREATE TABLE t (a BIGINT)")
    for i in range(5):
        engine.execute(f"INSERT INTO t VALUES ({i})")
    assert rows(engine, "SELECT a FROM t ORDER BY a") == [(i,) for i in range(5)]
    # The fourth append compacted four segments into one; the fifth added one more.
    folders = [d for d in (warehouse / engine.database / "tables" / "t").iterdir() if d.is_dir()]
    assert len(folders) == 2


def test_a_failing_statement_changes_nothing(engine: Any):
    _people(engine)
    with pytest.raises(Exception, match=r"(?i)cast|invalid|malformed"):
        engine.execute("UPDATE p SET score = CAST(name AS BIGINT) WHERE id = 1")
    assert rows(engine, "SELECT id, score FROM p WHERE id = 1") == [(1, 10)]


@pytest.mark.parametrize("as_url", [False, True])
def test_tables_persist_across_engines(spark_ready: None, tmp_path: Path, as_url: bool):
    from segmint.engines.spark import SparkEngine

    # A URL warehouse goes through Hadoop's file systems, as hdfs:// or s3a:// would.
    location: Path | str = tmp_path.as_uri() if as_url else tmp_path
    first = SparkEngine(location, database="store")
    try:
        first.create_table(ORDERS)
        first.execute("INSERT INTO orders (order_id, total) VALUES ('1', 10), ('2', 20)")
        first.execute("DELETE FROM orders WHERE order_id = '1'")
        first.execute("CREATE TABLE kept AS SELECT 'k' AS v")
        first.execute("CREATE TEMPORARY TABLE scratch AS SELECT 1 AS x")
        with pytest.raises(RuntimeError), first.transaction():
            first.execute("DROP TABLE kept")
            raise RuntimeError("rolled back")
    finally:
        first.close()
    second = SparkEngine(location, database="store")
    other = SparkEngine(location, database="elsewhere")
    try:
        assert rows(second, "SELECT order_id, total FROM orders") == [("2", Decimal("20"))]
        assert rows(second, "SELECT v FROM kept") == [("k",)]
        assert not second.table_exists("scratch")
        assert not other.table_exists("orders")
    finally:
        second.close()
        other.close()


# -- staging files ------------------------------------------------------------------------------


def test_csv_staging_through_a_transform_keeps_the_ordinal(engine: Any, tmp_path: Path):
    path = tmp_path / "t.csv"
    path.write_text("id;amount\n1;2.5\n2;x\n", encoding="utf-8")

    def transform(fields: list[str]) -> exp.Select:
        assert fields == ["id", "amount"]
        amount = engine.try_cast(exp.column("amount", table="f"), ColumnType.MONEY)
        return exp.select(exp.column("id", table="f"), exp.alias_(amount, "amount")).from_(
            exp.to_table(FILE_SOURCE).as_("f")
        )

    staged = engine.stage_file(path, "csv", delimiter=";", transform=transform)
    assert staged.rows == 2
    assert engine.fetch_all(f"SELECT id, amount, _ordinal FROM {staged.table} ORDER BY 3") == [
        ("1", Decimal("2.5"), 1),
        ("2", None, 2),
    ]
    assert not engine.table_exists(f"{staged.table}_text")

    def refuse(fields: list[str]) -> exp.Select:
        raise ValueError("no id column")

    with pytest.raises(ValueError, match="no id column"):
        engine.stage_file(path, "csv", delimiter=";", transform=refuse)
    assert [r[0] for r in rows(engine, "SELECT table_name FROM information_schema.tables")] == [
        staged.table
    ]
