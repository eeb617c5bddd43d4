"""The condition language's parser: every node of shared/spec/conditions.md, and an error
with its path for everything else. Pure: no database."""

from datetime import UTC, datetime, timedelta

import pytest

from segments.conditions.schema import (
    All,
    Any_,
    ConditionError,
    Count,
    Duration,
    FieldLeaf,
    IntentLeaf,
    Not,
    RelativeDate,
    SegmentLeaf,
    TagLeaf,
    TouchpointLeaf,
    Vocabulary,
    parse,
    validate,
)

VOCABULARY = Vocabulary(
    kinds={"webinar_registration", "email_click", "page_view"}, segments={"customers", "hot-leads"}
)

SPEC_EXAMPLE = {
    "all": [
        {"field": "country", "op": "in", "value": ["FR", "BE"]},
        {
            "touchpoint": {
                "kind": "webinar_registration",
                "where": [{"field": "properties.webinar_id", "op": "eq", "value": "w-42"}],
            }
        },
        {"not": {"field": "lifecycle_stage", "op": "eq", "value": "customer"}},
        {
            "any": [
                {"touchpoint": {"kind": "email_click"}, "count": {"op": "gte", "value": 2}, "within": "30d"},
                {"intent": "education", "min_score": 0.6},
            ]
        },
    ]
}


def test_the_specs_example_parses_into_typed_nodes():
    tree = parse(SPEC_EXAMPLE, VOCABULARY)

    assert isinstance(tree, All)
    country, webinar, not_customer, either = tree.children
    assert country == FieldLeaf("country", "in", ("FR", "BE"), "text", "contact")
    assert webinar.filter.kinds == ("webinar_registration",)
    assert webinar.filter.where == (FieldLeaf("properties.webinar_id", "eq", "w-42", "json", "touchpoint"),)
    assert webinar.count == Count("gte", 1) and webinar.within is None
    assert isinstance(not_customer, Not)
    clicks, intent = either.children
    assert isinstance(either, Any_)
    assert (clicks.count, clicks.within) == (Count("gte", 2), Duration(30, "d"))
    assert intent == IntentLeaf("education", 0.6)


def test_the_account_example_counts_over_the_account():
    tree = parse(
        {
            "account_touchpoint": {
                "kind": "page_view",
                "where": [{"field": "properties.path", "op": "starts_with", "value": "/pricing"}],
            },
            "within": "7d",
        },
        VOCABULARY,
    )

    assert isinstance(tree, TouchpointLeaf)
    assert tree.account_wide and tree.within.delta == timedelta(days=7)


@pytest.mark.parametrize(
    ("tree", "expected"),
    [
        ({"all": []}, All(())),
        ({"any": []}, Any_(())),
        ({"tag": " VIP "}, TagLeaf("VIP")),
        ({"segment": "customers"}, SegmentLeaf("customers")),
        ({"intent": "purchase"}, IntentLeaf("purchase", 0.5)),
        ({"field": "email", "op": "is_set"}, FieldLeaf("email", "is_set", None)),
        (
            {"field": "score", "op": "between", "value": [10, 20]},
            FieldLeaf("score", "between", (10, 20), "number"),
        ),
        (
            {"field": "attributes.plan", "op": "neq", "value": "pro"},
            FieldLeaf("attributes.plan", "neq", "pro", "json"),
        ),
        (
            {"field": "account.attributes.tier", "op": "eq", "value": "smb"},
            FieldLeaf("account.attributes.tier", "eq", "smb", "json"),
        ),
        (
            {"field": "created_at", "op": "within_last", "value": "2w"},
            FieldLeaf("created_at", "within_last", Duration(2, "w"), "date"),
        ),
    ],
)
def test_each_kind_of_node(tree, expected):
    assert parse(tree, VOCABULARY) == expected


def test_dates_are_absolute_or_relative_to_now():
    absolute = parse({"field": "created_at", "op": "gte", "value": "2026-11-23"}, VOCABULARY)
    relative = parse({"field": "created_at", "op": "lt", "value": "now-30d"}, VOCABULARY)
    later = parse({"field": "updated_at", "op": "lte", "value": "now+2h"}, VOCABULARY)

    assert absolute.value == datetime(2026, 11, 23, tzinfo=UTC)  # a date alone is midnight UTC
    assert relative.value == RelativeDate(-timedelta(days=30))
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    assert later.value.resolve(now) == now + timedelta(hours=2)


