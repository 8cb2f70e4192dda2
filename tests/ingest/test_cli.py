"""``segmint import`` and ``segmint quarantine`` through the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from segmint.cli.main import app
from segmint.errors import ImportFileError

from .conftest import DATA, write

runner = CliRunner()


def init(tmp_path: Path) -> str:
    root = str(tmp_path / "store")
    assert runner.invoke(app, ["init", root]).exit_code == 0
    return root


def test_import_json_output(tmp_path: Path):
    root = init(tmp_path)
    result = runner.invoke(
        app, ["import", "orders", str(DATA / "shopify_orders.csv"), "-w", root, "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["format"] == "shopify-orders"
    assert (payload["rows_read"], payload["inserted"], payload["rejected"]) == (10, 11, 4)
    assert payload["tables"]["order_lines"] == {
        "inserted": 6, "updated": 0, "unchanged": 0, "rejected": 4,
    }  # fmt: skip
    assert payload["quarantine"] == (
        f"SELECT * FROM quarantine WHERE import_id = '{payload['import_id']}' ORDER BY row_number"
    )

    listed = runner.invoke(app, ["quarantine", "list", "-w", root, "--json"])
    summary = json.loads(listed.stdout)
    assert [(s["import_id"], s["rejected"], s["rows_read"]) for s in summary] == [
        (payload["import_id"], 4, 10)
    ]
    shown = runner.invoke(app, ["quarantine", "show", "-w", root, "--limit", "2", "--json"])
    rows = json.loads(shown.stdout)
    assert rows["import_id"] == payload["import_id"]
    assert [r["row_number"] for r in rows["rows"]] == [7, 8]


def test_import_human_output(tmp_path: Path):
    root = init(tmp_path)
    path = write(tmp_path / "p.csv", "product_id,name,price\nP1,Mug,1\nP2,Vase,x\n")
    result = runner.invoke(app, ["import", "products", str(path), "-w", root])
    assert result.exit_code == 0, result.output
    assert "products" in result.stdout
    assert "1 row rejected; see them with `segmint quarantine show --import-id imp_" in (
        result.stdout
    )
    shown = runner.invoke(app, ["quarantine", "show", "-w", root])
    assert "price: 'x' is not an amount" in shown.stdout


def test_import_options_reach_the_importer(tmp_path: Path):
    root = init(tmp_path)
    path = write(tmp_path / "p.txt", "product_id;name\nP1;Tasse\n", encoding="latin-1")
    result = runner.invoke(
        app,
        ["import", "products", str(path), "-w", root, "--format", "csv", "--delimiter", ";",
         "--encoding", "latin-1", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["inserted"] == 1


def test_unreadable_file_is_an_error(tmp_path: Path):
    root = init(tmp_path)
    result = runner.invoke(app, ["import", "orders", str(tmp_path / "missing.csv"), "-w", root])
    assert result.exit_code == 1
    assert isinstance(result.exception, ImportFileError)


def test_error_is_one_line_through_the_console_script(tmp_path: Path):
    root = init(tmp_path)
    path = write(tmp_path / "o.csv", "")
    proc = subprocess.run(
        [sys.executable, "-c", "from segmint.cli.main import main; main()",
         "import", "orders", str(path), "-w", root, "--json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 1
    assert json.loads(proc.stdout) == {
        "error": f"{path} is empty (0 bytes): there is no header and no data"
    }


def test_quarantine_when_empty(tmp_path: Path):
    root = init(tmp_path)
    assert "No rows in quarantine." in runner.invoke(app, ["quarantine", "list", "-w", root]).stdout
    result = runner.invoke(app, ["quarantine", "show", "-w", root, "--import-id", "imp_nope"])
    assert result.exit_code == 1
    assert "no import 'imp_nope'" in str(result.exception)
