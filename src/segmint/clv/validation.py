"""Holdout validation of CLV transaction models.

Two classic checks (Fader, Hardie & Lee 2005):

* :func:`holdout_report` -- fit on a calibration period, predict each
  customer's purchases in a holdout period, and compare with what they did:
  error of the total, correlation, mean absolute error, and the table of mean
  actual vs predicted holdout purchases by calibration frequency (0..7+).
* :func:`tracking_curve` -- the model's expected cumulative repeat
  transactions of the whole cohort over time (each customer contributing from
  their own first purchase on), next to the actual counts per period.

The functions take plain arrays; turning orders into those arrays is the job
of the SQL layer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import ArrayLike

from .base import CLVInputError, FloatArray, _as_1d, _check_weights, factorize, wdot

__all__ = ["FrequencyRow", "HoldoutReport", "TrackingCurve", "holdout_report", "tracking_curve"]


def _nan_to_none(value: float) -> float | None:
    return None if math.isnan(value) else value


@dataclass(frozen=True)
class FrequencyRow:
    """One line of the conditional-expectation table."""

    frequency: str  # "0", "1", ..., "7+"
    n_customers: float
    mean_actual: float
    mean_predicted: float


@dataclass(frozen=True)
class HoldoutReport:
    """Accuracy of holdout-period predictions.

    ``total_error`` is predicted minus actual; ``total_error_pct`` is that as a
    percentage of the actual total (NaN when nobody bought). ``correlation`` is
    Pearson's r between actual and predicted per customer (NaN when either is
    constant). ``by_frequency`` is the conditional-expectation table.
    """

    n_customers: float
    total_actual: float
    total_predicted: float
    total_error: float
    total_error_pct: float
    correlation: float
    mean_absolute_error: float
    by_frequency: tuple[FrequencyRow, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; undefined statistics become ``None``."""
        return {
            "n_customers": self.n_customers,
            "total_actual": self.total_actual,
            "total_predicted": self.total_predicted,
            "total_error": self.total_error,
            "total_error_pct": _nan_to_none(self.total_error_pct),
            "correlation": _nan_to_none(self.correlation),
            "mean_absolute_error": self.mean_absolute_error,
            "by_frequency": [
                {
                    "frequency": row.frequency,
                    "n_customers": row.n_customers,
                    "mean_actual": _nan_to_none(row.mean_actual),
                    "mean_predicted": _nan_to_none(row.mean_predicted),
                }
                for row in self.by_frequency
            ],
        }


def holdout_report(
    x_calibration: ArrayLike,
    actual: ArrayLike,
    predicted: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    max_frequency: int = 7,
) -> HoldoutReport:
    """Compare predicted and actual holdout purchases.

    Parameters
    ----------
    x_calibration:
        Repeat purchases of each customer in the calibration period.
    actual:
        Purchases each customer actually made in the holdout period.
    predicted:
        The model's expected holdout purchases for each customer (e.g.
        ``model.expected_purchases(t_holdout, x, t_x, T)``).
    weights:
        Optional number of customers each row stands for.
    max_frequency:
        Calibration frequencies at or above this are pooled into one ``"k+"`` row.
    """
    xc = _as_1d("x_calibration", x_calibration)
    act = _as_1d("actual", actual)
    pred = _as_1d("predicted", predicted)
    if not (xc.size == act.size == pred.size):
        raise CLVInputError("x_calibration, actual and predicted must have the same length")
    if xc.size == 0:
        raise CLVInputError("empty holdout data")
    if np.any(xc < 0) or np.any(act < 0) or np.any(pred < 0):
        raise CLVInputError("frequencies and purchase counts must be non-negative")
    if max_frequency < 1:
        raise CLVInputError("max_frequency must be at least 1")
    w = _check_weights(weights, xc.size)
    n = float(w.sum())
    tot_a = float(wdot(act, w))
    tot_p = float(wdot(pred, w))
    err = tot_p - tot_a
    err_pct = 100.0 * err / tot_a if tot_a > 0 else math.nan
    mae = float(wdot(np.abs(pred - act), w)) / n
    ma, mp = tot_a / n, tot_p / n
    cov = float(wdot((act - ma) * (pred - mp), w))
    var_a = float(wdot((act - ma) ** 2, w))
    var_p = float(wdot((pred - mp) ** 2, w))
    corr = cov / math.sqrt(var_a * var_p) if var_a > 0 and var_p > 0 else math.nan
    bins = np.minimum(xc, max_frequency).astype(np.intp)
    cnt = np.bincount(bins, weights=w, minlength=max_frequency + 1)
    sum_a = np.bincount(bins, weights=w * act, minlength=max_frequency + 1)
    sum_p = np.bincount(bins, weights=w * pred, minlength=max_frequency + 1)
    rows = []
    for k in range(max_frequency + 1):
        label = f"{k}+" if k == max_frequency else str(k)
        c = float(cnt[k])
        rows.append(
            FrequencyRow(
                frequency=label,
                n_customers=c,
                mean_actual=float(sum_a[k] / c) if c > 0 else math.nan,
                mean_predicted=float(sum_p[k] / c) if c > 0 else math.nan,
            )
        )
    return HoldoutReport(
        n_customers=n,
        total_actual=tot_a,
        total_predicted=tot_p,
        total_error=err,
        total_error_pct=err_pct,
        correlation=corr,
        mean_absolute_error=mae,
        by_frequency=tuple(rows),
    )