@pytest.mark.parametrize(
    ("tree", "path", "message"),
    [
        (
            {"all": [{}, {"touchpoint": {"kind": "wbinar"}}]},
            "all[1].touchpoint.kind",
            "unknown kind 'wbinar'",
        ),
        (
            {"all": [{"field": "shoe_size", "op": "eq", "value": 42}]},
            "all[0].field",
            "unknown field 'shoe_size'",
        ),
        ({"field": "country", "op": "like", "value": "F%"}, "op", "unknown operator 'like'"),
        ({"field": "country", "op": "in", "value": []}, "value", "non-empty list"),
        ({"field": "country", "op": "eq"}, "value", "eq needs a value"),
        ({"field": "email", "op": "is_set", "value": "x"}, "value", "is_set takes no value"),
        ({"field": "score", "op": "gt", "value": "lots"}, "value", "expected a number or a date"),
        ({"field": "score", "op": "eq", "value": "ten"}, "value", "expected a number"),
        ({"field": "country", "op": "gt", "value": "FR"}, "value", "need a number or a date field"),
        (
            {"field": "created_at", "op": "within_last", "value": "30 days"},
            "value",
            "expected a duration like '30d'",
        ),
        ({"field": "city", "op": "within_last", "value": "30d"}, "value", "compares dates"),
        ({"field": "created_at", "op": "gte", "value": "yesterday"}, "value", "is not a date"),
        ({"field": "score", "op": "between", "value": [1]}, "value", "between needs [low, high]"),
        ({"field": "city", "op": "contains", "value": 3}, "value", "needs a text value"),
        ({"segment": "nope"}, "segment", "unknown segment 'nope'"),
        ({"intent": "purchase", "min_score": 2}, "min_score", "between 0 and 1"),
        (
            {"touchpoint": {"kind": "page_view"}, "count": {"op": "gte", "value": -1}},
            "count.value",
            "0 or more",
        ),
        (
            {"touchpoint": {"kind": "page_view"}, "count": {"op": "ne", "value": 1}},
            "count.op",
            "expected one of",
        ),
        ({"touchpoint": {"kind": "page_view"}, "within": 30}, "within", "expected a duration"),
        ({"touchpoint": {"kinds": "page_view"}}, "touchpoint.kinds", "unknown key here"),
        (
            {"touchpoint": {"where": [{"field": "country", "op": "eq", "value": "FR"}]}},
            "touchpoint.where[0].field",
            "unknown field 'country'",
        ),
        ({"tag": "vip", "extra": 1}, "extra", "unknown key here"),
        ({"all": "everything"}, "all", "expected a list of conditions"),
        ({"not": []}, "not", "expected a condition object"),
        ("country = FR", "", "expected a condition object, not a text"),
        ({"wat": 1}, "", "unknown condition ('wat')"),
    ],
)
def test_every_error_names_its_path(tree, path, message):
    errors = validate(tree, VOCABULARY)

    assert any(where == path and message in text for where, text in errors), errors


def test_all_errors_are_reported_at_once():
    with pytest.raises(ConditionError) as error:
        parse(
            {
                "all": [
                    {"field": "x", "op": "eq", "value": 1},
                    {"touchpoint": {"kind": "wbinar"}},
                    {"segment": "nope"},
                ]
            },
            VOCABULARY,
        )

    assert [path for path, _ in error.value.errors] == [
        "all[0].field",
        "all[1].touchpoint.kind",
        "all[2].segment",
    ]
    assert "all[1].touchpoint.kind: unknown kind 'wbinar'" in str(error.value)


def test_deep_trees_are_an_error_not_a_crash():
    tree = {"field": "email", "op": "is_set"}
    for _ in range(5000):
        tree = {"not": tree}

    errors = validate(tree, VOCABULARY)

    assert errors and "deeper" in errors[0][1]
