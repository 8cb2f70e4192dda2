"""Options every command shares, and how a command opens its workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from segmint.cli.console import RichConsole
from segmint.workspace import WORKSPACE_ENV, Workspace

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
    """Open the workspace of a command; progress goes to standard error unless ``quiet``."""
    return Workspace.open(path, console=RichConsole(quiet=quiet))
