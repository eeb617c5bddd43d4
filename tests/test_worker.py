import pytest

from contacts.models import Contact, Touchpoint
from contacts.tasks import contact_capture_task
from ledger.models import Action


@pytest.mark.worker
def test_a_real_worker_runs_a_task_and_its_actions_are_algorithmic(celery_worker_process):
    # given a form submission handed to Celery, as a web form would
    # when
    contact_capture_task.delay(
        email="Worker.Test@Example.com",
        data={"first_name": "Wanda"},
        properties={"form": "newsletter"},
        external_id="form-42",
    )

    # then the separate worker process wrote it, as software
    celery_worker_process.wait_for(
        lambda: Touchpoint.objects.filter(external_id="form-42").exists(), what="the touchpoint"
    )
    contact = Contact.objects.get(email="worker.test@example.com")
    assert contact.first_name == "Wanda"
    kinds = set(Action.objects.filter(contact_id=contact.pk).values_list("actor_kind", "actor_name", "verb"))
    assert kinds == {
        ("algorithmic", "contacts.tasks.contact_capture_task", "contact.created_with_touchpoint"),
        ("algorithmic", "contacts.tasks.contact_capture_task", "touchpoint.captured"),
    }


@pytest.mark.worker
def test_a_redelivered_message_does_not_capture_twice(celery_worker_process):
    # given the same message delivered twice (acks_late redelivers after a crash)
    for _ in range(2):
        contact_capture_task.delay(email="twice@example.com", external_id="form-twice")
    # a third task after them proves the worker has consumed both
    contact_capture_task.delay(email="marker@example.com", external_id="form-marker")

    celery_worker_process.wait_for(
        lambda: Touchpoint.objects.filter(external_id="form-marker").exists(), what="the marker touchpoint"
    )
    assert Touchpoint.objects.filter(external_id="form-twice").count() == 1
    assert Action.objects.filter(verb="touchpoint.captured", details__kind="form_submit").count() == 2
