"""Shopify exports: the order export (orders and line items) and the customer export.

The fixtures in tests/data/imports are laid out as Shopify writes them: the order export's
64 columns with order-level values only on an order's first row.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from segmint import Workspace
from segmint.errors import ImportFileError
from segmint.ingest import ImportResult

from .conftest import DATA, quarantined, query, write

ORDERS = DATA / "shopify_orders.csv"
CUSTOMERS = DATA / "shopify_customers.csv"


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, ImportResult]]:
    """One workspace with the order export imported once, for the tests that only read it."""
    ws = Workspace.init(tmp_path_factory.mktemp("shopify") / "ws")
    try:
        yield ws, ws.import_file("orders", ORDERS)
    finally:
        ws.close()


def test_order_export_fills_orders_and_lines(imported: tuple[Workspace, ImportResult]):
    ws, result = imported

    assert result.format == "shopify-orders"
    assert result.rows_read == 10
    assert result.tables == {
        "orders": {"inserted": 5, "updated": 0, "unchanged": 0, "rejected": 1},
        "order_lines": {"inserted": 6, "updated": 0, "unchanged": 0, "rejected": 4},
    }
    assert (result.inserted, result.rejected) == (11, 4)
    assert query(
        ws,
        "SELECT order_id, email, ordered_at, status, currency, subtotal, discount_amount, "
        "shipping, tax, total, refunded_amount, coupon_code, channel FROM orders ORDER BY 1",
    ) == [
        # -0500 -> +5 h; +0100 -> -1 h; -0800 -> +8 h.
        ("#1001", "alice@example.com", dt.datetime(2024, 3, 1, 15, 0), "completed", "USD",
         Decimal("50"), Decimal("0"), Decimal("5"), Decimal("4"), Decimal("59"), None, None, "web"),
        ("#1002", "bob@example.com", dt.datetime(2024, 3, 2, 22, 30), "refunded", "EUR",
         Decimal("30"), Decimal("3"), Decimal("0"), Decimal("0"), Decimal("27"), Decimal("27"),
         "SPRING10", "pos"),
        # voided with a cancellation date: cancelled.
        ("#1003", "carol@example.com", dt.datetime(2024, 3, 3, 16, 15), "cancelled", "USD",
         Decimal("12"), Decimal("0"), Decimal("0"), Decimal("0"), Decimal("12"), None, None, "web"),
        ("#1004", "dave@example.com", dt.datetime(2024, 3, 4, 12, 0), "partially_refunded", "USD",
         Decimal("40"), Decimal("0"), Decimal("0"), Decimal("0"), Decimal("40"), Decimal("10"),
         None, "web"),
        ("#1006", "frank@example.com", dt.datetime(2024, 3, 6, 15, 0), "pending", "USD",
         Decimal("8"), None, None, None, Decimal("8"), None, None, "web"),
    ]  # fmt: skip


def test_order_export_line_items(imported: tuple[Workspace, ImportResult]):
    ws, _ = imported
    assert query(
        ws,
        "SELECT order_id, line_number, sku, product_name, quantity, unit_price, discount, "
        "full_price FROM order_lines ORDER BY 1, 2",
    ) == [
        ("#1001", 1, "MUG-B", "Blue Mug", 2, Decimal("15"), Decimal("0"), True),
        # Compare-at 25.00 above the price 20.00: sold marked down.
        ("#1001", 2, "PLT-R", "Red Plate", 1, Decimal("20"), Decimal("0"), False),
        # A discount on the line.
        ("#1002", 1, "VAS-G", "Green Vase", 1, Decimal("30"), Decimal("3"), False),
        ("#1003", 1, "TEA", "Tea", 1, Decimal("12"), Decimal("0"), True),
        ("#1004", 1, "SCK", "Socks", 2, Decimal("10"), Decimal("0"), True),
        ("#1004", 2, "HAT", "Hat", 1, Decimal("20"), None, True),
    ]


def test_order_export_rejects_with_reasons(imported: tuple[Workspace, ImportResult]):
    ws, result = imported
    assert quarantined(ws, result.import_id) == {
        # Line 3 of #1004: its order is fine and stays.
        7: "order_lines: quantity: 'abc' is not a whole number",
        # #1005's order row is bad, so both of its lines go with it.
        8: "orders: ordered_at: 'yesterday' is not a date and time; "
        "order_lines: order #1005 was rejected (see row 8)",
        9: "order_lines: order #1005 was rejected (see row 8)",
        10: "order_lines: quantity: must be greater than 0, got -1",
    }
    raw = query(ws, "SELECT raw FROM quarantine WHERE row_number = 9")[0][0]
    assert json.loads(raw)["Lineitem name"] == "Ink"


def test_order_export_reimport_changes_nothing(ws: Workspace):
    ws.import_file("orders", ORDERS)
    again = ws.import_file("orders", ORDERS)
    assert again.tables == {
        "orders": {"inserted": 0, "updated": 0, "unchanged": 5, "rejected": 1},
        "order_lines": {"inserted": 0, "updated": 0, "unchanged": 6, "rejected": 4},
    }
    assert ws.engine.count_rows("order_lines") == 6


def test_order_export_can_be_named_explicitly(ws: Workspace, tmp_path: Path):
    copy = tmp_path / "export.txt"
    copy.write_bytes(ORDERS.read_bytes())
    result = ws.import_file("order_lines", copy, format="shopify-orders")
    assert result.tables["order_lines"]["inserted"] == 6


def test_customer_export(ws: Workspace):
    result = ws.import_file("customers", CUSTOMERS)

    assert result.format == "shopify-customers"
    assert (result.rows_read, result.inserted, result.rejected) == (4, 2, 2)
    rows = query(
        ws,
        "SELECT customer_id, email, phone, first_name, last_name, city, region, country, "
        "postal_code, accepts_marketing, attributes FROM customers ORDER BY 1",
    )
    # Row 4 repeats customer 7001 and wins; the apostrophes Shopify adds are dropped.
    assert rows[0][:10] == (
        "7001", "alice@example.com", "+15125550101", "Alice", "Archer",
        "Dallas", "TX", "US", "75201", False,
    )  # fmt: skip
    assert json.loads(rows[0][10]) == {
        "default_address_address1": "2 Oak Ave",
        "accepts_sms_marketing": "no",
        "total_spent": "150.50",
        "total_orders": "4",
        "tax_exempt": "no",
        "tags": "vip",
    }
    assert rows[1][:10] == (
        "7002", "bob@example.com", None, "Bob", "Baker", "Paris", None, "FR", "75008", False,
    )  # fmt: skip
    assert json.loads(rows[1][10])["note"] == "likes tea"
    assert quarantined(ws, result.import_id) == {
        1: "duplicate customer_id 7001: superseded by row 4",
        3: "email: 'not-an-email' is not an email address",
    }


def test_older_customer_export_without_ids_uses_the_email(ws: Workspace, tmp_path: Path):
    path = write(
        tmp_path / "customers_export.csv",
        "First Name,Last Name,Email,Accepts Marketing,Company,Address1,Address2,City,Province,"
        "Province Code,Country,Country Code,Zip,Phone,Total Spent,Total Orders,Tags,Note,"
        "Tax Exempt\n"
        "Ann,Lee,Ann.Lee@Example.com,yes,,,,Leeds,,,United Kingdom,GB,LS1,,10.00,1,,,no\n",
    )
    ws.import_file("customers", path)
    assert query(
        ws,
        "SELECT customer_id, email, city, country, postal_code, accepts_marketing FROM customers",
    ) == [("ann.lee@example.com", "ann.lee@example.com", "Leeds", "GB", "LS1", True)]


def test_explicit_csv_format_means_canonical_columns(ws: Workspace):
    # Only "Total" matches a canonical column (total) by its spelling.
    with pytest.raises(ImportFileError, match=r"no column order_id, ordered_at \(required"):
        ws.import_file("orders", ORDERS, format="csv")
