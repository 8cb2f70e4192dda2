"""Invalid definitions: every problem at its exact place, with the nearest known name."""

from __future__ import annotations

from typing import Any

import pytest

from segmint.segments.validation import DefinitionError, read_document

from .conftest import Store


def problems(store: Store, document: dict[str, Any]) -> list[str]:
    with pytest.raises(DefinitionError) as info:
        store.service.validate(document)
    return [str(p) for p in info.value.problems]


def seg(include: Any, **extra: Any) -> dict[str, Any]:
    return {"name": "s", "include": include, **extra}


def test_unknown_names_point_at_their_place_and_suggest(store: Store) -> None:
    doc = seg(
        {
            "all": [
                {"type": "trait", "trait": "total_spend", "op": "gt", "value": 1},
                {"type": "trait", "trait": "totl_spend", "op": "gt", "value": 1},
                {"any": [{"type": "event", "event": "product added"}]},
                {
                    "type": "event_ratio",
                    "numerator": {"event": "Email Opend"},
                    "denominator": {"event": "Email Delivered"},
                    "op": "gt",
                    "value": 0.2,
                },
            ]
        }
    )
    assert problems(store, doc) == [
        "include.all[1].trait: unknown trait 'totl_spend'; did you mean 'total_spend'?",
        "include.all[2].any[0].event: unknown event 'product added'; did you mean 'Product Added'?",
        "include.all[3].numerator.event: unknown event 'Email Opend'; did you mean 'Email Opened'?",
    ]


def test_shape_errors_point_at_their_place(store: Store) -> None:
    doc = seg(
        {
            "all": [
                {"type": "orders", "op": "gt", "value": 1},
                {"type": "orders", "op": "gt", "value": 1, "window": {"last": 7, "unit": "dayz"}},
                {"type": "orders", "op": "gt", "value": 1, "window": {"last": 0}},
                {"type": "orders", "windw": {"last": 3}},
                {"type": "ordres"},
                {"not": {"type": "event", "event": "Product Viewed", "window": {}}},
            ]
        }
    )
    assert problems(store, doc) == [
        "include.all[1].window.unit: 'dayz' is not one of hours, days, weeks, months, years; "
        "did you mean 'days'?",
        "include.all[2].window.last: Input should be greater than 0",
        "include.all[3].windw: unknown field 'windw'; did you mean 'window'?",
        "include.all[4]: not a condition: use a group (all, any, not) or set `type` to one of "
        "trait, orders, event, event_ratio, event_sequence, reviews, tickets, segment, "
        "sql_template",
        "include.all[5].not.window: give either `last` (with `unit`) or `since`/`until`",
    ]


def test_operators_and_values_must_fit_the_trait(store: Store) -> None:
    doc = seg(
        {
            "all": [
                {"type": "trait", "trait": "gender", "op": "gt", "value": "f"},
                {"type": "trait", "trait": "total_spend", "op": "eq", "value": "lots"},
                {"type": "trait", "trait": "total_spend", "op": "between", "value": [10, 1]},
                {"type": "trait", "trait": "rfm_segment", "op": "eq", "value": "champions!"},
                {"type": "trait", "trait": "first_order_at", "op": "within_last", "value": -3},
                {"type": "trait", "trait": "first_order_at", "op": "gt", "value": "yesterday"},
                {"type": "trait", "trait": "total_spend", "op": "top_percent", "value": 150},
                {"type": "trait", "trait": "total_spend", "op": "is_set", "value": 1},
                {"type": "trait", "trait": "accepts_marketing", "op": "eq", "value": "yes"},
                {
                    "type": "trait",
                    "trait": "days_since_last_order",
                    "op": "gt",
                    "value": {"trait": "average_days_betwen_orders"},
                },
            ]
        }
    )
    assert problems(store, doc) == [
        "include.all[0].op: 'gt' does not apply to text trait 'gender'; use one of contains, "
        "eq, in, is_not_set, is_set, neq, not_contains, not_in, starts_with",
        "include.all[1].value: total_spend is a number; 'lots' is not",
        "include.all[2].value: the low end is above the high end",
        "include.all[3].value: 'champions!' is not a value of rfm_segment (Champions, Loyal, "
        "Potential Loyalists, New, Promising, Need Attention, About to Sleep, At Risk, "
        "Can't Lose Them, Hibernating, Lost); did you mean 'Champions'?",
        "include.all[4].value: how many days: a whole number above 0",
        "include.all[5].value: 'yesterday' is not a date or time (use 2026-01-31 or "
        "2026-01-31T10:00:00)",
        "include.all[6].value: a percentage above 0 and at most 100",
        "include.all[7].value: is_set takes no value",
        "include.all[8].value: accepts_marketing is true or false; 'yes' is not",
        "include.all[9].value: unknown trait 'average_days_betwen_orders'; did you mean "
        "'average_days_between_orders'?",
    ]


