"""What an import will do, before it touches data: which staged fields fill which columns.

Every input layout (segmint's canonical columns, a Shopify export, a user's mapping file) is
turned into an :class:`ImportPlan`: for each canonical table it fills, one text expression per
column over the staged file (the table alias ``s``). Validation, de-duplication and writing
then work the same way whatever the layout was.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlglot import exp

from segmint.errors import ImportFileError
from segmint.model.tables import IMPORTABLE, Table

#: The alias of the staged table in every plan expression.
STAGE = "s"
#: The staged table's row order column (see :class:`segmint.engines.base.StagedFile`).
ORDINAL = "_ordinal"
#: Marks expressions that are already trimmed with blanks as NULL.
CLEAN = "segmint_clean"


@dataclass(frozen=True)
class ParseOptions:
    """How text values are read, where a layout differs from ISO dates and dot decimals."""

    timestamp_format: str | None = None
    """strptime-style pattern for timestamp columns, e.g. ``%d/%m/%Y %H:%M``."""
    date_format: str | None = None
    """strptime-style pattern for date columns, e.g. ``%d.%m.%Y``."""
    timezone: str | None = None
    """IANA zone of times written without an offset (default UTC)."""
    true_values: tuple[str, ...] = ()
    """Words read as true in boolean columns, in addition to true/yes/y/1."""
    false_values: tuple[str, ...] = ()
    """Words read as false in boolean columns, in addition to false/no/n/0."""
    decimal_separator: str = "."
    """``,`` for files that write 12,50."""


@dataclass
class RowCheck:
    """A rule beyond the table spec: rows where ``bad`` is true are rejected with ``reason``."""

    bad: exp.Expr
    reason: str


@dataclass
class TargetPlan:
    """How one canonical table is filled from the staged file."""

    table: Table
    columns: dict[str, exp.Expr]
    """Canonical column -> text expression over the staged table; absent columns are NULL."""
    parse: ParseOptions = field(default_factory=ParseOptions)
    where: exp.Expr | None = None
    """Which staged rows feed this table (None: all of them)."""
    checks: list[RowCheck] = field(default_factory=list)
    extra_attributes: list[tuple[str, exp.Expr]] = field(default_factory=list)
    """Columns with no canonical home, kept as keys of the ``attributes`` JSON object."""
    parent: str | None = None
    """A table filled by the same import whose rejected rows reject this table's rows
    sharing the same first key column (an order's lines go with the order)."""

    @property
    def name(self) -> str:
        return self.table.name


@dataclass
class ImportPlan:
    """All the tables one file fills, in write order (parents first)."""

    format: str
    targets: list[TargetPlan]
    warnings: list[str] = field(default_factory=list)


def staged(field_name: str) -> exp.Column:
    """A reference to a staged field (quoted: headers hold spaces and capitals)."""
    return exp.column(field_name, table=STAGE, quoted=True)


def ordinal() -> exp.Column:
    return exp.column(ORDINAL, table=STAGE, quoted=True)


def blank_to_null(value: exp.Expr) -> exp.Expr:
    """Text without surrounding spaces, with empty strings as NULL (CSV's missing value).

    Only values that start or end with a space go through TRIM: the test is a cheap prefix
    check, TRIM copies the string, and this runs on every value of every import.
    """
    padded = exp.or_(
        exp.Like(this=value, expression=exp.Literal.string(" %")),
        exp.Like(this=value.copy(), expression=exp.Literal.string("% ")),
    )
    empty = exp.Literal.string("")
    cleaned = (
        exp.Case()
        .when(padded, exp.Nullif(this=exp.Trim(this=value.copy()), expression=empty))
        .else_(exp.Nullif(this=value.copy(), expression=empty.copy()))
    )
    cleaned.meta[CLEAN] = True
    return cleaned


def is_clean(value: exp.Expr) -> bool:
    """Whether an expression already went through :func:`blank_to_null`."""
    if isinstance(value, exp.Coalesce):
        return all(is_clean(v) for v in [value.this, *value.expressions])
    return bool(value.meta.get(CLEAN))


def first_set(*values: exp.Expr) -> exp.Expr:
    """The first of several text expressions that is not blank."""
    cleaned = [blank_to_null(v) for v in values]
    return (
        cleaned[0] if len(cleaned) == 1 else exp.Coalesce(this=cleaned[0], expressions=cleaned[1:])
    )


def line_numbers(order_id: exp.Expr) -> exp.Expr:
    """1, 2, 3... per order in file order, as text: for line items written without a number."""
    window = exp.Window(
        this=exp.RowNumber(),
        partition_by=[blank_to_null(order_id)],
        order=exp.Order(expressions=[exp.Ordered(this=ordinal())]),
    )
    return exp.cast(window, exp.DataType.build("VARCHAR"))


def snake_case(name: str) -> str:
    """``messageId`` -> ``message_id``, ``Customer ID`` -> ``customer_id``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip())
    return re.sub(r"[^a-z0-9]+", "_", spaced.lower()).strip("_")


def camel_case(name: str) -> str:
    """``message_id`` -> ``messageId`` (the Segment spec's spelling)."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def table_for_kind(kind: str) -> Table:
    """The canonical table a KIND names, or a clear error listing the kinds."""
    try:
        return IMPORTABLE[kind]
    except KeyError:
        close = [k for k in IMPORTABLE if k.startswith(kind[:3])] if kind else []
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ImportFileError(
            f"unknown kind {kind!r}{hint}; choose one of {', '.join(IMPORTABLE)}"
        ) from None


#: Staged fields read when a canonical one is blank: the Segment spec's fallbacks.
FALLBACKS: dict[str, dict[str, tuple[str, ...]]] = {
    # Raw SDK payloads carry originalTimestamp before Segment computes timestamp; page and
    # screen calls name the page in "name", which segmint keeps in the event column.
    "events": {"timestamp": ("original_timestamp",), "event": ("name",)},
}


def match_fields(
    table: Table, fields: Sequence[str], source: str
) -> tuple[dict[str, str], list[str]]:
    """Pair staged fields with canonical columns (and their fallbacks).

    A field matches a column by its exact name, else by its snake_case spelling
    (``messageId``, ``Customer ID``). Returns the pairs and the fields left over.
    """
    wanted = list(table.column_names) + [
        f for names in FALLBACKS.get(table.name, {}).values() for f in names
    ]
    matched: dict[str, str] = {}
    for name in wanted:
        if name in fields:
            matched[name] = name
    for f in fields:
        target = snake_case(f)
        if f in matched.values() or target not in wanted:
            continue
        if target in matched:
            raise ImportFileError(
                f"{source} has two columns for {target}: {matched[target]!r} and {f!r}"
            )
        matched[target] = f
    extras = [f for f in fields if f not in matched.values()]
    return matched, extras


def canonical_plan(table: Table, fields: Sequence[str], source: str, fmt: str) -> ImportPlan:
    """The plan for a file written in segmint's own column names (see docs/importing.md)."""
    matched, extras = match_fields(table, fields, source)
    auto_lines = table.name == "order_lines" and "line_number" not in matched
    check_required_columns(table, set(matched), source, auto_lines=auto_lines)
    columns: dict[str, exp.Expr] = {}
    for col in table.column_names:
        sources = [
            matched[c] for c in (col, *FALLBACKS.get(table.name, {}).get(col, ())) if c in matched
        ]
        if sources:
            columns[col] = first_set(*(staged(s) for s in sources))
    if auto_lines:
        columns["line_number"] = line_numbers(staged(matched["order_id"]))
    plan = TargetPlan(table, columns)
    warnings = []
    if extras and table.name == "customers":
        plan.extra_attributes = [(f, blank_to_null(staged(f))) for f in extras]
    elif extras:
        warnings.append(
            f"ignoring {len(extras)} column{'s' if len(extras) > 1 else ''} that {table.name} "
            f"does not have: {', '.join(extras)}"
        )
    return ImportPlan(fmt, [plan], warnings)


def check_required_columns(
    table: Table, present: set[str], source: str, *, auto_lines: bool = False
) -> None:
    """Whole-file errors: a required column, or every column of a one-of group, is absent."""
    missing = [
        c.name
        for c in table.columns
        if c.required and c.name not in present and not (auto_lines and c.name == "line_number")
    ]
    problems = []
    if missing:
        problems.append(f"no column {', '.join(missing)} (required for {table.name})")
    for group in table.one_of:
        if not present.intersection(group):
            problems.append(f"needs a {' or '.join(group)} column")
    if problems:
        raise ImportFileError(f"{source} {'; '.join(problems)}")


def jsonl_fields(table: Table) -> list[str]:
    """The top-level keys to extract from JSON Lines: snake_case and camelCase spellings."""
    names: list[str] = []
    for col in table.column_names:
        names += [col, camel_case(col)]
    for fallbacks in FALLBACKS.get(table.name, {}).values():
        for f in fallbacks:
            names += [f, camel_case(f)]
    if table.name == "events":
        names.append("batch")
    return list(dict.fromkeys(names))


def jsonl_plan(table: Table, fmt: str) -> ImportPlan:
    """The plan for JSON Lines: each column from its snake_case or camelCase key."""
    fallbacks = FALLBACKS.get(table.name, {})
    columns: dict[str, exp.Expr] = {}
    for col in table.column_names:
        keys = [col, camel_case(col)]
        for f in fallbacks.get(col, ()):
            keys += [f, camel_case(f)]
        columns[col] = first_set(*(staged(k) for k in dict.fromkeys(keys)))
    plan = TargetPlan(table, columns)
    if table.name == "events":
        plan.checks.append(
            RowCheck(
                exp.not_(exp.Is(this=staged("batch"), expression=exp.Null())),
                "a batch payload: write one message per line",
            )
        )
    if table.name == "order_lines":
        plan.columns["line_number"] = exp.Coalesce(
            this=columns["line_number"], expressions=[line_numbers(columns["order_id"])]
        )
    return ImportPlan(fmt, [plan])
