"""Conditions on a customer's records: orders, events, event ratios and sequences, reviews
and tickets. Each compiles to a per-profile measure and a membership predicate (see
:mod:`segmint.segments.compiler`)."""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from segmint.segments.catalogue import PAGE_EVENT, SCREEN_EVENT
from segmint.segments.context import RECORD_KEYS, CompileContext, CompiledLeaf
from segmint.segments.model import (
    DEFAULT_ORDER_STATUSES,
    EventCondition,
    EventRatioCondition,
    EventSelector,
    EventSequenceCondition,
    OrdersCondition,
    ReviewsCondition,
    TicketsCondition,
)
from segmint.segments.sqlparts import (
    PROFILE_ID,
    case,
    col,
    compare,
    false_if_null,
    in_profiles,
    json_value,
    lit,
    lower_texts,
    passes,
    property_predicate,
    ratio,
    status_filter,
)
from segmint.segments.timeutil import (
    interval,
    timestamp_literal,
    window_bounds,
    window_predicate,
)

_KIND_OF_ALIAS = {"o": "orders", "e": "events", "v": "reviews", "k": "tickets"}


class RecordConditions:
    """The record-based leaves of :class:`~segmint.segments.compiler.SegmentCompiler`."""

    ctx: CompileContext

    def _aggregate(
        self,
        per_profile: exp.Select,
        op: str,
        value: Any,
        zero: float | None,
        rows: exp.Select | None = None,
    ) -> CompiledLeaf:
        """Predicate for ``measure op value`` given (profile_id, value) rows per profile.

        ``rows`` (the counted records, one column: the profile id) marks a count: "at least
        once" and "never" then test existence directly, with no grouping.
        """
        if rows is not None and isinstance(value, int | float) and not isinstance(value, bool):
            exists = (op, value) in (("gte", 1), ("gt", 0), ("neq", 0))
            never = (op, value) in (("eq", 0), ("lt", 1), ("lte", 0))
            if exists or never:
                found = in_profiles(rows)
                return CompiledLeaf(found if exists else exp.not_(found), per_profile, zero)
        measured = exp.Subquery(this=per_profile, alias=exp.TableAlias(this=exp.to_identifier("m")))
        if zero is not None and passes(op, zero, value):
            failing = (
                exp.select(col(PROFILE_ID))
                .from_(measured)
                .where(exp.not_(false_if_null(compare(op, col("value"), value))))
            )
            predicate: exp.Expr = exp.not_(in_profiles(failing))
        else:
            matching = (
                exp.select(col(PROFILE_ID)).from_(measured).where(compare(op, col("value"), value))
            )
            predicate = in_profiles(matching)
        return CompiledLeaf(predicate, per_profile, zero)

    def _resolved(self, kind: str, table: str, alias: str, columns: list[str]) -> exp.Select:
        """Rows of a record table with the profile they belong to (``self._owner(alias)``)."""
        keyed = self.ctx.keyed.get(kind)
        if keyed is not None:
            # The records already carry their profile: no join with the resolution.
            return (
                exp.select(*(col(c, alias) for c in columns), col(PROFILE_ID, alias))
                .from_(exp.to_table(keyed).as_(alias))
                .where(exp.not_(exp.Is(this=col(PROFILE_ID, alias), expression=exp.Null())))
            )
        key = RECORD_KEYS[kind]
        resolved = exp.Subquery(
            this=self.ctx.resolver(kind), alias=exp.TableAlias(this=exp.to_identifier("r"))
        )
        return (
            exp.select(*(col(c, alias) for c in columns), col(PROFILE_ID, "r"))
            .from_(exp.to_table(table).as_(alias))
            .join(resolved, on=exp.EQ(this=col(key, "r"), expression=col(key, alias)))
            .where(exp.not_(exp.Is(this=col(PROFILE_ID, "r"), expression=exp.Null())))
        )

    def _owner(self, alias: str) -> exp.Column:
        """The profile id column of records read under ``alias`` by :meth:`_resolved`."""
        kind = _KIND_OF_ALIAS[alias]
        return col(PROFILE_ID, alias if kind in self.ctx.keyed else "r")

    # -- orders --------------------------------------------------------------------------------

    def _orders(self, c: OrdersCondition) -> CompiledLeaf:
        t = self.ctx.tables
        columns = [
            "order_id",
            "ordered_at",
            "total",
            "refunded_amount",
            "discount_amount",
            "coupon_code",
            "status",
        ]
        orders = self._resolved("orders", t.orders, "o", columns)
        orders = orders.where(
            window_predicate(col("ordered_at", "o"), c.window, self.ctx.as_of)
        ).where(status_filter(col("status", "o"), c.statuses))
        tests = self._order_tests(c)
        share = c.measure in ("share_of_count", "share_of_value")
        line_test = self._line_test(c)
        order_id = col("order_id", "o")
        if line_test is not None:
            # One row per line: an order matches when one of its lines does, and its value is
            # the matching lines' net value. Orders without lines count in a share by count.
            orders = orders.join(
                exp.to_table(t.order_lines).as_("ol"),
                on=exp.EQ(this=col("order_id", "ol"), expression=order_id.copy()),
                join_type="left" if c.measure == "share_of_count" else "inner",
            ).join(
                exp.to_table(t.products).as_("pr"),
                on=exp.EQ(this=col("product_id", "pr"), expression=col("product_id", "ol")),
                join_type="left",
            )
            tests.append(line_test)
            value: exp.Expr = exp.Sub(
                this=exp.Mul(this=col("quantity", "ol"), expression=col("unit_price", "ol")),
                expression=exp.func("COALESCE", col("discount", "ol"), exp.Literal.number(0)),
            )
            all_count: exp.Expr = exp.Count(this=exp.Distinct(expressions=[order_id.copy()]))
        else:
            # Net of refunds, as the profile's total_spend counts it.
            value = exp.Sub(
                this=exp.func("COALESCE", col("total", "o"), exp.Literal.number(0)),
                expression=exp.func("COALESCE", col("refunded_amount", "o"), exp.Literal.number(0)),
            )
            all_count = exp.Count(this=exp.Star())
        match: exp.Expr | None = exp.and_(*tests) if tests else None
        zero: float | None = 0
        if not share:
            # Rows that do not match measure nothing: filter them out before grouping.
            if match is not None:
                orders = orders.where(match)
            count = all_count
            total: exp.Expr = exp.func("COALESCE", exp.Sum(this=value), exp.Literal.number(0))
            if c.measure == "count":
                measure: exp.Expr = count
            elif c.measure == "sum":
                measure = total
            else:
                measure, zero = ratio(exp.Sum(this=value.copy()), count), None
        else:
            assert match is not None  # validation requires a filter for a share
            zero = None
            if c.measure == "share_of_count":
                matched_orders = (
                    exp.Count(
                        this=exp.Distinct(expressions=[case(match, order_id.copy(), exp.Null())])
                    )
                    if line_test is not None
                    else exp.Sum(this=case(match, exp.Literal.number(1), exp.Literal.number(0)))
                )
                measure = ratio(matched_orders, all_count)
            else:
                matched_value = exp.Sum(this=case(match, value.copy(), exp.Literal.number(0)))
                measure = ratio(matched_value, exp.Sum(this=value))
        per_profile = orders.select(self._owner("o"), measure.as_("value"), append=False).group_by(
            self._owner("o")
        )
        if c.min_orders is not None:
            per_profile = per_profile.having(
                exp.GTE(this=all_count.copy(), expression=exp.Literal.number(c.min_orders))
            )
        rows = orders.select(self._owner("o"), append=False) if c.measure == "count" else None
        return self._aggregate(per_profile, c.op, c.value, zero, rows)

    def _order_tests(self, c: OrdersCondition) -> list[exp.Expr]:
        """Order-level filters: discount used or not, coupon codes."""
        tests: list[exp.Expr] = []
        if c.discount != "any":
            code = exp.func(
                "LENGTH",
                exp.func(
                    "TRIM", exp.func("COALESCE", col("coupon_code", "o"), exp.Literal.string(""))
                ),
            )
            used = exp.or_(
                exp.GT(this=code, expression=exp.Literal.number(0)),
                exp.GT(
                    this=exp.func("COALESCE", col("discount_amount", "o"), exp.Literal.number(0)),
                    expression=exp.Literal.number(0),
                ),
            )
            tests.append(exp.paren(used) if c.discount == "used" else exp.not_(exp.paren(used)))
        if c.coupon_codes:
            tests.append(
                exp.In(
                    this=exp.Lower(this=exp.func("TRIM", col("coupon_code", "o"))),
                    expressions=lower_texts(c.coupon_codes),
                )
            )
        return tests

    def _line_test(self, c: OrdersCondition) -> exp.Expr | None:
        """A line matches the product filters (None without product filters)."""
        tests: list[exp.Expr] = []
        if c.categories:
            tests.append(
                exp.In(
                    this=exp.Lower(this=col("category", "pr")),
                    expressions=lower_texts(c.categories),
                )
            )
        if c.product_lines:
            tests.append(
                exp.In(
                    this=exp.Lower(this=col("product_line", "pr")),
                    expressions=lower_texts(c.product_lines),
                )
            )
        if c.products:
            ids = [exp.Literal.string(p) for p in c.products]
            tests.append(
                exp.paren(
                    exp.or_(
                        exp.In(this=col("product_id", "ol"), expressions=ids),
                        exp.In(this=col("sku", "ol"), expressions=[i.copy() for i in ids]),
                    )
                )
            )
        return false_if_null(exp.and_(*tests)) if tests else None

    # -- events --------------------------------------------------------------------------------

    def _events(self, selectors: list[EventSelector]) -> exp.Select:
        """Events (with profile) matching any of the selectors, up to the evaluation time.

        Callers replace the projection with what they measure.
        """
        columns = ["message_id", "type", "event", "timestamp"]
        query = self._resolved("events", self.ctx.tables.events, "e", columns)
        query = query.where(
            exp.LTE(this=col("timestamp", "e"), expression=timestamp_literal(self.ctx.as_of))
        )
        return query.where(
            exp.or_(*(exp.paren(self.selector_predicate(s, "e")) for s in selectors))
        )

    def selector_predicate(self, selector: EventSelector, alias: str) -> exp.Expr:
        """An event has this name and passes every property filter."""
        name = selector.event
        named: exp.Expr = exp.EQ(this=col("event", alias), expression=exp.Literal.string(name))
        page_type = {PAGE_EVENT: "page", SCREEN_EVENT: "screen"}.get(name)
        if page_type:
            # Page and screen calls carry no event name; a track call of that name counts too.
            named = exp.or_(
                exp.EQ(this=col("type", alias), expression=exp.Literal.string(page_type)), named
            )
        tests = [
            exp.paren(named),
            *(property_predicate(f, alias, self.ctx.dialect) for f in selector.where),
        ]
        return exp.and_(*tests)

    def _event(self, c: EventCondition) -> CompiledLeaf:
        events = self._events([EventSelector(event=c.event, where=c.where)])
        events = events.where(window_predicate(col("timestamp", "e"), c.window, self.ctx.as_of))
        zero: float | None = 0
        if c.measure == "count":
            measure: exp.Expr = exp.Count(this=exp.Star())
        else:
            raw = json_value(c.property or "", "e", self.ctx.dialect)
            number = exp.TryCast(this=raw, to=exp.DataType.build("DOUBLE"))
            if c.measure == "sum":
                measure = exp.func("COALESCE", exp.Sum(this=number), exp.Literal.number(0))
            elif c.measure == "average":
                measure, zero = exp.Avg(this=number), None
            elif c.measure == "min":
                measure, zero = exp.Min(this=number), None
            elif c.measure == "max":
                measure, zero = exp.Max(this=number), None
            else:
                measure = exp.Count(this=exp.Distinct(expressions=[raw]))
        per_profile = events.select(self._owner("e"), measure.as_("value"), append=False).group_by(
            self._owner("e")
        )
        rows = events.select(self._owner("e"), append=False) if c.measure == "count" else None
        return self._aggregate(per_profile, c.op, c.value, zero, rows)

    def _event_ratio(self, c: EventRatioCondition) -> CompiledLeaf:
        events = self._events([c.numerator, c.denominator])
        events = events.where(window_predicate(col("timestamp", "e"), c.window, self.ctx.as_of))
        numerator = exp.Sum(
            this=case(
                self.selector_predicate(c.numerator, "e"),
                exp.Literal.number(1),
                exp.Literal.number(0),
            )
        )
        denominator = exp.Sum(
            this=case(
                self.selector_predicate(c.denominator, "e"),
                exp.Literal.number(1),
                exp.Literal.number(0),
            )
        )
        per_profile = (
            events.select(
                self._owner("e"),
                ratio(numerator, denominator).as_("value"),
                append=False,
            )
            .group_by(self._owner("e"))
            .having(
                exp.GTE(this=denominator.copy(), expression=exp.Literal.number(c.min_denominator))
            )
        )
        return self._aggregate(per_profile, c.op, c.value, None)

    def _event_sequence(self, c: EventSequenceCondition) -> CompiledLeaf:
        as_of = self.ctx.as_of
        first = self._events([c.first])
        first = first.where(window_predicate(col("timestamp", "e"), c.window, as_of))
        first = first.select(self._owner("e"), col("timestamp", "e").as_("ts"), append=False)
        blockers: list[exp.Select] = []
        # Only what happens after the window starts can follow an event in it.
        start, _, _ = window_bounds(c.window, as_of)
        if c.then_not:
            later = self._events(c.then_not)
            if start is not None:
                later = later.where(
                    exp.GT(this=col("timestamp", "e"), expression=timestamp_literal(start))
                )
            blockers.append(
                later.select(self._owner("e"), col("timestamp", "e").as_("ts"), append=False)
            )
        if c.no_order_after:
            orders = self._resolved(
                "orders", self.ctx.tables.orders, "o", ["order_id", "ordered_at", "status"]
            )
            orders = orders.where(
                exp.LTE(this=col("ordered_at", "o"), expression=timestamp_literal(as_of))
            ).where(status_filter(col("status", "o"), list(DEFAULT_ORDER_STATUSES)))
            if start is not None:
                orders = orders.where(
                    exp.GT(this=col("ordered_at", "o"), expression=timestamp_literal(start))
                )
            blockers.append(
                orders.select(self._owner("o"), col("ordered_at", "o").as_("ts"), append=False)
            )
        blocking: exp.Query = blockers[0]
        for more in blockers[1:]:
            blocking = exp.union(blocking, more, distinct=False)
        f_sub = exp.Subquery(this=first, alias=exp.TableAlias(this=exp.to_identifier("f")))
        b_sub = exp.Subquery(this=blocking, alias=exp.TableAlias(this=exp.to_identifier("b")))
        if c.within is None:
            # Some first event has nothing after it exactly when the latest first event has
            # nothing after it: compare the latest of each (an aggregate, no per-event join).
            latest_first = (
                exp.select(col(PROFILE_ID), exp.Max(this=col("ts")).as_("first_ts"))
                .from_(f_sub)
                .group_by(col(PROFILE_ID))
            )
            latest_block = (
                exp.select(col(PROFILE_ID), exp.Max(this=col("ts")).as_("block_ts"))
                .from_(b_sub)
                .group_by(col(PROFILE_ID))
            )
            per_profile = (
                exp.select(col(PROFILE_ID, "lf"), col("first_ts", "lf").as_("value"))
                .from_(
                    exp.Subquery(
                        this=latest_first, alias=exp.TableAlias(this=exp.to_identifier("lf"))
                    )
                )
                .join(
                    exp.Subquery(
                        this=latest_block, alias=exp.TableAlias(this=exp.to_identifier("lb"))
                    ),
                    on=exp.EQ(this=col(PROFILE_ID, "lb"), expression=col(PROFILE_ID, "lf")),
                    join_type="left",
                )
                .where(
                    exp.or_(
                        exp.Is(this=col("block_ts", "lb"), expression=exp.Null()),
                        exp.LTE(this=col("block_ts", "lb"), expression=col("first_ts", "lf")),
                    )
                )
            )
        else:
            followed = (
                exp.select(exp.Literal.number(1))
                .from_(b_sub)
                .where(exp.EQ(this=col(PROFILE_ID, "b"), expression=col(PROFILE_ID, "f")))
                .where(exp.GT(this=col("ts", "b"), expression=col("ts", "f")))
                .where(
                    exp.LTE(
                        this=col("ts", "b"),
                        expression=exp.Add(this=col("ts", "f"), expression=interval(c.within)),
                    )
                )
            )
            per_profile = (
                exp.select(col(PROFILE_ID, "f"), exp.Max(this=col("ts", "f")).as_("value"))
                .from_(f_sub)
                .where(exp.not_(exp.Exists(this=followed)))
                .group_by(col(PROFILE_ID, "f"))
            )
        predicate = in_profiles(
            exp.select(col(PROFILE_ID)).from_(
                exp.Subquery(this=per_profile, alias=exp.TableAlias(this=exp.to_identifier("s")))
            )
        )
        return CompiledLeaf(predicate, per_profile, None)

    # -- reviews and tickets -------------------------------------------------------------------

    def _reviews(self, c: ReviewsCondition) -> CompiledLeaf:
        reviews = self._resolved(
            "reviews",
            self.ctx.tables.reviews,
            "v",
            ["review_id", "rating", "reviewed_at", "product_id"],
        )
        reviews = reviews.where(window_predicate(col("reviewed_at", "v"), c.window, self.ctx.as_of))
        if c.min_rating is not None:
            reviews = reviews.where(exp.GTE(this=col("rating", "v"), expression=lit(c.min_rating)))
        if c.max_rating is not None:
            reviews = reviews.where(exp.LTE(this=col("rating", "v"), expression=lit(c.max_rating)))
        if c.products:
            reviews = reviews.where(
                exp.In(
                    this=col("product_id", "v"),
                    expressions=[exp.Literal.string(p) for p in c.products],
                )
            )
        zero: float | None = None
        rating = exp.cast(col("rating", "v"), exp.DataType.build("DOUBLE"))
        if c.measure == "count":
            measure: exp.Expr = exp.Count(this=exp.Star())
            zero = 0
        elif c.measure == "average_rating":
            measure = exp.Avg(this=rating)
        elif c.measure == "min_rating":
            measure = exp.Min(this=rating)
        else:
            measure = exp.Max(this=rating)
        per_profile = reviews.select(self._owner("v"), measure.as_("value"), append=False).group_by(
            self._owner("v")
        )
        rows = reviews.select(self._owner("v"), append=False) if c.measure == "count" else None
        return self._aggregate(per_profile, c.op, c.value, zero, rows)

    def _tickets(self, c: TicketsCondition) -> CompiledLeaf:
        tickets = self._resolved(
            "tickets",
            self.ctx.tables.tickets,
            "k",
            ["ticket_id", "created_at", "status", "channel"],
        )
        tickets = tickets.where(window_predicate(col("created_at", "k"), c.window, self.ctx.as_of))
        if c.statuses:
            tickets = tickets.where(
                exp.In(this=exp.Lower(this=col("status", "k")), expressions=lower_texts(c.statuses))
            )
        if c.channels:
            tickets = tickets.where(
                exp.In(
                    this=exp.Lower(this=col("channel", "k")), expressions=lower_texts(c.channels)
                )
            )
        per_profile = tickets.select(
            self._owner("k"), exp.Count(this=exp.Star()).as_("value"), append=False
        ).group_by(self._owner("k"))
        rows = tickets.select(self._owner("k"), append=False)
        return self._aggregate(per_profile, c.op, c.value, 0, rows)
