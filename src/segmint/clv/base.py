"""Shared machinery of the CLV models.

Everything here works on the *customer summary*: one row per customer with

* ``x``   -- number of repeat purchase occasions (purchases after the first one),
* ``t_x`` -- recency: time from the first purchase to the last one (0 when ``x == 0``),
* ``T``   -- age: time from the first purchase to the end of the observation window,

all in one time unit chosen by the caller (a day, a week, ...).  The fitted models
remember the length of that unit in days (``time_unit_days``) so horizons given
in days or months can be converted.

Identical rows carry identical information, so every fit works on unique rows
plus integer weights (:func:`compress_summary`): the cost grows with the number
of distinct rows, which on real stores (times rounded to days, most customers
with a handful of purchases) is far smaller than the number of customers.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar, NamedTuple, Protocol, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

#: Average length of a calendar month in days, used to turn "12 months" into model time.
DAYS_PER_MONTH = 365.25 / 12.0


class CLVInputError(ValueError):
    """Input that no CLV model can make sense of.

    Raised for impossible customer summaries (negative values, recency after
    age, repeat purchases without recency, NaN, empty input), for spend data a
    Gamma-Gamma model cannot use, and for predictions a fitted model cannot
    give (e.g. an expected order value when the fitted spend model has an
    infinite mean).
    """


# --------------------------------------------------------------------------- validation


def _as_1d(name: str, values: ArrayLike) -> FloatArray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise CLVInputError(f"{name} must be numeric: {exc}") from None
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise CLVInputError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise CLVInputError(f"{name} contains NaN or infinite values")
    return arr


def _check_weights(weights: ArrayLike | None, n: int) -> FloatArray:
    if weights is None:
        return np.ones(n)
    w = _as_1d("weights", weights)
    if w.shape[0] != n:
        raise CLVInputError(f"weights has {w.shape[0]} rows, expected {n}")
    if np.any(w < 0):
        raise CLVInputError("weights must be non-negative")
    if not w.sum() > 0:
        raise CLVInputError("weights sum to zero: there is no customer to fit")
    return w


def validate_summary(
    x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Check a customer summary and return it as three float arrays.

    Raises :class:`CLVInputError` for empty input, mismatched lengths, NaN,
    negative values, non-integer frequencies, ``t_x > T``, ``x > 0`` with
    ``t_x == 0`` (a repeat purchase must happen after the first one) and
    ``x == 0`` with ``t_x != 0`` (recency is measured to the last *repeat*
    purchase, so it is zero when there is none).
    """
    xa, ta, Ta = _as_1d("x", x), _as_1d("t_x", t_x), _as_1d("T", T)
    if not (xa.shape == ta.shape == Ta.shape):
        raise CLVInputError(
            f"x, t_x and T must have the same length, got {xa.size}, {ta.size}, {Ta.size}"
        )
    if xa.size == 0:
        raise CLVInputError("empty customer summary")
    if np.any(xa < 0) or np.any(ta < 0) or np.any(Ta < 0):
        raise CLVInputError("x, t_x and T must be non-negative")
    if np.any(xa != np.floor(xa)):
        raise CLVInputError("x (repeat purchases) must be whole numbers")
    if np.any(ta > Ta):
        bad = int(np.argmax(ta > Ta))
        raise CLVInputError(f"recency t_x exceeds age T (row {bad}: t_x={ta[bad]}, T={Ta[bad]})")
    if np.any((xa > 0) & (ta == 0)):
        bad = int(np.argmax((xa > 0) & (ta == 0)))
        raise CLVInputError(f"row {bad} has x={xa[bad]:g} repeat purchases but recency t_x=0")
    if np.any((xa == 0) & (ta != 0)):
        bad = int(np.argmax((xa == 0) & (ta != 0)))
        raise CLVInputError(f"row {bad} has no repeat purchase but recency t_x={ta[bad]}")
    return xa, ta, Ta


