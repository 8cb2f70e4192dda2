"""BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005).

While alive a customer buys at Poisson rate ``lambda ~ Gamma(r, alpha)``; after
every repeat purchase they drop out with probability ``p ~ Beta(a, b)``.

Log-likelihood of one customer with summary ``(x, t_x, T)``::

    l = ln G(r+x) - ln G(r) + r ln(alpha) + ln B(a, b+x) - ln B(a, b)
        - (r+x) ln(alpha+T) + [x>0] ln(1 + exp(delta))
    delta = ln(a / (b+x-1)) + (r+x) ln((alpha+T) / (alpha+t_x))

This is the paper's two-term likelihood with the common factor taken out, so
it is evaluated without overflow for any frequency (no ``(alpha+T)^(r+x)``
is ever formed) and ``exp(delta)`` only enters through ``logaddexp``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike
from scipy.linalg import eigh_tridiagonal
from scipy.special import betaln, digamma, expit, gammaln

from .base import (
    CLVInputError,
    FittedModel,
    FloatArray,
    compress_summary,
    factorize,
    maximize_log_likelihood,
    unique_pairs,
    validate_summary,
    wdot,
)

__all__ = ["BGNBDModel", "bgnbd_log_likelihood", "fit_bgnbd"]


class _Data:
    """Compressed summary with the indexes the likelihood needs.

    Most terms depend on x alone or on T alone, so they are evaluated once per
    distinct value and enter the total through per-value weight sums; only
    the "dropped out after the last purchase" term needs a per-row pass, and
    only for repeat buyers.
    """

    def __init__(self, x: FloatArray, t_x: FloatArray, T: FloatArray, w: FloatArray) -> None:
        self.x, self.t_x, self.T, self.w = x, t_x, T, w
        self.ux, self.xi = factorize(x)
        self.rep = x > 0
        self.total = float(w.sum())
        self.w_x = np.bincount(self.xi, weights=w, minlength=self.ux.size)
        self.uT, Ti = factorize(T)
        self.w_T = np.bincount(Ti, weights=w, minlength=self.uT.size)
        self.wx_T = np.bincount(Ti, weights=w * x, minlength=self.uT.size)
        rep = self.rep
        self.r_w, self.r_x, self.r_xi = w[rep], x[rep], self.xi[rep]
        self.r_T, self.r_t = T[rep], t_x[rep]


def _objective(theta: FloatArray, d: _Data) -> tuple[float, FloatArray]:
    """Weighted total log-likelihood and its gradient (same value as summing ``_loglik``)."""
    r, alpha, a, b = (float(v) for v in theta)
    ux, uT = d.ux, d.uT
    log_alpha = np.log(alpha)
    # Terms in x alone and in T alone.
    const_x = gammaln(r + ux) - gammaln(r) + betaln(a, b + ux) - betaln(a, b)
    l_uT = np.log(alpha + uT)
    rw_T = r * d.w_T + d.wx_T  # sum of w (r + x) per distinct T
    ll = wdot(const_x, d.w_x) + d.total * r * log_alpha - wdot(l_uT, rw_T)
    dig_abx = digamma(a + b + ux)
    g_r = wdot(digamma(r + ux) - digamma(r), d.w_x) + d.total * log_alpha - wdot(l_uT, d.w_T)
    g_alpha = d.total * r / alpha - wdot(1.0 / (alpha + uT), rw_T)
    g_a = wdot(digamma(a + b) - dig_abx, d.w_x)
    g_b = wdot(digamma(b + ux) - digamma(b) + digamma(a + b) - dig_abx, d.w_x)
    # Repeat buyers: + log(1 + exp(delta)).
    if d.r_x.size:
        uxr = np.where(ux > 0, ux, 2.0)
        c_x = np.log(a) - np.log(b + uxr - 1.0)
        rx = r + d.r_x
        aT, at = alpha + d.r_T, alpha + d.r_t
        lT_t = np.log(aT / at)
        delta = c_x[d.r_xi] + rx * lT_t
        lae = np.logaddexp(0.0, delta)
        sw = expit(delta) * d.r_w  # weight times share of the "dropped out" branch
        ll += wdot(lae, d.r_w)
        g_r += wdot(lT_t, sw)
        g_alpha += wdot(rx * (1.0 / aT - 1.0 / at), sw)
        sw_x = np.bincount(d.r_xi, weights=sw, minlength=ux.size)
        g_a += float(sw_x.sum()) / a
        g_b -= wdot(1.0 / (b + uxr - 1.0), sw_x)
    return float(ll), np.array([g_r, g_alpha, g_a, g_b], dtype=np.float64)


def _loglik(
    theta: FloatArray, d: _Data, want_grad: bool = True
) -> tuple[FloatArray, FloatArray | None]:
    """Per-row log-likelihood and (optionally) per-row gradient, shape (4, n)."""
    r, alpha, a, b = (float(v) for v in theta)
    ux = d.ux
    # Everything that depends on x alone is computed once per distinct x.
    const_x = gammaln(r + ux) - gammaln(r) + betaln(a, b + ux) - betaln(a, b)
    uxpos = ux > 0
    log_b_x1 = np.log(np.where(uxpos, b + ux - 1.0, 1.0))
    rx = r + d.x
    log_aT = np.log(alpha + d.T)
    log_at = np.log(alpha + d.t_x)
    delta = np.where(d.rep, np.log(a) - log_b_x1[d.xi] + rx * (log_aT - log_at), -np.inf)
    ll = const_x[d.xi] + r * np.log(alpha) - rx * log_aT + np.logaddexp(0.0, delta)
    if not want_grad:
        return ll, None
    sig = expit(delta)  # weight of the "dropped out after t_x" branch; 0 when x == 0
    dig_abx = digamma(a + b + ux)
    g_r_x = digamma(r + ux) - digamma(r)
    g_a_x = digamma(a + b) - dig_abx
    g_b_x = digamma(b + ux) - digamma(b) + digamma(a + b) - dig_abx
    inv_b_x1 = np.where(uxpos, 1.0 / np.where(uxpos, b + ux - 1.0, 1.0), 0.0)
    grad = np.empty((4, d.x.size))
    grad[0] = g_r_x[d.xi] + np.log(alpha) - log_aT + sig * (log_aT - log_at)
    inv_aT = 1.0 / (alpha + d.T)
    grad[1] = r / alpha - rx * inv_aT + sig * rx * (inv_aT - 1.0 / (alpha + d.t_x))
    grad[2] = g_a_x[d.xi] + sig / a
    grad[3] = g_b_x[d.xi] - sig * inv_b_x1[d.xi]
    return ll, grad


def bgnbd_log_likelihood(
    params: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Per-customer BG/NBD log-likelihood at ``params = (r, alpha, a, b)``."""
    xa, ta, Ta = validate_summary(x, t_x, T)
    theta = _check_params(params)
    ll, _ = _loglik(theta, _Data(xa, ta, Ta, np.ones_like(xa)), want_grad=False)
    return ll


