"""Gamma-Gamma model of spend per order (Fader, Hardie & Lee 2005; Fader & Hardie 2013).

Each order value of a customer is ``Gamma(p, nu)`` (shape ``p``, rate ``nu``),
and ``nu ~ Gamma(q, v)`` across customers (``v`` is the paper's ``gamma``).
What we observe per repeat buyer is the mean ``m`` of their ``x`` repeat order
values; its density gives the log-likelihood

    l = ln G(px+q) - ln G(px) - ln G(q) + q ln v + (px-1) ln m + px ln x
        - (px+q) ln(v + m x)

Customers without a repeat purchase (``x == 0``) carry no spend information and
are left out of the fit; they still get a prediction (the population mean).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import digamma, gammaln

from .base import (
    CLVInputError,
    FittedModel,
    FloatArray,
    compress_spend,
    factorize,
    maximize_log_likelihood,
    validate_spend,
    wdot,
)

__all__ = ["GammaGammaModel", "fit_gamma_gamma", "gamma_gamma_log_likelihood"]


class _Data:
    """Repeat buyers' (x, m) with weights, plus parameter-free sums used by the fit."""

    def __init__(self, x: FloatArray, m: FloatArray, w: FloatArray) -> None:
        self.x, self.m, self.w = x, m, w
        self.ux, self.xi = factorize(x)
        self.log_m = np.log(m)
        self.log_x = np.log(x)
        self.mx = m * x
        self.total = float(w.sum())
        self.w_x = np.bincount(self.xi, weights=w, minlength=self.ux.size)
        self.wx = w * x
        # sum w ln m, sum w x ln m, sum w x ln x: the likelihood is linear in them.
        self.s_logm = float(wdot(self.log_m, w))
        self.s_xlogm = float(wdot(self.log_m, self.wx))
        self.s_xlogx = float(wdot(self.log_x, self.wx))


def _objective(theta: FloatArray, d: _Data) -> tuple[float, FloatArray]:
    """Weighted total log-likelihood and gradient; one log per row per evaluation."""
    p, q, v = (float(t) for t in theta)
    upx = p * d.ux
    dig_pxq = digamma(upx + q)
    log_vmx = np.log(v + d.mx)
    inv_vmx = 1.0 / (v + d.mx)
    s_log = wdot(log_vmx, d.w)  # sum w ln(v + m x)
    s_xlog = wdot(log_vmx, d.wx)  # sum w x ln(v + m x)
    ll = (
        wdot(gammaln(upx + q) - gammaln(upx), d.w_x)
        + d.total * (q * np.log(v) - gammaln(q))
        + p * (d.s_xlogm + d.s_xlogx - s_xlog)
        - d.s_logm
        - q * s_log
    )
    g_p = wdot(d.ux * (dig_pxq - digamma(upx)), d.w_x) + d.s_xlogm + d.s_xlogx - s_xlog
    g_q = wdot(dig_pxq, d.w_x) + d.total * (np.log(v) - digamma(q)) - s_log
    g_v = d.total * q / v - p * wdot(inv_vmx, d.wx) - q * wdot(inv_vmx, d.w)
    return float(ll), np.array([g_p, g_q, g_v], dtype=np.float64)


def _loglik(
    theta: FloatArray, d: _Data, want_grad: bool = True
) -> tuple[FloatArray, FloatArray | None]:
    p, q, v = (float(t) for t in theta)
    px = p * d.x
    upx = p * d.ux
    const_x = (gammaln(upx + q) - gammaln(upx))[d.xi] - gammaln(q)
    log_vmx = np.log(v + d.mx)
    ll = const_x + q * np.log(v) + (px - 1.0) * d.log_m + px * d.log_x - (px + q) * log_vmx
    if not want_grad:
        return ll, None
    dig_pxq = digamma(upx + q)
    grad = np.empty((3, d.x.size))
    grad[0] = d.x * ((dig_pxq - digamma(upx))[d.xi] + d.log_m + d.log_x - log_vmx)
    grad[1] = dig_pxq[d.xi] - digamma(q) + np.log(v) - log_vmx
    grad[2] = q / v - (px + q) / (v + d.mx)
    return ll, grad


def _check_params(params: ArrayLike) -> FloatArray:
    theta = np.asarray(params, dtype=np.float64).reshape(-1)
    if theta.size != 3 or not np.all(np.isfinite(theta)) or np.any(theta <= 0):
        raise CLVInputError("Gamma-Gamma parameters (p, q, v) must be three positive numbers")
    return theta


