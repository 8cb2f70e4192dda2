"""JSON Lines (Segment-shaped events) and Parquet files."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from segmint import Workspace

from .conftest import DATA, quarantined, query, write

EVENTS = DATA / "segment_events.jsonl"


def test_segment_events_in_camel_and_snake_case(ws: Workspace):
    result = ws.import_file("events", EVENTS)

    # 10 lines, one blank: 9 rows read, 4 good.
    assert (result.format, result.rows_read, result.inserted, result.rejected) == (
        "jsonl", 9, 4, 5,
    )  # fmt: skip
    rows = query(
        ws,
        "SELECT message_id, type, event, anonymous_id, user_id, previous_id, timestamp, "
        "received_at FROM events ORDER BY 1",
    )
    assert rows == [
        ("m1", "track", "Product Viewed", "a1", None, None, dt.datetime(2024, 3, 1, 10, 0), None),
        ("m2", "identify", None, "a1", "C1", None, dt.datetime(2024, 3, 1, 9, 5),
         dt.datetime(2024, 3, 1, 9, 5, 1)),
        # A page call's name is kept as its event.
        ("m3", "page", "Home", "a2", None, None, dt.datetime(2024, 3, 1, 11, 0), None),
        # No timestamp: the SDK's originalTimestamp.
        ("m5", "alias", None, None, "C1", "a2", dt.datetime(2024, 3, 1, 13, 0), None),
    ]  # fmt: skip
    nested = dict(query(ws, "SELECT message_id, properties FROM events WHERE message_id = 'm1'"))
    assert json.loads(nested["m1"]) == {"product_id": "P1", "price": 19.99}
    traits = query(ws, "SELECT traits, context FROM events WHERE message_id = 'm2'")[0]
    assert json.loads(traits[0]) == {"email": "ann@example.com"} and traits[1] is None
    assert quarantined(ws, result.import_id) == {
        4: "not a JSON object",
        5: "anonymous_id or user_id: one of them is required",
        8: "type: 'jump' is not one of track, identify, page, screen, group, alias",
        9: "properties: 'oops' is not a JSON object",
        10: "message_id: missing; type: missing; timestamp: missing; "
        "anonymous_id or user_id: one of them is required; "
        "a batch payload: write one message per line",
    }
    raw = dict(query(ws, "SELECT row_number, raw FROM quarantine"))
    assert raw[4] == "this line is not JSON"


def test_resent_events_are_deduplicated_on_message_id(ws: Workspace, tmp_path: Path):
    line = (
        '{"type":"track","event":"Cart Viewed","messageId":"x1","userId":"C1","timestamp":"%s"}\n'
    )
    path = write(
        tmp_path / "e.ndjson", line % "2024-01-01T00:00:00Z" + line % "2024-01-02T00:00:00Z"
    )
    result = ws.import_file("events", path)
    assert quarantined(ws, result.import_id) == {1: "duplicate message_id x1: superseded by row 2"}
    assert query(ws, "SELECT timestamp FROM events") == [(dt.datetime(2024, 1, 2),)]


def test_parquet_products(ws: Workspace, tmp_path: Path):
    path = tmp_path / "products.parquet"
    pq.write_table(
        pa.table(
            {
                "product_id": ["P1", "P2", "P3"],
                "name": ["Mug", "Vase", None],
                "price": [9.5, -1.0, 12.25],
                "category": ["kitchen", "home", "home"],
                "tags": [["a"], [], ["b", "c"]],
            }
        ),
        path,
    )
    result = ws.import_file("products", path)
    assert result.format == "parquet"
    assert query(ws, "SELECT product_id, name, price, category FROM products ORDER BY 1") == [
        ("P1", "Mug", Decimal("9.5"), "kitchen"),
        ("P3", None, Decimal("12.25"), "home"),
    ]
    assert quarantined(ws, result.import_id) == {2: "price: must be at least 0, got -1.0"}


def test_parquet_events_with_nested_properties(ws: Workspace, tmp_path: Path):
    path = tmp_path / "events.parquet"
    pq.write_table(
        pa.table(
            {
                "messageId": ["p1"],
                "type": ["track"],
                "event": ["Product Added"],
                "userId": ["C9"],
                "timestamp": [dt.datetime(2024, 5, 1, 8, 0)],
                "properties": [{"sku": "MUG", "quantity": 2}],
            }
        ),
        path,
    )
    ws.import_file("events", path)
    row = query(ws, "SELECT message_id, user_id, timestamp, properties FROM events")[0]
    assert row[:3] == ("p1", "C9", dt.datetime(2024, 5, 1, 8, 0))
    assert json.loads(row[3]) == {"sku": "MUG", "quantity": 2}
