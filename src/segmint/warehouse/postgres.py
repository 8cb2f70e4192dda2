"""The warehouse side of a sync: a schema of a PostgreSQL database, written through psycopg.

This is a sink, not a workspace engine, so it speaks PostgreSQL directly: identifiers are
composed with :mod:`psycopg.sql` (never pasted into SQL text), rows arrive with ``COPY ... FROM
STDIN`` in CSV (written by Arrow, one record batch at a time), and each table is merged from a
temporary stage table with plain ``UPDATE``/``INSERT``/``DELETE`` whose row counts are the
sync's report. Everything runs in the one transaction :func:`connect` hands out.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
import pyarrow as pa
from psycopg import sql

from segmint.engines.postgres import copy_batches, mask_url
from segmint.model.tables import ColumnType
from segmint.warehouse.result import WarehouseError

#: URL schemes taken as PostgreSQL (SQLAlchemy's ``postgresql+driver://`` included).
URL_SCHEMES = ("postgresql", "postgres")

#: PostgreSQL type of each logical column type, spelled as ``format_type`` reports it.
PG_TYPES: dict[ColumnType, str] = {
    ColumnType.STRING: "text",
    ColumnType.EMAIL: "text",
    ColumnType.INTEGER: "bigint",
    ColumnType.DOUBLE: "double precision",
    ColumnType.MONEY: "numeric(18,4)",
    ColumnType.TIMESTAMP: "timestamp without time zone",
    ColumnType.DATE: "date",
    ColumnType.BOOLEAN: "boolean",
    ColumnType.JSON: "jsonb",
}

_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


@dataclass(frozen=True)
class TargetColumn:
    """A warehouse column: name and PostgreSQL type."""

    name: str
    type: str


def pg_type(declared: ColumnType | None, arrow_type: pa.DataType, column: str) -> str:
    """The PostgreSQL type of a workspace column: its declared type, else from its Arrow type."""
    if declared is not None:
        return PG_TYPES[declared]
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "text"
    if pa.types.is_integer(arrow_type):
        return "bigint"
    if pa.types.is_floating(arrow_type):
        return "double precision"
    if pa.types.is_decimal(arrow_type):
        return f"numeric({arrow_type.precision},{arrow_type.scale})"
    if pa.types.is_timestamp(arrow_type):
        return "timestamp with time zone" if arrow_type.tz else "timestamp without time zone"
    if pa.types.is_date(arrow_type):
        return "date"
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    raise WarehouseError(
        f"column {column!r} has type {arrow_type}, which the warehouse sync cannot copy "
        "(text, integer, double, decimal, timestamp, date and boolean columns can)"
    )


def check_url(url: str) -> str:
    """The URL as psycopg takes it; a clear error for anything that is not PostgreSQL."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    base = scheme.split("+", 1)[0]
    if base not in URL_SCHEMES:
        shown = f"{scheme}://" if scheme else repr(mask_url(url))
        raise WarehouseError(
            f"the warehouse URL must be a PostgreSQL URL (postgresql://user@host:5432/db), "
            f"not {shown}; other warehouses: see docs/warehouse.md"
        )
    # SQLAlchemy spells the driver into the scheme (postgresql+psycopg://); libpq does not.
    return "postgresql://" + url.split("://", 1)[1]


def check_schema(schema: str) -> str:
    if not _SCHEMA_NAME.match(schema):
        raise WarehouseError(
            f"schema name {schema!r} must start with a letter or underscore and hold only "
            "letters, digits and underscores (at most 63)"
        )
    return schema


@contextmanager
def connect(url: str, *, connect_timeout: int = 10) -> Iterator[psycopg.Connection[Any]]:
    """A connection to the warehouse, inside one transaction (committed when the block ends).

    A block that raises rolls the transaction back: the warehouse keeps its previous state.
    """
    libpq_url = check_url(url)
    try:
        conn = psycopg.connect(libpq_url, connect_timeout=connect_timeout, autocommit=True)
    except psycopg.Error as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise WarehouseError(f"cannot connect to {mask_url(url)}: {reason}") from None
    try:
        with conn.transaction():
            yield conn
    finally:
        conn.close()


