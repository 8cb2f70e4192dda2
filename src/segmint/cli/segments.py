"""``segmint segment ...`` and ``segmint template ...``: a few lines per command over
:attr:`segmint.Workspace.segments`."""

from __future__ import annotations

import json as jsonlib
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.table import Table

from segmint.cli.console import print_json, stdout
from segmint.cli.options import JsonOption, WorkspaceOption, open_workspace
from segmint.errors import SegmintError, WorkspaceError
from segmint.segments.model import SegmentDefinition
from segmint.segments.templates import BUILTIN_TEMPLATES, get_template
from segmint.segments.validation import DefinitionError, read_document

segment_app = typer.Typer(
    help="Dynamic segments: create, preview, run, explain, export.", no_args_is_help=True
)
template_app = typer.Typer(
    help="Segment templates: built-in ones and custom SQL templates.", no_args_is_help=True
)

FileOption = Annotated[
    Path | None, typer.Option("--file", "-f", help="Definition file (YAML or JSON).")
]
TemplateOption = Annotated[
    str | None, typer.Option("--template", "-t", help="Built-in template to start from.")
]
ParamOption = Annotated[
    list[str] | None,
    typer.Option("--param", "-p", help="Template parameter as name=value (repeatable)."),
]
AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="Evaluate as of this date or time (UTC); default: now."),
]
DIALECTS = ("duckdb", "postgres", "spark", "bigquery", "snowflake")


def register(app: typer.Typer) -> None:
    """Add the ``segment`` and ``template`` command groups to the main app."""
    app.add_typer(segment_app, name="segment")
    app.add_typer(template_app, name="template")


def _params(pairs: list[str] | None) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise SegmintError(f"--param {pair!r}: write name=value")
        params[key.strip()] = value.strip()
    return params


def _definition(
    name: str | None,
    file: Path | None,
    template: str | None,
    params: list[str] | None,
    *,
    title: str | None = None,
    purpose: str | None = None,
    holdout: float | None = None,
) -> dict[str, Any] | SegmentDefinition:
    if file is not None and template is not None:
        raise SegmintError("give either --file or --template, not both")
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise SegmintError(f"cannot read {file}: {exc.strerror}") from None
        document = read_document(text, source=str(file))
        if name:
            document["name"] = name
        for key, value in (("title", title), ("purpose", purpose), ("holdout_percent", holdout)):
            if value is not None:
                document[key] = value
        return document
    if template is not None:
        if not name:
            raise SegmintError("name the new segment: segmint segment create NAME --template ...")
        return get_template(template).instantiate(
            name, _params(params), title=title, purpose=purpose, holdout_percent=holdout
        )
    raise SegmintError("give a definition with --file PATH or a template with --template NAME")


def _fail_json(exc: SegmintError, json: bool) -> None:
    if json and isinstance(exc, DefinitionError):
        print_json(exc.to_dict())
        raise typer.Exit(1)
    raise exc


