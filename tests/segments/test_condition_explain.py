import pytest

from segments.conditions.explain import explain
from segments.conditions.schema import parse
from tests.segments.test_condition_schema import SPEC_EXAMPLE, VOCABULARY


def say(tree) -> str:
    return explain(parse(tree, VOCABULARY))


def test_the_specs_example_reads_as_a_sentence():
    assert say(SPEC_EXAMPLE) == (
        "Country is FR or BE, registered for a webinar (webinar id is w-42), "
        "not (lifecycle stage is customer), and "
        "(clicked an e-mail at least twice in the last 30 days "
        "or shows education intent (score at least 0.6))"
    )


@pytest.mark.parametrize(
    ("tree", "sentence"),
    [
        ({"all": []}, "Every contact"),
        ({"any": []}, "No contact"),
        ({"tag": "vip"}, "Tagged “vip”"),
        ({"segment": "customers"}, "In segment “customers”"),
        ({"field": "email", "op": "is_not_set"}, "E-mail is not set"),
        ({"field": "score", "op": "between", "value": [10, 20]}, "Score is between 10 and 20"),
        ({"field": "created_at", "op": "within_last", "value": "2w"}, "Created in the last 2 weeks"),
        ({"field": "created_at", "op": "gte", "value": "2026-11-23"}, "Created is on or after 23 Nov 2026"),
        ({"field": "updated_at", "op": "lt", "value": "now-30d"}, "Updated is before 30 days ago"),
        ({"field": "attributes.plan", "op": "eq", "value": "pro"}, "Plan is pro"),
        (
            {"touchpoint": {"kind": "email_click"}, "count": {"op": "eq", "value": 0}, "within": "30d"},
            "Did not click an e-mail at all in the last 30 days",
        ),
        (
            {
                "account_touchpoint": {
                    "kind": "page_view",
                    "where": [{"field": "properties.path", "op": "starts_with", "value": "/pricing"}],
                },
                "within": "7d",
            },
            "Someone at the same company viewed a page (path starts with /pricing) in the last 7 days",
        ),
        ({"touchpoint": {}, "count": {"op": "gte", "value": 5}}, "Had any touchpoint at least 5 times"),
    ],
)
def test_each_node_in_words(tree, sentence):
    assert say(tree) == sentence
