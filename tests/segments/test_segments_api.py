from datetime import UTC, datetime

import pytest
import time_machine

from segments.models import Membership, Segment
from tests.factories import ContactFactory

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
FRENCH = {"field": "country", "op": "eq", "value": "FR"}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def people(db):
    return [
        ContactFactory(email="anne@example.net", country="FR"),
        ContactFactory(email="bert@example.net", country="BE"),
        ContactFactory(email="cleo@example.net", country="FR"),
    ]


def test_create_builds_the_membership_and_lists_members(
    writer, people, django_capture_on_commit_callbacks, celery_eager
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        created = writer.post(
            "/api/v1/segments/", {"name": "French", "slug": "french", "conditions": FRENCH}, format="json"
        )
    members = writer.get("/api/v1/segments/french/members/")

    # then
    assert created.status_code == 201, created.json()
    assert created.json()["explanation"] == "Country is FR"
    assert members.status_code == 200
    assert [row["email"] for row in members.json()["results"]] == ["cleo@example.net", "anne@example.net"]
    assert writer.get("/api/v1/segments/french/").json()["size"] == 2


def test_invalid_conditions_are_400_with_paths(writer, db):
    # when
    response = writer.post(
        "/api/v1/segments/",
        {"name": "Bad", "conditions": {"all": [{"field": "contry", "op": "eq", "value": "FR"},
                                                {"touchpoint": {"kind": "wbinar"}}]}},
        format="json",
    )  # fmt: skip

    # then
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"path": "conditions.all[0].field", "message": "unknown field 'contry'"},
        {"path": "conditions.all[1].touchpoint.kind", "message": "unknown kind 'wbinar'"},
    ]
    assert not Segment.objects.exists()


def test_preview_counts_samples_and_explains_without_saving(writer, people):
    # when
    response = writer.post(
        "/api/v1/segments/preview/",
        {"conditions": {"not": {"field": "country", "op": "in", "value": ["fr"]}}},
        format="json",
    )

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert [row["email"] for row in body["sample"]] == ["bert@example.net"]
    assert body["explanation"] == "Not (country is fr)"
    assert not Segment.objects.exists()


def test_preview_of_a_broken_tree_says_where(writer, db):
    response = writer.post("/api/v1/segments/preview/", {"conditions": {"any": [{"tag": 5}]}}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"path": "conditions.any[0].tag", "message": "expected a tag name"}]


def test_why_answers_per_node(writer, people, django_capture_on_commit_callbacks, celery_eager):
    # given
    with django_capture_on_commit_callbacks(execute=True):
        writer.post(
            "/api/v1/segments/",
            {"name": "French VIP", "conditions": {"all": [FRENCH, {"tag": "vip"}]}},
            format="json",
        )

    # when
    response = writer.get(f"/api/v1/segments/french-vip/why/?contact={people[0].pk}")

    # then
    assert response.status_code == 200
    body = response.json()
    assert (body["member"], body["matches"]) == (False, False)
    assert [(node["text"], node["result"]) for node in body["tree"]["children"]] == [
        ("Country is FR", True),
        ("Tagged “vip”", False),
    ]


def test_static_lists_take_members_over_the_api(writer, people):
    # given
    writer.post("/api/v1/segments/", {"name": "Guests", "kind": "static"}, format="json")

    # when
    added = writer.post(
        "/api/v1/segments/guests/members/", {"contact_ids": [people[0].pk, people[1].pk]}, format="json"
    )
    removed = writer.post(
        "/api/v1/segments/guests/members/remove/", {"contact_ids": [people[1].pk]}, format="json"
    )

    # then
    assert (added.status_code, removed.status_code) == (200, 200)
    assert removed.json()["size"] == 1
    assert list(Membership.objects.values_list("contact__email", flat=True)) == ["anne@example.net"]


def test_a_dynamic_segment_refuses_members_by_hand(writer, people):
    writer.post("/api/v1/segments/", {"name": "French", "conditions": FRENCH}, format="json")
    response = writer.post("/api/v1/segments/french/members/", {"contact_ids": [people[0].pk]}, format="json")
    assert response.status_code == 400
    assert "only static lists take members" in response.json()["errors"][0]["message"]


def test_a_read_key_cannot_create_and_a_used_segment_cannot_be_deleted(reader, writer, db):
    # given
    writer.post("/api/v1/segments/", {"name": "French", "conditions": FRENCH}, format="json")
    writer.post("/api/v1/segments/", {"name": "Uses", "conditions": {"segment": "french"}}, format="json")

    # when
    refused = reader.post("/api/v1/segments/", {"name": "X"}, format="json")
    listed = reader.get("/api/v1/segments/")
    deleted = writer.delete("/api/v1/segments/french/")

    # then
    assert refused.status_code == 403
    assert [row["slug"] for row in listed.json()["results"]] == ["uses", "french"]
    assert deleted.status_code == 400
    assert writer.delete("/api/v1/segments/uses/").status_code == 204


def test_every_segment_is_explained_in_words(writer, db):
    # when
    response = writer.post(
        "/api/v1/segments/",
        {"name": "Clickers", "conditions": {"touchpoint": {"kind": "email_click"}, "within": "30d"}},
        format="json",
    )

    # then
    assert response.json()["explanation"] == "Clicked an e-mail in the last 30 days"
    assert (
        writer.get("/api/v1/segments/clickers/").json()["explanation"]
        == "Clicked an e-mail in the last 30 days"
    )
