import pytest

from contacts.models import Contact, Touchpoint
from contacts.signals import touchpoints_captured
from ledger.models import Action
from tests.factories import ContactFactory, TouchpointFactory

URL = "/api/v1/touchpoints/"


def registration(n: int, **extra) -> dict:
    return {
        "email": f"Person{n}@Example.com",
        "kind": "webinar_registration",
        "occurred_at": "2026-11-20T10:00:00+01:00",
        "properties": {"webinar_id": "w-42"},
        "external_id": f"reg-{n}",
        **extra,
    }


def test_one_touchpoint_creates_its_unknown_contact(writer):
    response = writer.post(URL, registration(1), format="json")

    assert response.status_code == 201
    body = response.json()
    assert (body["created"], body["duplicate"], body["rejected"]) == (1, 0, 0)
    touchpoint = Touchpoint.objects.get(pk=body["results"][0]["id"])
    assert touchpoint.contact.email == "person1@example.com"
    assert (touchpoint.channel, touchpoint.properties) == ("events", {"webinar_id": "w-42"})
    verbs = sorted(Action.objects.values_list("verb", "actor_kind"))
    # one registration, one unit: the contact it made is bookkeeping (ledger.counting)
    assert verbs == [
        ("contact.created_with_touchpoint", "algorithmic"),
        ("touchpoint.captured", "algorithmic"),
    ]


def test_a_batch_is_written_with_a_fixed_number_of_queries(writer, django_assert_max_num_queries):
    ContactFactory(email="person0@example.com")
    batch = [registration(n) for n in range(300)]

    with django_assert_max_num_queries(16):
        response = writer.post(URL, batch, format="json")

    assert response.json()["created"] == 300
    assert Contact.objects.count() == 300
    assert Action.objects.filter(verb="contact.created_with_touchpoint").count() == 299


def test_a_retry_is_reported_as_duplicate_and_not_stored_twice(writer):
    writer.post(URL, [registration(1), registration(2)], format="json")

    again = writer.post(URL, [registration(1), registration(2), registration(3)], format="json")

    body = again.json()
    assert (again.status_code, body["created"], body["duplicate"]) == (201, 1, 2)
    assert [r["status"] for r in body["results"]] == ["duplicate", "duplicate", "created"]
    assert Touchpoint.objects.count() == 3
    only_duplicates = writer.post(URL, registration(3), format="json")
    assert (only_duplicates.status_code, only_duplicates.json()["duplicate"]) == (200, 1)


def test_the_same_external_id_twice_in_one_request_is_stored_once(writer):
    response = writer.post(URL, [registration(1), registration(1, text="again")], format="json")

    assert [r["status"] for r in response.json()["results"]] == ["created", "duplicate"]
    assert Touchpoint.objects.count() == 1


def test_an_unknown_kind_is_a_400_listing_the_known_kinds_and_nothing_is_written(writer):
    response = writer.post(URL, [registration(1), registration(2, kind="wbinar")], format="json")

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["path"] == "[1].kind"
    assert "unknown kind 'wbinar'" in error["message"] and "webinar_registration" in error["message"]
    assert not Touchpoint.objects.exists()
    assert not Contact.objects.exists()


def test_partial_stores_the_valid_items_and_reports_each(writer):
    response = writer.post(
        f"{URL}?partial=1",
        [registration(1), registration(2, email="nope"), registration(3, occurred_at="tomorrow"), "text"],
        format="json",
    )

    body = response.json()
    assert (response.status_code, body["created"], body["rejected"]) == (201, 1, 3)
    statuses = [(r["index"], r["status"]) for r in body["results"]]
    assert statuses == [(0, "created"), (1, "rejected"), (2, "rejected"), (3, "rejected")]
    assert body["results"][1]["errors"][0]["path"] == "[1].email"
    assert body["results"][2]["errors"][0]["path"] == "[2].occurred_at"
    assert Touchpoint.objects.count() == 1


def test_more_than_1000_items_are_refused(writer):
    response = writer.post(URL, [registration(n) for n in range(1001)], format="json")

    assert response.status_code == 400
    assert "at most 1000" in response.json()["errors"][0]["message"]


