"""The trait catalogue: every column of the profile tables, with its type, unit and meaning.

The catalogue is the contract between the profile build and everything that reads profiles:
the build selects exactly these columns in this order, ``docs/profiles.md`` is generated from
it, and the no-code segment builder offers these traits. A test fails when the ``profiles``
table and the catalogue disagree.

Other modules add traits without touching this file: a :class:`ProfileExtension` registers its
traits (they become nullable columns of ``profiles``) and a ``fill`` step that writes them after
the core traits are computed, inside the same build transaction. Predicted customer lifetime
value is added that way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal, get_args

from segmint.model.tables import ColumnType

if TYPE_CHECKING:
    from segmint.config import ProfilesConfig
    from segmint.engines.base import Engine

Source = Literal[
    "identity",
    "demographics",
    "orders",
    "web",
    "email",
    "reviews",
    "tickets",
    "rfm",
    "lifecycle",
    "clv",
]
SOURCES: tuple[str, ...] = get_args(Source)

#: What each source means, for the documentation and the segment builder's grouping.
SOURCE_DESCRIPTIONS: dict[str, str] = {
    "identity": "Identity resolution: the person's identifiers (see `identities`).",
    "demographics": "The person's customer records: demographics, location and consent.",
    "orders": "Orders and their line items.",
    "web": "Website and app events (page, screen and track calls other than email events).",
    "email": "Email events: Email Delivered, Email Opened, Email Link Clicked.",
    "reviews": "Product reviews.",
    "tickets": "Support tickets.",
    "rfm": "Recency, frequency and monetary scores against the store's own buyers.",
    "lifecycle": "Lifecycle stage and engagement across every channel.",
    "clv": "Predicted customer lifetime value (written by the CLV model once fitted).",
}

#: Named RFM segments, best first (the values of ``rfm_segment``).
RFM_SEGMENTS: tuple[str, ...] = (
    "Champions",
    "Loyal",
    "Potential Loyalists",
    "New",
    "Promising",
    "Need Attention",
    "About to Sleep",
    "At Risk",
    "Can't Lose Them",
    "Hibernating",
    "Lost",
)

#: Lifecycle stages in funnel order (the values of ``lifecycle_stage``).
LIFECYCLE_STAGES: tuple[str, ...] = ("prospect", "new", "active", "loyal", "at_risk", "lapsed")

#: Age bands (the values of ``age_band``): lower bound inclusive, upper bound exclusive.
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("under 18", 0, 18),
    ("18-24", 18, 25),
    ("25-34", 25, 35),
    ("35-44", 35, 45),
    ("45-54", 45, 55),
    ("55-64", 55, 65),
    ("65+", 65, None),
)

#: Windows, in days, of the windowed email traits.
EMAIL_WINDOWS: tuple[int, ...] = (7, 30, 90)
#: Windows, in days, of the windowed order traits.
ORDER_WINDOWS: tuple[int, ...] = (30, 90, 180, 365)

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Trait:
    """One column of a profile table."""

    name: str
    type: ColumnType
    description: str
    source: Source
    unit: str | None = None
    """count, currency, days, minutes, years, share (0 to 1), score (1 to 5), rating (1 to 5)."""
    choices: tuple[str, ...] = ()
    """The values a text trait can take, when they are a fixed list."""

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"trait name {self.name!r} must be lower_snake_case")
        if self.source not in SOURCES:
            raise ValueError(f"trait {self.name!r}: unknown source {self.source!r}")


@dataclass(frozen=True)
class ExtensionContext:
    """What an extension's ``fill`` step gets: where the profiles are, and as of when."""

    engine: Engine
    config: ProfilesConfig
    profiles_table: str
    """The table to write (``profiles`` or a prefixed name); its extension columns are NULL."""
    prefix: str
    as_of: datetime


@dataclass(frozen=True)
class ProfileExtension:
    """Traits computed outside the core build (e.g. predicted CLV), and how to fill them."""

    name: str
    traits: tuple[Trait, ...]
    fill: Callable[[ExtensionContext], None] | None = None
    """Writes the extension's columns (``UPDATE`` of the profiles table); None leaves them NULL
    (e.g. until a model is fitted). Runs inside the build transaction."""
    description: str = ""


