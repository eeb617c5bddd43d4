"""Discovered topics through the API: list, name, dismiss, a static list of their contacts."""

import pytest
import time_machine
from rest_framework.test import APIClient

from intents import services
from intents.models import DiscoveredTopic, Intent, IntentExample
from ledger.context import Actor, acting_as
from ledger.models import Action
from tests.intents.test_discovery import NOW, two_needs  # noqa: F401 - the fixture


@pytest.fixture
def topics(two_needs):  # noqa: F811
    with (
        time_machine.travel(NOW, tick=False),
        acting_as(Actor.for_task("intents.tasks.topics_discover_task")),
    ):
        services.topics_discover()
    return list(DiscoveredTopic.objects.order_by("-size", "pk"))


@pytest.fixture
def session(marketer):
    client = APIClient()
    client.force_login(marketer)
    return client


def test_topics_are_listed_with_what_a_person_needs_to_decide(topics, reader):
    with time_machine.travel(NOW, tick=False):
        response = reader.get("/api/v1/discovered-topics/?status=proposed")

    assert response.status_code == 200, response.json()
    results = response.json()["results"]
    assert {item["id"] for item in results} == {topic.pk for topic in topics}
    item = next(item for item in results if item["id"] == topics[0].pk)
    assert item["size"] == topics[0].size
    assert len(item["representatives"]) == 5
    assert len(item["trend"]) == 14 and item["trend"][-2] == topics[0].size  # all written yesterday
    assert item["words"] and item["status"] == "proposed" and item["intent"] is None

    assert reader.get("/api/v1/discovered-topics/?status=named").json()["results"] == []
    bad = reader.get("/api/v1/discovered-topics/?status=maybe")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["path"] == "status"


def test_a_person_names_a_topic_through_the_api_as_manual_work(topics, session):
    topic = next(t for t in topics if "invoice" in t.title or "address" in t.title)

    response = session.post(
        f"/api/v1/discovered-topics/{topic.pk}/name/", {"name": "Invoice address"}, format="json"
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["intent"]["key"], body["created"], body["examples"], body["model"]) == (
        "invoice_address",
        True,
        topic.size,
        None,
    )
    assert body["topic"]["status"] == "named"
    assert IntentExample.objects.filter(intent__key="invoice_address").count() == topic.size
    assert Action.objects.get(verb="topic.named").actor_kind == "manual"


def test_merging_into_an_existing_intent_and_asking_for_a_new_version(topics, session):
    response = session.post(
        f"/api/v1/discovered-topics/{topics[0].pk}/name/",
        {"intent": "support", "retrain": True},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["intent"]["key"], body["created"]) == ("support", False)
    assert body["model"]["status"] == "queued"


@pytest.mark.parametrize(
    ("payload", "path", "message"),
    [
        ({}, "name", "give the new intent a name"),
        ({"name": "New", "intent": "support"}, "name", "not both"),
        ({"intent": "no_such_intent"}, "intent", "no_such_intent"),
        ({"name": "Support"}, "name", "already has the key support"),
    ],
)
def test_a_bad_name_says_what_and_where(topics, session, payload, path, message):
    response = session.post(f"/api/v1/discovered-topics/{topics[0].pk}/name/", payload, format="json")
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["path"] == path
    assert message in error["message"]
    assert not Intent.objects.filter(name="New").exists()


def test_dismissing_and_taking_the_contacts_as_a_list(topics, session):
    topic = topics[0]

    dismissed = session.post(f"/api/v1/discovered-topics/{topic.pk}/dismiss/")
    listed = session.post("/api/v1/segments/from-topic/", {"topic": topic.pk}, format="json")

    assert dismissed.status_code == 200
    assert dismissed.json()["status"] == "dismissed"
    assert listed.status_code == 201
    assert listed.json()["size"] == topic.contact_count
    assert session.get(f"/api/v1/segments/{listed.json()['slug']}/members/").json()["results"]


def test_reading_keys_and_viewers_cannot_decide(topics, reader, viewer):
    assert reader.post(f"/api/v1/discovered-topics/{topics[0].pk}/dismiss/").status_code == 403
    client = APIClient()
    client.force_login(viewer)
    assert client.post(f"/api/v1/discovered-topics/{topics[0].pk}/name/", {"name": "x"}).status_code == 403
    assert DiscoveredTopic.objects.filter(status="proposed").count() == len(topics)


def test_discovery_is_queued_for_a_worker(writer, django_capture_on_commit_callbacks, celery_eager):
    with django_capture_on_commit_callbacks(execute=True):
        response = writer.post("/api/v1/discovered-topics/discover/")
    assert response.status_code == 202
    from intents.models import DiscoveryRun

    run = DiscoveryRun.objects.get()
    assert (run.status, run.requested_by) == ("done", "intents.tasks.topics_discover_task")
