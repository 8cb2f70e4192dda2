"""``segmint import`` and ``segmint quarantine``: files in, and a look at the rows left out."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from segmint.cli.console import print_json, stdout
from segmint.cli.options import JsonOption, WorkspaceOption, open_workspace
from segmint.model.tables import IMPORTABLE


class FormatChoice(StrEnum):
    """File layouts ``--format`` accepts."""

    csv = "csv"
    parquet = "parquet"
    jsonl = "jsonl"
    shopify_orders = "shopify-orders"
    shopify_customers = "shopify-customers"


def import_file(
    kind: Annotated[str, typer.Argument(help=f"What the file holds: {', '.join(IMPORTABLE)}.")],
    file: Annotated[Path, typer.Argument(help="CSV, Parquet or JSON Lines file (.gz too).")],
    workspace: WorkspaceOption = None,
    format: Annotated[
        FormatChoice | None,
        typer.Option(
            "--format",
            help="File layout (default: from the extension; Shopify exports from the header).",
            show_default=False,
        ),
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(help="TOML column mapping for any other layout (see docs/importing.md)."),
    ] = None,
    encoding: Annotated[
        str, typer.Option(help="Text encoding of the file, e.g. latin-1, cp1252, utf-16.")
    ] = "utf-8",
    delimiter: Annotated[
        str | None,
        typer.Option(
            help="Field separator (default: detected); '\\t' for tabs.", show_default=False
        ),
    ] = None,
    json: JsonOption = False,
) -> None:
    """Import a file into a table; bad rows go to quarantine, re-imports update in place."""
    with open_workspace(workspace, quiet=json) as ws:
        result = ws.import_file(
            kind,
            file,
            format=format.value if format else None,
            mapping=mapping,
            encoding=encoding,
            delimiter=delimiter,
        )
    if json:
        print_json(result.to_dict())
        return
    table = Table(
        title=f"Imported {file.name} ({result.format}, {result.rows_read:,} rows, "
        f"{result.seconds:.1f} s)"
    )
    for col in ("table", "inserted", "updated", "unchanged", "rejected"):
        table.add_column(col, justify="left" if col == "table" else "right")
    for name, counts in result.tables.items():
        table.add_row(
            name,
            *(f"{counts[c]:,}" for c in ("inserted", "updated", "unchanged", "rejected")),
        )
    stdout.print(table)
    if result.rejected:
        rows = "row" if result.rejected == 1 else "rows"
        # soft_wrap: commands and SQL must stay copyable, not broken across lines.
        stdout.print(
            f"{result.rejected:,} {rows} rejected; see them with "
            f"`segmint quarantine show --import-id {result.import_id}`",
            highlight=False,
            soft_wrap=True,
        )
        stdout.print(f"or in SQL: {result.quarantine}", highlight=False, soft_wrap=True)
    else:
        stdout.print(f"No rows rejected (import {result.import_id}).", highlight=False)


quarantine_app = typer.Typer(
    help="Rows imports rejected, with the reason for each.", no_args_is_help=True
)


@quarantine_app.command("list")
def quarantine_list(workspace: WorkspaceOption = None, json: JsonOption = False) -> None:
    """Imports that rejected rows, newest first."""
    with open_workspace(workspace, quiet=json) as ws:
        summary = ws.quarantine_summary()
    if json:
        print_json(summary)
        return
    if not summary:
        stdout.print("No rows in quarantine.")
        return
    table = Table(title="Quarantine")
    for col in ("import_id", "kind", "file", "rows read", "rejected"):
        table.add_column(col, justify="right" if col in ("rows read", "rejected") else "left")
    for entry in summary:
        rows_read = entry["rows_read"]
        table.add_row(
            entry["import_id"],
            entry["kind"] or "",
            entry["file"] or "",
            f"{rows_read:,}" if rows_read is not None else "",
            f"{entry['rejected']:,}",
        )
    stdout.print(table)


@quarantine_app.command("show")
def quarantine_show(
    workspace: WorkspaceOption = None,
    import_id: Annotated[
        str | None,
        typer.Option("--import-id", help="Which import (default: the latest that rejected rows)."),
    ] = None,
    limit: Annotated[int, typer.Option(help="Most rows to show (0: all).", min=0)] = 20,
    json: JsonOption = False,
) -> None:
    """The rejected rows of an import: row number in the file, reason, the row as read."""
    with open_workspace(workspace, quiet=json) as ws:
        shown_id, rows = ws.quarantined_rows(import_id, limit or None)
    if json:
        print_json({"import_id": shown_id, "rows": rows})
        return
    table = Table(title=f"Rejected rows of {shown_id}")
    table.add_column("row", justify="right")
    table.add_column("reason", overflow="fold")
    table.add_column("raw", overflow="fold")
    for row in rows:
        table.add_row(str(row["row_number"]), row["reason"], row["raw"] or "")
    stdout.print(table)


def register(app: typer.Typer) -> None:
    """Add ``import`` and ``quarantine`` to the ``segmint`` command."""
    app.command("import")(import_file)
    app.add_typer(quarantine_app, name="quarantine")