INT, DBL, MONEY, TEXT, TIME, DAY, BOOL = (
    ColumnType.INTEGER,
    ColumnType.DOUBLE,
    ColumnType.MONEY,
    ColumnType.STRING,
    ColumnType.TIMESTAMP,
    ColumnType.DATE,
    ColumnType.BOOLEAN,
)


def _email_window_traits() -> list[Trait]:
    traits: list[Trait] = []
    for days in EMAIL_WINDOWS:
        traits += [
            Trait(
                f"email_delivered_{days}d",
                INT,
                f"Distinct emails delivered in the last {days} days.",
                "email",
                "count",
            ),
            Trait(
                f"email_opened_{days}d",
                INT,
                f"Distinct emails opened in the last {days} days.",
                "email",
                "count",
            ),
            Trait(
                f"email_clicked_{days}d",
                INT,
                f"Distinct emails with a link clicked in the last {days} days.",
                "email",
                "count",
            ),
            Trait(
                f"email_open_rate_{days}d",
                DBL,
                f"email_opened_{days}d / email_delivered_{days}d, at most 1; NULL when "
                "nothing was delivered.",
                "email",
                "share",
            ),
            Trait(
                f"email_click_rate_{days}d",
                DBL,
                f"email_clicked_{days}d / email_delivered_{days}d, at most 1; NULL when "
                "nothing was delivered.",
                "email",
                "share",
            ),
        ]
    return traits


def _order_window_traits() -> list[Trait]:
    traits: list[Trait] = []
    for days in ORDER_WINDOWS:
        traits += [
            Trait(
                f"order_count_{days}d",
                INT,
                f"Purchases in the last {days} days.",
                "orders",
                "count",
            ),
            Trait(
                f"spend_{days}d",
                MONEY,
                f"Net spend (total less refunds) of purchases in the last {days} days.",
                "orders",
                "currency",
            ),
        ]
    return traits