def test_aggregate_and_event_rules(store: Store) -> None:
    doc = seg(
        {
            "all": [
                {
                    "type": "orders",
                    "measure": "share_of_value",
                    "op": "gt",
                    "value": 75,
                    "categories": ["apparel"],
                },
                {"type": "orders", "measure": "share_of_count", "op": "gt", "value": 0.5},
                {
                    "type": "event",
                    "event": "Order Completed",
                    "measure": "sum",
                    "op": "gt",
                    "value": 1,
                },
                {
                    "type": "event",
                    "event": "Product Viewed",
                    "where": [
                        {"property": "category", "op": "in", "value": "apparel"},
                        {"property": "price", "op": "gt", "value": "cheap"},
                        {"property": "bad..path", "op": "eq", "value": "x"},
                    ],
                },
                {"type": "orders", "op": "between", "value": 3},
                {"type": "orders", "op": "gte", "value": 3, "min_orders": 2},
                {"type": "event_sequence", "first": {"event": "Product Added"}},
            ]
        }
    )
    assert problems(store, doc) == [
        "include.all[6]: name at least one event in `then_not` or set `no_order_after`",
    ]
    doc["include"]["all"].pop()
    assert problems(store, doc) == [
        "include.all[0].value: a share is between 0 and 1 (0.75 means 75%)",
        "include.all[1]: a share needs a filter (categories, product_lines, products, discount "
        "or coupon_codes): the share of which orders?",
        "include.all[2].property: measure 'sum' needs a property",
        "include.all[3].where[0].value: in takes a non-empty list",
        "include.all[3].where[1].value: gt compares numbers",
        "include.all[3].where[2].property: 'bad..path' is not a property path (names separated "
        "by dots)",
        "include.all[4].value: between takes a list of two numbers: [low, high]",
        "include.all[5].min_orders: applies to shares only; for a count use op/value",
    ]


def test_segment_references_and_cycles(store: Store) -> None:
    store.profile("a", total_spend=10)
    store.service.create(
        seg({"type": "trait", "trait": "total_spend", "op": "gt", "value": 5}, name="big")
    )
    store.service.create(seg({"type": "segment", "segment": "big"}, name="wrapper"))
    assert problems(store, seg({"type": "segment", "segment": "s"})) == [
        "include.segment: a segment cannot contain itself"
    ]
    assert problems(store, seg({"type": "segment", "segment": "bigg"})) == [
        "include.segment: no segment named 'bigg'"
    ]
    # Changing "big" to use "wrapper" would close a loop: rejected, and nothing is saved.
    with pytest.raises(DefinitionError, match="cycle: big -> wrapper -> big"):
        store.service.create(
            seg({"type": "segment", "segment": "wrapper"}, name="big"), replace=True
        )
    assert store.service.get("big").version == 1


def test_nothing_is_saved_when_invalid(store: Store) -> None:
    with pytest.raises(DefinitionError):
        store.service.create(seg({"type": "trait", "trait": "nope", "op": "is_set"}))
    assert store.service.list_segments() == []


def test_name_and_top_level_fields(store: Store) -> None:
    assert problems(
        store,
        {"name": "Big Spenders", "include": {"all": []}, "purpose": "ads", "holdout_percent": 100},
    ) == [
        "name: 'Big Spenders' is not a segment name: use lower-case letters, digits, - and _, "
        "starting with a letter or digit (at most 63 characters)",
        "purpose: 'ads' is not one of marketing, analysis",
        "holdout_percent: Input should be less than 100",
        "include.all: List should have at least 1 item after validation, not 0",
    ]
    assert problems(store, {"name": "x"}) == ["include: is required"]


def test_documents_read_from_yaml_and_json() -> None:
    assert read_document("name: a\ninclude:\n  type: trait\n")["include"] == {"type": "trait"}
    assert read_document('{"name": "a"}') == {"name": "a"}
    with pytest.raises(DefinitionError, match="neither JSON nor YAML"):
        read_document("name: [unclosed")
    with pytest.raises(DefinitionError, match="must be an object"):
        read_document("- a\n- b\n")
