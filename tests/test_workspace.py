"""The workspace facade: creating, opening, configuration errors, status."""

from __future__ import annotations

from pathlib import Path

import pytest

from segmint import Workspace
from segmint.config import CONFIG_FILE
from segmint.errors import ConfigError, WorkspaceError
from segmint.model.tables import IMPORTABLE


def test_init_creates_config_and_every_table(tmp_path: Path):
    with Workspace.init(tmp_path / "store", name="Acme") as ws:
        assert (tmp_path / "store" / CONFIG_FILE).exists()
        assert ws.config.name == "Acme"
        assert ws.status().tables == {name: 0 for name in IMPORTABLE}
    with Workspace.open(tmp_path / "store") as again:
        assert again.config.name == "Acme"


def test_init_refuses_an_existing_workspace(tmp_path: Path):
    Workspace.init(tmp_path).close()
    with pytest.raises(WorkspaceError, match="already"):
        Workspace.init(tmp_path)


def test_open_names_the_missing_workspace(tmp_path: Path):
    with pytest.raises(WorkspaceError, match="segmint init"):
        Workspace.open(tmp_path / "nowhere")


def test_workspace_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    Workspace.init(tmp_path / "env-store").close()
    monkeypatch.setenv("SEGMINT_WORKSPACE", str(tmp_path / "env-store"))
    with Workspace.open() as ws:
        assert ws.root == (tmp_path / "env-store").resolve()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name = ", "not valid TOML"),
        ('[engine]\nkind = "oracle"\n', "engine.kind"),
        ('[engine]\nmemory_limt = "1GB"\n', "engine.memory_limt"),
    ],
)
def test_bad_config_is_named(tmp_path: Path, text: str, message: str):
    Workspace.init(tmp_path).close()
    (tmp_path / CONFIG_FILE).write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        Workspace.open(tmp_path)
