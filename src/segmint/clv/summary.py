"""The customer summary the CLV models are fitted on, computed inside the engine.

Per profile: ``frequency`` (repeat purchase occasions), ``recency`` (time from the first to the
last occasion), ``age`` (time from the first occasion to the end of calibration), the mean value
of the repeat occasions (for Gamma-Gamma), and, when a holdout period is given, the number of
occasions in it. As in the papers, orders on the same day are one purchase occasion, and refunded
or cancelled orders are no purchase at all.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from sqlglot import exp

from segmint.engines.base import parse_sql
from segmint.identity import resolved_records
from segmint.model.tables import PURCHASE_STATUSES

TimeUnit = Literal["day", "week"]
DAYS_PER_UNIT: dict[str, float] = {"day": 1.0, "week": 7.0}

_PURCHASES = """
WITH purchases AS (
    SELECT r.profile_id,
           CAST(o.ordered_at AS DATE) AS day,
           SUM(o.total - COALESCE(o.refunded_amount, 0)) AS value
    FROM orders AS o
    JOIN resolved_orders AS r ON r.order_id = o.order_id
    WHERE (o.status IS NULL OR o.status IN ({statuses}))
      AND o.ordered_at < CAST({observation_end} AS TIMESTAMP)
    GROUP BY r.profile_id, CAST(o.ordered_at AS DATE)
),
ranked AS (
    SELECT profile_id, day, value,
           ROW_NUMBER() OVER (PARTITION BY profile_id ORDER BY day) AS occasion,
           MIN(day) OVER (PARTITION BY profile_id) AS first_day
    FROM purchases
)"""

_SUMMARY_SQL = (
    _PURCHASES
    + """,
holdout AS (
    SELECT profile_id, COUNT(*) AS purchases
    FROM ranked WHERE day >= CAST({calibration_end} AS DATE)
    GROUP BY profile_id
)
SELECT c.profile_id,
       COUNT(*) - 1 AS frequency,
       DATE_DIFF('day', MIN(c.day), MAX(c.day)) / {unit_days} AS recency,
       DATE_DIFF('day', MIN(c.day), CAST({calibration_end} AS DATE)) / {unit_days} AS age,
       CAST(SUM(CASE WHEN c.occasion > 1 THEN c.value END) AS DOUBLE)
           / NULLIF(COUNT(*) - 1, 0) AS repeat_mean_value,
       CAST(SUM(c.value) AS DOUBLE) / COUNT(*) AS mean_value,
       COALESCE(MAX(h.purchases), 0) AS holdout_purchases
FROM ranked AS c
LEFT JOIN holdout AS h ON h.profile_id = c.profile_id
WHERE c.day < CAST({calibration_end} AS DATE)
GROUP BY c.profile_id
"""
)


_REPEATS_SQL = (
    _PURCHASES
    + """,
cohort AS (
    SELECT MIN(first_day) AS origin FROM ranked WHERE first_day < CAST({calibration_end} AS DATE)
)
SELECT CAST(FLOOR(DATE_DIFF('day', cohort.origin, r.day) / {unit_days}) AS BIGINT) AS period,
       COUNT(*) AS repeats
FROM ranked AS r, cohort
WHERE r.occasion > 1 AND r.first_day < CAST({calibration_end} AS DATE)
GROUP BY 1
"""
)


def summary_query(
    *,
    calibration_end: dt.datetime,
    observation_end: dt.datetime | None = None,
    unit_days: float = 7.0,
    prefix: str = "",
) -> exp.Expression:
    """The per-profile summary as a dialect-neutral query.

    ``calibration_end`` is exclusive and taken at day granularity: an order on that day belongs
    to the holdout. ``observation_end`` (exclusive, default ``calibration_end``) closes the
    holdout period.
    """
    observation_end = observation_end or calibration_end
    if observation_end < calibration_end:
        raise ValueError("the holdout period cannot end before the calibration period")
    return _query(_SUMMARY_SQL, calibration_end, observation_end, unit_days, prefix)


def repeat_transactions_query(
    *,
    calibration_end: dt.datetime,
    observation_end: dt.datetime,
    unit_days: float,
    prefix: str = "",
) -> exp.Expression:
    """Repeat purchase occasions per period of the calibration cohort, for tracking charts.

    Periods are counted in model units from the cohort's first purchase day; each row is a
    period index and the number of repeat occasions in it. The cohort is everyone whose first
    purchase is before ``calibration_end``.
    """
    return _query(_REPEATS_SQL, calibration_end, observation_end, unit_days, prefix)


def _query(
    template: str,
    calibration_end: dt.datetime,
    observation_end: dt.datetime,
    unit_days: float,
    prefix: str,
) -> exp.Expression:
    sql = template.format(
        statuses=", ".join(f"'{s}'" for s in PURCHASE_STATUSES),
        calibration_end=f"'{calibration_end.date().isoformat()}'",
        observation_end=f"'{observation_end.isoformat(sep=' ')}'",
        unit_days=repr(float(unit_days)),
    )
    query = parse_sql(sql)
    # Orders reach a profile through identity resolution: its query replaces the placeholder.
    return substitute_table(query, "resolved_orders", resolved_records("orders", prefix=prefix))


def substitute_table(
    query: exp.Expression, placeholder: str, subquery: exp.Expression
) -> exp.Expression:
    """``query`` with every reference to table ``placeholder`` replaced by ``subquery``."""
    for table in list(query.find_all(exp.Table)):
        if table.name == placeholder:
            table.replace(
                exp.Subquery(
                    this=subquery.copy(),
                    alias=exp.TableAlias(this=exp.to_identifier(table.alias)),
                )
            )
    return query
