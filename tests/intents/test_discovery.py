"""Discovery: refused texts gathered into topics, and what people do with a topic."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import time_machine
from django.core.management import call_command

from bench.intent_discovery import recovered
from intents import services
from intents.learning import embedding
from intents.learning.discovery import discover, min_topic_size
from intents.models import DiscoveredTopic, DiscoveryRun, Intent, IntentExample, IntentModel, TopicText
from ledger.context import Actor, acting_as
from ledger.models import Action
from segments.models import Membership, Segment
from segments.services import segment_from_topic_create
from tests.factories import ContactFactory, TouchpointFactory
from tests.intents.data import ONE_OFFS, chat_texts

NOW = datetime(2026, 3, 12, 15, 0, tzinfo=UTC)


def refused_chat(texts, *, contacts=None, at=NOW - timedelta(days=1)):
    """Chat messages that recognition found no intent in, as the worker would have."""
    touchpoints = [
        TouchpointFactory(
            kind_id="chat_message",
            channel="chat",
            text=text,
            occurred_at=at,
            **({"contact": contacts[i % len(contacts)]} if contacts else {}),
        )
        for i, text in enumerate(texts)
    ]
    with acting_as(Actor.for_task("tests.worker")):
        services.touchpoints_recognise(touchpoint_ids=[tp.pk for tp in touchpoints], at=at)
    return touchpoints


@pytest.fixture
def robot():
    with acting_as(Actor.for_task("intents.tasks.topics_discover_task")) as actor:
        yield actor


@pytest.fixture
def two_needs(db):
    """Twelve messages about a double charge, twelve about the invoice address, six one-offs."""
    with time_machine.travel(NOW, tick=False):
        charge = refused_chat(chat_texts("double_charge", 12), contacts=[ContactFactory() for _ in range(4)])
        address = refused_chat(chat_texts("invoice_address", 12))
        refused_chat(ONE_OFFS)
    return charge, address


def _topic_holding(touchpoints) -> DiscoveredTopic:
    topic_ids = set(TopicText.objects.filter(touchpoint__in=touchpoints).values_list("topic_id", flat=True))
    assert len(topic_ids) == 1, f"the texts are spread over {len(topic_ids)} topics"
    return DiscoveredTopic.objects.get(pk=topic_ids.pop())


def test_texts_of_two_kinds_gather_into_two_topics_and_one_offs_stay_out():
    # given two kinds of messages and unrelated one-offs, embedded by the real model
    texts = chat_texts("double_charge", 12) + chat_texts("invoice_address", 12) + ONE_OFFS
    vectors = embedding.encoder().encode(texts)

    # when discovery runs
    topics = discover(texts, vectors)

    # then each kind is one topic, nearly whole, and its words say what it is about
    assert len(topics) == 2
    by_kind = [{i // 12 for i in topic.members if i < 24} for topic in topics]
    assert sorted(map(sorted, by_kind)) == [[0], [1]]
    assert all(topic.size >= 10 for topic in topics)
    assert not any(i >= 24 for topic in topics for i in topic.members), "a one-off was put into a topic"
    words = {word for topic in topics for word in topic.words}
    assert {"invoice", "address"} <= words
    assert {"charged"} & words or {"twice"} & words
    # and the texts shown first are the nearest the topic's centre
    for topic in topics:
        assert list(topic.similarity) == sorted(topic.similarity, reverse=True)


def test_too_few_texts_make_no_topic_and_the_smallest_topic_grows_with_the_pool():
    texts = chat_texts("double_charge", 6)
    assert discover(texts, embedding.encoder().encode(texts)) == []
    assert min_topic_size(30) == 5
    assert min_topic_size(10_000) == 25
    with pytest.raises(ValueError, match="3 texts but 2 vectors"):
        discover(["a", "b", "c"], np.zeros((2, 4)))


def test_a_run_proposes_topics_with_their_size_contacts_and_texts(two_needs, robot):
    charge, address = two_needs

    # when discovery runs over the last days
    with time_machine.travel(NOW, tick=False):
        run = services.topics_discover()

    # then it proposes two topics, each holding its kind's texts and knowing who wrote them
    assert (run.status, run.text_count, run.topic_count, run.new_topic_count) == ("done", 30, 2, 2)
    charge_topic, address_topic = _topic_holding(charge[:10]), _topic_holding(address[:10])
    assert charge_topic != address_topic
    assert charge_topic.status == DiscoveredTopic.Status.PROPOSED
    assert charge_topic.contact_count == 4
    assert charge_topic.size == TopicText.objects.filter(topic=charge_topic).count() >= 10
    assert "invoice" in address_topic.title or "address" in address_topic.title
    # and each proposal is the software's work in the ledger
    proposed = Action.objects.filter(verb="topic.proposed")
    assert proposed.count() == 2
    assert set(proposed.values_list("actor_kind", flat=True)) == {"algorithmic"}


def test_texts_outside_the_period_or_labelled_are_not_gathered(two_needs, robot):
    charge, _ = two_needs
    IntentExample.objects.create(text=charge[0].text, touchpoint=charge[0], intent=None)
    with time_machine.travel(NOW + timedelta(days=40), tick=False):
        assert services.topics_discover().text_count == 0
    with time_machine.travel(NOW, tick=False):
        assert services.topics_discover().text_count == 29


def test_a_dismissed_topic_stays_dismissed_as_new_texts_arrive(two_needs, robot, marketer):
    charge, _ = two_needs
    with time_machine.travel(NOW, tick=False):
        services.topics_discover()
    topic = _topic_holding(charge[:10])
    with acting_as(Actor.for_user(marketer)):
        services.topic_dismiss(topic=topic)

    # when more messages of the same kind arrive and discovery runs again
    later = NOW + timedelta(days=3)
    with time_machine.travel(later, tick=False):
        more = refused_chat(chat_texts("double_charge", 8, seed=7), at=later - timedelta(hours=1))
        run = services.topics_discover()

    # then the new texts join the dismissed topic, which is not proposed again
    assert run.new_topic_count == 0
    topic.refresh_from_db()
    assert topic.status == DiscoveredTopic.Status.DISMISSED
    assert _topic_holding(more[:6]) == topic
    assert topic.size >= 18
    assert DiscoveredTopic.objects.filter(status="proposed").count() == 1
    dismissed = Action.objects.get(verb="topic.dismissed")
    assert (dismissed.actor_kind, dismissed.actor_name) == ("manual", "maya")


def test_naming_a_topic_creates_the_intent_with_its_texts_as_examples(two_needs, robot, marketer):
    _, address = two_needs
    with time_machine.travel(NOW, tick=False):
        services.topics_discover()
    topic = _topic_holding(address[:10])

    # when the marketer names it and asks for a new version
    with acting_as(Actor.for_user(marketer)):
        named = services.topic_name(topic=topic, name="Invoice address", retrain=True)

    # then the intent exists with the topic's texts, labelled by her, and a version is queued
    intent = Intent.objects.get(key="invoice_address")
    assert (named.intent, named.created, intent.name) == (intent, True, "Invoice address")
    examples = IntentExample.objects.filter(intent=intent)
    assert examples.count() == named.examples == topic.size
    assert set(examples.values_list("labelled_by", flat=True)) == {"maya"}
    assert set(examples.values_list("touchpoint_id", flat=True)) <= {tp.pk for tp in address}
    assert named.model == IntentModel.objects.get()
    assert named.model.status == IntentModel.Status.QUEUED
    topic.refresh_from_db()
    assert (topic.status, topic.intent, topic.decided_by) == ("named", intent, "maya")
    action = Action.objects.get(verb="topic.named")
    assert action.actor_kind == "manual"
    assert action.details["examples"] == topic.size

    # and it cannot be named twice, nor dismissed once named
    with acting_as(Actor.for_user(marketer)), pytest.raises(ValueError, match="already named"):
        services.topic_name(topic=topic, name="Again")
    with acting_as(Actor.for_user(marketer)), pytest.raises(ValueError, match="deactivate the intent"):
        services.topic_dismiss(topic=topic)


def test_a_topic_merged_into_an_existing_intent_adds_examples_and_keeps_earlier_labels(
    two_needs, robot, marketer
):
    charge, _ = two_needs
    with time_machine.travel(NOW, tick=False):
        services.topics_discover()
    topic = _topic_holding(charge[:10])
    support = Intent.objects.get(key="support")
    member = TopicText.objects.filter(topic=topic).select_related("touchpoint").first().touchpoint
    with acting_as(Actor.for_user(marketer)):
        # a text someone labelled meanwhile keeps its label
        services.touchpoint_label(touchpoint=member, intent=None)
        named = services.topic_name(topic=topic, intent=support)

    assert named.created is False
    assert named.examples == topic.size - 1
    assert IntentExample.objects.get(touchpoint=member).intent is None
    assert not Intent.objects.filter(name="").exists()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "give the new intent a name"),
        ("!!!", "no letters or digits"),
        ("Support", "already has the key support"),
        ("x" * 101, "100 at most"),
    ],
)
def test_a_name_that_cannot_be_an_intent_is_refused_with_the_reason(
    two_needs, robot, marketer, name, message
):
    with time_machine.travel(NOW, tick=False):
        services.topics_discover()
    topic = DiscoveredTopic.objects.first()
    with acting_as(Actor.for_user(marketer)), pytest.raises(ValueError, match=message):
        services.topic_name(topic=topic, name=name)
    assert DiscoveredTopic.objects.get(pk=topic.pk).status == "proposed"


def test_a_topics_contacts_open_as_a_static_list(two_needs, robot, marketer):
    charge, _ = two_needs
    with time_machine.travel(NOW, tick=False):
        services.topics_discover()
    topic = _topic_holding(charge[:10])

    with acting_as(Actor.for_user(marketer)):
        segment = segment_from_topic_create(topic_id=topic.pk)
        again = segment_from_topic_create(topic_id=topic.pk)

    assert segment.kind == Segment.Kind.STATIC
    members = set(Membership.objects.filter(segment=segment).values_list("contact_id", flat=True))
    writers = set(TopicText.objects.filter(topic=topic).values_list("touchpoint__contact_id", flat=True))
    assert members == writers == {tp.contact_id for tp in charge}
    assert topic.contact_count == 4
    assert again.slug != segment.slug


def test_the_command_runs_discovery_as_software(two_needs, capsys):
    with time_machine.travel(NOW, tick=False):
        call_command("discover_topics", "--days", "7")
    assert "texts 30, topics 2, new 2" in capsys.readouterr().out
    run = DiscoveryRun.objects.get()
    assert run.requested_by == "intents.discover_topics"
    assert set(Action.objects.filter(verb="topic.proposed").values_list("actor_kind", flat=True)) == {
        "algorithmic"
    }


def test_discovery_without_the_embedding_model_fails_with_the_reason(two_needs, robot, settings, tmp_path):
    settings.INTENTS_EMBEDDING_MODEL = str(tmp_path / "nowhere.onnx")
    with time_machine.travel(NOW, tick=False):
        run = services.topics_discover()
    assert run.status == DiscoveryRun.Status.FAILED
    assert "nowhere.onnx" in run.error
    assert not DiscoveredTopic.objects.exists()


def test_an_intent_is_recovered_only_by_a_topic_that_holds_half_of_it_nearly_pure():
    labels = ["a"] * 4 + ["b"] * 4 + ["oos"] * 4
    topics = [np.array([0, 1, 8]), np.array([4, 5, 6, 8, 9])]
    # a: 2 of 4 in a topic where it is 2/3 (not 0.8); b: 3 of 4 at 3/5
    assert recovered(topics, labels, ["a", "b"]) == []
    assert recovered([np.array([0, 1]), np.array([4, 5, 6, 7, 8])], labels, ["a", "b"]) == ["a", "b"]
    assert recovered([np.array([0])], labels, ["a", "c"]) == []
