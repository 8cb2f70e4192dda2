"""Fixtures for the CLV tests: the CDNOW data set and seeded model simulators.

``data/cdnow_summary.csv`` is the public CDNOW sample used throughout the
BG/NBD and Pareto/NBD literature: 2,357 customers who made their first purchase
in the first 12 weeks of 1997, calibration period of 39 weeks (time unit: week).
Columns: ``x``, ``t_x``, ``T`` (calibration summary), ``m`` (mean value of the
repeat purchases in the calibration period, dollars), ``x_star`` (repeat
purchases in the 39-week holdout period) and ``first_day`` (days from
1997-01-01 to the first purchase). ``data/cdnow_weekly_repeat.csv`` counts the
cohort's repeat purchases per week over all 78 weeks. Both were derived from
the CDNOW_sample transaction log (same-day purchases merged).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parent / "data"


def _read(name: str) -> dict[str, np.ndarray]:
    with (DATA / name).open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {k: np.array([float(r[k]) for r in rows]) for k in rows[0]}


@pytest.fixture(scope="session")
def cdnow() -> dict[str, np.ndarray]:
    return _read("cdnow_summary.csv")


@pytest.fixture(scope="session")
def cdnow_weekly() -> np.ndarray:
    return _read("cdnow_weekly_repeat.csv")["repeat_transactions"]


# --------------------------------------------------------------------------- simulators
# Each follows the model's story literally, so fitting them back is a test of
# the likelihood that does not rely on any formula in the code under test.


def simulate_bgnbd(
    n: int, r: float, alpha: float, a: float, b: float, T: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Purchases at Poisson rate lambda ~ Gamma(r, alpha) until dropping out with
    probability p ~ Beta(a, b) right after some repeat purchase."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    x = np.zeros(n)
    t_x = np.zeros(n)
    t = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    while alive.any():
        idx = np.flatnonzero(alive)
        t[idx] += rng.exponential(1.0 / lam[idx])
        made = t[idx] <= T[idx]
        done = idx[~made]
        alive[done] = False
        buy = idx[made]
        x[buy] += 1
        t_x[buy] = t[buy]
        alive[buy[rng.random(buy.size) < p[buy]]] = False
    return x, t_x, T.astype(float)


def simulate_pnbd(
    n: int, r: float, alpha: float, s: float, beta: float, T: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Purchases at Poisson rate lambda ~ Gamma(r, alpha) during an exponential
    lifetime with rate mu ~ Gamma(s, beta)."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1.0 / alpha, n)
    mu = rng.gamma(s, 1.0 / beta, n)
    end = np.minimum(T, rng.exponential(1.0 / mu))
    x = np.zeros(n)
    t_x = np.zeros(n)
    t = np.zeros(n)
    active = np.ones(n, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        t[idx] += rng.exponential(1.0 / lam[idx])
        made = t[idx] <= end[idx]
        active[idx[~made]] = False
        buy = idx[made]
        x[buy] += 1
        t_x[buy] = t[buy]
    return x, t_x, T.astype(float)


def simulate_spend(x: np.ndarray, p: float, q: float, v: float, seed: int) -> np.ndarray:
    """Mean of x order values, each Gamma(p, nu), nu ~ Gamma(q, v); 0 when x == 0."""
    rng = np.random.default_rng(seed)
    nu = rng.gamma(q, 1.0 / v, x.size)
    m = np.zeros(x.size)
    for i in np.flatnonzero(x > 0):
        m[i] = rng.gamma(p, 1.0 / nu[i], int(x[i])).mean()
    return m


def simulate_pnbd_holdout(
    n: int, r: float, alpha: float, s: float, beta: float, T: np.ndarray, holdout: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pareto/NBD histories over calibration ``T`` plus ``holdout``: the calibration
    summary (x, t_x, T) and the number of purchases in the holdout window."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1.0 / alpha, n)
    mu = rng.gamma(s, 1.0 / beta, n)
    death = rng.exponential(1.0 / mu)
    x = np.zeros(n)
    t_x = np.zeros(n)
    x_star = np.zeros(n)
    t = np.zeros(n)
    active = np.ones(n, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        t[idx] += rng.exponential(1.0 / lam[idx])
        ok = (t[idx] <= death[idx]) & (t[idx] <= T[idx] + holdout)
        active[idx[~ok]] = False
        buy = idx[ok]
        cal = buy[t[buy] <= T[buy]]
        x[cal] += 1
        t_x[cal] = t[cal]
        x_star[buy[t[buy] > T[buy]]] += 1
    return x, t_x, T.astype(float), x_star
