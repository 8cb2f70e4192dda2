"""Apache Spark: segmint's tables as parquet folders, run by a local or remote Spark.

**Sessions.** Starting the JVM costs seconds, so every engine of a process shares one root
``SparkSession`` (created once with ``master``, the UI off and the logs quiet) and works in a
session of its own derived from it (``newSession()``; with Spark Connect, a session of its own
on the server). A session has its own settings and temporary views, so engines never see each
other's tables; ``database`` names the folder of the warehouse their tables live in.

**Storage and the catalogue.** A table is a list of *segments*: parquet folders that are
written once and never changed. ``warehouse/<database>/catalog.json`` records each table's
schema, key and segments; a new process reads it and sees the tables the last one committed
(no Hive metastore is needed). A table is queried through a temporary view over its segments
(``spark.read.schema(...).parquet(*segments)``), refreshed whenever the table changes, so the
SQL the core writes reads table names as usual. The warehouse is a local folder, or (with a
classic Spark session) any URL Hadoop can write: ``hdfs://``, ``s3a://``, ``file://``...

**Statements parquet lacks.** Spark cannot change parquet files in place, and refuses to
overwrite a path it is reading, so a change writes a new segment and points the table at it:

- ``INSERT`` appends a segment (many small segments are compacted into one now and then);
- ``DELETE``, ``UPDATE [... FROM]``, ``INSERT ... ON CONFLICT DO UPDATE`` and column changes
  write the table's new contents as one segment that replaces the others;
- ``CREATE [TEMPORARY] TABLE ... [AS SELECT]``, ``DROP TABLE`` and ``ALTER TABLE ... RENAME``
  only change the catalogue. Temporary tables are materialized (written once, not recomputed
  on every read) in ``warehouse/<database>/_scratch/<engine>/`` and removed on :meth:`close`.

``PRIMARY KEY`` is recorded (it is the default conflict target of an upsert) but not enforced:
the core keeps keys unique by its own statements. An ``UPDATE ... FROM`` expects at most one
source row per target row, and an upsert at most one incoming row per key, as PostgreSQL
requires; more would duplicate target rows instead of failing.

**Transactions.** Since a change never touches existing segments, a transaction remembers at
its start which segments every table points to. On an exception the tables point back at them
and the segments written inside are deleted; on commit the catalogue is written (one small
file replaced at once) and the segments no longer used are deleted. Every statement outside
:meth:`transaction` is a transaction of its own. The catalogue assumes one writing process
per warehouse database at a time.

**SQL and types.** Statements arrive as sqlglot expressions or as text in DuckDB's dialect
(the core's) and are rendered in Spark's, with what DuckDB means and Spark reads differently
rewritten first: ``TIMESTAMP`` is naive (``TIMESTAMP_NTZ``, holding UTC wall time; the
session time zone is UTC), ``/`` and ``avg`` work in doubles (a zero divisor gives NULL
where DuckDB gives infinity), ``EPOCH`` keeps fractions of a second, and
``information_schema.tables`` lists the engine's tables. Spark's ANSI mode stays on, so a bad
cast fails as it does on DuckDB.
Results come back with the Arrow and Python types DuckDB gives: integers as int64, floats as
double, money as ``DECIMAL(18, 4)``, timestamps as naive UTC.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, cast

import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from segmint.engines.base import (
    SQL,
    Engine,
    FileFormat,
    StagedFile,
    create_table_as,
    parse_sql,
    strptime_tokens,
)
from segmint.engines.reading import ORDINAL, staged_in_duckdb, text_batches, transform_over
from segmint.model.tables import ColumnType

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import DataType, StructType

#: An append that leaves a table with more segments than this compacts it into one.
_MAX_SEGMENTS = 32
#: Marks, in an UPDATE ... FROM or upsert rewrite, the target rows that found a source row.
_MATCHED = "_segmint_matched"
#: The incoming rows of an upsert, as PostgreSQL names them.
_EXCLUDED = "excluded"

_CATALOGUE = "catalog.json"
_CATALOGUE_FORMAT = 1
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# A text that starts like an ISO date. Spark's casts also read "2024", "2024-03", a bare time
# (today's date) and words such as "yesterday"; DuckDB reads none of them, and neither may we.
_ISO_DATE_START = "^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
# A time followed by an offset or a zone name ("10:00:00Z", "10:00 -0500", "10:00:00 EST"),
# as in the DuckDB engine, written without backslashes.
_HAS_ZONE_PATTERN = (
    "[0-9]:[0-9][0-9](:[0-9][0-9]([.][0-9]+)?)?[ ]*"
    "([zZ]|[+-][0-9][0-9](:?[0-9][0-9])?|[A-Za-z][A-Za-z_/+-]*)$"
)

# Settings every engine session gets (the caller's ``conf`` wins where it names the same key).
_SESSION_DEFAULTS = {
    "spark.sql.session.timeZone": "UTC",
    # Datetime patterns follow the documented (java.time) rules, never the legacy parser.
    "spark.sql.legacy.timeParserPolicy": "CORRECTED",
}
# Settings the engine's SQL depends on: ``try_to_timestamp`` must give a zoned timestamp, so
# that a written offset is applied.
_SESSION_REQUIRED = {"spark.sql.timestampType": "TIMESTAMP_LTZ"}

_LOG4J = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = stderr
appender.console.type = Console
appender.console.name = stderr
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
# PySpark counts as a shell; a level of its own keeps Spark from announcing the shell's level.
logger.shell.name = org.apache.spark.api.python.PythonGatewayServer
logger.shell.level = error
"""

_ROOT_SESSION: SparkSession | None = None
_engine_ids = itertools.count(1)


def _root_session(master: str, conf: Mapping[str, str]) -> SparkSession:
    """The process's classic SparkSession, started on first use (the JVM starts once)."""
    global _ROOT_SESSION
    from pyspark.sql import SparkSession

    if _ROOT_SESSION is not None and not _ROOT_SESSION.sparkContext._jsc.sc().isStopped():
        return _ROOT_SESSION
    builder = SparkSession.builder.master(master).appName("segmint")
    settings = {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        **_SESSION_DEFAULTS,
        **_local_defaults(master),
    }
    if "spark.driver.extraJavaOptions" not in conf:
        # Only errors reach the console (Spark's startup notices would drown segmint's output).
        settings["spark.driver.extraJavaOptions"] = f"-Dlog4j2.configurationFile={_log4j_file()}"
    for key, value in {**settings, **conf}.items():
        builder = builder.config(key, value)
    _ROOT_SESSION = builder.getOrCreate()
    _ROOT_SESSION.sparkContext.setLogLevel("ERROR")
    _quiet_python_logs()
    return _ROOT_SESSION


def _quiet_python_logs() -> None:
    # PySpark logs every SQL error with its JVM stack before raising it; the exception is
    # enough (segmint reports it).
    import logging

    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _local_defaults(master: str) -> dict[str, str]:
    # The default 200 shuffle partitions make every small statement slow on one machine.
    return {"spark.sql.shuffle.partitions": "4"} if master.startswith("local") else {}


def _log4j_file() -> str:
    path = Path(tempfile.gettempdir()) / "segmint-spark-log4j2.properties"
    if not path.exists() or path.read_text(encoding="utf-8") != _LOG4J:
        path.write_text(_LOG4J, encoding="utf-8")
    return path.as_posix()


# -- storage of the catalogue and the segments --------------------------------------------------


class _Storage(Protocol):
    """The files of one warehouse database, addressed by paths relative to its folder."""

    def uri(self, relative: str) -> str:
        """The location Spark reads and writes for a relative path."""

    def read_text(self, relative: str) -> str | None:
        """A file's text, or None when it does not exist."""

    def write_text(self, relative: str, text: str) -> None:
        """Replace a file's content (readers see the old file or the new one)."""

    def delete_tree(self, relative: str) -> None:
        """Delete a folder and everything in it (nothing when it does not exist)."""


