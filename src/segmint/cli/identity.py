"""``segmint identity``: build the identity graph, look a person up, list guarded identifiers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from segmint.cli.console import print_json, stdout
from segmint.cli.options import JsonOption, WorkspaceOption, open_workspace

identity_app = typer.Typer(
    help="Identity resolution: one person, one profile_id.", no_args_is_help=True
)

PrefixOption = Annotated[
    str | None,
    typer.Option(help="Table prefix of an as-of build (default: asof_<date>_ with --as-of)."),
]


@identity_app.command("build")
def build(
    workspace: WorkspaceOption = None,
    full: Annotated[
        bool, typer.Option("--full", help="Rebuild from every record instead of new ones only.")
    ] = False,
    as_of: Annotated[
        datetime | None,
        typer.Option(
            "--as-of",
            help="Use only records up to this date/time (UTC), into tables of their own.",
            formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"],
        ),
    ] = None,
    prefix: PrefixOption = None,
    json: JsonOption = False,
) -> None:
    """Resolve identifiers from every source table into profiles (incremental by default)."""
    with open_workspace(workspace, quiet=json) as ws:
        result = ws.build_identity(full=full, as_of=as_of, prefix=prefix)
    if json:
        print_json(result.to_dict())
        return
    table = Table(
        title=f"Identity build ({result.mode}, {result.seconds:.1f} s)", show_header=False
    )
    table.add_column("what")
    table.add_column("count", justify="right")
    rows = [
        ("profiles", result.profiles),
        ("identifiers", result.identifiers),
        ("records read", result.records_read),
        ("merges this run", result.merges),
        ("splits this run", result.splits),
        ("guarded identifiers", result.guarded),
        ("invalid phone numbers", result.invalid_phones),
        ("invalid emails", result.invalid_emails),
    ]
    rows += [(f"unresolved {kind}", n) for kind, n in result.unresolved.items() if n]
    for what, count in rows:
        table.add_row(what, f"{count:,}")
    stdout.print(table)
    if result.prefix:
        stdout.print(f"Tables written with prefix [bold]{result.prefix}[/bold].")
    if result.guarded:
        stdout.print("Held-back identifiers: segmint identity guarded")


@identity_app.command("show")
def show(
    identifier: Annotated[
        str, typer.Argument(help="Email, phone, customer id, anonymous id, type:value or p_...")
    ],
    workspace: WorkspaceOption = None,
    prefix: Annotated[str, typer.Option(help="Table prefix of an as-of build.")] = "",
    json: JsonOption = False,
) -> None:
    """A profile: its identifiers, the records linking them, and its merge history."""
    with open_workspace(workspace, quiet=json) as ws:
        result = ws.explain_identity(identifier, prefix=prefix)
    if json:
        print_json(result.to_dict())
        return
    if result.note:
        stdout.print(result.note, highlight=False)
    if result.profile_id is None and not result.merges:
        raise typer.Exit(1)
    if result.profile_id:
        stdout.print(f"Profile [bold]{result.profile_id}[/bold]")
        counts = ", ".join(f"{n:,} {source}" for source, n in result.records.items())
        stdout.print(f"Records: {counts or 'none'}")
        _print(
            "Identifiers",
            result.identifiers,
            ["id_type", "id_value", "first_seen", "last_seen", "guard_reason"],
        )
        shown = f"{len(result.links)} of {result.links_total}"
        _print(
            f"Links ({shown})",
            result.links,
            ["a_type", "a_value", "b_type", "b_value", "source", "source_key", "seen_at"],
        )
    if result.guarded:
        _print(
            "Guarded identifiers seen with it", result.guarded, ["id_type", "id_value", "reason"]
        )
    _print(
        "Merge history",
        result.merges,
        [
            "recorded_at",
            "action",
            "from_profile_id",
            "to_profile_id",
            "source",
            "source_key",
            "reason",
        ],
    )


@identity_app.command("guarded")
def guarded(
    workspace: WorkspaceOption = None,
    prefix: Annotated[str, typer.Option(help="Table prefix of an as-of build.")] = "",
    json: JsonOption = False,
) -> None:
    """Identifiers the over-merge guard holds back (shared devices, placeholder emails...)."""
    with open_workspace(workspace, quiet=json) as ws:
        rows = ws.guarded_identifiers(prefix=prefix)
    if json:
        print_json(rows)
        return
    if not rows:
        stdout.print("No identifier is held back.")
        return
    _print(
        f"Guarded identifiers ({len(rows)})",
        rows,
        ["id_type", "id_value", "customers", "reason", "profile_id"],
    )


def _print(title: str, rows: list[dict[str, Any]], columns: list[str]) -> None:
    if not rows:
        return
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    stdout.print(table)