@segment_app.command("create")
def create(
    name: Annotated[str | None, typer.Argument(help="Segment name (default: the file's).")] = None,
    file: FileOption = None,
    template: TemplateOption = None,
    param: ParamOption = None,
    title: Annotated[str | None, typer.Option(help="Display name.")] = None,
    purpose: Annotated[str | None, typer.Option(help="marketing (default) or analysis.")] = None,
    holdout: Annotated[
        float | None, typer.Option(help="Control group share, in percent (e.g. 10).")
    ] = None,
    replace: Annotated[
        bool, typer.Option(help="Save a new version of an existing segment.")
    ] = False,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Validate and save a segment from a definition file or a template."""
    with open_workspace(workspace, quiet=json) as ws:
        try:
            data = _definition(
                name, file, template, param, title=title, purpose=purpose, holdout=holdout
            )
            stored = ws.segments.create(data, replace=replace)
        except SegmintError as exc:
            _fail_json(exc, json)
            return
    if json:
        print_json(stored.to_dict())
    else:
        stdout.print(f"Saved segment [bold]{stored.name}[/bold] version {stored.version}")


@segment_app.command("list")
def list_segments(workspace: WorkspaceOption = None, json: JsonOption = False) -> None:
    """Segments with their version, purpose and latest size."""
    with open_workspace(workspace, quiet=json) as ws:
        rows = ws.segments.list_segments()
    if json:
        print_json(rows)
        return
    table = Table(title="Segments")
    for column in ("name", "version", "purpose", "template", "members", "last run (as of)"):
        table.add_column(column, justify="right" if column in ("version", "members") else "left")
    for r in rows:
        members = "" if r["members"] is None else f"{r['members']:,}"
        table.add_row(
            r["name"],
            str(r["version"]),
            r["purpose"],
            r["template"] or "",
            members,
            r["last_run_as_of"] or "never",
        )
    stdout.print(table)


@segment_app.command("show")
def show(
    name: str,
    version: Annotated[int | None, typer.Option(help="A given version (default: current).")] = None,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Print a segment's definition (YAML, or JSON with --json)."""
    with open_workspace(workspace, quiet=json) as ws:
        stored = ws.segments.get(name, version)
    if json:
        print_json(stored.to_dict())
    else:
        stdout.print(
            f"# {stored.name} version {stored.version}, saved {stored.created_at:%Y-%m-%d %H:%M}"
        )
        typer.echo(
            yaml.safe_dump(stored.definition.to_document(), sort_keys=False, allow_unicode=True)
        )


@segment_app.command("preview")
def preview(
    name: Annotated[str | None, typer.Argument(help="A saved segment.")] = None,
    file: FileOption = None,
    template: TemplateOption = None,
    param: ParamOption = None,
    as_of: AsOfOption = None,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Size, share of profiles and revenue, a sample and overlaps, without saving."""
    with open_workspace(workspace, quiet=json) as ws:
        try:
            target: Any = name
            if file is not None or template is not None:
                target = _definition(name or "preview", file, template, param)
            if target is None:
                raise SegmintError("name a saved segment, or give --file or --template")
            result = ws.segments.preview(target, as_of=as_of)
        except SegmintError as exc:
            _fail_json(exc, json)
            return
    if json:
        print_json(result.to_dict())
        return
    share = (
        f" ({result.share_of_profiles:.1%} of profiles)"
        if result.share_of_profiles is not None
        else ""
    )
    stdout.print(
        f"[bold]{result.segment}[/bold] as of {result.as_of:%Y-%m-%d %H:%M}: "
        f"{result.size:,} members{share}"
    )
    if result.share_of_revenue is not None:
        stdout.print(f"Revenue: {result.revenue or 0:,.2f} ({result.share_of_revenue:.1%} of all)")
    if result.purpose == "marketing":
        stdout.print(f"Left out for marketing consent: {result.consent_excluded:,}")
    else:
        stdout.print(
            f"Analysis only: includes {result.opted_out_included:,} people who opted out "
            "of marketing"
        )
    if result.holdout:
        stdout.print(f"Control group: {result.holdout:,}")
    if result.sample:
        sample = Table(title="Sample of members")
        shown = [
            c
            for c in ("profile_id", "email", "order_count", "total_spend", "rfm_segment", "holdout")
            if c in result.sample[0]
        ]
        for column in shown:
            sample.add_column(column)
        for row in result.sample:
            sample.add_row(*("" if row[c] is None else str(row[c]) for c in shown))
        stdout.print(sample)
    if result.overlap:
        overlap = Table(title="Overlap with other segments")
        for heading in ("segment", "overlap", "share of theirs"):
            overlap.add_column(heading)
        for o in result.overlap:
            ratio = "" if o["share_of_other"] is None else f"{o['share_of_other']:.1%}"
            overlap.add_row(o["segment"], f"{o['overlap']:,}", ratio)
        stdout.print(overlap)


@segment_app.command("run")
def run(
    name: Annotated[str | None, typer.Argument(help="Segment to run.")] = None,
    all_segments: Annotated[bool, typer.Option("--all", help="Run every segment.")] = False,
    as_of: AsOfOption = None,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Evaluate segments, store their members and record who entered and exited."""
    with open_workspace(workspace, quiet=json) as ws:
        if all_segments == (name is not None):
            raise SegmintError("name one segment, or use --all")
        names = ws.segments.store.names() if all_segments else [str(name)]
        records = [ws.segments.run(n, as_of=as_of) for n in names]
    if json:
        print_json([r.to_dict() for r in records] if all_segments else records[0].to_dict())
        return
    for r in records:
        stdout.print(
            f"[bold]{r.segment}[/bold]: {r.members:,} members, {r.entered:,} entered, "
            f"{r.exited:,} exited (as of {r.as_of:%Y-%m-%d %H:%M})"
        )


@segment_app.command("history")
def history(
    name: str,
    changes: Annotated[bool, typer.Option(help="List who entered and exited.")] = False,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Size over time, run by run, and (with --changes) who entered and exited."""
    with open_workspace(workspace, quiet=json) as ws:
        result = ws.segments.history(name, changes=changes)
    if json:
        print_json(result.to_dict())
        return
    table = Table(title=f"History of {name}")
    for column in ("run", "as of", "version", "members", "entered", "exited", "holdout"):
        table.add_column(column, justify="left" if column == "as of" else "right")
    for r in result.runs:
        table.add_row(
            str(r.run_number),
            f"{r.as_of:%Y-%m-%d %H:%M}",
            str(r.version),
            f"{r.members:,}",
            f"{r.entered:,}",
            f"{r.exited:,}",
            f"{r.holdout:,}",
        )
    stdout.print(table)
    for c in result.changes:
        stdout.print(f"run {c['run_number']}: {c['change']:8} {c['profile_id']}")


@segment_app.command("explain")
def explain(
    name: str,
    profile_id: str,
    as_of: AsOfOption = None,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """For one profile: each condition with its value and whether it passed."""
    with open_workspace(workspace, quiet=json) as ws:
        result = ws.segments.explain(name, profile_id, as_of=as_of)
    if json:
        print_json(result.to_dict())
    else:
        for line in result.lines():
            stdout.print(line, highlight=False, markup=False)


@segment_app.command("sql")
def sql(
    name: Annotated[str | None, typer.Argument(help="A saved segment.")] = None,
    file: FileOption = None,
    dialect: Annotated[
        str, typer.Option(help="duckdb, postgres, spark, bigquery or snowflake.")
    ] = "duckdb",
    as_of: AsOfOption = None,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Print the SQL that selects a segment's members, in a SQL dialect."""
    if dialect not in DIALECTS:
        raise SegmintError(f"unknown dialect {dialect!r}; use one of {', '.join(DIALECTS)}")
    with open_workspace(workspace, quiet=True) as ws:
        target: Any = _definition(name, file, None, None) if file is not None else name
        if target is None:
            raise SegmintError("name a saved segment, or give --file")
        text = ws.segments.sql(target, dialect=dialect, as_of=as_of)
    if json:
        print_json({"dialect": dialect, "sql": text})
    else:
        typer.echo(text)


@segment_app.command("export")
def export(
    name: str,
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write.")],
    format: Annotated[
        str | None, typer.Option(help="csv or parquet (default: by the suffix).")
    ] = None,
    include_holdout: Annotated[bool, typer.Option(help="Include the control group.")] = False,
    trait: Annotated[list[str] | None, typer.Option(help="Trait to add (repeatable).")] = None,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Write the current members (from the latest run) to a file."""
    if format not in (None, "csv", "parquet"):
        raise SegmintError(f"unknown format {format!r}; use csv or parquet")
    with open_workspace(workspace, quiet=json) as ws:
        rows = ws.segments.export(
            name,
            output,
            format=format,  # type: ignore[arg-type]
            include_holdout=include_holdout,
            traits=trait,
        )
    if json:
        print_json({"segment": name, "path": str(output), "rows": rows})
    else:
        stdout.print(f"Wrote {rows:,} members of {name} to {output}")


@segment_app.command("delete")
def delete(
    name: str,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Delete a segment (its run history is kept)."""
    if not yes and not json and not typer.confirm(f"Delete segment {name}?"):
        raise typer.Exit(1)
    with open_workspace(workspace, quiet=json) as ws:
        ws.segments.delete(name)
    if json:
        print_json({"deleted": name})
    else:
        stdout.print(f"Deleted segment {name}")


# -- templates -------------------------------------------------------------------------------------


@template_app.command("list")
def template_list(workspace: WorkspaceOption = None, json: JsonOption = False) -> None:
    """Built-in templates and the workspace's custom SQL templates."""
    try:
        with open_workspace(workspace, quiet=json) as ws:
            custom = ws.segments.list_sql_templates()
    except WorkspaceError:
        custom = []  # outside a workspace the built-in library is still worth listing
    rows = [
        {"name": t.name, "kind": "built-in", "title": t.title, "description": t.describe()}
        for t in BUILTIN_TEMPLATES.values()
    ] + [
        {
            "name": t.name,
            "kind": f"sql ({t.dialect})",
            "title": t.name,
            "description": t.description,
        }
        for t in custom
    ]
    if json:
        print_json(rows)
        return
    table = Table(title="Segment templates")
    for column in ("name", "kind", "description"):
        table.add_column(column)
    for r in rows:
        table.add_row(r["name"], r["kind"], r["description"])
    stdout.print(table)


@template_app.command("show")
def template_show(name: str, workspace: WorkspaceOption = None, json: JsonOption = False) -> None:
    """A template's parameters and body (a built-in one, or a custom SQL template)."""
    if name in BUILTIN_TEMPLATES:
        data = BUILTIN_TEMPLATES[name].to_dict()
    else:
        with open_workspace(workspace, quiet=json) as ws:
            custom = ws.segments.get_sql_template(name)
        if custom is None:
            get_template(name)  # raises with a "did you mean"
            return
        data = custom.to_dict()
    if json:
        print_json(data)
    else:
        typer.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


@template_app.command("create")
def template_create(
    name: str,
    sql_file: Annotated[Path, typer.Option("--sql-file", help="File with one SELECT statement.")],
    dialect: Annotated[str, typer.Option(help="Dialect the SQL is written in.")] = "duckdb",
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="Parameter as name:type or name:type=default."),
    ] = None,
    description: Annotated[str, typer.Option(help="What it selects, in plain words.")] = "",
    replace: Annotated[bool, typer.Option(help="Save a new version.")] = False,
    workspace: WorkspaceOption = None,
    json: JsonOption = False,
) -> None:
    """Save a custom SQL template (a read-only SELECT returning profile_id)."""
    try:
        text = sql_file.read_text(encoding="utf-8")
    except OSError as exc:
        raise SegmintError(f"cannot read {sql_file}: {exc.strerror}") from None
    with open_workspace(workspace, quiet=json) as ws:
        template = ws.segments.create_sql_template(
            name,
            text,
            dialect=dialect,
            parameters=list(param or []),
            description=description,
            replace=replace,
        )
    if json:
        print_json(template.to_dict())
    else:
        stdout.print(
            f"Saved SQL template [bold]{name}[/bold] version {template.version}; use it "
            f"in a segment as {jsonlib.dumps({'type': 'sql_template', 'template': name})}"
        )


@template_app.command("delete")
def template_delete(name: str, workspace: WorkspaceOption = None, json: JsonOption = False) -> None:
    """Delete a custom SQL template (refused while a segment uses it)."""
    with open_workspace(workspace, quiet=json) as ws:
        ws.segments.delete_sql_template(name)
    if json:
        print_json({"deleted": name})
    else:
        stdout.print(f"Deleted SQL template {name}")


@segment_app.command("schema")
def schema(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write.")] = None,
) -> None:
    """Print (or write) the JSON Schema of segment definitions."""
    from segmint.segments.schema import schema_text, write_schema

    if output is None:
        typer.echo(schema_text(), nl=False)
    else:
        write_schema(output)
        stdout.print(f"Wrote {output}")
