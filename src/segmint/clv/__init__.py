"""Predicted customer lifetime value: BG/NBD, Pareto/NBD and Gamma-Gamma models.

The models work on numpy arrays of the customer summary (``x`` repeat
purchases, recency ``t_x``, age ``T``, in one time unit) and, for spend, the
mean repeat order value ``m``. Typical use::

    from segmint import clv

    trans = clv.fit_bgnbd(x, t_x, T, time_unit_days=1)
    spend = clv.fit_gamma_gamma(x, m)
    p = trans.p_alive(x, t_x, T)
    n90 = trans.expected_purchases(trans.periods(90), x, t_x, T)
    value = clv.customer_lifetime_value(
        trans, x, t_x, T, spend.expected_order_value(x, m), horizon_months=12
    )

Fitted models are frozen dataclasses; ``model.to_dict()`` is JSON-ready and
:func:`model_from_dict` rebuilds any of them. :func:`holdout_report` and
:func:`tracking_curve` validate a model on a holdout period;
``segmint.clv.charts`` draws them (matplotlib is imported only there).
"""

from collections.abc import Mapping
from typing import Any

from .base import (
    DAYS_PER_MONTH,
    CLVInputError,
    FittedModel,
    SpendSummary,
    Summary,
    compress_spend,
    compress_summary,
    customer_lifetime_value,
    monthly_rate,
    validate_spend,
    validate_summary,
)
from .bgnbd import BGNBDModel, bgnbd_log_likelihood, fit_bgnbd
from .gamma_gamma import GammaGammaModel, fit_gamma_gamma, gamma_gamma_log_likelihood
from .pareto_nbd import ParetoNBDModel, fit_pareto_nbd, pareto_nbd_log_likelihood
from .validation import FrequencyRow, HoldoutReport, TrackingCurve, holdout_report, tracking_curve

_MODELS: dict[str, type[FittedModel]] = {
    cls.model: cls for cls in (BGNBDModel, ParetoNBDModel, GammaGammaModel)
}


def model_from_dict(data: Mapping[str, Any]) -> FittedModel:
    """Rebuild a fitted model from ``to_dict()`` output, whatever its kind."""
    kind = data.get("model")
    if kind not in _MODELS:
        raise CLVInputError(f"unknown CLV model {kind!r}; expected one of {sorted(_MODELS)}")
    return _MODELS[kind].from_dict(data)


__all__ = [
    "DAYS_PER_MONTH",
    "BGNBDModel",
    "CLVInputError",
    "FittedModel",
    "FrequencyRow",
    "GammaGammaModel",
    "HoldoutReport",
    "ParetoNBDModel",
    "SpendSummary",
    "Summary",
    "TrackingCurve",
    "bgnbd_log_likelihood",
    "compress_spend",
    "compress_summary",
    "customer_lifetime_value",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "fit_pareto_nbd",
    "gamma_gamma_log_likelihood",
    "holdout_report",
    "model_from_dict",
    "monthly_rate",
    "pareto_nbd_log_likelihood",
    "tracking_curve",
    "validate_spend",
    "validate_summary",
]
