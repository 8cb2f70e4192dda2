"""The engine contract: file staging, parsing rules, keys and transactions, on every engine.

Each case runs on the embedded DuckDB, on PostgreSQL and on Spark (which skip locally without
a server or Java and must run in CI). Spark's own test module adds the statements it emulates
and its parsing cases, held to DuckDB's results.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from sqlglot import exp

from segmint.engines.base import Engine
from segmint.engines.duckdb import DuckDBEngine
from segmint.model.tables import ORDERS, ColumnType


@pytest.fixture(params=["duckdb", "postgres", "spark"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "duckdb":
        yield DuckDBEngine()
        return
    if request.param == "spark":
        from segmint.engines.spark import SparkEngine

        request.getfixturevalue("spark_ready")
        spark = SparkEngine(tmp_path / "spark-warehouse")
        try:
            yield spark
        finally:
            spark.close()
        return
    from segmint.engines.postgres import PostgresEngine

    url = request.getfixturevalue("postgres_url")
    schema = f"segmint_contract_{uuid.uuid4().hex[:8]}"
    engine = PostgresEngine(url, schema=schema)
    try:
        yield engine
    finally:
        engine.execute(f'DROP SCHEMA "{schema}" CASCADE')
        engine.close()


def parsed(engine: Engine, text: str | None, column_type: ColumnType) -> object:
    value = exp.Literal.string(text) if text is not None else exp.Null()
    return engine.fetch_value(exp.select(engine.try_cast(value, column_type)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Shopify writes offsets without a colon; 10:00 at -05:00 is 15:00 UTC.
        ("2024-03-01 10:00:00 -0500", dt.datetime(2024, 3, 1, 15, 0)),
        ("2024-03-01 10:00:00+05:30", dt.datetime(2024, 3, 1, 4, 30)),
        ("2024-03-01T10:00:00Z", dt.datetime(2024, 3, 1, 10, 0)),
        ("2024-03-01T23:30:00-02:00", dt.datetime(2024, 3, 2, 1, 30)),
        ("2024-03-01", dt.datetime(2024, 3, 1, 0, 0)),
        ("  2024-03-01 10:00  ", dt.datetime(2024, 3, 1, 10, 0)),
        ("2024-02-30", None),
        ("yesterday", None),
        ("", None),
    ],
)
def test_timestamps_are_converted_to_utc(engine: Engine, text: str, expected: object):
    assert parsed(engine, text, ColumnType.TIMESTAMP) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
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
def test_booleans(engine: Engine, text: str, expected: object):
    assert parsed(engine, text, ColumnType.BOOLEAN) is expected


def test_money_is_exact(engine: Engine):
    assert parsed(engine, "0.1", ColumnType.MONEY) + parsed(engine, "0.2", ColumnType.MONEY) == (
        Decimal("0.3")
    )
    assert parsed(engine, "12.50 EUR", ColumnType.MONEY) is None
    assert parsed(engine, "7", ColumnType.INTEGER) == 7
    assert (
        parsed(engine, "7.5", ColumnType.INTEGER) is None
        or parsed(engine, "7.5", ColumnType.INTEGER) != 7.5
    )


def test_csv_staging_keeps_unsplittable_rows_with_their_row_numbers(engine: Engine, tmp_path: Path):
    path = tmp_path / "t.csv"
    path.write_text("id,name\n1,a\n2,b,extra\n3,c\n4,d,more,fields\n5,e\n", encoding="utf-8")
    staged = engine.stage_file(path, "csv")
    assert staged.fields == ["id", "name"]
    assert staged.rows == 3
    assert [(r.row_number, r.raw) for r in staged.rejects] == [
        (2, "2,b,extra"),
        (4, "4,d,more,fields"),
    ]
    rows = engine.fetch_all(f'SELECT id, _ordinal FROM "{staged.table}" ORDER BY _ordinal')
    # Staged ordinals 1, 2, 3 are data rows 1, 3 and 5 of the file.
    assert [(row_id, staged.row_number(o)) for row_id, o in rows] == [("1", 1), ("3", 3), ("5", 5)]


def test_jsonl_staging_extracts_fields_and_keeps_bad_lines(engine: Engine, tmp_path: Path):
    path = tmp_path / "e.jsonl"
    path.write_text(
        '{"messageId": "m1", "properties": {"price": 3}, "userId": "u1"}\n'
        "this is not json\n"
        "\n"
        '{"messageId": "m2", "userId": null}\n'
        "[1, 2]\n",
        encoding="utf-8",
    )
    staged = engine.stage_file(path, "jsonl", fields=["messageId", "properties", "userId"])
    assert [(r.row_number, r.reason) for r in staged.rejects] == [
        (2, "not a JSON object"),
        (5, "not a JSON object"),
    ]
    rows = engine.fetch_all(
        f'SELECT "messageId", properties, "userId", _ordinal FROM "{staged.table}" ORDER BY 4'
    )
    assert rows == [("m1", '{"price":3}', "u1", 1), ("m2", None, None, 4)]


def test_parquet_staging_renders_nested_values_as_json(engine: Engine, tmp_path: Path):
    import pyarrow.parquet as pq

    path = tmp_path / "p.parquet"
    pq.write_table(
        pa.table({"id": [1, 2], "props": [{"a": 1}, {"a": 2}], "ts": ["2024-01-01", None]}), path
    )
    staged = engine.stage_file(path, "parquet")
    rows = engine.fetch_all(f'SELECT id, props, ts, _ordinal FROM "{staged.table}" ORDER BY 4')
    assert rows == [("1", '{"a":1}', "2024-01-01", 1), ("2", '{"a":2}', None, 2)]
    assert staged.fields == ["id", "props", "ts"]
    assert staged.rows == 2


def test_failed_transaction_leaves_previous_state(engine: Engine):
    engine.create_table(ORDERS)
    engine.execute(
        "INSERT INTO orders (order_id, email, ordered_at, total) "
        "VALUES ('1', 'a@x.com', TIMESTAMP '2024-01-01', 10)"
    )
    with pytest.raises(RuntimeError), engine.transaction():
        engine.execute("DELETE FROM orders")
        raise RuntimeError("boom")
    assert engine.count_rows("orders") == 1


def test_load_parquet_appends_columns_by_name(engine: Engine, tmp_path: Path):
    import pyarrow.parquet as pq

    path = tmp_path / "orders.parquet"
    # Out of the table's order and without most of its columns; DuckDB writes naive times.
    pq.write_table(
        pa.table({
            "total": pa.array([Decimal("5.25"), Decimal("0.10")], type=pa.decimal128(18, 2)),
            "ordered_at": pa.array(
                [dt.datetime(2024, 1, 1, 12), dt.datetime(2024, 2, 29, 23, 59)],
                type=pa.timestamp("us"),
            ),
            "order_id": ["9", "10"],
        }),
        path,
    )
    engine.create_table(ORDERS)
    already = pa.table({"order_id": ["1"], "ordered_at": [dt.datetime(2023, 5, 1)]})
    engine.load_arrow("orders", already)  # rows already there stay
    engine.load_parquet("orders", path)
    assert sorted(engine.fetch_all("SELECT order_id, ordered_at, total, email FROM orders")) == [
        ("1", dt.datetime(2023, 5, 1), None, None),
        ("10", dt.datetime(2024, 2, 29, 23, 59), Decimal("0.10"), None),
        ("9", dt.datetime(2024, 1, 1, 12), Decimal("5.25"), None),
    ]


def test_create_table_has_the_natural_key(engine: Engine):
    if engine.name == "spark":
        pytest.skip(
            "Spark's parquet tables enforce no key: the core keeps keys unique with upserts, "
            "which the Spark engine rewrites (tests/engines/test_spark.py, upserts)"
        )
    engine.create_table(ORDERS)
    engine.execute(
        "INSERT INTO orders (order_id, ordered_at, total) VALUES ('1', TIMESTAMP '2024-01-01', 1)"
    )
    with pytest.raises(Exception, match=r"(?i)constraint|duplicate"):
        engine.execute(
            "INSERT INTO orders (order_id, ordered_at, total) "
            "VALUES ('1', TIMESTAMP '2024-01-02', 2)"
        )


def test_hash_bucket_is_the_first_32_bits_of_the_md5(engine: Engine):
    # md5('abc') = 900150983cd24fb0... (RFC 1321's test suite): 0x90015098 = 2416005272,
    # so bucket 72 of 100 and 2 of 7.
    abc = exp.Literal.string("abc")
    assert engine.fetch_value(exp.select(engine.hash_bucket(abc, 100))) == 72
    assert engine.fetch_value(exp.select(engine.hash_bucket(abc.copy(), 7))) == 2


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ('{"plan": "gold", "n": 3}', "gold"),
        ('{"n": 3}', None),
        ("not json", None),
        ("[1, 2]", None),
        (None, None),
    ],
)
def test_json_text_never_fails_on_bad_documents(engine: Engine, document, expected):
    value = exp.Literal.string(document) if document is not None else exp.Null()
    assert engine.fetch_value(exp.select(engine.json_text(value, "plan"))) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [('{"a": 1}', True), ("[1]", False), ('"x"', False), ("{broken", False), ("", False)],
)
def test_is_json_object(engine: Engine, text: str, expected: bool):
    assert engine.fetch_value(exp.select(engine.is_json_object(exp.Literal.string(text)))) is (
        expected
    )


def test_json_object_skips_nulls_and_merges_over_a_base(engine: Engine):
    import json

    pairs = [
        ("plan", exp.Literal.string("gold")),
        ("age", exp.Null()),
        ("n", exp.Literal.number(2)),
    ]
    plain = engine.fetch_value(exp.select(engine.json_object(pairs)))
    assert json.loads(plain) == {"plan": "gold", "age": None, "n": 2}
    skipped = engine.fetch_value(exp.select(engine.json_object(pairs, skip_nulls=True)))
    assert json.loads(skipped) == {"plan": "gold", "n": 2}
    base = exp.Literal.string('{"plan": "free", "age": 40, "city": "Oslo"}')
    merged = engine.fetch_value(exp.select(engine.json_object(pairs, skip_nulls=True, base=base)))
    # The pairs win; a NULL pair never deletes a key of the base.
    assert json.loads(merged) == {"plan": "gold", "age": 40, "city": "Oslo", "n": 2}


@pytest.mark.parametrize(
    ("text", "fmt", "zone", "expected"),
    [
        ("31/12/2023 19:05", "%d/%m/%Y %H:%M", None, dt.datetime(2023, 12, 31, 19, 5)),
        # 19:05 in New York in winter (UTC-5) is 00:05 UTC the next day.
        ("31/12/2023 19:05", "%d/%m/%Y %H:%M", "America/New_York", dt.datetime(2024, 1, 1, 0, 5)),
        ("2023-07-01 12:00", None, "Europe/Berlin", dt.datetime(2023, 7, 1, 10, 0)),
        # A written offset wins over the zone.
        ("2023-07-01 12:00:00+00:00", None, "Europe/Berlin", dt.datetime(2023, 7, 1, 12, 0)),
        ("31/12/2023", "%d/%m/%Y %H:%M", None, None),
        ("garbage", None, "Europe/Berlin", None),
        # An unpadded day and the %T shorthand (%H:%M:%S), as DuckDB's strptime reads them.
        ("5/3/2024 10:00:07", "%-d/%m/%Y %T", None, dt.datetime(2024, 3, 5, 10, 0, 7)),
    ],
)
def test_try_parse_time(engine: Engine, text: str, fmt, zone, expected):
    parsed_time = engine.try_parse_time(
        exp.Literal.string(text), ColumnType.TIMESTAMP, format=fmt, timezone=zone
    )
    assert engine.fetch_value(exp.select(parsed_time)) == expected


def test_strptime_tokens():
    from segmint.engines.base import strptime_tokens

    d, lit = "directive", "literal"
    assert strptime_tokens("%-d.%m %T%%") == [
        (d, "d"), (lit, "."), (d, "m"), (lit, " "),
        (d, "H"), (lit, ":"), (d, "M"), (lit, ":"), (d, "S"), (lit, "%"),
    ]  # fmt: skip
    assert strptime_tokens("at %q") == [(lit, "a"), (lit, "t"), (lit, " "), (d, "q")]