#: The core traits, in the column order of the ``profiles`` table.
CORE_TRAITS: tuple[Trait, ...] = (
    # -- identity --------------------------------------------------------------------------
    Trait("profile_id", TEXT, "The person's id from identity resolution.", "identity"),
    Trait("as_of", TIME, "Build date: only data up to this time (UTC) was used.", "identity"),
    Trait(
        "customer_id",
        TEXT,
        "Primary customer id: the oldest customer account of the person.",
        "identity",
    ),
    Trait(
        "email",
        TEXT,
        "Primary email: the primary customer record's, else the most recently "
        "seen email identifier.",
        "identity",
    ),
    Trait(
        "phone",
        TEXT,
        "Most recently seen phone identifier (E.164), else the primary customer "
        "record's phone as written.",
        "identity",
    ),
    Trait(
        "customer_id_count",
        INT,
        "Customer ids (accounts) merged into this person.",
        "identity",
        "count",
    ),
    Trait("email_count", INT, "Email addresses known for this person.", "identity", "count"),
    Trait("phone_count", INT, "Phone numbers known for this person.", "identity", "count"),
    Trait(
        "anonymous_id_count",
        INT,
        "Anonymous visitor ids (cookies, devices) of this person.",
        "identity",
        "count",
    ),
    Trait(
        "identified",
        BOOL,
        "True when a customer id, email or phone is known (not only an anonymous visitor).",
        "identity",
    ),
    Trait(
        "first_seen_at", TIME, "Earliest time any identifier of the person was seen.", "identity"
    ),
    # -- customer records --------------------------------------------------------------------
    Trait("first_name", TEXT, "Given name (customer records).", "demographics"),
    Trait("last_name", TEXT, "Family name (customer records).", "demographics"),
    Trait("gender", TEXT, "Gender as the store records it, lower-cased.", "demographics"),
    Trait("birth_date", DAY, "Date of birth.", "demographics"),
    Trait(
        "age",
        INT,
        "Age in whole years on the build date; NULL when unknown or the birth date "
        "is after the build date.",
        "demographics",
        "years",
    ),
    Trait(
        "age_band",
        TEXT,
        "Age band of `age`.",
        "demographics",
        choices=tuple(b[0] for b in AGE_BANDS),
    ),
    Trait(
        "marital_status",
        TEXT,
        "Marital status as the store records it, lower-cased.",
        "demographics",
    ),
    Trait("city", TEXT, "City.", "demographics"),
    Trait("region", TEXT, "State, province or region.", "demographics"),
    Trait("country", TEXT, "Country code or name.", "demographics"),
    Trait(
        "accepts_marketing",
        BOOL,
        "Marketing consent over all the person's customer records "
        "(see the consent rule); False or NULL is never synced for marketing.",
        "demographics",
    ),
    Trait(
        "created_at", TIME, "When the person's first customer account was created.", "demographics"
    ),
    # -- orders ------------------------------------------------------------------------------
    Trait("first_order_at", TIME, "Time of the first purchase.", "orders"),
    Trait("last_order_at", TIME, "Time of the latest purchase.", "orders"),
    Trait(
        "order_count", INT, "Purchases: completed and partially refunded orders.", "orders", "count"
    ),
    Trait(
        "total_spend",
        MONEY,
        "Net spend: purchase totals less amounts refunded on them.",
        "orders",
        "currency",
    ),
    Trait(
        "average_order_value",
        MONEY,
        "total_spend / order_count, rounded to 4 decimals.",
        "orders",
        "currency",
    ),
    *_order_window_traits(),
    Trait(
        "average_days_between_orders",
        DBL,
        "Mean gap between consecutive purchases "
        "((last - first) / (order_count - 1)); NULL below two purchases.",
        "orders",
        "days",
    ),
    Trait(
        "median_days_between_orders",
        DBL,
        "Median gap between consecutive purchases; NULL below two purchases.",
        "orders",
        "days",
    ),
    Trait(
        "days_since_first_order",
        INT,
        "Calendar days (UTC) from the first purchase to the build date.",
        "orders",
        "days",
    ),
    Trait(
        "days_since_last_order",
        INT,
        "Calendar days (UTC) from the latest purchase to the build date.",
        "orders",
        "days",
    ),
    Trait(
        "discount_order_share",
        DBL,
        "Share of purchases with an order discount, a coupon code or a discounted line.",
        "orders",
        "share",
    ),
    Trait(
        "full_price_line_share",
        DBL,
        "Share of purchased lines bought at full price; NULL "
        "when the purchases have no line items.",
        "orders",
        "share",
    ),
    Trait("refund_count", INT, "Orders refunded in full or in part.", "orders", "count"),
    Trait("refunded_amount", MONEY, "Amount refunded over all orders.", "orders", "currency"),
    Trait("cancelled_count", INT, "Cancelled orders (not purchases).", "orders", "count"),
    Trait("pending_count", INT, "Orders still pending (not purchases yet).", "orders", "count"),
    Trait("category_count", INT, "Distinct product categories purchased.", "orders", "count"),
    Trait(
        "top_category",
        TEXT,
        "Category with the highest spend (see profile_category_stats).",
        "orders",
    ),
    Trait(
        "top_category_spend_share", DBL, "Share of line spend in top_category.", "orders", "share"
    ),
    Trait(
        "top_category_order_share",
        DBL,
        "Share of purchases with a line in top_category.",
        "orders",
        "share",
    ),
    Trait("top_product_line", TEXT, "Product line with the highest spend.", "orders"),
    Trait(
        "top_product_line_spend_share",
        DBL,
        "Share of line spend in top_product_line.",
        "orders",
        "share",
    ),
    Trait(
        "top_product_line_order_share",
        DBL,
        "Share of purchases with a line in top_product_line.",
        "orders",
        "share",
    ),
    # -- web ---------------------------------------------------------------------------------
    Trait(
        "sessions",
        INT,
        "Web sessions (a session ends after the configured minutes without an event).",
        "web",
        "count",
    ),
    Trait("sessions_30d", INT, "Web sessions started in the last 30 days.", "web", "count"),
    Trait(
        "web_active_days_30d",
        INT,
        "Calendar days (UTC) with web activity in the last 30 days.",
        "web",
        "count",
    ),
    Trait(
        "visits_per_month",
        DBL,
        "Sessions per 30 days over the observed window (see the web rules).",
        "web",
        "count",
    ),
    Trait(
        "average_session_minutes",
        DBL,
        "Mean session length (first to last event); a one-event session lasts 0.",
        "web",
        "minutes",
    ),
    Trait("page_views", INT, "Page and screen calls.", "web", "count"),
    Trait("product_views", INT, "Product view events.", "web", "count"),
    Trait("product_views_30d", INT, "Product view events in the last 30 days.", "web", "count"),
    Trait("add_to_carts", INT, "Add-to-cart events.", "web", "count"),
    Trait("add_to_carts_30d", INT, "Add-to-cart events in the last 30 days.", "web", "count"),
    Trait("first_seen_web_at", TIME, "First web event.", "web"),
    Trait("last_seen_at", TIME, "Latest web event.", "web"),
    Trait("last_product_view_at", TIME, "Latest product view.", "web"),
    Trait("last_add_to_cart_at", TIME, "Latest add-to-cart.", "web"),
    Trait(
        "has_open_cart",
        BOOL,
        "An add-to-cart with no order and no Order Completed event at or after it.",
        "web",
    ),
    # -- email -------------------------------------------------------------------------------
    *_email_window_traits(),
    Trait("last_email_open_at", TIME, "Latest email open.", "email"),
    Trait("last_email_click_at", TIME, "Latest email link click.", "email"),
    Trait("last_email_engagement_at", TIME, "Latest email open or click.", "email"),
    # -- reviews -----------------------------------------------------------------------------
    Trait("review_count", INT, "Reviews written.", "reviews", "count"),
    Trait("average_rating", DBL, "Mean review rating.", "reviews", "rating"),
    Trait("lowest_rating", INT, "Lowest review rating.", "reviews", "rating"),
    Trait("last_rating", INT, "Rating of the latest review.", "reviews", "rating"),
    Trait("last_review_at", TIME, "Time of the latest review.", "reviews"),
    # -- tickets -----------------------------------------------------------------------------
    Trait("ticket_count", INT, "Support tickets opened.", "tickets", "count"),
    Trait(
        "open_ticket_count", INT, "Tickets whose status is not a closed status.", "tickets", "count"
    ),
    Trait("last_ticket_at", TIME, "When the latest ticket was opened.", "tickets"),
    # -- RFM ---------------------------------------------------------------------------------
    Trait(
        "recency_score",
        INT,
        "1-5: more recent last purchase scores higher (buyers only).",
        "rfm",
        "score",
    ),
    Trait(
        "frequency_score", INT, "1-5: more purchases score higher (buyers only).", "rfm", "score"
    ),
    Trait(
        "monetary_score",
        INT,
        "1-5: higher total_spend scores higher (buyers only).",
        "rfm",
        "score",
    ),
    Trait("fm_score", INT, "(frequency_score + monetary_score) / 2, rounded down.", "rfm", "score"),
    Trait("rfm_cell", TEXT, "The three scores as one code, recency first (e.g. '543').", "rfm"),
    Trait(
        "rfm_segment",
        TEXT,
        "Named RFM segment from recency_score and fm_score (see the RFM map).",
        "rfm",
        choices=RFM_SEGMENTS,
    ),
    # -- lifecycle ---------------------------------------------------------------------------
    Trait(
        "lifecycle_stage",
        TEXT,
        "prospect, new, active, loyal, at_risk or lapsed (see the lifecycle rules).",
        "lifecycle",
        choices=LIFECYCLE_STAGES,
    ),
    Trait(
        "purchase_interval_days",
        DBL,
        "The purchase rhythm the person is measured against: "
        "their own average gap, or the store's median gap.",
        "lifecycle",
        "days",
    ),
    Trait("overdue_ratio", DBL, "days_since_last_order / purchase_interval_days.", "lifecycle"),
    Trait(
        "last_engagement_at",
        TIME,
        "Latest order, web event, email open or click, review or ticket.",
        "lifecycle",
    ),
    Trait(
        "days_since_last_engagement",
        INT,
        "Calendar days (UTC) from last_engagement_at to the build date.",
        "lifecycle",
        "days",
    ),
)

