from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from contacts.services import touchpoints_announce
from intents import services
from intents.models import BehaviourRule, Intent, IntentExample, IntentSignal, TextRule, TouchpointIntent
from intents.selectors import intent_signal_list
from ledger.models import Action
from tests.factories import ContactFactory, TouchpointFactory
from tests.intents.data import labelled_rows

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def rules(db):
    compare, thrill = Intent.objects.get(key="compare"), Intent.objects.get(key="thrill_me")
    BehaviourRule.objects.create(
        name="Pricing pages",
        intent=compare,
        kind_id="page_view",
        conditions=[{"property": "path", "operator": "starts_with", "value": "/pricing"}],
        confidence=0.8,
    )
    TextRule.objects.create(
        name="Sick drink", intent=thrill, phrases="sick", veto_words="hospital", confidence=0.6
    )


def test_a_touchpoint_on_the_pricing_page_shows_compare_and_says_why(as_robot, rules):
    touchpoint = TouchpointFactory(kind_id="page_view", properties={"path": "/pricing/teams"})

    assert services.touchpoints_recognise(touchpoint_ids=[touchpoint.pk]) == 1

    recognition = TouchpointIntent.objects.get(touchpoint=touchpoint)
    assert (recognition.intent.key, recognition.method, recognition.confidence) == (
        "compare",
        "behaviour_rule",
        0.8,
    )
    assert "Pricing pages" in recognition.explanation
    touchpoint.refresh_from_db()
    assert (touchpoint.intent, touchpoint.intent_confidence) == ("compare", 0.8)
    action = Action.objects.get(verb="intent.detected")
    assert (action.actor_kind, action.contact_id, action.details["intent"]) == (
        "algorithmic",
        touchpoint.contact_id,
        "compare",
    )


def test_a_vetoed_text_shows_no_intent(as_robot, rules):
    touchpoint = TouchpointFactory(
        kind_id="chat_message", text="my son is sick at the hospital", properties={}
    )

    assert services.touchpoints_recognise(touchpoint_ids=[touchpoint.pk]) == 0

    recognition = TouchpointIntent.objects.get(touchpoint=touchpoint)
    assert (recognition.intent, recognition.method) == (None, "none")
    assert not IntentSignal.objects.exists()
    assert not Action.objects.filter(verb="intent.detected").exists()


def test_the_active_model_recognises_text_when_no_rule_does(as_robot):
    intents = {intent.key: intent for intent in Intent.objects.all()}
    IntentExample.objects.bulk_create(
        [IntentExample(text=text, intent=intents.get(label)) for text, label in labelled_rows()]
    )
    model = services.intent_model_train_now(activate=True)
    touchpoint = TouchpointFactory(kind_id="chat_message", text="please close our account", properties={})

    services.touchpoints_recognise(touchpoint_ids=[touchpoint.pk])

    recognition = TouchpointIntent.objects.get(touchpoint=touchpoint)
    assert (recognition.intent.key, recognition.method, recognition.model_version) == (
        "churn_risk",
        "model",
        model,
    )
    assert recognition.explanation.startswith(f"model v{model.version}: churn_risk")


def test_detected_intents_are_announced_after_commit(as_robot, rules, django_capture_on_commit_callbacks):
    from intents.signals import intents_detected

    heard = []

    def listener(sender, detections, **kwargs):
        heard.extend(detections)

    intents_detected.connect(listener)
    try:
        touchpoint = TouchpointFactory(kind_id="page_view", properties={"path": "/pricing"})
        quiet = TouchpointFactory(kind_id="page_view", properties={"path": "/about"})
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            services.touchpoints_recognise(touchpoint_ids=[touchpoint.pk, quiet.pk])
        assert heard == []  # nothing before the commit
        for callback in callbacks:
            callback()
    finally:
        intents_detected.disconnect(listener)

    assert heard == [
        {
            "contact_id": touchpoint.contact_id,
            "intent": "compare",
            "confidence": 0.8,
            "touchpoint_id": touchpoint.pk,
        }
    ]


def test_the_contacts_announcement_reaches_recognition(as_robot, rules):
    touchpoint = TouchpointFactory(kind_id="page_view", properties={"path": "/pricing"})

    touchpoints_announce(touchpoint_ids=[touchpoint.pk])

    assert TouchpointIntent.objects.get(touchpoint=touchpoint).intent.key == "compare"


def test_a_signal_decays_with_the_half_life_over_a_frozen_clock(as_robot, rules):
    compare = Intent.objects.get(key="compare")
    compare.half_life_hours = 24
    compare.save()
    contact = ContactFactory()
    with time_machine.travel(T0, tick=False):
        touchpoint = TouchpointFactory(contact=contact, kind_id="page_view", properties={"path": "/pricing"})
        services.touchpoints_recognise(touchpoint_ids=[touchpoint.pk])

    signal = IntentSignal.objects.get(contact=contact)
    assert signal.score == pytest.approx(0.8)
    assert signal.score_at(T0 + timedelta(hours=24)) == pytest.approx(0.4)
    assert signal.score_at(T0 + timedelta(hours=48)) == pytest.approx(0.2)
    read = intent_signal_list(contact_id=contact.pk, at=T0 + timedelta(hours=24)).get()
    assert read.current_score == pytest.approx(0.4)

    # a second visit a day later adds to what is left: 1 - (1 - 0.4) * (1 - 0.8)
    with time_machine.travel(T0 + timedelta(hours=24), tick=False):
        again = TouchpointFactory(contact=contact, kind_id="page_view", properties={"path": "/pricing/faq"})
        services.touchpoints_recognise(touchpoint_ids=[again.pk])
    signal.refresh_from_db()
    assert signal.score == pytest.approx(0.88)
    assert signal.updated_at == T0 + timedelta(hours=24)
    assert signal.last_touchpoint_id == again.pk


def test_one_batch_of_many_touchpoints_costs_a_fixed_number_of_queries(
    as_robot, rules, django_assert_max_num_queries
):
    contacts = [ContactFactory() for _ in range(3)]
    ids = [
        TouchpointFactory(contact=contact, kind_id="page_view", properties={"path": f"/pricing/{i}"}).pk
        for contact in contacts
        for i in range(10)
    ]
    with django_assert_max_num_queries(16):
        assert services.touchpoints_recognise(touchpoint_ids=ids) == 30
    assert IntentSignal.objects.count() == 3
    # ten detections at 0.8 in one batch: 1 - 0.2 ** 10
    assert IntentSignal.objects.first().score == pytest.approx(1 - 0.2**10)