def _check_params(params: ArrayLike) -> FloatArray:
    theta = np.asarray(params, dtype=np.float64).reshape(-1)
    if theta.size != 4 or not np.all(np.isfinite(theta)) or np.any(theta <= 0):
        raise CLVInputError("BG/NBD parameters (r, alpha, a, b) must be four positive numbers")
    return theta


# --------------------------------------------------------------------------- quadrature


@lru_cache(maxsize=4096)
def _beta_rule(a: float, b: float, n: int) -> tuple[FloatArray, FloatArray]:
    """Gauss rule for expectations under Beta(a, b): nodes in (0, 1), weights sum to 1.

    Golub-Welsch on the Jacobi matrix of the Beta weight written directly on
    [0, 1] (Jacobi polynomials with ``alpha = b-1``, ``beta = a-1``, shifted),
    with the diagonal in a form free of cancellation. scipy's roots_jacobi
    overflows (``2^(alpha+beta)``) once ``b + x`` is in the thousands.
    """
    al, be = b - 1.0, a - 1.0
    s = al + be
    k = np.arange(n, dtype=np.float64)
    j = np.arange(1, n, dtype=np.float64)
    # The general formulas are 0/0 for the first entries when a + b is 1 or 2;
    # those entries are replaced by their limits right below.
    with np.errstate(divide="ignore", invalid="ignore"):
        diag = (2.0 * k * (k + s + 1.0) + s * (be + 1.0)) / ((2.0 * k + s) * (2.0 * k + s + 2.0))
        off2 = (4.0 * j * (j + al) * (j + be) * (j + s)) / (
            (2.0 * j + s) ** 2 * (2.0 * j + s + 1.0) * (2.0 * j + s - 1.0)
        )
    diag[0] = (be + 1.0) / (s + 2.0)
    if n > 1:
        off2[0] = 4.0 * (1.0 + al) * (1.0 + be) / ((2.0 + s) ** 2 * (3.0 + s))
    nodes, vecs = eigh_tridiagonal(diag, np.sqrt(off2) / 2.0)
    w = vecs[0] ** 2
    return np.clip(nodes, 1e-300, 1.0), w / w.sum()