#: Columns of ``profile_category_stats``: one row per person and category or product line.
CATEGORY_STATS_COLUMNS: tuple[Trait, ...] = (
    Trait("profile_id", TEXT, "The person.", "identity"),
    Trait(
        "dimension",
        TEXT,
        "'category' or 'product_line'.",
        "orders",
        choices=("category", "product_line"),
    ),
    Trait("value", TEXT, "The category or product line.", "orders"),
    Trait("orders", INT, "Purchases with at least one line in it.", "orders", "count"),
    Trait(
        "spend",
        MONEY,
        "Line spend in it (quantity x unit price less line discount).",
        "orders",
        "currency",
    ),
    Trait("order_share", DBL, "orders / the person's order_count.", "orders", "share"),
    Trait("spend_share", DBL, "spend / the person's line spend over all lines.", "orders", "share"),
    Trait("first_order_at", TIME, "First purchase with a line in it.", "orders"),
    Trait("last_order_at", TIME, "Latest purchase with a line in it.", "orders"),
)


def _email_stats_columns() -> tuple[Trait, ...]:
    columns = [
        Trait("profile_id", TEXT, "The person.", "identity"),
        Trait("category", TEXT, "The email's `category` property.", "email"),
    ]
    for days in EMAIL_WINDOWS:
        columns += [
            Trait(
                f"delivered_{days}d",
                INT,
                f"Distinct emails delivered in the last {days} days.",
                "email",
                "count",
            ),
            Trait(
                f"opened_{days}d",
                INT,
                f"Distinct emails opened in the last {days} days.",
                "email",
                "count",
            ),
            Trait(
                f"clicked_{days}d",
                INT,
                f"Distinct emails clicked in the last {days} days.",
                "email",
                "count",
            ),
            Trait(
                f"open_rate_{days}d",
                DBL,
                f"opened_{days}d / delivered_{days}d, at most 1.",
                "email",
                "share",
            ),
            Trait(
                f"click_rate_{days}d",
                DBL,
                f"clicked_{days}d / delivered_{days}d, at most 1.",
                "email",
                "share",
            ),
        ]
    columns += [
        Trait("last_open_at", TIME, "Latest open in this category.", "email"),
        Trait("last_click_at", TIME, "Latest click in this category.", "email"),
    ]
    return tuple(columns)


