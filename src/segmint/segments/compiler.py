"""Compile segment definitions into dialect-neutral sqlglot queries.

Every condition becomes a predicate over the profiles table (alias ``p``): a trait test (a
trait that is not set never matches) or a membership test ``p.profile_id IN (subquery)`` whose
subquery never yields NULL. Under a ``not`` trait tests are wrapped in ``COALESCE(..., FALSE)``,
so no predicate there is ever NULL: ``not`` is an exact complement and ``all`` / ``any`` obey
the set laws.

Aggregate conditions (orders, events, reviews, tickets) compare a per-profile measure. Profiles
with no records have a measure of 0 for counts and sums: when 0 passes the comparison
("did not perform", "fewer than 2 orders"), the predicate is written as *not in the profiles
whose measure fails*, so customers without any record are included without scanning profiles
against every record.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from segmint.segments.catalogue import TraitInfo
from segmint.segments.context import (
    RECORD_KEYS,
    BoundTemplate,
    CompileContext,
    CompiledLeaf,
    Resolver,
    SegmentCompileError,
    SourceTables,
)
from segmint.segments.model import (
    AllGroup,
    AnyCondition,
    AnyGroup,
    EventCondition,
    EventRatioCondition,
    EventSelector,
    EventSequenceCondition,
    NotGroup,
    OrdersCondition,
    ReviewsCondition,
    SegmentDefinition,
    SegmentMembershipCondition,
    SqlTemplateCondition,
    TicketsCondition,
    TraitCondition,
    TraitRef,
)
from segmint.segments.records import RecordConditions
from segmint.segments.sqlparts import (
    PROFILE_ID,
    P,
    col,
    compare,
    false_if_null,
    in_profiles,
    lit,
    lower_texts,
)
from segmint.segments.timeutil import (
    as_datetime,
    shift,
    timestamp_literal,
)

__all__ = [
    "PROFILE_ID",
    "RECORD_KEYS",
    "BoundTemplate",
    "CompileContext",
    "CompiledLeaf",
    "P",
    "Resolver",
    "SegmentCompileError",
    "SegmentCompiler",
    "SourceTables",
    "col",
    "lit",
]

UNSUBSCRIBED_EVENT = "Unsubscribed"


class SegmentCompiler(RecordConditions):
    """Turns definitions into queries selecting ``profile_id`` (see the module docstring)."""

    def __init__(self, context: CompileContext) -> None:
        self.ctx = context
        self._stack: list[str] = []

    # -- whole definitions ---------------------------------------------------------------------

    def members_query(
        self, definition: SegmentDefinition, *, with_consent: bool = True
    ) -> exp.Select:
        """``SELECT p.profile_id FROM profiles AS p WHERE ...`` for a definition.

        Marketing segments also leave out everyone marketing must not reach (``with_consent``
        off gives the rule members alone, as ``explain`` needs).
        """
        where = self.rule_predicate(definition)
        if with_consent and definition.purpose == "marketing":
            where = exp.and_(exp.paren(where), exp.not_(exp.paren(self.opted_out_predicate())))
        return (
            exp.select(col(PROFILE_ID, P))
            .from_(exp.to_table(self.ctx.tables.profiles).as_(P))
            .where(where)
        )

    def opted_out_predicate(self) -> exp.Expr:
        """True for people marketing must not reach (two-valued, over ``p``).

        - ``accepts_marketing`` is not true: opted out, or consent unknown (the profile build
          resolves consent over all of a person's customer records);
        - an ``Unsubscribed`` event up to the evaluation time;
        - an ``erased`` trait that is true, when the catalogue has one.
        """
        reasons: list[exp.Expr] = []
        if self.ctx.catalogue.trait("accepts_marketing") is not None:
            reasons.append(exp.not_(false_if_null(col("accepts_marketing", P))))
        erased = self.ctx.catalogue.trait("erased")
        if erased is not None and erased.kind == "boolean":
            reasons.append(false_if_null(col("erased", P)))
        unsubscribed = self._events([EventSelector(event=UNSUBSCRIBED_EVENT)]).select(
            self._owner("e"), append=False
        )
        reasons.append(in_profiles(unsubscribed))
        return exp.or_(*(exp.paren(r) for r in reasons))

    def rule_predicate(self, definition: SegmentDefinition) -> exp.Expr:
        """``include AND NOT exclude`` as one predicate over ``p``."""
        if definition.name in self._stack:
            cycle = " -> ".join([*self._stack, definition.name])
            raise SegmentCompileError(f"segments refer to each other in a cycle: {cycle}")
        self._stack.append(definition.name)
        try:
            predicate = self.predicate(definition.include)
            if definition.exclude is not None:
                excluded = self.predicate(definition.exclude, negated=True)
                predicate = exp.and_(predicate, exp.not_(exp.paren(excluded)))
            return predicate
        finally:
            self._stack.pop()

    # -- conditions ----------------------------------------------------------------------------

    def predicate(self, condition: AnyCondition, *, negated: bool = False) -> exp.Expr:
        """A predicate over ``p`` for any condition, for use in a WHERE clause.

        Outside any ``not``, NULL and FALSE both leave a row out, so trait tests stay bare
        (the engine can push them into the scan); under a ``not`` (``negated``) every leaf is
        two-valued, which makes ``not`` an exact complement.
        """
        if isinstance(condition, AllGroup):
            return exp.and_(*(exp.paren(self.predicate(c, negated=negated)) for c in condition.all))
        if isinstance(condition, AnyGroup):
            return exp.or_(*(exp.paren(self.predicate(c, negated=negated)) for c in condition.any))
        if isinstance(condition, NotGroup):
            return exp.not_(exp.paren(self.predicate(condition.not_, negated=True)))
        return self.leaf(condition, two_valued=negated).predicate

    def leaf(self, condition: AnyCondition, *, two_valued: bool = True) -> CompiledLeaf:
        """Compile one leaf condition (two-valued unless told it sits in a plain WHERE)."""
        if isinstance(condition, TraitCondition):
            return self._trait(condition, two_valued)
        if isinstance(condition, OrdersCondition):
            return self._orders(condition)
        if isinstance(condition, EventCondition):
            return self._event(condition)
        if isinstance(condition, EventRatioCondition):
            return self._event_ratio(condition)
        if isinstance(condition, EventSequenceCondition):
            return self._event_sequence(condition)
        if isinstance(condition, ReviewsCondition):
            return self._reviews(condition)
        if isinstance(condition, TicketsCondition):
            return self._tickets(condition)
        if isinstance(condition, SegmentMembershipCondition):
            return self._segment(condition)
        if isinstance(condition, SqlTemplateCondition):
            return self._sql_template(condition)
        raise SegmentCompileError(f"not a leaf condition: {type(condition).__name__}")

    # -- traits --------------------------------------------------------------------------------

    def _trait_info(self, name: str) -> TraitInfo:
        info = self.ctx.catalogue.trait(name)
        if info is None:
            raise SegmentCompileError(f"unknown trait {name!r}")
        return info

    def _trait(self, c: TraitCondition, two_valued: bool = True) -> CompiledLeaf:
        info = self._trait_info(c.trait)
        column = col(c.trait, P)
        values = exp.select(col(PROFILE_ID), col(c.trait).as_("value")).from_(
            self.ctx.tables.profiles
        )
        if c.op in ("top_percent", "bottom_percent"):
            return CompiledLeaf(in_profiles(self._ranked(c)), values)
        if c.op == "is_set":
            return CompiledLeaf(exp.not_(exp.Is(this=column, expression=exp.Null())), values)
        if c.op == "is_not_set":
            return CompiledLeaf(exp.Is(this=column, expression=exp.Null()), values)
        test = self._trait_test(c, info, column)
        return CompiledLeaf(false_if_null(test) if two_valued else test, values)

    def _trait_test(self, c: TraitCondition, info: TraitInfo, column: exp.Expr) -> exp.Expr:
        op, value = c.op, c.value
        if op in ("within_last", "more_than_ago"):
            amount = int(value)  # type: ignore[arg-type]
            start = shift(self.ctx.as_of, -amount, c.unit)
            if op == "more_than_ago":
                return exp.LT(this=column, expression=timestamp_literal(start))
            return exp.and_(
                exp.GT(this=column, expression=timestamp_literal(start)),
                exp.LTE(this=column.copy(), expression=timestamp_literal(self.ctx.as_of)),
            )
        if info.kind == "text":
            lowered = exp.Lower(this=column)
            if op in ("in", "not_in"):
                test = exp.In(this=lowered, expressions=lower_texts(list(value)))  # type: ignore[arg-type]
                return exp.not_(test) if op == "not_in" else test
            if op in ("contains", "not_contains", "starts_with"):
                needle = exp.Literal.string(str(value).lower())
                position = exp.StrPosition(this=lowered, substr=needle)
                if op == "starts_with":
                    return exp.EQ(this=position, expression=exp.Literal.number(1))
                found = exp.GT(this=position, expression=exp.Literal.number(0))
                return exp.not_(found) if op == "not_contains" else found
            if op == "between":
                low, high = value  # type: ignore[misc,str-unpack]
                return exp.Between(
                    this=lowered, low=lit(str(low).lower()), high=lit(str(high).lower())
                )
            return compare(op, lowered, str(value).lower())
        if op in ("in", "not_in"):
            items = [self._typed(info, v) for v in value]  # type: ignore[union-attr]
            test = exp.In(this=column, expressions=items)
            return exp.not_(test) if op == "not_in" else test
        if isinstance(value, TraitRef):
            other: exp.Expr = col(value.trait, P)
            if value.times != 1:
                other = exp.Mul(this=other, expression=lit(value.times))
            if value.plus:
                other = exp.Add(this=other, expression=lit(value.plus))
            return compare(op, column, exp.paren(other))
        if op == "between":
            low, high = value  # type: ignore[misc,str-unpack]
            return compare(op, column, (self._typed(info, low), self._typed(info, high)))
        return compare(op, column, self._typed(info, value))

    def _typed(self, info: TraitInfo, value: Any) -> exp.Expr:
        if info.kind == "time":
            return timestamp_literal(as_datetime(value))
        return lit(value)

    def _ranked(self, c: TraitCondition) -> exp.Select:
        # A profile is in the top X% when fewer than X% of the profiles with a value rank
        # strictly above it: ties at the boundary all get in, and rank() gives tied profiles the
        # same rank, so the count of profiles strictly above is rank - 1.
        order = exp.Ordered(this=col(c.trait), desc=c.op == "top_percent")
        ranked = (
            exp.select(
                col(PROFILE_ID),
                exp.Window(this=exp.Rank(), order=exp.Order(expressions=[order])).as_("_rank"),
                exp.Window(this=exp.Count(this=exp.Star())).as_("_n"),
            )
            .from_(self.ctx.tables.profiles)
            .where(exp.not_(exp.Is(this=col(c.trait), expression=exp.Null())))
        )
        above = exp.Mul(
            this=exp.paren(exp.Sub(this=col("_rank"), expression=exp.Literal.number(1))),
            expression=exp.Literal.number(100),
        )
        limit = exp.Mul(this=col("_n"), expression=lit(c.value))
        return (
            exp.select(col(PROFILE_ID))
            .from_(exp.Subquery(this=ranked, alias=exp.TableAlias(this=exp.to_identifier("r"))))
            .where(exp.LT(this=above, expression=limit))
        )

    # -- references ----------------------------------------------------------------------------

    def _segment(self, c: SegmentMembershipCondition) -> CompiledLeaf:
        other = self.ctx.segments(c.segment)
        if other is None:
            raise SegmentCompileError(f"unknown segment {c.segment!r}")
        # The other segment's conditions are inlined (not its stored members), so membership is
        # evaluated at this evaluation time.
        inner = (
            exp.select(col(PROFILE_ID, P))
            .from_(exp.to_table(self.ctx.tables.profiles).as_(P))
            .where(self.rule_predicate(other))
        )
        predicate = in_profiles(
            exp.select(col(PROFILE_ID)).from_(
                exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("sg")))
            )
        )
        return CompiledLeaf(predicate, None)

    def _sql_template(self, c: SqlTemplateCondition) -> CompiledLeaf:
        template = self.ctx.sql_templates(c.template)
        if template is None:
            raise SegmentCompileError(f"unknown SQL template {c.template!r}")
        query = template.bind(dict(c.params), as_of=self.ctx.as_of, tables=self.ctx.tables)
        ids = (
            exp.select(col(PROFILE_ID))
            .from_(exp.Subquery(this=query, alias=exp.TableAlias(this=exp.to_identifier("t"))))
            .where(exp.not_(exp.Is(this=col(PROFILE_ID), expression=exp.Null())))
        )
        return CompiledLeaf(in_profiles(ids), None)
