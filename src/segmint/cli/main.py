"""The ``segmint`` command line: a few lines per command over :class:`segmint.Workspace`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from segmint.cli.clv import clv_app
from segmint.cli.console import print_json, stderr, stdout
from segmint.cli.demo import demo_data
from segmint.cli.identity import identity_app
from segmint.cli.imports import register as register_imports
from segmint.cli.options import JsonOption, WorkspaceOption, open_workspace
from segmint.cli.profiles import profiles_app
from segmint.cli.quickstart import quickstart
from segmint.cli.segments import register as register_segments
from segmint.cli.warehouse import warehouse_app
from segmint.config import EngineConfig
from segmint.errors import SegmintError
from segmint.workspace import Workspace

app = typer.Typer(
    name="segmint",
    help="Customer segmentation for e-commerce stores: import, unify, profile, segment.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
def init(
    directory: Annotated[
        Path | None, typer.Argument(help="Folder to create the workspace in.")
    ] = None,
    workspace: WorkspaceOption = None,
    name: Annotated[str | None, typer.Option(help="Name of the store.")] = None,
    engine: Annotated[
        str, typer.Option(help="duckdb (embedded, the default), postgres or spark.")
    ] = "duckdb",
    url: Annotated[
        str | None, typer.Option(help="postgres: connection URL (postgresql://user@host/db).")
    ] = None,
    schema: Annotated[
        str, typer.Option(help="postgres: schema for the tables; spark: database.")
    ] = "segmint",
    master: Annotated[
        str, typer.Option(help="spark: master URL (local[2], spark://host:7077, yarn).")
    ] = "local[2]",
    connect_url: Annotated[
        str | None, typer.Option(help="spark: Spark Connect URL (sc://host:15002).")
    ] = None,
    json: JsonOption = False,
) -> None:
    """Create a workspace: a segmint.toml config and an empty warehouse on the chosen engine."""
    try:
        engine_config = EngineConfig.model_validate(
            {
                "kind": engine,
                "url": url,
                "schema_name": schema,
                "master": master,
                "connect_url": connect_url,
            }
        )
    except ValidationError as error:
        problems = "; ".join(e["msg"] for e in error.errors())
        raise typer.BadParameter(problems) from None
    with Workspace.init(directory or workspace, name=name, engine=engine_config) as ws:
        if json:
            print_json({"workspace": str(ws.root), "engine": ws.engine.name})
        else:
            stdout.print(f"Created workspace [bold]{ws.config.name}[/bold] in {ws.root}")


@app.command()
def status(workspace: WorkspaceOption = None, json: JsonOption = False) -> None:
    """Rows per table and rejected rows per imported file."""
    with open_workspace(workspace, quiet=json) as ws:
        result = ws.status()
    if json:
        print_json(result.to_dict())
        return
    tables = Table(title=f"Workspace {result.root} ({result.engine})")
    tables.add_column("table")
    tables.add_column("rows", justify="right")
    for name, count in result.tables.items():
        tables.add_row(name, f"{count:,}")
    stdout.print(tables)
    if result.quarantine:
        rejects = Table(title="Quarantined rows (SELECT * FROM quarantine WHERE import_id = ...)")
        for col in ("kind", "file", "rejected", "import_id"):
            rejects.add_column(col, justify="right" if col == "rejected" else "left")
        for q in result.quarantine:
            rejects.add_row(q["kind"], q["file"], f"{q['rejected']:,}", q["import_id"])
        stdout.print(rejects)
    else:
        stdout.print("No rows in quarantine.")


docs_app = typer.Typer(help="Write generated reference documentation.", no_args_is_help=True)
app.add_typer(docs_app, name="docs")


@docs_app.command("data-model")
def docs_data_model(
    out: Annotated[Path, typer.Option(help="Where to write the Markdown.")] = Path(
        "docs/data-model.md"
    ),
) -> None:
    """Write the data model reference (every table, column, type and rule)."""
    from segmint.model.docs import render_data_model

    out.write_text(render_data_model(), encoding="utf-8")
    stdout.print(f"Wrote {out}")


app.add_typer(identity_app, name="identity")
app.add_typer(profiles_app, name="profiles")
register_imports(app)
register_segments(app)
app.command("demo-data")(demo_data)
app.add_typer(clv_app, name="clv")
app.add_typer(warehouse_app, name="warehouse")
app.command()(quickstart)


def main() -> None:
    """Entry point: user errors print one clear line and exit 1, without a traceback."""
    try:
        app()
    except SegmintError as exc:
        if "--json" in sys.argv:
            print_json({"error": str(exc)})
        else:
            stderr.print(f"[red]error:[/red] {exc}", highlight=False)
        sys.exit(1)
