"""Pareto/NBD model of repeat purchasing (Schmittlein, Morrison & Colombo 1987).

While alive a customer buys at Poisson rate ``lambda ~ Gamma(r, alpha)``; the
lifetime is exponential with rate ``mu ~ Gamma(s, beta)``.

A numerically stable likelihood
-------------------------------
For one customer the individual-level likelihood is
``lambda^x [mu e^{-(lambda+mu) t_x} + lambda e^{-(lambda+mu) T}] / (lambda+mu)``
(died in ``(t_x, T]`` or still alive at ``T``). Writing ``1/(lambda+mu)`` as
``int_0^inf e^{-(lambda+mu) u} du`` and integrating the gamma mixtures gives

    L = G(r+x) alpha^r beta^s / G(r) * [ (r+x) Q(r+x+1, s; T) + s Q(r+x, s+1; t_x) ]
    Q(p, q; y0) = int_{y0}^inf (alpha+y)^-p (beta+y)^-q dy

-- a sum of two *positive* terms. The usual published form instead subtracts two
Gaussian hypergeometric terms, which cancel catastrophically when ``t_x`` is
close to ``T`` and overflow for large ``x``. Expanding ``Q`` around the larger
of ``alpha`` and ``beta`` (so the argument ``z`` lies in [0, 1)) and applying
Euler's transformation leaves only

    Phi(B, C, z) = 2F1(1, B; C; z),   0 < B < C,  0 <= z < 1,

a bounded, well-conditioned function (``1 <= Phi <= 1/(1-z)``):

    alpha >= beta, z = (alpha-beta)/(alpha+y0):
        Q(p, q; y0) = (alpha+y0)^-p (beta+y0)^(1-q) Phi(p, p+q, z) / (p+q-1)
    beta > alpha,  z = (beta-alpha)/(beta+y0):
        Q(p, q; y0) = (beta+y0)^-q (alpha+y0)^(1-p) Phi(q, p+q, z) / (p+q-1)

``Phi`` is evaluated with Gauss's continued fraction (the one behind the
incomplete beta function) by the modified Lentz method, in ordinary floating
point because its value is bounded; everything else is in log space. General
purpose ``hyp2f1`` implementations return NaN or inf here once ``B`` is in the
thousands and ``z`` is near 1 -- exactly heavy buyers of a population whose
``alpha`` and ``beta`` differ a lot.

Analytic gradient
-----------------
Derivatives of ``Phi`` with respect to ``B``, ``C`` and ``z`` are carried
through the continued-fraction recursion (forward-mode differentiation of the
Lentz iteration), so the gradient costs one pass and is exact to rounding.
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
    compress_summary,
    factorize,
    maximize_log_likelihood,
    unique_pairs,
    validate_summary,
    wdot,
)

__all__ = ["ParetoNBDModel", "fit_pareto_nbd", "pareto_nbd_log_likelihood"]

_TINY = 1e-300
_EPS = 1e-15
#: Iteration cap of the continued fraction. Convergence takes about
#: 16/sqrt(1-z) steps in the worst case (small C - B, z near 1), and
#: 1 - z >= (min(alpha, beta) + y)/(max(alpha, beta) + y). The fit keeps
#: alpha/beta within e^16 (1 - z > 1e-7, under 50,000 steps), so the cap only
#: binds for hand-made parameters with ratios beyond ~1e7, where the value
#: returned is the last approximant: finite, but not to full precision.
_MAX_ITER = 60_000
_CHECK_EVERY = 4


def log_hyp2f1_unit(
    B: FloatArray, C: FloatArray, z: FloatArray, want_grad: bool = False
) -> tuple[FloatArray, FloatArray | None]:
    """``log 2F1(1, B; C; z)`` for ``0 < B < C``, ``C > 1``, ``0 <= z < 1``.

    Returns ``(log_phi, grad)`` where ``grad`` (if requested) has shape
    ``(3, n)``: derivatives of ``log_phi`` with respect to ``B``, ``C`` and ``z``.

    Uses ``2F1(1, B; C; z) = 1 / (1 + d1 / (1 + d2 / (1 + ...)))`` with
    ``d_{2j+1} = -(C-1+j)(B+j) z / ((C-1+2j)(C+2j))`` and
    ``d_{2j} = -j (C-B-1+j) z / ((C-2+2j)(C-1+2j))`` (Gauss's continued
    fraction; with ``a = C-1`` and ``b = 1-C+B`` it is the classic incomplete
    beta fraction, which is valid for any sign of ``b``). All partial
    numerators are negative on our domain and the fraction converges fast
    unless both ``z`` is close to 1 and ``C - B`` is small.
    """
    n = B.size
    m = C - B
    g = np.ones(n)  # running product of Lentz factors = 1 / Phi
    c_l = np.ones(n)
    d_l = np.zeros(n)
    if want_grad:
        dc = np.zeros((3, n))
        dd = np.zeros((3, n))
        dlog = np.zeros((3, n))
    act = np.arange(n)
    # Working copies restricted to the active rows; compacted every few steps.
    Ba, Ca, za, ma = B, C, z, m
    ga, cla, dla = g, c_l, d_l
    if want_grad:
        dca, dda, dloga = dc, dd, dlog
    k = 1
    while act.size and k <= _MAX_ITER:
        j = k // 2
        if k == 1:
            e = -Ba / Ca
            if want_grad:
                e_b = -1.0 / Ca
                e_c = Ba / (Ca * Ca)
        elif k % 2:
            u1, u2, u3 = Ca - 1.0 + j, Ca - 1.0 + 2 * j, Ca + 2.0 * j
            e = -(u1 * (Ba + j)) / (u2 * u3)
            if want_grad:
                e_b = e / (Ba + j)
                e_c = e * (1.0 / u1 - 1.0 / u2 - 1.0 / u3)
        else:
            v1, v2 = Ca - 2.0 + 2 * j, Ca - 1.0 + 2 * j
            den = v1 * v2
            e = -j * (ma - 1.0 + j) / den
            if want_grad:
                e_b = j / den
                e_c = -j / den - e * (1.0 / v1 + 1.0 / v2)
        dk = e * za
        dn = 1.0 + dk * dla
        dn = np.where(np.abs(dn) < _TINY, _TINY, dn)
        dnew = 1.0 / dn
        cn = 1.0 + dk / cla
        cn = np.where(np.abs(cn) < _TINY, _TINY, cn)
        fac = cn * dnew
        ga = ga * fac
        if want_grad:
            # d(d_k)/d(B, C, z)
            ddk = np.stack([e_b * za, e_c * za, e])
            dd_new = -dnew * dnew * (ddk * dla + dk * dda)
            dc_new = ddk / cla - dk * dca / (cla * cla)
            step = dc_new / cn + dd_new / dnew
            dloga = dloga + step
            dca, dda = dc_new, dd_new
        cla, dla = cn, dnew
        if k % _CHECK_EVERY == 0 or k == _MAX_ITER:
            done = np.abs(fac - 1.0) < _EPS
            if want_grad:
                done &= np.all(np.abs(step) <= _EPS * (1.0 + np.abs(dloga)), axis=0)
            if done.any():
                g[act[done]] = ga[done]
                if want_grad:
                    dlog[:, act[done]] = dloga[:, done]
                keep = ~done
                act = act[keep]
                Ba, Ca, za, ma = Ba[keep], Ca[keep], za[keep], ma[keep]
                ga, cla, dla = ga[keep], cla[keep], dla[keep]
                if want_grad:
                    dca, dda, dloga = dca[:, keep], dda[:, keep], dloga[:, keep]
        k += 1
    if act.size:  # only reachable at the iteration cap: keep the best estimate
        g[act] = ga
        if want_grad:
            dlog[:, act] = dloga
    return -np.log(g), (-dlog if want_grad else None)


class _Data:
    """Compressed summary, indexed the way the likelihood needs it.

    The "alive at T" term depends on (x, T) only and the "died after t_x" term
    on (x, t_x) only, so each is evaluated once per distinct pair -- on daily
    data an order of magnitude fewer evaluations than distinct rows.
    """

    def __init__(self, x: FloatArray, t_x: FloatArray, T: FloatArray, w: FloatArray) -> None:
        self.x, self.t_x, self.T, self.w = x, t_x, T, w
        self.ux, self.xi = factorize(x)
        self.jx, self.jT, self.ji = unique_pairs(x, T)
        self.kx, self.kt, self.ki = unique_pairs(x, t_x)


def _loglik(
    theta: FloatArray, d: _Data, want_grad: bool = True
) -> tuple[FloatArray, FloatArray | None, FloatArray]:
    """Per-row log-likelihood, weighted gradient sum (4,) if requested, log P(alive at T)."""
    r, alpha, s, beta = (float(v) for v in theta)
    nj = d.jx.size
    # J term on distinct (x, T); K term on distinct (x, t_x).
    rxJ, rxK = r + d.jx, r + d.kx
    rhoJ, rhoK = rxJ + s, rxK + s
    aT, at, bT, bt = alpha + d.jT, alpha + d.kt, beta + d.jT, beta + d.kt
    l_aT, l_at, l_bT, l_bt = np.log(aT), np.log(at), np.log(bT), np.log(bt)
    if alpha >= beta:
        dlt = alpha - beta
        zJ, zK = dlt / aT, dlt / at
        BJ, BK = rxJ + 1.0, rxK
        baseJ = -(rxJ + 1.0) * l_aT + (1.0 - s) * l_bT
        baseK = -rxK * l_at - s * l_bt
    else:
        dlt = beta - alpha
        zJ, zK = dlt / bT, dlt / bt
        BJ, BK = np.full(nj, s), np.full(d.kx.size, s + 1.0)
        baseJ = -s * l_bT - rxJ * l_aT
        baseK = -(s + 1.0) * l_bt + (1.0 - rxK) * l_at
    lphi, gphi = log_hyp2f1_unit(
        np.concatenate([BJ, BK]),
        np.concatenate([rhoJ + 1.0, rhoK + 1.0]),
        np.concatenate([zJ, zK]),
        want_grad,
    )
    termJ = np.log(rxJ) + baseJ + lphi[:nj] - np.log(rhoJ)
    termK = np.log(s) + baseK + lphi[nj:] - np.log(rhoK)
    tJ, tK = termJ[d.ji], termK[d.ki]
    lb = np.logaddexp(tJ, tK)
    const_x = (gammaln(r + d.ux) - gammaln(r))[d.xi]
    ll = const_x + r * np.log(alpha) + s * np.log(beta) + lb
    log_alive = (-(rxJ * l_aT) - s * l_bT)[d.ji] - lb
    if not want_grad:
        return ll, None, log_alive
    assert gphi is not None
    gB_J, gC_J, gz_J = gphi[:, :nj]
    gB_K, gC_K, gz_K = gphi[:, nj:]
    inv_rhoJ, inv_rhoK = 1.0 / rhoJ, 1.0 / rhoK
    if alpha >= beta:
        # z = (alpha-beta)/(alpha+y): dz/dalpha = (beta+y)/(alpha+y)^2, dz/dbeta = -1/(alpha+y)
        J = (
            -l_aT + gB_J + gC_J - inv_rhoJ + 1.0 / rxJ,
            -(rxJ + 1.0) / aT + gz_J * bT / (aT * aT),
            -l_bT + gC_J - inv_rhoJ,
            (1.0 - s) / bT - gz_J / aT,
        )
        K = (
            -l_at + gB_K + gC_K - inv_rhoK,
            -rxK / at + gz_K * bt / (at * at),
            -l_bt + gC_K - inv_rhoK + 1.0 / s,
            -s / bt - gz_K / at,
        )
    else:
        # z = (beta-alpha)/(beta+y): dz/dalpha = -1/(beta+y), dz/dbeta = (alpha+y)/(beta+y)^2
        J = (
            -l_aT + gC_J - inv_rhoJ + 1.0 / rxJ,
            -rxJ / aT - gz_J / bT,
            -l_bT + gB_J + gC_J - inv_rhoJ,
            -s / bT + gz_J * aT / (bT * bT),
        )
        K = (
            -l_at + gC_K - inv_rhoK,
            (1.0 - rxK) / at - gz_K / bt,
            -l_bt + gB_K + gC_K - inv_rhoK + 1.0 / s,
            -(s + 1.0) / bt + gz_K * at / (bt * bt),
        )
    # Each row's gradient is wJ * dlogJ + wK * dlogK (wJ, wK: shares of the two
    # terms); summed over rows that is one weighted bincount per term.
    wrow = d.w
    sJ = np.bincount(d.ji, weights=wrow * np.exp(tJ - lb), minlength=nj)
    sK = np.bincount(d.ki, weights=wrow * np.exp(tK - lb), minlength=d.kx.size)
    wx = np.bincount(d.xi, weights=wrow, minlength=d.ux.size)
    total = float(wrow.sum())
    grad = np.array([wdot(J[i], sJ) + wdot(K[i], sK) for i in range(4)])
    grad[0] += wdot(digamma(r + d.ux) - digamma(r), wx) + total * np.log(alpha)
    grad[1] += total * r / alpha
    grad[2] += total * np.log(beta)
    grad[3] += total * s / beta
    return ll, grad, log_alive


def _check_params(params: ArrayLike) -> FloatArray:
    theta = np.asarray(params, dtype=np.float64).reshape(-1)
    if theta.size != 4 or not np.all(np.isfinite(theta)) or np.any(theta <= 0):
        raise CLVInputError(
            "Pareto/NBD parameters (r, alpha, s, beta) must be four positive numbers"
        )
    return theta


def pareto_nbd_log_likelihood(
    params: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Per-customer Pareto/NBD log-likelihood at ``params = (r, alpha, s, beta)``."""
    xa, ta, Ta = validate_summary(x, t_x, T)
    theta = _check_params(params)
    ll, _, _ = _loglik(theta, _Data(xa, ta, Ta, np.ones_like(xa)), want_grad=False)
    return ll