@dataclass
class _LocalStorage:
    root: Path

    def uri(self, relative: str) -> str:
        return (self.root / relative).as_posix()

    def read_text(self, relative: str) -> str | None:
        path = self.root / relative
        return path.read_text(encoding="utf-8") if path.exists() else None

    def write_text(self, relative: str, text: str) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)

    def delete_tree(self, relative: str) -> None:
        import shutil

        shutil.rmtree(self.root / relative, ignore_errors=True)


class _HadoopStorage:
    """A warehouse URL, reached through Spark's own Hadoop file systems (classic sessions)."""

    def __init__(self, spark: SparkSession, root: str) -> None:
        self.root = root.rstrip("/")
        self._jvm: Any = spark.sparkContext._jvm
        self._conf = spark.sparkContext._jsc.hadoopConfiguration()

    def uri(self, relative: str) -> str:
        return f"{self.root}/{relative}"

    def _path(self, relative: str) -> Any:
        path = self._jvm.org.apache.hadoop.fs.Path(self.uri(relative))
        return path, path.getFileSystem(self._conf)

    def read_text(self, relative: str) -> str | None:
        path, fs = self._path(relative)
        if not fs.exists(path):
            return None
        stream = fs.open(path)
        try:
            data = self._jvm.org.apache.commons.io.IOUtils.toByteArray(stream)
        finally:
            stream.close()
        return bytes(data).decode("utf-8")

    def write_text(self, relative: str, text: str) -> None:
        path, fs = self._path(relative)
        partial, _ = self._path(f"{relative}.{uuid.uuid4().hex}.partial")
        stream = fs.create(partial, True)
        try:
            stream.write(bytearray(text.encode("utf-8")))
        finally:
            stream.close()
        # Hadoop's rename does not replace: the old file goes first (a reader may find none
        # for a moment; object stores have no atomic rename anyway).
        fs.delete(path, False)
        if not fs.rename(partial, path):
            raise OSError(f"could not replace {self.uri(relative)}")

    def delete_tree(self, relative: str) -> None:
        path, fs = self._path(relative)
        fs.delete(path, True)


# -- tables and transactions --------------------------------------------------------------------


@dataclass(frozen=True)
class _TableState:
    """One version of a table: never changed, a change makes a new state."""

    name: str
    schema: StructType
    segments: tuple[str, ...] = ()
    key: tuple[str, ...] = ()
    temporary: bool = False


@dataclass
class _Transaction:
    tables: dict[str, _TableState]
    temps: dict[str, _TableState]
    created: set[str] = field(default_factory=set)


def _segments(*registries: Mapping[str, _TableState]) -> set[str]:
    return {s for registry in registries for state in registry.values() for s in state.segments}