#: Columns of ``profile_email_stats``: one row per person and email category.
EMAIL_STATS_COLUMNS: tuple[Trait, ...] = _email_stats_columns()


@dataclass
class _Registry:
    extensions: dict[str, ProfileExtension] = field(default_factory=dict)


_REGISTRY = _Registry()


def register_extension(extension: ProfileExtension) -> None:
    """Add an extension's traits to the catalogue (and to the ``profiles`` table).

    Registering the same extension name again replaces it, so a module can be reloaded.
    Trait names must not clash with core traits or another extension's.
    """
    taken = {t.name: "core" for t in CORE_TRAITS}
    for other in _REGISTRY.extensions.values():
        if other.name != extension.name:
            taken.update({t.name: other.name for t in other.traits})
    for trait in extension.traits:
        if trait.name in taken:
            raise ValueError(
                f"extension {extension.name!r}: trait {trait.name!r} already belongs to "
                f"{taken[trait.name]!r}"
            )
        taken[trait.name] = extension.name
    _REGISTRY.extensions[extension.name] = extension


def unregister_extension(name: str) -> None:
    """Remove a registered extension (its columns disappear from the next build)."""
    _REGISTRY.extensions.pop(name, None)


def extensions() -> tuple[ProfileExtension, ...]:
    """Registered extensions, in registration order."""
    return tuple(_REGISTRY.extensions.values())


def profile_traits() -> tuple[Trait, ...]:
    """Every column of the ``profiles`` table, in order: core traits, then extensions'."""
    extra = [t for ext in _REGISTRY.extensions.values() for t in ext.traits]
    return (*CORE_TRAITS, *extra)


def trait(name: str) -> Trait:
    """Look a profile trait up by name, with a helpful error."""
    for t in profile_traits():
        if t.name == name:
            return t
    raise KeyError(f"unknown profile trait {name!r}")


def traits_by_source(traits: Sequence[Trait]) -> dict[str, list[Trait]]:
    """Traits grouped by source, sources in catalogue order."""
    grouped: dict[str, list[Trait]] = {s: [] for s in SOURCES}
    for t in traits:
        grouped[t.source].append(t)
    return {s: ts for s, ts in grouped.items() if ts}


#: The long tables of a build, by table name.
LONG_TABLES: dict[str, tuple[Trait, ...]] = {
    "profile_category_stats": CATEGORY_STATS_COLUMNS,
    "profile_email_stats": EMAIL_STATS_COLUMNS,
}
