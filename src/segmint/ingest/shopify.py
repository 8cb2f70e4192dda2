"""Shopify's export CSVs: the order export (orders and their line items) and the customer export.

The order export has one row per line item. Order-level columns (totals, status, discount
code, dates) are filled on the first row of an order and repeated or blank on the rows after
it, so an order is read from its first row in the file and every row becomes a line item.
Line items carry no number of their own: they are numbered 1, 2, 3... in file order per order.

Status: ``Cancelled at`` set -> cancelled; else by ``Financial Status``: paid -> completed;
pending, authorized, partially_paid, unpaid -> pending; refunded -> refunded;
partially_refunded -> partially_refunded; voided, expired -> cancelled. Any other value is
kept, and rejected as not a known status.

An order export does not create customers: its ``Accepts Marketing`` and billing columns
describe one checkout, and letting an old order override the consent a customer gave later
would be wrong. The order keeps its email (identity resolution links it to the customer);
consent and addresses come from the customer export.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from segmint.engines.base import Engine
from segmint.errors import ImportFileError
from segmint.ingest.plan import (
    ORDINAL,
    ImportPlan,
    TargetPlan,
    blank_to_null,
    first_set,
    line_numbers,
    snake_case,
    staged,
)
from segmint.ingest.validate import as_expression
from segmint.model.tables import CUSTOMERS, ORDER_LINES, ORDERS, ColumnType

SHOPIFY_ORDERS = "shopify-orders"
SHOPIFY_CUSTOMERS = "shopify-customers"

_ORDER_SIGNATURE = ("Name", "Financial Status", "Lineitem name")
_ORDER_REQUIRED = ("Name", "Created at", "Total", "Lineitem quantity", "Lineitem price")
_CUSTOMER_SIGNATURE = ("First Name", "Last Name", "Email")
_CUSTOMER_MARKETING = ("Accepts Email Marketing", "Accepts Marketing")
_CUSTOMER_TOTALS = ("Total Spent", "Total Orders")

_FINANCIAL_STATUS = {
    "paid": "completed",
    "pending": "pending",
    "authorized": "pending",
    "partially_paid": "pending",
    "unpaid": "pending",
    "refunded": "refunded",
    "partially_refunded": "partially_refunded",
    "voided": "cancelled",
    "expired": "cancelled",
}

#: Customer export columns with a canonical home; the rest go into ``attributes``.
#: Newer exports say "Default Address City", older ones "City".
_CUSTOMER_COLUMNS: dict[str, tuple[str, ...]] = {
    "email": ("Email",),
    "first_name": ("First Name",),
    "last_name": ("Last Name",),
    "phone": ("Phone", "Default Address Phone"),
    "city": ("Default Address City", "City"),
    "region": ("Default Address Province Code", "Province Code", "Province"),
    "country": ("Default Address Country Code", "Country Code", "Country"),
    "postal_code": ("Default Address Zip", "Zip"),
    "accepts_marketing": _CUSTOMER_MARKETING,
}
#: Values Shopify prefixes with an apostrophe so spreadsheets keep them as text.
_APOSTROPHE_PREFIXED = ("customer_id", "phone", "postal_code")


def detect_layout(fields: Sequence[str]) -> str | None:
    """``shopify-orders`` or ``shopify-customers`` when a CSV header is one of Shopify's."""
    have = {f.strip().lower() for f in fields}
    if all(c.lower() in have for c in _ORDER_SIGNATURE):
        return SHOPIFY_ORDERS
    if (
        all(c.lower() in have for c in _CUSTOMER_SIGNATURE)
        and any(c.lower() in have for c in _CUSTOMER_MARKETING)
        and any(c.lower() in have for c in _CUSTOMER_TOTALS)
    ):
        return SHOPIFY_CUSTOMERS
    return None


class _Header:
    """Shopify's columns by name, matched without regard to case or surrounding spaces."""

    def __init__(self, fields: Sequence[str]) -> None:
        self.fields = {f.strip().lower(): f for f in fields}

    def has(self, name: str) -> bool:
        return name.lower() in self.fields

    def field(self, name: str) -> str:
        return self.fields[name.lower()]

    def get(self, *names: str) -> exp.Expr | None:
        """The first of these columns the file has, blank as NULL."""
        present = [staged(self.field(n)) for n in names if self.has(n)]
        return first_set(*present) if present else None