class SparkEngine(Engine):
    """Apache Spark over parquet folders (see the module documentation for how it works)."""

    name: ClassVar[str] = "spark"
    dialect: ClassVar[str] = "spark"

    def __init__(
        self,
        warehouse: Path | str,
        *,
        database: str = "segmint",
        master: str = "local[2]",
        connect_url: str | None = None,
        conf: Mapping[str, str] | None = None,
    ) -> None:
        if not _NAME.match(database):
            raise ValueError(f"Spark database name {database!r} is not a plain identifier")
        settings = dict(conf or {})
        self.database = database
        self._remote = connect_url is not None
        if connect_url is not None:
            from pyspark.sql import SparkSession

            self._spark = SparkSession.builder.remote(connect_url).create()
            _quiet_python_logs()
        else:
            self._spark = _root_session(master, settings).newSession()
        runtime = {**_SESSION_DEFAULTS, **_local_defaults(master), **settings}
        for key, value in {**runtime, **_SESSION_REQUIRED}.items():
            self._set_runtime_conf(key, value)
        location = str(warehouse)
        if "://" in location and not self._remote:
            self._storage: _Storage = _HadoopStorage(self._spark, f"{location}/{database}")
        elif "://" in location:
            raise ValueError(
                "with Spark Connect the warehouse must be a folder this machine reaches too "
                f"(a local path or a shared mount), not {location!r}"
            )
        else:
            self._storage = _LocalStorage(Path(location) / database)
        self._token = f"{os.getpid()}_{next(_engine_ids)}_{uuid.uuid4().hex[:8]}"
        self._scratch = f"_scratch/{self._token}"
        self._tables: dict[str, _TableState] = self._read_catalogue()
        self._temps: dict[str, _TableState] = {}
        self._views: dict[str, _TableState] = {}
        self._transaction: _Transaction | None = None
        self._pins = 0
        self._doomed: set[str] = set()
        self._ids = itertools.count(1)
        self._closed = False

    def _set_runtime_conf(self, key: str, value: str) -> None:
        # Static and cluster settings went to the root session; a session takes the others.
        if self._spark.conf.isModifiable(key):
            self._spark.conf.set(key, value)

    @property
    def session(self) -> SparkSession:
        """The engine's Spark session, for engine-layer code and tests only."""
        return self._spark

    # -- running SQL ---------------------------------------------------------------------------

    def render(self, statement: SQL) -> str:
        return _spark_tree(_parse(statement)).sql(dialect=self.dialect)

    def execute(self, statement: SQL, params: Sequence[Any] | None = None) -> None:
        tree = _parse(statement)
        with self.transaction():
            self._run(tree, params)

    def fetch_arrow(self, query: SQL, params: Sequence[Any] | None = None) -> pa.Table:
        return _arrow_as_duckdb(_duckdb_types(self._frame(query, params)).toArrow())

    def fetch_all(self, query: SQL, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        table = self.fetch_arrow(query, params)
        columns = [column.to_pylist() for column in table.columns]
        return list(zip(*columns, strict=True)) if columns else [() for _ in range(table.num_rows)]

    def fetch_batches(
        self, query: SQL, params: Sequence[Any] | None = None, batch_size: int = 100_000
    ) -> Iterator[pa.RecordBatch]:
        frame = _duckdb_types(self._frame(query, params))
        schema = _arrow_schema(frame.schema)
        names = [c.lower() for c in frame.columns]
        # Segments the query reads must outlive statements run while the caller iterates.
        self._pins += 1
        try:
            if isinstance(self._storage, _LocalStorage) and len(set(names)) == len(names):
                batches = self._result_files(frame, schema)
            else:
                batches = self._result_rows(frame, schema, batch_size)
            yield from _rebatched(batches, batch_size)
        finally:
            self._pins -= 1
            self._delete_segments(set())

    def _result_files(self, frame: DataFrame, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
        """A result written by Spark as parquet, read back a row group at a time: many times
        faster than rows through Python, for a warehouse this machine reads directly."""
        import pyarrow.parquet as pq

        folder = f"{self._scratch}/_result_{uuid.uuid4().hex}"
        try:
            frame.write.parquet(self._storage.uri(folder))
            # Part files are numbered in the result's order.
            for part in sorted(Path(self._storage.uri(folder)).glob("part-*")):
                for batch in pq.ParquetFile(part).iter_batches():
                    yield (
                        pa.Table.from_batches([batch]).cast(schema).combine_chunks().to_batches()[0]
                    )
        finally:
            self._storage.delete_tree(folder)

    def _result_rows(
        self, frame: DataFrame, schema: pa.Schema, batch_size: int
    ) -> Iterator[pa.RecordBatch]:
        """A result streamed from Spark as rows (any warehouse, and repeated column names)."""
        rows: list[Any] = []
        for row in frame.toLocalIterator(prefetchPartitions=True):
            rows.append(row)
            if len(rows) >= batch_size:
                yield _record_batch(rows, schema)
                rows = []
        if rows:
            yield _record_batch(rows, schema)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._transaction is not None:  # nested: the outer transaction decides
            yield
            return
        txn = self._transaction = _Transaction(dict(self._tables), dict(self._temps))
        try:
            yield
            # The commit point: the catalogue names the new segments of every changed table.
            if _changed(txn.tables, self._tables):
                self._write_catalogue()
        except BaseException:
            self._tables, self._temps = txn.tables, txn.temps
            self._delete_segments(txn.created - _segments(txn.tables, txn.temps))
            raise
        finally:
            self._transaction = None
        replaced = _segments(txn.tables, txn.temps) | txn.created
        self._delete_segments(replaced - _segments(self._tables, self._temps))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for key in list(self._views):
            self._spark.catalog.dropTempView(key)
        self._views.clear()
        self._temps.clear()
        self._storage.delete_tree(self._scratch)
        self._delete_segments(set())
        if self._remote:
            self._spark.stop()

    # -- tables --------------------------------------------------------------------------------

    def table_exists(self, name: str) -> bool:
        return self._state(name) is not None

    def table_columns(self, name: str) -> list[str]:
        state = self._state(name)
        if state is None:
            return super().table_columns(name)
        return [f.name for f in state.schema.fields]

    def data_type(self, column_type: ColumnType) -> exp.DataType:
        if column_type is ColumnType.TIMESTAMP:
            # Naive UTC wall time (TIMESTAMP in the DuckDB dialect the core writes).
            return exp.DataType.build("TIMESTAMP_NTZ", dialect="spark")
        return super().data_type(column_type)

    def load_arrow(self, name: str, data: pa.Table) -> None:
        state = self._require(name)
        if data.num_rows == 0:
            return
        columns = _named_columns(state, data.column_names)
        frame = self._spark.createDataFrame(_arrow_for_spark(data))
        with self.transaction():
            self._append(state, frame, columns)

    def load_parquet(self, name: str, path: Path) -> None:
        # Spark reads the file itself (on a cluster, the path must be one the workers reach).
        state = self._require(name)
        frame = self._spark.read.parquet(str(path))
        columns = _named_columns(state, frame.columns)
        with self.transaction():
            self._append(state, frame, columns)

    # -- reading files -------------------------------------------------------------------------

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
        number = next(self._ids)
        table = f"_segmint_stage_{number}"
        with staged_in_duckdb(path, fmt, fields=fields, encoding=encoding, delimiter=delimiter) as (
            reader,
            staged,
        ):
            scratch = f"{table}_text" if transform is not None and fmt != "jsonl" else table
            self._stage_rows(scratch, [*staged.fields, ORDINAL], text_batches(reader, staged))
        # JSON Lines are staged as read, as on DuckDB (its transform reads CSV and Parquet).
        if scratch != table:
            assert transform is not None
            try:  # the transform may refuse the file
                query = transform_over(transform(list(staged.fields)), scratch)
                self.execute(create_table_as(table, query, temporary=True))
            finally:
                self.drop_table(scratch)
            rows = self.count_rows(table)
        else:
            rows = staged.rows
        return StagedFile(
            table, list(staged.fields), rows, list(staged.rejects), staged.ordinal_is_row
        )

    def _stage_rows(
        self, table: str, columns: list[str], batches: Iterable[pa.RecordBatch]
    ) -> None:
        """Write text rows (``_ordinal`` last) into a new temporary table, a batch at a time."""
        from pyspark.sql.types import LongType, StringType, StructField, StructType

        schema = StructType(
            [StructField(c, LongType() if c == ORDINAL else StringType()) for c in columns]
        )
        arrow_schema = pa.schema(
            [(c, pa.int64() if c == ORDINAL else pa.string()) for c in columns]
        )
        with self.transaction():
            state = self._put(_TableState(table, schema, temporary=True))
            for batch in batches:
                data = pa.Table.from_batches([batch]).rename_columns(columns).cast(arrow_schema)
                state = self._append(state, self._spark.createDataFrame(data), columns)

    # -- parsing -------------------------------------------------------------------------------

    def try_cast(self, value: exp.Expression, column_type: ColumnType) -> exp.Expression:
        if column_type is ColumnType.BOOLEAN:
            return self.parse_boolean(value)
        text = exp.Trim(this=value)
        if column_type is ColumnType.TIMESTAMP:
            return cast(exp.Expression, _iso_timestamp(text))
        if column_type is ColumnType.DATE:
            return cast(exp.Expression, _iso_date(text))
        if column_type in (ColumnType.STRING, ColumnType.EMAIL, ColumnType.JSON):
            return text
        if column_type is ColumnType.INTEGER:
            # DuckDB reads "7.5" as 8 and "1e3" as 1000: a decimal text is rounded, not refused.
            exact = exp.TryCast(this=value, to=exp.DataType.build("BIGINT"))
            decimal = exp.TryCast(this=value.copy(), to=exp.DataType.build("DECIMAL(38, 6)"))
            rounded = exp.TryCast(this=exp.Round(this=decimal), to=exp.DataType.build("BIGINT"))
            return exp.Coalesce(this=exact, expressions=[rounded])
        return exp.TryCast(this=value, to=self.data_type(column_type))

    def json_text(self, document: exp.Expression, key: str) -> exp.Expression:
        # A VARIANT parse is strict JSON (a malformed document gives NULL, never an error), and
        # gives values as DuckDB's ->> does: strings unquoted, objects and arrays as JSON text.
        return exp.Anonymous(
            this="try_variant_get",
            expressions=[
                exp.Anonymous(this="try_parse_json", expressions=[document]),
                exp.Literal.string(_json_path(key)),
                exp.Literal.string("string"),
            ],
        )

    def hash_bucket(self, value: exp.Expression, buckets: int) -> exp.Expression:
        prefix = exp.Substring(
            this=exp.MD5(this=value), start=exp.Literal.number(1), length=exp.Literal.number(8)
        )
        number = exp.cast(
            exp.Anonymous(
                this="conv",
                expressions=[prefix, exp.Literal.number(16), exp.Literal.number(10)],
            ),
            exp.DataType.build("BIGINT"),
        )
        return exp.Mod(this=number, expression=exp.Literal.number(buckets))

    def try_parse_time(
        self,
        value: exp.Expr,
        column_type: ColumnType,
        *,
        format: str | None = None,
        timezone: str | None = None,
    ) -> exp.Expr:
        text = exp.Trim(this=value)
        if column_type not in (ColumnType.TIMESTAMP, ColumnType.DATE):
            raise ValueError(f"try_parse_time reads timestamps and dates, not {column_type}")
        if format is not None:
            pattern, zoned = spark_datetime_pattern(format)
            # Under the session's TIMESTAMP_LTZ type a written offset is applied; the UTC
            # session zone reads times without one as UTC wall time.
            parsed = exp.Anonymous(
                this="try_to_timestamp", expressions=[text, exp.Literal.string(pattern)]
            )
            if column_type is ColumnType.DATE:
                return exp.cast(parsed, exp.DataType.build("DATE"))
            wall = exp.cast(parsed, _NTZ)
            return wall if zoned or timezone is None else _naive_in_zone(wall, timezone)
        if column_type is ColumnType.DATE:
            return _iso_date(text)
        if timezone is None:
            return _iso_timestamp(text)
        has_zone = exp.RegexpLike(
            this=text.copy(), expression=exp.Literal.string(_HAS_ZONE_PATTERN)
        )
        naive = _naive_in_zone(exp.TryCast(this=text.copy(), to=_NTZ.copy()), timezone)
        return (
            exp.Case()
            .when(_starts_like_date(text), exp.Case().when(has_zone, _aware(text)).else_(naive))
            .else_(exp.Null())
        )

    def is_json_object(self, value: exp.Expr) -> exp.Expr:
        # The VARIANT parser accepts text after the document, so the object must also end it.
        shaped = exp.Like(this=exp.Trim(this=value), expression=exp.Literal.string("{%}"))
        valid = exp.not_(
            exp.Is(
                this=exp.Anonymous(this="try_parse_json", expressions=[value.copy()]),
                expression=exp.Null(),
            )
        )
        return exp.Case().when(shaped, valid).else_(exp.false())

    def json_object(
        self,
        pairs: Sequence[tuple[str, exp.Expr]],
        *,
        skip_nulls: bool = False,
        base: exp.Expr | None = None,
    ) -> exp.Expr:
        if not pairs:
            empty: exp.Expr = exp.Literal.string("{}")
            return empty if base is None else exp.Coalesce(this=base, expressions=[empty])
        # A VARIANT object writes values as DuckDB's json_object does: timestamps as
        # "2024-01-01 10:00:00", numbers as numbers, NULL as null.
        args: list[exp.Expr] = []
        for key, val in pairs:
            # An untyped NULL has no VARIANT form.
            typed = exp.cast(val, "STRING") if isinstance(val, exp.Null) else val
            args += [exp.Literal.string(key), typed]
        variant = exp.Anonymous(
            this="to_variant_object",
            expressions=[exp.Anonymous(this="named_struct", expressions=args)],
        )
        text = exp.DataType.build("STRING")
        obj = exp.cast(variant, text)
        if not (skip_nulls or base is not None):
            return obj
        as_map = _variant_map(variant.copy())
        present = _lambda(
            ["k", "v"],
            exp.not_(exp.Anonymous(this="is_variant_null", expressions=[exp.column("v")])),
        )
        stripped_map = exp.Anonymous(this="map_filter", expressions=[as_map, present])
        nulls = [exp.Is(this=val.copy(), expression=exp.Null()) for _, val in pairs]
        stripped = (
            exp.Case()
            .when(exp.and_(*nulls), exp.Literal.string("{}"))
            .when(exp.not_(exp.or_(*[n.copy() for n in nulls])), obj)
            .else_(exp.Anonymous(this="to_json", expressions=[stripped_map.copy()]))
        )
        if base is None:
            return stripped
        # The non-NULL pairs win over the base's keys of the same name (a merge patch of
        # scalar values); a base that is not a JSON object counts as empty.
        base_map = exp.Coalesce(
            this=exp.Anonymous(
                this="try_variant_get",
                expressions=[
                    exp.Anonymous(this="try_parse_json", expressions=[base]),
                    exp.Literal.string("$"),
                    exp.Literal.string("map<string,variant>"),
                ],
            ),
            expressions=[exp.Anonymous(this="map", expressions=[])],
        )
        overridden = exp.Anonymous(
            this="array_contains",
            expressions=[
                exp.Anonymous(this="map_keys", expressions=[stripped_map.copy()]),
                exp.column("k"),
            ],
        )
        kept = exp.Anonymous(
            this="map_filter", expressions=[base_map, _lambda(["k", "v"], exp.not_(overridden))]
        )
        merged = exp.Anonymous(
            this="to_json",
            expressions=[exp.Anonymous(this="map_concat", expressions=[kept, stripped_map.copy()])],
        )
        return (
            exp.Case().when(exp.Is(this=base.copy(), expression=exp.Null()), stripped).else_(merged)
        )

    # -- statements ----------------------------------------------------------------------------

    def _run(self, tree: exp.Expr, params: Sequence[Any] | None) -> None:
        if isinstance(tree, exp.Create):
            self._create(tree, params)
        elif isinstance(tree, exp.Insert):
            self._insert(tree, params)
        elif isinstance(tree, exp.Delete):
            self._delete(tree, params)
        elif isinstance(tree, exp.Update):
            self._update(tree, params)
        elif isinstance(tree, exp.Alter):
            self._alter(tree)
        elif isinstance(tree, exp.Drop):
            self._drop(tree)
        elif isinstance(tree, exp.TruncateTable):
            for table in tree.expressions:
                state = self._require(table.name)
                self._put(replace(state, segments=()))
        elif isinstance(tree, exp.Transaction | exp.Commit | exp.Rollback):
            raise ValueError("use SparkEngine.transaction() instead of transaction statements")
        else:
            self._frame(tree, params).collect()

    def _create(self, tree: exp.Create, params: Sequence[Any] | None) -> None:
        kind = str(tree.args.get("kind") or "").upper()
        if kind != "TABLE":
            raise NotImplementedError(f"the Spark engine creates tables only, not {kind}")
        target = tree.this
        table = target.this if isinstance(target, exp.Schema) else target
        assert isinstance(table, exp.Table)
        properties = tree.args.get("properties")
        temporary = bool(properties and properties.find(exp.TemporaryProperty))
        existing = (self._temps if temporary else self._tables).get(table.name.lower())
        if existing is not None and not tree.args.get("replace"):
            if tree.args.get("exists"):
                return
            raise ValueError(f"table {table.name} already exists")
        query = tree.expression
        if isinstance(query, exp.Query):
            frame = _storable(self._frame(query, params))
            state = _TableState(table.name, frame.schema, temporary=temporary)
            segment = self._write(state, frame)
            self._put(replace(state, segments=(segment,)))
            return
        assert isinstance(target, exp.Schema)
        columns = [c for c in target.expressions if isinstance(c, exp.ColumnDef)]
        key = [
            k.name
            for constraint in target.expressions
            if isinstance(constraint, exp.PrimaryKey)
            for k in constraint.expressions
        ]
        key += [c.name for c in columns if c.find(exp.PrimaryKeyColumnConstraint) is not None]
        schema = self._schema([(c.name, c.args["kind"]) for c in columns])
        self._put(_TableState(table.name, schema, key=tuple(key), temporary=temporary))

    def _insert(self, tree: exp.Insert, params: Sequence[Any] | None) -> None:
        target = tree.this
        table = target.this if isinstance(target, exp.Schema) else target
        assert isinstance(table, exp.Table)
        state = self._require(table.name)
        names = [f.name for f in state.schema.fields]
        if isinstance(target, exp.Schema):
            columns = [self._column_of(state, c.name) for c in target.expressions]
        else:
            columns = names
        source = tree.expression
        query = exp.select("*").from_(source) if isinstance(source, exp.Values) else source
        leading = tree.args.get("with_")
        if leading is not None:  # WITH ... INSERT: the CTEs belong to the query
            query = query.copy()
            query.set("with_", leading.copy())
        frame = self._frame(query, params)
        if tree.args.get("by_name"):
            columns = [self._column_of(state, c) for c in frame.columns]
        if len(frame.columns) != len(columns):
            raise ValueError(
                f"INSERT INTO {table.name} gives {len(frame.columns)} values for "
                f"{len(columns)} columns"
            )
        conflict = tree.args.get("conflict")
        alternative = str(tree.args.get("alternative") or "").upper()
        if conflict is None and not alternative:
            self._append(state, frame, columns)
            return
        incoming = f"_segmint_incoming_{next(self._ids)}"
        _conform(frame, state.schema, columns).createOrReplaceTempView(incoming)
        try:
            keys = _conflict_keys(conflict, state) if conflict is not None else list(state.key)
            if not keys:
                raise ValueError(f"INSERT INTO {table.name} ON CONFLICT needs key columns")
            action = str(conflict.args.get("action") or "") if conflict is not None else ""
            if alternative == "IGNORE" or "NOTHING" in action.upper():
                self._insert_missing(state, incoming, keys)
                return
            assignments: dict[str, exp.Expr]
            if alternative == "REPLACE":
                assignments = {
                    n.lower(): exp.column(n, table="excluded", quoted=True)
                    for n in names
                    if n.lower() not in {k.lower() for k in keys}
                }
                where = None
            else:
                assert conflict is not None
                assignments = {
                    eq.this.name.lower(): _qualified(eq.expression, state.name)
                    for eq in conflict.expressions
                }
                condition = conflict.args.get("where")
                where = _qualified(condition.this, state.name) if condition is not None else None
            self._upsert(state, incoming, keys, assignments, where)
        finally:
            self._spark.catalog.dropTempView(incoming)

    def _insert_missing(self, state: _TableState, incoming: str, keys: list[str]) -> None:
        """``ON CONFLICT DO NOTHING``: append the incoming rows whose key is new."""
        new_rows = exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier(_EXCLUDED)))
        new_rows = new_rows.from_(exp.to_table(incoming).as_(_EXCLUDED)).join(
            exp.to_table(state.name), on=_same_keys(keys, state.name), join_type="left anti"
        )
        self._append(state, self._frame(new_rows), [f.name for f in state.schema.fields])

    def _upsert(
        self,
        state: _TableState,
        incoming: str,
        keys: list[str],
        assignments: dict[str, exp.Expr],
        where: exp.Expr | None,
    ) -> None:
        """``ON CONFLICT DO UPDATE``: rewrite the table with matched rows updated, new added."""
        matched: exp.Expr = exp.column(_MATCHED, table=_EXCLUDED)
        if where is not None:
            matched = exp.and_(matched, exp.Paren(this=where))
        marked = exp.select(exp.Star(), exp.alias_(exp.true(), _MATCHED)).from_(incoming)
        updated = (
            exp.select(*_assigned(state, state.name, assignments, matched))
            .from_(exp.to_table(state.name))
            .join(marked.subquery(_EXCLUDED), on=_same_keys(keys, state.name), join_type="left")
        )
        new_rows = (
            exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier(_EXCLUDED)))
            .from_(exp.to_table(incoming).as_(_EXCLUDED))
            .join(exp.to_table(state.name), on=_same_keys(keys, state.name), join_type="left anti")
        )
        self._rewrite(state, self._frame(exp.union(updated, new_rows, distinct=False)))

    def _delete(self, tree: exp.Delete, params: Sequence[Any] | None) -> None:
        table = tree.this
        assert isinstance(table, exp.Table)
        state = self._require(table.name)
        if tree.args.get("using"):
            raise NotImplementedError("DELETE ... USING is not supported by the Spark engine")
        where = tree.args.get("where")
        if where is None:
            self._put(replace(state, segments=()))
            return
        # Rows whose condition is FALSE or NULL stay.
        kept = exp.select("*").from_(table.copy()).where(_not_true(where.this))
        self._rewrite(state, self._frame(_with_ctes(kept, tree), params))

    def _update(self, tree: exp.Update, params: Sequence[Any] | None) -> None:
        table = tree.this
        assert isinstance(table, exp.Table)
        state = self._require(table.name)
        target = table.alias_or_name
        assignments: dict[str, exp.Expr] = {}
        for eq in tree.expressions:
            assignments[self._column_of(state, eq.this.name).lower()] = eq.expression
        where_node = tree.args.get("where")
        condition = where_node.this if where_node is not None else None
        source = tree.args.get("from_")
        query: exp.Query
        if source is not None:
            query = _update_from(state, table, assignments, condition, source)
        elif condition is not None and condition.find(exp.Exists, exp.Subquery, exp.Select):
            # Predicate subqueries work in a filter, not inside a CASE: the rows that change and
            # those that do not are selected apart.
            changed = exp.select(*_assigned(state, target, assignments, None))
            changed = changed.from_(table.copy()).where(condition.copy())
            unchanged = exp.select("*").from_(table.copy()).where(_not_true(condition))
            query = exp.union(changed, unchanged, distinct=False)
        else:
            query = exp.select(*_assigned(state, target, assignments, condition))
            query = query.from_(table.copy())
        self._rewrite(state, self._frame(_with_ctes(query, tree), params))

    def _alter(self, tree: exp.Alter) -> None:
        table = tree.this
        assert isinstance(table, exp.Table)
        for action in tree.args.get("actions") or []:
            state = self._require(table.name)
            if isinstance(action, exp.AlterRename):
                self._rename(state, action.this.name)
            elif isinstance(action, exp.ColumnDef):
                self._add_column(state, action)
            elif isinstance(action, exp.RenameColumn):
                old = self._column_of(state, action.this.name)
                new = action.args["to"].name
                selects = [
                    f"{_q(f.name)} AS {_q(new)}" if f.name == old else _q(f.name)
                    for f in state.schema.fields
                ]
                frame = self._sql_frame(
                    f"SELECT {', '.join(selects)} FROM {_q(state.name)}", names=[state.name]
                )
                self._rewrite(replace(state, schema=_renamed(state.schema, old, new)), frame)
            elif isinstance(action, exp.Drop) and str(action.args.get("kind")).upper() == "COLUMN":
                gone = self._column_of(state, action.this.name)
                kept = [f for f in state.schema.fields if f.name != gone]
                frame = self._sql_frame(
                    f"SELECT {', '.join(_q(f.name) for f in kept)} FROM {_q(state.name)}",
                    names=[state.name],
                )
                self._rewrite(replace(state, schema=_struct(kept)), frame)
            else:
                raise NotImplementedError(
                    f"ALTER TABLE {action.sql(dialect='duckdb')} is not supported on Spark"
                )

    def _rename(self, state: _TableState, new: str) -> None:
        registry = self._temps if state.temporary else self._tables
        if new.lower() in registry:
            raise ValueError(f"cannot rename {state.name} to {new}: {new} already exists")
        self._remove(state)
        self._put(replace(state, name=new))

    def _add_column(self, state: _TableState, column: exp.ColumnDef) -> None:
        if column.name.lower() in {f.name.lower() for f in state.schema.fields}:
            if column.args.get("exists"):
                return
            raise ValueError(f"table {state.name} already has a column {column.name}")
        from pyspark.sql.types import StructField

        added = self._schema([(column.name, column.args["kind"])]).fields[0]
        schema = _struct([*state.schema.fields, StructField(added.name, added.dataType)])
        default = column.find(exp.DefaultColumnConstraint)
        if default is None:
            # Parquet files without the column read it as NULL: no rewrite needed.
            self._put(replace(state, schema=schema))
            return
        value = self._render(exp.cast(default.this, column.args["kind"]))
        frame = self._sql_frame(
            f"SELECT *, {value} AS {_q(column.name)} FROM {_q(state.name)}", names=[state.name]
        )
        self._rewrite(replace(state, schema=schema), frame)

    def _drop(self, tree: exp.Drop) -> None:
        kind = str(tree.args.get("kind") or "").upper()
        if kind not in ("TABLE", "VIEW"):
            raise NotImplementedError(f"DROP {kind} is not supported by the Spark engine")
        tables = tree.args.get("tables") or ([tree.this] if tree.this else [])
        for table in tables:
            state = self._state(table.name)
            if state is not None:
                self._remove(state)
            elif not tree.args.get("exists"):
                raise ValueError(f"table {table.name} does not exist")

    # -- table versions ------------------------------------------------------------------------

    def _state(self, name: str) -> _TableState | None:
        key = name.lower()
        return self._temps.get(key) or self._tables.get(key)

    def _require(self, name: str) -> _TableState:
        state = self._state(name)
        if state is None:
            raise ValueError(f"table {name} does not exist")
        return state

    def _column_of(self, state: _TableState, name: str) -> str:
        for f in state.schema.fields:
            if f.name.lower() == name.lower():
                return str(f.name)
        raise ValueError(f"table {state.name} has no column {name}")

    def _put(self, state: _TableState) -> _TableState:
        registry = self._temps if state.temporary else self._tables
        registry[state.name.lower()] = state
        return state

    def _remove(self, state: _TableState) -> None:
        registry = self._temps if state.temporary else self._tables
        registry.pop(state.name.lower(), None)

    def _write(self, state: _TableState, frame: DataFrame) -> str:
        """Write rows as a new segment of ``state``'s table; returns the segment."""
        folder = self._scratch if state.temporary else "tables"
        segment = f"{folder}/{state.name.lower()}/{uuid.uuid4().hex}"
        assert self._transaction is not None, "segments are written inside a transaction"
        self._transaction.created.add(segment)
        frame.write.parquet(self._storage.uri(segment))
        return segment

    def _append(self, state: _TableState, frame: DataFrame, columns: list[str]) -> _TableState:
        """Append rows given for ``columns`` (the others are NULL); returns the new state."""
        rows = _conform(frame, state.schema, columns)
        segments = (*state.segments, self._write(state, rows))
        if len(segments) > _MAX_SEGMENTS:
            merged = self._write(state, self._read(replace(state, segments=segments)))
            segments = (merged,)
        return self._put(replace(state, segments=segments))

    def _rewrite(self, state: _TableState, frame: DataFrame) -> None:
        """Replace the table's rows by ``frame`` (conformed to its schema by position)."""
        rows = _conform(frame, state.schema, [f.name for f in state.schema.fields])
        self._put(replace(state, segments=(self._write(state, rows),)))

    def _read(self, state: _TableState) -> DataFrame:
        if not state.segments:
            return self._spark.createDataFrame([], state.schema)
        paths = [self._storage.uri(s) for s in state.segments]
        return self._spark.read.schema(state.schema).parquet(*paths)

    def _delete_segments(self, segments: Iterable[str]) -> None:
        """Delete segments no table uses any more (later, while a result is being read)."""
        self._doomed.update(segments)
        if self._pins:
            return
        doomed, self._doomed = sorted(self._doomed), set()
        for segment in doomed:
            try:
                self._storage.delete_tree(segment)
            except Exception:  # a leftover folder is garbage, not an error
                continue

    # -- the catalogue -------------------------------------------------------------------------

    def _read_catalogue(self) -> dict[str, _TableState]:
        from pyspark.sql.types import StructType

        text = self._storage.read_text(_CATALOGUE)
        if text is None:
            return {}
        document = json.loads(text)
        if document.get("format") != _CATALOGUE_FORMAT:
            raise ValueError(f"unknown catalogue format in {self._storage.uri(_CATALOGUE)}")
        tables = {}
        for name, entry in document["tables"].items():
            tables[name.lower()] = _TableState(
                name,
                StructType.fromJson(entry["schema"]),
                tuple(entry["segments"]),
                tuple(entry["key"]),
            )
        return tables

    def _write_catalogue(self) -> None:
        document = {
            "format": _CATALOGUE_FORMAT,
            "tables": {
                state.name: {
                    "schema": state.schema.jsonValue(),
                    "key": list(state.key),
                    "segments": list(state.segments),
                }
                for state in sorted(self._tables.values(), key=lambda s: s.name.lower())
            },
        }
        self._storage.write_text(_CATALOGUE, json.dumps(document, indent=1))

    # -- queries -------------------------------------------------------------------------------

    def _render(self, node: exp.Expr) -> str:
        return _spark_tree(node).sql(dialect=self.dialect)

    def _frame(self, query: exp.Expr | str, params: Sequence[Any] | None = None) -> DataFrame:
        """A query's result. Queries are rendered whole, never in pieces: Spark's rendering
        hoists the CTEs of nested subqueries to the top of the statement."""
        tree = self._with_information_schema(_parse(query))
        self._ensure_views(tree)
        return self._spark.sql(self._render(tree), args=list(params) if params else None)

    def _with_information_schema(self, tree: exp.Expr) -> exp.Expr:
        """``information_schema.tables`` (which Spark lacks) as rows of the engine's tables."""
        if not any(_is_information_tables(t) for t in tree.find_all(exp.Table)):
            return tree
        rows = [
            ("spark", self.database, state.name, "BASE TABLE") for state in self._tables.values()
        ] + [
            ("temp", self.database, state.name, "LOCAL TEMPORARY") for state in self._temps.values()
        ]
        columns = ["table_catalog", "table_schema", "table_name", "table_type"]
        # A row of NULLs filtered out keeps the types when there are no tables.
        values = exp.values(
            [tuple(exp.Literal.string(v) for v in row) for row in rows]
            or [tuple(exp.cast(exp.Null(), "STRING") for _ in columns)],
            alias="t",
            columns=columns,
        )
        listing = exp.select(*columns).from_(values).where("table_name IS NOT NULL")

        def substitute(node: exp.Expr) -> exp.Expr:
            if isinstance(node, exp.Table) and _is_information_tables(node):
                return listing.subquery(node.alias or "tables")
            return node

        return tree.transform(substitute)

    def _sql_frame(
        self, text: str, *, names: Sequence[str] = (), params: Sequence[Any] | None = None
    ) -> DataFrame:
        """Run Spark SQL the engine wrote itself (after publishing the tables ``names``)."""
        for name in names:
            self._publish(name)
        return self._spark.sql(text, args=list(params) if params else None)

    def _ensure_views(self, tree: exp.Expr) -> None:
        for table in tree.find_all(exp.Table):
            if not table.args.get("db") and table.name:
                self._publish(table.name)

    def _publish(self, name: str) -> None:
        """Point the temporary view ``name`` at the table's current segments."""
        key = name.lower()
        state = self._state(key)
        if self._views.get(key) is state:
            return
        if state is None:
            if key in self._views:  # a table dropped since (other names are not tables)
                self._spark.catalog.dropTempView(key)
                del self._views[key]
            return
        self._read(state).createOrReplaceTempView(key)
        self._views[key] = state

    def _schema(self, columns: Sequence[tuple[str, exp.Expr]]) -> StructType:
        ddl = ", ".join(
            f"{_q(name)} {_storage_type(kind).sql(dialect='spark')}" for name, kind in columns
        )
        return self._spark.createDataFrame([], ddl).schema


