import pytest

from intents import services
from intents.models import BehaviourRule, Intent, IntentExample, IntentModel
from ledger.context import Actor, acting_as
from ledger.models import Action
from tests.factories import TouchpointFactory
from tests.intents.data import labelled_rows


@pytest.fixture
def examples(db):
    intents = {intent.key: intent for intent in Intent.objects.all()}
    IntentExample.objects.bulk_create(
        [IntentExample(text=text, intent=intents.get(label)) for text, label in labelled_rows()]
    )


def test_the_taxonomy_is_listed_by_key(reader):
    response = reader.get("/api/v1/intents/compare/")
    assert response.status_code == 200
    assert response.json()["name"] == "Compare"
    keys = {item["key"] for item in reader.get("/api/v1/intents/?page_size=50").json()["results"]}
    assert {"thrill_me", "churn_risk"} <= keys


def test_an_integration_labels_a_touchpoint(writer):
    touchpoint = TouchpointFactory(kind_id="chat_message", text="I'd like a quote for 20 seats")

    response = writer.post(
        "/api/v1/intent-examples/", {"touchpoint": touchpoint.pk, "intent": "purchase"}, format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["intent"], body["text"]) == ("purchase", "I'd like a quote for 20 seats")
    assert Action.objects.get(verb="intent.labelled").actor_kind == "algorithmic"


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"intent": "purchase"}, "text"),
        ({"text": "hello", "intent": "no_such_intent"}, "intent"),
        ({"text": "hello"}, "intent"),
    ],
)
def test_a_bad_label_says_where(writer, body, path):
    response = writer.post("/api/v1/intent-examples/", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == path
    assert not IntentExample.objects.exists()


def test_a_text_without_touchpoint_can_be_labelled_as_none_of_ours(writer):
    body = {"text": "what's the weather", "intent": None}
    response = writer.post("/api/v1/intent-examples/", body, format="json")
    assert response.status_code == 201
    assert IntentExample.objects.get().intent is None


def test_train_activate_threshold_and_roll_back_through_the_api(
    writer, examples, celery_eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = writer.post("/api/v1/intent-models/train/")
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    first = writer.get("/api/v1/intent-models/1/").json()
    assert first["status"] == "ready"
    assert first["evaluation"]["accuracy"] > 0.8
    assert "artifact" not in first

    assert writer.post("/api/v1/intent-models/1/activate/").json()["is_active"] is True
    with acting_as(Actor.for_task("tests")):
        services.intent_model_train_now(activate=True)
    assert (
        writer.post("/api/v1/intent-models/1/threshold/", {"threshold": 0.7}, format="json").json()[
            "threshold"
        ]
        == 0.7
    )

    response = writer.post("/api/v1/intent-models/rollback/")
    assert response.status_code == 200
    assert response.json()["version"] == 1
    assert IntentModel.objects.get(is_active=True).version == 1

    bad = writer.post("/api/v1/intent-models/1/threshold/", {"threshold": 2}, format="json")
    assert bad.status_code == 400 and bad.json()["errors"][0]["path"] == "threshold"


def test_rolling_back_with_nothing_active_is_a_clear_400(writer):
    response = writer.post("/api/v1/intent-models/rollback/")
    assert response.status_code == 400
    assert "no version is active" in response.json()["errors"][0]["message"]


def test_a_reader_cannot_train(reader):
    assert reader.post("/api/v1/intent-models/train/").status_code == 403


def test_signals_are_read_decayed_per_contact(reader):
    BehaviourRule.objects.create(
        name="Pricing",
        intent=Intent.objects.get(key="compare"),
        conditions=[{"property": "path", "operator": "starts_with", "value": "/pricing"}],
        confidence=0.9,
    )
    touchpoint = TouchpointFactory(properties={"path": "/pricing"})
    with acting_as(Actor.for_task("tests")):
        services.touchpoints_recognise(touchpoint_ids=[touchpoint.pk])

    response = reader.get(f"/api/v1/intent-signals/?contact={touchpoint.contact_id}")

    assert response.status_code == 200
    (signal,) = response.json()["results"]
    assert signal["intent"] == "compare"
    assert 0.89 < signal["current_score"] <= 0.9
    assert reader.get("/api/v1/intent-signals/?contact=abc").status_code == 400


def test_rules_are_managed_through_the_api_with_their_own_checks(writer):
    created = writer.post(
        "/api/v1/behaviour-rules/",
        {
            "name": "Docs",
            "intent": "educate_me",
            "kind": "page_view",
            "conditions": [{"property": "path", "operator": "starts_with", "value": "/docs"}],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert BehaviourRule.objects.get().intent.key == "educate_me"

    bad = writer.post(
        "/api/v1/behaviour-rules/",
        {
            "name": "Bad",
            "intent": "compare",
            "conditions": [{"property": "path", "operator": "regex", "value": "x"}],
        },
        format="json",
    )
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["path"] == "conditions"
    assert "'regex' is not one of" in bad.json()["errors"][0]["message"]

    text = writer.post(
        "/api/v1/text-rules/", {"name": "Empty", "intent": "compare", "phrases": " \n "}, format="json"
    )
    assert text.status_code == 400 and text.json()["errors"][0]["path"] == "phrases"

    fit = writer.post(
        "/api/v1/scoring-rules/",
        {"name": "Fit", "kind": "fit", "touchpoint_kind": "page_view", "points": 5},
        format="json",
    )
    assert fit.status_code == 400 and fit.json()["errors"][0]["path"] == "touchpoint_kind"


def test_the_lead_score_is_explained_through_the_api(reader):
    from contacts.models import Contact
    from intents.models import ScoringRule
    from tests.factories import ContactFactory

    ScoringRule.objects.create(
        name="French",
        kind="fit",
        conditions=[{"property": "country", "operator": "equals", "value": "FR"}],
        points=15,
    )
    contact = ContactFactory(country="FR", score=15)

    response = reader.get(f"/api/v1/lead-scores/{contact.pk}/")

    assert response.status_code == 200
    assert response.json() == {
        "contact": contact.pk,
        "score": 15,
        "lines": [{"rule": "French", "kind": "fit", "points": 15.0, "why": "country equals 'FR'"}],
    }
    assert reader.get(f"/api/v1/lead-scores/{Contact.objects.count() + 999}/").status_code == 404
