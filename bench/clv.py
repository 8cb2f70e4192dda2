"""Benchmark segmint's CLV models against the lifetimes package.

    python bench/clv.py [--sizes 100000,1000000] [--skip-incumbent-above N] [--json out.json]

For each size it simulates customers from the models' own generative processes
(BG/NBD data for BG/NBD, Pareto/NBD data for Pareto/NBD, Gamma-Gamma spend for
the repeat buyers) over a two-year acquisition window, with purchase times
rounded to whole days as an order table would give them. It then fits each
model with segmint and with lifetimes (BetaGeoFitter, ParetoNBDFitter,
GammaGammaFitter) in the same process, and prints fit times, their ratio,
both parameter sets and the log-likelihood of both parameter sets (both
evaluated with segmint's likelihood on the full data, so they are comparable),
followed by prediction timings and a numerical-stability probe on extreme
inputs.

lifetimes is called the way its documentation shows (one row per customer).
On NumPy 2.4 / pandas 3.1 it runs without monkeypatches; only its warnings are
silenced (see ``_lifetimes``).
"""

from __future__ import annotations

import os

# Single-threaded BLAS for both libraries: scipy's L-BFGS-B (used by segmint
# and by lifetimes' BG/NBD and Gamma-Gamma fits) makes tiny LAPACK calls whose
# OpenBLAS worker threads thrash on a small shared machine. Must be set before
# NumPy is imported; an explicit setting in the environment wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from segmint import clv

DAY = 1.0  # the benchmark works in days
TRUE = {
    "bgnbd": {"r": 0.5, "alpha": 60.0, "a": 0.8, "b": 2.5},
    "pnbd": {"r": 0.5, "alpha": 60.0, "s": 0.6, "beta": 400.0},
    "gamma_gamma": {"p": 6.0, "q": 4.0, "v": 15.0},
}
MAX_AGE_DAYS = 730


# --------------------------------------------------------------------------- data