# -- SQL helpers --------------------------------------------------------------------------------

_NTZ = exp.DataType.build("TIMESTAMP_NTZ", dialect="spark")
_LTZ = exp.DataType.build("TIMESTAMPLTZ")


def _parse(statement: exp.Expr | str) -> exp.Expr:
    return parse_sql(statement) if isinstance(statement, str) else statement


def _spark_tree(node: exp.Expr) -> exp.Expr:
    """The expression with what sqlglot would render wrongly for Spark rewritten."""

    def fix(n: exp.Expr) -> exp.Expr:
        if isinstance(n, exp.DataType):
            return _storage_type(n)
        if isinstance(n, exp.TryCast) and not n.args.get("safe"):
            # sqlglot renders a TryCast built without ``safe`` as a plain (failing) CAST.
            n.set("safe", True)
            return n
        if isinstance(n, exp.Div) and not n.args.get("typed"):
            # DuckDB's / is always DOUBLE division (Spark divides decimals as decimals and
            # rounds). Where DuckDB gives ±inf or NaN for a zero divisor, this gives NULL
            # instead of failing the statement.
            return exp.Anonymous(
                this="try_divide",
                expressions=[exp.cast(n.this, exp.DataType.build("DOUBLE")), n.expression],
            )
        if isinstance(n, exp.Avg) and not isinstance(n.this, exp.Distinct):
            # DuckDB averages as a DOUBLE; Spark keeps a decimal's type (rounded to 4 more
            # digits).
            n.set("this", exp.cast(n.this, exp.DataType.build("DOUBLE")))
            return n
        if isinstance(n, exp.TimeToUnix) and not n.args.get("format"):
            # DuckDB's EPOCH keeps fractions of a second; Spark's UNIX_TIMESTAMP drops them.
            micros = exp.Anonymous(this="unix_micros", expressions=[exp.cast(n.this, _LTZ)])
            return exp.Div(
                this=exp.cast(micros, exp.DataType.build("DOUBLE")),
                expression=exp.Literal.number(1_000_000),
            )
        return n

    # Children first, so a rewritten node keeps the rewrites of what it holds (sqlglot's own
    # transform does not descend into a node it has just replaced).
    tree = node.copy()
    for n in reversed(list(tree.dfs())):
        fixed = fix(n)
        if fixed is not n:
            if n is tree:
                tree = fixed
            else:
                n.replace(fixed)
    return tree


