"""PNG charts of CLV model fit: tracking curves and conditional expectations.

matplotlib is imported inside each function and used through its
object-oriented API with the Agg canvas, so importing this module costs
nothing and no global pyplot state or backend choice leaks into the caller.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .validation import HoldoutReport, TrackingCurve

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "plot_conditional_expectations",
    "plot_cumulative_transactions",
    "plot_incremental_transactions",
]


def _figure() -> tuple[Figure, Axes]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _save(fig: Figure, path: str | Path) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, format="png")
    return out


def _mark_calibration(ax: Axes, curve: TrackingCurve) -> None:
    if curve.calibration_end is not None:
        ax.axvline(curve.calibration_end, color="grey", linestyle=":", linewidth=1)
        ax.annotate(
            "end of calibration",
            (curve.calibration_end, 0.02),
            xycoords=("data", "axes fraction"),
            rotation=90,
            fontsize=8,
            color="grey",
            ha="right",
        )


def _tracking(
    curve: TrackingCurve, path: str | Path, cumulative: bool, title: str | None, unit: str
) -> Path:
    fig, ax = _figure()
    x = curve.period_end
    if cumulative:
        ax.plot(x, curve.expected_cumulative, color="tab:blue", linestyle="--", label="model")
        if curve.actual_cumulative is not None:
            ax.plot(x, curve.actual_cumulative, color="black", label="actual")
        ax.set_ylabel("cumulative repeat transactions")
        default = "Cumulative repeat transactions"
    else:
        ax.plot(x, curve.expected_incremental, color="tab:blue", linestyle="--", label="model")
        if curve.actual_incremental is not None:
            ax.plot(x, curve.actual_incremental, color="black", label="actual")
        ax.set_ylabel(f"repeat transactions per {unit}")
        default = f"Repeat transactions per {unit}"
    _mark_calibration(ax, curve)
    ax.set_xlabel(unit)
    ax.set_xlim(0, float(x[-1]))
    ax.set_ylim(bottom=0)
    ax.set_title(title or default)
    ax.legend(loc="best")
    return _save(fig, path)


def plot_cumulative_transactions(
    curve: TrackingCurve, path: str | Path, *, title: str | None = None, unit: str = "week"
) -> Path:
    """Write the cumulative repeat-transactions chart (model vs actual) as a PNG."""
    return _tracking(curve, path, True, title, unit)


def plot_incremental_transactions(
    curve: TrackingCurve, path: str | Path, *, title: str | None = None, unit: str = "week"
) -> Path:
    """Write the per-period (e.g. weekly) repeat-transactions chart as a PNG."""
    return _tracking(curve, path, False, title, unit)


def plot_conditional_expectations(
    report: HoldoutReport, path: str | Path, *, title: str | None = None
) -> Path:
    """Write mean actual vs predicted holdout purchases by calibration frequency as a PNG."""
    fig, ax = _figure()
    labels = [row.frequency for row in report.by_frequency]
    pos = np.arange(len(labels))
    actual = [row.mean_actual for row in report.by_frequency]
    predicted = [row.mean_predicted for row in report.by_frequency]
    ax.plot(pos, actual, color="black", marker="o", label="actual")
    ax.plot(pos, predicted, color="tab:blue", marker="s", linestyle="--", label="model")
    ax.set_xticks(pos, labels)
    ax.set_xlabel("repeat purchases in calibration period")
    ax.set_ylabel("mean purchases in holdout period")
    ax.set_ylim(bottom=0)
    ax.set_title(title or "Conditional expectations")
    ax.legend(loc="upper left")
    return _save(fig, path)