def _round_recency(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    # Whole days; a repeat purchase is at least one day after the first one.
    return np.where(x > 0, np.clip(np.round(t_x), 1.0, np.maximum(T, 1.0)), 0.0)


def simulate_bgnbd(n: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    p = TRUE["bgnbd"]
    T = rng.integers(0, MAX_AGE_DAYS + 1, n).astype(float)
    lam = rng.gamma(p["r"], 1.0 / p["alpha"], n)
    drop = rng.beta(p["a"], p["b"], n)
    n_poisson = rng.poisson(lam * T)
    # Dropout happens right after a repeat purchase: the customer makes
    # min(N(T), J) purchases, J ~ Geometric(p) counting the fatal one.
    x = np.minimum(n_poisson, rng.geometric(drop)).astype(float)
    # Given N(T) = k purchase times uniform on (0, T), the x-th is T * Beta(x, k - x + 1).
    t_x = np.where(x > 0, T * rng.beta(np.maximum(x, 1), n_poisson - x + 1), 0.0)
    return x, _round_recency(x, t_x, T), T


def simulate_pnbd(n: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    p = TRUE["pnbd"]
    T = rng.integers(0, MAX_AGE_DAYS + 1, n).astype(float)
    lam = rng.gamma(p["r"], 1.0 / p["alpha"], n)
    mu = rng.gamma(p["s"], 1.0 / p["beta"], n)
    window = np.minimum(T, rng.exponential(1.0 / mu))
    x = rng.poisson(lam * window).astype(float)
    t_x = np.where(x > 0, window * rng.beta(np.maximum(x, 1), 1.0), 0.0)
    return x, _round_recency(x, t_x, T), T


def simulate_spend(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    p = TRUE["gamma_gamma"]
    nu = rng.gamma(p["q"], 1.0 / p["v"], x.size)
    # Mean of x Gamma(p, nu) order values is Gamma(p x, rate nu x); rounded to cents.
    xs = np.maximum(x, 1.0)
    m = rng.gamma(p["p"] * xs, 1.0 / (nu * xs))
    return np.where(x > 0, np.maximum(np.round(m, 2), 0.01), 0.0)


# --------------------------------------------------------------------------- lifetimes


def _lifetimes() -> Any:
    """Import lifetimes (and pandas, which its prediction helpers need)."""
    # lifetimes 0.11.3 sets pandas options that pandas 3 deprecates and trips
    # NumPy deprecations on every call; the noise is not part of the benchmark.
    warnings.filterwarnings("ignore")
    import lifetimes
    import pandas as pd

    return lifetimes, pd


# --------------------------------------------------------------------------- runs


def _timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def _ll(model: str, params: dict[str, float], data: tuple[np.ndarray, ...]) -> float:
    if model == "bgnbd":
        ll = clv.bgnbd_log_likelihood([params[k] for k in ("r", "alpha", "a", "b")], *data)
    elif model == "pnbd":
        ll = clv.pareto_nbd_log_likelihood([params[k] for k in ("r", "alpha", "s", "beta")], *data)
    else:
        ll = clv.gamma_gamma_log_likelihood([params[k] for k in ("p", "q", "v")], *data)
    return float(ll.sum())


def run_size(n: int, seed: int, incumbent: bool, models: list[str]) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    bg_data = simulate_bgnbd(n, rng)
    pn_data = simulate_pnbd(n, rng)
    spend = simulate_spend(pn_data[0], rng)
    gg_data = (pn_data[0], spend)
    distinct = {
        "bgnbd": int(clv.compress_summary(*bg_data).x.size),
        "pnbd": int(clv.compress_summary(*pn_data).x.size),
        "gamma_gamma": int(clv.compress_spend(*gg_data).x.size),
    }
    out: dict[str, Any] = {"n": n, "distinct_rows": distinct, "fits": {}, "predict": {}}

    fits = {
        "bgnbd": lambda: clv.fit_bgnbd(*bg_data, time_unit_days=DAY),
        "pnbd": lambda: clv.fit_pareto_nbd(*pn_data, time_unit_days=DAY),
        "gamma_gamma": lambda: clv.fit_gamma_gamma(*gg_data),
    }
    ours: dict[str, Any] = {}
    for name, fit in fits.items():
        if name not in models:
            continue
        model, secs = _timed(fit)
        ours[name] = model
        data = {"bgnbd": bg_data, "pnbd": pn_data, "gamma_gamma": gg_data}[name]
        rep = data[0] > 0
        ll_data = (data[0][rep], data[1][rep]) if name == "gamma_gamma" else data
        out["fits"][name] = {
            "segmint": {
                "seconds": secs,
                "params": model.params,
                "ll": _ll(name, model.params, ll_data),
                "converged": model.converged,
            }
        }
        print(f"  n={n:>9,} {name:<11} segmint {secs:8.2f} s", flush=True)

    if incumbent:
        lifetimes, pd = _lifetimes()
        inc_fits = {
            "bgnbd": lambda: lifetimes.BetaGeoFitter().fit(*bg_data),
            "pnbd": lambda: lifetimes.ParetoNBDFitter().fit(*pn_data),
            "gamma_gamma": lambda: lifetimes.GammaGammaFitter().fit(
                gg_data[0][gg_data[0] > 0], gg_data[1][gg_data[0] > 0]
            ),
        }
        theirs: dict[str, Any] = {}
        for name, fit in inc_fits.items():
            if name not in models:
                continue
            try:
                fitter, secs = _timed(fit)
            except Exception as exc:  # report, keep benchmarking the rest
                out["fits"][name]["lifetimes"] = {"error": f"{type(exc).__name__}: {exc}"[:200]}
                print(f"  n={n:>9,} {name:<11} lifetimes failed: {exc!r}"[:200], flush=True)
                continue
            theirs[name] = fitter
            params = {k: float(v) for k, v in fitter.params_.items()}
            data = {"bgnbd": bg_data, "pnbd": pn_data, "gamma_gamma": gg_data}[name]
            rep = data[0] > 0
            ll_data = (data[0][rep], data[1][rep]) if name == "gamma_gamma" else data
            out["fits"][name]["lifetimes"] = {
                "seconds": secs,
                "params": params,
                "ll": _ll(name, params, ll_data),
            }
            print(f"  n={n:>9,} {name:<11} lifetimes {secs:8.2f} s", flush=True)

    # Predictions for all n customers (p_alive, 90-day purchases, 12-month CLV).
    x, t_x, T = pn_data
    for name in ("bgnbd", "pnbd"):
        if name not in ours:
            continue
        model = ours[name]
        if "gamma_gamma" in ours:
            aov, t_aov = _timed(ours["gamma_gamma"].expected_order_value, x, spend)
        else:
            aov, t_aov = np.full(n, 30.0), 0.0
        _, t_alive = _timed(model.p_alive, x, t_x, T)
        _, t_exp = _timed(model.expected_purchases, model.periods(90), x, t_x, T)
        value, t_clv = _timed(clv.customer_lifetime_value, model, x, t_x, T, aov, horizon_months=12)
        row = {
            "segmint": {
                "p_alive": t_alive,
                "expected_90d": t_exp,
                "order_value": t_aov,
                "clv_12m": t_clv,
                "nan": int(np.isnan(value).sum()),
            }
        }
        if incumbent and name in theirs and "gamma_gamma" in theirs:
            f, gg = theirs[name], theirs["gamma_gamma"]
            _, l_alive = _timed(f.conditional_probability_alive, x, t_x, T)
            _, l_exp = _timed(f.conditional_expected_number_of_purchases_up_to_time, 90, x, t_x, T)
            s = lambda a: pd.Series(a)  # noqa: E731
            try:
                lv, l_clv = _timed(
                    gg.customer_lifetime_value,
                    f,
                    s(x),
                    s(t_x),
                    s(T),
                    s(spend),
                    time=12,
                    discount_rate=clv.monthly_rate(0.10),
                    freq="D",
                )
                nan = int(np.isnan(np.asarray(lv, dtype=float)).sum())
            except Exception as exc:
                l_clv, nan = float("nan"), -1
                print(f"  lifetimes CLV failed: {exc!r}"[:200])
            row["lifetimes"] = {
                "p_alive": l_alive,
                "expected_90d": l_exp,
                "clv_12m": l_clv,
                "nan": nan,
            }
        out["predict"][name] = row
    return out


def stability_probe() -> dict[str, Any]:
    """Pareto/NBD log-likelihood on extreme summaries: segmint vs lifetimes."""
    xs = np.array([0, 1, 10, 100, 1000, 10000], dtype=float)
    cases = []
    for ratio in (1e-3, 1e-1, 1.0, 1e1, 1e3):
        for x in xs:
            for T in (10.0, 1000.0, 10000.0):
                t_x = 0.0 if x == 0 else T * 0.5
                cases.append((0.5, 10.0, 0.7, 10.0 / ratio, x, t_x, T))
    arr = np.array(cases)
    ours = np.array(
        [clv.pareto_nbd_log_likelihood(c[:4], [c[4]], [c[5]], [c[6]])[0] for c in cases]
    )
    out: dict[str, Any] = {
        "cases": len(cases),
        "segmint_nonfinite": int((~np.isfinite(ours)).sum()),
    }
    try:
        lifetimes, _ = _lifetimes()
        f = lifetimes.ParetoNBDFitter._conditional_log_likelihood
        theirs = np.array(
            [f(c[:4], np.array([c[4]]), np.array([c[5]]), np.array([c[6]]))[0] for c in arr]
        )
        bad = ~np.isfinite(theirs)
        off = np.isfinite(theirs) & (np.abs(theirs - ours) > 1e-6 * np.maximum(1, np.abs(ours)))
        out["lifetimes_nonfinite"] = int(bad.sum())
        out["lifetimes_wrong"] = int(off.sum())
    except Exception as exc:
        out["lifetimes_error"] = repr(exc)[:200]
    return out


# --------------------------------------------------------------------------- report


def _fmt_params(p: dict[str, float] | None) -> str:
    if not p:
        return "-"
    return ", ".join(f"{k}={v:.4g}" for k, v in p.items())


def report(results: list[dict[str, Any]], probe: dict[str, Any]) -> str:
    lines = [
        "| customers | model | distinct rows | segmint fit (s) | lifetimes fit (s) | speed-up "
        "| segmint params | lifetimes params | LL segmint | LL lifetimes |",
        "|---:|---|---:|---:|---:|---:|---|---|---:|---:|",
    ]
    for res in results:
        for name, fit in res["fits"].items():
            ours, theirs = fit["segmint"], fit.get("lifetimes", {})
            t_s = theirs.get("seconds")
            ratio = f"{t_s / ours['seconds']:.0f}x" if t_s else "-"
            lt = f"{t_s:.2f}" if t_s else theirs.get("error", "skipped")
            ll_t = f"{theirs['ll']:.2f}" if "ll" in theirs else "-"
            lines.append(
                f"| {res['n']:,} | {name} | {res['distinct_rows'][name]:,} | {ours['seconds']:.2f} "
                f"| {lt} | {ratio} | {_fmt_params(ours['params'])} "
                f"| {_fmt_params(theirs.get('params'))} | {ours['ll']:.2f} | {ll_t} |"
            )
    lines += [
        "",
        "| customers | model | library | p_alive (s) | expected purchases 90 d (s) "
        "| CLV 12 months (s) | NaN in CLV |",
        "|---:|---|---|---:|---:|---:|---:|",
    ]
    for res in results:
        for name, row in res["predict"].items():
            for lib, r in row.items():
                lines.append(
                    f"| {res['n']:,} | {name} | {lib} | {r['p_alive']:.3f} "
                    f"| {r['expected_90d']:.3f} | {r['clv_12m']:.3f} | {r['nan']} |"
                )
    lines += [
        "",
        f"Stability probe (Pareto/NBD log-likelihood, extreme inputs): {json.dumps(probe)}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="100000,1000000", help="comma-separated customer counts")
    ap.add_argument(
        "--skip-incumbent-above",
        type=int,
        default=None,
        metavar="N",
        help="do not run lifetimes for sizes above N (its Pareto/NBD fit takes minutes at 1M)",
    )
    ap.add_argument(
        "--models",
        default="bgnbd,pnbd,gamma_gamma",
        help="comma-separated subset of bgnbd, pnbd, gamma_gamma",
    )
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("--json", type=Path, default=None, help="also write the raw results here")
    args = ap.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = set(models) - set(TRUE)
    if unknown:
        ap.error(f"unknown models {sorted(unknown)}")
    cpu = ""
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        cpu = next(
            (ln.split(":", 1)[1].strip() for ln in lscpu.splitlines() if "Model name" in ln), ""
        )
    except OSError:
        pass
    load_start = os.getloadavg()
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, cpu {cpu!r}, "
        f"{os.cpu_count()} cores, load average {load_start[0]:.1f}",
        flush=True,
    )
    results = []
    for n in sizes:
        incumbent = args.skip_incumbent_above is None or n <= args.skip_incumbent_above
        results.append(run_size(n, args.seed + n, incumbent, models))
    probe = stability_probe()
    load_end = os.getloadavg()
    print(report(results, probe))
    print(f"load average (1 min) at start {load_start[0]:.1f}, at end {load_end[0]:.1f}")
    if args.json:
        meta = {"cpu": cpu, "cores": os.cpu_count(), "load": [load_start[0], load_end[0]]}
        args.json.write_text(json.dumps({**meta, "results": results, "probe": probe}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
