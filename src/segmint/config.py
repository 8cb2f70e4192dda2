"""Workspace configuration, stored as ``segmint.toml`` in the workspace folder."""

from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path
from typing import Literal

import tomli_w
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from segmint.errors import ConfigError

CONFIG_FILE = "segmint.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EngineConfig(_Section):
    """Which engine runs the workspace (``[engine]`` in segmint.toml); see docs/scaling.md."""

    kind: Literal["duckdb", "postgres", "spark"] = "duckdb"
    """``duckdb`` (embedded, the default), ``postgres`` (a server) or ``spark`` (a cluster)."""
    database: str = "segmint.duckdb"
    """DuckDB: the database file, relative to the workspace folder."""
    memory_limit: str | None = None
    """DuckDB: most memory the engine may use (e.g. "4GB"); past it, work spills to disk."""
    threads: int | None = None
    """DuckDB: worker threads; defaults to the number of cores."""
    url: str | None = None
    """PostgreSQL: connection URL (``postgresql://user@host:5432/db``). A password is better
    kept in ``PGPASSWORD`` or ``~/.pgpass`` than here."""
    schema_name: str = "segmint"
    """PostgreSQL: the schema holding the workspace's tables. Spark: its database."""
    master: str = "local[2]"
    """Spark: the master URL (``local[4]``, ``spark://host:7077``, ``yarn``...)."""
    connect_url: str | None = None
    """Spark: a Spark Connect URL (``sc://host:15002``); used instead of ``master`` when set."""
    warehouse: str = "spark-warehouse"
    """Spark: where tables are stored (a folder relative to the workspace, or a URL such as
    ``hdfs://...`` or ``s3a://...`` that every executor can reach)."""
    spark_conf: dict[str, str] = Field(default_factory=dict)
    """Spark: extra settings (``spark.executor.memory`` and so on)."""

    @model_validator(mode="after")
    def _postgres_needs_url(self) -> EngineConfig:
        if self.kind == "postgres" and not self.url:
            raise ValueError("engine kind 'postgres' needs url = \"postgresql://...\"")
        return self


