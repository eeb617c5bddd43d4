"""Random trees over random contacts: the compiled SQL (both shapes, a whole segment and
one contact) gives the same answer as the plain reading of the spec in spec_evaluator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contacts.models import Account, Contact, ContactTag, Tag, Touchpoint
from segments.conditions.compiler import compile_tree
from segments.conditions.schema import Vocabulary, parse
from tests.segments.spec_evaluator import Person, Touch, evaluate

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
KINDS = ["page_view", "email_click", "webinar_registration"]
VOCABULARY = Vocabulary(kinds=KINDS)

texts = st.sampled_from(["", "Ann", "ann", "Bob", "anna"])
countries = st.sampled_from(["", "FR", "BE", "DE"])
consents = st.sampled_from(["", "subscribed", "unsubscribed"])
json_values = st.sampled_from(
    [None, "pro", "Pro", "", 3, 3.5, "3.5", "x", True, False, "2026-01-05", "2026-02-30", {"a": 1}, [1]]
)
moments = st.integers(min_value=-90 * 24, max_value=24).map(lambda hours: NOW + timedelta(hours=hours))


@st.composite
def people(draw):
    accounts = [
        {"id": index, "name": draw(st.sampled_from(["Acme", "acme", "Globex", ""])),
         "employees": draw(st.sampled_from([None, 5, 50])),
         "attributes": draw(st.dictionaries(st.sampled_from(["tier"]), json_values, max_size=1))}
        for index in range(2)
    ]  # fmt: skip
    result = []
    for pk in range(draw(st.integers(min_value=1, max_value=6))):
        touches = draw(
            st.lists(
                st.builds(
                    Touch,
                    kind=st.sampled_from(KINDS),
                    channel=st.sampled_from(["web", "email"]),
                    source=st.sampled_from(["", "ads", "Ads"]),
                    occurred_at=moments,
                    intent=st.sampled_from(["", "compare"]),
                    properties=st.dictionaries(st.sampled_from(["path", "n"]), json_values, max_size=2),
                ),
                max_size=4,
            )
        )
        result.append(
            Person(
                pk=pk,
                fields={
                    "first_name": draw(texts),
                    "city": draw(texts),
                    "country": draw(countries),
                    "consent.email": draw(consents),
                    "score": draw(st.integers(-5, 100)),
                    "created_at": draw(moments),
                },
                attributes=draw(
                    st.dictionaries(st.sampled_from(["plan", "since", "seats"]), json_values, max_size=3)
                ),
                account=draw(st.sampled_from([None, *accounts])),
                tags=set(draw(st.lists(st.sampled_from(["vip", "VIP", "beta"]), max_size=2))),
                touches=touches,
            )
        )
    return result


def field_leaves(scope: str):
    text_paths = ["first_name", "city", "country", "consent.email", "account.name"]
    json_paths = ["attributes.plan", "attributes.since", "attributes.seats", "account.attributes.tier"]
    if scope == "touchpoint":
        text_paths, json_paths = ["channel", "source", "intent"], ["properties.path", "properties.n"]
    text_value = st.sampled_from(["ann", "ANN", "fr", "Acme", "subscribed", "a", "web", "ads", "compare"])
    number = st.sampled_from([0, 3, 3.5, 5, 50])
    date = st.sampled_from(["2026-01-05", "now-30d", "now", "2026-11-01T00:00:00+01:00"])
    any_value = st.one_of(text_value, number, st.booleans(), date)
    text_leaf = st.fixed_dictionaries(
        {"field": st.sampled_from(text_paths),
         "op": st.sampled_from(["eq", "neq", "contains", "not_contains", "starts_with", "ends_with"]),
         "value": text_value}
    ) | st.fixed_dictionaries(
        {"field": st.sampled_from(text_paths), "op": st.sampled_from(["in", "not_in"]),
         "value": st.lists(text_value, min_size=1, max_size=3)}
    ) | st.fixed_dictionaries(
        {"field": st.sampled_from(text_paths + json_paths), "op": st.sampled_from(["is_set", "is_not_set"])}
    )  # fmt: skip
    json_leaf = st.fixed_dictionaries(
        {"field": st.sampled_from(json_paths), "op": st.sampled_from(["eq", "neq"]), "value": any_value}
    ) | st.fixed_dictionaries(
        {"field": st.sampled_from(json_paths), "op": st.sampled_from(["gt", "gte", "lt", "lte"]),
         "value": st.one_of(number, date)}
    ) | st.fixed_dictionaries(
        {"field": st.sampled_from(json_paths), "op": st.just("within_last"), "value": st.just("400d")}
    )  # fmt: skip
    if scope == "touchpoint":
        return text_leaf | json_leaf
    number_leaf = st.fixed_dictionaries(
        {"field": st.sampled_from(["score", "account.employees"]),
         "op": st.sampled_from(["eq", "neq", "gt", "gte", "lt", "lte"]), "value": number}
    ) | st.fixed_dictionaries(
        {"field": st.sampled_from(["score", "account.employees"]), "op": st.just("between"),
         "value": st.tuples(number, number).map(list)}
    )  # fmt: skip
    date_leaf = st.fixed_dictionaries(
        {"field": st.just("created_at"), "op": st.sampled_from(["gt", "lt", "gte"]), "value": date}
    ) | st.fixed_dictionaries(
        {"field": st.just("created_at"), "op": st.sampled_from(["within_last", "older_than"]),
         "value": st.sampled_from(["30d", "2w", "12h"])}
    )  # fmt: skip
    return text_leaf | json_leaf | number_leaf | date_leaf


touchpoint_leaves = st.builds(
    lambda key, kinds, where, count, within: {
        key: {**({"kind": kinds} if kinds else {}), **({"where": where} if where else {})},
        **({"count": count} if count else {}),
        **({"within": within} if within else {}),
    },
    st.sampled_from(["touchpoint", "account_touchpoint"]),
    st.lists(st.sampled_from(KINDS), max_size=2, unique=True),
    st.lists(field_leaves("touchpoint"), max_size=2),
    st.none()
    | st.fixed_dictionaries(
        {"op": st.sampled_from(["gte", "gt", "eq", "lte", "lt"]), "value": st.integers(0, 3)}
    ),
    st.none() | st.sampled_from(["30d", "7d"]),
)
leaves = (
    field_leaves("contact")
    | st.fixed_dictionaries({"tag": st.sampled_from(["vip", "Beta"])})
    | st.fixed_dictionaries({"intent": st.just("compare")})  # nobody has an intent score yet
    | touchpoint_leaves
)
trees = st.recursive(
    leaves,
    lambda children: (
        st.fixed_dictionaries({"all": st.lists(children, max_size=3)})
        | st.fixed_dictionaries({"any": st.lists(children, max_size=3)})
        | st.fixed_dictionaries({"not": children})
    ),
    max_leaves=6,
)


def store(persons: list[Person]) -> dict[int, int]:
    """Write the people; returns person.pk -> contact id."""
    accounts = {}
    ids = {}
    for person in persons:
        account = None
        if person.account is not None:
            key = person.account["id"]
            if key not in accounts:
                accounts[key] = Account.objects.create(
                    name=person.account["name"], domain=f"a{key}.example.net",
                    employees=person.account["employees"], attributes=person.account["attributes"],
                )  # fmt: skip
            account = accounts[key]
        contact = Contact.objects.create(
            email=f"p{person.pk}@example.net",
            first_name=person.fields["first_name"],
            city=person.fields["city"],
            country=person.fields["country"],
            consent_email=person.fields["consent.email"],
            score=person.fields["score"],
            created_at=person.fields["created_at"],
            attributes=person.attributes,
            account=account,
        )
        ids[person.pk] = contact.pk
        for name in person.tags:
            tag = Tag.objects.filter(name__iexact=name).first() or Tag.objects.create(name=name)
            ContactTag.objects.get_or_create(contact=contact, tag=tag)
        Touchpoint.objects.bulk_create(
            Touchpoint(
                contact=contact, kind_id=touch.kind, channel=touch.channel, source=touch.source,
                occurred_at=touch.occurred_at, intent=touch.intent, properties=touch.properties,
            )
            for touch in person.touches
        )  # fmt: skip
    return ids


def run(tree, mode: str, contact_ids: list[int] | None = None) -> set[int]:
    node = parse(tree, VOCABULARY)
    plan = compile_tree(node, now=NOW, segment_ids={}, mode=mode)
    sql = f"SELECT c.id FROM {plan.from_sql()} WHERE {plan.sql}"
    params = list(plan.params)
    if contact_ids is not None:
        sql += " AND c.id = ANY(%s)"
        params.append(contact_ids)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db
@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(persons=people(), tree=trees)
def test_the_sql_agrees_with_the_spec(persons, tree):
    with transaction.atomic():
        ids = store(persons)
        node = parse(tree, VOCABULARY)
        expected = {ids[person.pk] for person in persons if evaluate(node, person, persons, NOW)}
        assert run(tree, "set") == expected, tree
        for person in persons:
            one = run(tree, "one", [ids[person.pk]])
            assert one == ({ids[person.pk]} & expected), (tree, person)
        transaction.set_rollback(True)
