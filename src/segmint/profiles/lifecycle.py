"""Lifecycle stages, relative to the store's own purchase rhythm.

Each buyer is measured against a *purchase interval*:

- their own average gap between purchases, once they have ``own_rhythm_min_orders`` purchases;
- otherwise the store's median gap between consecutive purchases of the same person (all
  repeat purchases up to the build date), or ``default_interval_days`` while the store has no
  repeat purchase yet;
- never less than ``minimum_interval_days``.

The first rule that holds gives the stage:

1. ``prospect``: no purchase (refunded or cancelled orders only, or none at all);
2. ``new``: first purchase less than ``new_customer_days`` days ago;
3. ``lapsed``: days since the last purchase > ``lapsed_multiplier`` x interval;
4. ``at_risk``: days since the last purchase > ``at_risk_multiplier`` x interval;
5. ``loyal``: at least ``loyal_min_orders`` purchases;
6. ``active``: every other buyer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from segmint.config import ProfilesConfig

#: SQL of ``purchase_interval_days`` over the joined order columns (``os``) and the average gap.
INTERVAL_SQL = """
CASE WHEN os.order_count > 0 THEN GREATEST(
  CASE WHEN os.order_count >= :own_rhythm_min_orders
       THEN (EPOCH(os.last_order_at) - EPOCH(os.first_order_at)) / 86400.0 / (os.order_count - 1)
       ELSE :store_interval END,
  :minimum_interval_days)
END
"""

#: SQL of ``lifecycle_stage`` over the profile's columns.
STAGE_SQL = """
CASE
  WHEN order_count = 0 THEN 'prospect'
  WHEN days_since_first_order < :new_customer_days THEN 'new'
  WHEN days_since_last_order > :lapsed_multiplier * purchase_interval_days THEN 'lapsed'
  WHEN days_since_last_order > :at_risk_multiplier * purchase_interval_days THEN 'at_risk'
  WHEN order_count >= :loyal_min_orders THEN 'loyal'
  ELSE 'active'
END
"""


def lifecycle_values(
    config: ProfilesConfig, store_median_gap_days: float | None
) -> dict[str, float]:
    """The values the lifecycle SQL binds."""
    return {
        "own_rhythm_min_orders": config.own_rhythm_min_orders,
        "store_interval": (
            store_median_gap_days
            if store_median_gap_days is not None
            else config.default_interval_days
        ),
        "minimum_interval_days": config.minimum_interval_days,
        "new_customer_days": config.new_customer_days,
        "lapsed_multiplier": config.lapsed_multiplier,
        "at_risk_multiplier": config.at_risk_multiplier,
        "loyal_min_orders": config.loyal_min_orders,
    }


@dataclass(frozen=True)
class StageRule:
    """One lifecycle rule, for the documentation."""

    stage: str
    rule: Callable[[ProfilesConfig], str]


#: The rules in the order they are tried, worded with the configured thresholds.
STAGE_RULES: tuple[StageRule, ...] = (
    StageRule("prospect", lambda c: "no purchase"),
    StageRule("new", lambda c: f"first purchase less than {c.new_customer_days} days ago"),
    StageRule(
        "lapsed",
        lambda c: f"days since last purchase > {c.lapsed_multiplier:g} x purchase interval",
    ),
    StageRule(
        "at_risk",
        lambda c: f"days since last purchase > {c.at_risk_multiplier:g} x purchase interval",
    ),
    StageRule("loyal", lambda c: f"at least {c.loyal_min_orders} purchases"),
    StageRule("active", lambda c: "any other buyer"),
)
