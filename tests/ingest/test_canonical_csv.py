"""Canonical CSV files (segmint's own column names): typing, rules, duplicates, extras."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

from segmint import Workspace
from segmint.ingest import ImportRequest, run_import

from .conftest import quarantined, query, write

ORDER_STATUSES = "completed, pending, refunded, partially_refunded, cancelled"


class Recorder:
    """A console that keeps warnings, to check what the user is told."""

    def __init__(self) -> None:
        self.warnings: list[str] = []

    def progress(self, description: str, total: int | None = None):  # type: ignore[no-untyped-def]
        from contextlib import nullcontext

        class _P:
            def advance(self, amount: int = 1) -> None:
                pass

        return nullcontext(_P())

    def info(self, message: str) -> None:
        pass

    def warn(self, message: str) -> None:
        self.warnings.append(message)


def test_orders_good_and_bad_rows(ws: Workspace, tmp_path: Path):
    path = write(
        tmp_path / "orders.csv",
        "order_id,customer_id,email,ordered_at,status,currency,subtotal,total,coupon_code\n"
        "1001,C1, Ann@Example.COM ,2024-03-01T10:00:00-05:00,Completed,USD,10.00,12.50,\n"
        "1002,C2,,2024-03-02,pending,USD,5,5.25,SAVE5\n"
        "1003,,,2024-03-03,completed,USD,1,1,\n"
        "1004,C4,d@example.com,2024-02-30,completed,USD,1,1.00,\n"
        "1005,C5,e@example.com,2024-03-05,completed,USD,1,12.5 EUR,\n"
        "1006,C6,f@example.com,2024-03-06,completed,USD,1,-3,\n"
        "1007,C7,g@example.com,2024-03-07,shipped,USD,1,1,\n"
        "1008,C8,h@example.com,2024-03-08,completed,USD,1,1,,extra\n",
    )
    result = ws.import_file("orders", path)

    assert (result.rows_read, result.inserted, result.updated, result.rejected) == (8, 2, 0, 6)
    assert result.format == "csv"
    assert query(ws, "SELECT * EXCLUDE (_loaded_at, _import_id) FROM orders ORDER BY 1") == [
        (
            "1001", "C1", "ann@example.com", dt.datetime(2024, 3, 1, 15, 0), "completed", "USD",
            Decimal("10"), None, None, None, Decimal("12.5"), None, None, None,
        ),
        (
            "1002", "C2", None, dt.datetime(2024, 3, 2), "pending", "USD",
            Decimal("5"), None, None, None, Decimal("5.25"), None, "SAVE5", None,
        ),
    ]  # fmt: skip
    reasons = quarantined(ws, result.import_id)
    assert reasons[3] == "customer_id or email: one of them is required"
    assert reasons[4] == "ordered_at: '2024-02-30' is not a date and time"
    assert reasons[5] == "total: '12.5 EUR' is not an amount"
    assert reasons[6] == "total: must be at least 0, got -3"
    assert reasons[7] == f"status: 'shipped' is not one of {ORDER_STATUSES}"
    assert reasons[8].startswith("wrong number of fields")
    assert set(reasons) == {3, 4, 5, 6, 7, 8}
    # The raw row is kept: as a JSON object of the header's fields, or the line itself.
    raw = dict(
        query(ws, f"SELECT row_number, raw FROM quarantine WHERE import_id = '{result.import_id}'")
    )
    assert json.loads(raw[5])["total"] == "12.5 EUR"
    assert raw[8] == "1008,C8,h@example.com,2024-03-08,completed,USD,1,1,,extra"
    # System columns say which run wrote each row.
    assert query(ws, "SELECT DISTINCT _import_id FROM orders") == [(result.import_id,)]


def test_several_problems_in_one_row_are_all_named(ws: Workspace, tmp_path: Path):
    path = write(
        tmp_path / "o.csv",
        "order_id,email,ordered_at,total\n,not-an-email,tomorrow,1.2.3\n",
    )
    result = ws.import_file("orders", path)
    assert quarantined(ws, result.import_id) == {
        1: "order_id: missing; email: 'not-an-email' is not an email address; "
        "ordered_at: 'tomorrow' is not a date and time; total: '1.2.3' is not an amount"
    }


def test_order_lines_are_numbered_per_order_in_file_order(ws: Workspace, tmp_path: Path):
    path = write(
        tmp_path / "lines.csv",
        "order_id,sku,quantity,unit_price,discount\n"
        "A,S1,1,10.00,\n"
        "A,S2,2,5.00,1.00\n"
        "B,S3,abc,3.00,\n"
        "B,S4,-2,3.00,\n"
        "A,S5,1.5,2.00,\n"
        "C,S6,1,,\n"
        "C,S7,3,4.00,0\n",
    )
    result = ws.import_file("order_lines", path)

    assert (result.inserted, result.rejected) == (3, 4)
    assert query(
        ws,
        "SELECT order_id, line_number, sku, quantity, unit_price, discount, full_price "
        "FROM order_lines ORDER BY 1, 2",
    ) == [
        ("A", 1, "S1", 1, Decimal("10"), None, None),
        ("A", 2, "S2", 2, Decimal("5"), Decimal("1"), None),
        ("C", 2, "S7", 3, Decimal("4"), Decimal("0"), None),
    ]
    assert quarantined(ws, result.import_id) == {
        3: "quantity: 'abc' is not a whole number",
        4: "quantity: must be greater than 0, got -2",
        5: "quantity: '1.5' is not a whole number",
        6: "unit_price: missing",
    }


def test_reviews_rating_rules(ws: Workspace, tmp_path: Path):
    path = write(
        tmp_path / "reviews.csv",
        "review_id,email,product_id,rating,title,reviewed_at\n"
        "R1,a@x.com,P1,5,Great,2024-01-01\n"
        "R2,b@x.com,P1,7,Too good,2024-01-02\n"
        "R3,c@x.com,P2,0,Bad,2024-01-03\n"
        "R4,d@x.com,P2,five,Hmm,2024-01-04\n"
        "R5,e@x.com,P3,3,,\n",
    )
    result = ws.import_file("reviews", path)
    assert result.inserted == 1
    assert query(ws, "SELECT review_id, rating, reviewed_at FROM reviews") == [
        ("R1", 5, dt.datetime(2024, 1, 1))
    ]
    assert quarantined(ws, result.import_id) == {
        2: "rating: must be at most 5, got 7",
        3: "rating: must be at least 1, got 0",
        4: "rating: 'five' is not a whole number",
        5: "reviewed_at: missing",
    }


def test_duplicate_keys_last_row_wins(ws: Workspace, tmp_path: Path):
    path = write(
        tmp_path / "customers.csv",
        "customer_id,email,city\n"
        "C1,a@x.com,Berlin\n"
        "C2,b@x.com,Paris\n"
        "C1,a@x.com,Munich\n"
        "C1,a2@x.com,Hamburg\n"
        "C3,c@x.com,Rome\n"
        "C3,broken,Milan\n",
    )
    result = ws.import_file("customers", path)

    assert (result.inserted, result.rejected) == (3, 3)
    assert query(ws, "SELECT customer_id, email, city FROM customers ORDER BY 1") == [
        ("C1", "a2@x.com", "Hamburg"),
        ("C2", "b@x.com", "Paris"),
        # The later C3 row is itself bad, so the earlier good one stands.
        ("C3", "c@x.com", "Rome"),
    ]
    assert quarantined(ws, result.import_id) == {
        1: "duplicate customer_id C1: superseded by row 4",
        3: "duplicate customer_id C1: superseded by row 4",
        6: "email: 'broken' is not an email address",
    }


def test_duplicate_reason_names_the_file_row_after_unsplittable_rows(ws: Workspace, tmp_path: Path):
    # Row 2 cannot be split, so staged row 3 is file row 4: the reason must say row 4.
    path = write(
        tmp_path / "p.csv",
        "product_id,name\nP1,Mug\nP9,Bad,row\nP2,Vase\nP1,Big mug\n",
    )
    result = ws.import_file("products", path)
    reasons = quarantined(ws, result.import_id)
    assert reasons[1] == "duplicate product_id P1: superseded by row 4"
    assert reasons[2].startswith("wrong number of fields")
    assert query(ws, "SELECT product_id, name FROM products ORDER BY 1") == [
        ("P1", "Big mug"),
        ("P2", "Vase"),
    ]


def test_customers_keep_unknown_columns_in_attributes(ws: Workspace, tmp_path: Path):
    path = write(
        tmp_path / "customers.csv",
        "customer_id,email,accepts_marketing,birth_date,attributes,loyalty_tier,shoe_size\n"
        'C1,a@x.com,yes,1990-05-17,"{""vip"": true}",gold,42\n'
        "C2,b@x.com,no,,,, \n"
        "C3,c@x.com,maybe,1990-13-01,[1],,\n",
    )
    result = ws.import_file("customers", path)

    assert (result.inserted, result.rejected) == (2, 1)
    rows = query(
        ws,
        "SELECT customer_id, accepts_marketing, birth_date, attributes FROM customers ORDER BY 1",
    )
    assert rows[0][:3] == ("C1", True, dt.date(1990, 5, 17))
    assert json.loads(rows[0][3]) == {"vip": True, "loyalty_tier": "gold", "shoe_size": "42"}
    assert rows[1] == ("C2", False, None, None)
    # Problems are listed in the table's column order.
    assert quarantined(ws, result.import_id) == {
        3: "birth_date: '1990-13-01' is not a date; "
        "accepts_marketing: 'maybe' is not true or false; attributes: '[1]' is not a JSON object"
    }


def test_other_kinds_ignore_unknown_columns_with_a_warning(ws: Workspace, tmp_path: Path):
    path = write(
        tmp_path / "products.csv",
        "product_id,name,price,weight_kg,colour\nP1,Mug,9.90,0.4,blue\nP2,Vase,-1,1.2,red\n",
    )
    console = Recorder()
    result = run_import(ws.engine, ImportRequest("products", path), console)
    assert console.warnings == [
        "products.csv: ignoring 2 columns that products does not have: weight_kg, colour"
    ]
    assert query(ws, "SELECT product_id, name, price FROM products") == [
        ("P1", "Mug", Decimal("9.9"))
    ]
    assert quarantined(ws, result.import_id) == {2: "price: must be at least 0, got -1"}


def test_headers_match_in_other_spellings(ws: Workspace, tmp_path: Path):
    path = write(
        tmp_path / "tickets.csv",
        "Ticket ID,Customer ID,Created At,Subject\nT1,C1,2024-05-01 09:30,Where is my parcel?\n",
    )
    ws.import_file("tickets", path)
    assert query(ws, "SELECT ticket_id, customer_id, created_at, subject FROM tickets") == [
        ("T1", "C1", dt.datetime(2024, 5, 1, 9, 30), "Where is my parcel?")
    ]


def test_events_csv_with_segment_spelling(ws: Workspace, tmp_path: Path):
    path = write(
        tmp_path / "events.csv",
        "messageId,type,event,anonymousId,timestamp,properties\n"
        'm1,track,Product Viewed,a1,2024-03-01T10:00:00Z,"{""sku"": ""MUG""}"\n'
        'm2,track,Product Viewed,a1,2024-03-01T10:00:00Z,"not json"\n',
    )
    result = ws.import_file("events", path)
    assert query(ws, "SELECT message_id, type, event, anonymous_id, properties FROM events") == [
        ("m1", "track", "Product Viewed", "a1", '{"sku": "MUG"}')
    ]
    assert quarantined(ws, result.import_id) == {2: "properties: 'not json' is not a JSON object"}


def test_tab_separated_file_with_explicit_delimiter(ws: Workspace, tmp_path: Path):
    path = write(tmp_path / "p.tsv", "product_id\tname\tprice\nP1\tMug, large\t9.90\n")
    ws.import_file("products", path, delimiter="\\t")
    assert query(ws, "SELECT product_id, name, price FROM products") == [
        ("P1", "Mug, large", Decimal("9.9"))
    ]


def test_no_staging_tables_are_left_behind(ws: Workspace, tmp_path: Path):
    path = write(tmp_path / "c.csv", "customer_id,email\nC1,a@x.com\nC1,b@x.com\nC2,bad\n")
    ws.import_file("customers", path)
    assert (
        query(
            ws, "SELECT table_name FROM information_schema.tables WHERE table_name LIKE '_segmint%'"
        )
        == []
    )