def _storage_type(kind: exp.Expr) -> exp.DataType:
    """A column type (as the core means it, in DuckDB's terms) as Spark stores it."""
    assert isinstance(kind, exp.DataType)
    t = exp.DataType.Type
    if kind.this is t.TIMESTAMP:
        # The core speaks DuckDB, where TIMESTAMP is naive (sqlglot renders it as Spark's
        # zoned TIMESTAMP when the type was built without a dialect).
        return _NTZ.copy()
    if kind.this is t.TIMESTAMPTZ:
        return _LTZ.copy()
    if kind.this in (t.JSON, t.VARCHAR, t.CHAR, t.NVARCHAR, t.NCHAR, t.TEXT, t.UUID):
        return exp.DataType.build("STRING")
    if kind.this in (t.INT128, t.UBIGINT, t.UINT128):
        return exp.DataType.build("DECIMAL(38, 0)")
    return kind


def _q(name: str) -> str:
    """A quoted Spark identifier."""
    return "`" + name.replace("`", "``") + "`"


def _qualified(node: exp.Expr, table: str) -> exp.Expr:
    """Columns without a table name (outside subqueries) read from ``table``."""

    def visit(n: exp.Expr) -> None:
        if isinstance(n, exp.Column) and not n.table:
            n.set("table", exp.to_identifier(table))
        for child in n.iter_expressions():
            if not isinstance(child, exp.Query | exp.Subquery):
                visit(child)

    copy = node.copy()
    visit(copy)
    return copy


