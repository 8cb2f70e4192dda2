"""Impossible input is rejected clearly; awkward but possible input never yields NaN."""

from __future__ import annotations

import json

import numpy as np
import pytest

from segmint import clv

TRANSACTION_FITS = [clv.fit_bgnbd, clv.fit_pareto_nbd]
MODELS = [
    clv.BGNBDModel(r=0.243, alpha=4.414, a=0.793, b=2.426),
    clv.ParetoNBDModel(r=0.553, alpha=10.578, s=0.606, beta=11.669),
]


@pytest.mark.parametrize(
    ("x", "t_x", "T", "message"),
    [
        ([], [], [], "empty"),
        ([1, 2], [1.0], [2.0, 3.0], "same length"),
        ([1], [5.0], [4.0], "exceeds age"),
        ([-1], [0.0], [4.0], "non-negative"),
        ([1], [-1.0], [4.0], "non-negative"),
        ([1], [1.0], [-4.0], "non-negative"),
        ([2], [0.0], [4.0], "recency t_x=0"),
        ([0], [2.0], [4.0], "no repeat purchase"),
        ([1.5], [1.0], [4.0], "whole numbers"),
        ([np.nan], [1.0], [4.0], "NaN"),
        ([1], [np.inf], [4.0], "NaN or infinite"),
        ([[1]], [[1.0]], [[2.0]], "one-dimensional"),
        (["a"], [1.0], [2.0], "numeric"),
    ],
)
def test_impossible_summaries_are_rejected(x, t_x, T, message):
    for fn in (*TRANSACTION_FITS, clv.compress_summary, MODELS[0].p_alive, MODELS[1].p_alive):
        with pytest.raises(clv.CLVInputError, match=message):
            fn(x, t_x, T)


def test_input_error_is_a_value_error():
    assert issubclass(clv.CLVInputError, ValueError)


def test_bad_weights_are_rejected():
    with pytest.raises(clv.CLVInputError, match="non-negative"):
        clv.fit_bgnbd([1, 0], [1.0, 0.0], [2.0, 2.0], weights=[-1, 2])
    with pytest.raises(clv.CLVInputError, match="sum to zero"):
        clv.fit_bgnbd([1, 0], [1.0, 0.0], [2.0, 2.0], weights=[0, 0])
    with pytest.raises(clv.CLVInputError, match="rows"):
        clv.fit_bgnbd([1, 0], [1.0, 0.0], [2.0, 2.0], weights=[1])


def test_gamma_gamma_without_repeat_buyers():
    with pytest.raises(clv.CLVInputError, match="no customer has a repeat purchase"):
        clv.fit_gamma_gamma([0, 0, 0], [0.0, 0.0, 0.0])


@pytest.mark.parametrize("m", [[20.0, 0.0], [20.0, -5.0]])
def test_gamma_gamma_zero_or_negative_spend(m):
    with pytest.raises(clv.CLVInputError):
        clv.fit_gamma_gamma([1, 2], m)


def test_gamma_gamma_ignores_spend_of_non_repeaters(cdnow):
    # x == 0 rows carry no spend information: zero spend there is fine.
    x, m = cdnow["x"][:400], cdnow["m"][:400]
    assert (m[x == 0] == 0).all()
    a = clv.fit_gamma_gamma(x, m)
    b = clv.fit_gamma_gamma(x[x > 0], m[x > 0])
    assert a.params == b.params
    assert np.isfinite(list(a.params.values())).all()


def test_gamma_gamma_infinite_mean_is_an_error():
    heavy = clv.GammaGammaModel(p=2.0, q=0.8, v=10.0)
    with pytest.raises(clv.CLVInputError, match="no finite mean"):
        heavy.expected_order_value([1], [10.0])
    with pytest.raises(clv.CLVInputError, match="no finite mean"):
        _ = heavy.mean_order_value


@pytest.mark.parametrize("fit", TRANSACTION_FITS)
def test_no_repeat_buyers_at_all(fit):
    # Everybody bought once: the likelihood has no maximum (the purchase rate
    # runs to zero), so the fit refuses with a clear message ...
    T = np.linspace(1, 50, 40)
    x = np.zeros(40)
    with pytest.raises(clv.CLVInputError, match="no customer has a repeat purchase"):
        fit(x, x, T)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.model)
def test_predictions_for_one_time_buyers(model):
    # ... while a fitted model predicts for one-time buyers like for anyone.
    T = np.linspace(0, 50, 40)
    x = np.zeros(40)
    e = model.expected_purchases(10, x, x, T)
    pa = model.p_alive(x, x, T)
    assert np.all(np.isfinite(e)) and np.all(e > 0)
    assert np.all((pa > 0) & (pa <= 1))
    # younger one-time buyers are more likely alive and buy more than older ones
    assert np.all(np.diff(e) <= 1e-12)


@pytest.mark.parametrize("fit", TRANSACTION_FITS)
def test_single_customer(fit):
    m = fit([3], [20.0], [30.0])
    assert np.isfinite(list(m.params.values())).all()
    assert np.isfinite(m.log_likelihood)
    assert np.isfinite(m.expected_purchases(10, [3], [20.0], [30.0])).all()


@pytest.mark.parametrize("fit", TRANSACTION_FITS)
def test_all_identical_rows(fit):
    n = 500
    x, t_x, T = np.full(n, 2.0), np.full(n, 20.0), np.full(n, 30.0)
    assert clv.compress_summary(x, t_x, T).x.size == 1
    m = fit(x, t_x, T)
    assert m.n_customers == n
    assert np.isfinite(list(m.params.values())).all()
    assert np.isfinite(m.p_alive(x, t_x, T)).all()


