"""PostgreSQL: a server the workspace connects to, one schema per workspace.

The core hands this engine sqlglot expressions (its SQL text is written in DuckDB's dialect
and parsed once); they are rendered with sqlglot's PostgreSQL dialect, after the rewrites in
:func:`_postgres_tree` for what sqlglot does not translate on its own (``TRY_CAST``,
``CREATE OR REPLACE TABLE``, aggregates PostgreSQL lacks). The few helpers PostgreSQL has no
built-in for (safe casts that return NULL instead of raising) are SQL functions created in the
workspace schema when the engine connects.

Files are read on the client with the embedded DuckDB (see :mod:`segmint.engines.reading`)
and copied into the server with ``COPY``; nothing pulls a table into Python memory whole:
results stream through server-side cursors in Arrow batches.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar, cast
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv
from psycopg import sql as pgsql
from psycopg.types.string import TextLoader
from sqlglot import exp

from segmint.engines.base import (
    HAS_ZONE_PATTERN,
    SQL,
    Engine,
    FileFormat,
    StagedFile,
    parse_sql,
    strptime_tokens,
)
from segmint.engines.reading import ORDINAL, staged_in_duckdb, text_batches, transform_over
from segmint.errors import SegmintError
from segmint.model.tables import ColumnType

_names = itertools.count(1)

#: Safe casts: (function suffix, PostgreSQL type). Each returns NULL where the text does not
#: parse, like DuckDB's TRY_CAST; an exception block is PostgreSQL's only way to ask.
_SAFE_CASTS = (
    ("bigint", "bigint"),
    ("integer", "integer"),
    ("double", "double precision"),
    ("numeric", "numeric"),
    ("money", "numeric(18, 4)"),
    ("date", "date"),
    ("timestamp", "timestamp"),
    ("timestamptz", "timestamptz"),
    ("boolean", "boolean"),
    ("jsonb", "jsonb"),
)

# PostgreSQL reads words such as 'yesterday' and 'epoch' as times; a file's time column
# holding them is bad data, as on every other engine.
_TIME_WORDS = "(epoch|infinity|now|today|tomorrow|yesterday|allballs)"

_HELPERS = [
    f"""
    CREATE OR REPLACE FUNCTION segmint_try_{suffix}(value text) RETURNS {type_sql}
    LANGUAGE plpgsql STABLE AS $$
    BEGIN
        {
        f"IF value ~* '{_TIME_WORDS}' THEN RETURN NULL; END IF;"
        if suffix in ("date", "timestamp", "timestamptz")
        else ""
    }
        RETURN value::{type_sql};
    EXCEPTION WHEN others THEN
        RETURN NULL;
    END $$
    """
    for suffix, type_sql in _SAFE_CASTS
] + [
    # to_timestamp with a pattern, NULL where the text does not fit it.
    """
    CREATE OR REPLACE FUNCTION segmint_try_to_timestamp(value text, pattern text)
    RETURNS timestamp LANGUAGE plpgsql STABLE AS $$
    BEGIN
        RETURN to_timestamp(value, pattern)::timestamp;
    EXCEPTION WHEN others THEN
        RETURN NULL;
    END $$
    """,
]

# PostgreSQL type OIDs and the Arrow types their values become (what DuckDB returns for the
# same logical types, so results compare across engines).
_ARROW_TYPES: dict[int, pa.DataType] = {
    16: pa.bool_(),
    20: pa.int64(),
    21: pa.int16(),
    23: pa.int32(),
    700: pa.float32(),
    701: pa.float64(),
    25: pa.string(),
    1043: pa.string(),
    1042: pa.string(),
    19: pa.string(),
    114: pa.string(),
    3802: pa.string(),
    1082: pa.date32(),
    1114: pa.timestamp("us"),
    1184: pa.timestamp("us", tz="UTC"),
    1186: pa.duration("us"),
}
_NUMERIC = 1700


class PostgresEngine(Engine):
    """A PostgreSQL server; the workspace's tables live in ``schema``."""

    name: ClassVar[str] = "postgres"
    dialect: ClassVar[str] = "postgres"

    def __init__(self, url: str, *, schema: str = "segmint") -> None:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", schema):
            raise SegmintError(f"PostgreSQL schema name {schema!r} must be a plain identifier")
        self.url = url
        self.schema = schema
        try:
            self._con = psycopg.connect(url, autocommit=True)
        except psycopg.Error as error:
            raise SegmintError(
                f"cannot connect to PostgreSQL at {mask_url(url)}: {error}"
            ) from None
        # JSON stays text, as on the other engines.
        for json_type in ("json", "jsonb"):
            self._con.adapters.register_loader(json_type, TextLoader)
        self._con.execute(
            pgsql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(pgsql.Identifier(schema))
        )
        self._con.execute(pgsql.SQL("SET search_path TO {}").format(pgsql.Identifier(schema)))
        self._con.execute("SET TIME ZONE 'UTC'")
        for helper in _HELPERS:
            self._con.execute(helper)

    # -- running SQL ---------------------------------------------------------------------------

    def render(self, statement: SQL) -> str:
        tree = parse_sql(statement) if isinstance(statement, str) else statement
        return _postgres_tree(tree).sql(dialect=self.dialect)

    def execute(self, statement: SQL, params: Sequence[Any] | None = None) -> None:
        tree = parse_sql(statement) if isinstance(statement, str) else statement
        if isinstance(tree, exp.Create) and tree.args.get("replace"):
            self._create_or_replace(tree)
            return
        self._run(self.render(tree), params)

    def _run(self, text: str, params: Sequence[Any] | None = None) -> psycopg.Cursor[Any]:
        return self._con.execute(_placeholders(text, params), params)

    def _create_or_replace(self, create: exp.Create) -> None:
        # PostgreSQL has no CREATE OR REPLACE TABLE. The new table is built under another name
        # first, because its query may read the table it replaces.
        target = create.this.this if isinstance(create.this, exp.Schema) else create.this
        name = target.name
        building = f"_segmint_new_{next(_names)}"
        fresh = create.copy()
        fresh.set("replace", False)
        (fresh.this.this if isinstance(fresh.this, exp.Schema) else fresh.this).set(
            "this", exp.to_identifier(building)
        )
        with self.transaction():
            self._run(self.render(fresh))
            self._run(self.render(exp.Drop(tables=[exp.to_table(name)], kind="TABLE", exists=True)))
            self._run(f'ALTER TABLE "{building}" RENAME TO "{name}"')

    def fetch_arrow(self, query: SQL, params: Sequence[Any] | None = None) -> pa.Table:
        cursor = self._run(self.render(query), params)
        description = cursor.description or []
        return _to_arrow(description, cursor.fetchall())

    def fetch_all(self, query: SQL, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        return self._run(self.render(query), params).fetchall()

    def fetch_batches(
        self, query: SQL, params: Sequence[Any] | None = None, batch_size: int = 100_000
    ) -> Iterator[pa.RecordBatch]:
        # A server-side cursor (WITH HOLD, so it lives outside a transaction) sends the rows a
        # batch at a time; other statements can run between batches.
        cursor = self._con.cursor(name=f"segmint_cursor_{next(_names)}", withhold=True)
        try:
            cursor.execute(_placeholders(self.render(query), params), params)
            while rows := cursor.fetchmany(batch_size):
                yield from _to_arrow(cursor.description or [], rows).to_batches()
        finally:
            cursor.close()

    def close(self) -> None:
        self._con.close()

    # -- tables --------------------------------------------------------------------------------

    def table_exists(self, name: str) -> bool:
        # to_regclass follows the search path, temporary tables included.
        found = self._con.execute(
            "SELECT to_regclass(%s) IS NOT NULL", [pgsql.Identifier(name).as_string(self._con)]
        ).fetchone()
        return bool(found and found[0])

    def table_columns(self, name: str) -> list[str]:
        cursor = self._con.execute(
            pgsql.SQL("SELECT * FROM {} LIMIT 0").format(pgsql.Identifier(name))
        )
        return [column.name for column in cursor.description or []]

    def data_type(self, column_type: ColumnType) -> exp.DataType:
        if column_type is ColumnType.DOUBLE:
            return exp.DataType.build("DOUBLE PRECISION", dialect="postgres")
        return super().data_type(column_type)

    def load_arrow(self, name: str, data: pa.Table) -> None:
        copy_batches(self._con, name, data.column_names, data.to_batches(max_chunksize=50_000))

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
        raw = f"_segmint_file_{next(_names)}"
        with staged_in_duckdb(path, fmt, fields=fields, encoding=encoding, delimiter=delimiter) as (
            reader,
            staged,
        ):
            columns = pgsql.SQL(", ").join(
                [pgsql.SQL("{} text").format(pgsql.Identifier(f)) for f in staged.fields]
                + [pgsql.SQL("{} bigint").format(pgsql.Identifier(ORDINAL))]
            )
            self._con.execute(
                pgsql.SQL("CREATE TEMPORARY TABLE {} ({})").format(pgsql.Identifier(raw), columns)
            )
            for batch in text_batches(reader, staged):
                self.load_arrow(raw, pa.Table.from_batches([batch]))
        if transform is None:
            table = raw
        else:
            table = f"_segmint_stage_{next(_names)}"
            query = transform_over(transform(list(staged.fields)), raw)
            self._run(f'CREATE TEMPORARY TABLE "{table}" AS {self.render(query)}')
            self._run(f'DROP TABLE "{raw}"')
        return StagedFile(
            table,
            list(staged.fields),
            staged.rows,
            staged.rejects,
            ordinal_is_row=staged.ordinal_is_row,
        )

    # -- parsing -------------------------------------------------------------------------------

    def try_cast(self, value: exp.Expression, column_type: ColumnType) -> exp.Expression:
        text = exp.Trim(this=value)
        if column_type is ColumnType.BOOLEAN:
            return self.parse_boolean(value)
        if column_type in (ColumnType.STRING, ColumnType.EMAIL, ColumnType.JSON):
            return text
        if column_type is ColumnType.TIMESTAMP:
            return _at_utc(_safe_cast(text, "timestamptz"))
        suffix = {
            ColumnType.INTEGER: "bigint",
            ColumnType.DOUBLE: "double",
            ColumnType.MONEY: "money",
            ColumnType.DATE: "date",
        }[column_type]
        return _safe_cast(text, suffix)

    def try_parse_time(
        self,
        value: exp.Expr,
        column_type: ColumnType,
        *,
        format: str | None = None,
        timezone: str | None = None,
    ) -> exp.Expr:
        text = exp.Trim(this=value)
        if column_type not in (ColumnType.DATE, ColumnType.TIMESTAMP):
            raise ValueError(f"try_parse_time reads timestamps and dates, not {column_type}")
        if format is not None:
            pattern = _postgres_pattern(format)
            # to_timestamp leaves out fields missing at the end of the text ('31/12/2023'
            # fits 'DD/MM/YYYY HH24:MI'); strptime does not, so every number must be there.
            numbers = sum(
                kind == "directive" and letter in _NUMERIC_DIRECTIVES
                for kind, letter in strptime_tokens(format)
            )
            complete = exp.GTE(
                this=exp.Anonymous(
                    this="regexp_count", expressions=[text.copy(), exp.Literal.string(r"\d+")]
                ),
                expression=exp.Literal.number(numbers),
            )
            parsed: exp.Expr = (
                exp.Case()
                .when(
                    complete,
                    exp.Anonymous(
                        this="segmint_try_to_timestamp",
                        expressions=[text, exp.Literal.string(pattern)],
                    ),
                )
                .else_(exp.Null())
            )
            if column_type is ColumnType.DATE:
                return exp.cast(parsed, exp.DataType.build("DATE"))
            if "%z" in format or "%Z" in format:
                # to_timestamp read the offset and converted under the UTC session zone.
                return parsed
            return parsed if timezone is None else _naive_in_zone(parsed, timezone)
        if column_type is ColumnType.DATE:
            return _safe_cast(text, "date")
        aware = _at_utc(_safe_cast(text, "timestamptz"))
        if timezone is None:
            return aware
        has_offset = exp.RegexpLike(
            this=text.copy(), expression=exp.Literal.string(HAS_ZONE_PATTERN)
        )
        naive = _safe_cast(text.copy(), "timestamp")
        return exp.Case().when(has_offset, aware).else_(_naive_in_zone(naive, timezone))

    def json_text(self, document: exp.Expression, key: str) -> exp.Expression:
        return exp.Anonymous(
            this="jsonb_extract_path_text",
            expressions=[_safe_cast(document, "jsonb"), exp.Literal.string(key)],
        )

    def hash_bucket(self, value: exp.Expression, buckets: int) -> exp.Expression:
        # 'x' || 8 hex digits read as bit(32), then as a bigint: the first 32 bits of the MD5,
        # unsigned (bit(32)::bigint would be signed; going through bit(64) keeps it positive).
        prefix = exp.Substring(
            this=exp.MD5(this=value), start=exp.Literal.number(1), length=exp.Literal.number(8)
        )
        bits = exp.cast(
            exp.DPipe(this=exp.Literal.string("x00000000"), expression=prefix),
            exp.DataType.build("BIT(64)", dialect="postgres"),
        )
        number = exp.cast(bits, exp.DataType.build("BIGINT"))
        return exp.Mod(this=number, expression=exp.Literal.number(buckets))

    def is_json_object(self, value: exp.Expr) -> exp.Expr:
        typeof = exp.Anonymous(this="jsonb_typeof", expressions=[_safe_cast(value, "jsonb")])
        return exp.func(
            "coalesce", exp.EQ(this=typeof, expression=exp.Literal.string("object")), exp.false()
        )

    def json_object(
        self,
        pairs: Sequence[tuple[str, exp.Expr]],
        *,
        skip_nulls: bool = False,
        base: exp.Expr | None = None,
    ) -> exp.Expr:
        # A function takes at most 100 arguments: 50 pairs per object, concatenated.
        obj: exp.Expr = exp.Anonymous(this="jsonb_build_object", expressions=[])
        for start in range(0, len(pairs), 50):
            args: list[exp.Expr] = []
            for key, val in pairs[start : start + 50]:
                args += [exp.Literal.string(key), val]
            part = exp.Anonymous(this="jsonb_build_object", expressions=args)
            obj = part if start == 0 else exp.DPipe(this=obj, expression=part)
        if skip_nulls or base is not None:
            obj = exp.Anonymous(this="jsonb_strip_nulls", expressions=[obj])
        if base is not None:
            # jsonb || jsonb: keys of the right side win.
            based = exp.func("coalesce", _safe_cast(base, "jsonb"), exp.Literal.string("{}"))
            obj = exp.DPipe(this=exp.cast(based, exp.DataType.build("JSONB")), expression=obj)
        return exp.cast(obj, exp.DataType.build("TEXT"))


def copy_batches(
    connection: psycopg.Connection[Any],
    table: str,
    columns: Sequence[str],
    batches: Iterable[pa.RecordBatch],
) -> int:
    """``COPY`` Arrow batches (their ``columns``, in that order) into ``table``; rows copied."""
    statement = pgsql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(
        pgsql.Identifier(table), pgsql.SQL(", ").join(pgsql.Identifier(c) for c in columns)
    )
    options = pa_csv.WriteOptions(include_header=False)
    copied = 0
    with connection.cursor() as cursor, cursor.copy(statement) as stream:
        for batch in batches:
            if batch.num_rows == 0:
                continue
            # Arrow's CSV writer quotes every text value and leaves NULLs empty and unquoted:
            # exactly how COPY's CSV format tells NULL from an empty string.
            buffer = io.BytesIO()
            pa_csv.write_csv(batch.select(list(columns)), buffer, options)
            stream.write(buffer.getbuffer())
            copied += batch.num_rows
    return copied


# -- rewriting trees for PostgreSQL ----------------------------------------------------------------


def _safe_cast(value: exp.Expr, suffix: str) -> exp.Expression:
    text = exp.cast(value, exp.DataType.build("TEXT"))
    return exp.Anonymous(this=f"segmint_try_{suffix}", expressions=[text])


def _at_utc(aware: exp.Expr) -> exp.Expression:
    # timestamptz AT TIME ZONE 'UTC' is the UTC wall time, a plain timestamp.
    return exp.AtTimeZone(this=aware, zone=exp.Literal.string("UTC"))


def _naive_in_zone(naive: exp.Expr, zone: str) -> exp.Expr:
    # A wall time read in ``zone`` (a timestamptz), then as UTC wall time.
    aware = exp.AtTimeZone(this=naive, zone=exp.Literal.string(zone))
    return _at_utc(aware)


_TRY_CAST_SUFFIX = {
    exp.DataType.Type.BIGINT: "bigint",
    exp.DataType.Type.INT: "integer",
    exp.DataType.Type.DOUBLE: "double",
    exp.DataType.Type.FLOAT: "double",
    exp.DataType.Type.DATE: "date",
    exp.DataType.Type.TIMESTAMP: "timestamp",
    exp.DataType.Type.TIMESTAMPTZ: "timestamptz",
    exp.DataType.Type.BOOLEAN: "boolean",
    exp.DataType.Type.JSON: "jsonb",
    exp.DataType.Type.JSONB: "jsonb",
}


def _postgres_tree(tree: exp.Expression) -> exp.Expression:
    """Rewrite what sqlglot leaves in a form PostgreSQL does not run (on a copy)."""

    def rewrite(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.TryCast):
            return _try_cast(node)
        if isinstance(node, exp.JSONExtractScalar | exp.JSONExtract):
            return _json_path(node)
        if isinstance(node, exp.ArgMax | exp.ArgMin):
            return _arg_extreme(node)
        if isinstance(node, exp.AnyValue):
            # The first non-NULL value, as DuckDB's any_value gives.
            return _first_where_not_null(exp.ArrayAgg(this=node.this), node.this)
        return node

    return cast(exp.Expression, tree.transform(rewrite))


def _try_cast(node: exp.TryCast) -> exp.Expr:
    target = node.to
    kind = target.this
    if target.is_type(*exp.DataType.TEXT_TYPES):
        return exp.cast(node.this, exp.DataType.build("TEXT"))
    if kind == exp.DataType.Type.DECIMAL:
        params = [p.name for p in target.expressions]
        if params == ["18", "4"]:
            return _safe_cast(node.this, "money")
        return exp.cast(_safe_cast(node.this, "numeric"), target)
    suffix = _TRY_CAST_SUFFIX.get(kind)
    if suffix is None:
        raise SegmintError(f"no safe PostgreSQL cast to {target.sql('postgres')}")
    return _safe_cast(node.this, suffix)


def _json_path(node: exp.JSONExtractScalar | exp.JSONExtract) -> exp.Expr:
    # DuckDB's json_extract(_string) read text or JSON; PostgreSQL's path functions take jsonb.
    path = node.expression
    if not isinstance(path, exp.JSONPath) or not all(
        isinstance(p, exp.JSONPathRoot | exp.JSONPathKey) for p in path.expressions
    ):
        raise SegmintError(f"unsupported JSON path for PostgreSQL: {node.sql('duckdb')}")
    keys = [exp.Literal.string(p.this) for p in path.expressions if isinstance(p, exp.JSONPathKey)]
    function = (
        "jsonb_extract_path_text"
        if isinstance(node, exp.JSONExtractScalar)
        else ("jsonb_extract_path")
    )
    document = exp.cast(node.this, exp.DataType.build("JSONB"))
    return exp.Anonymous(this=function, expressions=[document, *keys])


def _arg_extreme(node: exp.ArgMax | exp.ArgMin) -> exp.Expr:
    # arg_max(x, y): x of the row with the largest y, ignoring rows whose y is NULL.
    order = exp.Ordered(this=node.expression.copy(), desc=isinstance(node, exp.ArgMax))
    values = exp.ArrayAgg(this=exp.Order(this=node.this.copy(), expressions=[order]))
    return _first_where_not_null(values, node.expression)


def _first_where_not_null(values: exp.ArrayAgg, value: exp.Expr) -> exp.Expr:
    """``(values FILTER (WHERE value IS NOT NULL))[1]``: the first aggregated element."""
    kept = exp.Filter(
        this=values,
        expression=exp.Where(this=exp.not_(exp.Is(this=value.copy(), expression=exp.Null()))),
    )
    return exp.Bracket(this=exp.Paren(this=kept), expressions=[exp.Literal.number(1)])


def _placeholders(text: str, params: Sequence[Any] | None) -> str:
    # The engine API binds ``?`` parameters (DuckDB's style); psycopg binds ``%s``, and a
    # literal % must be doubled when parameters are given.
    if not params:
        return text
    return text.replace("%", "%%").replace("?", "%s")


def _to_arrow(description: Sequence[Any], rows: list[tuple[Any, ...]]) -> pa.Table:
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in description]
    arrays = []
    for column, values in zip(description, columns, strict=True):
        arrow_type = _ARROW_TYPES.get(column.type_code)
        if column.type_code == _NUMERIC and column.precision is not None:
            arrow_type = pa.decimal128(column.precision, column.scale or 0)
        if arrow_type is None and not values:
            arrow_type = pa.decimal128(38, 4) if column.type_code == _NUMERIC else pa.string()
        arrays.append(pa.array(list(values), type=arrow_type))
    return pa.Table.from_arrays(arrays, names=[column.name for column in description])


# strptime directives and the PostgreSQL to_timestamp patterns they become.
_PATTERNS = {
    "Y": "YYYY",
    "y": "YY",
    "m": "MM",
    "d": "DD",
    "H": "HH24",
    "I": "HH12",
    "M": "MI",
    "S": "SS",
    "f": "US",
    "p": "AM",
    "b": "Mon",
    "B": "Month",
    "a": "Dy",
    "A": "Day",
    "j": "DDD",
    "z": "TZH:TZM",
    "Z": "TZ",
}
_NUMERIC_DIRECTIVES = ("Y", "y", "m", "d", "H", "I", "M", "S", "f", "j")


def _postgres_pattern(format: str) -> str:
    out = []
    for kind, value in strptime_tokens(format):
        if kind == "directive" and value not in _PATTERNS:
            raise SegmintError(f"unsupported time format directive '%{value}' in {format!r}")
        if kind == "directive":
            out.append(_PATTERNS[value])
        else:
            # Literal text is quoted so letters are not read as pattern fields.
            out.append(f'"{value}"' if value.isalpha() else value)
    return "".join(out)


def mask_url(url: str) -> str:
    """The URL with its password replaced by ``***`` (for messages and the sync log)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