class IdentityConfig(_Section):
    """How identity resolution turns identifiers into people (``[identity]`` in segmint.toml)."""

    email_provider_rules: bool = False
    """Apply mailbox provider rules to emails: for gmail.com and googlemail.com, dots in the
    local part are removed and a ``+tag`` is dropped (``J.Doe+shop@googlemail.com`` becomes
    ``jdoe@gmail.com``). Off by default: emails are only trimmed and lower-cased."""
    default_phone_region: str = "US"
    """Region (ISO 3166 two-letter code) used to read phone numbers written without a country
    prefix, unless the customer's ``country`` column holds a two-letter code."""
    max_customers_per_identifier: int = Field(default=3, ge=1)
    """An email, phone or anonymous id linked to more distinct customer ids than this is held
    back by the over-merge guard: it merges nothing and is reported (``identity guarded``)."""
    deny_list: list[str] = Field(
        default_factory=lambda: [
            "test@example.com",
            "test@test.com",
            "noemail@*",
            "no-email@*",
            "none@none.com",
        ]
    )
    """Identifier values that never merge anything, compared with the normalised value,
    ignoring case; ``*`` matches any run of characters (``noemail@*``). Phone numbers may be
    written in any format: they are compared in E.164 form."""

    @field_validator("default_phone_region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        import phonenumbers

        region = value.strip().upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{value!r} is not a two-letter region phonenumbers knows (e.g. US)")
        return region

    @field_validator("deny_list")
    @classmethod
    def _no_blank_entries(cls, value: list[str]) -> list[str]:
        if any(not entry.strip() or not entry.strip("*") for entry in value):
            raise ValueError("deny list entries must not be blank or only '*'")
        return [entry.strip() for entry in value]


class ProfilesConfig(_Section):
    """How profile traits are computed (``[profiles]`` in segmint.toml); see docs/profiles.md."""

    session_timeout_minutes: int = Field(default=30, ge=1)
    """A web session ends after this many minutes without an event."""
    visits_window_days: int = Field(default=180, ge=30)
    """``visits_per_month`` counts sessions over at most this many days before the build date."""
    new_customer_days: int = Field(default=30, ge=1)
    """Lifecycle ``new``: the first purchase is less than this many days before the build date."""
    loyal_min_orders: int = Field(default=3, ge=2)
    """Lifecycle ``loyal``: at least this many purchases (and not overdue)."""
    own_rhythm_min_orders: int = Field(default=3, ge=2)
    """From this many orders on, a customer is measured against their own average gap between
    orders; below it, against the store's median gap."""
    at_risk_multiplier: float = Field(default=2.0, ge=1.0)
    """Lifecycle ``at_risk``: days since the last order exceed this many purchase intervals."""
    lapsed_multiplier: float = Field(default=4.0, ge=1.0)
    """Lifecycle ``lapsed``: days since the last order exceed this many purchase intervals."""
    minimum_interval_days: float = Field(default=7.0, gt=0)
    """Floor of the purchase interval, so same-day repeat orders do not make everyone overdue."""
    default_interval_days: float = Field(default=90.0, gt=0)
    """Purchase interval used while the store has no repeat purchases to measure one."""
    closed_ticket_statuses: list[str] = Field(
        default_factory=lambda: ["solved", "closed", "resolved"]
    )
    """Ticket statuses that count as closed (compared ignoring case); any other is open."""
    product_viewed_events: list[str] = Field(default_factory=lambda: ["Product Viewed"])
    """Track events that count as product views."""
    product_added_events: list[str] = Field(default_factory=lambda: ["Product Added"])
    """Track events that count as add-to-cart."""
    order_completed_events: list[str] = Field(default_factory=lambda: ["Order Completed"])
    """Track events that close an open cart (as an order does)."""
    email_delivered_events: list[str] = Field(default_factory=lambda: ["Email Delivered"])
    """Track events that count as an email delivered."""
    email_opened_events: list[str] = Field(default_factory=lambda: ["Email Opened"])
    """Track events that count as an email opened."""
    email_clicked_events: list[str] = Field(default_factory=lambda: ["Email Link Clicked"])
    """Track events that count as an email link clicked."""

    @field_validator(
        "closed_ticket_statuses",
        "product_viewed_events",
        "product_added_events",
        "order_completed_events",
        "email_delivered_events",
        "email_opened_events",
        "email_clicked_events",
    )
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        names = [v.strip() for v in value]
        if not names or any(not n for n in names):
            raise ValueError("must list at least one name, and no blank names")
        return names

    @model_validator(mode="after")
    def _lapsed_after_at_risk(self) -> ProfilesConfig:
        if self.lapsed_multiplier <= self.at_risk_multiplier:
            raise ValueError(
                f"lapsed_multiplier ({self.lapsed_multiplier}) must be greater than "
                f"at_risk_multiplier ({self.at_risk_multiplier})"
            )
        return self


class CLVConfig(_Section):
    """Predicted customer lifetime value (``segmint clv fit``)."""

    model: Literal["bgnbd", "pnbd"] = "bgnbd"
    """Purchase model: BG/NBD (fast, robust) or Pareto/NBD. Spend is always Gamma-Gamma."""
    time_unit: Literal["day", "week"] = "week"
    """Time unit of the customer summary the models are fitted on."""
    annual_discount_rate: float = Field(default=0.10, ge=0, le=1)
    """Yearly rate at which future value is discounted in the predicted 12-month CLV."""


class WorkspaceConfig(_Section):
    """Everything configurable about a workspace."""

    name: str = "segmint"
    """A name for the store this workspace holds."""
    clock: datetime | None = None
    """A fixed "now" (UTC) for every default as-of date, windows such as "last 7 days" and
    schedules. Unset, the real time is used; set it to replay or demo a store frozen in time."""
    engine: EngineConfig = Field(default_factory=EngineConfig)
    identity: IdentityConfig = Field(default_factory=IdentityConfig)
    profiles: ProfilesConfig = Field(default_factory=ProfilesConfig)
    clv: CLVConfig = Field(default_factory=CLVConfig)


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
