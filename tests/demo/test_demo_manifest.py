"""The manifest lists every file in import order, with row counts that match the files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq
import pytest

from segmint.demo import MANIFEST, generate_store
from segmint.demo.eventlines import PARQUET_SCHEMA
from segmint.demo.exports import SHOPIFY_ORDER_COLUMNS
from segmint.errors import SegmintError
from segmint.model.tables import IMPORTABLE

if TYPE_CHECKING:
    from .conftest import Store


IMPORT_ORDER = [
    ("products.csv", "products", "csv"),
    ("customers.csv", "customers", "csv"),
    ("orders.csv", "orders", "csv"),
    ("order_lines.csv", "order_lines", "csv"),
    ("shopify_orders.csv", "orders", "shopify-orders"),
    ("events.jsonl", "events", "jsonl"),
    ("reviews.csv", "reviews", "csv"),
    ("tickets.csv", "tickets", "csv"),
]


def test_files_are_listed_in_import_order(store: Store) -> None:
    assert [(f.path, f.kind, f.format) for f in store.manifest.files] == IMPORT_ORDER
    assert all(f.kind in IMPORTABLE for f in store.manifest.files)


def test_the_written_manifest_matches_the_returned_one(store: Store) -> None:
    written = json.loads((store.path / MANIFEST).read_text())
    assert written == store.manifest.to_dict()
    assert written["seed"] == 11 and written["customers"] == 1_500
    assert written["files"][0]["clean_rows"] == 800


def test_row_counts_match_the_files(store: Store) -> None:
    for f in store.manifest.files:
        if f.path.endswith(".csv"):
            assert len(store.rows(f.path)) == f.rows, f.path
        else:
            lines = (store.path / f.path).read_text().count("\n")
            assert lines == f.rows, f.path
        assert f.clean_rows == f.rows - sum(f.dirty_rows.values())
    assert store.manifest.file("customers.csv").clean_rows == 1_500


def test_csv_headers_are_the_canonical_columns(store: Store) -> None:
    for f in store.manifest.files:
        if f.format == "csv":
            assert tuple(store.header(f.path)) == IMPORTABLE[f.kind].column_names
    assert tuple(store.header("shopify_orders.csv")) == SHOPIFY_ORDER_COLUMNS
    assert {"Name", "Email", "Financial Status", "Lineitem quantity", "Created at", "Id",
            "Source", "Refunded Amount", "Billing Phone"} <= set(SHOPIFY_ORDER_COLUMNS)  # fmt: skip


def test_parquet_events_hold_the_same_messages(tmp_path: Path) -> None:
    args = dict(customers=200, seed=9, events_per_customer=30, dirty_rate=0)
    jsonl = generate_store(tmp_path / "j", **args)
    parquet = generate_store(tmp_path / "p", events_format="parquet", **args)
    assert [f.path for f in parquet.files][5] == "events.parquet"
    assert parquet.file("events.parquet").format == "parquet"
    table = pq.read_table(tmp_path / "p" / "events.parquet")
    assert table.schema == PARQUET_SCHEMA
    assert table.num_rows == parquet.file("events.parquet").rows == jsonl.file("events.jsonl").rows
    lines = (tmp_path / "j" / "events.jsonl").read_text().splitlines()
    for row, line in zip(table.slice(0, 300).to_pylist(), lines, strict=False):
        message = json.loads(line)
        assert row["messageId"] == message["messageId"]
        assert row["timestamp"].strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z" == message["timestamp"]
        for key in ("properties", "traits", "context"):
            assert (json.loads(row[key]) if row[key] else None) == message.get(key)
        for key in ("type", "event", "anonymousId", "userId", "previousId"):
            assert row[key] == message.get(key)


def test_a_previous_demo_store_is_replaced(tmp_path: Path) -> None:
    out = tmp_path / "store"
    generate_store(out, customers=50, seed=1, events_per_customer=5)
    generate_store(out, customers=50, seed=1, events_per_customer=5, events_format="parquet")
    assert (out / "events.parquet").exists() and not (out / "events.jsonl").exists()


def test_bad_arguments_are_refused_before_writing(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(SegmintError, match="not empty"):
        generate_store(tmp_path, customers=10)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    bad = [
        (dict(customers=0), "--customers"),
        (dict(customers=10, days=5), "--days"),
        (dict(customers=10, dirty_rate=0.9), "--dirty-rate"),
        (dict(customers=10, events_format="xml"), "--events-format"),
        (dict(customers=10, events_per_customer=-1), "--events-per-customer"),
        (dict(customers=10, products=3), "--products"),
        (dict(customers=10, chunk_size=5), "chunk size"),
    ]
    for kwargs, message in bad:
        with pytest.raises(SegmintError, match=message):
            generate_store(tmp_path / "new", **kwargs)  # type: ignore[arg-type]
        assert not (tmp_path / "new").exists()
    file = tmp_path / "notes.txt"
    with pytest.raises(SegmintError, match="not a folder"):
        generate_store(file, customers=10)
    (tmp_path / "fake").mkdir()
    (tmp_path / "fake" / MANIFEST).write_text("{not json")
    with pytest.raises(SegmintError, match="not a demo store manifest"):
        generate_store(tmp_path / "fake", customers=10)


def test_a_failed_run_leaves_no_partial_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import segmint.demo.store as store_module

    def broken(**_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(store_module, "_write_chunk", broken)
    with pytest.raises(OSError, match="disk full"):
        generate_store(tmp_path / "s", customers=10, events_format="parquet")
    assert list((tmp_path / "s").iterdir()) == []


class _Recorder:
    def __init__(self) -> None:
        self.warnings: list[str] = []
        self.advanced = 0

    def progress(self, description: str, total: int | None = None):  # type: ignore[no-untyped-def]
        from contextlib import contextmanager

        recorder = self

        class _P:
            def advance(self, amount: int = 1) -> None:
                recorder.advanced += amount

        @contextmanager
        def cm():  # type: ignore[no-untyped-def]
            yield _P()

        return cm()

    def info(self, message: str) -> None:
        pass

    def warn(self, message: str) -> None:
        self.warnings.append(message)


def test_progress_and_warnings_go_to_the_console(tmp_path: Path) -> None:
    console = _Recorder()
    generate_store(tmp_path / "s", customers=250, chunk_size=100, events_per_customer=5,
                   console=console)  # fmt: skip
    assert console.advanced == 250
    assert len(console.warnings) == 1 and "events per customer" in console.warnings[0]
