"""``segmint identity`` commands, the Workspace methods behind them, and explanations."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from identity_helpers import Store, at, pid
from typer.testing import CliRunner

from segmint import Workspace
from segmint.cli.main import app
from segmint.config import IdentityConfig
from segmint.errors import ConfigError
from segmint.identity import IdentityError, explain_identity

runner = CliRunner()


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A workspace where c2 merged into c1 through an order, with a shared test address."""
    root = tmp_path / "shop"
    with Workspace.init(root) as ws:
        ws.engine.load_arrow(
            "customers",
            pa.Table.from_pylist(
                [
                    {
                        "customer_id": "c1",
                        "email": "ann@example.org",
                        "created_at": at("2024-01-01"),
                    },
                    {
                        "customer_id": "c2",
                        "email": "ann.b@example.org",
                        "created_at": at("2024-02-01"),
                    },
                ]
            ),
        )
        ws.build_identity()
        ws.engine.load_arrow(
            "orders",
            pa.Table.from_pylist(
                [
                    {
                        "order_id": "o1",
                        "customer_id": "c2",
                        "email": "ann@example.org",
                        "ordered_at": at("2024-03-01"),
                        "total": 5.0,
                    },
                    {
                        "order_id": "o2",
                        "customer_id": "c1",
                        "email": "test@example.com",
                        "ordered_at": at("2024-03-02"),
                        "total": 5.0,
                    },
                ]
            ),
        )
    return root


def invoke(*args: str) -> dict:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_build_show_and_guarded_commands(shop: Path):
    built = invoke("identity", "build", "-w", str(shop))
    assert (built["mode"], built["profiles"], built["merges"]) == ("incremental", 1, 1)

    shown = invoke("identity", "show", "ANN.B@example.org", "-w", str(shop))
    assert shown["profile_id"] == pid("customer_id", "c1")
    assert {(i["id_type"], i["id_value"]) for i in shown["identifiers"]} == {
        ("customer_id", "c1"),
        ("customer_id", "c2"),
        ("email", "ann@example.org"),
        ("email", "ann.b@example.org"),
        ("email", "test@example.com"),
    }
    assert shown["records"] == {"customers": 2, "orders": 2}
    [merge] = shown["merges"]
    assert (merge["action"], merge["from_profile_id"], merge["source_key"]) == (
        "merge",
        pid("customer_id", "c2"),
        "o1",
    )

    # The retired id points to the surviving one.
    retired = invoke("identity", "show", pid("customer_id", "c2"), "-w", str(shop))
    assert retired["profile_id"] is None
    assert pid("customer_id", "c1") in retired["note"]

    guarded = invoke("identity", "guarded", "-w", str(shop))
    assert [(g["id_value"], g["reason"], g["profile_id"]) for g in guarded] == [
        ("test@example.com", "deny list", pid("customer_id", "c1"))
    ]


def test_human_output_and_unknown_identifier(shop: Path):
    result = runner.invoke(app, ["identity", "build", "-w", str(shop)])
    assert result.exit_code == 0, result.output
    assert "profiles" in result.stdout and "merges this run" in result.stdout
    result = runner.invoke(app, ["identity", "show", "customer_id:c1", "-w", str(shop)])
    assert result.exit_code == 0, result.output
    assert "Merge history" in result.stdout
    result = runner.invoke(app, ["identity", "show", "nobody@example.org", "-w", str(shop)])
    assert result.exit_code == 1
    assert "no identifier" in result.stdout


def test_as_of_from_the_cli_writes_prefixed_tables(shop: Path):
    built = invoke("identity", "build", "-w", str(shop), "--as-of", "2024-01-15")
    assert built["prefix"] == "asof_20240115_"
    assert built["profiles"] == 1  # only c1 existed then
    shown = invoke("identity", "show", "c1", "-w", str(shop), "--prefix", "asof_20240115_")
    assert shown["profile_id"] == pid("customer_id", "c1")


def test_show_before_any_build_is_a_clear_error(tmp_path: Path):
    Workspace.init(tmp_path / "empty").close()
    result = runner.invoke(app, ["identity", "guarded", "-w", str(tmp_path / "empty")])
    assert result.exit_code != 0
    assert isinstance(result.exception, IdentityError)
    assert "identity build" in str(result.exception)


def test_show_a_guarded_identifier_explains_why(store: Store):
    store.add(
        "events",
        [
            {
                "message_id": f"m{i}",
                "type": "identify",
                "anonymous_id": "kiosk",
                "user_id": f"c{i}",
                "timestamp": at("2024-01-01"),
            }
            for i in range(5)
        ],
    )
    store.build()
    shown = explain_identity(store.engine, "kiosk", store.config)
    assert shown.profile_id is None
    assert "held back" in shown.note and "belongs to no single profile" in shown.note


def test_show_finds_phones_in_any_format(store: Store):
    store.add("customers", [{"customer_id": "c1", "phone": "+1 415 555 0100"}])
    store.build()
    assert explain_identity(store.engine, "(415) 555-0100", store.config).profile_id == pid(
        "customer_id", "c1"
    )
    with pytest.raises(IdentityError, match="give an identifier"):
        explain_identity(store.engine, "  ", store.config)


def test_identity_settings_are_validated(tmp_path: Path):
    assert IdentityConfig(default_phone_region="gb").default_phone_region == "GB"
    with pytest.raises(ValueError, match="region"):
        IdentityConfig(default_phone_region="XX")
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        IdentityConfig(max_customers_per_identifier=0)
    with pytest.raises(ValueError, match="blank"):
        IdentityConfig(deny_list=["*"])
    root = tmp_path / "ws"
    Workspace.init(root).close()
    (root / "segmint.toml").write_text('[identity]\ndefault_phone_region = "Narnia"\n')
    with pytest.raises(ConfigError, match=r"identity\.default_phone_region"):
        Workspace.open(root)


def test_deny_list_wildcards_and_phone_formats():
    s = Store(IdentityConfig(deny_list=["*@mailinator.com", "(212) 555-0199", "100%_off@x.org"]))
    try:
        s.add(
            "customers",
            [
                {"customer_id": "c1", "email": "a@mailinator.com", "phone": "+1 212 555 0199"},
                {"customer_id": "c2", "email": "100%_off@x.org"},
                {"customer_id": "c3", "email": "1000_off@x.org"},  # % and _ are not wildcards
            ],
        )
        s.build()
        assert set(s.engine.fetch_all("SELECT id_value FROM identity_guarded")) == {
            ("a@mailinator.com",),
            ("+12125550199",),
            ("100%_off@x.org",),
        }
    finally:
        s.close()


def test_public_api_is_sorted_and_importable():
    import segmint.identity as identity

    assert identity.__all__ == sorted(identity.__all__)
    assert all(hasattr(identity, name) for name in identity.__all__)
