"""The CLI's shared behaviour: workspace option, JSON output, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from segmint.cli.main import app

runner = CliRunner()


def test_init_then_status_json(tmp_path: Path):
    ws = tmp_path / "store"
    result = runner.invoke(app, ["init", str(ws), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["workspace"] == str(ws.resolve())
    result = runner.invoke(app, ["status", "--workspace", str(ws), "--json"])
    assert result.exit_code == 0, result.output
    status = json.loads(result.stdout)
    assert status["tables"]["orders"] == 0
    assert status["quarantine"] == []


def test_workspace_from_environment_variable(tmp_path: Path):
    runner.invoke(app, ["init", str(tmp_path / "s")])
    result = runner.invoke(
        app, ["status", "--json"], env={"SEGMINT_WORKSPACE": str(tmp_path / "s")}
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["workspace"] == str((tmp_path / "s").resolve())


def test_missing_workspace_is_one_clear_line_and_exit_1(tmp_path: Path):
    # Through the real console script entry point, as a user runs it.
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from segmint.cli.main import main; main()",
            "status",
            "-w",
            str(tmp_path / "missing"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert "not a segmint workspace" in proc.stderr
    assert "Traceback" not in proc.stderr
