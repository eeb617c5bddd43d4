from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from contacts.models import Touchpoint
from contacts.services import touchpoints_queue
from intents.models import (
    BehaviourRule,
    DiscoveredTopic,
    DiscoveryRun,
    Intent,
    IntentSignal,
    TouchpointIntent,
)
from intents.services import touchpoints_recognise
from intents.tasks import topics_discover_task
from ledger.context import Actor, acting_as
from ledger.models import Action
from tests.factories import TouchpointFactory
from tests.intents.data import ONE_OFFS, chat_texts


@pytest.mark.worker
def test_a_real_worker_recognises_announced_touchpoints(celery_worker_process):
    # given a rule and a new visit of the pricing page
    BehaviourRule.objects.create(
        name="Pricing pages",
        intent=Intent.objects.get(key="compare"),
        kind_id="page_view",
        conditions=[{"property": "path", "operator": "starts_with", "value": "/pricing"}],
    )
    touchpoint = TouchpointFactory(kind_id="page_view", properties={"path": "/pricing"})

    # when the touchpoint is queued, as ingestion does, and the worker woken after commit
    with transaction.atomic():
        touchpoints_queue(touchpoint_ids=[touchpoint.pk])

    # then the worker process recognised it, and the contact's signal and the ledger say so
    celery_worker_process.wait_for(
        lambda: TouchpointIntent.objects.filter(touchpoint=touchpoint).exists(), what="the recognition"
    )
    assert Touchpoint.objects.get(pk=touchpoint.pk).intent == "compare"
    assert IntentSignal.objects.get(contact_id=touchpoint.contact_id).intent.key == "compare"
    action = Action.objects.get(verb="intent.detected")
    assert (action.actor_kind, action.actor_name) == (
        "algorithmic",
        "contacts.tasks.touchpoints_captured_task",
    )


@pytest.mark.worker
def test_a_real_worker_discovers_topics_as_software(celery_worker_process):
    # given chat messages of two kinds that nothing recognised, written an hour ago
    at = timezone.now() - timedelta(hours=1)
    texts = chat_texts("double_charge", 12) + chat_texts("invoice_address", 12) + ONE_OFFS
    touchpoints = [TouchpointFactory(kind_id="chat_message", text=text, occurred_at=at) for text in texts]
    with acting_as(Actor.for_task("tests.worker")):
        touchpoints_recognise(touchpoint_ids=[tp.pk for tp in touchpoints])

    # when discovery is handed to the worker, as the beat does
    topics_discover_task.delay()

    # then the worker process proposed the two topics, as software
    celery_worker_process.wait_for(
        lambda: DiscoveryRun.objects.filter(status="done").exists(), what="the discovery run", timeout=60
    )
    assert DiscoveredTopic.objects.filter(status="proposed").count() == 2
    assert set(Action.objects.filter(verb="topic.proposed").values_list("actor_kind", "actor_name")) == {
        ("algorithmic", "intents.tasks.topics_discover_task")
    }
