"""Files that cannot be imported at all: one clear error, and nothing written."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmint import Workspace
from segmint.errors import ImportFileError
from segmint.ingest import writer

from .conftest import DATA, counts, query, write

TABLES = ("orders", "order_lines", "customers", "quarantine", "imports")


def nothing_written(ws: Workspace) -> bool:
    leftovers = query(
        ws, "SELECT table_name FROM information_schema.tables WHERE table_name LIKE '_segmint%'"
    )
    return leftovers == [] and all(n == 0 for n in counts(ws, *TABLES).values())


def test_missing_file(ws: Workspace, tmp_path: Path):
    with pytest.raises(ImportFileError, match=r"nope\.csv does not exist"):
        ws.import_file("orders", tmp_path / "nope.csv")


def test_folder_instead_of_file(ws: Workspace, tmp_path: Path):
    with pytest.raises(ImportFileError, match="is a folder"):
        ws.import_file("orders", tmp_path)


def test_empty_file(ws: Workspace, tmp_path: Path):
    path = write(tmp_path / "orders.csv", "")
    with pytest.raises(ImportFileError, match=r"is empty \(0 bytes\)"):
        ws.import_file("orders", path)
    assert nothing_written(ws)


def test_blank_lines_only(ws: Workspace, tmp_path: Path):
    path = write(tmp_path / "orders.csv", "\n\n  \n")
    with pytest.raises(ImportFileError, match="holds no data"):
        ws.import_file("orders", path)


def test_header_only_is_zero_rows_not_an_error(ws: Workspace, tmp_path: Path):
    path = write(tmp_path / "orders.csv", "order_id,email,ordered_at,total\n")
    result = ws.import_file("orders", path)
    assert (result.rows_read, result.inserted, result.rejected) == (0, 0, 0)
    assert query(ws, "SELECT rows_read, inserted, rejected FROM imports") == [(0, 0, 0)]


def test_binary_junk(ws: Workspace, tmp_path: Path):
    junk = bytes((i * 7919) % 256 for i in range(4096))
    path = tmp_path / "orders.csv"
    path.write_bytes(junk)
    with pytest.raises(ImportFileError, match="binary data, not a CSV"):
        ws.import_file("orders", path)
    assert nothing_written(ws)


def test_parquet_with_a_csv_name_says_what_it_is(ws: Workspace, tmp_path: Path):
    path = tmp_path / "orders.csv"
    pq.write_table(pa.table({"order_id": ["1"]}), path)
    with pytest.raises(ImportFileError, match="is a Parquet file"):
        ws.import_file("orders", path)


def test_latin1_file_names_the_encoding_and_the_flag(ws: Workspace, tmp_path: Path):
    path = write(tmp_path / "c.csv", "customer_id,city\nC1,Café\n", encoding="latin-1")
    with pytest.raises(ImportFileError) as error:
        ws.import_file("customers", path)
    message = str(error.value)
    assert "is not valid utf-8 (byte 0xE9 on line 2)" in message
    assert "Latin-1" in message and "--encoding latin-1" in message
    assert nothing_written(ws)

    ws.import_file("customers", path, encoding="latin-1")
    assert query(ws, "SELECT city FROM customers") == [("Café",)]


def test_windows_1252_file_is_read_through_a_utf8_copy(ws: Workspace, tmp_path: Path):
    # "€" is 0x80 in Windows-1252: a control character in Latin-1, so cp1252 is suggested.
    path = write(tmp_path / "p.csv", "product_id,name\nP1,Crème €5 voucher\n", encoding="cp1252")
    with pytest.raises(ImportFileError, match="--encoding cp1252"):
        ws.import_file("products", path)
    ws.import_file("products", path, encoding="cp1252")
    assert query(ws, "SELECT name FROM products") == [("Crème €5 voucher",)]


def test_utf16_file(ws: Workspace, tmp_path: Path):
    path = write(tmp_path / "p.csv", "product_id,name\nP1,Tasse\n", encoding="utf-16")
    with pytest.raises(ImportFileError, match="UTF-16 encoded: import it with --encoding utf-16"):
        ws.import_file("products", path)
    ws.import_file("products", path, encoding="utf-16")
    assert query(ws, "SELECT product_id, name FROM products") == [("P1", "Tasse")]


def test_unknown_encoding_name(ws: Workspace, tmp_path: Path):
    path = write(tmp_path / "p.csv", "product_id\nP1\n")
    with pytest.raises(ImportFileError, match="unknown encoding 'klingon'"):
        ws.import_file("products", path, encoding="klingon")


def test_gzipped_csv(ws: Workspace, tmp_path: Path):
    path = tmp_path / "products.csv.gz"
    path.write_bytes(gzip.compress(b"product_id,name\nP1,Mug\nP2,Vase\n"))
    assert ws.import_file("products", path).inserted == 2


def test_missing_required_columns_is_a_whole_file_error(ws: Workspace, tmp_path: Path):
    path = write(tmp_path / "orders.csv", "order_id,customer_id,amount\n1,C1,10\n")
    with pytest.raises(ImportFileError) as error:
        ws.import_file("orders", path)
    assert str(error.value) == ("orders.csv no column ordered_at, total (required for orders)")
    assert nothing_written(ws)


def test_missing_one_of_group_is_a_whole_file_error(ws: Workspace, tmp_path: Path):
    path = write(tmp_path / "t.csv", "ticket_id,created_at\nT1,2024-01-01\n")
    with pytest.raises(ImportFileError, match="needs a customer_id or email column"):
        ws.import_file("tickets", path)


def test_unknown_kind(ws: Workspace, tmp_path: Path):
    path = write(tmp_path / "o.csv", "order_id\n1\n")
    with pytest.raises(ImportFileError, match=r"unknown kind 'order' \(did you mean orders\?\)"):
        ws.import_file("order", path)


def test_shopify_export_under_the_wrong_kind(ws: Workspace):
    with pytest.raises(ImportFileError, match="import it as orders or order_lines, not customers"):
        ws.import_file("customers", DATA / "shopify_orders.csv")
    assert nothing_written(ws)


def test_shopify_format_asked_for_a_file_that_is_not_one(ws: Workspace, tmp_path: Path):
    path = write(tmp_path / "o.csv", "order_id,email,ordered_at,total\n1,a@x.com,2024-01-01,1\n")
    with pytest.raises(ImportFileError, match="does not look like a shopify-orders export"):
        ws.import_file("orders", path, format="shopify-orders")


def test_a_failure_while_writing_rolls_everything_back(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    path = write(
        tmp_path / "orders.csv",
        "order_id,email,ordered_at,total\n1,a@x.com,2024-01-01,1\n2,bad,2024-01-01,1\n",
    )

    def broken_record(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    # The last write of the transaction fails: the order and the quarantined row go too.
    monkeypatch.setattr("segmint.ingest.importer.record_import", broken_record)
    with pytest.raises(RuntimeError, match="disk full"):
        ws.import_file("orders", path)
    assert nothing_written(ws)

    monkeypatch.setattr("segmint.ingest.importer.record_import", writer.record_import)
    result = ws.import_file("orders", path)
    assert (result.inserted, result.rejected) == (1, 1)


def test_json_array_instead_of_json_lines(ws: Workspace, tmp_path: Path):
    path = write(tmp_path / "events.json", '[\n  {"type": "track"}\n]\n')
    with pytest.raises(ImportFileError, match="is a JSON array, not JSON Lines"):
        ws.import_file("events", path)
