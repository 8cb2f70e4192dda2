"""End to end on a real workspace: identity resolution, the profile build (also as of a past
date) and the ``segmint segment`` / ``segmint template`` commands."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from segmint import Workspace
from segmint.cli.main import app

runner = CliRunner()


@pytest.fixture(scope="module")
def built_shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three customers; ann ordered in June and November, bob in June, cy in November but
    opted out. Built once; each test works on a copy."""
    root = tmp_path_factory.mktemp("shops") / "shop"
    with Workspace.init(root) as ws:
        e = ws.engine
        e.execute(
            "INSERT INTO customers (customer_id, email, accepts_marketing, created_at) VALUES "
            "('ann', 'ann@x.com', true, '2026-01-01'), ('bob', 'bob@x.com', true, '2026-01-01'), "
            "('cy', 'cy@x.com', false, '2026-01-01')"
        )
        e.execute(
            "INSERT INTO orders (order_id, customer_id, ordered_at, total, status) VALUES "
            "('1', 'ann', '2026-06-10', 100, 'completed'), "
            "('2', 'ann', '2026-11-10', 300, 'completed'), "
            "('3', 'bob', '2026-06-12', 50, 'completed'), "
            "('4', 'cy', '2026-11-11', 900, 'completed')"
        )
        from segmint.profiles.build import build_profiles

        build_profiles(ws.engine, ws.config)  # current profiles, as of now
    return root


@pytest.fixture
def shop(built_shop: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(built_shop, tmp_path / "shop"))


def cli(root: Path, *args: str) -> object:
    result = runner.invoke(app, [*args, "--workspace", str(root), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_cli_round_trip(shop: Path, tmp_path: Path) -> None:
    definition = tmp_path / "big.yaml"
    definition.write_text(
        "name: big\ninclude:\n  type: orders\n  measure: sum\n  op: gte\n  value: 300\n",
        encoding="utf-8",
    )
    assert cli(shop, "segment", "create", "--file", str(definition))["version"] == 1  # type: ignore[index]
    preview = cli(shop, "segment", "preview", "big", "--as-of", "2026-11-22")
    # ann spent 400, cy 900 but opted out of marketing.
    assert preview["size"] == 1 and preview["consent_excluded"] == 1  # type: ignore[index]
    run = cli(shop, "segment", "run", "big", "--as-of", "2026-11-22")
    assert (run["members"], run["entered"]) == (1, 1)  # type: ignore[index]
    # As of the end of June ann had spent 100: nobody is in.
    past = cli(shop, "segment", "preview", "big", "--as-of", "2026-06-30")
    assert past["size"] == 0  # type: ignore[index]
    history = cli(shop, "segment", "history", "big", "--changes")
    assert [c["change"] for c in history["changes"]] == ["entered"]  # type: ignore[index]
    profile_id = history["changes"][0]["profile_id"]  # type: ignore[index]
    explained = cli(shop, "segment", "explain", "big", profile_id, "--as-of", "2026-11-22")
    assert explained["member"] is True  # type: ignore[index]
    assert explained["include"]["value"] == 400  # type: ignore[index]
    sql = cli(shop, "segment", "sql", "big", "--dialect", "postgres", "--as-of", "2026-11-22")
    assert "FROM profiles AS p" not in sql["sql"]  # type: ignore[index]  # past: prefixed tables
    out = tmp_path / "big.csv"
    assert cli(shop, "segment", "export", "big", "--output", str(out))["rows"] == 1  # type: ignore[index]
    assert out.read_text().startswith('"profile_id","email"')
    listing = cli(shop, "segment", "list")
    assert [s["name"] for s in listing] == ["big"]  # type: ignore[union-attr,index]
    created = cli(
        shop, "segment", "create", "fresh", "--template", "first-time-buyers", "--param", "days=30"
    )
    assert created["definition"]["template"]["params"] == {"days": 30}  # type: ignore[index]
    assert cli(shop, "segment", "delete", "fresh") == {"deleted": "fresh"}


def test_cli_reports_invalid_definitions_with_their_place(shop: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "name": "bad",
                "include": {
                    "all": [{"type": "trait", "trait": "total_spnd", "op": "gt", "value": 1}]
                },
            }
        )
    )
    result = runner.invoke(
        app, ["segment", "create", "--file", str(bad), "-w", str(shop), "--json"]
    )
    assert result.exit_code == 1
    assert json.loads(result.output)["problems"] == [
        {
            "path": "include.all[0].trait",
            "message": "unknown trait 'total_spnd'; did you mean 'total_spend'?",
        }
    ]


def test_template_commands(shop: Path, tmp_path: Path) -> None:
    listing = cli(shop, "template", "list")
    names = {t["name"] for t in listing}  # type: ignore[union-attr,index]
    assert {"cart-abandoners", "rfm-cant-lose-them", "vips"} <= names
    shown = cli(shop, "template", "show", "vips")
    assert shown["body"]["include"]["value"] == {"$param": "percent"}  # type: ignore[index]
    sql = tmp_path / "q.sql"
    sql.write_text("SELECT profile_id FROM profiles WHERE total_spend > :min")
    made = cli(
        shop, "template", "create", "spent", "--sql-file", str(sql), "--param", "min:number=200"
    )
    assert made["parameters"][0]["default"] == 200.0  # type: ignore[index]
    assert "spent" in {t["name"] for t in cli(shop, "template", "list")}  # type: ignore[union-attr,index]
    bad = tmp_path / "bad.sql"
    bad.write_text("DELETE FROM profiles")
    result = runner.invoke(
        app, ["template", "create", "x", "--sql-file", str(bad), "-w", str(shop)]
    )
    assert result.exit_code != 0