def test_single_repeat_buyer_gamma_gamma():
    m = clv.fit_gamma_gamma([2], [35.0])
    assert np.isfinite(list(m.params.values())).all()


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.model)
def test_huge_frequencies(model):
    x = np.array([0.0, 1.0, 500.0, 10_000.0, 10_000.0])
    t_x = np.array([0.0, 1.0, 9_000.0, 10_000.0, 50.0])
    T = np.array([10_000.0, 10_000.0, 10_000.0, 10_000.0, 10_000.0])
    ll = model.log_likelihood_rows(x, t_x, T)
    pa = model.p_alive(x, t_x, T)
    e = model.expected_purchases(52, x, t_x, T)
    assert np.all(np.isfinite(ll)) and np.all(np.isfinite(pa)) and np.all(np.isfinite(e))
    assert np.all((pa >= 0) & (pa <= 1))
    # A customer who bought 10,000 times up to today is alive; one who stopped
    # 9,950 weeks ago after 10,000 purchases is not.
    assert pa[3] > 0.99 and pa[4] < 1e-10
    # Alive heavy buyer: roughly their own rate times the horizon.
    assert e[3] == pytest.approx(10_000 / 10_000 * 52, rel=0.05)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.model)
def test_brand_new_customers_and_zero_horizon(model):
    x = np.zeros(3)
    T = np.array([0.0, 0.0, 5.0])
    assert np.all(model.p_alive(x, x, T) == pytest.approx(1.0)) or model.model == "pnbd"
    assert np.all(model.expected_purchases(0, x, x, T) == 0)
    e = model.expected_purchases(1e6, x, x, T)
    assert np.all(np.isfinite(e)) and np.all(e > 0)


def test_extreme_parameters_do_not_produce_nan():
    x = np.array([0.0, 1.0, 7.0, 300.0])
    t_x = np.array([0.0, 0.01, 30.0, 38.0])
    T = np.array([0.0, 38.0, 38.0, 39.0])
    # alpha/beta ratios up to 1e6, shape parameters from 1e-3 to 1e3 (beyond any fit).
    for params in (
        [1e-3, 1e-3, 1e-3, 1e-3],
        [1e3, 1e3, 1e3, 1e3],
        [1e-3, 1e3, 1e3, 1e-3],
        [1e3, 1e-3, 1e-3, 1e3],
    ):
        for model in (
            clv.BGNBDModel(**dict(zip(["r", "alpha", "a", "b"], params, strict=True))),
            clv.ParetoNBDModel(**dict(zip(["r", "alpha", "s", "beta"], params, strict=True))),
        ):
            assert np.all(np.isfinite(model.log_likelihood_rows(x, t_x, T))), (model, params)
            assert np.all(np.isfinite(model.p_alive(x, t_x, T))), (model, params)
            assert np.all(np.isfinite(model.expected_purchases(10, x, t_x, T))), (model, params)


@pytest.mark.parametrize("fit", TRANSACTION_FITS)
def test_bad_time_unit_is_rejected(fit):
    with pytest.raises(clv.CLVInputError, match="time_unit_days"):
        fit([1], [1.0], [2.0], time_unit_days=0)


def test_bad_parameters_are_rejected():
    with pytest.raises(clv.CLVInputError):
        clv.bgnbd_log_likelihood([1, 2, 3], [1], [1.0], [2.0])
    with pytest.raises(clv.CLVInputError):
        clv.pareto_nbd_log_likelihood([1, 2, -3, 4], [1], [1.0], [2.0])
    with pytest.raises(clv.CLVInputError):
        clv.gamma_gamma_log_likelihood([1, np.nan, 3], [1], [1.0])


def test_bad_horizons_are_rejected():
    m = MODELS[0]
    with pytest.raises(clv.CLVInputError):
        m.expected_purchases(-1, [1], [1.0], [2.0])
    with pytest.raises(clv.CLVInputError):
        m.expected_purchases([1, 2], [1], [1.0], [2.0])
    with pytest.raises(clv.CLVInputError):
        clv.customer_lifetime_value(m, [1], [1.0], [2.0], [10.0], horizon_months=0)
    with pytest.raises(clv.CLVInputError):
        clv.customer_lifetime_value(m, [1], [1.0], [2.0], [10.0, 3.0])


@pytest.mark.parametrize(
    "model",
    [*MODELS, clv.GammaGammaModel(p=6.25, q=3.74, v=15.44, n_customers=946, converged=False)],
    ids=lambda m: m.model,
)
def test_to_dict_round_trip(model):
    d = json.loads(json.dumps(model.to_dict()))
    assert d["model"] == model.model
    assert set(d["params"]) == set(model.PARAMS)
    back = clv.model_from_dict(d)
    assert type(back) is type(model)
    assert back.params == model.params
    assert back.n_customers == model.n_customers and back.converged == model.converged


def test_from_dict_rejects_garbage():
    with pytest.raises(clv.CLVInputError, match="unknown"):
        clv.model_from_dict({"model": "nope"})
    with pytest.raises(clv.CLVInputError, match="missing"):
        clv.model_from_dict({"model": "bgnbd", "params": {"r": 1.0}})
    with pytest.raises(clv.CLVInputError, match="expected"):
        clv.BGNBDModel.from_dict({"model": "pnbd", "params": {}})


def test_models_are_frozen():
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        MODELS[0].r = 2.0  # type: ignore[misc]
