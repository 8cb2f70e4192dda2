"""The engine methods the importers added: time parsing with formats and zones, JSON, staging
through a transform. (DuckDB engine; other engines will run the same cases.)"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlglot import exp

from segmint.engines.base import FILE_SOURCE
from segmint.engines.duckdb import DuckDBEngine
from segmint.model.tables import ColumnType

from .conftest import write


@pytest.fixture
def engine() -> DuckDBEngine:
    return DuckDBEngine()


def value(engine: DuckDBEngine, expression: exp.Expr) -> object:
    return engine.fetch_value(exp.select(expression))


def text(s: str | None) -> exp.Expr:
    return exp.Literal.string(s) if s is not None else exp.Null()


@pytest.mark.parametrize(
    ("raw", "fmt", "zone", "expected"),
    [
        ("2024-03-01 10:00:00 -0500", None, None, dt.datetime(2024, 3, 1, 15, 0)),
        ("2024-03-01 10:00:00 +0530", None, None, dt.datetime(2024, 3, 1, 4, 30)),
        ("2024-03-01 10:00:00", None, None, dt.datetime(2024, 3, 1, 10, 0)),
        # A naive time is read in the zone; a written offset wins over it.
        ("2024-03-01 10:00:00", None, "Europe/Paris", dt.datetime(2024, 3, 1, 9, 0)),
        ("2024-07-01 10:00:00", None, "Europe/Paris", dt.datetime(2024, 7, 1, 8, 0)),
        ("2024-03-01T10:00:00Z", None, "Europe/Paris", dt.datetime(2024, 3, 1, 10, 0)),
        ("2024-03-01 10:00:00 -0500", None, "Europe/Paris", dt.datetime(2024, 3, 1, 15, 0)),
        ("01/03/2024 10:00", "%d/%m/%Y %H:%M", None, dt.datetime(2024, 3, 1, 10, 0)),
        ("01/03/2024 10:00", "%d/%m/%Y %H:%M", "America/New_York", dt.datetime(2024, 3, 1, 15, 0)),
        ("01/03/2024 10:00 +0200", "%d/%m/%Y %H:%M %z", None, dt.datetime(2024, 3, 1, 8, 0)),
        ("  2024-03-01 10:00  ", None, None, dt.datetime(2024, 3, 1, 10, 0)),
        ("2024-02-30 10:00:00", None, None, None),
        ("31/02/2024 10:00", "%d/%m/%Y %H:%M", None, None),
        ("", None, None, None),
    ],
)
def test_try_parse_time(
    engine: DuckDBEngine, raw: str, fmt: str | None, zone: str | None, expected: object
):
    parsed = engine.try_parse_time(text(raw), ColumnType.TIMESTAMP, format=fmt, timezone=zone)
    assert value(engine, parsed) == expected


def test_try_parse_date(engine: DuckDBEngine):
    assert value(
        engine, engine.try_parse_time(text("17.05.1990"), ColumnType.DATE, format="%d.%m.%Y")
    ) == (dt.date(1990, 5, 17))
    assert value(engine, engine.try_parse_time(text("1990-05-17"), ColumnType.DATE)) == dt.date(
        1990, 5, 17
    )
    assert value(engine, engine.try_parse_time(text("1990-02-30"), ColumnType.DATE)) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [('{"a": 1}', True), ("{}", True), ("[1, 2]", False), ('"text"', False), ("{oops", False)],
)
def test_is_json_object(engine: DuckDBEngine, raw: str, expected: bool):
    assert value(engine, engine.is_json_object(text(raw))) is expected


def test_json_object_skips_nulls_and_merges_over_a_base(engine: DuckDBEngine):
    pairs = [("tier", text("gold")), ("size", exp.Null())]
    assert json.loads(str(value(engine, engine.json_object(pairs)))) == {
        "tier": "gold",
        "size": None,
    }
    assert json.loads(str(value(engine, engine.json_object(pairs, skip_nulls=True)))) == {
        "tier": "gold"
    }
    assert value(engine, engine.json_object([("a", exp.Null())], skip_nulls=True)) == "{}"
    merged = engine.json_object(
        pairs, skip_nulls=True, base=text('{"tier": "silver", "vip": true}')
    )
    # The pair wins over the base; a NULL pair leaves the base's key alone.
    assert json.loads(str(value(engine, merged))) == {"tier": "gold", "vip": True}


def test_stage_file_through_a_transform(engine: DuckDBEngine, tmp_path: Path):
    path = write(tmp_path / "t.csv", "id,name\n1,a\n2,b,extra\n3,c\n")
    seen: list[list[str]] = []

    def transform(fields: list[str]) -> exp.Select:
        seen.append(fields)
        upper = exp.Upper(this=exp.column("name", table="s"))
        return exp.select(exp.alias_(upper, "shout")).from_(exp.to_table(FILE_SOURCE).as_("s"))

    staged = engine.stage_file(path, "csv", transform=transform)
    assert seen == [["id", "name"]]
    assert staged.fields == ["id", "name"]
    assert engine.fetch_all(f"SELECT _ordinal, shout FROM {staged.table} ORDER BY 1") == [
        (1, "A"),
        (2, "C"),
    ]
    assert [(r.row_number, r.raw) for r in staged.rejects] == [(2, "2,b,extra")]
    assert staged.row_number(2) == 3
