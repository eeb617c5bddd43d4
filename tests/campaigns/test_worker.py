"""Journeys through a real Celery worker process and the broker of the settings."""

import re

import pytest

from campaigns.models import Enrollment, StepRun
from campaigns.services import campaign_enroll
from campaigns.tasks import campaigns_tick_task, enrollments_advance_task
from messaging.models import OutboxMessage
from tests.campaigns.conftest import published
from tests.factories import ContactFactory

TICK_DONE = re.compile(r"campaigns\.tasks\.campaigns_tick_task\[[^\]]+\] succeeded")


@pytest.fixture
def mail_dir(tmp_path, monkeypatch):
    """The worker writes its e-mails to files here (each send is a file)."""
    folder = tmp_path / "mail"
    folder.mkdir()
    monkeypatch.setenv("EMAIL_URL", f"filemail:///{folder}")
    return folder


@pytest.fixture
def worker(mail_dir, transactional_db, tmp_path):
    from tests.worker import WorkerProcess

    process = WorkerProcess(tmp_path / "worker.log").start()
    try:
        yield process
    finally:
        process.stop()


@pytest.mark.worker
def test_an_enrollments_email_lands_exactly_once(worker, mail_dir, as_marketer):
    # given a published campaign that sends one e-mail and then waits
    campaign = published(
        name="Welcome",
        steps=[
            {
                "key": "hello",
                "type": "send_email",
                "subject": "Welcome {{ contact.first_name }}",
                "body": "Hi.",
            },
            {"key": "pause", "type": "wait", "days": 3},
        ],
    )
    contact = ContactFactory(first_name="Ada", email="ada@example.org")

    # when it is enrolled (which publishes its batch after commit), and the same batch is
    # delivered twice more, and a tick runs on top
    campaign_enroll(campaign=campaign, contact_ids=[contact.pk])
    enrollment = Enrollment.objects.get()
    enrollments_advance_task.delay(enrollment_ids=[enrollment.pk])
    enrollments_advance_task.delay(enrollment_ids=[enrollment.pk])
    campaigns_tick_task.delay()

    # then the worker sent the e-mail, once
    worker.wait_for(lambda: OutboxMessage.objects.filter(status="sent").exists(), what="the e-mail")
    # the solo worker takes tasks in order: once the tick is done, both duplicates were too
    worker.wait_for(lambda: TICK_DONE.search(worker.output()) is not None, what="the tick")
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.step_key) == ("waiting", "pause")
    assert OutboxMessage.objects.count() == 1
    assert StepRun.objects.filter(enrollment=enrollment, step_key="hello").count() == 1
    sent = [path.read_text() for path in mail_dir.iterdir()]
    assert sum(text.count("Subject: Welcome Ada") for text in sent) == 1
    assert "To: ada@example.org" in "".join(sent)


@pytest.mark.worker
def test_a_field_change_enrolls_through_the_worker_and_an_event_wakes_the_wait(worker, as_marketer):
    # given a campaign on "lifecycle stage became mql" that waits for a demo request
    from contacts import services as contact_services

    published(
        name="MQL follow-up",
        triggers=[{"kind": "field_changed", "field": "lifecycle_stage", "value": "mql"}],
        steps=[
            {"key": "demo", "type": "wait_for_event", "kinds": ["demo_request"], "days": 7,
             "yes": "hot", "no": ""},
            {"key": "hot", "type": "add_tag", "tags": ["asked-for-demo"]},
        ],
    )  # fmt: skip
    contact = ContactFactory()

    # when the contact becomes an MQL (the contacts app announces it from its worker task)
    contact_services.contact_update(contact=contact, data={"lifecycle_stage": "mql"})
    worker.wait_for(lambda: Enrollment.objects.filter(status="waiting").exists(), what="the enrollment")

    # and then asks for a demo (announced by the touchpoints' worker task)
    contact_services.touchpoint_create(contact=contact, kind="demo_request", channel="web")

    # then the wait ends at once, by its "yes"
    worker.wait_for(lambda: Enrollment.objects.filter(status="completed").exists(), what="the wake-up")
    assert list(contact.tags.values_list("name", flat=True)) == ["asked-for-demo"]
