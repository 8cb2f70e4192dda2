"""Validation inside the engine: staged text in, typed rows with a rejection reason out.

For each table a plan fills, one query (:func:`validation_query`) reads the file (or its staged
copy) once and writes every canonical column as its typed value, plus ``_reason``: NULL for a
good row, else every problem of the row ("quantity: 'abc' is not a whole number; rating: must
be at most 5, got 7"). Duplicate keys and rows of rejected parents are then marked with small
updates. Nothing here pulls rows into Python.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from sqlglot import exp

from segmint.engines.base import Engine, StagedFile, create_table_as
from segmint.ingest.plan import (
    ORDINAL,
    STAGE,
    ParseOptions,
    TargetPlan,
    blank_to_null,
    is_clean,
    staged,
)
from segmint.model.tables import Column, ColumnType, Table

#: Marks an earlier row with the same key: the later row (this ordinal) wins.
DUP_OF = "_dup_of"
REASON = "_reason"
#: In tables validated while reading, the rejected rows as read (JSON of the file's fields).
RAW = "_raw"
_MERGED = "_attributes_merged"

_EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
_INTEGER_PATTERN = r"^[+-]?[0-9]+$"
_TRUE_WORDS = ("true", "t", "yes", "y", "1")
_FALSE_WORDS = ("false", "f", "no", "n", "0")
#: How much of a bad value a reason quotes.
_QUOTE_CHARS = 40

_names = itertools.count(1)


@dataclass
class ValidatedTarget:
    """A temp table of typed rows for one canonical table, with ``_reason`` and ``_dup_of``."""

    plan: TargetPlan
    name: str
    rows: int = 0
    has_raw: bool = False
    """True when validated while reading: rejected rows carry ``_raw`` (no staged copy)."""

    @property
    def table(self) -> Table:
        return self.plan.table


class RowNumbers:
    """Turns staged ordinals into data row numbers of the file, in SQL.

    Rows the reader could not split are missing from the staged table, so after the first of
    them ordinal and row number part ways. With the rejects' row numbers in a table,
    a staged row's number is its ordinal plus the count of rejects that come before it; reject
    ``i`` (1-based, in file order) at row ``r`` comes before every ordinal above ``r - i``.
    """

    def __init__(self, engine: Engine, staged_file: StagedFile, prefix: str) -> None:
        self.engine = engine
        self.table: str | None = None
        if staged_file.rejects and not staged_file.ordinal_is_row:
            self.table = f"{prefix}_gaps"
            rows = sorted(r.row_number for r in staged_file.rejects)
            values = exp.values(
                [(exp.Literal.number(r - i),) for i, r in enumerate(rows, start=1)],
                alias="g",
                columns=["gap"],
            )
            engine.execute(
                create_table_as(
                    self.table, exp.select("gap").from_(values), temporary=True, replace=False
                )
            )

    def of(self, ordinal: exp.Expr) -> exp.Expr:
        """The row number (BIGINT) of the staged row with this ordinal."""
        if self.table is None:
            return ordinal
        before = (
            exp.select(exp.Count(this=exp.Star()))
            .from_(exp.to_table(self.table).as_("rj"))
            .where(exp.LT(this=exp.column("gap", table="rj"), expression=ordinal))
        )
        return exp.Add(this=ordinal, expression=exp.Subquery(this=before))

    def drop(self) -> None:
        if self.table is not None:
            self.engine.drop_table(self.table)


def validation_query(
    engine: Engine, plan: TargetPlan, source: str, *, raw_fields: Sequence[str] | None = None
) -> exp.Select:
    """The SELECT that types and checks the rows a plan feeds to its table.

    ``source`` is the staged table (which has ``_ordinal``) or, when ``raw_fields`` is given,
    :data:`~segmint.engines.base.FILE_SOURCE`: the query then runs while the file is read,
    has no ``_ordinal`` (the engine adds it) and keeps each rejected row as read in ``_raw``.
    """
    table = plan.table
    from_file = raw_fields is not None
    texts: list[exp.Expr] = []
    if not from_file:
        texts.append(exp.alias_(exp.column(ORDINAL, table=STAGE, quoted=True), ORDINAL))
    for col_name, expr in plan.columns.items():
        texts.append(exp.alias_(_clean(expr), _t(col_name), quoted=True))
    for i, check in enumerate(plan.checks):
        texts.append(exp.alias_(check.bad, f"_check{i}", quoted=True))
    for i, (_key, expr) in enumerate(plan.extra_attributes):
        texts.append(exp.alias_(expr, f"_extra{i}", quoted=True))
    raw = [(f, f"_raw{i}") for i, f in enumerate(raw_fields or ())]
    texts += [exp.alias_(staged(f), alias, quoted=True) for f, alias in raw]
    src = exp.select(*texts).from_(exp.to_table(source).as_(STAGE))
    if plan.where is not None:
        src = src.where(plan.where)

    # Typed values first, reasons over them: each typed value is computed once.
    passed = ([] if from_file else [ORDINAL]) + [alias for _, alias in raw]
    typed: list[exp.Expr] = [exp.column(c, quoted=True) for c in passed]
    for column in table.columns:
        if column.name in plan.columns:
            parsed = _typed(engine, column, plan.parse)
            typed += [_tref(column.name), exp.alias_(parsed, _v(column.name), quoted=True)]
    typed += [exp.column(f"_check{i}", quoted=True) for i in range(len(plan.checks))]
    if plan.extra_attributes:
        pairs = [
            (key, exp.column(f"_extra{i}", quoted=True))
            for i, (key, _) in enumerate(plan.extra_attributes)
        ]
        base = (
            _typed(engine, table.column("attributes"), plan.parse)
            if "attributes" in plan.columns
            else None
        )
        merged = engine.json_object(pairs, skip_nulls=True, base=base)
        typed.append(
            exp.alias_(exp.Nullif(this=merged, expression=_lit("{}")), _MERGED, quoted=True)
        )
    values = exp.select(*typed).from_(src.subquery("src"))

    checked: list[exp.Expr] = [exp.column(c, quoted=True) for c in passed]
    for column in table.columns:
        if column.name == "attributes" and plan.extra_attributes:
            value: exp.Expr = exp.column(_MERGED, quoted=True)
        elif column.name in plan.columns:
            value = _vref(column.name)
        else:
            value = exp.cast(exp.Null(), engine.data_type(column.type))
        checked.append(exp.alias_(value, column.name, quoted=True))
    checked.append(exp.alias_(_reason(table, plan), REASON, quoted=True))
    no_dup = exp.cast(exp.Null(), exp.DataType.build("BIGINT"))
    checked.append(exp.alias_(no_dup, DUP_OF, quoted=True))
    query = exp.select(*checked).from_(values.subquery("typed"))
    if not from_file:
        return query
    # The raw row is built only for rejected rows: JSON for every row would cost a pass.
    kept = [exp.column(c, quoted=True) for c in (*table.column_names, REASON, DUP_OF)]
    as_read = engine.json_object([(f, exp.column(alias, quoted=True)) for f, alias in raw])
    rejected_raw = exp.Case().when(
        exp.not_(exp.Is(this=exp.column(REASON, quoted=True), expression=exp.Null())), as_read
    )
    return exp.select(*kept, exp.alias_(rejected_raw, RAW, quoted=True)).from_(
        query.subquery("checked")
    )


def validate_target(
    engine: Engine, stage_table: str, plan: TargetPlan, prefix: str
) -> ValidatedTarget:
    """Type and check the staged rows a plan feeds to its table, into a temp table."""
    name = f"{prefix}_v{next(_names)}_{plan.table.name}"
    engine.execute(
        create_table_as(
            name, validation_query(engine, plan, stage_table), temporary=True, replace=False
        )
    )
    return ValidatedTarget(plan, name, engine.count_rows(name))


def mark_duplicates(engine: Engine, target: ValidatedTarget) -> int:
    """Mark good rows whose key comes again later in the file; returns how many.

    The last row of a key wins (a file is read as a log of changes); earlier ones point at it
    in ``_dup_of`` so their quarantine reason can name the winning row.
    """
    keys = list(target.table.key)
    dups = f"{target.name}_dups"
    grouped = (
        exp.select(*[exp.column(k, quoted=True) for k in keys])
        .select(exp.alias_(exp.Max(this=exp.column(ORDINAL, quoted=True)), "_winner"))
        .from_(target.name)
        .where(_is_null(REASON))
        .group_by(*[exp.column(k, quoted=True) for k in keys])
        .having(exp.GT(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(1)))
    )
    engine.execute(create_table_as(dups, grouped, temporary=True, replace=False))
    try:
        if engine.count_rows(dups) == 0:
            return 0
        same_key = [
            exp.EQ(
                this=exp.column(k, table=target.name, quoted=True),
                expression=exp.column(k, table="d", quoted=True),
            )
            for k in keys
        ]
        update = exp.update(
            target.name,
            {DUP_OF: exp.column("_winner", table="d")},
            where=exp.and_(
                *same_key,
                _is_null(REASON, target.name),
                exp.NEQ(
                    this=exp.column(ORDINAL, table=target.name, quoted=True),
                    expression=exp.column("_winner", table="d"),
                ),
            ),
            from_=exp.From(this=exp.to_table(dups).as_("d")),
        )
        engine.execute(update)
        return int(
            engine.fetch_value(exp.select("count(*)").from_(target.name).where(_not_null(DUP_OF)))
        )
    finally:
        engine.drop_table(dups)


def reject_orphans(
    engine: Engine, child: ValidatedTarget, parent: ValidatedTarget, rows: RowNumbers
) -> None:
    """Reject good child rows whose parent row (same first key column) was rejected."""
    key = parent.table.key[0]
    bad_parents = (
        exp.select(
            exp.column(key, quoted=True),
            exp.alias_(exp.Min(this=exp.column(ORDINAL, quoted=True)), "_first"),
        )
        .from_(parent.name)
        .where(exp.or_(_not_null(REASON), _not_null(DUP_OF)))
        .group_by(exp.column(key, quoted=True))
    )
    reason = exp.DPipe(
        this=exp.DPipe(
            this=exp.Literal.string(f"{parent.table.name.removesuffix('s')} "),
            expression=exp.column(key, table="p", quoted=True),
        ),
        expression=exp.DPipe(
            this=exp.Literal.string(" was rejected (see row "),
            expression=exp.DPipe(
                this=exp.cast(
                    rows.of(exp.column("_first", table="p")), exp.DataType.build("VARCHAR")
                ),
                expression=exp.Literal.string(")"),
            ),
        ),
    )
    update = exp.update(
        child.name,
        {REASON: reason},
        where=exp.and_(
            exp.EQ(
                this=exp.column(key, table=child.name, quoted=True),
                expression=exp.column(key, table="p", quoted=True),
            ),
            _is_null(REASON, child.name),
        ),
        from_=exp.From(this=bad_parents.subquery("p")),
    )
    engine.execute(update)


def count_where(engine: Engine, target: ValidatedTarget, condition: exp.Expr) -> int:
    return int(engine.fetch_value(exp.select("count(*)").from_(target.name).where(condition)))


def is_good() -> exp.Expr:
    """Rows to write: no problem, and not superseded by a later row with the same key."""
    return exp.and_(_is_null(REASON), _is_null(DUP_OF))


# -- building blocks ---------------------------------------------------------------------------


def as_expression(value: exp.Expr) -> exp.Expression:
    """``value`` typed for engine methods declared with ``exp.Expression`` (same objects)."""
    return cast(exp.Expression, value)


def _t(col: str) -> str:
    return f"t_{col}"


def _v(col: str) -> str:
    return f"v_{col}"


def _tref(col: str) -> exp.Column:
    return exp.column(_t(col), quoted=True)


def _vref(col: str) -> exp.Column:
    return exp.column(_v(col), quoted=True)


def _is_null(col: str, table: str | None = None) -> exp.Expr:
    return exp.Is(this=exp.column(col, table=table, quoted=True), expression=exp.Null())


def _not_null(col: str) -> exp.Expr:
    return exp.not_(_is_null(col))


def _clean(expr: exp.Expr) -> exp.Expr:
    """Trimmed text with blanks as NULL (a constant or a computed value gets the same care)."""
    return expr if is_clean(expr) else blank_to_null(expr)


def _lit(value: str) -> exp.Literal:
    return exp.Literal.string(value)


def _concat(*parts: exp.Expr) -> exp.Expr:
    out = parts[0]
    for p in parts[1:]:
        out = exp.DPipe(this=out, expression=p)
    return out


def _quoted(text: exp.Expr) -> exp.Expr:
    cut = exp.Substring(
        this=text, start=exp.Literal.number(1), length=exp.Literal.number(_QUOTE_CHARS)
    )
    return _concat(_lit("'"), cut, _lit("'"))


def _one_of(value: exp.Expr, words: Sequence[str]) -> exp.Expr:
    """``value IN (w1, w2, ...)``."""
    return exp.In(this=value, expressions=[_lit(w) for w in words])


def _number(value: float) -> str:
    return f"{value:g}"


def _typed(engine: Engine, col: Column, parse: ParseOptions) -> exp.Expr:
    """The typed value of a column from its cleaned text, NULL where it does not parse."""
    text = _tref(col.name)
    t = col.type
    if col.choices:
        return exp.Lower(this=text)
    if t is ColumnType.STRING:
        return text
    if t is ColumnType.EMAIL:
        looks_right = exp.RegexpLike(this=text, expression=_lit(_EMAIL_PATTERN))
        return exp.Case().when(looks_right, exp.Lower(this=text.copy()))
    if t is ColumnType.INTEGER:
        # The engine's cast rounds 1.5 to 2; a quantity of 1.5 is an error, not 2 units.
        whole = exp.RegexpLike(this=text, expression=_lit(_INTEGER_PATTERN))
        return exp.Case().when(whole, engine.try_cast(text.copy(), t))
    if t in (ColumnType.MONEY, ColumnType.DOUBLE):
        number: exp.Expr = text
        if parse.decimal_separator != ".":
            number = exp.func("replace", text, _lit(parse.decimal_separator), _lit("."))
        return engine.try_cast(as_expression(number), t)
    if t is ColumnType.TIMESTAMP:
        return engine.try_parse_time(
            text, t, format=parse.timestamp_format, timezone=parse.timezone
        )
    if t is ColumnType.DATE:
        if parse.date_format:
            return engine.try_parse_time(text, t, format=parse.date_format)
        return engine.try_cast(text, t)
    if t is ColumnType.BOOLEAN:
        # The same words as the engine's parse_boolean (plus a mapping's own), on text that is
        # already trimmed.
        lowered = exp.Lower(this=text)
        trues = [w.lower() for w in (*_TRUE_WORDS, *parse.true_values)]
        falses = [w.lower() for w in (*_FALSE_WORDS, *parse.false_values)]
        return (
            exp.Case()
            .when(_one_of(lowered, trues), exp.true())
            .when(_one_of(lowered.copy(), falses), exp.false())
        )
    if t is ColumnType.JSON:
        return exp.Case().when(engine.is_json_object(text), text.copy())
    raise ValueError(f"no parser for {t}")


def _describe(col: Column, parse: ParseOptions) -> str:
    t = col.type
    if t is ColumnType.TIMESTAMP and parse.timestamp_format:
        return f"a date and time in the format {parse.timestamp_format}"
    if t is ColumnType.DATE and parse.date_format:
        return f"a date in the format {parse.date_format}"
    return {
        ColumnType.EMAIL: "an email address",
        ColumnType.INTEGER: "a whole number",
        ColumnType.DOUBLE: "a number",
        ColumnType.MONEY: "an amount",
        ColumnType.TIMESTAMP: "a date and time",
        ColumnType.DATE: "a date",
        ColumnType.BOOLEAN: "true or false",
        ColumnType.JSON: "a JSON object",
    }.get(t, "valid")


def _column_problems(col: Column, plan: TargetPlan) -> list[exp.Expr]:
    """CASE expressions, each NULL or one problem of this column in the row."""
    name, text, value = col.name, _tref(col.name), _vref(col.name)
    text_null = exp.Is(this=text, expression=exp.Null())
    value_null = exp.Is(this=value, expression=exp.Null())
    problems: list[exp.Expr] = []
    if col.required:
        problems.append(exp.Case().when(text_null, _lit(f"{name}: missing")))
    if col.choices:
        allowed = _one_of(value.copy(), col.choices)
        bad = exp.and_(exp.not_(text_null.copy()), exp.not_(allowed))
        message = _concat(
            _lit(f"{name}: "),
            _quoted(text.copy()),
            _lit(f" is not one of {', '.join(col.choices)}"),
        )
        problems.append(exp.Case().when(bad, message))
    elif col.type is not ColumnType.STRING:
        bad = exp.and_(exp.not_(text_null.copy()), value_null)
        message = _concat(
            _lit(f"{name}: "), _quoted(text.copy()), _lit(f" is not {_describe(col, plan.parse)}")
        )
        problems.append(exp.Case().when(bad, message))
    if col.minimum is not None:
        low = exp.Literal.number(_number(col.minimum))
        if col.exclusive_minimum:
            below: exp.Expr = exp.LTE(this=value.copy(), expression=low)
            rule = f"must be greater than {_number(col.minimum)}"
        else:
            below = exp.LT(this=value.copy(), expression=low)
            rule = f"must be at least {_number(col.minimum)}"
        problems.append(exp.Case().when(below, _concat(_lit(f"{name}: {rule}, got "), text.copy())))
    if col.maximum is not None:
        high = exp.Literal.number(_number(col.maximum))
        above = exp.GT(this=value.copy(), expression=high)
        rule = f"must be at most {_number(col.maximum)}"
        problems.append(exp.Case().when(above, _concat(_lit(f"{name}: {rule}, got "), text.copy())))
    return problems


def _reason(table: Table, plan: TargetPlan) -> exp.Expr:
    problems: list[exp.Expr] = []
    for col in table.columns:
        if col.name in plan.columns:
            problems += _column_problems(col, plan)
        elif col.required:
            # Only reachable for layouts that cannot check headers (JSON Lines keys).
            problems.append(_lit(f"{col.name}: missing"))
    for group in table.one_of:
        present = [c for c in group if c in plan.columns]
        none_set = (
            exp.and_(*[exp.Is(this=_tref(c), expression=exp.Null()) for c in present])
            if present
            else exp.true()
        )
        problems.append(
            exp.Case().when(none_set, _lit(f"{' or '.join(group)}: one of them is required"))
        )
    for i, check in enumerate(plan.checks):
        problems.append(exp.Case().when(exp.column(f"_check{i}", quoted=True), _lit(check.reason)))
    if not problems:
        return exp.cast(exp.Null(), exp.DataType.build("VARCHAR"))
    # safe + coalesce: NULL parts are skipped (not a NULL result), as in CONCAT_WS of SQL engines.
    joined = exp.ConcatWs(expressions=[_lit("; "), *problems], safe=True, coalesce=True)
    return exp.Nullif(this=joined, expression=_lit(""))
