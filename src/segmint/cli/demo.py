"""``segmint demo-data``: write a synthetic store's import files to a folder."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from segmint.cli.console import RichConsole, print_json, stdout
from segmint.demo import DEFAULT_END_DATE, DEFAULT_EVENTS_PER_CUSTOMER, generate_store
from segmint.errors import SegmintError


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise SegmintError(f"--end-date must be a date as YYYY-MM-DD (got {value!r})") from None


def demo_data(
    customers: Annotated[int, typer.Option(help="Number of customers.", show_default=False)],
    out: Annotated[
        Path,
        typer.Option(
            help="Folder to write the files to (empty or a previous demo store).",
            show_default=False,
        ),
    ],
    seed: Annotated[
        int, typer.Option(help="Random seed: the same arguments give the same files.")
    ] = 0,
    days: Annotated[int, typer.Option(help="Days of history.")] = 730,
    end_date: Annotated[
        str | None,
        typer.Option(
            help=f"Last day of data, YYYY-MM-DD (default {DEFAULT_END_DATE}).", show_default=False
        ),
    ] = None,
    dirty_rate: Annotated[
        float, typer.Option(help="Share of dirty rows added to each file.")
    ] = 0.002,
    events_format: Annotated[
        str, typer.Option(help="Events file format: jsonl or parquet.")
    ] = "jsonl",
    events_per_customer: Annotated[
        float,
        typer.Option(help="Average events per customer (scales browsing and email; 0: no events)."),
    ] = DEFAULT_EVENTS_PER_CUSTOMER,
    products: Annotated[int, typer.Option(help="Products in the catalogue.")] = 800,
    chunk_size: Annotated[
        int, typer.Option(help="Customers generated at once (bounds memory; changes the data).")
    ] = 10_000,
    json: Annotated[
        bool, typer.Option("--json", help="Print a machine-readable JSON result instead of tables.")
    ] = False,
) -> None:
    """Write a synthetic store (products, customers, orders, a Shopify export, events, reviews,
    tickets, with a few dirty rows) and a manifest.json listing the files in import order."""
    started = time.perf_counter()
    manifest = generate_store(
        out,
        customers=customers,
        seed=seed,
        days=days,
        end_date=_parse_date(end_date),
        dirty_rate=dirty_rate,
        events_format=events_format,  # type: ignore[arg-type]  # validated by generate_store
        events_per_customer=events_per_customer,
        products=products,
        chunk_size=chunk_size,
        console=RichConsole(quiet=json),
    )
    seconds = round(time.perf_counter() - started, 2)
    if json:
        print_json({"out": str(out), "seconds": seconds, **manifest.to_dict()})
        return
    table = Table(title=f"Demo store in {out} ({manifest.start} to {manifest.end_date})")
    for col in ("file", "import as", "rows", "dirty rows"):
        table.add_column(col, justify="right" if "rows" in col else "left")
    for f in manifest.files:
        kind = f.kind if f.format in ("csv", "jsonl", "parquet") else f"{f.kind} ({f.format})"
        table.add_row(f.path, kind, f"{f.rows:,}", f"{sum(f.dirty_rows.values()):,}")
    stdout.print(table)
    stdout.print(f"Wrote {len(manifest.files)} files and manifest.json in {seconds:.1f} s.")
