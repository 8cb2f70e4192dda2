"""The store's calendar: its time window and when in the year, week and day people shop.

Seasonality is applied as a time change, not by thinning: a customer's purchases are a Poisson
process in "shopping time" (one unit is an average day), and shopping time is mapped back to
clock time through the cumulative seasonal intensity. A customer's expected number of purchases
over a long window therefore stays ``rate * days`` (what BG/NBD assumes), while the purchases
themselves bunch up in late November and December, on weekdays' evenings, and thin out at night.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np

DAY = 86_400
HOUR = 3_600

# Relative intensity by month (January first): a post-holiday dip, a small summer sale, and the
# November to December gift season.
_MONTH = np.array([0.80, 0.82, 0.95, 0.98, 1.00, 0.97, 1.02, 0.95, 0.95, 1.00, 1.35, 1.45])
# Monday first: a little more on Sunday evening and Monday, less on Saturday.
_WEEKDAY = np.array([1.08, 1.02, 1.00, 1.00, 0.96, 0.90, 1.04])
# By hour of the store's main time zone (UTC-5): quiet nights, lunch and evening peaks.
_HOUR = np.array(
    [
        0.35,
        0.22,
        0.15,
        0.12,
        0.12,
        0.18,
        0.35,
        0.60,
        0.85,
        1.00,
        1.10,
        1.20,
        1.30,
        1.25,
        1.15,
        1.10,
        1.10,
        1.20,
        1.35,
        1.55,
        1.65,
        1.50,
        1.10,
        0.65,
    ]
)
_STORE_UTC_OFFSET_HOURS = -5


@dataclass(frozen=True)
class StoreCalendar:
    """The window ``[start, end)`` the demo store covers, in UTC seconds since the epoch."""

    start: int
    end: int
    hour_starts: np.ndarray
    """Start of every hour of the window (seconds)."""
    shopping_time: np.ndarray
    """Cumulative seasonal intensity at each hour start, in average days (one more entry)."""

    @classmethod
    def build(cls, end_date: date, days: int) -> StoreCalendar:
        """The ``days`` days that end at midnight UTC after ``end_date``."""
        end = int(datetime(end_date.year, end_date.month, end_date.day, tzinfo=UTC).timestamp())
        end += DAY
        start = end - days * DAY
        hour_starts = np.arange(start, end, HOUR, dtype=np.int64)
        weight = _intensity(hour_starts)
        # Normalised so one average day of the window is one unit of shopping time.
        cumulative = np.concatenate([[0.0], np.cumsum(weight)]) / weight.mean() / 24.0
        return cls(start=start, end=end, hour_starts=hour_starts, shopping_time=cumulative)

    @property
    def days(self) -> int:
        return (self.end - self.start) // DAY

    def to_shopping_time(self, seconds: np.ndarray) -> np.ndarray:
        """Clock time (seconds) to shopping time (average days since the window start)."""
        grid = np.append(self.hour_starts, self.end).astype(np.float64)
        clipped = np.clip(np.asarray(seconds, dtype=np.float64), self.start, self.end)
        return np.interp(clipped, grid, self.shopping_time)

    def to_clock(self, shopping: np.ndarray) -> np.ndarray:
        """Shopping time back to clock time (integer seconds), the inverse of the above."""
        grid = np.append(self.hour_starts, self.end).astype(np.float64)
        return np.interp(shopping, self.shopping_time, grid).astype(np.int64)

    def seasonal_times(self, lo: np.ndarray, hi: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Clock times at fractions ``u`` of the shopping time between ``lo`` and ``hi``."""
        s_lo, s_hi = self.to_shopping_time(lo), self.to_shopping_time(hi)
        return np.minimum(self.to_clock(s_lo + u * (s_hi - s_lo)), np.asarray(hi) - 1)


def _intensity(hour_starts: np.ndarray) -> np.ndarray:
    local = hour_starts + _STORE_UTC_OFFSET_HOURS * HOUR
    days = local // DAY
    hour = (local % DAY) // HOUR
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday (Monday = 0)
    month = (days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)) % 12
    day_of_month = (
        days
        - days.astype("datetime64[D]")
        .astype("datetime64[M]")
        .astype("datetime64[D]")
        .astype(np.int64)
    ) + 1
    weight = _MONTH[month] * _WEEKDAY[weekday] * _HOUR[hour]
    # Black Friday to Cyber Monday (roughly the last week of November) and the pre-Christmas
    # shipping deadline week are the two sharpest peaks of a store's year.
    black_friday = (month == 10) & (day_of_month >= 24)
    pre_christmas = (month == 11) & (day_of_month >= 10) & (day_of_month <= 20)
    weight = weight * np.where(black_friday, 2.2, 1.0) * np.where(pre_christmas, 1.3, 1.0)
    return weight


def acquisition_weights(calendar: StoreCalendar, growth_per_year: float) -> np.ndarray:
    """Relative number of sign-ups per hour: seasonal, and growing as the store grows."""
    years = (calendar.hour_starts - calendar.start) / (365.25 * DAY)
    return _intensity(calendar.hour_starts) * np.exp(np.log1p(growth_per_year) * years)


def sample_hours(
    rng: np.random.Generator, calendar: StoreCalendar, weights_cdf: np.ndarray, n: int
) -> np.ndarray:
    """n clock times drawn with the hourly weights (given as a normalised CDF)."""
    hour = np.searchsorted(weights_cdf, rng.random(n), side="right")
    hour = np.minimum(hour, len(calendar.hour_starts) - 1)
    return calendar.hour_starts[hour] + rng.integers(0, HOUR, size=n)
