"""``segmint quickstart``: the main job on the embedded default, end to end, on a demo store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from segmint.cli.console import RichConsole, print_json, stdout
from segmint.config import CONFIG_FILE, save_config
from segmint.workspace import Workspace

DEFAULT_DIR = Path("demo-store")


def quickstart(
    workspace: Annotated[
        Path,
        typer.Option(
            "--workspace", "-w", envvar="SEGMINT_WORKSPACE", help="Workspace folder to fill."
        ),
    ] = DEFAULT_DIR,
    customers: Annotated[int, typer.Option(min=100, help="Customers in the demo store.")] = 5_000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same store.")] = 7,
    json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Generate a demo store, import it, build profiles and print what segmint sees.

    Runs again safely: the workspace is reused and re-imports change nothing.
    """
    from segmint.demo import generate_store

    console = RichConsole(quiet=json)
    root = workspace.expanduser().resolve()
    fresh = not (root / CONFIG_FILE).exists()
    ws = (
        Workspace.init(root, name="Demo store", console=console)
        if fresh
        else Workspace.open(root, console=console)
    )
    with ws:
        console.info(f"Writing a demo store of {customers:,} customers (seed {seed})...")
        manifest = generate_store(
            root / "demo-data", customers=customers, seed=seed, console=console
        )
        if fresh or ws.config.clock is None:
            # The demo store ends on a fixed day; freeze the workspace clock just after it so
            # "last 7 days" means the demo's last week, today and in a year.
            end = dt.date.fromisoformat(manifest.end_date) + dt.timedelta(days=1)
            ws.config = ws.config.model_copy(update={"clock": dt.datetime.combine(end, dt.time())})
            save_config(root, ws.config)
        imports = []
        for item in manifest.files:
            fmt: Any = item.format if item.format != "csv" else None
            result = ws.import_file(item.kind, root / "demo-data" / item.path, format=fmt)
            imports.append(result)
        console.info("Resolving identities and building profiles...")
        build = ws.build_profiles()
        console.info("Fitting the CLV models...")
        clv = ws.fit_clv()
        summary = ws.profiles_summary()
        console.info("Evaluating every built-in segment template...")
        runs = _run_templates(ws)
        report: dict[str, Any] = {
            "workspace": str(root),
            "imports": [r.to_dict() for r in imports],
            "tables": ws.status().tables,
            "profiles": build.to_dict(),
            "summary": summary.to_dict(),
            "clv": {k: v for k, v in clv.to_dict().items() if not k.endswith("_model")},
            "segments": [r.to_dict() for r in runs],
        }

    if json:
        print_json(report)
        return
    _print_imports(imports)
    _print_summary(summary)
    stdout.print(
        f"CLV ({clv.model}, {clv.customers:,} buyers): "
        + ", ".join(f"{k}={v:.3g}" for k, v in clv.params.items())
        + f"; log-likelihood {clv.log_likelihood:,.1f}. Traits clv_* are on every buyer's profile."
    )
    _print_runs(runs)
    stdout.print(f"\nWorkspace: {root}  (try `segmint status -w {workspace}`)")


def _run_templates(ws: Workspace) -> list[Any]:
    """Save each built-in template (default parameters) as a segment of its name, and run it."""
    from segmint.segments.templates import BUILTIN_TEMPLATES

    saved = {s["name"] for s in ws.segments.list_segments()}
    runs = []
    for name in BUILTIN_TEMPLATES:
        if name not in saved:
            ws.segments.create(ws.segments.from_template(name, name))
        runs.append(ws.segments.run(name))
    return runs


def _print_runs(runs: list[Any]) -> None:
    table = Table(title="Built-in segment templates (default parameters)")
    for col in ("segment", "members", "entered", "exited", "opted out, left out"):
        table.add_column(col, justify="left" if col == "segment" else "right")
    for run in runs:
        table.add_row(
            run.segment,
            f"{run.members:,}",
            f"{run.entered:,}",
            f"{run.exited:,}",
            f"{run.consent_excluded:,}",
        )
    stdout.print(table)


def _print_summary(summary: Any) -> None:
    overview = Table(title=f"Customer base as of {summary.as_of:%Y-%m-%d %H:%M} UTC")
    overview.add_column("measure")
    overview.add_column("value", justify="right")
    repeat = f"{summary.repeat_rate:.1%}" if summary.repeat_rate is not None else "-"
    for label, value in (
        ("profiles (people)", f"{summary.profiles:,}"),
        ("identified", f"{summary.identified:,}"),
        ("buyers", f"{summary.buyers:,}"),
        ("orders", f"{summary.orders:,}"),
        ("revenue", summary.revenue),
        ("average order value", summary.average_order_value or "-"),
        ("repeat rate", repeat),
        ("opted out of marketing", f"{summary.opted_out:,}"),
    ):
        overview.add_row(label, value)
    stdout.print(overview)
    for title, counts in (
        ("RFM segments", summary.rfm_segments),
        ("Lifecycle stages", summary.lifecycle_stages),
    ):
        table = Table(title=title)
        table.add_column("name")
        table.add_column("profiles", justify="right")
        for name, count in counts.items():
            table.add_row(str(name), f"{count:,}")
        stdout.print(table)


def _print_imports(imports: list[Any]) -> None:
    table = Table(title="Imported")
    for col in ("file", "kind", "read", "inserted", "updated", "unchanged", "rejected"):
        table.add_column(col, justify="left" if col in ("file", "kind") else "right")
    for r in imports:
        table.add_row(
            Path(r.file).name,
            r.kind,
            f"{r.rows_read:,}",
            f"{r.inserted:,}",
            f"{r.updated:,}",
            f"{r.unchanged:,}",
            f"{r.rejected:,}",
        )
    stdout.print(table)
