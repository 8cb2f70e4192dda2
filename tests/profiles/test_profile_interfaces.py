"""show, summary and export, through the Python API and the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from segmint import Workspace
from segmint.cli.main import app
from segmint.profiles import (
    RFM_SEGMENTS,
    ProfilesError,
    export_profiles,
    profile_summary,
    show_profile,
)

from .profile_helpers import Store, resolve_for_tests

runner = CliRunner()


@pytest.fixture(scope="module")
def store() -> Iterator[Store]:
    s = Store()
    s.person("p1", "customer_id:c1", "email:ann@x.com", "anonymous_id:a1")
    s.person("p2", "customer_id:c2", "email:bob@x.com")
    s.person("p3", "customer_id:c3")
    s.person("p4", "anonymous_id:c3")  # the same text as an anonymous id: ambiguous
    s.add(
        "customers",
        [
            {"customer_id": "c1", "email": "ann@x.com", "accepts_marketing": True},
            {"customer_id": "c2", "email": "bob@x.com", "accepts_marketing": False},
            {"customer_id": "c3"},
        ],
    )
    s.add(
        "orders",
        [
            {
                "order_id": "o1",
                "customer_id": "c1",
                "ordered_at": "2025-06-01T10:00:00Z",
                "total": "100",
                "currency": "EUR",
            },
            {
                "order_id": "o2",
                "customer_id": "c1",
                "ordered_at": "2025-06-11T10:00:00Z",
                "total": "50.50",
            },
            {
                "order_id": "o3",
                "customer_id": "c2",
                "ordered_at": "2025-06-05T10:00:00Z",
                "total": "20",
            },
            {
                "order_id": "o4",
                "customer_id": "c2",
                "ordered_at": "2025-06-06T10:00:00Z",
                "status": "refunded",
                "total": "5",
            },
            {
                "order_id": "o5",
                "customer_id": "c1",
                "ordered_at": "2025-07-11T10:00:00Z",
                "total": "1",
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
                "timestamp": "2025-06-11T09:00:00Z",
            },
        ],
    )
    s.add(
        "reviews",
        [
            {
                "review_id": "r1",
                "customer_id": "c1",
                "rating": 5,
                "reviewed_at": "2025-06-12",
                "title": "Great",
            }
        ],
    )
    s.add(
        "tickets",
        [
            {
                "ticket_id": "t1",
                "customer_id": "c1",
                "created_at": "2025-06-13",
                "subject": "Where is my parcel?",
            }
        ],
    )
    s.build()
    yield s
    s.close()


def test_show_by_email_customer_id_and_profile_id(store: Store):
    view = show_profile(store.engine, " ANN@x.com ", resolver=resolve_for_tests)
    assert view.profile_id == "p1"
    assert view.traits["order_count"] == 2
    assert [(t["kind"], t["id"]) for t in view.timeline] == [
        ("ticket", "t1"),
        ("review", "r1"),
        ("order", "o2"),
        ("event", "m1"),
        ("order", "o1"),
    ]
    # o5 is after the build date: not in the timeline.
    assert view.timeline[4]["detail"] == "completed 100.0000 EUR"
    assert view.timeline[1]["detail"] == "5/5 Great"
    assert show_profile(store.engine, "c2", resolver=resolve_for_tests).profile_id == "p2"
    assert show_profile(store.engine, "p2", resolver=resolve_for_tests).profile_id == "p2"
    limited = show_profile(store.engine, "p1", timeline_limit=2, resolver=resolve_for_tests)
    assert [t["id"] for t in limited.timeline] == ["t1", "r1"]
    assert limited.timeline_truncated


def test_show_errors_are_clear(store: Store):
    with pytest.raises(ProfilesError, match=r"no profile found for 'nobody@x\.com'"):
        show_profile(store.engine, "nobody@x.com", resolver=resolve_for_tests)
    with pytest.raises(ProfilesError, match="matches 2 profiles"):
        show_profile(store.engine, "c3", resolver=resolve_for_tests)
    view = show_profile(store.engine, "anonymous_id:c3", resolver=resolve_for_tests)
    assert view.profile_id == "p4"
    with pytest.raises(ProfilesError, match="give an email"):
        show_profile(store.engine, "  ", resolver=resolve_for_tests)


def test_summary(store: Store):
    summary = profile_summary(store.engine)
    assert (summary.profiles, summary.identified, summary.buyers) == (4, 3, 2)
    # Purchases: o1, o2 (Ann), o3 (Bob); revenue 100 + 50.50 + 20 = 170.50.
    assert summary.orders == 3
    assert summary.revenue == "170.50"
    assert summary.average_order_value == "56.83"  # 170.50 / 3
    assert summary.repeat_rate == 0.5  # Ann has 2 purchases, Bob 1
    assert summary.opted_out == 1
    assert sum(summary.rfm_segments.values()) == 2
    assert list(summary.rfm_segments) == list(RFM_SEGMENTS)  # every segment, 0 or not
    assert summary.lifecycle_stages["prospect"] == 2  # p3, p4
    assert summary.lifecycle_stages["new"] == 2


def test_export_csv_and_parquet(store: Store, tmp_path: Path):
    result = export_profiles(store.engine, tmp_path / "profiles.csv")
    assert (result.rows, result.format) == (4, "csv")
    rows = pa_csv.read_csv(tmp_path / "profiles.csv").to_pylist()
    assert [r["profile_id"] for r in rows] == ["p1", "p2", "p3", "p4"]
    assert rows[0]["total_spend"] == 150.5
    result = export_profiles(store.engine, tmp_path / "out.bin", format="parquet")
    table = pq.read_table(tmp_path / "out.bin")
    assert table.num_rows == 4
    assert table.column("total_spend").to_pylist()[0] == Decimal("150.5000")
    cats = export_profiles(store.engine, tmp_path / "c.parquet", table="category_stats")
    assert cats.rows == 0
    with pytest.raises(ProfilesError, match="format"):
        export_profiles(store.engine, tmp_path / "profiles.xlsx")
    with pytest.raises(ProfilesError, match="unknown table"):
        export_profiles(store.engine, tmp_path / "x.csv", table="orders")
    with pytest.raises(ProfilesError, match="does not exist"):
        export_profiles(store.engine, tmp_path / "missing" / "x.csv")
    assert not list(tmp_path.glob(".*partial"))


def test_nothing_built_yet_is_a_clear_error(tmp_path: Path):
    empty = Store()
    try:
        with pytest.raises(ProfilesError, match="no profiles yet"):
            profile_summary(empty.engine)
        with pytest.raises(ProfilesError, match="no profiles with prefix 'asof_x_' yet"):
            export_profiles(empty.engine, tmp_path / "x.csv", prefix="asof_x_")
    finally:
        empty.close()


@pytest.fixture
def workspace_dir(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    with Workspace.init(root) as ws:
        ws.engine.execute(
            "INSERT INTO customers (customer_id, email, created_at, accepts_marketing) VALUES "
            "('c1', 'ann@x.com', '2024-01-01', true), ('c2', 'bob@x.com', '2024-01-01', false)"
        )
        ws.engine.execute(
            "INSERT INTO orders (order_id, customer_id, email, ordered_at, total) VALUES "
            "('o1', 'c1', NULL, '2025-06-01', 10), ('o2', NULL, 'ann@x.com', '2025-06-10', 20),"
            "('o3', 'c2', NULL, '2025-06-05', 5)"
        )
        ws.engine.execute(
            "INSERT INTO events (message_id, type, anonymous_id, user_id, timestamp) VALUES "
            "('m1', 'page', NULL, NULL, '2025-06-01')"
        )
    return root


def test_cli_build_summary_show_export(workspace_dir: Path, tmp_path: Path):
    # As of a past date: into tables prefixed asof_20250630_, read back with --prefix.
    ws = ["--workspace", str(workspace_dir)]
    result = runner.invoke(app, ["profiles", "build", "--as-of", "2025-06-30", "--json", *ws])
    assert result.exit_code == 0, result.output
    built = json.loads(result.stdout)
    assert (built["profiles"], built["buyers"]) == (2, 2)
    assert built["issues"]["events_without_ids"] == 1
    assert built["identity"]["profiles"] == 2
    assert built["prefix"] == "asof_20250630_"
    ws += ["--prefix", "asof_20250630_"]
    result = runner.invoke(app, ["profiles", "summary", "--json", *ws])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["revenue"], summary["repeat_rate"], summary["opted_out"]) == ("35.00", 0.5, 1)
    result = runner.invoke(app, ["profiles", "show", "ann@x.com", "--json", *ws])
    assert result.exit_code == 0, result.output
    view = json.loads(result.stdout)
    assert view["traits"]["order_count"] == 2
    assert [t["id"] for t in view["timeline"]] == ["o2", "o1"]
    out = tmp_path / "p.parquet"
    result = runner.invoke(app, ["profiles", "export", "--out", str(out), *ws])
    assert result.exit_code == 0, result.output
    assert pq.read_table(out).num_rows == 2
    # The human-readable forms run too.
    for args in (
        ["profiles", "summary", *ws],
        ["profiles", "show", "bob@x.com", *ws],
        ["profiles", "catalogue"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    assert "Champions" in runner.invoke(app, ["profiles", "summary", *ws]).stdout
    # The current profiles were never built.
    result = runner.invoke(app, ["profiles", "summary", "--workspace", str(workspace_dir)])
    assert result.exit_code == 1


def test_cli_errors_exit_1_with_a_message(workspace_dir: Path):
    ws = ["--workspace", str(workspace_dir)]
    result = runner.invoke(app, ["profiles", "summary", *ws])
    assert result.exit_code == 1
    assert isinstance(result.exception, ProfilesError)
    assert "segmint profiles build" in str(result.exception)
    result = runner.invoke(app, ["profiles", "build", "--as-of", "yesterday", *ws])
    assert result.exit_code == 1
    assert "not a date" in str(result.exception)


def test_cli_catalogue_json():
    result = runner.invoke(app, ["profiles", "catalogue", "--json"])
    assert result.exit_code == 0
    traits = json.loads(result.stdout)
    by_name = {t["name"]: t for t in traits}
    assert by_name["rfm_segment"]["choices"][0] == "Champions"
    assert by_name["total_spend"] == {
        "name": "total_spend",
        "type": "money",
        "unit": "currency",
        "source": "orders",
        "description": by_name["total_spend"]["description"],
        "choices": [],
    }
