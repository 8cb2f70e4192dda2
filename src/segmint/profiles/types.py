"""What the profile module reports back: build results, a person's view, summaries."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from segmint.errors import SegmintError


class ProfilesError(SegmintError):
    """Profiles cannot be built, found or exported as asked."""


@dataclass
class BuildIssues:
    """Input rows the build could not attribute to a person, counted (never dropped silently).

    Each count covers rows up to the build date. Rows after the build date are not issues:
    they are counted in :attr:`ProfileBuildResult.after_as_of`.
    """

    unresolved_customers: int = 0
    """Customer records identity resolution gave no profile."""
    unresolved_orders: int = 0
    """Orders whose customer id / email resolved to no profile."""
    unresolved_order_total: str = "0"
    """Sum of those orders' totals (exact decimal, as text)."""
    orphan_order_lines: int = 0
    """Line items whose order_id is in no order."""
    purchases_without_lines: int = 0
    """Purchases with no line items: they count for orders and spend but not for category
    stats or full-price share."""
    lines_without_category: int = 0
    """Purchased lines whose product is unknown or has no category: spend without category."""
    events_without_ids: int = 0
    """Events with neither anonymous_id nor user_id."""
    unresolved_events: int = 0
    """Events (with an id) that resolved to no profile."""
    unresolved_reviews: int = 0
    unresolved_tickets: int = 0

    def total(self) -> int:
        return (
            self.unresolved_customers
            + self.unresolved_orders
            + self.orphan_order_lines
            + self.events_without_ids
            + self.unresolved_events
            + self.unresolved_reviews
            + self.unresolved_tickets
        )


@dataclass
class ProfileBuildResult:
    """What one profile build did."""

    build_id: str
    as_of: datetime
    prefix: str
    profiles: int = 0
    identified: int = 0
    buyers: int = 0
    category_rows: int = 0
    email_category_rows: int = 0
    store_median_gap_days: float | None = None
    """The store's median days between consecutive purchases (the lifecycle rhythm)."""
    issues: BuildIssues = field(default_factory=BuildIssues)
    after_as_of: dict[str, int] = field(default_factory=dict)
    """Rows left out because they are later than the build date, per source table."""
    identity: dict[str, Any] | None = None
    """The identity build's own result, when the build ran it."""
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per build step."""
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["as_of"] = self.as_of.isoformat(sep=" ")
        return data


@dataclass
class ProfileView:
    """Everything segmint knows about one person."""

    profile_id: str
    traits: dict[str, Any]
    identifiers: list[dict[str, Any]]
    merges: list[dict[str, Any]]
    category_stats: list[dict[str, Any]]
    email_stats: list[dict[str, Any]]
    timeline: list[dict[str, Any]]
    """Orders, events, reviews and tickets up to the build date, newest first."""
    timeline_truncated: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ProfileSummary:
    """The customer base at a glance."""

    as_of: datetime | None
    profiles: int
    identified: int
    buyers: int
    orders: int
    revenue: str
    """Net revenue of purchases (exact decimal, as text)."""
    average_order_value: str | None
    repeat_rate: float | None
    """Share of buyers with two or more purchases."""
    opted_out: int
    rfm_segments: dict[str, int]
    lifecycle_stages: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["as_of"] = self.as_of.isoformat(sep=" ") if self.as_of else None
        return data


@dataclass
class ExportResult:
    """A table written to a file."""

    table: str
    path: str
    format: str
    rows: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