def gamma_gamma_log_likelihood(params: ArrayLike, x: ArrayLike, m: ArrayLike) -> FloatArray:
    """Per-customer Gamma-Gamma log-likelihood at ``params = (p, q, v)``; 0 for ``x == 0``."""
    xa, ma = validate_spend(x, m)
    theta = _check_params(params)
    out = np.zeros(xa.size)
    rep = xa > 0
    if rep.any():
        out[rep], _ = _loglik(theta, _Data(xa[rep], ma[rep], np.ones(int(rep.sum()))), False)
    return out


@dataclass(frozen=True, kw_only=True)
class GammaGammaModel(FittedModel):
    """Fitted Gamma-Gamma spend model. ``v`` is the scale often written ``gamma``."""

    model: ClassVar[str] = "gamma_gamma"
    PARAMS: ClassVar[tuple[str, ...]] = ("p", "q", "v")

    p: float
    q: float
    v: float

    @property
    def gamma(self) -> float:
        """Alias of ``v`` (the name used by Fader & Hardie)."""
        return self.v

    @property
    def mean_order_value(self) -> float:
        """Population mean order value ``p v / (q - 1)``; requires ``q > 1``."""
        if self.q <= 1.0:
            raise CLVInputError(
                f"q = {self.q:.4g} <= 1: the fitted spend distribution has no finite mean"
            )
        return self.p * self.v / (self.q - 1.0)

    def log_likelihood_rows(self, x: ArrayLike, m: ArrayLike) -> FloatArray:
        """Log-likelihood of each (x, m) pair; 0 for customers without repeat purchases."""
        return gamma_gamma_log_likelihood([self.p, self.q, self.v], x, m)

    def expected_order_value(self, x: ArrayLike, m: ArrayLike) -> FloatArray:
        """Conditional expected value of a customer's future orders.

        ``(p v + p x m) / (p x + q - 1)``: a weighted average of the population
        mean ``p v / (q - 1)`` and the customer's own mean ``m``, with weight on
        ``m`` growing with ``x``. For ``x == 0`` it is the population mean.
        """
        xa, ma = validate_spend(x, m)
        if self.q <= 1.0:
            raise CLVInputError(
                f"q = {self.q:.4g} <= 1: the fitted spend distribution has no finite mean"
            )
        px = self.p * xa
        return np.asarray((self.p * self.v + px * ma) / (px + self.q - 1.0), dtype=np.float64)


def fit_gamma_gamma(
    x: ArrayLike,
    m: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    start: tuple[float, float, float] | None = None,
    max_iter: int = 2000,
) -> GammaGammaModel:
    """Fit the Gamma-Gamma spend model by maximum likelihood.

    Parameters
    ----------
    x:
        Number of repeat purchases per customer (the orders ``m`` averages over).
    m:
        Mean value of those repeat orders. Rows with ``x == 0`` are ignored.
    weights:
        Optional number of customers each row stands for.

    Raises :class:`CLVInputError` when there is no repeat buyer at all, or a
    repeat buyer with zero or negative spend.
    """
    t0 = time.perf_counter()
    xa, ma = validate_spend(x, m)
    rep = xa > 0
    if not rep.any():
        raise CLVInputError("no customer has a repeat purchase: cannot fit a spend model")
    w_all = None if weights is None else np.asarray(weights, dtype=np.float64)
    if w_all is not None and w_all.shape != xa.shape:
        raise CLVInputError(f"weights has shape {w_all.shape}, expected {xa.shape}")
    summ = compress_spend(xa[rep], ma[rep], None if w_all is None else w_all[rep])
    d = _Data(summ.x, summ.m, summ.weights)
    total = float(summ.weights.sum())
    mean_m = float(np.average(summ.m, weights=summ.weights))
    if start is None:
        # p = 1, q = 2 puts the prior mean spend p v / (q - 1) at the sample mean.
        start = (1.0, 2.0, mean_m)
    theta0 = _check_params(start)

    def fg(theta: FloatArray) -> tuple[float, FloatArray]:
        return _objective(theta, d)

    shape_b = (-16.0, 16.0)
    scale_b = (np.log(mean_m) - 25.0, np.log(mean_m) + 25.0)
    res = maximize_log_likelihood(
        fg, theta0, total, log_bounds=[shape_b, shape_b, scale_b], max_iter=max_iter
    )
    p, q, v = (float(t) for t in res.params)
    return GammaGammaModel(
        p=p,
        q=q,
        v=v,
        log_likelihood=res.log_likelihood,
        n_customers=round(total),
        fit_seconds=time.perf_counter() - t0,
        converged=res.converged,
        iterations=res.iterations,
    )
