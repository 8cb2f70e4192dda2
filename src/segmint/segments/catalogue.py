"""What a segment may refer to: profile traits (from the profile catalogue) and event names.

The segment compiler and validator only need a trait's name, its kind (number, text, boolean,
time), its unit and its allowed values; :class:`Catalogue` holds exactly that, built from the
profile module's trait catalogue (:func:`load_catalogue`) or, in tests, from a plain list.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

TraitKind = Literal["number", "text", "boolean", "time"]

#: Event names of the Segment tracking spec (e-commerce, email, and page/screen calls), known
#: before any event of that name has arrived.
SPEC_EVENTS: tuple[str, ...] = (
    "Page Viewed",
    "Screen Viewed",
    "Products Searched",
    "Product List Viewed",
    "Product List Filtered",
    "Promotion Viewed",
    "Promotion Clicked",
    "Product Clicked",
    "Product Viewed",
    "Product Added",
    "Product Removed",
    "Cart Viewed",
    "Checkout Started",
    "Checkout Step Viewed",
    "Checkout Step Completed",
    "Payment Info Entered",
    "Order Updated",
    "Order Completed",
    "Order Refunded",
    "Order Cancelled",
    "Coupon Entered",
    "Coupon Applied",
    "Coupon Denied",
    "Coupon Removed",
    "Product Added to Wishlist",
    "Product Removed from Wishlist",
    "Wishlist Product Added to Cart",
    "Product Shared",
    "Cart Shared",
    "Product Reviewed",
    "Email Delivered",
    "Email Opened",
    "Email Link Clicked",
    "Email Bounced",
    "Email Marked as Spam",
    "Unsubscribed",
    "Signed Up",
    "Signed In",
    "Signed Out",
)

#: Page and screen calls have no event name; segments refer to them by these names.
PAGE_EVENT = "Page Viewed"
SCREEN_EVENT = "Screen Viewed"

_KIND_OF_TYPE: dict[str, TraitKind] = {
    "integer": "number",
    "int": "number",
    "bigint": "number",
    "double": "number",
    "float": "number",
    "number": "number",
    "numeric": "number",
    "decimal": "number",
    "money": "number",
    "percent": "number",
    "ratio": "number",
    "rate": "number",
    "score": "number",
    "count": "number",
    "string": "text",
    "text": "text",
    "varchar": "text",
    "email": "text",
    "category": "text",
    "enum": "text",
    "boolean": "boolean",
    "bool": "boolean",
    "timestamp": "time",
    "datetime": "time",
    "date": "time",
    "time": "time",
}


@dataclass(frozen=True)
class TraitInfo:
    """One profile trait as segments see it: a column of the profiles table."""

    name: str
    kind: TraitKind
    description: str = ""
    unit: str | None = None
    choices: tuple[str, ...] = ()
    """Known values of a text trait (e.g. RFM segment names); empty when open-ended."""


@dataclass
class Catalogue:
    """Traits and event names a definition may use."""

    traits: dict[str, TraitInfo]
    events: frozenset[str] = field(default_factory=lambda: frozenset(SPEC_EVENTS))

    @classmethod
    def from_traits(cls, traits: Iterable[TraitInfo], events: Iterable[str] = ()) -> Catalogue:
        return cls({t.name: t for t in traits}, frozenset(SPEC_EVENTS) | frozenset(events))

    def trait(self, name: str) -> TraitInfo | None:
        return self.traits.get(name)

    def suggest_trait(self, name: str) -> str | None:
        """The known trait name closest to ``name`` (for "did you mean ...?")."""
        return nearest(name, self.traits)

    def suggest_event(self, name: str) -> str | None:
        # Event names differ mostly in case and spacing; compare them lower-cased.
        by_lower = {e.lower(): e for e in self.events}
        match = nearest(name.lower(), by_lower)
        return by_lower[match] if match else None

    def has_event(self, name: str) -> bool:
        return name in self.events


def nearest(name: str, known: Iterable[str]) -> str | None:
    """The closest known name by :mod:`difflib`, or None when nothing is close."""
    matches = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return matches[0] if matches else None


def trait_kind(type_name: str) -> TraitKind:
    """The segment kind of a catalogue type name (``money`` → number, ``timestamp`` → time)."""
    kind = _KIND_OF_TYPE.get(type_name.lower().split("(")[0].strip())
    if kind is None:
        raise ValueError(f"trait type {type_name!r} has no segment kind")
    return kind


def traits_from_specs(specs: Sequence[Any]) -> list[TraitInfo]:
    """Adapt trait specs of the profile catalogue (objects with name, type, unit, description).

    Specs whose type segments cannot compare (JSON, lists) are left out.
    """
    infos = []
    for spec in specs:
        type_name = getattr(spec, "type", None)
        type_name = getattr(type_name, "value", type_name)  # an Enum member or a plain string
        try:
            kind = trait_kind(str(type_name))
        except ValueError:
            continue
        choices = getattr(spec, "choices", None) or getattr(spec, "values", None) or ()
        infos.append(
            TraitInfo(
                name=str(spec.name),
                kind=kind,
                description=str(getattr(spec, "description", "") or ""),
                unit=getattr(spec, "unit", None) or None,
                choices=tuple(str(c) for c in choices),
            )
        )
    return infos
