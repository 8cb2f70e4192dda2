"""Pareto/NBD likelihood on extreme inputs against brute-force integration.

The reference evaluates the textbook integral representation

    L = G(r+x) a^r b^s / G(r) * [ (a+T)^-(r+x) (b+T)^-s
                                  + s * int_{t_x}^{T} (a+y)^-(r+x) (b+y)^-(s+1) dy ]

("alive at T" plus "died at y in (t_x, T]") with scipy.integrate.quad, in log
space and on geometrically growing pieces so that both length scales of the
integrand are resolved. It shares no code or algebra with the implementation
(which uses a positive two-term rearrangement and a continued fraction).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import gammaln

from segmint import clv
from segmint.clv.pareto_nbd import log_hyp2f1_unit


def reference_loglik(
    r: float, alpha: float, s: float, beta: float, x: float, t_x: float, T: float
) -> float:
    def h(y: float) -> float:
        return -(r + x) * math.log(alpha + y) - (s + 1.0) * math.log(beta + y)

    h0 = h(t_x)
    total = 0.0
    if t_x < T:
        # Smallest length scale of the integrand near t_x, then doubling pieces.
        scale = min(alpha + t_x, beta + t_x) / (r + x + s + 1.0)
        lo, width = t_x, scale
        while lo < T:
            hi = min(T, lo + width)
            piece, _ = quad(
                lambda y: math.exp(h(y) - h0), lo, hi, epsabs=0.0, epsrel=1e-13, limit=200
            )
            total += piece
            # The integrand decreases, so what is left is at most exp(h(hi)-h0) * (T-hi).
            if math.exp(h(hi) - h0) * (T - hi) < 1e-18 * total:
                break
            lo, width = hi, 2.0 * width
    alive = -(r + x) * math.log(alpha + T) - s * math.log(beta + T)
    died = math.log(s) + h0 + math.log(total) if total > 0 else -math.inf
    const = gammaln(r + x) - gammaln(r) + r * math.log(alpha) + s * math.log(beta)
    return float(const + np.logaddexp(alive, died))


EXTREME = [
    # (r, s, alpha/beta ratio, x, T, t_x as a fraction of T)
    (r, s, ratio, x, T, frac)
    for r, s in ((0.2, 0.3), (2.5, 4.0))
    for ratio, x, T, frac in itertools.product(
        (1e-3, 1e-1, 1.0, 1e1, 1e3), (0, 1, 30, 10_000), (1.0, 10_000.0), (0.02, 0.999)
    )
]


@pytest.mark.parametrize(("r", "s", "ratio", "x", "T", "frac"), EXTREME)
def test_extreme_inputs_match_integration(r, s, ratio, x, T, frac):
    alpha = 10.0
    beta = alpha / ratio
    t_x = 0.0 if x == 0 else frac * T
    ours = clv.pareto_nbd_log_likelihood([r, alpha, s, beta], [x], [t_x], [T])[0]
    ref = reference_loglik(r, alpha, s, beta, x, t_x, T)
    assert np.isfinite(ours)
    assert ours == pytest.approx(ref, abs=1e-8 + 1e-11 * abs(ref))


@pytest.mark.parametrize("ratio", [1e-3, 1.0, 1e3])
def test_p_alive_matches_integration_share(ratio):
    r, alpha, s = 0.7, 10.0, 0.9
    beta = alpha / ratio
    x = np.array([0.0, 3.0, 200.0, 5000.0])
    T = np.array([50.0, 60.0, 400.0, 9000.0])
    t_x = np.array([0.0, 12.0, 399.0, 100.0])
    m = clv.ParetoNBDModel(r=r, alpha=alpha, s=s, beta=beta)
    pa = m.p_alive(x, t_x, T)
    for i in range(x.size):
        ll = reference_loglik(r, alpha, s, beta, x[i], t_x[i], T[i])
        const = gammaln(r + x[i]) - gammaln(r) + r * math.log(alpha) + s * math.log(beta)
        alive = const - (r + x[i]) * math.log(alpha + T[i]) - s * math.log(beta + T[i])
        assert pa[i] == pytest.approx(math.exp(alive - ll), rel=1e-9, abs=1e-300)


def test_hypergeometric_helper_against_series():
    # 2F1(1, B; C; z) = sum_k (B)_k / (C)_k z^k, summed directly where it converges fast.
    rng = np.random.default_rng(3)
    B = rng.uniform(0.05, 40, 200)
    C = B + rng.uniform(0.05, 30, 200)
    z = rng.uniform(0.0, 0.6, 200)
    got, _ = log_hyp2f1_unit(B, C, z)
    for i in range(200):
        term, total, k = 1.0, 1.0, 0
        while term > 1e-18 * total:
            term *= (B[i] + k) / (C[i] + k) * z[i]
            total += term
            k += 1
        assert math.exp(got[i]) == pytest.approx(total, rel=1e-13)


def test_hypergeometric_helper_gradient():
    B = np.array([0.3, 5.0, 900.0, 1.2])
    C = np.array([1.5, 5.5, 902.0, 40.0])
    z = np.array([0.9, 0.999, 0.99, 0.0])
    _, g = log_hyp2f1_unit(B, C, z, want_grad=True)
    assert g is not None
    for j, arr in enumerate((B, C, z)):
        h = 1e-6 * np.maximum(np.abs(arr), 1e-3)
        up, dn = arr.copy(), arr.copy()
        up += h
        dn -= np.where(arr - h < 0, 0.0, h)  # keep z >= 0
        args_up = [B, C, z]
        args_dn = [B, C, z]
        args_up[j], args_dn[j] = up, dn
        fd = (log_hyp2f1_unit(*args_up)[0] - log_hyp2f1_unit(*args_dn)[0]) / (up - dn)
        np.testing.assert_allclose(g[j], fd, rtol=2e-5, atol=1e-8)
