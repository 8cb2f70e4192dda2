"""``segmint warehouse``: copy profiles and segments into a PostgreSQL database you own."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from segmint.cli.console import print_json, stdout
from segmint.cli.options import JsonOption, WorkspaceOption, open_workspace

#: Where the URL is read from when not given (keeps passwords out of shell history).
WAREHOUSE_URL_ENV = "SEGMINT_WAREHOUSE_URL"

warehouse_app = typer.Typer(
    help="Own your data: sync profiles, segments and their history into PostgreSQL.",
    no_args_is_help=True,
)


@warehouse_app.command("sync")
def sync(
    url: Annotated[
        str,
        typer.Argument(
            help="PostgreSQL URL, e.g. postgresql://user:password@host:5432/database.",
            envvar=WAREHOUSE_URL_ENV,
            show_envvar=True,
            show_default=False,
        ),
    ],
    schema: Annotated[
        str, typer.Option(help="Schema to write (created on the first sync).")
    ] = "segmint",
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Copy profiles, segment definitions, members and membership history into a schema.

    The first sync creates the tables; later ones send only what changed, in one transaction.

    Tables and example BI queries: docs/warehouse.md.
    """
    with open_workspace(workspace, quiet=json) as ws:
        result = ws.sync_warehouse(url, schema=schema)
    if json:
        print_json(result.to_dict())
        return
    table = Table(title=f"Synced to {result.target}, schema {result.schema}")
    table.add_column("table")
    for column in ("inserted", "updated", "deleted", "unchanged"):
        table.add_column(column, justify="right")
    for synced in result.tables:
        table.add_row(
            synced.table,
            f"{synced.inserted:,}",
            f"{synced.updated:,}",
            f"{synced.deleted:,}",
            f"{synced.unchanged:,}",
        )
    stdout.print(table)
    for synced in result.tables:
        if synced.added_columns:
            stdout.print(
                f"Added to {result.schema}.{synced.table}: {', '.join(synced.added_columns)}"
            )
    if result.rows_written == 0:
        stdout.print(f"Nothing changed since the last sync ({result.seconds:.1f} s).")
    else:
        stdout.print(f"Wrote {result.rows_written:,} rows in {result.seconds:.1f} s.")
