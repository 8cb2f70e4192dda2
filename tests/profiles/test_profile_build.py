"""The build as a whole: catalogue completeness, documentation, extensions, atomicity,
reproducibility, as-of dates and dialect neutrality."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from segmint.model.tables import ColumnType
from segmint.profiles import ProfileExtension, ProfilesError, Trait, register_extension
from segmint.profiles.assemble import missing_expressions
from segmint.profiles.build import default_prefix, normalize_as_of
from segmint.profiles.catalogue import (
    CATEGORY_STATS_COLUMNS,
    CORE_TRAITS,
    EMAIL_STATS_COLUMNS,
    ExtensionContext,
    profile_traits,
    unregister_extension,
)
from segmint.profiles.docs import config_fields, render_profiles_doc
from segmint.profiles.sql import ProfileTables
from segmint.profiles.types import ProfileBuildResult

from .profile_helpers import Store

DOC = Path(__file__).resolve().parents[2] / "docs" / "profiles.md"


def _small_store() -> Store:
    s = Store()
    s.person("p1", "customer_id:c1", "anonymous_id:a1")
    s.person("p2", "customer_id:c2")
    s.add(
        "customers",
        [
            {"customer_id": "c1", "email": "ann@x.com", "created_at": "2024-01-01"},
            {"customer_id": "c2", "created_at": "2024-01-01"},
        ],
    )
    s.add(
        "orders",
        [
            {
                "order_id": "o1",
                "customer_id": "c1",
                "ordered_at": "2025-06-01T00:00:00Z",
                "total": "10",
            },
            {
                "order_id": "o2",
                "customer_id": "c2",
                "ordered_at": "2025-06-10T00:00:00Z",
                "total": "20",
            },
            {
                "order_id": "o3",
                "customer_id": "c1",
                "ordered_at": "2025-06-20T00:00:00Z",
                "total": "30",
            },
        ],
    )
    s.add(
        "events",
        [
            {
                "message_id": "m1",
                "type": "page",
                "anonymous_id": "a1",
                "timestamp": "2025-06-29T10:00:00Z",
            }
        ],
    )
    return s


@pytest.fixture
def small() -> Iterator[Store]:
    s = _small_store()
    yield s
    s.close()


@pytest.fixture(scope="module")
def recorded() -> Iterator[tuple[Store, ProfileBuildResult, list[exp.Expression]]]:
    """One build of the small store, with every statement it sent to the engine."""
    small = _small_store()
    statements: list[exp.Expression] = []
    engine = small.engine
    for method in ("execute", "fetch_all", "fetch_arrow"):
        original = getattr(engine, method)

        def recording(query: Any, params: Any = None, _original: Any = original) -> Any:
            if isinstance(query, exp.Expression):
                statements.append(query)
            return _original(query, params)

        setattr(engine, method, recording)
    result = small.build()
    yield small, result, statements
    small.close()


def test_every_column_is_in_the_catalogue_and_back(recorded):
    small, _, _ = recorded
    columns = small.engine.table_columns("profiles")
    assert columns == [t.name for t in profile_traits()]
    assert small.engine.table_columns("profile_category_stats") == [
        c.name for c in CATEGORY_STATS_COLUMNS
    ]
    assert small.engine.table_columns("profile_email_stats") == [
        c.name for c in EMAIL_STATS_COLUMNS
    ]
    assert missing_expressions() == []


def test_catalogue_names_are_unique_and_well_formed():
    names = [t.name for t in CORE_TRAITS]
    assert len(names) == len(set(names))
    with pytest.raises(ValueError, match="lower_snake_case"):
        Trait("Bad Name", ColumnType.INTEGER, "x", "orders")
    with pytest.raises(ValueError, match="unknown source"):
        Trait("fine", ColumnType.INTEGER, "x", "astrology")  # type: ignore[arg-type]


def test_docs_are_generated_from_the_catalogue():
    assert DOC.read_text(encoding="utf-8") == render_profiles_doc(), (
        "docs/profiles.md is out of date: segmint profiles catalogue --markdown > docs/profiles.md"
    )
    text = render_profiles_doc()
    for t in profile_traits():
        assert f"| `{t.name}` |" in text
    for name, _, doc in config_fields():
        assert doc, f"setting {name} has no docstring"
        assert f"| `{name}` |" in text


CLV = ProfileExtension(
    name="test_clv",
    traits=(
        Trait("probability_alive", ColumnType.DOUBLE, "P(alive).", "clv", "share"),
        Trait("clv_12m", ColumnType.MONEY, "Predicted 12-month value.", "clv", "currency"),
    ),
)


@pytest.fixture
def clv_extension() -> Iterator[ProfileExtension]:
    register_extension(CLV)
    yield CLV
    unregister_extension(CLV.name)


def test_extension_columns_are_null_until_filled(small: Store, clv_extension):
    small.build()
    assert small.engine.table_columns("profiles")[-2:] == ["probability_alive", "clv_12m"]
    assert small.profile("p1")["clv_12m"] is None
    assert "| `clv_12m` |" in render_profiles_doc()


def test_extension_fill_writes_its_columns_in_the_build(small: Store):
    seen: list[ExtensionContext] = []

    def fill(ctx: ExtensionContext) -> None:
        seen.append(ctx)
        ctx.engine.execute(
            f"UPDATE {ctx.profiles_table} SET probability_alive = 0.5, "
            "clv_12m = total_spend * 2 WHERE order_count > 0"
        )

    register_extension(ProfileExtension("test_clv", CLV.traits, fill))
    try:
        small.build()
    finally:
        unregister_extension("test_clv")
    assert seen[0].as_of == datetime(2025, 6, 30, 23, 59, 59, 999999)
    p1 = small.profile("p1")
    assert (p1["probability_alive"], str(p1["clv_12m"])) == (0.5, "80.0000")  # (10 + 30) x 2


def test_extension_traits_cannot_shadow_others():
    with pytest.raises(ValueError, match="already belongs to 'core'"):
        register_extension(
            ProfileExtension("bad", (Trait("order_count", ColumnType.INTEGER, "x", "clv"),))
        )


def test_a_failed_build_leaves_the_previous_profiles(small: Store):
    small.build()
    before = small.rows("SELECT * FROM profiles ORDER BY profile_id")
    # New data arrives; then the build fails at its last step.
    small.add(
        "orders",
        [
            {
                "order_id": "o9",
                "customer_id": "c2",
                "ordered_at": "2025-06-25T00:00:00Z",
                "total": "99",
            }
        ],
    )

    def explode(ctx: ExtensionContext) -> None:
        raise RuntimeError("model file is corrupt")

    register_extension(ProfileExtension("exploding", (), explode))
    try:
        with pytest.raises(RuntimeError, match="corrupt"):
            small.build()
    finally:
        unregister_extension("exploding")
    assert small.rows("SELECT * FROM profiles ORDER BY profile_id") == before
    leftovers = small.rows(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_name LIKE '%__next' OR table_name LIKE '_segmint_profiles_%'"
    )
    assert leftovers == []
    assert len(small.rows("SELECT * FROM profile_builds")) == 1  # only the good build
    small.build()
    assert small.profile("p2")["total_spend"] == 119  # 20 + 99


def test_same_data_and_as_of_give_the_same_tables(small: Store):
    small.build("2025-06-30")
    first = small.rows("SELECT * FROM profiles ORDER BY profile_id")
    first_cats = small.rows("SELECT * FROM profile_category_stats")
    small.build("2025-06-30")
    assert small.rows("SELECT * FROM profiles ORDER BY profile_id") == first
    assert small.rows("SELECT * FROM profile_category_stats") == first_cats


def test_build_log_and_result(recorded):
    small, result, _ = recorded
    assert (result.profiles, result.identified, result.buyers) == (2, 2, 2)
    assert set(result.timings) >= {"order stats", "web traits", "assemble profiles"}
    log = small.rows("SELECT * FROM profile_builds")
    assert len(log) == 1
    assert log[0]["build_id"] == result.build_id
    assert log[0]["as_of"] == datetime(2025, 6, 30, 23, 59, 59, 999999)
    assert json.loads(log[0]["result"])["buyers"] == 2
    assert result.to_dict()["as_of"] == "2025-06-30 23:59:59.999999"


def test_as_of_normalisation():
    assert normalize_as_of(date(2025, 6, 1)) == datetime(2025, 6, 1, 23, 59, 59, 999999)
    assert normalize_as_of("2025-06-01") == datetime(2025, 6, 1, 23, 59, 59, 999999)
    # 12:00 at +02:00 is 10:00 UTC.
    assert normalize_as_of("2025-06-01T12:00:00+02:00") == datetime(2025, 6, 1, 10)
    aware = datetime(2025, 6, 1, 12, tzinfo=timezone(timedelta(hours=-5)))
    assert normalize_as_of(aware) == datetime(2025, 6, 1, 17)
    now = datetime(2025, 6, 1, 12, 30, 15, 123456, tzinfo=UTC)
    assert normalize_as_of(None, now=now) == datetime(2025, 6, 1, 12, 30, 15)
    # A naive "now" (a configured clock) is already UTC.
    assert normalize_as_of(None, now=datetime(2025, 6, 1, 12, 0, 1, 5)) == datetime(
        2025, 6, 1, 12, 0, 1
    )
    with pytest.raises(ProfilesError, match="not a date"):
        normalize_as_of("last tuesday")
    assert default_prefix(datetime(2025, 6, 1, 23, 59, 59, 999999)) == "asof_20250601_"
    assert default_prefix(datetime(2025, 6, 1, 10)) == "asof_20250601_100000_"


def test_a_configured_clock_is_the_build_date_of_current_profiles(small: Store):
    small.config.clock = datetime(2025, 6, 30, 12)
    result = small.build(None)
    assert (result.as_of, result.prefix) == (datetime(2025, 6, 30, 12), "")
    # o3 on Jun 20 00:00 -> Jun 30: 10 days.
    assert small.profile("p1")["days_since_last_order"] == 10


def test_bad_prefixes_are_refused():
    with pytest.raises(ProfilesError, match="prefix"):
        ProfileTables("Robert'); DROP TABLE customers; --")


def test_every_statement_renders_for_postgres_and_spark(recorded):
    _, _, statements = recorded
    assert len(statements) > 30
    for statement in statements:
        for dialect in ("postgres", "spark"):
            statement.sql(dialect=dialect, unsupported_level=ErrorLevel.RAISE)
