"""``segmint clv``: fit, show and validate the predicted customer lifetime value."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from segmint.cli.console import print_json, stdout
from segmint.cli.options import JsonOption, WorkspaceOption, open_workspace
from segmint.errors import SegmintError

clv_app = typer.Typer(
    help="Predicted customer lifetime value: BG/NBD or Pareto/NBD with Gamma-Gamma.",
    no_args_is_help=True,
)


class CLVError(SegmintError):
    """A CLV request that cannot be carried out."""


@clv_app.command("fit")
def fit(
    workspace: WorkspaceOption = None,
    model: Annotated[
        str | None, typer.Option(help="bgnbd or pnbd (default from segmint.toml: bgnbd).")
    ] = None,
    calibration_end: Annotated[
        str | None, typer.Option(help="Last day (exclusive) of the data to fit on, YYYY-MM-DD.")
    ] = None,
    time_unit: Annotated[str | None, typer.Option(help="day or week.")] = None,
    holdout_days: Annotated[
        int, typer.Option(min=0, help="Days held out to compare predictions with what happened.")
    ] = 0,
    json: JsonOption = False,
) -> None:
    """Fit the models on the orders and write the CLV traits into the profiles."""
    from segmint.clv import CLVInputError

    if model not in (None, "bgnbd", "pnbd"):
        raise CLVError(f"unknown model {model!r}: use bgnbd or pnbd")
    if time_unit not in (None, "day", "week"):
        raise CLVError(f"unknown time unit {time_unit!r}: use day or week")
    end = None
    if calibration_end:
        try:
            end = dt.datetime.fromisoformat(calibration_end)
        except ValueError:
            raise CLVError(f"--calibration-end {calibration_end!r} is not a date") from None
    with open_workspace(workspace, quiet=json) as ws:
        try:
            result = ws.fit_clv(
                model=model, calibration_end=end, time_unit=time_unit, holdout_days=holdout_days
            )
        except CLVInputError as exc:
            raise CLVError(str(exc)) from None
    data = result.to_dict()
    if json:
        data.pop("transaction_model")
        data.pop("spend_model")
        if data["holdout"]:
            data["holdout"].pop("tracking", None)
        print_json(data)
        return
    _print_fit(data)


@clv_app.command("report")
def report(
    workspace: WorkspaceOption = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder for the charts (default: WORKSPACE/reports/clv).")
    ] = None,
    json: JsonOption = False,
) -> None:
    """Holdout accuracy of the latest fit, and the classic validation charts as PNG files."""
    from segmint.clv.service import write_charts

    with open_workspace(workspace, quiet=json) as ws:
        fit = ws.clv_fit()
        root = ws.root
    if fit is None:
        raise CLVError("no CLV fit yet: run `segmint clv fit --holdout-days 90` first")
    if not fit.holdout:
        raise CLVError(
            "the latest fit has no holdout period: run `segmint clv fit --holdout-days N`"
        )
    charts = write_charts(fit, out or root / "reports" / "clv")
    data: dict[str, Any] = {
        "model_id": fit.model_id,
        "holdout": fit.holdout["report"],
        "charts": [str(p) for p in charts],
    }
    if json:
        print_json(data)
        return
    _print_fit(fit.to_dict())
    for path in charts:
        stdout.print(f"Wrote {path}")


@clv_app.command("show")
def show(workspace: WorkspaceOption = None, json: JsonOption = False) -> None:
    """The latest fit: model, parameters, log-likelihood, fit time and data window."""
    with open_workspace(workspace, quiet=json) as ws:
        fit = ws.clv_fit()
    if fit is None:
        raise CLVError("no CLV fit yet: run `segmint clv fit`")
    data = fit.to_dict()
    if json:
        data.pop("transaction_model")
        data.pop("spend_model")
        print_json(data)
        return
    _print_fit(data)


@clv_app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", "-o", help="CSV or Parquet file to write.")],
    workspace: WorkspaceOption = None,
    format: Annotated[
        str | None, typer.Option(help="csv or parquet (default: from --out).")
    ] = None,
    include_opted_out: Annotated[
        bool, typer.Option(help="Also export people who opted out of marketing.")
    ] = False,
    json: JsonOption = False,
) -> None:
    """pLTV export: predicted 12-month value per customer with SHA-256 hashed email and phone."""
    from segmint.clv import CLVInputError
    from segmint.clv.export import export_pltv

    with open_workspace(workspace, quiet=json) as ws:
        try:
            result = export_pltv(ws.engine, out, format=format, include_opted_out=include_opted_out)
        except CLVInputError as exc:
            raise CLVError(str(exc)) from None
    if json:
        print_json(result.to_dict())
    else:
        stdout.print(
            f"Wrote {result.rows:,} customers worth {result.total_value:,.2f} "
            f"(predicted, next 12 months) to {result.path}"
        )


def _print_fit(data: dict[str, Any]) -> None:
    table = Table(title=f"CLV fit {data['model_id']}")
    table.add_column("")
    table.add_column("value", justify="right")
    table.add_row("purchase model", data["model"])
    table.add_row("time unit", data["time_unit"])
    table.add_row("calibration", f"until {data['calibration_end'][:10]}")
    table.add_row("customers / repeat buyers", f"{data['customers']:,} / {data['repeat_buyers']:,}")
    table.add_row("distinct summary rows", f"{data['distinct_rows']:,}")
    for name, value in data["params"].items():
        table.add_row(name, f"{value:.4g}")
    table.add_row("log-likelihood", f"{data['log_likelihood']:,.2f}")
    for name, value in (data["spend_params"] or {}).items():
        table.add_row(f"spend {name}", f"{value:.4g}")
    table.add_row("fit time", f"{data['fit_seconds']:.2f} s")
    stdout.print(table)
    holdout = data.get("holdout")
    if not holdout:
        return
    rep = holdout["report"]
    stdout.print(
        f"Holdout ({holdout['days']} days): actual {rep['total_actual']:,.0f} purchases, "
        f"predicted {rep['total_predicted']:,.1f} ({_pct(rep['total_error_pct'])}), "
        f"correlation {_num(rep['correlation'])}, MAE {rep['mean_absolute_error']:.3f}"
    )
    freq = Table(title="Mean holdout purchases by calibration frequency")
    for col in ("repeat purchases", "customers", "actual", "predicted"):
        freq.add_column(col, justify="right")
    for row in rep["by_frequency"]:
        freq.add_row(
            row["frequency"],
            f"{row['n_customers']:,.0f}",
            _num(row["mean_actual"]),
            _num(row["mean_predicted"]),
        )
    stdout.print(freq)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1f}%"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
