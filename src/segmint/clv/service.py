"""CLV on a workspace: fit the models on its orders, keep them, and predict into profiles.

The summary (one row per buyer) is computed in the engine and reaches Python already grouped
into distinct rows with a count, so fitting and predicting cost grows with distinct summaries,
not customers. Predictions travel back the same way: one row per distinct summary, joined to
the profiles in the engine.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
from sqlglot import exp

from segmint.clv.base import CLVInputError, FittedModel
from segmint.clv.bgnbd import fit_bgnbd
from segmint.clv.gamma_gamma import GammaGammaModel, fit_gamma_gamma
from segmint.clv.pareto_nbd import fit_pareto_nbd
from segmint.clv.summary import DAYS_PER_UNIT, TimeUnit, repeat_transactions_query, summary_query
from segmint.clv.validation import holdout_report, tracking_curve
from segmint.config import CLVConfig
from segmint.console import Console, NullConsole
from segmint.engines.base import Engine
from segmint.model.tables import Column, ColumnType, Table

ModelName = Literal["bgnbd", "pnbd"]

CLV_MODELS = Table(
    name="clv_models",
    description="Every CLV fit: model, parameters, likelihood, data window and holdout figures.",
    key=("model_id",),
    columns=(
        Column("model_id", ColumnType.STRING, "Fit id.", required=True),
        Column("fitted_at", ColumnType.TIMESTAMP, "When the fit ran (UTC).", required=True),
        Column("model", ColumnType.STRING, "bgnbd or pnbd (purchases); spend is Gamma-Gamma."),
        Column("time_unit", ColumnType.STRING, "day or week."),
        Column("calibration_end", ColumnType.TIMESTAMP, "End of the data the fit used."),
        Column("observation_end", ColumnType.TIMESTAMP, "End of the holdout period."),
        Column("fit", ColumnType.JSON, "The whole fit result as JSON."),
    ),
)

#: Prediction horizons (days) of the expected-purchases traits.
HORIZONS = (30, 90, 365)


@dataclass
class CLVFit:
    """A fitted pair of models and how well they did."""

    model_id: str
    model: str
    time_unit: str
    calibration_end: str
    observation_end: str
    customers: int
    repeat_buyers: int
    distinct_rows: int
    params: dict[str, float]
    log_likelihood: float
    converged: bool
    spend_params: dict[str, float] | None
    spend_log_likelihood: float | None
    fit_seconds: float
    holdout: dict[str, Any] | None = None
    transaction_model: dict[str, Any] | None = None
    spend_model: dict[str, Any] | None = None
    annual_discount_rate: float = 0.10
    """The discount rate of the predicted CLV, fixed at fit time so predictions reproduce."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fit_clv(
    engine: Engine,
    config: CLVConfig,
    *,
    now: dt.datetime,
    model: ModelName | None = None,
    calibration_end: dt.datetime | None = None,
    time_unit: TimeUnit | None = None,
    holdout_days: int = 0,
    prefix: str = "",
    console: Console | None = None,
) -> CLVFit:
    """Fit a purchase model (BG/NBD or Pareto/NBD) and Gamma-Gamma on the workspace's orders.

    With ``holdout_days`` the last days before ``calibration_end`` (default: now) are held out,
    or, with an explicit ``calibration_end``, the days after it: the fit sees only the
    calibration period and the report compares its predictions with what happened next.
    """
    console = console or NullConsole()
    model = model or config.model
    time_unit = time_unit or config.time_unit
    if holdout_days < 0:
        raise CLVInputError("--holdout-days must be zero or more")
    if calibration_end is None:
        observation_end = now
        calibration_end = _day(now) - dt.timedelta(days=holdout_days)
    else:
        observation_end = calibration_end + dt.timedelta(days=holdout_days)
        if observation_end > now:
            raise CLVInputError(
                f"the holdout period would end on {observation_end:%Y-%m-%d}, after now "
                f"({now:%Y-%m-%d}): choose an earlier --calibration-end or fewer --holdout-days"
            )
    if not engine.table_exists(f"{prefix}identities"):
        raise CLVInputError("no profiles yet: run `segmint profiles build` first")
    unit_days = DAYS_PER_UNIT[time_unit]
    summary = summary_query(
        calibration_end=calibration_end,
        observation_end=observation_end,
        unit_days=unit_days,
        prefix=prefix,
    )
    started = time.perf_counter()
    with console.progress("Fitting CLV models"):
        rows = _grouped(engine, summary, ["frequency", "recency", "age", "holdout_purchases"])
        if rows.num_rows == 0:
            raise CLVInputError(
                f"no purchases before {calibration_end:%Y-%m-%d}: import orders first"
            )
        x, t_x, age, actual, w = (rows.column(i).to_numpy().astype(np.float64) for i in range(5))
        fitter = fit_bgnbd if model == "bgnbd" else fit_pareto_nbd
        purchases = fitter(x, t_x, age, w, time_unit_days=unit_days)
        spend = _fit_spend(engine, summary)
    seconds = time.perf_counter() - started

    holdout = None
    if holdout_days > 0:
        horizon = purchases.periods(float((observation_end - calibration_end).days))
        predicted = purchases.expected_purchases(float(horizon), x, t_x, age)
        report = holdout_report(x, actual, predicted, weights=w)
        curve = _tracking(engine, purchases, calibration_end, observation_end, prefix)
        holdout = {
            "days": holdout_days,
            "report": report.to_dict(),
            "tracking": curve.to_dict() if curve is not None else None,
        }

    fit = CLVFit(
        model_id=uuid.uuid4().hex[:12],
        model=model,
        time_unit=time_unit,
        calibration_end=calibration_end.isoformat(sep=" "),
        observation_end=observation_end.isoformat(sep=" "),
        customers=int(w.sum()),
        repeat_buyers=int(w[x > 0].sum()),
        distinct_rows=int(rows.num_rows),
        params=purchases.params,
        log_likelihood=float(purchases.log_likelihood),
        converged=bool(purchases.converged),
        spend_params=spend.params if spend else None,
        spend_log_likelihood=float(spend.log_likelihood) if spend else None,
        fit_seconds=round(seconds, 3),
        holdout=holdout,
        transaction_model=purchases.to_dict(),
        spend_model=spend.to_dict() if spend else None,
        annual_discount_rate=config.annual_discount_rate,
    )
    _store(engine, fit, now)
    return fit