def _is_information_tables(table: exp.Table) -> bool:
    return table.db.lower() == "information_schema" and table.name.lower() == "tables"


def _same_keys(keys: Sequence[str], table: str) -> exp.Expr:
    return exp.and_(
        *[
            exp.EQ(
                this=exp.column(k, table=_EXCLUDED, quoted=True),
                expression=exp.column(k, table=table, quoted=True),
            )
            for k in keys
        ]
    )


def _not_true(condition: exp.Expr) -> exp.Expr:
    """``NOT (condition) IS TRUE``: FALSE and NULL both count."""
    return exp.not_(exp.Is(this=exp.Paren(this=condition.copy()), expression=exp.true()))


def _assigned(
    state: _TableState,
    target: str,
    assignments: Mapping[str, exp.Expr],
    when: exp.Expr | None,
) -> list[exp.Expr]:
    """The columns of an UPDATE rewrite: assigned values where ``when`` holds (or everywhere)."""
    selects: list[exp.Expr] = []
    for f in state.schema.fields:
        current = exp.column(f.name, table=target, quoted=True)
        value = assignments.get(f.name.lower())
        if value is None:
            selects.append(current)
        elif when is None:
            selects.append(exp.alias_(value.copy(), f.name, quoted=True))
        else:
            case = exp.Case().when(when.copy(), value.copy()).else_(current)
            selects.append(exp.alias_(case, f.name, quoted=True))
    return selects


