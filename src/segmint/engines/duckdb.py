"""The embedded default engine: DuckDB in a file inside the workspace."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import duckdb
import pyarrow as pa
from sqlglot import exp

from segmint.engines.base import SQL, Engine, FileFormat, FileReject, StagedFile
from segmint.model.tables import ColumnType

# A zone offset written without a colon (Shopify's "2024-03-01 10:00:00 -0500") is not read by
# DuckDB's timestamp parser; rewrite it as "-05:00" first.
_OFFSET_PATTERN = r"(\d)\s*([+-]\d{2}):?(\d{2})$"
_OFFSET_REPLACEMENT = r"\1\2:\3"

_staging_ids = itertools.count(1)


class DuckDBEngine(Engine):
    """DuckDB, file-backed. Out of core: past ``memory_limit`` it spills to ``temp_directory``."""

    name: ClassVar[str] = "duckdb"
    dialect: ClassVar[str] = "duckdb"

    def __init__(
        self,
        database: str | Path = ":memory:",
        *,
        memory_limit: str | None = None,
        threads: int | None = None,
        temp_directory: str | Path | None = None,
        read_only: bool = False,
    ) -> None:
        self.database = str(database)
        self._con = duckdb.connect(self.database, read_only=read_only)
        # Timestamps are stored as UTC wall time; parsing with a zone converts into UTC.
        self._con.execute("SET TimeZone = 'UTC'")
        if memory_limit:
            self._con.execute(f"SET memory_limit = '{memory_limit}'")
        if threads:
            self._con.execute(f"SET threads = {int(threads)}")
        if temp_directory:
            self._con.execute(f"SET temp_directory = '{Path(temp_directory).as_posix()}'")
        self._in_transaction = False

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The raw connection, for engine-layer code only."""
        return self._con

    # -- running SQL ---------------------------------------------------------------------------

    def execute(self, statement: SQL, params: Sequence[Any] | None = None) -> None:
        self._con.execute(self.render(statement), params)

    def fetch_arrow(self, query: SQL, params: Sequence[Any] | None = None) -> pa.Table:
        return self._con.sql(self.render(query), params=params).to_arrow_table()

    def fetch_all(self, query: SQL, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        return self._con.execute(self.render(query), params).fetchall()

    def fetch_batches(
        self, query: SQL, params: Sequence[Any] | None = None, batch_size: int = 100_000
    ) -> Iterator[pa.RecordBatch]:
        # A cursor of its own, so other statements can run while the caller iterates.
        cursor = self._con.cursor()
        try:
            reader = cursor.sql(self.render(query), params=params).to_arrow_reader(batch_size)
            yield from reader
        finally:
            cursor.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._in_transaction:  # nested: the outer transaction decides
            yield
            return
        self._con.execute("BEGIN TRANSACTION")
        self._in_transaction = True
        try:
            yield
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        else:
            self._con.execute("COMMIT")
        finally:
            self._in_transaction = False

    def close(self) -> None:
        self._con.close()

    # -- tables --------------------------------------------------------------------------------

    def table_exists(self, name: str) -> bool:
        row = self._con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchone()
        return bool(row and row[0])

    def load_arrow(self, name: str, data: pa.Table) -> None:
        view = f"_segmint_arrow_{next(_staging_ids)}"
        self._con.register(view, data)
        try:
            cols = ", ".join(f'"{c}"' for c in data.column_names)
            self._con.execute(f'INSERT INTO "{name}" ({cols}) SELECT {cols} FROM "{view}"')
        finally:
            self._con.unregister(view)

    # -- reading files -------------------------------------------------------------------------

    def stage_file(
        self,
        path: Path,
        fmt: FileFormat,
        *,
        fields: Sequence[str] | None = None,
        encoding: str = "utf-8",
        delimiter: str | None = None,
    ) -> StagedFile:
        table = f"_segmint_stage_{next(_staging_ids)}"
        src = _sql_string(Path(path).as_posix())
        if fmt == "csv":
            return self._stage_csv(table, src, encoding, delimiter)
        if fmt == "parquet":
            return self._stage_parquet(table, src)
        if fmt == "jsonl":
            return self._stage_jsonl(table, src, list(fields or []), encoding)
        raise ValueError(f"unsupported file format {fmt!r}")

    def _stage_csv(self, table: str, src: str, encoding: str, delimiter: str | None) -> StagedFile:
        rejects_scan, rejects_table = f"{table}_scan", f"{table}_rejects"
        options = [
            "header = true",
            "all_varchar = true",
            "store_rejects = true",
            f"rejects_scan = '{rejects_scan}'",
            f"rejects_table = '{rejects_table}'",
            f"encoding = {_sql_string(encoding)}",
        ]
        if delimiter:
            options.append(f"delim = {_sql_string(delimiter)}")
        self._con.execute(
            f'CREATE TEMP TABLE "{table}" AS SELECT * FROM read_csv({src}, {", ".join(options)})'
        )
        fields = [c for c in self.table_columns(table)]
        self._add_ordinal(table)
        # DuckDB counts file lines from 1 with the header as line 1: data row = line - 1. A row
        # may be reported once per problem column; the last report describes it whole.
        by_row: dict[int, FileReject] = {}
        for line, raw, kind, msg in self._con.execute(
            f'SELECT line, csv_line, error_type, error_message FROM "{rejects_table}" '
            "ORDER BY line, column_idx"
        ).fetchall():
            row = int(line) - 1
            by_row[row] = FileReject(row, str(raw or ""), _reject_reason(kind, msg))
        rejects = list(by_row.values())
        self._con.execute(f'DROP TABLE IF EXISTS "{rejects_table}"')
        self._con.execute(f'DROP TABLE IF EXISTS "{rejects_scan}"')
        return StagedFile(table, fields, self.count_rows(table), rejects)

    def _stage_parquet(self, table: str, src: str) -> StagedFile:
        schema = self._con.execute(f"DESCRIBE SELECT * FROM read_parquet({src})").fetchall()
        selects = []
        for name, type_name, *_ in schema:
            quoted = '"' + str(name).replace('"', '""') + '"'
            nested = any(t in str(type_name) for t in ("STRUCT", "MAP", "[]", "LIST", "JSON"))
            text = f"to_json({quoted})::VARCHAR" if nested else f"CAST({quoted} AS VARCHAR)"
            selects.append(f"{text} AS {quoted}")
        self._con.execute(
            f'CREATE TEMP TABLE "{table}" AS SELECT {", ".join(selects)} FROM read_parquet({src})'
        )
        self._add_ordinal(table)
        return StagedFile(table, [str(s[0]) for s in schema], self.count_rows(table))

    def _stage_jsonl(self, table: str, src: str, fields: list[str], encoding: str) -> StagedFile:
        # Each line is read as one text value, so a line that is not JSON is kept (and rejected
        # with its row number) instead of failing the whole file.
        lines = f"{table}_lines"
        self._con.execute(
            f'CREATE TEMP TABLE "{lines}" AS SELECT line FROM read_csv({src}, '
            "columns = {'line': 'VARCHAR'}, header = false, delim = '\x1f', quote = '', "
            f"escape = '', encoding = {_sql_string(encoding)}, strict_mode = false)"
        )
        self._add_ordinal(lines)
        # Blank lines are not rows.
        self._con.execute(f"DELETE FROM \"{lines}\" WHERE trim(coalesce(line, '')) = ''")
        bad = self._con.execute(
            f'SELECT _ordinal, line FROM "{lines}" '
            "WHERE try(json(line)) IS NULL OR json_type(try(json(line))) <> 'OBJECT' "
            "ORDER BY _ordinal"
        ).fetchall()
        rejects = [FileReject(int(o), str(line), "not a JSON object") for o, line in bad]
        extracts = []
        for name in fields:
            path = _sql_string("$." + _json_key(name))
            extracts.append(
                f"CASE WHEN json_type(line, {path}) IN ('OBJECT', 'ARRAY') "
                f"THEN json_extract(line, {path})::VARCHAR "
                f'ELSE json_extract_string(line, {path}) END AS "{name}"'
            )
        select = ", ".join([*extracts, "_ordinal AS _line"]) if extracts else "_ordinal AS _line"
        self._con.execute(
            f'CREATE TEMP TABLE "{table}" AS SELECT {select} FROM "{lines}" '
            "WHERE try(json(line)) IS NOT NULL AND json_type(try(json(line))) = 'OBJECT' "
            "ORDER BY _ordinal"
        )
        self._con.execute(f'DROP TABLE "{lines}"')
        # Here the row number is the line number itself (blank lines included), kept in _line.
        self._con.execute(f'ALTER TABLE "{table}" RENAME COLUMN _line TO _ordinal')
        return StagedFile(table, list(fields), self.count_rows(table), rejects, ordinal_is_row=True)

    def _add_ordinal(self, table: str) -> None:
        # rowid follows insertion order, which CREATE TABLE AS keeps from the file.
        self._con.execute(f'ALTER TABLE "{table}" ADD COLUMN _ordinal BIGINT')
        self._con.execute(f'UPDATE "{table}" SET _ordinal = rowid + 1')

    # -- parsing -------------------------------------------------------------------------------

    def try_cast(self, value: exp.Expression, column_type: ColumnType) -> exp.Expression:
        text = exp.Trim(this=value)
        if column_type is ColumnType.BOOLEAN:
            return self.parse_boolean(value)
        if column_type is ColumnType.TIMESTAMP:
            normalized = exp.RegexpReplace(
                this=text,
                expression=exp.Literal.string(_OFFSET_PATTERN),
                replacement=exp.Literal.string(_OFFSET_REPLACEMENT),
            )
            as_tz = exp.TryCast(this=normalized, to=exp.DataType.build("TIMESTAMPTZ"))
            return exp.Cast(this=as_tz, to=exp.DataType.build("TIMESTAMP"))
        if column_type in (ColumnType.STRING, ColumnType.EMAIL, ColumnType.JSON):
            return text
        return exp.TryCast(this=text, to=self.data_type(column_type))


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _json_key(name: str) -> str:
    return '"' + name.replace('"', '\\"') + '"'


def _reject_reason(kind: str, message: str) -> str:
    kind = (kind or "").lower()
    if "too many" in kind or "missing" in kind:
        return f"wrong number of fields: {message}"
    if "unicode" in kind:
        return "invalid characters for the file's encoding"
    return f"{kind}: {message}" if kind else str(message)