def current_fit(engine: Engine) -> CLVFit | None:
    """The latest fit of the workspace, or None before the first ``clv fit``."""
    if not engine.table_exists(CLV_MODELS.name):
        return None
    row = engine.fetch_one(
        exp.select("fit").from_(CLV_MODELS.name).order_by("fitted_at DESC").limit(1)
    )
    return CLVFit(**json.loads(row[0])) if row else None


def predictions_query(
    engine: Engine, fit: CLVFit, *, as_of: dt.datetime, prefix: str = ""
) -> tuple[exp.Expression, pa.Table] | None:
    """Per-profile predictions at ``as_of``: a query joining the summary to a prediction table.

    Returns the query and the Arrow table of predictions per distinct summary row, which the
    caller registers as ``_clv_predictions`` (None when there is no fit yet).
    """
    from segmint.clv import model_from_dict

    if fit.transaction_model is None:
        return None
    purchases = model_from_dict(fit.transaction_model)
    spend = GammaGammaModel.from_dict(fit.spend_model) if fit.spend_model else None
    unit_days = purchases.time_unit_days
    summary = summary_query(calibration_end=as_of, unit_days=unit_days, prefix=prefix)
    rows = _grouped(engine, summary, ["frequency", "recency", "age", "repeat_mean_value"])
    if rows.num_rows == 0:
        return None
    x, t_x, age = (rows.column(i).to_numpy().astype(np.float64) for i in range(3))
    m = rows.column(3).to_numpy(zero_copy_only=False).astype(np.float64)
    predictions = predict(purchases, spend, x, t_x, age, m, fit.annual_discount_rate)
    keys = {
        "frequency": rows.column(0),
        "recency": rows.column(1),
        "age": rows.column(2),
        "repeat_mean_value": rows.column(3),
    }
    table = pa.table({**keys, **{k: pa.array(v) for k, v in predictions.items()}})
    return summary, table


def predict(
    purchases: FittedModel,
    spend: GammaGammaModel | None,
    x: np.ndarray,
    t_x: np.ndarray,
    age: np.ndarray,
    m: np.ndarray,
    annual_discount_rate: float,
) -> dict[str, np.ndarray]:
    """Every CLV trait for each summary row (column name -> values), never NaN."""
    from segmint.clv.base import customer_lifetime_value

    model: Any = purchases
    out: dict[str, np.ndarray] = {"clv_p_alive": model.p_alive(x, t_x, age)}
    for days in HORIZONS:
        out[f"clv_expected_purchases_{days}d"] = model.expected_purchases(
            float(model.periods(days)), x, t_x, age
        )
    # Without a spend model (nobody bought twice) the order value is the customer's own mean.
    has_spend = (x > 0) & np.isfinite(m) & (m > 0)
    if spend is not None:
        value = spend.expected_order_value(np.where(has_spend, x, 0.0), np.where(has_spend, m, 1.0))
    else:
        value = np.where(np.isfinite(m), m, 0.0)
    out["clv_expected_order_value"] = value
    out["clv_predicted_12m"] = customer_lifetime_value(
        model,
        x,
        t_x,
        age,
        value,
        horizon_months=12,
        annual_discount_rate=annual_discount_rate,
    )
    for name, values in out.items():
        if not np.all(np.isfinite(values)):
            raise CLVInputError(f"{name}: the model gave a non-finite prediction")
    return out