def _update_from(
    state: _TableState,
    table: exp.Table,
    assignments: Mapping[str, exp.Expr],
    condition: exp.Expr | None,
    source: exp.Expr,
) -> exp.Select:
    """``UPDATE ... FROM``: a left join of the target with the source on the condition."""
    if not isinstance(source, exp.From) or source.args.get("joins"):
        raise NotImplementedError("UPDATE ... FROM reads exactly one source")
    relation = source.this
    alias = relation.alias_or_name
    marked = exp.select(
        exp.Column(this=exp.Star(), table=exp.to_identifier(alias)),
        exp.alias_(exp.true(), _MATCHED),
    ).from_(relation.copy())
    matched = exp.column(_MATCHED, table=alias)
    return (
        exp.select(*_assigned(state, table.alias_or_name, assignments, matched))
        .from_(table.copy())
        .join(
            marked.subquery(alias),
            on=condition.copy() if condition is not None else exp.true(),
            join_type="left",
        )
    )


def _with_ctes(query: exp.Query, statement: exp.Expr) -> exp.Query:
    """``query`` under the statement's leading ``WITH ...`` clause, if it has one."""
    leading = statement.args.get("with_")
    if leading is not None:
        query.set("with_", leading.copy())
    return query


def _conflict_keys(conflict: exp.Expr, state: _TableState) -> list[str]:
    keys = []
    for node in conflict.args.get("conflict_keys") or []:
        inner = node.this if isinstance(node, exp.Ordered) else node
        keys.append(inner.name)
    return keys or list(state.key)


def _lambda(names: list[str], body: exp.Expr) -> exp.Lambda:
    return exp.Lambda(this=body, expressions=[exp.to_identifier(n) for n in names])


def _variant_map(variant: exp.Expr) -> exp.Expr:
    return exp.Anonymous(
        this="variant_get",
        expressions=[variant, exp.Literal.string("$"), exp.Literal.string("map<string,variant>")],
    )


def _json_path(key: str) -> str:
    if re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", key):
        return f"$.{key}"
    return "$['" + key.replace("\\", "\\\\").replace("'", "\\'") + "']"


def _starts_like_date(text: exp.Expr) -> exp.Expr:
    return exp.RegexpLike(this=text.copy(), expression=exp.Literal.string(_ISO_DATE_START))


def _aware(text: exp.Expr) -> exp.Expr:
    """Text read as a zoned timestamp (UTC when it names no zone), as UTC wall time."""
    return exp.cast(exp.TryCast(this=text.copy(), to=_LTZ.copy()), _NTZ)


def _iso_timestamp(text: exp.Expr) -> exp.Expr:
    return exp.Case().when(_starts_like_date(text), _aware(text)).else_(exp.Null())


def _iso_date(text: exp.Expr) -> exp.Expr:
    # Spark's DATE cast ignores whatever follows the date ("2024-03-01 25:00" is a date to it);
    # DuckDB reads a date followed by a time only when the time is valid.
    only_date = exp.RegexpLike(
        this=text.copy(), expression=exp.Literal.string(_ISO_DATE_START + "$")
    )
    with_time = exp.RegexpLike(
        this=text.copy(), expression=exp.Literal.string(_ISO_DATE_START + "[T ]")
    )
    date = exp.DataType.build("DATE")
    return (
        exp.Case()
        .when(only_date, exp.TryCast(this=text.copy(), to=date))
        .when(with_time, exp.cast(exp.TryCast(this=text.copy(), to=_NTZ.copy()), date))
        .else_(exp.Null())
    )


def _naive_in_zone(naive: exp.Expr, zone: str) -> exp.Expr:
    """A wall time in ``zone`` as UTC wall time."""
    return exp.cast(
        exp.Anonymous(
            this="convert_timezone",
            expressions=[exp.Literal.string(zone), exp.Literal.string("UTC"), naive],
        ),
        _NTZ,
    )


# strptime directives as Spark datetime pattern letters: (variable width, fixed width). Numbers
# that touch ("%Y%m%d") need fixed widths, or the first would read the digits of the next.
_NUMERIC_DIRECTIVES = {
    "Y": ("yyyy", "yyyy"),
    "y": ("yy", "yy"),
    "m": ("M", "MM"),
    "d": ("d", "dd"),
    "e": ("d", "dd"),
    "H": ("H", "HH"),
    "I": ("h", "hh"),
    "M": ("m", "mm"),
    "S": ("s", "ss"),
    "j": ("D", "DDD"),
    "f": ("SSSSSS", "SSSSSS"),
    "g": ("SSS", "SSS"),
    "n": ("SSSSSSSSS", "SSSSSSSSS"),
}
_TEXT_DIRECTIVES = {
    "b": "MMM",
    "h": "MMM",
    "B": "MMMM",
    "p": "a",
    # An offset written +05, +0500 or +05:00 (DuckDB's %z reads all three).
    "z": "[xxx][xx][x]",
    # A zone id (America/New_York) or name (EST, UTC).
    "Z": "[VV][z]",
}


