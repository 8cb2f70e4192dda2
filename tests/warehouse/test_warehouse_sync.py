"""``Workspace.sync_warehouse``: what lands in PostgreSQL, and that later syncs send only changes.

Expectations come from the shop described in ``conftest.py`` (four customers, three orders,
two segments), worked out by hand; "rows written by a sync" are counted in PostgreSQL itself,
from the transaction id every row version carries.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from segmint import Workspace
from segmint.model.tables import ColumnType
from segmint.profiles.catalogue import ProfileExtension, Trait, register_extension
from segmint.profiles.catalogue import unregister_extension as unregister
from segmint.warehouse import WarehouseError, WarehouseSyncResult

from .conftest import Warehouse

SYNCED = ("profiles", "segments", "segment_runs", "segment_changes", "segment_members")


def sync(ws: Workspace, wh: Warehouse) -> WarehouseSyncResult:
    return ws.sync_warehouse(wh.url, schema=wh.schema)


def counts(result: WarehouseSyncResult, table: str) -> tuple[int, int, int, int]:
    """(inserted, updated, deleted, unchanged) of one table."""
    t = result.table(table)
    return t.inserted, t.updated, t.deleted, t.unchanged


def profile_id(ws: Workspace, customer: str) -> str:
    return str(
        ws.engine.fetch_value(f"SELECT profile_id FROM profiles WHERE customer_id = '{customer}'")
    )


def test_first_sync_copies_every_table_typed_and_keyed(shop: Workspace, warehouse: Warehouse):
    result = sync(shop, warehouse)

    assert [t.table for t in result.tables] == list(SYNCED)
    assert counts(result, "profiles") == (4, 0, 0, 0)
    assert counts(result, "segments") == (2, 0, 0, 0)
    assert counts(result, "segment_runs") == (2, 0, 0, 0)
    # buyers: ada and ben entered; big-spenders: ada entered.
    assert counts(result, "segment_changes") == (3, 0, 0, 0)
    assert counts(result, "segment_members") == (3, 0, 0, 0)
    assert result.rows_written == 4 + 2 + 2 + 3 + 3
    assert result.warnings == []

    for table, rows in zip(SYNCED, (4, 2, 2, 3, 3), strict=True):
        assert warehouse.count(table) == rows == shop.engine.count_rows(table)

    columns = "customer_id, email, first_name, city, order_count, total_spend, first_order_at, "
    columns += "last_order_at, accepts_marketing, birth_date, as_of"
    ada, ben, cleo, dev = warehouse.rows(f"SELECT {columns} FROM {{s}}.profiles ORDER BY 1")
    assert ada == (
        "C1",
        "ada@example.com",
        "Ada",
        "London",
        2,
        Decimal("150.2500"),
        datetime(2026, 6, 1, 10),
        datetime(2026, 8, 15, 10),
        True,
        date(1990, 12, 10),
        datetime(2026, 11, 1),
    )
    assert ben[4:6] == (1, Decimal("20.0000")) and ben[9] is None
    assert cleo[3] == "Lyon" and cleo[6] is None and cleo[8] is False
    assert dev[:2] == ("C4", "dev@example.com")

    types = dict(
        warehouse.rows(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = '{s}.profiles'::regclass AND attnum > 0"
        )
    )
    assert types["total_spend"] == "numeric(18,4)"
    assert types["order_count"] == "bigint"
    assert types["as_of"] == "timestamp without time zone"
    assert types["birth_date"] == "date"
    assert types["accepts_marketing"] == "boolean"
    assert types["city"] == "text"
    assert (
        warehouse.value(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = '{s}.segments'::regclass AND attname = 'definition'"
        )
        == "jsonb"
    )

    keys = dict(
        warehouse.rows(
            "SELECT c.relname, string_agg(a.attname, ',' ORDER BY k.n) FROM pg_constraint p "
            "JOIN pg_class c ON c.oid = p.conrelid "
            "JOIN pg_namespace s ON s.oid = c.relnamespace "
            "CROSS JOIN LATERAL unnest(p.conkey) WITH ORDINALITY AS k(attnum, n) "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum "
            "WHERE p.contype = 'p' AND s.nspname = %s GROUP BY c.relname",
            [warehouse.schema],
        )
    )
    assert keys == {
        "profiles": "profile_id",
        "segments": "name,version",
        "segment_runs": "run_id",
        "segment_members": "segment,profile_id",
        "segment_changes": "run_id,profile_id",
        "sync_state": "sync_id,table_name",
    }

    # Definitions are queryable JSON; members name the profiles by id.
    assert (
        warehouse.value(
            "SELECT definition -> 'include' ->> 'trait' FROM {s}.segments WHERE name = 'buyers'"
        )
        == "order_count"
    )
    members = warehouse.rows(
        "SELECT m.segment, p.customer_id FROM {s}.segment_members m "
        "JOIN {s}.profiles p USING (profile_id) ORDER BY 1, 2"
    )
    assert members == [("big-spenders", "C1"), ("buyers", "C1"), ("buyers", "C2")]

    log = warehouse.rows(
        "SELECT table_name, workspace, engine, inserted, updated, deleted, unchanged "
        "FROM {s}.sync_state WHERE sync_id = %s ORDER BY table_name",
        [result.sync_id],
    )
    assert ("profiles", "Test shop", "duckdb", 4, 0, 0, 0) in log
    assert len(log) == 5


def test_second_sync_without_changes_writes_nothing(shop: Workspace, warehouse: Warehouse):
    sync(shop, warehouse)
    again = sync(shop, warehouse)

    assert again.rows_written == 0
    assert counts(again, "profiles") == (0, 0, 0, 4)
    assert counts(again, "segment_changes") == (0, 0, 0, 3)
    assert counts(again, "segment_members") == (0, 0, 0, 3)
    for table in SYNCED:
        assert warehouse.written_by(again.sync_id, table) == 0, table
    # The sync itself is logged (and nothing else was written).
    assert warehouse.written_by(again.sync_id, "sync_state") == 5

    # A rebuild at the same clock with the same data gives the same rows: still nothing.
    shop.build_profiles()
    after_rebuild = sync(shop, warehouse)
    assert after_rebuild.rows_written == 0


def test_a_changed_customer_sends_exactly_that_profile(
    shop: Workspace, warehouse: Warehouse, tmp_path: Path
):
    sync(shop, warehouse)
    moved = tmp_path / "ben.csv"
    moved.write_text(
        "customer_id,email,first_name,last_name,city,country,accepts_marketing,created_at\n"
        "C2,ben@example.com,Ben,Okafor,Abuja,NG,true,2026-02-01 10:00:00\n",
        encoding="utf-8",
    )
    shop.import_file("customers", moved)
    shop.build_profiles()

    result = sync(shop, warehouse)

    assert counts(result, "profiles") == (0, 1, 0, 3)
    assert result.rows_written == 1
    assert warehouse.rows(
        "SELECT customer_id, city FROM {s}.profiles WHERE xmin = "
        "(SELECT xmin FROM {s}.sync_state WHERE sync_id = %s LIMIT 1)",
        [result.sync_id],
    ) == [("C2", "Abuja")]


def test_running_a_segment_again_sends_its_run_changes_and_members(
    shop: Workspace, warehouse: Warehouse
):
    sync(shop, warehouse)
    dev, ben = profile_id(shop, "C4"), profile_id(shop, "C2")

    # dev buys (written straight into the profile, so only that row changes), buyers runs.
    shop.engine.execute(
        "UPDATE profiles SET order_count = 1, total_spend = 120 WHERE customer_id = 'C4'"
    )
    run = shop.segments.run("buyers")
    result = sync(shop, warehouse)

    assert counts(result, "profiles") == (0, 1, 0, 3)
    assert counts(result, "segments") == (0, 0, 0, 2)
    assert counts(result, "segment_runs") == (1, 0, 0, 2)
    assert counts(result, "segment_changes") == (1, 0, 0, 3)
    # dev joined buyers; ada and ben stay, now confirmed by the new run (run_id updated);
    # big-spenders did not run, so its member row is not touched.
    assert counts(result, "segment_members") == (1, 2, 0, 1)
    assert warehouse.rows(
        "SELECT profile_id, change, run_number FROM {s}.segment_changes WHERE run_id = %s",
        [run.run_id],
    ) == [(dev, "entered", 2)]
    assert warehouse.rows(
        "SELECT segment, count(*) FROM {s}.segment_members WHERE xmin = "
        "(SELECT xmin FROM {s}.sync_state WHERE sync_id = %s LIMIT 1) GROUP BY 1",
        [result.sync_id],
    ) == [("buyers", 3)]
    assert (
        warehouse.value(
            "SELECT count(*) FROM {s}.segment_members WHERE segment = 'buyers' AND run_id = %s",
            [run.run_id],
        )
        == 3
    )

    # ben stops counting as a buyer: buyers runs again and ben exits.
    shop.engine.execute("UPDATE profiles SET order_count = 0 WHERE customer_id = 'C2'")
    exit_run = shop.segments.run("buyers")
    result = sync(shop, warehouse)
    assert counts(result, "segment_runs") == (1, 0, 0, 3)
    assert counts(result, "segment_changes") == (1, 0, 0, 4)
    assert counts(result, "segment_members") == (0, 2, 1, 1)
    assert warehouse.rows(
        "SELECT profile_id, change FROM {s}.segment_changes WHERE run_id = %s", [exit_run.run_id]
    ) == [(ben, "exited")]

    # Replaying the history (the query of docs/warehouse.md) gives the current members.
    replayed = warehouse.rows(
        """
        SELECT segment, profile_id FROM (
            SELECT segment, profile_id, change,
                   row_number() OVER (PARTITION BY segment, profile_id
                                      ORDER BY run_number DESC) AS latest
            FROM {s}.segment_changes
        ) last_change
        WHERE latest = 1 AND change = 'entered'
        ORDER BY 1, 2
        """
    )
    assert replayed == warehouse.rows(
        "SELECT segment, profile_id FROM {s}.segment_members ORDER BY 1, 2"
    )
    assert len(replayed) == 3  # big-spenders: ada; buyers: ada, dev


def test_removed_profiles_are_deleted_and_their_history_kept(shop: Workspace, warehouse: Warehouse):
    sync(shop, warehouse)
    ada = profile_id(shop, "C1")
    shop.engine.execute("DELETE FROM profiles WHERE customer_id IN ('C1', 'C3')")

    result = sync(shop, warehouse)

    assert counts(result, "profiles") == (0, 0, 2, 2)
    assert [r[0] for r in warehouse.rows("SELECT customer_id FROM {s}.profiles ORDER BY 1")] == [
        "C2",
        "C4",
    ]
    # History is not rewritten: ada's entries stay, and so do her memberships (no new run).
    assert (
        warehouse.value("SELECT count(*) FROM {s}.segment_changes WHERE profile_id = %s", [ada])
        == 2
    )
    assert counts(result, "segment_members") == (0, 0, 0, 3)


def _vip_extension() -> ProfileExtension:
    def fill(ctx) -> None:  # ada is the one VIP
        ctx.engine.execute(
            f"UPDATE {ctx.profiles_table} SET vip_tier = 'gold', vip_points = 1200 "
            "WHERE customer_id = 'C1'"
        )

    return ProfileExtension(
        name="test-vip",
        traits=(
            Trait("vip_tier", ColumnType.STRING, "VIP tier.", "orders"),
            Trait("vip_points", ColumnType.INTEGER, "VIP points.", "orders", "count"),
        ),
        fill=fill,
    )


def test_new_trait_columns_are_added_and_old_ones_kept(shop: Workspace, warehouse: Warehouse):
    sync(shop, warehouse)
    register_extension(_vip_extension())
    try:
        shop.build_profiles()
        result = sync(shop, warehouse)
    finally:
        unregister("test-vip")

    assert result.table("profiles").added_columns == ["vip_tier", "vip_points"]
    # Only ada has a value; NULL traits leave the other rows' content (and hash) as it was.
    assert counts(result, "profiles") == (0, 1, 0, 3)
    assert warehouse.rows(
        "SELECT customer_id, vip_tier, vip_points FROM {s}.profiles ORDER BY 1"
    ) == [("C1", "gold", 1200), ("C2", None, None), ("C3", None, None), ("C4", None, None)]
    assert (
        warehouse.value(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = '{s}.profiles'::regclass AND attname = 'vip_points'"
        )
        == "bigint"
    )
    logged = warehouse.value(
        "SELECT added_columns FROM {s}.sync_state WHERE sync_id = %s AND table_name = 'profiles'",
        [result.sync_id],
    )
    assert logged == "vip_tier, vip_points"

    # The trait goes away in segmint: the warehouse keeps the column and its values.
    shop.build_profiles()
    result = sync(shop, warehouse)
    assert any("vip_tier, vip_points" in w for w in result.warnings)
    assert counts(result, "profiles") == (0, 1, 0, 3)
    assert warehouse.value("SELECT vip_tier FROM {s}.profiles WHERE customer_id = 'C1'") == "gold"


def test_a_failure_midway_leaves_the_previous_sync_intact(
    shop: Workspace, warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
):
    import segmint.warehouse.sync as sync_module

    first = sync(shop, warehouse)
    shop.engine.execute("UPDATE profiles SET city = 'Paris' WHERE customer_id = 'C1'")
    shop.segments.run("buyers")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("network gone")

    # Members are the last table: profiles, segments, runs and changes are written by then.
    monkeypatch.setattr(sync_module, "_replace_members", broken)
    with pytest.raises(RuntimeError, match="network gone"):
        sync(shop, warehouse)

    assert warehouse.value("SELECT city FROM {s}.profiles WHERE customer_id = 'C1'") == "London"
    assert warehouse.count("segment_runs") == 2
    assert warehouse.count("segment_changes") == 3
    assert warehouse.rows("SELECT DISTINCT sync_id FROM {s}.sync_state") == [(first.sync_id,)]

    monkeypatch.undo()
    result = sync(shop, warehouse)
    assert counts(result, "profiles") == (0, 1, 0, 3)
    assert counts(result, "segment_runs") == (1, 0, 0, 2)
    assert warehouse.value("SELECT city FROM {s}.profiles WHERE customer_id = 'C1'") == "Paris"


def test_a_failed_first_sync_leaves_no_schema(
    shop: Workspace, warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
):
    import segmint.warehouse.sync as sync_module

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(sync_module, "_append_changes", broken)
    with pytest.raises(RuntimeError):
        sync(shop, warehouse)
    assert not warehouse.schema_exists()
    # No scratch table is left behind in the workspace either.
    leftovers = shop.engine.fetch_value(
        "SELECT count(*) FROM information_schema.tables WHERE table_name LIKE '_segmint_sync%'"
    )
    assert leftovers == 0


def test_a_column_of_another_type_is_refused_and_nothing_changes(
    shop: Workspace, warehouse: Warehouse
):
    sync(shop, warehouse)
    warehouse.execute("ALTER TABLE {s}.profiles ALTER COLUMN city TYPE varchar(40)")
    shop.engine.execute("UPDATE profiles SET first_name = 'Benjamin' WHERE customer_id = 'C2'")

    with pytest.raises(WarehouseError, match=r"'city'.*character varying\(40\).*text"):
        sync(shop, warehouse)
    assert warehouse.value("SELECT first_name FROM {s}.profiles WHERE customer_id = 'C2'") == "Ben"
    assert warehouse.value("SELECT count(DISTINCT sync_id) FROM {s}.sync_state") == 1


def test_a_second_sync_into_the_same_schema_at_once_is_refused(
    shop: Workspace, warehouse: Warehouse
):
    import psycopg

    from segmint.warehouse.postgres import PostgresTarget

    sync(shop, warehouse)
    with psycopg.connect(warehouse.url) as other, other.transaction():
        PostgresTarget(other, warehouse.schema).lock()  # a sync in progress elsewhere
        with pytest.raises(WarehouseError, match="another sync"):
            sync(shop, warehouse)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://root@localhost/shop", "must be a PostgreSQL URL"),
        ("shop.duckdb", "must be a PostgreSQL URL"),
        ("postgresql://bi:s3cret@127.0.0.1:1/shop", "cannot connect to postgresql://bi:\\*\\*\\*@"),
    ],
)
def test_bad_urls_are_clear_errors(shop: Workspace, url: str, message: str):
    with pytest.raises(WarehouseError, match=message) as error:
        shop.sync_warehouse(url)
    assert "s3cret" not in str(error.value)


def test_bad_schema_name_is_refused(shop: Workspace, warehouse: Warehouse):
    with pytest.raises(WarehouseError, match="schema name"):
        shop.sync_warehouse(warehouse.url, schema="bi; DROP TABLE x")


def test_a_user_without_create_on_the_database_syncs_into_its_schema(
    shop: Workspace, warehouse: Warehouse
):
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    role = f"segmint_wh_user_{warehouse.schema[-10:]}"
    try:
        warehouse.execute(f"CREATE ROLE {role} LOGIN")
    except psycopg.errors.InsufficientPrivilege:
        pytest.skip("the test server's user may not create roles")
    try:
        may_create = warehouse.value(
            "SELECT has_database_privilege(%s, current_database(), 'CREATE')", [role]
        )
        if may_create:
            pytest.skip("new roles may create schemas in the test database")
        warehouse.execute(f"CREATE SCHEMA {{s}} AUTHORIZATION {role}")
        parts = urlsplit(warehouse.url)
        host = f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)
        url = urlunsplit(parts._replace(netloc=f"{role}@{host}"))

        result = shop.sync_warehouse(url, schema=warehouse.schema)

        assert result.table("profiles").inserted == 4
        owner = warehouse.value(
            "SELECT tableowner FROM pg_tables WHERE schemaname = %s AND tablename = 'profiles'",
            [warehouse.schema],
        )
        assert owner == role
    finally:
        warehouse.execute("DROP SCHEMA IF EXISTS {s} CASCADE")
        warehouse.execute(f"DROP ROLE IF EXISTS {role}")
