"""``run_import``: one file into the warehouse, all or nothing, with every bad row accounted for.

The stages, each a few statements inside the engine:

1. **look** at the file (:mod:`segmint.ingest.files`): exists, not empty, not binary, readable
   in its encoding; a file that fails here is one :class:`~segmint.errors.ImportFileError`.
2. **plan** which fields fill which columns (canonical names, Shopify, or a mapping file) from
   the header; missing required columns are a whole-file error.
3. **read and validate**: typed values and a rejection reason per row. A file that fills one
   table is validated while it is read, in one pass (``Engine.stage_file`` with a transform);
   a file that fills several (a Shopify order export) or needs the file order (line numbers)
   is staged as text first. Duplicate keys and rows of rejected orders are then marked.
4. **write**, in one transaction: quarantine, upserts, the ``imports`` record.

Temporary tables are dropped whatever happens; when anything fails before the commit, the
warehouse is as it was.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlglot import exp

from segmint.console import Console
from segmint.engines.base import FILE_SOURCE, Engine, StagedFile
from segmint.errors import ImportFileError
from segmint.ingest.files import ProbedFile, probe, remove_quietly, transcode_to_utf8
from segmint.ingest.mapping import ColumnMapping, load_mapping, mapped_plan
from segmint.ingest.plan import (
    STAGE,
    ImportPlan,
    TargetPlan,
    canonical_plan,
    jsonl_fields,
    jsonl_plan,
    table_for_kind,
)
from segmint.ingest.shopify import (
    SHOPIFY_CUSTOMERS,
    SHOPIFY_ORDERS,
    detect_layout,
    shopify_customers_plan,
    shopify_orders_plan,
)
from segmint.ingest.types import ImportRequest, ImportResult
from segmint.ingest.validate import (
    RowNumbers,
    ValidatedTarget,
    mark_duplicates,
    reject_orphans,
    validate_target,
    validation_query,
)
from segmint.ingest.writer import (
    TableCounts,
    build_quarantine,
    insert_quarantine,
    record_import,
    write_target,
)
from segmint.model.tables import Table

#: Which KINDs a Shopify layout can be imported as.
_SHOPIFY_KINDS = {SHOPIFY_ORDERS: ("orders", "order_lines"), SHOPIFY_CUSTOMERS: ("customers",)}


def quarantine_query(import_id: str) -> str:
    """The SQL a user runs to see the rows an import rejected."""
    return f"SELECT * FROM quarantine WHERE import_id = '{import_id}' ORDER BY row_number"


def new_import_id(at: dt.datetime) -> str:
    """Sortable and unique: ``imp_20261122_174501_3fa2c1``."""
    return f"imp_{at:%Y%m%d_%H%M%S}_{uuid.uuid4().hex[:6]}"


@dataclass
class _Read:
    """The file as read: staged as text, or already validated (then ``validated`` is set)."""

    staged: StagedFile
    validated: ValidatedTarget | None = None


def run_import(engine: Engine, request: ImportRequest, console: Console) -> ImportResult:
    """Import one file (see the module docstring); returns the counts of the run.

    Raises :class:`~segmint.errors.ImportFileError`, and writes nothing, for a file that
    cannot be imported at all.
    """
    clock = time.perf_counter()
    started = dt.datetime.now(dt.UTC)
    import_id = new_import_id(started)
    table = table_for_kind(request.kind)
    path = Path(request.path).expanduser()
    file_label = str(path.resolve())
    mapping = load_mapping(request.mapping, table.name) if request.mapping else None
    layout = request.format if request.format in _SHOPIFY_KINDS else None
    if layout and table.name not in _SHOPIFY_KINDS[layout]:
        raise ImportFileError(
            f"a {layout} file fills {' and '.join(_SHOPIFY_KINDS[layout])}, not {table.name}"
        )
    probed = probe(path, "csv" if layout else request.format, request.encoding)
    if layout and probed.format != "csv":
        raise ImportFileError(f"{layout} files are CSV, but {path.name} is {probed.format}")

    prefix = f"_segmint_{import_id}"
    # An explicit --format csv means segmint's own columns, even for a Shopify-like header.
    detect = request.format is None
    planner = _Planner(engine, table, probed, layout, mapping, path.name, prefix, detect)
    with ExitStack() as cleanup:
        read = cleanup.enter_context(_read(engine, probed, request, planner, console))
        plan = planner.plan
        assert plan is not None
        for warning in plan.warnings:
            console.warn(f"{path.name}: {warning}")
        staged_file = read.staged
        rows = RowNumbers(engine, staged_file, prefix)
        cleanup.callback(rows.drop)
        validated: list[ValidatedTarget] = []

        @cleanup.callback
        def drop_validated() -> None:
            for target in validated:
                engine.drop_table(target.name)

        quarantine_table = f"{prefix}_quarantine"
        cleanup.callback(engine.drop_table, quarantine_table)

        with console.progress(f"Validating {staged_file.rows:,} rows of {path.name}"):
            for target_plan in plan.targets:
                if read.validated is not None:
                    target = read.validated
                else:
                    target = validate_target(engine, staged_file.table, target_plan, prefix)
                    validated.append(target)
                mark_duplicates(engine, target)
                if target_plan.parent is not None:
                    parent = next(v for v in validated if v.table.name == target_plan.parent)
                    reject_orphans(engine, target, parent, rows)
            targets = [read.validated] if read.validated is not None else validated
            stage_table = None if read.validated is not None else staged_file.table
            rejected = build_quarantine(
                engine, quarantine_table, stage_table, staged_file, targets, rows
            )
        if stage_table is not None:
            # The staged text is no longer needed: free its memory before the write.
            engine.drop_table(stage_table)

        counts: dict[str, TableCounts] = {}
        with console.progress(f"Writing {table.name}"), engine.transaction():
            insert_quarantine(
                engine,
                quarantine_table,
                import_id=import_id,
                kind=table.name,
                file=file_label,
                at=started,
            )
            for target in targets:
                counts[target.table.name] = write_target(
                    engine, target, import_id=import_id, loaded_at=started, prefix=prefix
                )
            result = ImportResult(
                import_id=import_id,
                kind=table.name,
                file=file_label,
                format=plan.format,
                rows_read=staged_file.rows + len(staged_file.rejects),
                inserted=sum(c.inserted for c in counts.values()),
                updated=sum(c.updated for c in counts.values()),
                unchanged=sum(c.unchanged for c in counts.values()),
                rejected=rejected,
                tables={name: c.to_dict() for name, c in counts.items()},
                quarantine=quarantine_query(import_id),
            )
            record_import(
                engine,
                {
                    "import_id": import_id,
                    "kind": table.name,
                    "file": file_label,
                    "format": plan.format,
                    "started_at": started,
                    "finished_at": dt.datetime.now(dt.UTC),
                    "rows_read": result.rows_read,
                    "inserted": result.inserted,
                    "updated": result.updated,
                    "rejected": result.rejected,
                },
            )
    result.seconds = round(time.perf_counter() - clock, 3)
    return result


class _Planner:
    """Builds the plan from the file's header; decides whether to validate while reading."""

    def __init__(
        self,
        engine: Engine,
        table: Table,
        probed: ProbedFile,
        layout: str | None,
        mapping: ColumnMapping | None,
        source: str,
        prefix: str,
        detect: bool = True,
    ) -> None:
        self.engine = engine
        self.table = table
        self.probed = probed
        self.layout = layout
        self.detect = detect
        """Whether a CSV header may reveal a Shopify layout."""
        self.mapping = mapping
        self.source = source
        self.prefix = prefix
        self.plan: ImportPlan | None = None
        self.fields: list[str] = []
        self.reads_validated = False

    def transform(self, fields: list[str]) -> exp.Select:
        """The query the file is staged through (see ``Engine.stage_file``)."""
        self.fields = list(fields)
        self.plan = self.build(fields)
        if len(self.plan.targets) == 1 and _single_pass(self.plan.targets[0]):
            self.reads_validated = True
            return validation_query(
                self.engine, self.plan.targets[0], FILE_SOURCE, raw_fields=fields
            )
        return exp.select(exp.Star()).from_(exp.to_table(FILE_SOURCE).as_(STAGE))

    def build(self, fields: list[str], stage_table: str | None = None) -> ImportPlan:
        source, table = self.source, self.table
        if self.mapping is not None:
            return mapped_plan(self.mapping, fields, source)
        if self.probed.format == "jsonl":
            return jsonl_plan(table, "jsonl")
        if self.probed.format == "csv":
            detected = detect_layout(fields) if self.detect or self.layout else None
            if self.layout is not None and detected != self.layout:
                raise ImportFileError(
                    f"{source} does not look like a {self.layout} export "
                    f"(its header: {', '.join(fields[:8])}...)"
                )
            layout = self.layout or detected
            if layout is not None and table.name not in _SHOPIFY_KINDS[layout]:
                raise ImportFileError(
                    f"{source} is a {layout} export: import it as "
                    f"{' or '.join(_SHOPIFY_KINDS[layout])}, not {table.name}"
                )
            if layout == SHOPIFY_ORDERS:
                return shopify_orders_plan(fields, stage_table or FILE_SOURCE, self.engine, source)
            if layout == SHOPIFY_CUSTOMERS:
                return shopify_customers_plan(fields, source)
        return canonical_plan(table, fields, source, self.probed.format)


