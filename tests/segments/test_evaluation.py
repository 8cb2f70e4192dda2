"""Saving, previewing, running, history, consent, control groups, explain and export."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow.csv as pacsv
import pytest

from segmint.errors import SegmintError
from segmint.segments.service import SegmentError

from .conftest import AS_OF, Store

SPENDERS = {
    "name": "spenders",
    "include": {"type": "trait", "trait": "total_spend", "op": "gt", "value": 100},
}


def spend_store(store: Store) -> None:
    store.profile("a", total_spend=200)
    store.profile("b", total_spend=150)
    store.profile("c", total_spend=50)
    store.profile("d", total_spend=600, accepts_marketing=False)


def test_versions(store: Store) -> None:
    spend_store(store)
    first = store.service.create(SPENDERS)
    assert first.version == 1
    with pytest.raises(SegmentError, match="already exists; use --replace"):
        store.service.create(SPENDERS)
    assert store.service.create(SPENDERS, replace=True).version == 1  # unchanged: no new version
    changed = {**SPENDERS, "include": {**SPENDERS["include"], "value": 120}}
    assert store.service.create(changed, replace=True).version == 2
    assert store.service.get("spenders", 1).definition.include.value == 100  # type: ignore[union-attr]
    assert store.service.get("spenders").definition.include.value == 120  # type: ignore[union-attr]
    assert [s.version for s in store.service.store.versions("spenders")] == [1, 2]
    with pytest.raises(SegmintError, match="no segment 'spender'; did you mean 'spenders'"):
        store.service.get("spender")


def test_preview_sizes_revenue_consent_and_overlap(store: Store) -> None:
    spend_store(store)
    store.service.create(
        {
            "name": "buyers",
            "include": {"type": "trait", "trait": "total_spend", "op": "gt", "value": 0},
        }
    )
    store.service.run("buyers", as_of=AS_OF)  # members a, b, c (d opted out)
    preview = store.service.preview(SPENDERS, as_of=AS_OF)
    assert (preview.size, preview.profiles, preview.consent_excluded) == (2, 4, 1)
    assert preview.share_of_profiles == 0.5
    assert preview.revenue == 350 and preview.share_of_revenue == 0.35
    assert [s["profile_id"] for s in preview.sample] == ["a", "b"]
    assert preview.overlap == [
        {"segment": "buyers", "overlap": 2, "other_size": 3, "share_of_other": 2 / 3}
    ]
    analysis = store.service.preview({**SPENDERS, "purpose": "analysis"}, as_of=AS_OF)
    assert (analysis.size, analysis.opted_out_included, analysis.consent_excluded) == (3, 1, 0)
    assert analysis.share_of_revenue == 0.95
    assert store.service.list_segments()[0]["name"] == "buyers"  # preview saved nothing


def test_runs_record_entries_exits_and_history(store: Store) -> None:
    spend_store(store)
    store.service.create(SPENDERS)
    first = store.service.run("spenders", as_of=AS_OF)
    assert (first.run_number, first.members, first.entered, first.exited) == (1, 2, 2, 0)
    assert first.consent_excluded == 1
    store.engine.execute(
        f"UPDATE {store.profiles_table} SET total_spend = 50 WHERE profile_id = 'b'"
    )
    store.engine.execute(
        f"UPDATE {store.profiles_table} SET total_spend = 300 WHERE profile_id = 'c'"
    )
    second = store.service.run("spenders", as_of="2026-11-22T12:00:00")
    assert (second.run_number, second.members, second.entered, second.exited) == (2, 2, 1, 1)
    history = store.service.history("spenders")
    assert [(r.members, r.entered, r.exited) for r in history.runs] == [(2, 2, 0), (2, 1, 1)]
    assert [(c["run_number"], c["change"], c["profile_id"]) for c in history.changes] == [
        (1, "entered", "a"),
        (1, "entered", "b"),
        (2, "entered", "c"),
        (2, "exited", "b"),
    ]
    current = store.engine.fetch_all(
        "SELECT profile_id, entered_at, run_id FROM segment_members ORDER BY profile_id"
    )
    assert [(r[0], r[2]) for r in current] == [("a", second.run_id), ("c", second.run_id)]
    assert all(r[1] == AS_OF for r in current)
    assert store.service.list_segments()[0]["members"] == 2


def test_delete_keeps_history_but_not_members(store: Store) -> None:
    spend_store(store)
    store.service.create(SPENDERS)
    store.service.create({"name": "inner", "include": {"type": "segment", "segment": "spenders"}})
    store.service.run("spenders", as_of=AS_OF)
    with pytest.raises(SegmentError, match="'spenders' is used by inner"):
        store.service.delete("spenders")
    store.service.delete("inner")
    store.service.delete("spenders")
    assert store.service.list_segments() == []
    assert store.engine.count_rows("segment_members") == 0
    assert store.engine.count_rows("segment_runs") == 1
    # A new segment of the same name starts over at the next version number.
    assert store.service.create(SPENDERS).version == 2


def expected_holdout(name: str, profile_id: str, percent: float) -> bool:
    digest = hashlib.md5(f"{name}:{profile_id}".encode()).hexdigest()
    return int(digest[:8], 16) % 10_000 < percent * 100


def test_control_group_is_stable_and_kept_out_of_exports(store: Store, tmp_path: Path) -> None:
    ids = [f"p{i:03d}" for i in range(200)]
    store.profiles(*ids, total_spend=500)
    store.service.create({**SPENDERS, "holdout_percent": 25})
    first = store.service.run("spenders", as_of=AS_OF)
    flags = dict(store.engine.fetch_all("SELECT profile_id, holdout FROM segment_members"))
    assert flags == {pid: expected_holdout("spenders", pid, 25) for pid in ids}
    assert first.holdout == sum(flags.values()) and 20 < first.holdout < 80
    second = store.service.run("spenders", as_of=AS_OF)
    assert dict(store.engine.fetch_all("SELECT profile_id, holdout FROM segment_members")) == flags
    assert (second.entered, second.exited) == (0, 0)
    rows = store.service.export("spenders", tmp_path / "out.csv")
    assert rows == 200 - first.holdout
    exported = pacsv.read_csv(tmp_path / "out.csv").column("profile_id").to_pylist()
    assert sorted(exported) == sorted(p for p in ids if not flags[p])
    assert store.service.export("spenders", tmp_path / "all.parquet", include_holdout=True) == 200
    explained = store.service.explain("spenders", "p000", as_of=AS_OF)
    assert explained.holdout == flags["p000"]


def test_export_needs_a_run(store: Store, tmp_path: Path) -> None:
    spend_store(store)
    store.service.create(SPENDERS)
    with pytest.raises(SegmentError, match="has not run yet"):
        store.service.export("spenders", tmp_path / "x.csv")


def test_explain_every_condition(store: Store) -> None:
    store.profile("a", total_spend=200, gender="female")
    store.order("a", "2026-11-01", 120)
    store.order("a", "2026-10-01", 80)
    store.order("a", "2025-01-01", 999)  # outside the window
    store.event("a", "Email Opened", "2026-11-20")
    definition = {
        "name": "x",
        "include": {
            "all": [
                {"type": "trait", "trait": "total_spend", "op": "gt", "value": 100},
                {
                    "type": "orders",
                    "measure": "sum",
                    "op": "gte",
                    "value": 150,
                    "window": {"last": 90, "unit": "days"},
                },
                {
                    "any": [
                        {"type": "trait", "trait": "gender", "op": "eq", "value": "male"},
                        {"not": {"type": "event", "event": "Email Opened", "window": {"last": 7}}},
                    ]
                },
            ]
        },
    }
    result = store.service.explain(definition, "a", as_of=AS_OF)
    assert not result.member and result.reason == "does not meet the include conditions"
    top = result.include
    assert [c.passed for c in top.children] == [True, True, False]
    assert top.children[0].value == 200
    assert float(top.children[1].value) == 200.0
    either = top.children[2]
    assert [c.passed for c in either.children] == [False, False]
    assert either.children[0].value == "female"
    assert either.children[1].children[0].value == 1 and either.children[1].children[0].passed
    lines = result.lines()
    assert lines[0] == "a in x as of 2026-11-22 12:00:00: does not meet the include conditions"
    assert lines[3] == (
        "    [PASS] include.all[1]: orders: sum gte 150, window last 90 days  (value: 200.0)"
    )
    with pytest.raises(SegmintError, match="no profile 'zz'"):
        store.service.explain(definition, "zz", as_of=AS_OF)


def test_explain_consent_and_exclude(store: Store) -> None:
    store.profile("a", total_spend=200, accepts_marketing=False)
    store.profile("b", total_spend=200, gender="male")
    definition = {
        **SPENDERS,
        "exclude": {"type": "trait", "trait": "gender", "op": "eq", "value": "male"},
    }
    a = store.service.explain(definition, "a", as_of=AS_OF)
    assert (a.member, a.opted_out) == (False, True)
    assert a.reason.startswith("left out: marketing must not reach")
    b = store.service.explain(definition, "b", as_of=AS_OF)
    assert (b.member, b.reason) == (False, "matches the exclude conditions")
    analysis = store.service.explain({**definition, "purpose": "analysis"}, "a", as_of=AS_OF)
    assert analysis.member


def test_membership_of_another_segment_is_evaluated_at_the_same_time(store: Store) -> None:
    store.profile("a", total_spend=200, gender="female")
    store.profile("b", total_spend=200, gender="male")
    store.service.create(SPENDERS)
    women = {
        "name": "w",
        "include": {
            "all": [
                {"type": "segment", "segment": "spenders"},
                {"type": "trait", "trait": "gender", "op": "eq", "value": "female"},
            ]
        },
    }
    assert store.members(women) == {"a"}


def test_compiled_sql_prints_in_every_dialect(store: Store) -> None:
    spend_store(store)
    store.service.create(SPENDERS)
    for dialect in ("duckdb", "postgres", "spark", "bigquery", "snowflake"):
        text = store.service.sql("spenders", dialect=dialect, as_of=AS_OF)
        assert "total_spend" in text and "profile_id" in text


def test_past_dates_need_profiles_of_that_date(store: Store) -> None:
    spend_store(store)
    with pytest.raises(SegmentError, match="needs profiles built as of that date"):
        store.service.preview(SPENDERS, as_of="2020-01-01")
