"""The segment definition language: a versioned document holding a tree of conditions.

A definition is plain data (JSON, or YAML for people) that a web builder can edit field by field.
Groups combine conditions (``all`` / ``any`` / ``not``); leaves test one thing about a customer
profile: a trait, their orders, their events, a ratio of two event counts, an event not followed
by another, their reviews or tickets, membership of another segment, or a custom SQL template.

The models check the *shape* of a document. Whether the names in it exist (traits, events, other
segments) is checked against the workspace by :mod:`segmint.segments.validation`, which also
turns every problem into a message that points at its place (``include.all[2].window``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    Tag,
    model_validator,
)

from segmint.model.tables import PURCHASE_STATUSES

SCHEMA_VERSION = 1
"""Version of the definition format; stored in every document as ``schema_version``."""

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"

Scalar = StrictBool | StrictInt | StrictFloat | StrictStr
Number = StrictInt | StrictFloat
TimeUnit = Literal["hours", "days", "weeks", "months", "years"]
OrderStatus = Literal["completed", "pending", "refunded", "partially_refunded", "cancelled"]

ComparisonOp = Literal["eq", "neq", "gt", "gte", "lt", "lte"]
NumberOp = Literal["eq", "neq", "gt", "gte", "lt", "lte", "between"]
TraitOp = Literal[
    "eq",
    "neq",
    "gt",
    "gte",
    "lt",
    "lte",
    "between",
    "in",
    "not_in",
    "is_set",
    "is_not_set",
    "contains",
    "not_contains",
    "starts_with",
    "within_last",
    "more_than_ago",
    "top_percent",
    "bottom_percent",
]
PropertyOp = Literal[
    "eq",
    "neq",
    "gt",
    "gte",
    "lt",
    "lte",
    "between",
    "in",
    "not_in",
    "contains",
    "is_set",
    "is_not_set",
]

#: Operators that take no value.
VALUELESS_OPS = frozenset({"is_set", "is_not_set"})
#: Operators whose value is a list.
LIST_OPS = frozenset({"in", "not_in"})
#: Order statuses counted unless a condition names its own: purchases, as profiles count them.
DEFAULT_ORDER_STATUSES: tuple[str, ...] = PURCHASE_STATUSES


class _Node(BaseModel):
    """Base of every model: unknown fields are errors, so typos never pass silently."""

    model_config = ConfigDict(extra="forbid")


class TraitRef(_Node):
    """Another trait of the same profile, as the right-hand side of a comparison.

    ``{"trait": "avg_days_between_orders", "times": 2}`` reads "twice the customer's own
    average days between orders".
    """

    trait: str = Field(description="Name of the trait to compare with.")
    times: Number = Field(1, description="Multiply the other trait by this factor.")
    plus: Number = Field(0, description="Then add this amount.")


class Duration(_Node):
    """A span of time such as 48 hours or 3 months."""

    amount: Annotated[int, Field(gt=0, description="How many units.")]
    unit: TimeUnit = Field("days", description="hours, days, weeks, months or years.")


class Window(_Node):
    """When records count: the last N units before the evaluation time, or between two dates.

    ``{"last": 7, "unit": "days"}`` covers the 7 days before the evaluation time, the instant
    exactly 7 days before excluded and the evaluation time itself included. ``since`` is
    inclusive and ``until`` exclusive, so consecutive windows never overlap.
    """

    last: Annotated[int | None, Field(gt=0, description="Count back this many units.")] = None
    unit: TimeUnit = Field("days", description="Unit of ``last``.")
    since: datetime | date | None = Field(None, description="Start (inclusive), UTC.")
    until: datetime | date | None = Field(None, description="End (exclusive), UTC.")

    @model_validator(mode="after")
    def _one_kind(self) -> Window:
        if self.last is None and self.since is None and self.until is None:
            raise ValueError("give either `last` (with `unit`) or `since`/`until`")
        if self.last is not None and (self.since is not None or self.until is not None):
            raise ValueError("give either `last` or `since`/`until`, not both")
        if (
            self.since is not None
            and self.until is not None
            and _as_dt(self.since) >= _as_dt(self.until)
        ):
            raise ValueError("`since` must be before `until`")
        return self


def _as_dt(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return datetime(value.year, value.month, value.day)


class PropertyFilter(_Node):
    """A test on one property of an event.

    ``property`` is a dot path into the event's ``properties`` (``category``,
    ``products.0.sku``); a path starting with ``context.`` reads the event's context instead
    (``context.page.path``). Text comparisons ignore case.
    """

    property: str = Field(description="Dot path into properties, or context.<path>.")
    op: PropertyOp = "eq"
    value: Scalar | list[Scalar] | None = None


class EventSelector(_Node):
    """Which events: a name and optional property filters."""

    event: str = Field(description="Event name, e.g. Product Added; page calls are Page Viewed.")
    where: list[PropertyFilter] = Field(default_factory=list)


# -- leaf conditions -------------------------------------------------------------------------------


class TraitCondition(_Node):
    """A test on one profile trait: comparison, range, list, text, relative date or rank."""

    type: Literal["trait"]
    trait: str = Field(description="Trait name from the profile catalogue.")
    op: TraitOp = Field(description="How to compare.")
    value: Scalar | list[Scalar] | TraitRef | None = Field(
        None, description="What to compare with; a list for between/in; none for is_set."
    )
    unit: TimeUnit = Field("days", description="Unit of within_last / more_than_ago.")


class OrdersCondition(_Node):
    """A measure of a customer's orders in a window, optionally filtered by product or coupon.

    Purchases count (completed and partially refunded orders, as in the profile traits; set
    ``statuses`` to choose). With product filters (categories, product lines, products) an order
    counts when one of its lines matches, and value is the matching lines' net value
    (quantity x unit price less line discount); otherwise value is the order total less
    refunds.
    """

    type: Literal["orders"]
    measure: Literal["count", "sum", "average", "share_of_count", "share_of_value"] = Field(
        "count",
        description=(
            "count of orders, sum or average of their value, or the share (0-1) of the "
            "customer's orders in the window that match the filters, by count or by value."
        ),
    )
    op: NumberOp = "gte"
    value: Number | list[Number] = 1
    window: Window | None = None
    categories: list[str] = Field(default_factory=list, description="Product categories.")
    product_lines: list[str] = Field(default_factory=list, description="Product lines.")
    products: list[str] = Field(default_factory=list, description="Product ids or SKUs.")
    discount: Literal["any", "used", "not_used"] = Field(
        "any", description="Orders with a coupon or discount (used), without (not_used), or all."
    )
    coupon_codes: list[str] = Field(default_factory=list, description="Only these coupon codes.")
    min_orders: Annotated[int | None, Field(ge=1)] = Field(
        None,
        description=(
            "With a share: customers with fewer orders in the window (before the filters) do "
            "not match."
        ),
    )
    statuses: list[OrderStatus] = Field(
        default_factory=lambda: list(DEFAULT_ORDER_STATUSES),  # type: ignore[arg-type]
        description="Order statuses that count (default: purchases).",
    )


class EventCondition(_Node):
    """How often a customer performed an event in a window, or an aggregate of a property.

    Performed at least once is ``op: gte, value: 1`` (the default); did not perform is
    ``op: eq, value: 0``; customers with no matching events have a count of 0.
    """

    type: Literal["event"]
    event: str = Field(description="Event name.")
    where: list[PropertyFilter] = Field(default_factory=list)
    measure: Literal["count", "sum", "average", "min", "max", "distinct_count"] = "count"
    property: str | None = Field(None, description="Property aggregated (all measures but count).")
    op: NumberOp = "gte"
    value: Number | list[Number] = 1
    window: Window | None = None


class EventRatioCondition(_Node):
    """The ratio of two event counts in the same window, such as opens / deliveries."""

    type: Literal["event_ratio"]
    numerator: EventSelector
    denominator: EventSelector
    op: NumberOp = "gte"
    value: Number | list[Number]
    window: Window | None = None
    min_denominator: Annotated[int, Field(ge=1)] = Field(
        1, description="Customers with fewer denominator events do not match."
    )


class EventSequenceCondition(_Node):
    """An event (in the window) not followed by any of ``then_not`` (within ``within``).

    Cart abandonment: ``first: Product Added``, ``then_not: [Order Completed]``,
    ``no_order_after: true``, window the last 2 days.
    """

    type: Literal["event_sequence"]
    first: EventSelector
    then_not: list[EventSelector] = Field(default_factory=list)
    no_order_after: bool = Field(False, description="Also require no order after the event.")
    within: Duration | None = Field(
        None, description="How long after the event to look; none means up to now."
    )
    window: Window | None = Field(None, description="When the first event happened.")

    @model_validator(mode="after")
    def _something_follows(self) -> EventSequenceCondition:
        if not self.then_not and not self.no_order_after:
            raise ValueError("name at least one event in `then_not` or set `no_order_after`")
        return self


class ReviewsCondition(_Node):
    """How many reviews a customer wrote (optionally in a rating range), or their ratings."""

    type: Literal["reviews"]
    measure: Literal["count", "average_rating", "min_rating", "max_rating"] = "count"
    op: NumberOp = "gte"
    value: Number | list[Number] = 1
    window: Window | None = None
    min_rating: Annotated[int | None, Field(ge=1, le=5)] = None
    max_rating: Annotated[int | None, Field(ge=1, le=5)] = None
    products: list[str] = Field(default_factory=list, description="Only reviews of these products.")


class TicketsCondition(_Node):
    """How many support tickets a customer opened."""

    type: Literal["tickets"]
    op: NumberOp = "gte"
    value: Number | list[Number] = 1
    window: Window | None = None
    statuses: list[str] = Field(default_factory=list, description="Only tickets in these statuses.")
    channels: list[str] = Field(
        default_factory=list, description="Only tickets from these channels."
    )


class SegmentMembershipCondition(_Node):
    """Members of another segment (by its conditions, evaluated at the same time)."""

    type: Literal["segment"]
    segment: str = Field(description="Name of the other segment.")


class SqlTemplateCondition(_Node):
    """Profiles returned by a custom SQL template stored in the workspace."""

    type: Literal["sql_template"]
    template: str = Field(description="Name of the custom SQL template.")
    params: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)


# -- groups ----------------------------------------------------------------------------------------


class AllGroup(_Node):
    """Every condition holds (AND)."""

    all: Annotated[list[Condition], Field(min_length=1)]


class AnyGroup(_Node):
    """At least one condition holds (OR)."""

    any: Annotated[list[Condition], Field(min_length=1)]


class NotGroup(_Node):
    """The condition does not hold (NOT): exactly the profiles it leaves out."""

    not_: Condition = Field(alias="not")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


LEAF_TYPES: dict[str, type[_Node]] = {
    "trait": TraitCondition,
    "orders": OrdersCondition,
    "event": EventCondition,
    "event_ratio": EventRatioCondition,
    "event_sequence": EventSequenceCondition,
    "reviews": ReviewsCondition,
    "tickets": TicketsCondition,
    "segment": SegmentMembershipCondition,
    "sql_template": SqlTemplateCondition,
}
GROUP_KEYS = ("all", "any", "not")
#: Tags wrap their names in angle brackets so error paths can drop them (see validation).
TAG_PREFIX = "<"


def _condition_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        for key in GROUP_KEYS:
            if key in value:
                return f"<{key}>"
        kind = value.get("type")
        return f"<{kind}>" if isinstance(kind, str) else None
    if isinstance(value, AllGroup):
        return "<all>"
    if isinstance(value, AnyGroup):
        return "<any>"
    if isinstance(value, NotGroup):
        return "<not>"
    kind = getattr(value, "type", None)
    return f"<{kind}>" if isinstance(kind, str) else None


Condition = Annotated[
    Annotated[AllGroup, Tag("<all>")]
    | Annotated[AnyGroup, Tag("<any>")]
    | Annotated[NotGroup, Tag("<not>")]
    | Annotated[TraitCondition, Tag("<trait>")]
    | Annotated[OrdersCondition, Tag("<orders>")]
    | Annotated[EventCondition, Tag("<event>")]
    | Annotated[EventRatioCondition, Tag("<event_ratio>")]
    | Annotated[EventSequenceCondition, Tag("<event_sequence>")]
    | Annotated[ReviewsCondition, Tag("<reviews>")]
    | Annotated[TicketsCondition, Tag("<tickets>")]
    | Annotated[SegmentMembershipCondition, Tag("<segment>")]
    | Annotated[SqlTemplateCondition, Tag("<sql_template>")],
    Discriminator(
        _condition_tag,
        custom_error_type="condition_kind",
        custom_error_message=(
            "not a condition: use a group (all, any, not) or set `type` to one of "
            + ", ".join(LEAF_TYPES)
        ),
    ),
]

AllGroup.model_rebuild()
AnyGroup.model_rebuild()
NotGroup.model_rebuild()

LeafCondition = (
    TraitCondition
    | OrdersCondition
    | EventCondition
    | EventRatioCondition
    | EventSequenceCondition
    | ReviewsCondition
    | TicketsCondition
    | SegmentMembershipCondition
    | SqlTemplateCondition
)
GroupCondition = AllGroup | AnyGroup | NotGroup
AnyCondition = LeafCondition | GroupCondition


class TemplateRef(_Node):
    """Where a definition came from when it was made from a template."""

    name: str
    params: dict[str, Any] = Field(default_factory=dict)


class SegmentDefinition(_Node):
    """A named, dynamic segment: who is in (``include``), who is kept out (``exclude``), why.

    ``purpose: marketing`` (the default) removes everyone who opted out of marketing,
    unsubscribed or was erased, whatever the conditions say. ``purpose: analysis`` keeps them
    (such a segment can never be synced to a marketing destination). ``holdout_percent`` keeps a
    stable random share of members out of syncs as a control group.
    """

    schema_version: Literal[1] = Field(1, description="Format version.")
    name: Annotated[str, Field(pattern=NAME_PATTERN)] = Field(
        description="Identifier: lower-case letters, digits, - and _."
    )
    title: str | None = Field(None, description="Display name.")
    description: str = Field("", description="What the segment is for, in plain words.")
    purpose: Literal["marketing", "analysis"] = "marketing"
    holdout_percent: Annotated[float, Field(ge=0, lt=100)] = Field(
        0, description="Share of members (percent) held out of syncs as a control group."
    )
    include: Condition
    exclude: Condition | None = Field(None, description="Members matching this are removed.")
    template: TemplateRef | None = Field(None, description="The template this was made from.")

    def to_document(self) -> dict[str, Any]:
        """The definition as JSON-ready data (defaults left out, group keys as written)."""
        return self.model_dump(mode="json", by_alias=True, exclude_defaults=True) | {
            "schema_version": self.schema_version,
            "name": self.name,
        }


def iter_conditions(
    condition: AnyCondition, path: str = "include"
) -> list[tuple[str, AnyCondition]]:
    """Every condition of a tree with its path, depth first (the root first)."""
    found: list[tuple[str, AnyCondition]] = [(path, condition)]
    if isinstance(condition, AllGroup):
        for i, child in enumerate(condition.all):
            found += iter_conditions(child, f"{path}.all[{i}]")
    elif isinstance(condition, AnyGroup):
        for i, child in enumerate(condition.any):
            found += iter_conditions(child, f"{path}.any[{i}]")
    elif isinstance(condition, NotGroup):
        found += iter_conditions(condition.not_, f"{path}.not")
    return found


def definition_conditions(definition: SegmentDefinition) -> list[tuple[str, AnyCondition]]:
    """Every condition of ``include`` and ``exclude`` with its path."""
    found = iter_conditions(definition.include, "include")
    if definition.exclude is not None:
        found += iter_conditions(definition.exclude, "exclude")
    return found
