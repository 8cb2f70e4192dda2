"""CLV on a workspace: the summary computed in the engine, fitting, and the profile traits."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from segmint import Workspace
from segmint.cli.main import app
from segmint.clv import CLVInputError, fit_bgnbd
from segmint.clv.summary import summary_query

CAL_END = dt.datetime(2026, 3, 2)


def _orders(rows: list[tuple[str, str, str, str, str]]) -> pa.Table:
    """(order_id, customer_id, day, status, total) rows as an orders table."""
    return pa.table(
        {
            "order_id": [r[0] for r in rows],
            "customer_id": [r[1] for r in rows],
            "ordered_at": pa.array([dt.datetime.fromisoformat(r[2]) for r in rows]),
            "status": [r[3] for r in rows],
            "total": pa.array([Decimal(r[4]) for r in rows], pa.decimal128(18, 4)),
        }
    )


def _customers(ids: list[str]) -> pa.Table:
    return pa.table({"customer_id": ids, "email": [f"{i}@example.org" for i in ids]})


def _profile_of(ws: Workspace, customer_id: str) -> str:
    return ws.engine.fetch_value(
        "SELECT profile_id FROM identities WHERE id_type = 'customer_id' AND id_value = ?",
        [customer_id],
    )


def test_summary_counts_purchase_occasions_by_hand(workspace: Workspace):
    ws = workspace
    ws.engine.load_arrow("customers", _customers(["c1", "c2", "c3", "c4"]))
    ws.engine.load_arrow(
        "orders",
        _orders(
            [
                # c1: two orders on Jan 5 are one occasion worth 150; Jan 19 a repeat of 30;
                # the refunded order is no purchase; Mar 10 falls in the holdout.
                ("o1", "c1", "2026-01-05 09:00", "completed", "100"),
                ("o2", "c1", "2026-01-05 18:00", "completed", "50"),
                ("o3", "c1", "2026-01-19 10:00", "completed", "30"),
                ("o4", "c1", "2026-02-02 10:00", "refunded", "80"),
                ("o5", "c1", "2026-03-10 10:00", "completed", "10"),
                # c2: one purchase, 14 days before the end of calibration.
                ("o6", "c2", "2026-02-16 23:59", "completed", "20"),
                # c3: only a cancelled order: not a buyer.
                ("o7", "c3", "2026-01-10 10:00", "cancelled", "99"),
                # c4: first purchase after calibration: not in the calibration cohort.
                ("o8", "c4", "2026-03-05 10:00", "completed", "40"),
            ]
        ),
    )
    ws.build_identity()
    query = summary_query(
        calibration_end=CAL_END, observation_end=dt.datetime(2026, 3, 20), unit_days=7.0
    )
    rows = {
        r[0]: r[1:]
        for r in ws.engine.fetch_all(
            f"SELECT profile_id, frequency, recency, age, repeat_mean_value, mean_value, "
            f"holdout_purchases FROM ({ws.engine.render(query)})"
        )
    }
    # c1: x = 1, t_x = 14 days = 2 weeks, T = Jan 5 -> Mar 2 = 56 days = 8 weeks,
    # repeat mean 30, mean of occasions (150 + 30) / 2 = 90, one holdout purchase.
    assert rows[_profile_of(ws, "c1")] == (1, 2.0, 8.0, 30.0, 90.0, 1)
    # c2: x = 0, T = Feb 16 -> Mar 2 = 14 days = 2 weeks.
    assert rows[_profile_of(ws, "c2")] == (0, 0.0, 2.0, None, 20.0, 0)
    assert len(rows) == 2


def _simulated_store(ws: Workspace, customers: int = 600, seed: int = 3) -> list[tuple]:
    """Orders from a BG/NBD process (r=0.8, alpha=20 days, dropout p~Beta(1, 3))."""
    rng = np.random.default_rng(seed)
    start = dt.datetime(2025, 1, 1)
    rows = []
    for i in range(customers):
        rate = rng.gamma(0.8, 1 / 20)
        p_drop = rng.beta(1.0, 3.0)
        day = float(rng.integers(0, 180))
        while day < 420:
            rows.append(
                (
                    f"o{len(rows)}",
                    f"c{i}",
                    (start + dt.timedelta(days=int(day))).isoformat(),
                    "completed",
                    f"{rng.gamma(3, 30):.2f}",
                )
            )
            if rng.random() < p_drop:
                break
            day += rng.exponential(1 / rate)
    ws.engine.load_arrow("customers", _customers([f"c{i}" for i in range(customers)]))
    ws.engine.load_arrow("orders", _orders(rows))
    return rows


def test_fit_matches_an_independent_summary_and_fills_every_buyer(workspace: Workspace):
    ws = workspace
    ws.config = ws.config.model_copy(update={"clock": dt.datetime(2026, 3, 1)})
    rows = _simulated_store(ws)
    ws.build_profiles()
    fit = ws.fit_clv(model="bgnbd", time_unit="day")

    # The same summary worked out in plain Python from the order rows: distinct days per
    # customer, x = days - 1, t_x = last - first, T = first -> 2026-03-01.
    days: dict[str, set[dt.date]] = {}
    for _, cid, when, _, _ in rows:
        days.setdefault(cid, set()).add(dt.datetime.fromisoformat(when).date())
    end = dt.date(2026, 3, 1)
    x = np.array([len(d) - 1 for d in days.values()], float)
    t_x = np.array([(max(d) - min(d)).days for d in days.values()], float)
    T = np.array([(end - min(d)).days for d in days.values()], float)
    reference = fit_bgnbd(x, t_x, T)
    assert fit.customers == len(days)
    assert fit.log_likelihood == pytest.approx(reference.log_likelihood, rel=1e-9)
    for name, value in reference.params.items():
        assert fit.params[name] == pytest.approx(value, rel=1e-4)

    traits = ws.engine.fetch_all(
        "SELECT order_count, clv_p_alive, clv_expected_purchases_30d, "
        "clv_expected_purchases_365d, clv_predicted_12m, clv_decile FROM profiles"
    )
    buyers = [t for t in traits if t[0]]
    assert len(buyers) == len(days)
    for _, p_alive, e30, e365, value, decile in buyers:
        assert 0 < p_alive <= 1
        assert 0 <= e30 <= e365
        assert value >= 0 and np.isfinite(value)
        assert 1 <= decile <= 10
    # One-time buyers get a prediction too; people without purchases get none.
    assert any(t[0] == 1 and t[1] is not None for t in buyers)
    assert all(t[1] is None for t in traits if not t[0])
    # Deciles rank the predicted value.
    top = max(buyers, key=lambda t: t[4])
    assert top[5] == 10


def test_holdout_report_and_cli_json(tmp_path: Path):
    ws_dir = tmp_path / "ws"
    with Workspace.init(ws_dir) as ws:
        ws.config = ws.config.model_copy(update={"clock": dt.datetime(2026, 3, 1)})
        from segmint.config import save_config

        save_config(ws_dir, ws.config)
        _simulated_store(ws, customers=300, seed=5)
        ws.build_profiles()
    runner = CliRunner()
    result = runner.invoke(app, ["clv", "fit", "-w", str(ws_dir), "--holdout-days", "60", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["model"] == "bgnbd"
    assert set(data["params"]) == {"r", "alpha", "a", "b"}
    assert data["calibration_end"].startswith("2025-12-31")  # 60 days before 2026-03-01
    report = data["holdout"]["report"]
    assert report["total_actual"] >= 0 and report["mean_absolute_error"] >= 0
    assert [row["frequency"] for row in report["by_frequency"]][-1] == "7+"

    result = runner.invoke(
        app, ["clv", "report", "-w", str(ws_dir), "--json", "--out", str(tmp_path / "charts")]
    )
    assert result.exit_code == 0, result.output
    charts = json.loads(result.stdout)["charts"]
    assert len(charts) == 3
    for chart in charts:
        assert Path(chart).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_clear_errors(workspace: Workspace, tmp_path: Path):
    with pytest.raises(CLVInputError, match="profiles build"):
        workspace.fit_clv()
    workspace.build_profiles()
    with pytest.raises(CLVInputError, match="no purchases"):
        workspace.fit_clv()
    runner = CliRunner()
    result = runner.invoke(app, ["clv", "fit", "-w", str(workspace.root), "--model", "xyz"])
    assert result.exit_code != 0
    result = runner.invoke(app, ["clv", "report", "-w", str(workspace.root)])
    assert result.exit_code != 0


def test_pltv_export_hashes_identifiers_and_respects_consent(workspace: Workspace, tmp_path: Path):
    import hashlib

    import pyarrow.csv as pacsv

    ws = workspace
    ws.config = ws.config.model_copy(update={"clock": dt.datetime(2026, 3, 1)})
    _simulated_store(ws, customers=200, seed=11)
    ws.build_profiles()
    ws.fit_clv(time_unit="day")
    opted_out = ws.engine.fetch_value(
        "SELECT profile_id FROM profiles WHERE clv_predicted_12m IS NOT NULL LIMIT 1"
    )
    ws.engine.execute(
        "UPDATE profiles SET accepts_marketing = false WHERE profile_id = ?", [opted_out]
    )
    buyers = ws.engine.fetch_value("SELECT count(clv_predicted_12m) FROM profiles")

    from segmint.clv.export import export_pltv

    result = export_pltv(ws.engine, tmp_path / "pltv.csv")
    table = pacsv.read_csv(tmp_path / "pltv.csv").to_pylist()
    assert result.rows == len(table) == buyers - 1
    assert opted_out not in {row["profile_id"] for row in table}
    values = [row["predicted_value_12m"] for row in table]
    assert values == sorted(values, reverse=True)
    for row in table[:20]:
        assert row["email_sha256"] == hashlib.sha256(row["email"].encode()).hexdigest()
    everyone = export_pltv(ws.engine, tmp_path / "all.parquet", include_opted_out=True)
    assert everyone.rows == buyers
    with pytest.raises(CLVInputError, match="format"):
        export_pltv(ws.engine, tmp_path / "pltv.xlsx")
