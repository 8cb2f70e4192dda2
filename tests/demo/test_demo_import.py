"""The demo store imports into a workspace with exactly its dirty rows quarantined."""

from __future__ import annotations

from pathlib import Path

from segmint import Workspace
from segmint.demo import generate_store


def test_import_rejects_exactly_the_dirty_rows(tmp_path: Path) -> None:
    manifest = generate_store(tmp_path / "store", customers=150, seed=8, dirty_rate=0.05,
                              events_per_customer=30)  # fmt: skip
    with Workspace.init(tmp_path / "ws") as ws:
        for f in manifest.files:
            path = tmp_path / "store" / f.path
            result = ws.import_file(f.kind, path, format=f.format)  # type: ignore[arg-type]
            assert result.rows_read == f.rows, f.path
            assert result.rejected == sum(f.dirty_rows.values()), (f.path, f.dirty_rows)
        tables = ws.status().tables
    shopify = manifest.file("shopify_orders.csv")
    assert shopify.orders is not None
    # A broken date is an order of its own; a negative quantity one more line of a clean order.
    shopify_clean_orders = shopify.orders - shopify.dirty_rows.get("unparseable_date", 0)
    assert tables["customers"] == 150
    assert tables["products"] == manifest.file("products.csv").clean_rows
    assert tables["orders"] == manifest.file("orders.csv").clean_rows + shopify_clean_orders
    assert tables["order_lines"] == manifest.file("order_lines.csv").clean_rows + shopify.clean_rows
    assert tables["events"] == manifest.file("events.jsonl").clean_rows
    assert tables["reviews"] == manifest.file("reviews.csv").clean_rows
    assert tables["tickets"] == manifest.file("tickets.csv").clean_rows
