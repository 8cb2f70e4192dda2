"""Analytic gradients against finite differences; weighted fits against raw fits."""

from __future__ import annotations

import numpy as np
import pytest

from segmint import clv
from segmint.clv import bgnbd, gamma_gamma, pareto_nbd


def central_difference(f, theta: np.ndarray, rel: float = 1e-6) -> np.ndarray:
    out = np.empty_like(theta)
    for i in range(theta.size):
        h = rel * theta[i]
        up, dn = theta.copy(), theta.copy()
        up[i] += h
        dn[i] -= h
        out[i] = (f(up) - f(dn)) / (2 * h)
    return out


BG_POINTS = [
    [0.243, 4.414, 0.793, 2.426],
    [2.0, 0.5, 5.0, 0.3],
    [0.05, 80.0, 0.2, 9.0],
]
PN_POINTS = [
    [0.553, 10.578, 0.606, 11.669],
    [0.55, 100.0, 0.61, 1.67],  # alpha >> beta branch
    [2.5, 0.3, 3.1, 50.0],  # beta >> alpha branch
    [0.8, 7.0, 1.0, 7.0],  # alpha == beta: the two branches meet
]


@pytest.mark.parametrize("theta", BG_POINTS)
def test_bgnbd_gradient(cdnow, theta):
    d = bgnbd._Data(cdnow["x"], cdnow["t_x"], cdnow["T"], np.ones(cdnow["x"].size))
    theta = np.array(theta)
    _, grad = bgnbd._loglik(theta, d)
    fd = central_difference(lambda th: bgnbd._loglik(th, d, False)[0].sum(), theta)
    np.testing.assert_allclose(grad.sum(axis=1), fd, rtol=1e-6, atol=1e-5)
    # The aggregated objective used by the fit gives the same value and gradient.
    s = clv.compress_summary(cdnow["x"], cdnow["t_x"], cdnow["T"])
    total, g_total = bgnbd._objective(theta, bgnbd._Data(s.x, s.t_x, s.T, s.weights))
    assert total == pytest.approx(bgnbd._loglik(theta, d, False)[0].sum(), rel=1e-12)
    np.testing.assert_allclose(g_total, grad.sum(axis=1), rtol=1e-10)


@pytest.mark.parametrize("theta", PN_POINTS)
def test_pareto_nbd_gradient(cdnow, theta):
    d = pareto_nbd._Data(cdnow["x"], cdnow["t_x"], cdnow["T"], np.ones(cdnow["x"].size))
    theta = np.array(theta)
    _, grad, _ = pareto_nbd._loglik(theta, d)
    fd = central_difference(lambda th: pareto_nbd._loglik(th, d, False)[0].sum(), theta)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-5)


def test_pareto_nbd_gradient_extreme_rows():
    x = np.array([0.0, 1.0, 40.0, 3000.0, 10_000.0])
    t_x = np.array([0.0, 0.5, 900.0, 20.0, 9_999.0])
    T = np.array([10_000.0, 3.0, 1000.0, 5000.0, 10_000.0])
    d = pareto_nbd._Data(x, t_x, T, np.ones(x.size))
    for theta in ([0.4, 5000.0, 0.3, 5.0], [3.0, 2.0, 0.5, 2000.0]):
        th = np.array(theta)
        _, grad, _ = pareto_nbd._loglik(th, d)
        fd = central_difference(lambda t: pareto_nbd._loglik(t, d, False)[0].sum(), th)
        np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("theta", [[6.25, 3.74, 15.44], [0.5, 12.0, 2.0], [40.0, 1.5, 300.0]])
def test_gamma_gamma_gradient(cdnow, theta):
    rep = cdnow["x"] > 0
    d = gamma_gamma._Data(cdnow["x"][rep], cdnow["m"][rep], np.ones(int(rep.sum())))
    theta = np.array(theta)
    _, grad = gamma_gamma._loglik(theta, d)
    fd = central_difference(lambda th: gamma_gamma._loglik(th, d, False)[0].sum(), theta)
    np.testing.assert_allclose(grad.sum(axis=1), fd, rtol=1e-6, atol=1e-5)
    # The aggregated objective used by the fit gives the same value and gradient.
    total, g_total = gamma_gamma._objective(theta, d)
    assert total == pytest.approx(gamma_gamma._loglik(theta, d, False)[0].sum(), rel=1e-12)
    np.testing.assert_allclose(g_total, grad.sum(axis=1), rtol=1e-10)


