"""Purchases follow a heterogeneous buy-till-you-die process a CLV model can recover."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import gammaln

from segmint.demo import generate_store
from segmint.demo.people import BGNBD_A, BGNBD_ALPHA, BGNBD_B, BGNBD_R

if TYPE_CHECKING:
    from .conftest import Store


def _orders_by_customer(store: Store) -> dict[str, list[tuple[datetime, dict[str, str]]]]:
    """Every clean order (canonical and Shopify) by customer id, in time order."""
    customers = store.records("customers.csv")
    by_email = {c["email"].strip().lower(): c["customer_id"] for c in customers}
    orders: dict[str, list[tuple[datetime, dict[str, str]]]] = defaultdict(list)
    for o in store.records("orders.csv"):
        who = o["customer_id"] or by_email[o["email"].strip().lower()]
        orders[who].append((datetime.strptime(o["ordered_at"], "%Y-%m-%d %H:%M:%S"), o))
    seen = set()
    for row in store.records("shopify_orders.csv"):
        if row["Name"] in seen:
            continue
        seen.add(row["Name"])
        at = datetime.strptime(row["Created at"], "%Y-%m-%d %H:%M:%S %z")
        utc = at.astimezone(UTC).replace(tzinfo=None)
        orders[by_email[row["Email"].strip().lower()]].append(
            (utc, {"coupon_code": row["Discount Code"]})
        )
    for history in orders.values():
        history.sort(key=lambda pair: pair[0])
    return orders


def _bgnbd_fit(x: np.ndarray, t_x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Maximum likelihood BG/NBD (Fader, Hardie and Lee 2005): r, alpha, a, b."""

    def nll(log_params: np.ndarray) -> float:
        r, alpha, a, b = np.exp(log_params)
        a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
        a3 = -(r + x) * np.log(alpha + t)
        with np.errstate(divide="ignore"):
            a4 = np.where(
                x > 0,
                np.log(a) - np.log(np.maximum(b + x - 1, 1e-12)) - (r + x) * np.log(alpha + t_x),
                -np.inf,
            )
        return float(-(a1 + a2 + np.logaddexp(a3, a4)).sum())

    start = np.log([1.0, 10.0, 1.0, 1.0])
    result = minimize(nll, start, method="Nelder-Mead", options={"maxiter": 4000, "xatol": 1e-5})
    return np.exp(result.x)


def test_a_bgnbd_fit_recovers_the_population_parameters(big_store: Store) -> None:
    end = datetime.fromisoformat(big_store.manifest.end_date).replace(hour=23, minute=59)
    x, t_x, t = [], [], []
    for history in _orders_by_customer(big_store).values():
        first = history[0][0]
        x.append(len(history) - 1)
        t_x.append((history[-1][0] - first).total_seconds() / 86_400)
        t.append((end - first).total_seconds() / 86_400)
    r, alpha, a, b = _bgnbd_fit(np.array(x), np.array(t_x), np.array(t))
    print(f"BG/NBD fit: r={r:.3f} alpha={alpha:.2f} a={a:.3f} b={b:.3f}")
    # ~4,800 buyers: the estimates land within a third of the truth (they are correlated:
    # r and alpha move together, as do a and b, so their ratios are held tighter).
    assert r == pytest.approx(BGNBD_R, rel=0.35)
    assert alpha == pytest.approx(BGNBD_ALPHA, rel=0.45)
    assert r / alpha == pytest.approx(BGNBD_R / BGNBD_ALPHA, rel=0.2)
    assert a == pytest.approx(BGNBD_A, rel=0.5)
    assert b == pytest.approx(BGNBD_B, rel=0.6)
    assert a / (a + b) == pytest.approx(BGNBD_A / (BGNBD_A + BGNBD_B), rel=0.3)


def test_customers_differ_in_how_often_they_come_back(clean_store: Store) -> None:
    orders = _orders_by_customer(clean_store)
    counts = Counter(len(h) for h in orders.values())
    buyers = sum(counts.values())
    assert 0.7 < buyers / clean_store.manifest.customers < 0.9  # a fifth never order
    assert 0.25 < counts[1] / buyers < 0.7  # many never return
    assert sum(n for k, n in counts.items() if k >= 6) > 0.03 * buyers  # a loyal few


def test_orders_peak_in_the_gift_season(clean_store: Store) -> None:
    days = Counter(
        at.date() for history in _orders_by_customer(clean_store).values() for at, _ in history
    )

    def per_day(start: str, stop: str) -> float:
        lo, hi = datetime.fromisoformat(start).date(), datetime.fromisoformat(stop).date()
        return sum(n for d, n in days.items() if lo <= d < hi) / (hi - lo).days

    # Late November to mid December beats the weeks after it, although the store grows.
    assert per_day("2025-11-20", "2025-12-20") > 1.2 * per_day("2026-01-05", "2026-02-15")


def test_tastes_and_coupon_habits_differ(clean_store: Store) -> None:
    products = {p["product_id"]: p["category"] for p in clean_store.records("products.csv")}
    lines: dict[str, list[str]] = defaultdict(list)
    owner = {o["order_id"]: o["customer_id"] for o in clean_store.records("orders.csv")}
    for line in clean_store.records("order_lines.csv"):
        lines[owner[line["order_id"]]].append(products[line["product_id"]])
    shares = [c.count("apparel") / len(c) for who, c in lines.items() if who and len(c) >= 4]
    assert sum(s > 0.75 for s in shares) >= 10  # apparel lovers
    assert sum(s == 0 for s in shares) >= 10  # and customers who never buy apparel
    coupon_share = [
        sum(bool(o["coupon_code"]) for _, o in h) / len(h)
        for h in _orders_by_customer(clean_store).values()
        if len(h) >= 3
    ]
    assert sum(s > 0.5 for s in coupon_share) >= 5  # coupon-inclined
    assert sum(s == 0 for s in coupon_share) >= 20  # full-price buyers


def test_small_stores_work(tmp_path: Path) -> None:
    m = generate_store(tmp_path / "one", customers=1, seed=0, events_per_customer=0)
    assert m.file("customers.csv").clean_rows == 1
    assert m.file("products.csv").rows >= 800
    assert [f.kind for f in m.files].count("events") == 0
    assert not (tmp_path / "one" / "events.jsonl").exists()
    m = generate_store(tmp_path / "two", customers=3, seed=0, events_per_customer=1)
    assert m.file("events.jsonl").rows > 3