def shopify_orders_plan(
    fields: Sequence[str], stage_table: str, engine: Engine, source: str
) -> ImportPlan:
    """Orders from each order's first row, and a line item from every row."""
    header = _Header(fields)
    missing = [c for c in _ORDER_REQUIRED if not header.has(c)]
    if missing:
        raise ImportFileError(
            f"{source} is not a complete Shopify orders export: no column {', '.join(missing)}"
        )
    name = header.get("Name")
    assert name is not None
    order_columns: dict[str, exp.Expr] = {"order_id": name}
    for canonical, column in (
        ("email", "Email"),
        ("ordered_at", "Created at"),
        ("currency", "Currency"),
        ("subtotal", "Subtotal"),
        ("discount_amount", "Discount Amount"),
        ("shipping", "Shipping"),
        ("tax", "Taxes"),
        ("total", "Total"),
        ("refunded_amount", "Refunded Amount"),
        ("coupon_code", "Discount Code"),
        ("channel", "Source"),
    ):
        value = header.get(column)
        if value is not None:
            order_columns[canonical] = value
    status = _order_status(header)
    if status is not None:
        order_columns["status"] = status

    # The first row of each order (by file order) carries the order-level values.
    first_rows = (
        exp.select(exp.Min(this=exp.column(ORDINAL, quoted=True)))
        .from_(stage_table)
        .group_by(blank_to_null(exp.column(header.field("Name"), quoted=True)))
    )
    first_row = exp.In(
        this=exp.column(ORDINAL, table="s", quoted=True), query=first_rows.subquery()
    )
    orders = TargetPlan(ORDERS, order_columns, where=first_row)

    line_columns: dict[str, exp.Expr] = {
        "order_id": name.copy(),
        "line_number": line_numbers(staged(header.field("Name"))),
    }
    for canonical, column in (
        ("sku", "Lineitem sku"),
        ("product_name", "Lineitem name"),
        ("quantity", "Lineitem quantity"),
        ("unit_price", "Lineitem price"),
        ("discount", "Lineitem discount"),
    ):
        value = header.get(column)
        if value is not None:
            line_columns[canonical] = value
    line_columns["full_price"] = _full_price(header, engine)
    lines = TargetPlan(ORDER_LINES, line_columns, parent=ORDERS.name)
    return ImportPlan(SHOPIFY_ORDERS, [orders, lines])


def shopify_customers_plan(fields: Sequence[str], source: str) -> ImportPlan:
    """Customers from Shopify's customer export; unmapped columns into ``attributes``."""
    header = _Header(fields)
    if not header.has("Email"):
        raise ImportFileError(f"{source} is not a Shopify customer export: no column Email")
    used: set[str] = set()
    columns: dict[str, exp.Expr] = {}
    for canonical, names in _CUSTOMER_COLUMNS.items():
        value = header.get(*names)
        if value is not None:
            columns[canonical] = value
            used.update(header.field(n) for n in names if header.has(n))
    if header.has("Customer ID"):
        columns["customer_id"] = header.get("Customer ID")  # type: ignore[assignment]
        used.add(header.field("Customer ID"))
    else:
        # Older exports have no id: the address, lower-cased, is the customer's key there.
        columns["customer_id"] = exp.Lower(this=columns["email"].copy())
    for canonical in _APOSTROPHE_PREFIXED:
        if canonical in columns:
            columns[canonical] = exp.RegexpReplace(
                this=columns[canonical],
                expression=exp.Literal.string("^'"),
                replacement=exp.Literal.string(""),
            )
    plan = TargetPlan(CUSTOMERS, columns)
    plan.extra_attributes = [
        (snake_case(f), blank_to_null(staged(f))) for f in fields if f not in used
    ]
    return ImportPlan(SHOPIFY_CUSTOMERS, [plan])


def _order_status(header: _Header) -> exp.Expr | None:
    financial = header.get("Financial Status")
    cancelled = header.get("Cancelled at")
    if financial is None and cancelled is None:
        return None
    case = exp.Case()
    if cancelled is not None:
        case = case.when(
            exp.not_(exp.Is(this=cancelled, expression=exp.Null())), exp.Literal.string("cancelled")
        )
    if financial is not None:
        lowered = exp.Lower(this=financial)
        for shopify, ours in _FINANCIAL_STATUS.items():
            case = case.when(
                exp.EQ(this=lowered.copy(), expression=exp.Literal.string(shopify)),
                exp.Literal.string(ours),
            )
        case = case.else_(financial.copy())
    return case


def _full_price(header: _Header, engine: Engine) -> exp.Expr:
    """'true' when a line sold at its price: no markdown from compare-at and no discount."""
    price = header.get("Lineitem price")
    compare_at = header.get("Lineitem compare at price")
    discount = header.get("Lineitem discount")
    conditions: list[exp.Expr] = []
    if compare_at is not None and price is not None:
        marked_down = exp.GT(
            this=engine.try_cast(as_expression(compare_at), ColumnType.MONEY),
            expression=engine.try_cast(as_expression(price), ColumnType.MONEY),
        )
        conditions.append(exp.func("coalesce", marked_down, exp.false()))
    if discount is not None:
        discounted = exp.GT(
            this=engine.try_cast(as_expression(discount), ColumnType.MONEY),
            expression=exp.Literal.number(0),
        )
        conditions.append(exp.func("coalesce", discounted, exp.false()))
    if not conditions:
        return exp.Literal.string("true")
    any_markdown = exp.or_(*conditions)
    return (
        exp.Case().when(any_markdown, exp.Literal.string("false")).else_(exp.Literal.string("true"))
    )