def validate_spend(x: ArrayLike, m: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Check frequency / mean-spend pairs for the Gamma-Gamma model.

    ``m`` is the mean value of a customer's repeat orders. Rows with ``x == 0``
    carry no spend information and may hold any non-negative ``m`` (it is
    ignored); rows with ``x > 0`` need ``m > 0`` -- a zero or negative average
    order value is impossible under a Gamma spend distribution.
    """
    xa, ma = _as_1d("x", x), _as_1d("m", m)
    if xa.shape != ma.shape:
        raise CLVInputError(f"x and m must have the same length, got {xa.size} and {ma.size}")
    if xa.size == 0:
        raise CLVInputError("empty spend summary")
    if np.any(xa < 0) or np.any(xa != np.floor(xa)):
        raise CLVInputError("x (repeat purchases) must be non-negative whole numbers")
    if np.any(ma < 0):
        raise CLVInputError("mean order value m must be non-negative")
    if np.any((xa > 0) & (ma <= 0)):
        bad = int(np.argmax((xa > 0) & (ma <= 0)))
        raise CLVInputError(
            f"row {bad} has {xa[bad]:g} repeat purchases but mean order value {ma[bad]}; "
            "the Gamma-Gamma model needs positive spend"
        )
    return xa, ma


# --------------------------------------------------------------------------- compression


class Summary(NamedTuple):
    """Unique customer-summary rows with integer (or summed) weights.

    ``inverse`` maps every input row to its unique row, so a per-row result
    computed on the compressed arrays expands back with ``result[inverse]``.
    """

    x: FloatArray
    t_x: FloatArray
    T: FloatArray
    weights: FloatArray
    inverse: IntArray


class SpendSummary(NamedTuple):
    """Unique (x, m) rows with weights; ``inverse`` maps input rows to unique rows."""

    x: FloatArray
    m: FloatArray
    weights: FloatArray
    inverse: IntArray


def _unique_rows(
    columns: list[FloatArray], weights: FloatArray
) -> tuple[list[FloatArray], FloatArray, IntArray]:
    # Factorize each column (sort-free for whole numbers), then dedupe the
    # tuple of codes: much faster than np.unique(axis=0) or a float lexsort.
    coded = [factorize(col) for col in columns]
    first, ids = _combine_codes([c for _, c in coded], [u.size for u, _ in coded])
    uniq = [col[first] for col in columns]
    w = np.bincount(ids, weights=weights, minlength=first.size).astype(np.float64)
    return uniq, w, ids


def compress_summary(
    x: ArrayLike, t_x: ArrayLike, T: ArrayLike, weights: ArrayLike | None = None
) -> Summary:
    """Collapse identical (x, t_x, T) rows into unique rows plus weights.

    The input is validated first (see :func:`validate_summary`). Optional
    ``weights`` (e.g. an already partly compressed summary) are summed.
    """
    xa, ta, Ta = validate_summary(x, t_x, T)
    w = _check_weights(weights, xa.size)
    (ux, ut, uT), uw, inverse = _unique_rows([xa, ta, Ta], w)
    return Summary(ux, ut, uT, uw, inverse)


def compress_spend(x: ArrayLike, m: ArrayLike, weights: ArrayLike | None = None) -> SpendSummary:
    """Collapse identical (x, m) rows into unique rows plus weights."""
    xa, ma = validate_spend(x, m)
    w = _check_weights(weights, xa.size)
    (ux, um), uw, inverse = _unique_rows([xa, ma], w)
    return SpendSummary(ux, um, uw, inverse)


_DENSE_LIMIT = 1 << 24


def wdot(a: NDArray[Any], w: NDArray[Any]) -> FloatArray:
    """Weighted sum over the last axis: ``sum_i a[..., i] * w[i]``.

    Deliberately not ``a @ w``: BLAS would run matrix-vector products on its
    thread pool, and on a small shared machine the spinning worker threads
    slowed whole fits down twenty-fold in our measurements. einsum's own loop
    is single-threaded and just as fast at these sizes.
    """
    return np.asarray(np.einsum("...i,i->...", a, w), dtype=np.float64)


def factorize(values: FloatArray) -> tuple[FloatArray, IntArray]:
    """Sorted unique values and the index of each input value among them.

    Whole-number inputs of moderate size (frequencies, ages in whole days)
    take a counting path that needs no sort; anything else uses np.unique.
    """
    if values.size and values.min() >= 0 and values.max() < _DENSE_LIMIT:
        as_int = values.astype(np.intp)
        if np.array_equal(as_int, values):
            present = np.bincount(as_int) > 0
            rank = np.cumsum(present) - 1
            return np.flatnonzero(present).astype(np.float64), rank[as_int]
    uniq, inverse = np.unique(values, return_inverse=True)
    return uniq, inverse.reshape(-1)


def _combine_codes(codes: list[IntArray], sizes: list[int]) -> tuple[IntArray, IntArray]:
    """Dense ids of distinct code tuples: (first row of each distinct tuple, row -> id)."""
    key = codes[0].astype(np.int64)
    for c, n in zip(codes[1:], sizes[1:], strict=True):
        key = key * n + c
    span = float(np.prod(np.array(sizes, dtype=np.float64)))
    if span <= 4 * key.size + 1024:
        # Counting path: no sort when the key space is small.
        present = np.bincount(key, minlength=int(span)) > 0
        rank = np.cumsum(present) - 1
        ids = rank[key]
        first = np.empty(int(present.sum()), dtype=np.intp)
        # Reversed assignment leaves the first occurrence of each id in place.
        first[ids[::-1]] = np.arange(key.size - 1, -1, -1)
        return first, ids
    _, first, ids = np.unique(key, return_index=True, return_inverse=True)
    return first, ids.reshape(-1)


def unique_pairs(a: FloatArray, b: FloatArray) -> tuple[FloatArray, FloatArray, IntArray]:
    """Distinct (a, b) pairs (sorted by a, then b) and each input row's pair index."""
    ua, ca = factorize(a)
    ub, cb = factorize(b)
    first, ids = _combine_codes([ca, cb], [ua.size, ub.size])
    return a[first], b[first], ids


# --------------------------------------------------------------------------- fitted models


@dataclass(frozen=True, kw_only=True)
class FittedModel:
    """Common fields of every fitted CLV model.

    Subclasses add their parameters as fields and list them in ``PARAMS``.
    Instances are immutable and round-trip through :meth:`to_dict` /
    :meth:`from_dict` (plain JSON types only).
    """

    model: ClassVar[str] = ""
    PARAMS: ClassVar[tuple[str, ...]] = ()

    log_likelihood: float = math.nan
    n_customers: int = 0
    fit_seconds: float = 0.0
    converged: bool = True
    time_unit_days: float = 1.0
    iterations: int = 0

    @property
    def params(self) -> dict[str, float]:
        """Model parameters by their usual names."""
        return {name: float(getattr(self, name)) for name in self.PARAMS}

    def periods(self, days: ArrayLike) -> FloatArray:
        """Convert a duration in days to the model's time unit."""
        return np.asarray(days, dtype=np.float64) / self.time_unit_days

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description: model name, parameters and fit diagnostics."""
        out: dict[str, Any] = {"model": self.model, "params": self.params}
        for f in fields(self):
            if f.name not in self.PARAMS:
                value = getattr(self, f.name)
                out[f.name] = None if isinstance(value, float) and math.isnan(value) else value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild a model from :meth:`to_dict` output."""
        if data.get("model") != cls.model:
            raise CLVInputError(f"expected a {cls.model!r} model, got {data.get('model')!r}")
        params = data.get("params", {})
        missing = [p for p in cls.PARAMS if p not in params]
        if missing:
            raise CLVInputError(f"{cls.model} model is missing parameters {missing}")
        kwargs: dict[str, Any] = {p: float(params[p]) for p in cls.PARAMS}
        for f in fields(cls):
            if f.name in cls.PARAMS or f.name not in data:
                continue
            value = data[f.name]
            if f.name == "log_likelihood":
                value = math.nan if value is None else float(value)
            kwargs[f.name] = value
        return cls(**kwargs)


class TransactionModel(Protocol):
    """What :func:`customer_lifetime_value` needs from a purchase-count model."""

    time_unit_days: float

    def p_alive(self, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray: ...

    def _alive_expected_purchases(
        self, x: FloatArray, T: FloatArray, horizons: FloatArray
    ) -> FloatArray: ...


# --------------------------------------------------------------------------- optimisation


class FitResult(NamedTuple):
    params: FloatArray
    log_likelihood: float
    converged: bool
    iterations: int
    seconds: float


def maximize_log_likelihood(
    loglik_and_grad: Callable[[FloatArray], tuple[float, FloatArray]],
    start: FloatArray,
    total_weight: float,
    *,
    log_bounds: list[tuple[float, float]],
    max_iter: int = 2000,
) -> FitResult:
    """Maximise a log-likelihood over log-parameters with L-BFGS-B.

    ``loglik_and_grad(theta)`` returns the summed log-likelihood and its
    gradient with respect to the *natural* parameters ``theta``. We optimise
    ``log(theta)`` (positivity for free, better conditioning) and divide by the
    total weight so the tolerances do not depend on the number of customers.
    """
    t0 = time.perf_counter()

    def objective(u: FloatArray) -> tuple[float, FloatArray]:
        theta = np.exp(u)
        ll, grad = loglik_and_grad(theta)
        if not np.isfinite(ll) or not np.all(np.isfinite(grad)):
            # Steer the line search back rather than propagate NaN: a huge
            # value with zero slope makes L-BFGS-B shorten the step.
            return 1e300, np.zeros_like(u)
        return -ll / total_weight, -(grad * theta) / total_weight

    res = minimize(
        objective,
        np.log(start),
        jac=True,
        method="L-BFGS-B",
        bounds=log_bounds,
        options={"maxiter": max_iter, "ftol": 1e-14, "gtol": 1e-9, "maxcor": 20},
    )
    theta = np.exp(res.x)
    ll, grad = loglik_and_grad(theta)
    # Judge convergence ourselves: L-BFGS-B reports "ABNORMAL" line-search exits
    # when it already sits at the optimum to machine precision, and a fit that
    # ends on a bound is a degenerate solution, not a converged one.
    scaled_grad = np.abs(grad * theta) / total_weight
    at_bound = any(
        u <= lo + 1e-9 or u >= hi - 1e-9 for u, (lo, hi) in zip(res.x, log_bounds, strict=True)
    )
    converged = bool(np.isfinite(ll) and np.all(scaled_grad < 1e-5) and not at_bound)
    return FitResult(theta, float(ll), converged, int(res.nit), time.perf_counter() - t0)


# --------------------------------------------------------------------------- CLV


def monthly_rate(annual_discount_rate: float) -> float:
    """Monthly discount rate equivalent to an annual one: ``(1 + a)^(1/12) - 1``."""
    if not annual_discount_rate > -1:
        raise CLVInputError("annual_discount_rate must be greater than -1")
    return float((1.0 + annual_discount_rate) ** (1.0 / 12.0) - 1.0)


def customer_lifetime_value(
    model: TransactionModel,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    order_value: ArrayLike,
    *,
    horizon_months: int = 12,
    annual_discount_rate: float = 0.10,
    monthly_discount_rate: float | None = None,
) -> FloatArray:
    """Discounted expected value of each customer's purchases over the next months.

    Method (monthly steps): for month ``k = 1..horizon_months`` the expected
    number of purchases made *during* that month is
    ``E[X(k)] - E[X(k-1)]`` (conditional on the customer's history, from the
    transaction model), it is valued at the customer's expected order value
    and discounted by ``(1 + d)^-k`` -- i.e. a month's purchases are treated
    as cash at the end of that month. ``d`` is ``monthly_discount_rate`` if
    given, else the monthly equivalent of ``annual_discount_rate``
    (``(1 + annual)^(1/12) - 1``; 10 % a year is about 0.797 % a month).
    A month is 365.25 / 12 days, converted with the model's ``time_unit_days``.

    ``order_value`` is the expected value of one future order, per customer or
    a single number -- typically :meth:`GammaGammaModel.expected_order_value`.
    Customers with no repeat purchase (``x == 0``) get a value like everyone
    else: the transaction model still predicts purchases for them.
    """
    xa, ta, Ta = validate_summary(x, t_x, T)
    value = _as_1d("order_value", order_value)
    if value.size not in (1, xa.size):
        raise CLVInputError(f"order_value has {value.size} rows, expected 1 or {xa.size}")
    value = np.broadcast_to(value, xa.shape)
    if np.any(value < 0):
        raise CLVInputError("order_value must be non-negative")
    if horizon_months < 1 or int(horizon_months) != horizon_months:
        raise CLVInputError("horizon_months must be a positive whole number")
    d = (
        monthly_rate(annual_discount_rate)
        if monthly_discount_rate is None
        else monthly_discount_rate
    )
    if not d > -1:
        raise CLVInputError("monthly_discount_rate must be greater than -1")
    k = np.arange(1, int(horizon_months) + 1, dtype=np.float64)
    v = (1.0 + d) ** -k
    # Sum_k (E_k - E_{k-1}) v_k = Sum_k E_k (v_k - v_{k+1}) + E_K v_K: one weighted
    # sum of cumulative expectations, no differences of nearly equal numbers.
    coef = v - np.append(v[1:], 0.0)
    horizons = k * DAYS_PER_MONTH / model.time_unit_days
    # E[X(t) | history] = P(alive) * E[X(t) | alive at T]; the second factor does
    # not depend on t_x, so it is computed once per distinct (x, T).
    ux, uT, inv = unique_pairs(xa, Ta)
    alive_e = model._alive_expected_purchases(ux, uT, horizons)
    discounted = wdot(alive_e, coef)[inv]
    return np.asarray(model.p_alive(xa, ta, Ta) * discounted * value, dtype=np.float64)