class PostgresTarget:
    """One schema of the warehouse, written within the connection's transaction."""

    def __init__(self, conn: psycopg.Connection[Any], schema: str) -> None:
        self.conn = conn
        self.schema = check_schema(schema)

    # -- the schema ----------------------------------------------------------------------------

    def lock(self) -> None:
        """Hold the schema for this sync: a second sync into it fails at once instead of
        interleaving its writes (released when the transaction ends)."""
        digest = hashlib.md5(f"segmint.warehouse:{self.schema}".encode()).digest()
        key = int.from_bytes(digest[:8], "big", signed=True)
        row = self.conn.execute("SELECT pg_try_advisory_xact_lock(%s)", [key]).fetchone()
        if not row or not row[0]:
            raise WarehouseError(
                f"another sync into schema {self.schema!r} is running; try again when it ends"
            )

    def create_schema(self) -> None:
        """Create the schema unless it exists (a user without CREATE on the database can still
        sync into a schema made for it)."""
        found = self.conn.execute(
            "SELECT 1 FROM pg_namespace WHERE nspname = %s", [self.schema]
        ).fetchone()
        if found is None:
            self.conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(self.schema)))

    def table(self, name: str) -> sql.Composable:
        return sql.Identifier(self.schema, name)

    def columns(self, table: str) -> dict[str, str]:
        """Column name -> type (as ``format_type`` spells it) of a warehouse table; {} if none."""
        rows = self.conn.execute(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) "
            "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped "
            "ORDER BY a.attnum",
            [self.schema, table],
        ).fetchall()
        return {str(name): str(kind) for name, kind in rows}

    def ensure_table(
        self, table: str, columns: Sequence[TargetColumn], key: Sequence[str]
    ) -> tuple[list[str], list[str]]:
        """Create the table (with ``key`` as primary key), or add the columns it lacks.

        Returns (columns added, columns the table has that ``columns`` lacks). A column whose
        type differs is an error: converting it could lose data, so that is left to a person.
        """
        existing = self.columns(table)
        if not existing:
            definitions = [
                sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.type)) for c in columns
            ]
            definitions.append(
                sql.SQL("PRIMARY KEY ({})").format(
                    sql.SQL(", ").join(sql.Identifier(k) for k in key)
                )
            )
            self.conn.execute(
                sql.SQL("CREATE TABLE {} ({})").format(
                    self.table(table), sql.SQL(", ").join(definitions)
                )
            )
            return [], []
        added = []
        for column in columns:
            have = existing.get(column.name)
            if have is None:
                self.conn.execute(
                    sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
                        self.table(table), sql.Identifier(column.name), sql.SQL(column.type)
                    )
                )
                added.append(column.name)
            elif have != column.type:
                raise WarehouseError(
                    f"column {column.name!r} of {self.schema}.{table} is {have} in the "
                    f"warehouse but {column.type} in the workspace; change it there "
                    f"(ALTER TABLE {self.schema}.{table} ALTER COLUMN {column.name} TYPE "
                    f"{column.type}) or sync into a new schema"
                )
        wanted = {c.name for c in columns}
        return added, [name for name in existing if name not in wanted]

    # -- reading what the warehouse holds ------------------------------------------------------

    def stream_rows(
        self, table: str, columns: Sequence[TargetColumn], batch_size: int
    ) -> Iterator[pa.Table]:
        """Columns of a warehouse table, as Arrow tables of up to ``batch_size`` rows."""
        names = [c.name for c in columns]
        schema = pa.schema([(c.name, _arrow_type(c.type)) for c in columns])
        query = sql.SQL("SELECT {} FROM {}").format(
            sql.SQL(", ").join(sql.Identifier(n) for n in names), self.table(table)
        )
        with self.conn.cursor(name=f"segmint_read_{table}") as cursor:
            cursor.itersize = batch_size
            cursor.execute(query)
            while rows := cursor.fetchmany(batch_size):
                yield pa.Table.from_pylist([dict(zip(names, r, strict=True)) for r in rows], schema)

    def count(self, table: str) -> int:
        row = self.conn.execute(sql.SQL("SELECT count(*) FROM {}").format(self.table(table)))
        found = row.fetchone()
        return int(found[0]) if found else 0

    # -- staging and merging -------------------------------------------------------------------

    def stage(self, name: str, columns: Sequence[TargetColumn]) -> str:
        """A temporary table for rows on their way in (dropped when the transaction ends)."""
        stage = f"_segmint_stage_{name}"
        self.conn.execute(
            sql.SQL("CREATE TEMPORARY TABLE {} ({}) ON COMMIT DROP").format(
                sql.Identifier(stage),
                sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.type))
                    for c in columns
                ),
            )
        )
        return stage

    def copy(self, stage: str, columns: Sequence[str], batches: Iterable[pa.RecordBatch]) -> int:
        """COPY record batches (columns in ``columns`` order) into a stage; rows copied."""
        copied = copy_batches(self.conn, stage, columns, batches)
        if copied:  # temporary tables are never analysed automatically
            self.conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(stage)))
        return copied

    def stage_values(self, stage: str, column: str) -> list[Any]:
        """The distinct values of one column of a stage (small stages only)."""
        rows = self.conn.execute(
            sql.SQL("SELECT DISTINCT {} FROM {} ORDER BY 1").format(
                sql.Identifier(column), sql.Identifier(stage)
            )
        ).fetchall()
        return [r[0] for r in rows]

    def update_from(
        self,
        table: str,
        stage: str,
        key: Sequence[str],
        columns: Sequence[str],
        *,
        only_different: bool,
    ) -> int:
        """Set ``columns`` of the rows whose key is in the stage; rows updated.

        ``only_different`` leaves rows that already hold the staged values untouched (no new
        row version); without it every matching row is rewritten (stages of changed rows).
        """
        values = [c for c in columns if c not in key]
        if not values:
            return 0
        statement = sql.SQL("UPDATE {} AS t SET {} FROM {} AS s WHERE {}").format(
            self.table(table),
            sql.SQL(", ").join(
                sql.SQL("{} = s.{}").format(sql.Identifier(c), sql.Identifier(c)) for c in values
            ),
            sql.Identifier(stage),
            _key_match(key),
        )
        if only_different:
            statement = sql.SQL("{} AND ({}) IS DISTINCT FROM ({})").format(
                statement,
                sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in values),
                sql.SQL(", ").join(sql.SQL("s.{}").format(sql.Identifier(c)) for c in values),
            )
        return self._rowcount(statement)

    def insert_from(
        self, table: str, stage: str, key: Sequence[str], columns: Sequence[str]
    ) -> int:
        """Insert the staged rows whose key the table does not hold yet; rows inserted."""
        names = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
        return self._rowcount(
            sql.SQL(
                "INSERT INTO {} ({}) SELECT {} FROM {} AS s "
                "WHERE NOT EXISTS (SELECT 1 FROM {} AS t WHERE {})"
            ).format(
                self.table(table),
                names,
                sql.SQL(", ").join(sql.SQL("s.{}").format(sql.Identifier(c)) for c in columns),
                sql.Identifier(stage),
                self.table(table),
                _key_match(key),
            )
        )

    def delete_using(self, table: str, stage: str, key: Sequence[str]) -> int:
        """Delete the rows whose key is in the stage; rows deleted."""
        return self._rowcount(
            sql.SQL("DELETE FROM {} AS t USING {} AS s WHERE {}").format(
                self.table(table), sql.Identifier(stage), _key_match(key)
            )
        )

    def delete_absent(
        self, table: str, stage: str, key: Sequence[str], group: str, values: Sequence[Any]
    ) -> int:
        """Delete rows whose ``group`` is one of ``values`` and whose key is not in the stage."""
        return self._rowcount(
            sql.SQL(
                "DELETE FROM {} AS t WHERE t.{} = ANY(%s) "
                "AND NOT EXISTS (SELECT 1 FROM {} AS s WHERE {})"
            ).format(
                self.table(table), sql.Identifier(group), sql.Identifier(stage), _key_match(key)
            ),
            [list(values)],
        )

    def insert_rows(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        """Insert a few rows of Python values (the sync log)."""
        if not rows:
            return
        names = list(rows[0])
        statement = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            self.table(table),
            sql.SQL(", ").join(sql.Identifier(n) for n in names),
            sql.SQL(", ").join(sql.Placeholder() for _ in names),
        )
        with self.conn.cursor() as cursor:
            cursor.executemany(statement, [[row[n] for n in names] for row in rows])

    def _rowcount(self, statement: sql.Composed, params: Sequence[Any] | None = None) -> int:
        with self.conn.cursor() as cursor:
            cursor.execute(statement, params)
            return max(cursor.rowcount, 0)


def _key_match(key: Sequence[str]) -> sql.Composable:
    return sql.SQL(" AND ").join(
        sql.SQL("t.{} = s.{}").format(sql.Identifier(k), sql.Identifier(k)) for k in key
    )


def _arrow_type(pg: str) -> pa.DataType:
    """Arrow type for reading back a key or hash column of the warehouse."""
    if pg == "bigint":
        return pa.int64()
    if pg == "text":
        return pa.string()
    if pg == "timestamp without time zone":
        return pa.timestamp("us")
    raise ValueError(f"key columns of type {pg} are not read back")
