"""The canonical data model: every table segmint keeps, its columns, keys and validation rules.

This module is the single source of truth for the warehouse layout. The engines create tables
from it, the importers validate rows against it, and ``docs/data-model.md`` is generated from it
(``segmint docs data-model``; a test fails when the committed file is out of date).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ColumnType(StrEnum):
    """Logical column types; each engine maps them to its own SQL types."""

    STRING = "string"
    EMAIL = "email"  # a string that must look like an address; stored trimmed and lower-cased
    INTEGER = "integer"
    DOUBLE = "double"
    MONEY = "money"  # exact decimal, DECIMAL(18, 4): room for three-decimal currencies
    TIMESTAMP = "timestamp"  # stored in UTC without zone; input offsets are converted
    DATE = "date"
    BOOLEAN = "boolean"
    JSON = "json"  # a JSON object stored as text


@dataclass(frozen=True)
class Column:
    """One column of a canonical table."""

    name: str
    type: ColumnType
    description: str
    required: bool = False
    minimum: float | None = None
    """Smallest allowed value (numbers); rows below it are quarantined."""
    maximum: float | None = None
    exclusive_minimum: bool = False
    """When true the value must be strictly greater than ``minimum``."""
    choices: tuple[str, ...] = ()
    """Allowed values (compared lower-cased); empty means any value."""


@dataclass(frozen=True)
class Table:
    """A canonical table: what a kind of import lands in."""

    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    """Natural key: re-imports upsert on it, so the same row never lands twice."""
    one_of: tuple[tuple[str, ...], ...] = ()
    """Groups of columns of which at least one must be set (e.g. customer id or email)."""
    system_columns: tuple[Column, ...] = field(default=())

    def column(self, name: str) -> Column:
        for col in self.all_columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def all_columns(self) -> tuple[Column, ...]:
        return self.columns + self.system_columns

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


S, E, INT, D, M, T, DT, B, J = (
    ColumnType.STRING,
    ColumnType.EMAIL,
    ColumnType.INTEGER,
    ColumnType.DOUBLE,
    ColumnType.MONEY,
    ColumnType.TIMESTAMP,
    ColumnType.DATE,
    ColumnType.BOOLEAN,
    ColumnType.JSON,
)

LOADED_AT = Column("_loaded_at", T, "When segmint last wrote this row (UTC).")
IMPORT_ID = Column("_import_id", S, "The import run that last wrote this row (see `imports`).")
SYSTEM = (LOADED_AT, IMPORT_ID)

ORDER_STATUSES = ("completed", "pending", "refunded", "partially_refunded", "cancelled")
#: Order statuses that count as a purchase (an order with no status is taken as completed).
#: Refunded and cancelled orders are not purchases: they are counted separately.
PURCHASE_STATUSES = ("completed", "partially_refunded")
EVENT_TYPES = ("track", "identify", "page", "screen", "group", "alias")

CUSTOMERS = Table(
    name="customers",
    description="People the store knows, from its customer list or export.",
    key=("customer_id",),
    columns=(
        Column("customer_id", S, "The store's customer id.", required=True),
        Column("email", E, "Email address, trimmed and lower-cased."),
        Column("phone", S, "Phone number as given; identity resolution normalises it to E.164."),
        Column("first_name", S, "Given name."),
        Column("last_name", S, "Family name."),
        Column("gender", S, "Gender as the store records it (e.g. female, male, other)."),
        Column("birth_date", DT, "Date of birth."),
        Column("marital_status", S, "Marital status as the store records it."),
        Column("city", S, "City."),
        Column("region", S, "State, province or region."),
        Column("country", S, "Country code or name."),
        Column("postal_code", S, "Postal code."),
        Column("created_at", T, "When the customer account was created (UTC)."),
        Column(
            "accepts_marketing",
            B,
            "Marketing consent. False means opted out: never synced to marketing destinations.",
        ),
        Column("marketing_consent_updated_at", T, "When the consent last changed (UTC)."),
        Column("attributes", J, "Custom attributes as a JSON object."),
    ),
    system_columns=SYSTEM,
)

PRODUCTS = Table(
    name="products",
    description="The product catalogue.",
    key=("product_id",),
    columns=(
        Column("product_id", S, "The store's product id.", required=True),
        Column("sku", S, "Stock keeping unit."),
        Column("name", S, "Product name."),
        Column("category", S, "Category (e.g. apparel, shoes)."),
        Column("product_line", S, "Product line or collection, for cross-sell segments."),
        Column("price", M, "List price.", minimum=0),
        Column("currency", S, "ISO 4217 currency code of the price."),
    ),
    system_columns=SYSTEM,
)

ORDERS = Table(
    name="orders",
    description="Orders. The customer is referenced by id, by email, or both.",
    key=("order_id",),
    one_of=(("customer_id", "email"),),
    columns=(
        Column(
            "order_id", S, "The store's order id (e.g. Shopify's order name #1001).", required=True
        ),
        Column("customer_id", S, "Customer id, when known."),
        Column("email", E, "Email given at checkout."),
        Column("ordered_at", T, "When the order was placed (UTC).", required=True),
        Column(
            "status",
            S,
            "Order status: completed, pending, refunded, partially_refunded or cancelled.",
            choices=ORDER_STATUSES,
        ),
        Column("currency", S, "ISO 4217 currency code."),
        Column("subtotal", M, "Sum of line prices before order-level discounts.", minimum=0),
        Column("discount_amount", M, "Total discount on the order.", minimum=0),
        Column("shipping", M, "Shipping charged.", minimum=0),
        Column("tax", M, "Tax charged.", minimum=0),
        Column("total", M, "Amount paid.", minimum=0, required=True),
        Column("refunded_amount", M, "Amount refunded so far.", minimum=0),
        Column("coupon_code", S, "Discount or coupon code used, if any."),
        Column("channel", S, "Sales channel (web, pos, marketplace...)."),
    ),
    system_columns=SYSTEM,
)

ORDER_LINES = Table(
    name="order_lines",
    description="Line items of orders.",
    key=("order_id", "line_number"),
    columns=(
        Column("order_id", S, "The order this line belongs to.", required=True),
        Column(
            "line_number",
            INT,
            "Position of the line in its order, from 1. When absent, numbered in file order.",
            required=True,
            minimum=1,
        ),
        Column("product_id", S, "Product id."),
        Column("sku", S, "SKU (used to find the product when no id is given)."),
        Column("product_name", S, "Product name as sold."),
        Column(
            "quantity",
            INT,
            "Units bought (more than zero).",
            required=True,
            minimum=0,
            exclusive_minimum=True,
        ),
        Column("unit_price", M, "Price per unit before discount.", required=True, minimum=0),
        Column("discount", M, "Discount on this line.", minimum=0),
        Column("full_price", B, "True when bought without any discount or markdown."),
    ),
    system_columns=SYSTEM,
)

EVENTS = Table(
    name="events",
    description=(
        "Behavioural events shaped as the Segment tracking spec: page views, product views, "
        "add to cart, checkout, email delivered/opened/clicked and custom events."
    ),
    key=("message_id",),
    one_of=(("anonymous_id", "user_id"),),
    columns=(
        Column(
            "message_id",
            S,
            "Unique message id; re-sent events are deduplicated on it.",
            required=True,
        ),
        Column(
            "type",
            S,
            "Call type: track, identify, page, screen, group or alias.",
            required=True,
            choices=EVENT_TYPES,
        ),
        Column("event", S, "Event name for track calls (e.g. Product Viewed, Email Opened)."),
        Column("anonymous_id", S, "Anonymous visitor id (cookie or device)."),
        Column("user_id", S, "Known user id (the store's customer id)."),
        Column("previous_id", S, "For alias calls: the id being linked to user_id."),
        Column("timestamp", T, "When the event happened (UTC).", required=True),
        Column("properties", J, "Event properties (JSON object)."),
        Column("traits", J, "Identify traits (JSON object), e.g. email and phone."),
        Column("context", J, "Context (JSON object): page, campaign, user agent, ip..."),
        Column("received_at", T, "When segmint received the event (UTC)."),
    ),
    system_columns=SYSTEM,
)

REVIEWS = Table(
    name="reviews",
    description="Product reviews from review platforms.",
    key=("review_id",),
    one_of=(("customer_id", "email"),),
    columns=(
        Column("review_id", S, "Review id at its source.", required=True),
        Column("customer_id", S, "Reviewer's customer id, when known."),
        Column("email", E, "Reviewer's email."),
        Column("product_id", S, "Reviewed product."),
        Column("rating", INT, "Rating from 1 to 5.", required=True, minimum=1, maximum=5),
        Column("title", S, "Review title."),
        Column("body", S, "Review text."),
        Column("source", S, "Platform the review came from (e.g. trustpilot, yotpo)."),
        Column("reviewed_at", T, "When the review was written (UTC).", required=True),
    ),
    system_columns=SYSTEM,
)

TICKETS = Table(
    name="tickets",
    description="Customer support tickets.",
    key=("ticket_id",),
    one_of=(("customer_id", "email"),),
    columns=(
        Column("ticket_id", S, "Ticket id in the helpdesk.", required=True),
        Column("customer_id", S, "Customer id, when known."),
        Column("email", E, "Requester's email."),
        Column("created_at", T, "When the ticket was opened (UTC).", required=True),
        Column("status", S, "Ticket status (open, pending, solved, closed...)."),
        Column("subject", S, "Ticket subject."),
        Column("channel", S, "How it came in (email, chat, phone...)."),
    ),
    system_columns=SYSTEM,
)

QUARANTINE = Table(
    name="quarantine",
    description="Rejected input rows, kept with the reason so nothing is silently lost.",
    key=("import_id", "row_number"),
    columns=(
        Column("import_id", S, "The import run that rejected the row.", required=True),
        Column("kind", S, "What was being imported (orders, customers...).", required=True),
        Column("file", S, "Path of the file the row came from.", required=True),
        Column(
            "row_number",
            INT,
            "Data row number in the file, from 1 (the header is row 0).",
            required=True,
        ),
        Column("raw", S, "The row as read, as JSON (or the raw line when it could not be split)."),
        Column("reason", S, "Why the row was rejected.", required=True),
        Column("quarantined_at", T, "When it was rejected (UTC).", required=True),
    ),
)

IMPORTS = Table(
    name="imports",
    description="One row per import run: what was read, written and rejected.",
    key=("import_id",),
    columns=(
        Column("import_id", S, "Run id.", required=True),
        Column("kind", S, "What was imported.", required=True),
        Column("file", S, "Path of the file.", required=True),
        Column("format", S, "csv, parquet, jsonl, shopify-orders, shopify-customers or mapped."),
        Column("started_at", T, "Start (UTC).", required=True),
        Column("finished_at", T, "End (UTC)."),
        Column("rows_read", INT, "Data rows read."),
        Column("inserted", INT, "Rows new to the table."),
        Column("updated", INT, "Rows that replaced an existing row with the same key."),
        Column("rejected", INT, "Rows sent to quarantine."),
    ),
)

#: Tables a user imports into, by the KIND name the CLI takes.
IMPORTABLE: dict[str, Table] = {
    t.name: t for t in (CUSTOMERS, PRODUCTS, ORDERS, ORDER_LINES, EVENTS, REVIEWS, TICKETS)
}

#: Every table of the warehouse, in creation order.
ALL_TABLES: tuple[Table, ...] = (*IMPORTABLE.values(), QUARANTINE, IMPORTS)


def table(name: str) -> Table:
    """Look a canonical table up by name, with a helpful error."""
    for t in ALL_TABLES:
        if t.name == name:
            return t
    known = ", ".join(t.name for t in ALL_TABLES)
    raise KeyError(f"unknown table {name!r}; known tables: {known}")
