"""``segmint demo-data`` on the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from segmint.cli.main import app
from segmint.errors import SegmintError

runner = CliRunner()


def test_demo_data_prints_the_manifest_as_json(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    args = ["demo-data", "--customers", "120", "--seed", "4", "--out", str(out), "--json",
            "--events-per-customer", "30", "--end-date", "2025-06-30", "--days", "365"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["out"] == str(out) and data["end_date"] == "2025-06-30"
    assert data["start"] == "2024-07-01"
    assert [f["path"] for f in data["files"]][:2] == ["products.csv", "customers.csv"]
    assert json.loads((out / "manifest.json").read_text())["files"] == data["files"]


def test_demo_data_shows_a_table(tmp_path: Path) -> None:
    args = ["demo-data", "--customers", "50", "--out", str(tmp_path / "d"),
            "--events-per-customer", "5", "--events-format", "parquet"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "events.parquet" in result.stdout and "shopify-orders" in result.stdout


def test_bad_options_are_user_errors(tmp_path: Path) -> None:
    for extra, message in (
        (["--end-date", "2025-02-30"], "--end-date must be a date"),
        (["--events-format", "csv"], "--events-format must be jsonl or parquet"),
        (["--dirty-rate", "2"], "--dirty-rate"),
    ):
        args = ["demo-data", "--customers", "10", "--out", str(tmp_path / "x"), *extra]
        result = runner.invoke(app, args)
        assert isinstance(result.exception, SegmintError), result.output
        assert message in str(result.exception)
    result = runner.invoke(app, ["demo-data", "--out", str(tmp_path / "x")])
    assert result.exit_code != 0 and "--customers" in result.output
