import pytest
from django.db import transaction

from contacts.models import Touchpoint
from contacts.services import touchpoints_queue
from intents.models import BehaviourRule, Intent, IntentSignal, TouchpointIntent
from ledger.models import Action
from tests.factories import TouchpointFactory


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
