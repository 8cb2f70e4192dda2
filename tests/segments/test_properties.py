"""Property tests: groups obey the set laws on random data, and history replays to members.

They read records through the resolver join (``materialize=False``); the template tests read
the materialised tables, so both paths are covered.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import AS_OF, Store

IDS = [f"p{i}" for i in range(10)]

profile_rows = st.lists(
    st.fixed_dictionaries(
        {
            "total_spend": st.one_of(st.none(), st.integers(0, 100)),
            "gender": st.sampled_from([None, "female", "male"]),
            "order_count": st.one_of(st.none(), st.integers(0, 4)),
            "orders": st.lists(st.integers(1, 200), max_size=3),  # days before AS_OF
        }
    ),
    min_size=len(IDS),
    max_size=len(IDS),
)

leaf = st.one_of(
    st.builds(
        lambda op, v: {"type": "trait", "trait": "total_spend", "op": op, "value": v},
        st.sampled_from(["gt", "gte", "lt", "lte", "eq", "neq"]),
        st.integers(0, 100),
    ),
    st.builds(
        lambda v: {"type": "trait", "trait": "gender", "op": "eq", "value": v},
        st.sampled_from(["female", "male"]),
    ),
    st.just({"type": "trait", "trait": "total_spend", "op": "is_set"}),
    st.builds(
        lambda p: {"type": "trait", "trait": "total_spend", "op": "top_percent", "value": p},
        st.integers(1, 100),
    ),
    st.builds(
        lambda op, n, days: {
            "type": "orders",
            "op": op,
            "value": n,
            "window": {"last": days, "unit": "days"},
        },
        st.sampled_from(["gte", "lt", "eq"]),
        st.integers(0, 3),
        st.integers(1, 200),
    ),
)


def fill(store: Store, rows: list[dict[str, Any]]) -> None:
    for pid, row in zip(IDS, rows, strict=True):
        store.profile(
            pid,
            total_spend=row["total_spend"],
            gender=row["gender"],
            order_count=row["order_count"],
        )
        for days in row["orders"]:
            store.order(pid, (AS_OF - timedelta(days=days)).isoformat(sep=" "))


def members(store: Store, include: dict[str, Any]) -> set[str]:
    return store.members({"name": "p", "purpose": "analysis", "include": include}, as_of=AS_OF)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=profile_rows, x=leaf, y=leaf)
def test_groups_obey_set_laws(
    rows: list[dict[str, Any]], x: dict[str, Any], y: dict[str, Any]
) -> None:
    store = Store(materialize=False)
    try:
        fill(store, rows)
        everyone = set(IDS)
        mx, my = members(store, x), members(store, y)
        assert members(store, {"not": x}) == everyone - mx
        assert members(store, {"all": [x, y]}) == mx & my
        assert members(store, {"any": [x, y]}) == mx | my
        assert members(store, {"not": {"all": [x, y]}}) == members(
            store, {"any": [{"not": x}, {"not": y}]}
        )
        assert members(store, {"not": {"not": x}}) == mx
    finally:
        store.engine.close()


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    spends=st.lists(
        st.lists(st.one_of(st.none(), st.integers(0, 10)), min_size=8, max_size=8),
        min_size=1,
        max_size=5,
    ),
    threshold=st.integers(0, 10),
)
def test_members_are_the_replayed_history(spends: list[list[int | None]], threshold: int) -> None:
    store = Store(materialize=False)
    try:
        ids = IDS[:8]
        store.profiles(*ids)
        store.service.create(
            {
                "name": "h",
                "purpose": "analysis",
                "include": {
                    "type": "trait",
                    "trait": "total_spend",
                    "op": "gte",
                    "value": threshold,
                },
            }
        )
        for round_spends in spends:
            for pid, spend in zip(ids, round_spends, strict=True):
                store.engine.execute(
                    f"UPDATE {store.profiles_table} SET total_spend = ? WHERE profile_id = ?",
                    [spend, pid],
                )
            store.service.run("h", as_of=AS_OF)
            replayed: set[str] = set()
            for change in store.service.history("h").changes:
                if change["change"] == "entered":
                    replayed.add(change["profile_id"])
                else:
                    replayed.remove(change["profile_id"])
            current = {
                r[0] for r in store.engine.fetch_all("SELECT profile_id FROM segment_members")
            }
            expected = {
                p
                for p, s in zip(ids, round_spends, strict=True)
                if s is not None and s >= threshold
            }
            assert current == replayed == expected
    finally:
        store.engine.close()
