"""Workspace configuration, stored as ``segmint.toml`` in the workspace folder."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from segmint.errors import ConfigError

CONFIG_FILE = "segmint.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EngineConfig(_Section):
    kind: Literal["duckdb"] = "duckdb"
    """Which engine runs the workspace. DuckDB is embedded; more engines follow."""
    database: str = "segmint.duckdb"
    """DuckDB file, relative to the workspace folder."""
    memory_limit: str | None = None
    """Most memory the engine may use (e.g. "4GB"); past it, work spills to disk."""
    threads: int | None = None
    """Worker threads; defaults to the number of cores."""


class WorkspaceConfig(_Section):
    """Everything configurable about a workspace."""

    name: str = "segmint"
    """A name for the store this workspace holds."""
    engine: EngineConfig = Field(default_factory=EngineConfig)


def load_config(root: Path) -> WorkspaceConfig:
    path = root / CONFIG_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"no {CONFIG_FILE} in {root}: run `segmint init {root}` first") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    try:
        return WorkspaceConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"{path}: {problems}") from None


def save_config(root: Path, config: WorkspaceConfig) -> None:
    text = tomli_w.dumps(config.model_dump(exclude_none=True))
    (root / CONFIG_FILE).write_text(text, encoding="utf-8")