class _NewCustomerModel(Protocol):
    def expected_purchases_new(self, t: ArrayLike) -> FloatArray: ...


@dataclass(frozen=True)
class TrackingCurve:
    """Expected (and optionally actual) repeat transactions of a cohort per period.

    ``period_end[k]`` is the end of period ``k + 1`` measured from the cohort's
    time origin. Cumulative arrays count repeat transactions up to that point,
    incremental arrays those within the period.
    """

    period_end: FloatArray
    expected_cumulative: FloatArray
    expected_incremental: FloatArray
    actual_cumulative: FloatArray | None = None
    actual_incremental: FloatArray | None = None
    calibration_end: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (lists of floats)."""

        def lst(a: FloatArray | None) -> list[float] | None:
            return None if a is None else [float(v) for v in a]

        return {
            "period_end": lst(self.period_end),
            "expected_cumulative": lst(self.expected_cumulative),
            "expected_incremental": lst(self.expected_incremental),
            "actual_cumulative": lst(self.actual_cumulative),
            "actual_incremental": lst(self.actual_incremental),
            "calibration_end": self.calibration_end,
        }


def tracking_curve(
    model: _NewCustomerModel,
    first_purchase: ArrayLike,
    n_periods: int,
    *,
    period_length: float = 1.0,
    actual_incremental: ArrayLike | None = None,
    weights: ArrayLike | None = None,
    calibration_end: float | None = None,
) -> TrackingCurve:
    """Expected cumulative repeat transactions of a cohort, period by period.

    ``first_purchase`` holds each customer's first purchase time in model units
    measured from the cohort's time origin (e.g. weeks since the start of the
    acquisition window). At time ``t`` a customer who joined at ``b < t``
    contributes the unconditional expectation ``E[X(t - b)]`` of a new
    customer; the cohort curve is the sum. ``actual_incremental`` (repeat
    transactions observed in each period, computed by the caller) is carried
    along with its running total so the two can be charted together.
    """
    born = _as_1d("first_purchase", first_purchase)
    if born.size == 0:
        raise CLVInputError("empty cohort")
    if np.any(born < 0):
        raise CLVInputError("first_purchase times must be non-negative")
    if n_periods < 1 or int(n_periods) != n_periods:
        raise CLVInputError("n_periods must be a positive whole number")
    if not period_length > 0:
        raise CLVInputError("period_length must be positive")
    w = _check_weights(weights, born.size)
    ends = period_length * np.arange(1, int(n_periods) + 1, dtype=np.float64)
    ub, bi = factorize(born)
    wb = np.bincount(bi, weights=w, minlength=ub.size)
    ages = np.maximum(ends[None, :] - ub[:, None], 0.0)  # (births, periods)
    expected = np.asarray(model.expected_purchases_new(ages.ravel()), dtype=np.float64)
    cum = wdot(expected.reshape(ages.shape).T, wb)
    inc = np.diff(cum, prepend=0.0)
    act_inc = act_cum = None
    if actual_incremental is not None:
        act_inc = _as_1d("actual_incremental", actual_incremental)
        if act_inc.size != n_periods:
            raise CLVInputError(
                f"actual_incremental has {act_inc.size} periods, expected {n_periods}"
            )
        act_cum = np.cumsum(act_inc)
    return TrackingCurve(ends, cum, inc, act_cum, act_inc, calibration_end)
