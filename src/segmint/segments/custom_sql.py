"""Custom segment templates written in SQL by a data person, reusable by marketers.

A template is one read-only ``SELECT`` that returns a ``profile_id`` column, written in any
dialect sqlglot reads, with named parameters (``:min_spend``, or ``@min_spend`` in BigQuery's
style). It is parsed once when saved and checked:

- exactly one statement, and a query (no DDL, no DML, no ``SELECT ... INTO``, no ``COPY``,
  ``ATTACH``, ``PRAGMA`` or ``SET``);
- it reads only segmint's own tables (canonical tables, ``profiles`` and its long tables,
  ``identities``, ``segment_members``) or its own CTEs; no schema-qualified names, no table
  functions, no file paths as tables;
- no function that reads files, the environment or runs SQL text (``read_csv``, ``read_text``,
  ``pg_read_file``, ``getenv``, ``query``...);
- its single output column is ``profile_id``; every parameter it uses is declared.

Values are bound after parsing by replacing the parameter nodes with typed literals (never by
splicing text), then the query is rendered in the engine's dialect. ``:as_of`` is always
available: the evaluation time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from segmint.engines.base import Engine
from segmint.errors import SegmintError
from segmint.segments.compiler import SourceTables, lit
from segmint.segments.timeutil import as_datetime

ParamType = Literal[
    "number", "integer", "text", "boolean", "date", "timestamp", "text_list", "number_list"
]
PARAM_TYPES: tuple[str, ...] = (
    "number",
    "integer",
    "text",
    "boolean",
    "date",
    "timestamp",
    "text_list",
    "number_list",
)
DIALECTS = (
    "duckdb",
    "postgres",
    "spark",
    "databricks",
    "bigquery",
    "snowflake",
    "mysql",
    "sqlite",
    "trino",
    "presto",
    "redshift",
    "tsql",
    "clickhouse",
    "athena",
    "oracle",
)

#: Tables a custom template may read.
READABLE_TABLES = frozenset(
    {
        "customers",
        "products",
        "orders",
        "order_lines",
        "events",
        "reviews",
        "tickets",
        "identities",
        "profiles",
        "profile_category_stats",
        "profile_email_stats",
        "segment_members",
    }
)

#: Functions that read files, the environment or other databases, or run SQL text.
FORBIDDEN_FUNCTIONS = frozenset(
    {
        "read_csv",
        "read_csv_auto",
        "read_json",
        "read_json_auto",
        "read_json_objects",
        "read_ndjson",
        "read_ndjson_auto",
        "read_ndjson_objects",
        "read_parquet",
        "parquet_scan",
        "parquet_metadata",
        "parquet_schema",
        "parquet_file_metadata",
        "read_text",
        "read_blob",
        "read_xlsx",
        "glob",
        "sniff_csv",
        "st_read",
        "iceberg_scan",
        "delta_scan",
        "sqlite_scan",
        "postgres_scan",
        "mysql_scan",
        "postgres_query",
        "mysql_query",
        "query",
        "query_table",
        "getenv",
        "pg_read_file",
        "pg_read_binary_file",
        "pg_ls_dir",
        "pg_stat_file",
        "lo_import",
        "lo_export",
        "load_file",
        "read_file",
        "dblink",
        "openrowset",
        "opendatasource",
        "input_file_name",
        "system",
        "shell",
        "duckdb_secrets",
        "duckdb_settings",
        "current_setting",
        "set_config",
    }
)
_FORBIDDEN_NODES: tuple[type[exp.Expr], ...] = (
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Merge,
    exp.Create,
    exp.Drop,
    exp.Alter,
    exp.Command,
    exp.Copy,
    exp.Set,
    exp.Pragma,
    exp.Use,
    exp.Into,
    exp.Lock,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    exp.ReadCSV,
)
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
AS_OF_PARAM = "as_of"


class CustomSqlError(SegmintError):
    """A custom SQL template that is not allowed or cannot be bound."""


@dataclass(frozen=True)
class SqlParameter:
    """A declared parameter of a custom SQL template."""

    name: str
    type: ParamType = "text"
    default: Any = None
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "default": self.default,
            "description": self.description,
        }

    @classmethod
    def parse(cls, spec: str | Mapping[str, Any]) -> SqlParameter:
        """From a mapping, or from ``name:type`` / ``name:type=default`` text (the CLI form)."""
        if isinstance(spec, Mapping):
            param = cls(
                name=str(spec.get("name", "")),
                type=spec.get("type", "text"),
                default=spec.get("default"),
                description=str(spec.get("description", "") or ""),
            )
        else:
            head, has_default, default_text = spec.partition("=")
            name, _, kind = head.partition(":")
            param = cls(name=name.strip(), type=(kind.strip() or "text"))  # type: ignore[arg-type]
            if has_default:
                param = cls(param.name, param.type, _parse_text(param, default_text.strip()))
        if not _NAME.match(param.name) or param.name == AS_OF_PARAM:
            raise CustomSqlError(
                f"parameter name {param.name!r}: use lower-case letters, digits and _ "
                f"({AS_OF_PARAM!r} is reserved for the evaluation time)"
            )
        if param.type not in PARAM_TYPES:
            raise CustomSqlError(
                f"parameter {param.name!r}: type {param.type!r} is not one of "
                + ", ".join(PARAM_TYPES)
            )
        if param.default is not None:
            problem = _coerce_problem(param, param.default)
            if problem:
                raise CustomSqlError(f"parameter {param.name!r}: default {problem}")
        return param


def _parse_text(param: SqlParameter, text: str) -> Any:
    """A value typed on a command line, converted to the parameter's type."""
    try:
        if param.type == "number":
            return float(text)
        if param.type == "integer":
            return int(text)
        if param.type == "boolean":
            return text.lower() in ("true", "yes", "1", "y")
        if param.type == "text_list":
            return [t.strip() for t in text.split(",") if t.strip()]
        if param.type == "number_list":
            return [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise CustomSqlError(f"parameter {param.name!r}: {text!r} is not a {param.type}") from None
    return text


def _coerce_problem(param: SqlParameter, value: Any) -> str | None:
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if param.type == "number" and not is_number:
        return f"{value!r} is not a number"
    if param.type == "integer" and not (is_number and float(value).is_integer()):
        return f"{value!r} is not a whole number"
    if param.type == "boolean" and not isinstance(value, bool):
        return f"{value!r} is not true or false"
    if param.type == "text" and not isinstance(value, str):
        return f"{value!r} is not text"
    if param.type in ("date", "timestamp"):
        try:
            as_datetime(value)
        except (TypeError, ValueError):
            return f"{value!r} is not a date or time"
    if param.type == "text_list" and not (
        isinstance(value, list) and value and all(isinstance(v, str) for v in value)
    ):
        return f"{value!r} is not a non-empty list of text"
    if param.type == "number_list" and not (
        isinstance(value, list)
        and value
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        return f"{value!r} is not a non-empty list of numbers"
    return None


def _literal(param: SqlParameter, value: Any) -> exp.Expr:
    if param.type in ("text_list", "number_list"):
        return exp.Tuple(expressions=[lit(v) for v in value])
    if param.type == "date":
        day = as_datetime(value).date()
        return exp.cast(exp.Literal.string(day.isoformat()), exp.DataType.build("DATE"))
    if param.type == "timestamp":
        return lit(as_datetime(value))
    if param.type == "integer":
        return lit(int(value))
    return lit(value)


def _parameter_name(node: exp.Expr) -> str | None:
    if isinstance(node, exp.Placeholder):
        return node.name if node.args.get("this") else None
    if isinstance(node, exp.Parameter):
        return node.name or None
    return None


@dataclass
class CustomSqlTemplate:
    """A checked custom SQL template (see the module docstring)."""

    name: str
    sql: str
    dialect: str = "duckdb"
    parameters: list[SqlParameter] = field(default_factory=list)
    description: str = ""
    version: int = 0
    query: exp.Query = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not _NAME.match(self.name.replace("-", "_")):
            raise CustomSqlError(
                f"template name {self.name!r}: use lower-case letters, digits, - and _"
            )
        if self.dialect not in DIALECTS:
            raise CustomSqlError(
                f"unknown SQL dialect {self.dialect!r}; use one of {', '.join(DIALECTS)}"
            )
        names = [p.name for p in self.parameters]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise CustomSqlError(f"parameters declared twice: {', '.join(duplicates)}")
        self.query = check_sql(self.sql, self.dialect)
        used = self.used_parameters()
        undeclared = sorted(used - set(names) - {AS_OF_PARAM})
        if undeclared:
            raise CustomSqlError(
                f"template {self.name!r} uses undeclared parameters: "
                + ", ".join(f":{n}" for n in undeclared)
                + " (declare them, e.g. --param min_spend:number=100)"
            )
        unused = sorted(set(names) - used)
        if unused:
            raise CustomSqlError(
                f"template {self.name!r} declares parameters it never uses: {', '.join(unused)}"
            )

    def used_parameters(self) -> set[str]:
        return {
            n
            for node in self.query.find_all(exp.Placeholder, exp.Parameter)
            if (n := _parameter_name(node))
        }

    def check_params(self, params: Mapping[str, Any]) -> list[str]:
        """Problems with the given parameter values (missing, unknown, wrong type)."""
        declared = {p.name: p for p in self.parameters}
        problems = [
            f"unknown parameter {k!r}; {self.name!r} takes "
            + (", ".join(declared) or "no parameters")
            for k in params
            if k not in declared
        ]
        for p in self.parameters:
            value = params.get(p.name, p.default)
            if value is None:
                problems.append(f"parameter {p.name!r} ({p.type}) needs a value")
            elif (problem := _coerce_problem(p, value)) is not None:
                problems.append(f"parameter {p.name!r}: {problem}")
        return problems

    def bind(
        self, params: Mapping[str, Any], *, as_of: datetime, tables: SourceTables | None = None
    ) -> exp.Query:
        """The query with values in place of parameters and table names for ``tables``."""
        problems = self.check_params(params)
        if problems:
            raise CustomSqlError(f"SQL template {self.name!r}: " + "; ".join(problems))
        declared = {p.name: p for p in self.parameters}
        values: dict[str, exp.Expr] = {AS_OF_PARAM: lit(as_of)}
        for name, p in declared.items():
            values[name] = _literal(p, params.get(name, p.default))
        renames = tables.renames() if tables else {}

        def substitute(node: exp.Expr) -> exp.Expr:
            name = _parameter_name(node)
            if name is not None:
                value = values[name].copy()
                parent = node.parent
                # IN (:list) takes the list's items, not a nested tuple.
                if isinstance(value, exp.Tuple) and isinstance(parent, exp.In):
                    return exp.Tuple(expressions=value.expressions)
                return value
            if isinstance(node, exp.Table) and node.name in renames and not node.args.get("db"):
                return exp.to_table(renames[node.name]).as_(node.alias_or_name)
            return node

        bound = self.query.copy().transform(substitute)
        # IN ((a, b)) from the substitution above reads as IN (a, b).
        for node in list(bound.find_all(exp.In)):
            items = node.expressions
            if len(items) == 1 and isinstance(items[0], exp.Tuple):
                node.set("expressions", items[0].expressions)
        return bound  # type: ignore[return-value]

    def transpiled(self, dialect: str, params: Mapping[str, Any], as_of: datetime) -> str:
        """The bound SQL in another dialect."""
        return self.bind(params, as_of=as_of).sql(dialect=dialect, pretty=True)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "dialect": self.dialect,
            "sql": self.sql,
            "parameters": [p.to_dict() for p in self.parameters],
        }

    def parameters_json(self) -> str:
        return json.dumps([p.to_dict() for p in self.parameters])


def check_sql(sql: str, dialect: str) -> exp.Query:
    """Parse and check a template's SQL (see the module docstring); returns the query."""
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        where = f" (line {first.get('line')}, column {first.get('col')})" if first else ""
        raise CustomSqlError(
            f"the SQL does not parse as {dialect}{where}: {first.get('description', exc)}"
        ) from None
    if len(statements) != 1:
        raise CustomSqlError(
            f"a template is exactly one SELECT statement; this SQL has {len(statements)}"
        )
    query = statements[0]
    if not isinstance(query, exp.Query):
        raise CustomSqlError(
            f"only a read-only SELECT is allowed; this is a {query.key.upper()} statement"
        )
    for node in query.walk():
        if isinstance(node, _FORBIDDEN_NODES):
            kind = "SELECT ... INTO" if isinstance(node, exp.Into) else node.key.upper()
            raise CustomSqlError(f"only a read-only SELECT is allowed; found {kind}")
        if isinstance(node, exp.Placeholder) and not node.args.get("this"):
            raise CustomSqlError("use named parameters (:name), not positional ones (?)")
        if isinstance(node, exp.Func):
            name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()
            if name in FORBIDDEN_FUNCTIONS:
                raise CustomSqlError(
                    f"function {name}() is not allowed in a template: it reads files, the "
                    "environment or other databases"
                )
    ctes = {cte.alias_or_name for cte in query.find_all(exp.CTE)}
    for table in query.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            raise CustomSqlError(
                "table functions are not allowed in a template; read segmint's tables"
            )
        if table.args.get("db") or table.args.get("catalog"):
            raise CustomSqlError(
                f"{table.sql(dialect=dialect)}: schema-qualified tables are not allowed; "
                "use segmint's tables by name"
            )
        if table.name not in READABLE_TABLES and table.name not in ctes:
            from segmint.segments.catalogue import nearest

            guess = nearest(table.name, READABLE_TABLES)
            hint = f"; did you mean {guess!r}?" if guess else ""
            raise CustomSqlError(
                f"unknown table {table.name!r}{hint}. Templates read: "
                + ", ".join(sorted(READABLE_TABLES))
            )
    outputs = query.named_selects
    if any(isinstance(e, exp.Star) for e in query.selects) or outputs != ["profile_id"]:
        raise CustomSqlError(
            "a template returns exactly one column named profile_id "
            f"(this one returns: {', '.join(outputs) or '*'})"
        )
    return query


class SqlTemplateStore:
    """Custom SQL templates saved in the warehouse (``segment_sql_templates``), versioned."""

    def __init__(self, engine: Engine) -> None:
        from segmint.segments.store import SQL_TEMPLATES

        self.engine = engine
        self.table = SQL_TEMPLATES.name
        engine.create_table(SQL_TEMPLATES, if_not_exists=True)

    def _named(self, name: str) -> exp.Expr:
        return exp.EQ(this=exp.column("name"), expression=exp.Literal.string(name))

    def save(
        self,
        name: str,
        sql: str,
        *,
        dialect: str = "duckdb",
        parameters: list[SqlParameter | str | Mapping[str, Any]] | None = None,
        description: str = "",
        replace: bool = False,
    ) -> CustomSqlTemplate:
        """Check a template and save it as the next version; nothing is saved when invalid."""
        from segmint.segments.store import insert_row
        from segmint.segments.timeutil import utc_now

        params = [
            p if isinstance(p, SqlParameter) else SqlParameter.parse(p) for p in parameters or []
        ]
        template = CustomSqlTemplate(name, sql, dialect, params, description)
        if self.get(name) is not None and not replace:
            raise CustomSqlError(f"SQL template {name!r} already exists; use --replace")
        last = self.engine.fetch_value(
            exp.select("COALESCE(MAX(version), 0)").from_(self.table).where(self._named(name))
        )
        template.version = int(last) + 1
        insert_row(
            self.engine,
            self.table,
            {
                "name": name,
                "version": template.version,
                "description": description,
                "dialect": dialect,
                "sql": sql,
                "parameters": template.parameters_json(),
                "created_at": utc_now(),
            },
        )
        return template

    def get(self, name: str) -> CustomSqlTemplate | None:
        """The current version, or None."""
        row = self.engine.fetch_one(
            exp.select("name", "sql", "dialect", "parameters", "description", "version")
            .from_(self.table)
            .where(self._named(name))
            .where("deleted_at IS NULL")
            .order_by("version DESC")
            .limit(1)
        )
        if row is None:
            return None
        params = [SqlParameter.parse(p) for p in json.loads(row[3])]
        return CustomSqlTemplate(row[0], row[1], row[2], params, row[4] or "", int(row[5]))

    def list(self) -> list[CustomSqlTemplate]:
        names = [
            r[0]
            for r in self.engine.fetch_all(
                exp.select("name")
                .from_(self.table)
                .where("deleted_at IS NULL")
                .group_by("name")
                .order_by("name")
            )
        ]
        return [t for n in names if (t := self.get(n)) is not None]

    def delete(self, name: str) -> None:
        """Mark every version deleted (kept for audit)."""
        from segmint.segments.timeutil import timestamp_literal, utc_now

        self.engine.execute(
            exp.update(self.table, {"deleted_at": timestamp_literal(utc_now())}).where(
                exp.and_(self._named(name), exp.condition("deleted_at IS NULL"))
            )
        )