def _nodes_for(kappa_max: float) -> int:
    # The integrand (1 - (1 + kappa p)^-n) / p is analytic except at p = -1/kappa;
    # Gauss-Jacobi error falls like exp(-4 n / sqrt(kappa)), so 6 sqrt(kappa) + 12
    # nodes keep it below e^-24 (4e-11). The cap bounds the cost for absurd
    # horizons (accuracy then degrades gracefully; never NaN).
    return int(min(512, max(16, np.ceil(6.0 * np.sqrt(kappa_max) + 12.0))))


# --------------------------------------------------------------------------- model


@dataclass(frozen=True, kw_only=True)
class BGNBDModel(FittedModel):
    """Fitted BG/NBD model; times are in the fit's unit (``time_unit_days`` days)."""

    model: ClassVar[str] = "bgnbd"
    PARAMS: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")

    r: float
    alpha: float
    a: float
    b: float

    @property
    def _theta(self) -> FloatArray:
        return np.array([self.r, self.alpha, self.a, self.b])

    def log_likelihood_rows(self, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray:
        """Log-likelihood of each customer summary under this model."""
        return bgnbd_log_likelihood(self._theta, x, t_x, T)

    def p_alive(self, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray:
        """Probability each customer is still active at the end of their observation window.

        ``1 / (1 + a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))`` for ``x > 0``,
        evaluated as ``expit(-delta)``; exactly 1 when ``x == 0`` (in the BG/NBD
        story a customer can only drop out right after a repeat purchase).
        """
        xa, ta, Ta = validate_summary(x, t_x, T)
        rep = xa > 0
        delta = np.log(self.a) - np.log(np.where(rep, self.b + xa - 1.0, 1.0))
        delta += (self.r + xa) * (np.log(self.alpha + Ta) - np.log(self.alpha + ta))
        return np.where(rep, expit(-delta), 1.0)

    def expected_purchases(
        self, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """Expected number of purchases in the next ``t`` time units, given each history.

        ``t`` is a single horizon in model units (use :meth:`periods` to convert
        days). Equals ``p_alive * E[purchases | alive at T]``.
        """
        xa, ta, Ta = validate_summary(x, t_x, T)
        horizon = _horizon(t)
        ux, uT, inv = unique_pairs(xa, Ta)
        alive_e = self._alive_expected_purchases(ux, uT, np.array([horizon]))[:, 0]
        return self.p_alive(xa, ta, Ta) * alive_e[inv]

    def expected_purchases_new(self, t: ArrayLike) -> FloatArray:
        """Expected repeat purchases in ``(0, t]`` for a customer who just made a first purchase."""
        ts = np.atleast_1d(np.asarray(t, dtype=np.float64))
        if np.any(~np.isfinite(ts)) or np.any(ts < 0):
            raise CLVInputError("t must be finite and non-negative")
        return self._alive_expected_purchases(np.zeros(1), np.zeros(1), ts)[0]

    def _alive_expected_purchases(
        self, x: FloatArray, T: FloatArray, horizons: FloatArray
    ) -> FloatArray:
        """E[purchases in (T, T+t] | alive at T, history], shape (len(x), len(horizons)).

        Given alive, the posterior is ``lambda ~ Gamma(r+x, alpha+T)`` and
        ``p ~ Beta(a, b+x)``, and ``E[purchases | lambda, p] = (1 - exp(-lambda p t)) / p``.
        Integrating lambda exactly gives ``(1 - (1 + kappa p)^-(r+x)) / p`` with
        ``kappa = t / (alpha+T)``, a bounded smooth function of p, which we
        integrate against the Beta posterior by Gauss-Jacobi quadrature. The
        textbook closed form needs 2F1(r+x, b+x; a+b+x-1; z), whose parameters
        grow with x and which overflows or loses all accuracy for heavy buyers;
        the quadrature has no such failure and cannot produce NaN.
        """
        horizons = np.asarray(horizons, dtype=np.float64)
        out = np.zeros((x.size, horizons.size))
        if horizons.size == 0 or x.size == 0:
            return out
        kappa = horizons[None, :] / (self.alpha + T[:, None])  # (rows, K)
        n_nodes = _nodes_for(float(kappa.max()))
        ux, xi = factorize(x)
        rules = [_beta_rule(float(self.a), float(self.b + v), n_nodes) for v in ux]
        nodes = np.stack([p for p, _ in rules])  # (distinct x, nodes)
        weights = np.stack([w for _, w in rules])
        shape = self.r + ux  # posterior gamma shape r + x
        # All rows at once, in chunks that keep the (rows, horizons, nodes) block small.
        step = max(1, 2_000_000 // (horizons.size * n_nodes))
        for lo in range(0, x.size, step):
            hi = min(x.size, lo + step)
            j = xi[lo:hi]
            p = nodes[j][:, None, :]
            g = -np.expm1(-shape[j][:, None, None] * np.log1p(kappa[lo:hi, :, None] * p)) / p
            out[lo:hi] = np.einsum("rkn,rn->rk", g, weights[j])
        return out


def _horizon(t: ArrayLike) -> float:
    arr = np.asarray(t, dtype=np.float64)
    if arr.size != 1 or not np.isfinite(arr) or arr < 0:
        raise CLVInputError("t must be a single finite, non-negative horizon")
    return float(arr.reshape(()))


# --------------------------------------------------------------------------- fitting


def fit_bgnbd(
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    time_unit_days: float = 1.0,
    start: tuple[float, float, float, float] | None = None,
    max_iter: int = 2000,
) -> BGNBDModel:
    """Fit the BG/NBD model by maximum likelihood.

    Parameters
    ----------
    x, t_x, T:
        Customer summary (repeat purchases, recency, age) in one time unit.
    weights:
        Optional number of customers each row stands for (e.g. from
        :func:`compress_summary`). Identical rows are merged internally anyway.
    time_unit_days:
        Length of the time unit in days (7 for weeks); stored on the model so
        horizons in days and months can be converted later.
    start:
        Optional starting values ``(r, alpha, a, b)``.

    The fit maximises the exact log-likelihood with its analytic gradient
    (L-BFGS-B on log-parameters).
    """
    t0 = time.perf_counter()
    if not (np.isfinite(time_unit_days) and time_unit_days > 0):
        raise CLVInputError("time_unit_days must be a positive number of days")
    summ = compress_summary(x, t_x, T, weights)
    if not np.any((summ.x > 0) & (summ.weights > 0)):
        # The likelihood then keeps rising as the purchase rate goes to zero:
        # there is no maximum to report, only a degenerate boundary.
        raise CLVInputError(
            "no customer has a repeat purchase: the BG/NBD purchase rate cannot be estimated"
        )
    d = _Data(summ.x, summ.t_x, summ.T, summ.weights)
    total = float(summ.weights.sum())
    scale = float(np.average(summ.T, weights=summ.weights)) or 1.0
    mean_x = float(np.average(summ.x, weights=summ.weights))
    if start is None:
        # r/alpha is the mean purchase rate; start there with r = 1.
        start = (
            1.0,
            float(np.clip(scale / max(mean_x, 1e-3), 1e-3 * scale, 1e3 * scale)),
            1.0,
            1.0,
        )
    theta0 = _check_params(start)

    def fg(theta: FloatArray) -> tuple[float, FloatArray]:
        return _objective(theta, d)

    shape_b = (-16.0, 16.0)
    scale_b = (np.log(scale) - 20.0, np.log(scale) + 20.0)
    res = maximize_log_likelihood(
        fg, theta0, total, log_bounds=[shape_b, scale_b, shape_b, shape_b], max_iter=max_iter
    )
    r, alpha, a, b = (float(v) for v in res.params)
    return BGNBDModel(
        r=r,
        alpha=alpha,
        a=a,
        b=b,
        log_likelihood=res.log_likelihood,
        n_customers=round(total),
        fit_seconds=time.perf_counter() - t0,
        converged=res.converged,
        time_unit_days=float(time_unit_days),
        iterations=res.iterations,
    )
