"""Time arithmetic for windows and relative dates, done once in Python at compile time.

The evaluation time is known when a segment is compiled, so window bounds are computed here and
written into the SQL as timestamp literals: the same SQL text runs on every dialect and a run is
reproducible from its recorded evaluation time.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta

from sqlglot import exp

from segmint.segments.model import Duration, TimeUnit, Window


def utc_now() -> datetime:
    """The current time in UTC without zone (how segmint stores timestamps), to the second."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def as_datetime(value: datetime | date | str) -> datetime:
    """A naive UTC datetime from a datetime, a date (midnight) or ISO text."""
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        value = (
            datetime.fromisoformat(text)
            if ("T" in text or " " in text)
            else date.fromisoformat(text)
        )
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value
    return datetime(value.year, value.month, value.day)


def shift(moment: datetime, amount: int, unit: TimeUnit) -> datetime:
    """``moment`` moved by ``amount`` units (negative: back). Months keep the day of month,
    clamped to the month's last day (31 March minus one month is 28 or 29 February)."""
    if unit == "hours":
        return moment + timedelta(hours=amount)
    if unit == "days":
        return moment + timedelta(days=amount)
    if unit == "weeks":
        return moment + timedelta(weeks=amount)
    months = amount * (12 if unit == "years" else 1)
    index = moment.year * 12 + (moment.month - 1) + months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def window_bounds(window: Window | None, as_of: datetime) -> tuple[datetime | None, bool, datetime]:
    """``(start, start_inclusive, end)`` of a window; the end is always inclusive.

    ``last N units`` is ``(as_of - N units, as_of]``; ``since``/``until`` is
    ``[since, min(until, as_of)]`` with ``until`` itself left out; no window is ``(-inf, as_of]``.
    """
    if window is None:
        return None, False, as_of
    if window.last is not None:
        return shift(as_of, -window.last, window.unit), False, as_of
    start = as_datetime(window.since) if window.since is not None else None
    end = as_of
    if window.until is not None:
        # `until` is exclusive: the last instant that counts is one microsecond before it.
        end = min(as_of, as_datetime(window.until) - timedelta(microseconds=1))
    return start, True, end


def timestamp_literal(moment: datetime) -> exp.Expr:
    """A dialect-neutral timestamp literal: ``CAST('2026-11-22 10:00:00' AS TIMESTAMP)``."""
    text = moment.isoformat(sep=" ", timespec="microseconds" if moment.microsecond else "seconds")
    return exp.cast(exp.Literal.string(text), exp.DataType.build("TIMESTAMP"))


def window_predicate(column: exp.Expr, window: Window | None, as_of: datetime) -> exp.Expr:
    """``column`` falls inside the window (and never after the evaluation time)."""
    start, inclusive, end = window_bounds(window, as_of)
    condition: exp.Expr = exp.LTE(this=column.copy(), expression=timestamp_literal(end))
    if start is not None:
        lower_cls = exp.GTE if inclusive else exp.GT
        condition = exp.and_(
            lower_cls(this=column.copy(), expression=timestamp_literal(start)), condition
        )
    return condition


def interval(duration: Duration) -> exp.Interval:
    """A SQL interval for a duration (``INTERVAL '2' DAY``)."""
    unit = {"hours": "HOUR", "days": "DAY", "weeks": "WEEK", "months": "MONTH", "years": "YEAR"}[
        duration.unit
    ]
    return exp.Interval(this=exp.Literal.string(str(duration.amount)), unit=exp.var(unit))