def spark_datetime_pattern(strptime_format: str) -> tuple[str, bool]:
    """A strptime-style format as a Spark datetime pattern, and whether it reads a zone.

    Raises ValueError for directives Spark cannot parse (weekday names, week numbers...).
    """
    tokens = strptime_tokens(strptime_format)
    for kind, letter in tokens:
        known = letter in _NUMERIC_DIRECTIVES or letter in _TEXT_DIRECTIVES
        if kind == "directive" and not known:
            raise ValueError(
                f"date format directive %{letter} in {strptime_format!r} is not supported "
                "by the Spark engine"
            )
    parts = []
    for position, (kind, value) in enumerate(tokens):
        if kind == "literal":
            parts.append(_pattern_literal(value))
        elif value in _NUMERIC_DIRECTIVES:
            neighbours = (
                tokens[max(position - 1, 0) : position] + tokens[position + 1 : position + 2]
            )
            adjacent = any(k == "directive" and v in _NUMERIC_DIRECTIVES for k, v in neighbours)
            variable, fixed = _NUMERIC_DIRECTIVES[value]
            parts.append(fixed if adjacent else variable)
        else:
            parts.append(_TEXT_DIRECTIVES[value])
    zoned = any(kind == "directive" and value in "zZ" for kind, value in tokens)
    return "".join(parts), zoned


def _pattern_literal(char: str) -> str:
    if char == "'":
        return "''"
    if char.isalpha() or char in "[]#{}":
        return f"'{char}'"
    return char


# -- Spark and Arrow types ----------------------------------------------------------------------


def _struct(fields: Sequence[Any]) -> StructType:
    from pyspark.sql.types import StructType

    return StructType(list(fields))


def _renamed(schema: StructType, old: str, new: str) -> StructType:
    from pyspark.sql.types import StructField

    return _struct(
        [
            StructField(new if f.name == old else f.name, f.dataType, f.nullable)
            for f in schema.fields
        ]
    )


def _storable(frame: DataFrame) -> DataFrame:
    """A query result as a table stores it: timestamps naive UTC, untyped NULLs as text, and
    repeated column names made unique as DuckDB does (``a``, ``a_1``)."""
    from pyspark.sql.types import NullType, StringType, StructField, TimestampType

    fields = []
    taken: set[str] = set()
    for f in frame.schema.fields:
        name, suffix = f.name, 0
        while name.lower() in taken:
            suffix += 1
            name = f"{f.name}_{suffix}"
        taken.add(name.lower())
        kind: DataType = f.dataType
        if isinstance(kind, TimestampType):
            kind = _ntz()
        elif isinstance(kind, NullType):
            kind = StringType()
        fields.append(StructField(name, kind))
    return _conform(frame, _struct(fields), [f.name for f in fields])


def _ntz() -> DataType:
    from pyspark.sql.types import TimestampNTZType

    return TimestampNTZType()


def _named_columns(state: _TableState, names: Sequence[str]) -> list[str]:
    """The table's columns for ``names`` (matched without regard to case), or an error."""
    by_name = {f.name.lower(): f.name for f in state.schema.fields}
    unknown = [c for c in names if c.lower() not in by_name]
    if unknown:
        raise ValueError(f"table {state.name} has no column {', '.join(unknown)}")
    return [by_name[c.lower()] for c in names]


def _conform(frame: DataFrame, schema: StructType, columns: Sequence[str]) -> DataFrame:
    """``frame``'s columns, in order, as ``columns`` of ``schema``; other columns NULL."""
    from pyspark.sql import functions as F

    if len(frame.columns) != len(columns):
        raise ValueError(f"{len(frame.columns)} values given for {len(columns)} columns")
    # Positional names: a query may repeat a column name.
    positional = frame.toDF(*[f"_c{i}" for i in range(len(frame.columns))])
    given = {c.lower(): f"_c{i}" for i, c in enumerate(columns)}
    selects = []
    for f in schema.fields:
        source = given.get(f.name.lower())
        value = F.col(source) if source is not None else F.lit(None)
        selects.append(value.cast(f.dataType).alias(f.name))
    return positional.select(*selects)


def _duckdb_types(frame: DataFrame) -> DataFrame:
    """Result columns with the types DuckDB gives: int64, double, naive UTC timestamps."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import (
        ByteType,
        DoubleType,
        FloatType,
        IntegerType,
        LongType,
        ShortType,
        TimestampType,
    )

    changes: dict[int, DataType] = {}
    for i, f in enumerate(frame.schema.fields):
        if isinstance(f.dataType, ByteType | ShortType | IntegerType):
            changes[i] = LongType()
        elif isinstance(f.dataType, FloatType):
            changes[i] = DoubleType()
        elif isinstance(f.dataType, TimestampType):
            changes[i] = _ntz()
    if not changes:
        return frame
    names = frame.columns
    positional = frame.toDF(*[f"_c{i}" for i in range(len(names))])
    return positional.select(
        *[
            (F.col(f"_c{i}").cast(changes[i]) if i in changes else F.col(f"_c{i}")).alias(name)
            for i, name in enumerate(names)
        ]
    )


def _arrow_schema(schema: StructType) -> pa.Schema:
    from pyspark.sql.pandas.types import to_arrow_schema

    return _arrow_types(to_arrow_schema(schema, timezone="UTC"))


def _arrow_types(schema: pa.Schema) -> pa.Schema:
    fields = []
    for f in schema:
        kind = f.type
        if pa.types.is_large_string(kind):
            kind = pa.string()
        elif pa.types.is_large_binary(kind):
            kind = pa.binary()
        elif pa.types.is_timestamp(kind):
            kind = pa.timestamp("us")
        fields.append(pa.field(f.name, kind))
    return pa.schema(fields)


def _arrow_as_duckdb(table: pa.Table) -> pa.Table:
    target = _arrow_types(table.schema)
    if target.equals(table.schema):
        return table
    arrays = []
    for column, f in zip(table.columns, target, strict=True):
        if pa.types.is_timestamp(column.type) and column.type.tz is not None:
            column = pc.cast(column, pa.timestamp(column.type.unit, tz="UTC"))
            column = column.cast(pa.timestamp(column.type.unit))
        arrays.append(column.cast(f.type))
    return pa.Table.from_arrays(arrays, schema=target)


def _record_batch(rows: list[Any], schema: pa.Schema) -> pa.RecordBatch:
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
    return pa.RecordBatch.from_arrays(
        [pa.array(list(values), type=f.type) for values, f in zip(columns, schema, strict=True)],
        schema=schema,
    )


def _rebatched(batches: Iterable[pa.RecordBatch], size: int) -> Iterator[pa.RecordBatch]:
    """The rows of ``batches`` in batches of ``size`` rows (the last may have fewer)."""
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        pending.append(batch)
        count += batch.num_rows
        while count >= size:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, size).combine_chunks().to_batches()[0]
            pending = table.slice(size).to_batches()
            count -= size
    if count:
        yield pa.Table.from_batches(pending).combine_chunks().to_batches()[0]


def _arrow_for_spark(data: pa.Table) -> pa.Table:
    """Arrow types Spark reads: zoned timestamps as naive UTC, views as plain strings."""
    arrays = []
    for column in data.columns:
        kind = column.type
        if pa.types.is_timestamp(kind) and kind.tz is not None:
            column = column.cast(pa.timestamp(kind.unit, tz="UTC")).cast(pa.timestamp(kind.unit))
        elif pa.types.is_string_view(kind) or pa.types.is_large_string(kind):
            column = column.cast(pa.string())
        elif pa.types.is_binary_view(kind) or pa.types.is_large_binary(kind):
            column = column.cast(pa.binary())
        arrays.append(column)
    return pa.Table.from_arrays(arrays, names=data.column_names)


def _changed(before: Mapping[str, _TableState], after: Mapping[str, _TableState]) -> bool:
    return before.keys() != after.keys() or any(before[k] is not after[k] for k in before)