@dataclass(frozen=True, kw_only=True)
class ParetoNBDModel(FittedModel):
    """Fitted Pareto/NBD model; times are in the fit's unit (``time_unit_days`` days)."""

    model: ClassVar[str] = "pnbd"
    PARAMS: ClassVar[tuple[str, ...]] = ("r", "alpha", "s", "beta")

    r: float
    alpha: float
    s: float
    beta: float

    @property
    def _theta(self) -> FloatArray:
        return np.array([self.r, self.alpha, self.s, self.beta])

    def log_likelihood_rows(self, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray:
        """Log-likelihood of each customer summary under this model."""
        return pareto_nbd_log_likelihood(self._theta, x, t_x, T)

    def p_alive(self, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray:
        """Probability each customer is still active at the end of their observation window.

        The share of the likelihood coming from "alive at T":
        ``G(r+x) alpha^r beta^s / G(r) (alpha+T)^-(r+x) (beta+T)^-s / L``.
        The expensive part is evaluated once per distinct (x, T) and (x, t_x).
        """
        xa, ta, Ta = validate_summary(x, t_x, T)
        _, _, log_alive = _loglik(self._theta, _Data(xa, ta, Ta, np.ones_like(xa)), False)
        # Rounding can push the ratio a hair above 1 when t_x == T.
        return np.minimum(np.exp(log_alive), 1.0)

    def expected_purchases(
        self, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """Expected number of purchases in the next ``t`` time units, given each history.

        ``p_alive * (r+x)(beta+T) / ((alpha+T)(s-1)) * (1 - ((beta+T)/(beta+T+t))^(s-1))``,
        with the ``s -> 1`` limit handled (``log(1 + t/(beta+T))``).
        """
        xa, ta, Ta = validate_summary(x, t_x, T)
        arr = np.asarray(t, dtype=np.float64)
        if arr.size != 1 or not np.isfinite(arr) or arr < 0:
            raise CLVInputError("t must be a single finite, non-negative horizon")
        alive_e = self._alive_expected_purchases(xa, Ta, arr.reshape(1))[:, 0]
        return self.p_alive(xa, ta, Ta) * alive_e

    def expected_purchases_new(self, t: ArrayLike) -> FloatArray:
        """Expected repeat purchases in ``(0, t]`` for a customer who just made a first purchase."""
        ts = np.atleast_1d(np.asarray(t, dtype=np.float64))
        if np.any(~np.isfinite(ts)) or np.any(ts < 0):
            raise CLVInputError("t must be finite and non-negative")
        return self._alive_expected_purchases(np.zeros(1), np.zeros(1), ts)[0]

    def _alive_expected_purchases(
        self, x: FloatArray, T: FloatArray, horizons: FloatArray
    ) -> FloatArray:
        """E[purchases in (T, T+t] | alive at T, history], shape (len(x), len(horizons))."""
        s = self.s
        bT = (self.beta + T)[:, None]
        L = np.log1p(np.asarray(horizons, dtype=np.float64)[None, :] / bT)
        # (1 - e^{-(s-1)L}) / (s-1) with expm1 is exact also for s close to 1;
        # at s == 1 exactly it is L.
        h = L if s == 1.0 else -np.expm1(-(s - 1.0) * L) / (s - 1.0)
        return np.asarray(((self.r + x) / (self.alpha + T))[:, None] * bT * h, dtype=np.float64)


def fit_pareto_nbd(
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    time_unit_days: float = 1.0,
    start: tuple[float, float, float, float] | None = None,
    max_iter: int = 2000,
) -> ParetoNBDModel:
    """Fit the Pareto/NBD model by maximum likelihood.

    Same conventions as :func:`segmint.clv.fit_bgnbd`; parameters are
    ``(r, alpha, s, beta)``. Uses the stable likelihood and its analytic
    gradient described in the module docstring.
    """
    t0 = time.perf_counter()
    if not (np.isfinite(time_unit_days) and time_unit_days > 0):
        raise CLVInputError("time_unit_days must be a positive number of days")
    summ = compress_summary(x, t_x, T, weights)
    if not np.any((summ.x > 0) & (summ.weights > 0)):
        # The likelihood then keeps rising as the purchase rate goes to zero:
        # there is no maximum to report, only a degenerate boundary.
        raise CLVInputError(
            "no customer has a repeat purchase: the Pareto/NBD purchase rate cannot be estimated"
        )
    d = _Data(summ.x, summ.t_x, summ.T, summ.weights)
    total = float(summ.weights.sum())
    scale = float(np.average(summ.T, weights=summ.weights)) or 1.0
    mean_x = float(np.average(summ.x, weights=summ.weights))
    if start is None:
        alpha0 = float(np.clip(scale / max(mean_x, 1e-3), 1e-3 * scale, 1e3 * scale))
        start = (1.0, alpha0, 1.0, scale)
    theta0 = _check_params(start)

    def fg(theta: FloatArray) -> tuple[float, FloatArray]:
        ll, grad, _ = _loglik(theta, d)
        assert grad is not None
        return float(wdot(ll, d.w)), grad

    shape_b = (-16.0, 16.0)
    # alpha and beta stay within 8 e-folds of the typical age (a purchase or
    # dropout time scale 3,000 times the age of the data is not estimable
    # anyway). This bounds how close to 1 the continued fraction's argument
    # gets, and with it the number of steps it needs.
    scale_b = (np.log(scale) - 8.0, np.log(scale) + 8.0)
    res = maximize_log_likelihood(
        fg, theta0, total, log_bounds=[shape_b, scale_b, shape_b, scale_b], max_iter=max_iter
    )
    r, alpha, s, beta = (float(v) for v in res.params)
    return ParetoNBDModel(
        r=r,
        alpha=alpha,
        s=s,
        beta=beta,
        log_likelihood=res.log_likelihood,
        n_customers=round(total),
        fit_seconds=time.perf_counter() - t0,
        converged=res.converged,
        time_unit_days=float(time_unit_days),
        iterations=res.iterations,
    )
