"""Holdout report, tracking curves and charts."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from segmint import clv
from segmint.clv import charts
from segmint.clv.validation import holdout_report, tracking_curve


def test_holdout_report_small_example():
    # Worked by hand:
    #   totals: actual 0+1+3+2+0 = 6, predicted 0.5+1+2+2+0.5 = 6 -> error 0
    #   MAE = (0.5 + 0 + 1 + 0 + 0.5) / 5 = 0.4
    #   frequency 0: customers 1 and 5 -> actual mean 0, predicted mean 0.5
    #   frequency 1: customer 2 -> 1 vs 1;  "2+": customers 3, 4 -> 2.5 vs 2
    x = [0, 1, 5, 2, 0]
    actual = [0, 1, 3, 2, 0]
    pred = [0.5, 1.0, 2.0, 2.0, 0.5]
    rep = holdout_report(x, actual, pred, max_frequency=2)
    assert rep.total_actual == 6 and rep.total_predicted == 6 and rep.total_error == 0
    assert rep.total_error_pct == 0
    assert rep.mean_absolute_error == pytest.approx(0.4)
    # Pearson r by hand: deviations a = (-1.2, -0.2, 1.8, 0.8, -1.2),
    # p = (-0.7, -0.2, 0.8, 0.8, -0.7);
    # sum ap = 0.84 + 0.04 + 1.44 + 0.64 + 0.84 = 3.8; sum a^2 = 6.8;
    # sum p^2 = 0.49 + 0.04 + 0.64 + 0.64 + 0.49 = 2.3
    assert rep.correlation == pytest.approx(3.8 / math.sqrt(6.8 * 2.3))
    assert [r.frequency for r in rep.by_frequency] == ["0", "1", "2+"]
    assert [r.n_customers for r in rep.by_frequency] == [2, 1, 2]
    assert [r.mean_actual for r in rep.by_frequency] == [0, 1, 2.5]
    assert [r.mean_predicted for r in rep.by_frequency] == [0.5, 1, 2]


def test_holdout_report_weights_equal_repetition():
    x, a, p = [0, 1, 3], [0, 2, 1], [0.2, 1.5, 2.0]
    w = [3, 1, 2]
    rep_w = holdout_report(x, a, p, weights=w)
    rep_r = holdout_report(np.repeat(x, w), np.repeat(a, w), np.repeat(p, w))
    assert rep_w.total_predicted == pytest.approx(rep_r.total_predicted)
    assert [r.mean_predicted for r in rep_w.by_frequency[:2]] == pytest.approx(
        [r.mean_predicted for r in rep_r.by_frequency[:2]]
    )
    assert rep_w.correlation == pytest.approx(rep_r.correlation)
    assert rep_w.mean_absolute_error == pytest.approx(rep_r.mean_absolute_error)


def test_holdout_report_degenerate_and_json():
    rep = holdout_report([0, 0], [0, 0], [0.1, 0.1])
    assert math.isnan(rep.correlation) and math.isnan(rep.total_error_pct)
    d = json.loads(json.dumps(rep.to_dict()))
    assert d["correlation"] is None and d["total_error_pct"] is None
    assert d["by_frequency"][1]["mean_actual"] is None  # nobody with frequency 1
    with pytest.raises(clv.CLVInputError):
        holdout_report([0, 1], [0], [0.1, 0.2])
    with pytest.raises(clv.CLVInputError):
        holdout_report([0], [-1], [0.1])


class LinearModel:
    """E[X(t)] = 0.5 t: makes the tracking curve computable by hand."""

    def expected_purchases_new(self, t):
        return 0.5 * np.asarray(t, dtype=float)


def test_tracking_curve_by_hand():
    # Customers born at 0, 0 and 2.5; periods of length 1 up to 4.
    # cumulative at t: 0.5 * (t + t + max(t - 2.5, 0))
    cur = tracking_curve(LinearModel(), [0.0, 0.0, 2.5], 4, actual_incremental=[1, 0, 2, 1])
    np.testing.assert_allclose(cur.period_end, [1, 2, 3, 4])
    np.testing.assert_allclose(cur.expected_cumulative, [1.0, 2.0, 3.25, 4.75])
    np.testing.assert_allclose(cur.expected_incremental, [1.0, 1.0, 1.25, 1.5])
    np.testing.assert_allclose(cur.actual_cumulative, [1, 1, 3, 4])
    assert json.loads(json.dumps(cur.to_dict()))["expected_cumulative"][2] == 3.25


def test_tracking_curve_period_length_and_weights():
    cur = tracking_curve(LinearModel(), [0.0, 1.0], 3, period_length=2.0, weights=[2, 1])
    # ends 2, 4, 6: 0.5 * (2 t + (t - 1))
    np.testing.assert_allclose(cur.expected_cumulative, [2.5, 5.5, 8.5])
    with pytest.raises(clv.CLVInputError):
        tracking_curve(LinearModel(), [0.0], 3, actual_incremental=[1, 2])


def test_cdnow_tracking(cdnow, cdnow_weekly):
    m = clv.ParetoNBDModel(r=0.553, alpha=10.578, s=0.606, beta=11.669, time_unit_days=7)
    cur = tracking_curve(
        m, cdnow["first_day"] / 7, 78, actual_incremental=cdnow_weekly, calibration_end=39
    )
    assert cur.actual_cumulative[38] == 2457  # calibration repeat purchases = sum of x
    assert cdnow["x"].sum() == 2457
    assert cur.actual_cumulative[-1] == 2457 + cdnow["x_star"].sum()
    # The model tracks the cohort within 5 % at the end of calibration and holdout.
    assert cur.expected_cumulative[38] == pytest.approx(2457, rel=0.05)
    assert cur.expected_cumulative[-1] == pytest.approx(cur.actual_cumulative[-1], rel=0.05)


def _is_png(path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(8) == b"\x89PNG\r\n\x1a\n"


def test_charts_write_pngs(tmp_path, cdnow, cdnow_weekly):
    m = clv.BGNBDModel(r=0.243, alpha=4.414, a=0.793, b=2.426, time_unit_days=7)
    cur = tracking_curve(
        m, cdnow["first_day"] / 7, 78, actual_incremental=cdnow_weekly, calibration_end=39
    )
    rep = holdout_report(
        cdnow["x"], cdnow["x_star"], m.expected_purchases(39, cdnow["x"], cdnow["t_x"], cdnow["T"])
    )
    paths = [
        charts.plot_cumulative_transactions(cur, tmp_path / "cum.png"),
        charts.plot_incremental_transactions(cur, tmp_path / "sub" / "inc.png"),
        charts.plot_conditional_expectations(rep, tmp_path / "ce.png", title="CDNOW"),
    ]
    for p in paths:
        assert p.exists() and p.stat().st_size > 5000 and _is_png(p)