# --------------------------------------------------------------------------- compression


def test_compress_summary_roundtrip(cdnow):
    x, t_x, T = cdnow["x"], cdnow["t_x"], cdnow["T"]
    s = clv.compress_summary(x, t_x, T)
    assert s.weights.sum() == x.size
    assert s.x.size < x.size
    np.testing.assert_array_equal(s.x[s.inverse], x)
    np.testing.assert_array_equal(s.t_x[s.inverse], t_x)
    np.testing.assert_array_equal(s.T[s.inverse], T)
    # rows are unique
    assert len(set(zip(s.x, s.t_x, s.T, strict=True))) == s.x.size


def test_compress_whole_day_fast_path_matches_generic():
    rng = np.random.default_rng(5)
    T = rng.integers(0, 400, 5000).astype(float)
    x = rng.integers(0, 5, 5000).astype(float)
    x[T == 0] = 0
    t_x = np.where(x > 0, np.ceil(rng.uniform(0, 1, 5000) * T).clip(1), 0.0)
    fast = clv.compress_summary(x, t_x, T)
    slow = clv.compress_summary(x, t_x + 0.0, T + 1e-9)  # non-integers: generic path
    assert fast.x.size == slow.x.size
    np.testing.assert_array_equal(fast.weights, slow.weights)
    np.testing.assert_array_equal(fast.t_x, slow.t_x)


@pytest.mark.parametrize("which", ["bgnbd", "pnbd"])
def test_weighted_likelihood_equals_raw(cdnow, which):
    x, t_x, T = cdnow["x"], cdnow["t_x"], cdnow["T"]
    s = clv.compress_summary(x, t_x, T)
    if which == "bgnbd":
        f, theta = clv.bgnbd_log_likelihood, [0.3, 5.0, 0.9, 2.0]
    else:
        f, theta = clv.pareto_nbd_log_likelihood, [0.6, 9.0, 0.5, 14.0]
    raw = f(theta, x, t_x, T).sum()
    weighted = f(theta, s.x, s.t_x, s.T) @ s.weights
    assert weighted == pytest.approx(raw, rel=1e-12)


def test_compressed_fit_equals_uncompressed_fit(cdnow):
    x, t_x, T = cdnow["x"], cdnow["t_x"], cdnow["T"]
    s = clv.compress_summary(x, t_x, T)
    for fit in (clv.fit_bgnbd, clv.fit_pareto_nbd):
        a = fit(x, t_x, T)
        b = fit(s.x, s.t_x, s.T, weights=s.weights)
        for k in a.params:
            assert b.params[k] == pytest.approx(a.params[k], rel=1e-6)
        assert b.log_likelihood == pytest.approx(a.log_likelihood, rel=1e-12)
        assert b.n_customers == a.n_customers == x.size
    sp = clv.compress_spend(cdnow["x"], cdnow["m"])
    g1 = clv.fit_gamma_gamma(cdnow["x"], cdnow["m"])
    g2 = clv.fit_gamma_gamma(sp.x, sp.m, weights=sp.weights)
    for k in g1.params:
        assert g2.params[k] == pytest.approx(g1.params[k], rel=1e-6)


def test_duplicating_customers_is_the_same_as_weighting(cdnow):
    x, t_x, T = cdnow["x"], cdnow["t_x"], cdnow["T"]
    doubled = clv.fit_bgnbd(np.tile(x, 2), np.tile(t_x, 2), np.tile(T, 2))
    weighted = clv.fit_bgnbd(x, t_x, T, weights=np.full(x.size, 2.0))
    assert doubled.params == pytest.approx(weighted.params, rel=1e-9)
    assert doubled.log_likelihood == pytest.approx(
        2 * clv.fit_bgnbd(x, t_x, T).log_likelihood, rel=1e-9
    )