def _single_pass(plan: TargetPlan) -> bool:
    """Whether a plan can run while the file is read: no file order and no other tables."""
    if plan.where is not None or plan.parent is not None:
        return False
    exprs = [*plan.columns.values(), *(c.bad for c in plan.checks)]
    exprs += [e for _, e in plan.extra_attributes]
    return not any(e.find(exp.Window) for e in exprs)


@contextmanager
def _read(
    engine: Engine,
    probed: ProbedFile,
    request: ImportRequest,
    planner: _Planner,
    console: Console,
) -> Iterator[_Read]:
    """Read the file (validating it on the way where the plan allows); drops it on the way out."""
    readable = probed.path
    transcoded: Path | None = None
    staged_file: StagedFile | None = None
    try:
        with console.progress(f"Reading {probed.path.name}"):
            if probed.needs_transcoding:
                transcoded = transcode_to_utf8(probed.path, probed.codec)
                readable = transcoded
            jsonl = probed.format == "jsonl"
            fields = None
            if jsonl:
                fields = (
                    planner.mapping.source_fields
                    if planner.mapping
                    else jsonl_fields(planner.table)
                )
            try:
                staged_file = engine.stage_file(
                    readable,
                    probed.format,
                    fields=fields,
                    encoding=probed.engine_encoding,
                    delimiter=_delimiter(request.delimiter),
                    transform=None if jsonl else planner.transform,
                )
            except ImportFileError:
                raise
            except Exception as exc:  # the engine's own error type differs per engine
                raise ImportFileError(
                    f"cannot read {probed.path} as {probed.format}: {_first_line(exc)}"
                ) from None
        read = _Read(staged_file)
        if planner.reads_validated:
            assert planner.plan is not None
            read.validated = ValidatedTarget(
                planner.plan.targets[0], staged_file.table, staged_file.rows, has_raw=True
            )
        else:
            # Staged as text: plans that name the staged table (Shopify) are built for it now.
            planner.plan = planner.build(staged_file.fields, staged_file.table)
        yield read
    finally:
        if staged_file is not None:
            engine.drop_table(staged_file.table)
        remove_quietly(transcoded)


def _delimiter(value: str | None) -> str | None:
    """``\\t`` as typed on a command line means a tab."""
    if value is None:
        return None
    return {"\\t": "\t", "tab": "\t"}.get(value, value)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
