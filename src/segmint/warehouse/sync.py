"""Copy a workspace's profiles and segments into a PostgreSQL schema, sending only changes.

One sync, in one warehouse transaction (a failure leaves the previous synced state intact):

1. ``profiles`` — mirrored by a per-row content hash computed in the workspace engine. The
   warehouse's (profile_id, hash) pairs are read back into a workspace scratch table; rows that
   are new or whose hash differs are streamed over, profiles the workspace no longer has are
   deleted. Columns the profile table gained are added first.
2. ``segments`` (every version) and ``segment_runs`` — the same hash comparison, without
   deletes: versions and runs are history (a deletion in segmint sets ``deleted_at``).
3. ``segment_changes`` — append-only: the changes of the runs step 2 sent.
4. ``segment_members`` — replaced only for segments with a run (or a definition change) sent
   in step 2; rows already equal are left untouched.
5. ``sync_state`` — one row per table of this sync with its counts.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pyarrow as pa

from segmint.console import Console, NullConsole
from segmint.engines.base import Engine
from segmint.model.tables import ColumnType, Table
from segmint.warehouse.result import TableSync, WarehouseError, WarehouseSyncResult
from segmint.warehouse.source import (
    ROW_HASH,
    SourceColumn,
    changed_rows,
    count_rows,
    missing_keys,
    rows_matching,
    scratch_table,
    source_columns,
)

if TYPE_CHECKING:
    from segmint.warehouse.postgres import PostgresTarget, TargetColumn

DEFAULT_SCHEMA = "segmint"
#: Rows per streamed batch: a profile row has over a hundred columns.
DEFAULT_BATCH_SIZE = 20_000

#: The sync log, one row per synced table per sync.
SYNC_STATE = "sync_state"

# Logical types of the columns read back from the warehouse (keys and hashes).
_KEY_TYPES = {
    "text": ColumnType.STRING,
    "bigint": ColumnType.INTEGER,
    "timestamp without time zone": ColumnType.TIMESTAMP,
}


@dataclass(frozen=True)
class _Mirrored:
    """A workspace table mirrored by row hash."""

    table: str
    key: tuple[str, ...]
    declared: dict[str, ColumnType]
    delete_missing: bool


def sync_warehouse(
    engine: Engine,
    url: str,
    *,
    schema: str = DEFAULT_SCHEMA,
    workspace: str = "",
    console: Console | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> WarehouseSyncResult:
    """Sync the workspace on ``engine`` into ``schema`` of the PostgreSQL database at ``url``.

    The first sync creates the schema and its tables; later ones send only what changed (see
    the module docstring and ``docs/warehouse.md``). Raises
    :class:`~segmint.warehouse.WarehouseError` when the warehouse cannot be reached or refuses
    the sync; the warehouse then keeps its previous state.

    >>> sync_warehouse(ws.engine, "postgresql://bi@db/shop").rows_written  # doctest: +SKIP
    """
    try:
        import psycopg

        from segmint.warehouse import postgres
    except ImportError as error:  # pragma: no cover - only without the driver
        raise WarehouseError(
            f"the warehouse sync needs psycopg ({error}): pip install 'psycopg[binary]'"
        ) from None
    console = console or NullConsole()
    postgres.check_url(url)
    postgres.check_schema(schema)
    clock = time.perf_counter()
    result = WarehouseSyncResult(
        sync_id=uuid.uuid4().hex[:12],
        target=postgres.mask_url(url),
        schema=schema,
        started_at=_utc_now(),
    )
    try:
        with (
            postgres.connect(url) as conn,
            console.progress(f"Syncing to {result.target} ({schema})", total=5) as bar,
        ):
            target = postgres.PostgresTarget(conn, schema)
            target.lock()
            target.create_schema()
            for step in _steps(engine, target, result, batch_size):
                result.tables.append(step)
                bar.advance()
            result.finished_at = _utc_now()
            _log(target, result, workspace, engine.name)
    except psycopg.Error as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise WarehouseError(
            f"the warehouse refused the sync, nothing was changed: {reason}"
        ) from None
    result.seconds = round(time.perf_counter() - clock, 3)
    for warning in result.warnings:
        console.warn(warning)
    return result


def _steps(
    engine: Engine, target: PostgresTarget, result: WarehouseSyncResult, batch_size: int
) -> Iterator[TableSync]:
    from segmint.profiles.catalogue import profile_traits
    from segmint.segments.store import SEGMENT_CHANGES, SEGMENT_MEMBERS, SEGMENT_RUNS, SEGMENTS

    profiles = _Mirrored(
        "profiles", ("profile_id",), {t.name: t.type for t in profile_traits()}, True
    )
    if engine.table_exists(profiles.table):
        yield _mirror(engine, target, profiles, result, batch_size)
    else:
        result.warnings.append("the workspace has no profiles yet (segmint profiles build)")
        yield TableSync(profiles.table)

    stages: dict[str, str] = {}
    for spec in (SEGMENTS, SEGMENT_RUNS):
        if not engine.table_exists(spec.name):
            yield TableSync(spec.name)
            continue
        mirrored = _Mirrored(spec.name, spec.key, _declared(spec), False)
        yield _mirror(engine, target, mirrored, result, batch_size, stages)

    # Runs sent now: their changes follow, and their segments' members are replaced.
    runs: list[str] = []
    touched: set[str] = set()
    if SEGMENT_RUNS.name in stages:
        runs = target.stage_values(stages[SEGMENT_RUNS.name], "run_id")
        touched |= set(target.stage_values(stages[SEGMENT_RUNS.name], "segment"))
    if SEGMENTS.name in stages:
        # A new version or a deletion (deleted_at set): a deleted segment has no members left.
        touched |= set(target.stage_values(stages[SEGMENTS.name], "name"))
    yield _append_changes(engine, target, SEGMENT_CHANGES, runs, result, batch_size)
    yield _replace_members(engine, target, SEGMENT_MEMBERS, sorted(touched), result, batch_size)


def _mirror(
    engine: Engine,
    target: PostgresTarget,
    spec: _Mirrored,
    result: WarehouseSyncResult,
    batch_size: int,
    stages: dict[str, str] | None = None,
) -> TableSync:
    """Send the rows of a table whose hash the warehouse does not hold; delete gone keys."""
    from segmint.warehouse.postgres import TargetColumn

    columns = _target_columns(engine, spec.table, spec.declared, spec.key)
    names = [c.name for c in columns]
    hashed = [*columns, TargetColumn(ROW_HASH, "text")]
    sync = _ensure(target, spec.table, hashed, spec.key, result)
    keys = [next(c for c in columns if c.name == k) for k in spec.key]
    known_columns = [*keys, TargetColumn(ROW_HASH, "text")]
    with scratch_table(
        engine, "known", [(c.name, _KEY_TYPES[c.type]) for c in known_columns]
    ) as known:
        for chunk in target.stream_rows(spec.table, known_columns, batch_size):
            engine.load_arrow(known, chunk)
        stage = target.stage(spec.table, hashed)
        target.copy(
            stage,
            [*names, ROW_HASH],
            engine.fetch_batches(
                changed_rows(spec.table, names, spec.key, known), batch_size=batch_size
            ),
        )
        sync.updated = target.update_from(
            spec.table, stage, spec.key, [*names, ROW_HASH], only_different=False
        )
        sync.inserted = target.insert_from(spec.table, stage, spec.key, [*names, ROW_HASH])
        if spec.delete_missing:
            gone = target.stage(f"{spec.table}_gone", keys)
            target.copy(
                gone,
                list(spec.key),
                engine.fetch_batches(
                    missing_keys(spec.table, spec.key, known), batch_size=batch_size
                ),
            )
            sync.deleted = target.delete_using(spec.table, gone, spec.key)
    sync.source_rows = count_rows(engine, spec.table)
    if stages is not None:
        stages[spec.table] = stage
    return sync


def _append_changes(
    engine: Engine,
    target: PostgresTarget,
    spec: Table,
    runs: Sequence[str],
    result: WarehouseSyncResult,
    batch_size: int,
) -> TableSync:
    """Insert the entries and exits of ``runs`` (history: never updated nor deleted)."""
    if not engine.table_exists(spec.name):
        return TableSync(spec.name)
    # Within a run a profile either entered or exited: (run_id, profile_id) is a key.
    key = ("run_id", "profile_id")
    columns = _target_columns(engine, spec.name, _declared(spec), key)
    sync = _ensure(target, spec.name, columns, key, result)
    if runs:
        names = [c.name for c in columns]
        stage = _stage_matching(engine, target, spec.name, columns, "run_id", runs, batch_size)
        sync.inserted = target.insert_from(spec.name, stage, key, names)
    sync.source_rows = count_rows(engine, spec.name)
    return sync


def _replace_members(
    engine: Engine,
    target: PostgresTarget,
    spec: Table,
    segments: Sequence[str],
    result: WarehouseSyncResult,
    batch_size: int,
) -> TableSync:
    """Make the members of ``segments`` what the workspace holds; other segments stay as is."""
    if not engine.table_exists(spec.name):
        return TableSync(spec.name)
    columns = _target_columns(engine, spec.name, _declared(spec), spec.key)
    sync = _ensure(target, spec.name, columns, spec.key, result)
    if segments:
        names = [c.name for c in columns]
        stage = _stage_matching(
            engine, target, spec.name, columns, "segment", segments, batch_size
        )
        sync.deleted = target.delete_absent(spec.name, stage, spec.key, "segment", segments)
        sync.updated = target.update_from(spec.name, stage, spec.key, names, only_different=True)
        sync.inserted = target.insert_from(spec.name, stage, spec.key, names)
    sync.source_rows = count_rows(engine, spec.name)
    return sync


def _target_columns(
    engine: Engine, table: str, declared: dict[str, ColumnType], key: Sequence[str]
) -> list[TargetColumn]:
    from segmint.warehouse.postgres import TargetColumn, pg_type

    columns: list[SourceColumn] = source_columns(engine, table, declared)
    missing = [k for k in key if k not in {c.name for c in columns}]
    if missing:
        raise WarehouseError(f"the workspace table {table} has no key column {missing[0]!r}")
    return [TargetColumn(c.name, pg_type(c.declared, c.arrow_type, c.name)) for c in columns]


def _ensure(
    target: PostgresTarget,
    table: str,
    columns: Sequence[TargetColumn],
    key: Sequence[str],
    result: WarehouseSyncResult,
) -> TableSync:
    added, stale = target.ensure_table(table, columns, key)
    if stale:
        result.warnings.append(
            f"{target.schema}.{table} has column(s) {', '.join(stale)} that the workspace's "
            f"{table} does not: kept as they are, not updated (drop them there if unwanted)"
        )
    return TableSync(table, added_columns=added)


def _stage_matching(
    engine: Engine,
    target: PostgresTarget,
    table: str,
    columns: Sequence[TargetColumn],
    column: str,
    values: Sequence[str],
    batch_size: int,
) -> str:
    """Copy the workspace rows of ``table`` whose ``column`` is one of ``values`` into a
    warehouse stage; returns the stage."""
    names = [c.name for c in columns]
    stage = target.stage(table, columns)
    with scratch_table(engine, "wanted", [(column, ColumnType.STRING)]) as wanted:
        engine.load_arrow(wanted, pa.table({column: pa.array(list(values), pa.string())}))
        rows = engine.fetch_batches(
            rows_matching(table, names, column, wanted), batch_size=batch_size
        )
        target.copy(stage, names, rows)
    return stage


def _declared(spec: Table) -> dict[str, ColumnType]:
    return {c.name: c.type for c in spec.all_columns}


def _log(target: PostgresTarget, result: WarehouseSyncResult, workspace: str, engine: str) -> None:
    from segmint.warehouse.postgres import TargetColumn

    columns = [
        TargetColumn("sync_id", "text"),
        TargetColumn("table_name", "text"),
        TargetColumn("started_at", "timestamp without time zone"),
        TargetColumn("finished_at", "timestamp without time zone"),
        TargetColumn("workspace", "text"),
        TargetColumn("engine", "text"),
        TargetColumn("source_rows", "bigint"),
        TargetColumn("inserted", "bigint"),
        TargetColumn("updated", "bigint"),
        TargetColumn("deleted", "bigint"),
        TargetColumn("unchanged", "bigint"),
        TargetColumn("added_columns", "text"),
    ]
    target.ensure_table(SYNC_STATE, columns, ("sync_id", "table_name"))
    target.insert_rows(
        SYNC_STATE,
        [
            {
                "sync_id": result.sync_id,
                "table_name": t.table,
                "started_at": result.started_at,
                "finished_at": result.finished_at,
                "workspace": workspace,
                "engine": engine,
                "source_rows": t.source_rows,
                "inserted": t.inserted,
                "updated": t.updated,
                "deleted": t.deleted,
                "unchanged": t.unchanged,
                "added_columns": ", ".join(t.added_columns) or None,
            }
            for t in result.tables
        ],
    )


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
