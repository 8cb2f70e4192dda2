"""The engine boundary: everything segmint asks of a database goes through :class:`Engine`.

The core builds SQL as sqlglot expressions and hands them to an engine, which renders them in
its own dialect and runs them. Engine-specific SQL (how a file is read, how a text value is
parsed into a timestamp) lives only in the engine modules, so PostgreSQL and Spark engines can
be added without touching the core.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, cast

import pyarrow as pa
import sqlglot
from sqlglot import exp

from segmint.model.tables import Column, ColumnType, Table

SQL = exp.Expression | str
#: The dialect the core writes its SQL text in; engines receive it parsed (see parse_sql).
CORE_DIALECT = "duckdb"
FileFormat = Literal["csv", "jsonl", "parquet"]
#: In a ``stage_file`` transform, the table name that stands for the file being read.
FILE_SOURCE = "_segmint_file"


@dataclass
class FileReject:
    """A row of a file that could not even be split into fields."""

    row_number: int
    raw: str
    reason: str


@dataclass
class StagedFile:
    """A file read into a temporary table of text columns, ready for validation.

    The table has one ``VARCHAR`` column per field of the file (named as in the file), plus
    ``_ordinal``: 1, 2, 3... in file order over the rows that could be read. ``rejects`` are the
    rows that could not be read at all, with their data row number in the file.
    """

    table: str
    fields: list[str]
    rows: int
    rejects: list[FileReject] = field(default_factory=list)
    ordinal_is_row: bool = False
    """True when ``_ordinal`` already is the row number (readers that keep unreadable rows)."""

    def row_number(self, ordinal: int) -> int:
        """The data row number in the file (from 1) of the staged row with this ordinal."""
        if self.ordinal_is_row:
            return ordinal
        # Rejected rows are missing from the ordinals: shift past every reject before this row.
        row = ordinal
        for reject in sorted(r.row_number for r in self.rejects):
            if reject <= row:
                row += 1
            else:
                break
        return row


class Engine(ABC):
    """A database segmint runs on. Subclasses declare their capabilities as class flags."""

    name: ClassVar[str]
    dialect: ClassVar[str]
    #: Statements inside :meth:`transaction` commit or roll back together.
    SUPPORTS_TRANSACTIONS: ClassVar[bool] = True
    #: ``INSERT ... ON CONFLICT (key) DO UPDATE`` upserts.
    SUPPORTS_ON_CONFLICT: ClassVar[bool] = True

    # -- running SQL ---------------------------------------------------------------------------

    def render(self, statement: SQL) -> str:
        """The SQL text of a statement in this engine's dialect."""
        if isinstance(statement, str):
            return statement
        return statement.sql(dialect=self.dialect)

    @abstractmethod
    def execute(self, statement: SQL, params: Sequence[Any] | None = None) -> None:
        """Run a statement that returns nothing."""

    @abstractmethod
    def fetch_arrow(self, query: SQL, params: Sequence[Any] | None = None) -> pa.Table:
        """Run a query and return its result as an Arrow table."""

    @abstractmethod
    def fetch_all(self, query: SQL, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run a query and return all rows as tuples."""

    @abstractmethod
    def fetch_batches(
        self, query: SQL, params: Sequence[Any] | None = None, batch_size: int = 100_000
    ) -> Iterator[pa.RecordBatch]:
        """Run a query and stream its result in Arrow record batches (bounded memory)."""

    def fetch_one(self, query: SQL, params: Sequence[Any] | None = None) -> tuple[Any, ...] | None:
        rows = self.fetch_all(query, params)
        return rows[0] if rows else None

    def fetch_value(self, query: SQL, params: Sequence[Any] | None = None) -> Any:
        row = self.fetch_one(query, params)
        return None if row is None else row[0]

    _in_transaction: bool = False

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A context in which statements commit together, or none of them does.

        A nested transaction joins the outer one, which decides for both.
        """
        if self._in_transaction:
            yield
            return
        self.execute(exp.Transaction())
        self._in_transaction = True
        try:
            yield
        except BaseException:
            self.execute(exp.Rollback())
            raise
        else:
            self.execute(exp.Commit())
        finally:
            self._in_transaction = False

    @abstractmethod
    def close(self) -> None:
        """Release the connection."""

    # -- tables --------------------------------------------------------------------------------

    @abstractmethod
    def table_exists(self, name: str) -> bool:
        """Whether a table (or view) of this name exists."""

    def existing_tables(self, names: Sequence[str]) -> set[str]:
        """Which of ``names`` exist as tables (or views)."""
        return {name for name in names if self.table_exists(name)}

    def table_columns(self, name: str) -> list[str]:
        """Column names of an existing table, in order."""
        return list(self.fetch_arrow(exp.select("*").from_(name).limit(0)).column_names)

    def data_type(self, column_type: ColumnType) -> exp.DataType:
        """The SQL type a logical column type is stored as."""
        return exp.DataType.build(_TYPE_SQL[column_type])

    def create_table(
        self,
        spec: Table,
        *,
        name: str | None = None,
        temporary: bool = False,
        if_not_exists: bool = True,
        with_key: bool = True,
    ) -> None:
        """Create a table with a canonical table's columns (and its key as primary key)."""
        columns: list[exp.Expression] = [
            exp.ColumnDef(this=exp.to_identifier(c.name), kind=self.data_type(c.type))
            for c in spec.all_columns
        ]
        if with_key and spec.key:
            columns.append(exp.PrimaryKey(expressions=[exp.to_identifier(k) for k in spec.key]))
        create = exp.Create(
            this=exp.Schema(this=exp.to_table(name or spec.name), expressions=columns),
            kind="TABLE",
            exists=if_not_exists,
            properties=exp.Properties(expressions=[exp.TemporaryProperty()]) if temporary else None,
        )
        self.execute(create)

    def drop_table(self, name: str) -> None:
        # sqlglot 30 keeps the dropped tables in `tables` (with `this=` it renders no name).
        self.execute(exp.Drop(tables=[exp.to_table(name)], kind="TABLE", exists=True))

    def count_rows(self, name: str) -> int:
        return int(self.fetch_value(exp.select("count(*)").from_(name)))

    @abstractmethod
    def load_arrow(self, name: str, data: pa.Table) -> None:
        """Append Arrow rows to an existing table, matching columns by name."""

    def load_parquet(self, name: str, path: Path) -> None:
        """Append a Parquet file's rows to an existing table, matching columns by name.

        For rows that are already canonical (a copy of another workspace's table, a
        benchmark's store): no validation or quarantine, unlike an import. This default
        streams the file through Arrow in batches; engines that read Parquet themselves do.
        """
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=100_000):
            self.load_arrow(name, pa.Table.from_batches([batch]))

    # -- reading files -------------------------------------------------------------------------

    @abstractmethod
    def stage_file(
        self,
        path: Path,
        fmt: FileFormat,
        *,
        fields: Sequence[str] | None = None,
        encoding: str = "utf-8",
        delimiter: str | None = None,
        transform: Callable[[list[str]], exp.Select] | None = None,
    ) -> StagedFile:
        """Read a file into a temporary table of text columns (see :class:`StagedFile`).

        ``fields`` names the top-level keys to extract from JSON Lines (objects and arrays
        are kept as JSON text); CSV and Parquet stage every column they have.

        ``transform`` (CSV and Parquet) stages a query over the file instead of its fields:
        it gets the file's field names and returns a SELECT in which the table
        :data:`FILE_SOURCE` stands for the file (as text columns). The staged table then holds
        that query's columns plus ``_ordinal``, so a large file is read and processed in one
        pass instead of being copied first. It may raise to refuse the file.
        """

    # -- parsing text into typed values (what differs between dialects) ------------------------

    @abstractmethod
    def try_cast(self, value: exp.Expression, column_type: ColumnType) -> exp.Expression:
        """``value`` (text) as ``column_type``, or NULL where it does not parse.

        Timestamps with a zone offset are converted to UTC; booleans accept
        true/false, yes/no, y/n, 1/0 in any case.
        """

    @abstractmethod
    def json_text(self, document: exp.Expression, key: str) -> exp.Expression:
        """The top-level ``key`` of a JSON object stored as text, as text.

        NULL when the key is absent, or when ``document`` is not valid JSON (one bad event
        must not fail a whole profile build).
        """

    @abstractmethod
    def hash_bucket(self, value: exp.Expression, buckets: int) -> exp.Expression:
        """A stable bucket in ``[0, buckets)`` for a text value, the same on every engine.

        Defined as the first 8 hex digits of the MD5 of the text, read as an unsigned
        number, modulo ``buckets`` (segment control groups rely on it staying put).
        """

    @abstractmethod
    def try_parse_time(
        self,
        value: exp.Expr,
        column_type: ColumnType,
        *,
        format: str | None = None,
        timezone: str | None = None,
    ) -> exp.Expr:
        """``value`` (text) as a TIMESTAMP (in UTC) or a DATE, or NULL where it does not parse.

        ``format`` is a strptime-style pattern (``%d/%m/%Y %H:%M``); without it the engine's
        own ISO-style parsing applies, as in :meth:`try_cast`. ``timezone`` (an IANA name)
        is the zone of times written without an offset; a written offset always wins.
        """

    @abstractmethod
    def is_json_object(self, value: exp.Expr) -> exp.Expr:
        """A boolean: ``value`` (text) is a valid JSON document whose top level is an object."""

    @abstractmethod
    def json_object(
        self,
        pairs: Sequence[tuple[str, exp.Expr]],
        *,
        skip_nulls: bool = False,
        base: exp.Expr | None = None,
    ) -> exp.Expr:
        """A JSON object, as text, from ``(key, value)`` pairs.

        ``skip_nulls`` leaves out keys whose value is NULL. ``base`` (a JSON object as text, or
        NULL) is merged underneath: the non-NULL pairs win over its keys of the same name.
        """

    def parse_boolean(self, value: exp.Expression) -> exp.Expression:
        """Dialect-neutral boolean parsing shared by engines."""
        lowered = exp.Lower(this=exp.Trim(this=value))
        truthy = exp.In(this=lowered, expressions=[exp.Literal.string(s) for s in _TRUE])
        falsy = exp.In(this=lowered.copy(), expressions=[exp.Literal.string(s) for s in _FALSE])
        return exp.Case().when(truthy, exp.true()).when(falsy, exp.false()).else_(exp.Null())


