"""Predictions against independent evaluations (closed forms, numerical integrals)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import betaln, hyp2f1

from segmint import clv

BG = clv.BGNBDModel(r=0.243, alpha=4.414, a=0.793, b=2.426, time_unit_days=7)
PN = clv.ParetoNBDModel(r=0.553, alpha=10.578, s=0.606, beta=11.669, time_unit_days=7)
GG = clv.GammaGammaModel(p=6.25, q=3.74, v=15.44)


def bg_expected_textbook(m, t, x, t_x, T):
    """Fader, Hardie & Lee (2005) eq. (10), straight from the paper (moderate x only)."""
    r, al, a, b = m.r, m.alpha, m.a, m.b
    z = t / (al + T + t)
    head = (a + b + x - 1) / (a - 1)
    body = 1 - ((al + T) / (al + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z)
    alive = 1.0 if x == 0 else 1 / (1 + a / (b + x - 1) * ((al + T) / (al + t_x)) ** (r + x))
    return head * body * alive


def bg_expected_integral(m, t, x, T):
    """E[purchases | alive] by integrating (1 - e^{-lambda p t}) / p over both posteriors."""
    r, al, a, b = m.r, m.alpha, m.a, m.b

    def over_p(p):
        dens = math.exp((a - 1) * math.log(p) + (b + x - 1) * math.log1p(-p) - betaln(a, b + x))
        inner = -math.expm1(-(r + x) * math.log1p(p * t / (al + T))) / p
        return dens * inner

    val, _ = quad(over_p, 0, 1, epsabs=0, epsrel=1e-11, limit=400, points=[1e-8, 1e-4, 1e-2])
    return val


@pytest.mark.parametrize(
    ("x", "t_x", "T"), [(0, 0, 38.86), (2, 30.43, 38.86), (7, 29.43, 38.86), (1, 1.71, 32.0)]
)
def test_bgnbd_expected_purchases_match_paper_formula(x, t_x, T):
    for t in (4.0, 39.0, 52.0, 200.0):
        ours = BG.expected_purchases(t, [x], [t_x], [T])[0]
        assert ours == pytest.approx(bg_expected_textbook(BG, t, x, t_x, T), rel=1e-10)


@pytest.mark.parametrize(
    ("x", "T", "t"),
    [(0, 0.0, 52.0), (50, 300.0, 52.0), (3000, 5000.0, 520.0), (10_000, 10_000.0, 100.0)],
)
def test_bgnbd_alive_expectation_matches_integral(x, T, t):
    # Large x is where the paper's closed form is unusable in double precision.
    m = clv.BGNBDModel(r=0.8, alpha=3.0, a=1.7, b=0.9)
    ours = m._alive_expected_purchases(np.array([float(x)]), np.array([T]), np.array([t]))[0, 0]
    assert ours == pytest.approx(bg_expected_integral(m, t, x, T), rel=1e-9)


def test_bgnbd_p_alive_closed_form():
    x = np.array([0.0, 1.0, 2.0, 10.0])
    t_x = np.array([0.0, 5.0, 30.43, 20.0])
    T = np.array([10.0, 38.86, 38.86, 38.86])
    expected = [1.0] + [
        1 / (1 + BG.a / (BG.b + xi - 1) * ((BG.alpha + Ti) / (BG.alpha + ti)) ** (BG.r + xi))
        for xi, ti, Ti in zip(x[1:], t_x[1:], T[1:], strict=True)
    ]
    np.testing.assert_allclose(BG.p_alive(x, t_x, T), expected, rtol=1e-12)


def test_pareto_expected_purchases_matches_posterior_integral():
    # Given alive at T: lambda ~ Gamma(r+x, alpha+T), mu ~ Gamma(s, beta+T), and the
    # expected count in (T, T+t] is E[lambda] * E[(1 - e^{-mu t}) / mu].
    for x, t_x, T, t in [(0, 0.0, 38.86, 39.0), (2, 30.43, 38.86, 39.0), (25, 10.0, 60.0, 5.0)]:
        s, b = PN.s, PN.beta + T
        val, _ = quad(
            lambda mu, t=t, s=s, b=b: (
                -math.expm1(-mu * t)
                / mu
                * math.exp(s * math.log(b) + (s - 1) * math.log(mu) - b * mu - math.lgamma(s))
            ),
            0,
            np.inf,
            epsabs=0,
            epsrel=1e-11,
            limit=400,
        )
        alive_e = (PN.r + x) / (PN.alpha + T) * val
        ours = PN.expected_purchases(t, [x], [t_x], [T])[0]
        assert ours == pytest.approx(PN.p_alive([x], [t_x], [T])[0] * alive_e, rel=1e-8)


def test_pareto_s_equal_one_limit():
    near = clv.ParetoNBDModel(r=0.5, alpha=10.0, s=1.0 + 1e-9, beta=12.0)
    exact = clv.ParetoNBDModel(r=0.5, alpha=10.0, s=1.0, beta=12.0)
    a = near.expected_purchases(39, [3], [20.0], [38.0])
    b = exact.expected_purchases(39, [3], [20.0], [38.0])
    assert np.isfinite(b).all()
    assert a == pytest.approx(b, rel=1e-7)
    # s == 1: E[X(t) | alive] = (r+x)(beta+T)/(alpha+T) * log(1 + t/(beta+T))
    alive_e = exact._alive_expected_purchases(np.array([3.0]), np.array([38.0]), np.array([39.0]))
    assert alive_e[0, 0] == pytest.approx(3.5 * 50.0 / 48.0 * math.log(1 + 39.0 / 50.0), rel=1e-12)


def test_new_customer_expectations():
    t = np.array([0.0, 10.0, 39.0, 78.0])
    # Pareto/NBD: r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)]
    pn = PN.r * PN.beta / (PN.alpha * (PN.s - 1)) * (1 - (PN.beta / (PN.beta + t)) ** (PN.s - 1))
    np.testing.assert_allclose(PN.expected_purchases_new(t), pn, rtol=1e-12)
    # BG/NBD: (a+b-1)/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1; t/(alpha+t))]
    bg = (
        (BG.a + BG.b - 1)
        / (BG.a - 1)
        * (
            1
            - (BG.alpha / (BG.alpha + t)) ** BG.r
            * hyp2f1(BG.r, BG.b, BG.a + BG.b - 1, t / (BG.alpha + t))
        )
    )
    np.testing.assert_allclose(BG.expected_purchases_new(t), bg, rtol=1e-10, atol=1e-15)


def test_gamma_gamma_expected_order_value():
    # Posterior of the rate nu is Gamma(q + p x, v + x m); E[order] = p E[1/nu].
    x = np.array([0.0, 1.0, 4.0, 30.0])
    m = np.array([0.0, 15.0, 42.5, 20.0])
    expected = GG.p * (GG.v + x * m) / (GG.q + GG.p * x - 1)
    np.testing.assert_allclose(GG.expected_order_value(x, m), expected, rtol=1e-14)
    assert GG.expected_order_value([0], [0.0])[0] == pytest.approx(GG.mean_order_value)
    # Heavy buyers' prediction approaches their own mean.
    assert GG.expected_order_value([10_000], [20.0])[0] == pytest.approx(20.0, rel=1e-3)


def test_clv_by_definition():
    # Discounted sum of month-by-month expected purchases, computed naively.
    x = np.array([0.0, 2.0, 7.0])
    t_x = np.array([0.0, 30.43, 29.43])
    T = np.array([38.86, 38.86, 38.86])
    value = np.array([30.0, 25.0, 40.0])
    d = 0.01
    for model in (BG, PN):
        month = clv.DAYS_PER_MONTH / model.time_unit_days
        prev = np.zeros(3)
        naive = np.zeros(3)
        for k in range(1, 13):
            cum = model.expected_purchases(k * month, x, t_x, T)
            naive += (cum - prev) * value / (1 + d) ** k
            prev = cum
        ours = clv.customer_lifetime_value(model, x, t_x, T, value, monthly_discount_rate=d)
        np.testing.assert_allclose(ours, naive, rtol=1e-10)


def test_clv_new_customer_closed_form():
    # Pareto/NBD, brand-new customer: P(alive) = 1 and E[X(t)] in closed form.
    m = clv.ParetoNBDModel(r=0.5, alpha=20.0, s=1.5, beta=200.0, time_unit_days=1)
    months = np.arange(0, 13) * 365.25 / 12
    cum = m.r * m.beta / (m.alpha * (m.s - 1)) * (1 - (m.beta / (m.beta + months)) ** (m.s - 1))
    rate = 1.1 ** (1 / 12) - 1
    expected = sum((cum[k] - cum[k - 1]) * 50.0 / (1 + rate) ** k for k in range(1, 13))
    got = clv.customer_lifetime_value(m, [0], [0.0], [0.0], 50.0, annual_discount_rate=0.10)
    assert got[0] == pytest.approx(expected, rel=1e-12)


def test_monthly_rate():
    assert clv.monthly_rate(0.10) == pytest.approx(0.0079741404, rel=1e-8)
    assert clv.monthly_rate(0.0) == 0.0
    with pytest.raises(clv.CLVInputError):
        clv.monthly_rate(-1.5)


def test_periods_conversion():
    assert BG.periods(91) == pytest.approx(13.0)
    assert clv.BGNBDModel(r=1, alpha=1, a=1, b=1).periods(30) == 30


def test_predictions_are_vectorised_and_finite_on_many_customers():
    rng = np.random.default_rng(7)
    n = 50_000
    T = rng.integers(0, 730, n).astype(float)
    x = rng.poisson(2.0, n).astype(float)
    x[T == 0] = 0
    t_x = np.where(x > 0, np.ceil(rng.uniform(0, 1, n) * T).clip(1, None), 0.0)
    for model in (BG, PN):
        v = clv.customer_lifetime_value(
            model, x, t_x, T, GG.expected_order_value(x, np.where(x > 0, 20.0, 0.0))
        )
        assert v.shape == (n,) and np.all(np.isfinite(v)) and np.all(v >= 0)


@pytest.mark.parametrize(("a", "b"), [(0.8, 2.4), (0.3, 0.7), (0.2, 0.1), (2.0, 1e4), (0.05, 1e7)])
def test_beta_quadrature_rule_moments(a, b):
    # Gauss rule with n nodes integrates p^k exactly for k < 2n: E[p^k] = prod (a+i)/(a+b+i).
    from segmint.clv.bgnbd import _beta_rule

    p, w = _beta_rule(a, b, 16)
    assert w.sum() == pytest.approx(1.0) and np.all((p > 0) & (p < 1))
    for k in (1, 2, 7, 20):
        exact = np.prod([(a + i) / (a + b + i) for i in range(k)])
        assert (w * p**k).sum() == pytest.approx(exact, rel=1e-12)


def test_bgnbd_expectation_with_u_shaped_dropout_prior():
    # a + b < 1 makes the paper's 2F1(., .; a+b+x-1; z) have a negative third
    # parameter for x = 0; the quadrature does not care.
    m = clv.BGNBDModel(r=0.6, alpha=2.0, a=0.3, b=0.5)
    for x, T, t in [(0, 0.0, 10.0), (0, 30.0, 52.0), (1, 12.0, 5.0)]:
        ours = m._alive_expected_purchases(np.array([float(x)]), np.array([T]), np.array([t]))
        assert ours[0, 0] == pytest.approx(bg_expected_integral(m, t, x, T), rel=1e-9)
