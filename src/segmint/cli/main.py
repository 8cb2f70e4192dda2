"""The ``segmint`` command line: a few lines per command over :class:`segmint.Workspace`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from segmint.cli.console import RichConsole, print_json, stderr, stdout
from segmint.errors import SegmintError
from segmint.workspace import WORKSPACE_ENV, Workspace

app = typer.Typer(
    name="segmint",
    help="Customer segmentation for e-commerce stores: import, unify, profile, segment.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

WorkspaceOption = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        "-w",
        envvar=WORKSPACE_ENV,
        help=f"Workspace folder (default: ${WORKSPACE_ENV}, else the current folder).",
        show_default=False,
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print a machine-readable JSON result instead of tables.")
]


def open_workspace(path: Path | None, quiet: bool = False) -> Workspace:
    return Workspace.open(path, console=RichConsole(quiet=quiet))


@app.command()
def init(
    directory: Annotated[
        Path | None, typer.Argument(help="Folder to create the workspace in.")
    ] = None,
    workspace: WorkspaceOption = None,
    name: Annotated[str | None, typer.Option(help="Name of the store.")] = None,
    json: JsonOption = False,
) -> None:
    """Create a workspace: a segmint.toml config and an empty embedded warehouse."""
    with Workspace.init(directory or workspace, name=name) as ws:
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