_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")

_TYPE_SQL: dict[ColumnType, str] = {
    ColumnType.STRING: "VARCHAR",
    ColumnType.EMAIL: "VARCHAR",
    ColumnType.INTEGER: "BIGINT",
    ColumnType.DOUBLE: "DOUBLE",
    ColumnType.MONEY: "DECIMAL(18, 4)",
    ColumnType.TIMESTAMP: "TIMESTAMP",
    ColumnType.DATE: "DATE",
    ColumnType.BOOLEAN: "BOOLEAN",
    ColumnType.JSON: "VARCHAR",
}


def parse_sql(text: str) -> exp.Expression:
    """SQL text written by the core (in :data:`CORE_DIALECT`) as a tree of its own.

    A build runs the same long statements every time: each text is parsed once per process,
    and every call gets a copy (much cheaper than parsing) that it may change.
    """
    return _parsed(text).copy()


@functools.lru_cache(maxsize=1024)
def _parsed(text: str) -> exp.Expression:
    # Statements are Expression nodes (parse_one is typed with their Expr base).
    return cast(exp.Expression, sqlglot.parse_one(text, read=CORE_DIALECT))


def create_table_as(
    name: str, query: exp.Expr, *, temporary: bool = False, replace: bool = True
) -> exp.Create:
    """``CREATE [OR REPLACE] [TEMPORARY] TABLE name AS query``."""
    return exp.Create(
        this=exp.to_table(name),
        kind="TABLE",
        replace=replace,
        expression=query,
        properties=exp.Properties(expressions=[exp.TemporaryProperty()]) if temporary else None,
    )


