"""``segmint profiles``: build, look at, summarise and export customer profiles."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from segmint.cli.console import print_json, stdout
from segmint.cli.options import JsonOption, WorkspaceOption, open_workspace

profiles_app = typer.Typer(
    help="Customer profiles: one row per person with every trait to segment on.",
    no_args_is_help=True,
)

ReadPrefixOption = Annotated[
    str, typer.Option("--prefix", help="Table prefix of an as-of build (e.g. asof_20250601_).")
]


@profiles_app.command("build")
def build(
    workspace: WorkspaceOption = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Build as of a past date (YYYY-MM-DD: the end of that day, UTC) or ISO time; "
            "written to tables prefixed asof_<date>_.",
            show_default=False,
        ),
    ] = None,
    prefix: Annotated[
        str | None,
        typer.Option(help="Table prefix to write (default: none; asof_<date>_ with --as-of)."),
    ] = None,
    full_identity: Annotated[
        bool, typer.Option("--full-identity", help="Rebuild the identity graph from scratch.")
    ] = False,
    json: JsonOption = False,
) -> None:
    """Resolve identities, then compute every profile trait (one transaction)."""
    with open_workspace(workspace, quiet=json) as ws:
        result = ws.build_profiles(as_of=as_of, prefix=prefix, full_identity=full_identity)
    if json:
        print_json(result.to_dict())
        return
    title = f"Profiles as of {result.as_of:%Y-%m-%d %H:%M:%S} UTC ({result.seconds:.1f} s)"
    table = Table(title=title, show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    for what, count in (
        ("profiles", result.profiles),
        ("identified (customer id, email or phone)", result.identified),
        ("buyers", result.buyers),
        ("category / product line rows", result.category_rows),
        ("email category rows", result.email_category_rows),
    ):
        table.add_row(what, f"{count:,}")
    issues = result.issues
    for what, count in (
        ("orders not attributed to a person", issues.unresolved_orders),
        ("events with neither anonymous_id nor user_id", issues.events_without_ids),
        ("events not attributed to a person", issues.unresolved_events),
        ("customer records not attributed", issues.unresolved_customers),
        ("reviews not attributed", issues.unresolved_reviews),
        ("tickets not attributed", issues.unresolved_tickets),
        ("order lines of unknown orders", issues.orphan_order_lines),
        ("purchases without line items", issues.purchases_without_lines),
        ("purchased lines without a category", issues.lines_without_category),
    ):
        if count:
            table.add_row(f"[yellow]{what}[/yellow]", f"{count:,}")
    later = sum(result.after_as_of.values())
    if later:
        table.add_row("records after the build date (left out)", f"{later:,}")
    stdout.print(table)
    if result.prefix:
        stdout.print(
            f"Tables written with prefix [bold]{result.prefix}[/bold] "
            f"(read them with --prefix {result.prefix})."
        )


@profiles_app.command("show")
def show(
    key: Annotated[
        str, typer.Argument(help="Email, phone, customer id, anonymous id, type:value or p_...")
    ],
    workspace: WorkspaceOption = None,
    prefix: ReadPrefixOption = "",
    limit: Annotated[int, typer.Option(help="Timeline entries to show.", min=1)] = 50,
    json: JsonOption = False,
) -> None:
    """One person: traits, identifiers, merge history and a timeline of what they did."""
    with open_workspace(workspace, quiet=json) as ws:
        view = ws.profile(key, prefix=prefix, timeline_limit=limit)
    if json:
        print_json(view.to_dict())
        return
    traits = Table(title=f"Profile {view.profile_id}", show_header=False)
    traits.add_column("trait")
    traits.add_column("value")
    for name, value in view.traits.items():
        if value is not None and value != 0:
            traits.add_row(name, _cell(value))
    stdout.print(traits)
    stdout.print("[dim]Traits that are empty or 0 are not shown (--json shows all).[/dim]")
    _print_rows("Identifiers", view.identifiers)
    _print_rows("Merge history", view.merges)
    _print_rows("Categories and product lines", view.category_stats)
    _print_rows("Email categories", view.email_stats)
    _print_rows("Timeline (newest first)", view.timeline)
    if view.timeline_truncated:
        stdout.print(f"[dim]Only the latest {limit} entries; see more with --limit.[/dim]")


@profiles_app.command("summary")
def summary(
    workspace: WorkspaceOption = None,
    prefix: ReadPrefixOption = "",
    json: JsonOption = False,
) -> None:
    """Customers, buyers, revenue, repeat rate, RFM segments and lifecycle stages."""
    with open_workspace(workspace, quiet=json) as ws:
        result = ws.profiles_summary(prefix=prefix)
    if json:
        print_json(result.to_dict())
        return
    as_of = f"{result.as_of:%Y-%m-%d %H:%M:%S} UTC" if result.as_of else "-"
    head = Table(title=f"Customer base as of {as_of}", show_header=False)
    head.add_column("what")
    head.add_column("value", justify="right")
    head.add_row("profiles", f"{result.profiles:,}")
    head.add_row("identified", f"{result.identified:,}")
    head.add_row("buyers", f"{result.buyers:,}")
    head.add_row("orders", f"{result.orders:,}")
    head.add_row("revenue (net of refunds)", result.revenue)
    head.add_row("average order value", result.average_order_value or "-")
    rate = f"{result.repeat_rate:.1%}" if result.repeat_rate is not None else "-"
    head.add_row("repeat rate (buyers with 2+ orders)", rate)
    head.add_row("opted out of marketing", f"{result.opted_out:,}")
    stdout.print(head)
    for title, counts in (
        ("RFM segments", result.rfm_segments),
        ("Lifecycle stages", result.lifecycle_stages),
    ):
        table = Table(title=title)
        table.add_column("name")
        table.add_column("profiles", justify="right")
        table.add_column("share", justify="right")
        total = sum(counts.values())
        for name, count in counts.items():
            share = f"{count / total:.1%}" if total else "-"
            table.add_row(name, f"{count:,}", share)
        stdout.print(table)


@profiles_app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", help="File to write.", show_default=False)],
    workspace: WorkspaceOption = None,
    format: Annotated[
        str | None, typer.Option("--format", help="csv or parquet (default: from --out).")
    ] = None,
    table: Annotated[
        str, typer.Option(help="profiles, category_stats or email_stats.")
    ] = "profiles",
    prefix: ReadPrefixOption = "",
    json: JsonOption = False,
) -> None:
    """Write the profiles (or a long table) to a CSV or Parquet file."""
    with open_workspace(workspace, quiet=json) as ws:
        result = ws.export_profiles(out, format=format, table=table, prefix=prefix)
    if json:
        print_json(result.to_dict())
    else:
        stdout.print(f"Wrote {result.rows:,} rows of {result.table} to {result.path}")


@profiles_app.command("catalogue")
def catalogue(
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print docs/profiles.md (generated).")
    ] = False,
    json: JsonOption = False,
) -> None:
    """Every profile trait: name, type, unit, source and meaning."""
    from segmint.profiles.catalogue import profile_traits
    from segmint.profiles.docs import render_profiles_doc

    if markdown:
        typer.echo(render_profiles_doc(), nl=False)
        return
    traits = profile_traits()
    if json:
        print_json(
            [
                {
                    "name": t.name,
                    "type": t.type.value,
                    "unit": t.unit,
                    "source": t.source,
                    "description": t.description,
                    "choices": list(t.choices),
                }
                for t in traits
            ]
        )
        return
    table = Table(title=f"{len(traits)} profile traits (docs/profiles.md)")
    for column in ("trait", "type", "unit", "source", "description"):
        table.add_column(column)
    for t in traits:
        table.add_row(t.name, t.type.value, t.unit or "", t.source, t.description)
    stdout.print(table)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _print_rows(title: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        stdout.print(f"[dim]{title}: none[/dim]")
        return
    table = Table(title=title)
    columns = list(rows[0])
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(_cell(row[c]) if row[c] is not None else "" for c in columns))
    stdout.print(table)
