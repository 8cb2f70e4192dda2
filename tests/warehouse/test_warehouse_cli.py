"""``segmint warehouse sync``: the summary (Rich and --json) and clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from segmint.cli.main import app

from .conftest import Warehouse

runner = CliRunner()


def test_sync_json_then_table_summary(shop_root: Path, warehouse: Warehouse):
    args = ["warehouse", "sync", warehouse.url, "--schema", warehouse.schema, "-w", str(shop_root)]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["schema"] == warehouse.schema
    tables = {t["table"]: t for t in report["tables"]}
    assert tables["profiles"] == {
        "table": "profiles",
        "source_rows": 4,
        "inserted": 4,
        "updated": 0,
        "deleted": 0,
        "unchanged": 0,
        "added_columns": [],
    }
    assert tables["segment_members"]["inserted"] == 3
    assert report["rows_written"] == 14
    assert warehouse.count("profiles") == 4

    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "Nothing changed since the last sync" in again.stdout
    assert "segment_members" in again.stdout


def test_url_from_the_environment(shop_root: Path, warehouse: Warehouse):
    result = runner.invoke(
        app,
        ["warehouse", "sync", "--schema", warehouse.schema, "-w", str(shop_root), "--json"],
        env={"SEGMINT_WAREHOUSE_URL": warehouse.url},
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["rows_written"] == 14


def _segmint(*args: str) -> subprocess.CompletedProcess[str]:
    """The real console entry point, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-c", "from segmint.cli.main import main; main()", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_unreachable_warehouse_is_one_clear_line(shop_root: Path):
    proc = _segmint(
        "warehouse", "sync", "postgresql://bi:s3cret@127.0.0.1:1/shop", "-w", str(shop_root)
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "cannot connect to postgresql://bi:***@127.0.0.1:1/shop" in proc.stderr
    assert "s3cret" not in proc.stderr + proc.stdout


def test_non_postgres_url_is_a_clear_json_error(shop_root: Path):
    proc = _segmint("warehouse", "sync", "snowflake://acct/db", "-w", str(shop_root), "--json")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    error = json.loads(proc.stdout)["error"]
    assert "must be a PostgreSQL URL" in error
    assert "docs/warehouse.md" in error
