"""The embedded default engine: DuckDB in a file inside the workspace."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp

from segmint.engines.base import (
    FILE_SOURCE,
    HAS_ZONE_PATTERN,
    SQL,
    Engine,
    FileFormat,
    FileReject,
    StagedFile,
)
from segmint.model.tables import ColumnType

# DuckDB's timestamp parser reads "-0500" and "-05:00" but not a space before the offset, as
# in Shopify's "2024-03-01 10:00:00 -0500"; dropping that space is a plain replace, several times
# cheaper per value than a regular expression (this runs on every timestamp of every import).
_OFFSET_SPACES = ((" -", "-"), (" +", "+"))

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

    def close(self) -> None:
        self._con.close()

    # -- tables --------------------------------------------------------------------------------

    def table_exists(self, name: str) -> bool:
        # fetchall, not fetchone: DuckDB 2 refuses the next .sql() while a result is unfinished.
        rows = self._con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchall()
        return bool(rows and rows[0][0])

    def existing_tables(self, names: Sequence[str]) -> set[str]:
        # One catalogue query: this runs before every segment evaluation.
        rows = self._con.execute(
            "SELECT table_name FROM information_schema.tables WHERE list_contains(?, table_name)",
            [list(names)],
        ).fetchall()
        return {str(row[0]) for row in rows}

    def load_arrow(self, name: str, data: pa.Table) -> None:
        view = f"_segmint_arrow_{next(_staging_ids)}"
        self._con.register(view, data)
        try:
            cols = ", ".join(f'"{c}"' for c in data.column_names)
            self._con.execute(f'INSERT INTO "{name}" ({cols}) SELECT {cols} FROM "{view}"')
        finally:
            self._con.unregister(view)

    def load_parquet(self, name: str, path: Path) -> None:
        import pyarrow.parquet as pq

        cols = ", ".join(f'"{c}"' for c in pq.read_schema(path).names)
        self._con.execute(
            f'INSERT INTO "{name}" ({cols}) SELECT {cols} FROM read_parquet(?)', [str(path)]
        )

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
        table = f"_segmint_stage_{next(_staging_ids)}"
        src = _sql_string(Path(path).as_posix())
        if fmt == "csv":
            return self._stage_csv(table, src, encoding, delimiter, transform)
        if fmt == "parquet":
            return self._stage_parquet(table, src, transform)
        if fmt == "jsonl":
            return self._stage_jsonl(table, src, list(fields or []), encoding)
        raise ValueError(f"unsupported file format {fmt!r}")

    def _stage_csv(
        self,
        table: str,
        src: str,
        encoding: str,
        delimiter: str | None,
        transform: Callable[[list[str]], exp.Select] | None = None,
    ) -> StagedFile:
        rejects_scan, rejects_table = f"{table}_scan", f"{table}_rejects"
        reading = ["header = true", "all_varchar = true", f"encoding = {_sql_string(encoding)}"]
        if delimiter:
            reading.append(f"delim = {_sql_string(delimiter)}")
        options = [
            *reading,
            "store_rejects = true",
            f"rejects_scan = '{rejects_scan}'",
            f"rejects_table = '{rejects_table}'",
        ]
        reader = f"read_csv({src}, {', '.join(options)})"
        if transform is None:
            self._con.execute(f'CREATE TEMP TABLE "{table}" AS SELECT * FROM {reader}')
            fields = [c for c in self.table_columns(table)]
        else:
            # The sniffer reads a sample only; the same options (rejects included: they change
            # what it decides) make the same columns.
            fields = [
                str(row[0])
                for row in self._con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()
            ]
            self._create_transformed(table, transform(fields), reader)
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

    def _stage_parquet(
        self, table: str, src: str, transform: Callable[[list[str]], exp.Select] | None = None
    ) -> StagedFile:
        schema = self._con.execute(f"DESCRIBE SELECT * FROM read_parquet({src})").fetchall()
        selects = []
        for name, type_name, *_ in schema:
            quoted = '"' + str(name).replace('"', '""') + '"'
            nested = any(t in str(type_name) for t in ("STRUCT", "MAP", "[]", "LIST", "JSON"))
            text = f"to_json({quoted})::VARCHAR" if nested else f"CAST({quoted} AS VARCHAR)"
            selects.append(f"{text} AS {quoted}")
        as_text = f"(SELECT {', '.join(selects)} FROM read_parquet({src}))"
        if transform is None:
            self._con.execute(f'CREATE TEMP TABLE "{table}" AS SELECT * FROM {as_text}')
        else:
            self._create_transformed(table, transform([str(s[0]) for s in schema]), as_text)
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

    def _create_transformed(self, table: str, query: exp.Select, reader: str) -> None:
        """``CREATE TEMP TABLE table AS query``, with FILE_SOURCE read through ``reader``."""
        parsed = sqlglot.parse_one(f"SELECT * FROM {reader} AS s", read="duckdb")
        source = parsed.args["from_"].this  # the table function, or a subquery over one

        def substitute(node: exp.Expr) -> exp.Expr:
            if isinstance(node, exp.Table) and node.name == FILE_SOURCE and not node.db:
                replacement = source.copy()
                replacement.set("alias", node.args.get("alias"))
                return replacement
            return node

        reading = query.transform(substitute)
        self._con.execute(f'CREATE TEMP TABLE "{table}" AS {reading.sql(dialect=self.dialect)}')

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
            normalized: exp.Expr = text
            for written, read in _OFFSET_SPACES:
                normalized = exp.func(
                    "replace", normalized, exp.Literal.string(written), exp.Literal.string(read)
                )
            as_tz = exp.TryCast(this=normalized, to=exp.DataType.build("TIMESTAMPTZ"))
            return exp.Cast(this=as_tz, to=exp.DataType.build("TIMESTAMP"))
        if column_type in (ColumnType.STRING, ColumnType.EMAIL, ColumnType.JSON):
            return text
        if column_type in (ColumnType.INTEGER, ColumnType.DOUBLE, ColumnType.MONEY):
            # Number casts skip surrounding spaces themselves; a TRIM would copy every value.
            return exp.TryCast(this=value, to=self.data_type(column_type))
        return exp.TryCast(this=text, to=self.data_type(column_type))

    def json_text(self, document: exp.Expression, key: str) -> exp.Expression:
        # TRY_CAST keeps malformed JSON from raising; ->> returns the value as text.
        return exp.JSONExtractScalar(
            this=exp.TryCast(this=document, to=exp.DataType.build("JSON")),
            expression=exp.JSONPath(expressions=[exp.JSONPathRoot(), exp.JSONPathKey(this=key)]),
        )

    def hash_bucket(self, value: exp.Expression, buckets: int) -> exp.Expression:
        # '0x...' text casts to an integer in DuckDB: the first 32 bits of the MD5.
        prefix = exp.Substring(
            this=exp.MD5(this=value),
            start=exp.Literal.number(1),
            length=exp.Literal.number(8),
        )
        number = exp.cast(
            exp.DPipe(this=exp.Literal.string("0x"), expression=prefix),
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
        # This runs on every timestamp of every import, so the costly steps (TRIM and the
        # offset rewrite each copy the string) only run on the values that need them.
        text = _trim_if_padded(value)
        if column_type is ColumnType.DATE:
            if format is None:
                return exp.TryCast(this=text, to=exp.DataType.build("DATE"))
            return exp.cast(_try_strptime(text, format), exp.DataType.build("DATE"))
        if column_type is not ColumnType.TIMESTAMP:
            raise ValueError(f"try_parse_time reads timestamps and dates, not {column_type}")
        utc = exp.DataType.build("TIMESTAMP")
        if format is not None:
            parsed = _try_strptime(text, format)
            if "%z" in format or "%Z" in format:
                # An aware result: casting to TIMESTAMP under the UTC session zone gives UTC.
                return exp.cast(parsed, utc)
            return parsed if timezone is None else _naive_in_zone(parsed, timezone)
        spaced = exp.or_(
            *[
                exp.Like(this=text.copy(), expression=exp.Literal.string(f"% {sign}%"))
                for sign in "-+"
            ]
        )
        unspaced: exp.Expr = text.copy()
        for written, read in _OFFSET_SPACES:
            unspaced = exp.func(
                "replace", unspaced, exp.Literal.string(written), exp.Literal.string(read)
            )
        offset_ready = exp.Case().when(spaced, unspaced).else_(text.copy())
        as_tz = exp.TryCast(this=offset_ready, to=exp.DataType.build("TIMESTAMPTZ"))
        aware = exp.cast(as_tz, utc)
        if timezone is None:
            # ISO shapes ending in Z are UTC as written, and the plain TIMESTAMP cast reads
            # them several times faster than the zone-aware one.
            utc_shape = exp.or_(
                *[
                    exp.Like(this=text.copy(), expression=exp.Literal.string(shape))
                    for shape in _UTC_SHAPES
                ]
            )
            plain = exp.TryCast(this=text.copy(), to=utc)
            return exp.Case().when(utc_shape, plain).else_(aware)
        naive = exp.TryCast(this=text.copy(), to=utc)
        has_offset = exp.RegexpLike(
            this=text.copy(), expression=exp.Literal.string(HAS_ZONE_PATTERN)
        )
        return exp.Case().when(has_offset, aware).else_(_naive_in_zone(naive, timezone))

    def is_json_object(self, value: exp.Expr) -> exp.Expr:
        # json_type raises on invalid JSON, so it only runs where json_valid said yes.
        return (
            exp.Case()
            .when(
                exp.func("json_valid", value),
                exp.EQ(
                    this=exp.func("json_type", value.copy()),
                    expression=exp.Literal.string("OBJECT"),
                ),
            )
            .else_(exp.false())
        )

    def json_object(
        self,
        pairs: Sequence[tuple[str, exp.Expr]],
        *,
        skip_nulls: bool = False,
        base: exp.Expr | None = None,
    ) -> exp.Expr:
        text = exp.DataType.build("VARCHAR")
        args: list[exp.Expr] = []
        for key, val in pairs:
            args += [exp.Literal.string(key), val]
        obj: exp.Expr = exp.cast(exp.Anonymous(this="json_object", expressions=args), text)
        if not (skip_nulls or base is not None):
            return obj
        empty = exp.Literal.string("{}")
        # RFC 7396 merge patch: null members of the patch are dropped, not copied (and so
        # never delete a key of ``base``). It is the costly part, so rows with no NULL value
        # (or only NULLs) skip it.
        stripped: exp.Expr = exp.cast(
            exp.Anonymous(this="json_merge_patch", expressions=[empty, obj.copy()]), text
        )
        nulls = [exp.Is(this=val.copy(), expression=exp.Null()) for _, val in pairs]
        stripped = (
            exp.Case()
            .when(exp.and_(*nulls), empty.copy())
            .when(exp.not_(exp.or_(*[n.copy() for n in nulls])), obj)
            .else_(stripped)
        )
        if base is None:
            return stripped
        merged = exp.Anonymous(this="json_merge_patch", expressions=[base, stripped.copy()])
        return (
            exp.Case()
            .when(exp.Is(this=base.copy(), expression=exp.Null()), stripped)
            .else_(exp.cast(merged, text))
        )


def _trim_if_padded(value: exp.Expr) -> exp.Expr:
    # A prefix/suffix test is much cheaper than TRIM, which copies every string.
    padded = exp.or_(
        exp.Like(this=value, expression=exp.Literal.string(" %")),
        exp.Like(this=value.copy(), expression=exp.Literal.string("% ")),
    )
    return exp.Case().when(padded, exp.Trim(this=value.copy())).else_(value.copy())


def _try_strptime(text: exp.Expr, format: str) -> exp.Expr:
    return exp.Anonymous(this="try_strptime", expressions=[text, exp.Literal.string(format)])


def _naive_in_zone(naive: exp.Expr, zone: str) -> exp.Expr:
    # timezone(zone, naive) reads the wall time in that zone; as TIMESTAMP it is UTC again.
    aware = exp.Anonymous(this="timezone", expressions=[exp.Literal.string(zone), naive])
    return exp.cast(aware, exp.DataType.build("TIMESTAMP"))


# The fixed-width ISO 8601 UTC forms that tracking SDKs write (JavaScript's toISOString);
# LIKE's "_" is one character. Each shape is a test on every value that is not of it, so
# the list stays short.
_UTC_SHAPES = ("____-__-__T__:__:__.___Z", "____-__-__T__:__:__Z")


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