def _fit_spend(engine: Engine, summary: exp.Expression) -> GammaGammaModel | None:
    spend_rows = engine.fetch_arrow(
        exp.select("frequency", "repeat_mean_value", "count(*) AS w")
        .from_(exp.Subquery(this=summary, alias="s"))
        .where("frequency > 0 AND repeat_mean_value > 0")
        .group_by("frequency", "repeat_mean_value")
    )
    if spend_rows.num_rows == 0:
        return None
    xs, ms, ws = (spend_rows.column(i).to_numpy().astype(np.float64) for i in range(3))
    return fit_gamma_gamma(xs, ms, ws)


def _grouped(engine: Engine, summary: exp.Expression, columns: list[str]) -> pa.Table:
    return engine.fetch_arrow(
        exp.select(*columns, "count(*) AS w")
        .from_(exp.Subquery(this=summary, alias="s"))
        .group_by(*columns)
        .order_by(*columns)
    )


def _tracking(
    engine: Engine,
    purchases: FittedModel,
    calibration_end: dt.datetime,
    observation_end: dt.datetime,
    prefix: str,
) -> Any:
    unit_days = purchases.time_unit_days
    summary = summary_query(calibration_end=calibration_end, unit_days=unit_days, prefix=prefix)
    ages = _grouped(engine, summary, ["age"])
    age, w = (ages.column(i).to_numpy().astype(np.float64) for i in range(2))
    if age.size == 0:
        return None
    first_purchase = age.max() - age  # units after the cohort's first purchase day
    calibration_length = float(age.max())
    periods = int(
        np.ceil(calibration_length + (observation_end - calibration_end).days / unit_days)
    )
    repeats = engine.fetch_all(
        repeat_transactions_query(
            calibration_end=calibration_end,
            observation_end=observation_end,
            unit_days=unit_days,
            prefix=prefix,
        )
    )
    actual = np.zeros(max(periods, 1))
    for period, count in repeats:
        if 0 <= period < actual.size:
            actual[int(period)] = count
    return tracking_curve(
        purchases,  # type: ignore[arg-type]
        first_purchase,
        actual.size,
        actual_incremental=actual,
        weights=w,
        calibration_end=calibration_length,
    )


def _store(engine: Engine, fit: CLVFit, now: dt.datetime) -> None:
    engine.create_table(CLV_MODELS, if_not_exists=True)
    engine.load_arrow(
        CLV_MODELS.name,
        pa.table(
            {
                "model_id": [fit.model_id],
                "fitted_at": pa.array([dt.datetime.now(dt.UTC).replace(tzinfo=None)]),
                "model": [fit.model],
                "time_unit": [fit.time_unit],
                "calibration_end": pa.array([dt.datetime.fromisoformat(fit.calibration_end)]),
                "observation_end": pa.array([dt.datetime.fromisoformat(fit.observation_end)]),
                "fit": [json.dumps(fit.to_dict(), default=_json_default)],
            }
        ),
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, float | np.floating) and not np.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} as JSON")


def _day(moment: dt.datetime) -> dt.datetime:
    return dt.datetime.combine(moment.date(), dt.time())


def write_charts(fit: CLVFit, out_dir: Path) -> list[Path]:
    """The classic validation charts of a fit with a holdout period, as PNG files."""
    from segmint.clv import charts
    from segmint.clv.validation import FrequencyRow, HoldoutReport, TrackingCurve

    if not fit.holdout:
        raise CLVInputError(
            "this fit has no holdout period: run `segmint clv fit --holdout-days N`"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    tracking = fit.holdout.get("tracking")
    if tracking:
        arrays = {k: np.asarray(v) for k, v in tracking.items() if isinstance(v, list)}
        curve = TrackingCurve(
            period_end=arrays["period_end"],
            expected_cumulative=arrays["expected_cumulative"],
            expected_incremental=arrays["expected_incremental"],
            actual_cumulative=arrays.get("actual_cumulative"),
            actual_incremental=arrays.get("actual_incremental"),
            calibration_end=tracking.get("calibration_end"),
        )
        written.append(charts.plot_cumulative_transactions(curve, out_dir / "cumulative.png"))
        written.append(charts.plot_incremental_transactions(curve, out_dir / "incremental.png"))
    rep = fit.holdout["report"]
    report = HoldoutReport(
        **{k: (np.nan if v is None else v) for k, v in rep.items() if k != "by_frequency"},
        by_frequency=tuple(FrequencyRow(**row) for row in rep["by_frequency"]),
    )
    written.append(charts.plot_conditional_expectations(report, out_dir / "by_frequency.png"))
    return [Path(p) for p in written]