def test_list_filters_by_contact_kind_and_time(writer):
    contact = ContactFactory()
    TouchpointFactory(contact=contact, kind_id="page_view")
    TouchpointFactory(contact=contact, kind_id="email_open", channel="email")
    TouchpointFactory(kind_id="page_view")

    results = writer.get(URL, {"contact": contact.pk, "kind": "page_view"}).json()["results"]
    assert [r["kind"] for r in results] == ["page_view"]
    assert writer.get(URL, {"occurred_after": "2999-01-01T00:00:00Z"}).json()["results"] == []


@pytest.mark.parametrize(
    "item",
    [
        {"email": "a@b.co", "kind": "page_view", "properties": ["not", "an", "object"]},
        {"email": "a@b.co", "kind": "page_view", "external_id": "x" * 300},
        {"email": "a@b.co", "kind": "page_view", "channel": "telepathy"},
        {"email": 42, "kind": "page_view"},
        {"kind": "page_view"},
        {"email": "a@b.co", "kind": "page_view", "surprise": True},
    ],
)
def test_bad_items_are_400s_naming_the_field(writer, item):
    response = writer.post(URL, item, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["path"]
    assert not Touchpoint.objects.exists()


def test_new_touchpoints_are_announced_after_commit(writer, django_capture_on_commit_callbacks, celery_eager):
    announced = []

    def receiver(sender, touchpoint_ids, **kwargs):
        announced.extend(touchpoint_ids)

    touchpoints_captured.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = writer.post(URL, [registration(1), registration(2)], format="json")
    finally:
        touchpoints_captured.disconnect(receiver)

    assert sorted(announced) == sorted(r["id"] for r in response.json()["results"])


@pytest.mark.parametrize(
    "item",
    [
        registration(1),
        registration(2, channel="email", source="  site  ", text=" hello\n", external_id=None),
        {"email": " a@b.co ", "kind": "page_view"},
        {"email": "a@b.co", "kind": "page_view", "occurred_at": "2026-11-20T10:00:00"},
        {"email": "a@b.co", "kind": "page_view", "occurred_at": "2026-11-20 10:00Z"},
        {"email": "a@b.co", "kind": "page_view", "occurred_at": "2026-11-20T10:00:00.123456+02:00"},
        {"email": "a@b.co", "kind": "page_view", "occurred_at": "20261120T100000+0100"},
        {"email": "a@b.co", "kind": "page_view", "occurred_at": "2026-W47-1T10:00+00:00"},
        {"email": "a@b.co", "kind": "page_view", "occurred_at": "0001-01-01T00:00:00+05:00"},
        {"email": "a@b.co", "kind": "page_view", "occurred_at": "9999-12-31T23:59:59-05:00"},
        {"email": "a@b.co", "kind": "page_view", "occurred_at": " 2026-11-20T10:00:00+00:00"},
        {"email": "a@b.co", "kind": "page_view", "occurred_at": 1732096800},
        {"email": "a@b.co", "kind": "page_view", "occurred_at": "yesterday"},
        {"email": "a@b.co", "kind": "page_view", "occurred_at": None},
        {"email": "a@b.co", "kind": "page_view", "external_id": ""},
        {"email": "a@b.co", "kind": "page_view", "external_id": "   "},
        {"email": "a@b.co", "kind": "page_view", "channel": ""},
        {"email": "a@b.co", "kind": "page_view", "channel": None},
        {"email": "   ", "kind": "page_view"},
        {"email": "a@b.co"},
        {"email": "a@b.co", "kind": 7},
        {"email": "a@b.co", "kind": True},
        {"email": "a@b.co", "kind": "page_view", "source": "x" * 101},
        {"email": "a@b.co", "kind": "page_view", "source": " " + "x" * 100 + " "},
        {"email": "a@b.co", "kind": "page_view", "text": "nul \x00"},
        {"email": "a@b.co", "kind": "page_view", "text": "half \ud800"},
        {"email": "a@b.co", "kind": "page_view", "properties": []},
        {"email": "a@b.co", "kind": "page_view", "properties": {}},
        {"email": "a@b.co", "kind": "page_view", "propertys": {}},
    ],
)
def test_the_quick_check_of_an_item_answers_as_the_serializer_does(db, item):
    # given
    from rest_framework import serializers

    from contacts.api.views import _TouchpointChecker

    checker = _TouchpointChecker()

    # when
    quick = checker._plain(item)

    # then
    try:
        expected = checker.serializer.run_validation(item)
    except serializers.ValidationError:
        assert quick is None
    else:
        assert quick is None or quick == dict(expected)
