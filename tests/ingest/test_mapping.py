"""Column mapping files for CSV layouts of any shape."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from segmint import Workspace
from segmint.errors import ImportFileError

from .conftest import DATA, quarantined, query, write

GERMAN_ORDERS = (
    "Bestellnummer;Kunde;E-Mail;Datum;Summe;Status;Gutschein;Lager\n"
    "A-1;K1;kai@example.de;01.03.2024 10:00;59,90;completed;;Nord\n"
    "A-2;K2;lea@example.de;15.07.2024 18:30;12,00;pending;SOMMER;Süd\n"
    "A-3;K3;kaputt;31.02.2024 10:00;abc;completed;;Nord\n"
)


def test_mapped_orders_with_local_formats(ws: Workspace, tmp_path: Path):
    path = write(tmp_path / "bestellungen.csv", GERMAN_ORDERS)
    result = ws.import_file("orders", path, mapping=DATA / "mapping_orders_de.toml")

    assert result.format == "mapped"
    assert (result.inserted, result.rejected) == (2, 1)
    assert query(
        ws,
        "SELECT order_id, customer_id, email, ordered_at, status, total, currency, "
        "coupon_code, channel FROM orders ORDER BY 1",
    ) == [
        # Berlin is UTC+1 in March and UTC+2 in July.
        ("A-1", "K1", "kai@example.de", dt.datetime(2024, 3, 1, 9, 0), "completed",
         Decimal("59.9"), "EUR", None, "web"),
        ("A-2", "K2", "lea@example.de", dt.datetime(2024, 7, 15, 16, 30), "pending",
         Decimal("12"), "EUR", "SOMMER", "web"),
    ]  # fmt: skip
    assert quarantined(ws, result.import_id) == {
        3: "email: 'kaputt' is not an email address; "
        "ordered_at: '31.02.2024 10:00' is not a date and time in the format %d.%m.%Y %H:%M; "
        "total: 'abc' is not an amount"
    }


def test_mapped_customers_with_own_words_for_yes_and_no(ws: Workspace, tmp_path: Path):
    mapping = write(
        tmp_path / "m.toml",
        'kind = "customers"\n'
        "[columns]\n"
        '"Kundennr" = "customer_id"\n"Newsletter" = "accepts_marketing"\n'
        '"Geburtstag" = "birth_date"\n'
        "[parse]\n"
        'date_format = "%d.%m.%Y"\ntrue_values = ["ja"]\nfalse_values = ["nein"]\n',
    )
    path = write(
        tmp_path / "kunden.csv",
        "Kundennr,Newsletter,Geburtstag,Lieblingsfarbe\nK1,ja,17.05.1990,blau\nK2,Nein,,\n"
        "K3,vielleicht,1.1.2000,\n",
    )
    result = ws.import_file("customers", path, mapping=mapping)
    assert query(
        ws,
        "SELECT customer_id, accepts_marketing, birth_date, attributes FROM customers ORDER BY 1",
    ) == [
        ("K1", True, dt.date(1990, 5, 17), '{"Lieblingsfarbe":"blau"}'),
        ("K2", False, None, None),
    ]
    assert quarantined(ws, result.import_id) == {
        3: "accepts_marketing: 'vielleicht' is not true or false"
    }


def test_mapped_order_lines_are_numbered(ws: Workspace, tmp_path: Path):
    mapping = write(
        tmp_path / "m.toml",
        '[columns]\nOrder = "order_id"\nQty = "quantity"\nPrice = "unit_price"\n',
    )
    path = write(tmp_path / "lines.csv", "Order,Qty,Price\nX,1,2.50\nY,2,1.00\nX,3,4.00\n")
    ws.import_file("order_lines", path, mapping=mapping)
    assert query(ws, "SELECT order_id, line_number, quantity FROM order_lines ORDER BY 1, 2") == [
        ("X", 1, 1),
        ("X", 2, 3),
        ("Y", 1, 2),
    ]


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[columns]\nA = "order_number"\n', "orders has no column order_number"),
        ('kind = "customers"\n[columns]\nA = "customer_id"\n', "is for 'customers'"),
        ("[columns\n", "is not valid TOML"),
        ('[columns]\nA = "order_id"\nB = "order_id"\n', "order_id is mapped from both 'A' and 'B'"),
        (
            '[columns]\nA = "order_id"\nB = "email"\n',
            "no column ordered_at, total (required for orders)",
        ),
        (
            '[columns]\nA = "order_id"\nB = "email"\nC = "ordered_at"\nD = "total"\n'
            '[parse]\ntimezone = "Mars/Olympus"\n',
            "unknown timezone 'Mars/Olympus'",
        ),
        (
            '[columns]\nA = "order_id"\nB = "email"\nC = "ordered_at"\nD = "total"\n'
            '[parse]\ndecimal = ","\n',
            "unknown [parse] key decimal",
        ),
        ('[colums]\nA = "order_id"\n', "unknown key colums"),
        (
            '[columns]\nA = "order_id"\nB = "email"\nC = "ordered_at"\nD = "total"\n'
            '[constants]\ntotal = "1"\n',
            "total is both mapped from a column and set as a constant",
        ),
    ],
)
def test_mistakes_in_a_mapping_are_whole_file_errors(
    ws: Workspace, tmp_path: Path, toml: str, message: str
):
    mapping = write(tmp_path / "m.toml", toml)
    path = write(tmp_path / "o.csv", "A,B,C,D\n1,a@x.com,2024-01-01,5\n")
    with pytest.raises(ImportFileError) as error:
        ws.import_file("orders", path, mapping=mapping)
    assert message in str(error.value)
    assert ws.engine.count_rows("imports") == 0


def test_mapped_column_missing_from_the_file(ws: Workspace, tmp_path: Path):
    path = write(tmp_path / "b.csv", "Bestellnummer;Kunde\nA-1;K1\n")
    with pytest.raises(ImportFileError) as error:
        ws.import_file("orders", path, mapping=DATA / "mapping_orders_de.toml")
    assert "b.csv has no column 'E-Mail', 'Datum', 'Summe', 'Status', 'Gutschein'" in str(
        error.value
    )
    assert "its columns are 'Bestellnummer', 'Kunde'" in str(error.value)