#: A time followed by an offset or a zone name: "10:00:00Z", "10:00 -0500", "10:00:00 EST".
HAS_ZONE_PATTERN = r"\d:\d\d(:\d\d(\.\d+)?)?\s*([zZ]|[+-]\d\d(:?\d\d)?|[A-Za-z][A-Za-z_/+-]*)$"


#: strptime shorthands, expanded before a format is translated into an engine's pattern.
_STRPTIME_SHORTHANDS = {"T": "%H:%M:%S", "R": "%H:%M", "F": "%Y-%m-%d", "D": "%m/%d/%y"}


def strptime_tokens(format: str) -> list[tuple[Literal["directive", "literal"], str]]:
    """A strptime format as ``("directive", letter)`` and ``("literal", character)`` tokens,
    for engines that translate it into a pattern of their own: shorthands (``%T``) expanded,
    ``%-d`` read as ``%d`` (their patterns read unpadded numbers anyway), ``%%`` a literal."""
    for short, expanded in _STRPTIME_SHORTHANDS.items():
        format = format.replace(f"%{short}", expanded)
    tokens: list[tuple[Literal["directive", "literal"], str]] = []
    i = 0
    while i < len(format):
        char = format[i]
        if char == "%" and i + 1 < len(format):
            letter = format[i + 1]
            if letter == "-" and i + 2 < len(format):  # %-d: no padding
                letter = format[i + 2]
                i += 1
            tokens.append(("literal", "%") if letter == "%" else ("directive", letter))
            i += 2
        else:
            tokens.append(("literal", char))
            i += 1
    return tokens


def column_identifier(column: Column | str) -> exp.Column:
    """A quoted column reference (columns such as ``timestamp`` are keywords in some dialects)."""
    name = column if isinstance(column, str) else column.name
    return exp.column(name, quoted=True)
