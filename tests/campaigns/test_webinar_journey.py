"""The webinar journey of the design, built through the API, run on a frozen clock."""

from datetime import timedelta

import pytest
from django.core import mail

from campaigns.models import Enrollment
from campaigns.tasks import campaigns_tick_task
from ledger.models import Action
from messaging.models import OutboxMessage
from tests.campaigns.conftest import NOW

TOUCHPOINTS = "/api/v1/touchpoints/"

EVENT_DATE = "touchpoint.properties.event_at"  # the registration says when the webinar is
WEBINAR = {
    "name": "Webinar w-42",
    "reentry": "once",
    "goal": {"touchpoint": {"kind": "demo_request"}},
    "triggers": [
        {"kind": "touchpoint", "touchpoint_kinds": ["webinar_registration"],
         "touchpoint_filter": {"webinar_id": "w-42"}}
    ],
    "steps": [
        {"key": "confirm", "type": "send_email", "subject": "You are registered, {{ contact.first_name }}",
         "body": "See you on Thursday."},
        {"key": "day-before", "type": "wait_until_date", "date": EVENT_DATE, "days": -1},
        {"key": "remind", "type": "send_email", "subject": "Tomorrow: the webinar", "body": "See you there."},
        {"key": "after-event", "type": "wait_until_date", "date": EVENT_DATE, "hours": 2},
        {"key": "attended", "type": "branch", "yes": "thanks", "no": "replay",
         "conditions": {"touchpoint": {
             "kind": "webinar_attended",
             "where": [{"field": "properties.webinar_id", "op": "eq", "value": "w-42"}]}}},
        {"key": "thanks", "type": "send_email", "subject": "Thanks for coming", "body": "Slides inside.",
         "next": ""},
        {"key": "replay", "type": "send_email", "subject": "Sorry we missed you", "body": "The replay."},
    ],
}  # fmt: skip


EVENT_AT = NOW + timedelta(days=3)  # Thursday at 09:00 UTC


def touchpoint(email: str, kind: str, n: int, webinar: str = "w-42") -> dict:
    properties = {"webinar_id": webinar, "event_at": EVENT_AT.isoformat()}
    return {"email": email, "kind": kind, "properties": properties, "external_id": f"{kind}-{n}"}


@pytest.fixture
def post(writer, django_capture_on_commit_callbacks, celery_eager):
    """Post as the webinar tool; the work it starts runs as the worker would, here."""

    def send(url, body):
        with django_capture_on_commit_callbacks(execute=True):
            response = writer.post(url, body, format="json")
        assert response.status_code in (200, 201), response.json()
        return response.json()

    return send


def tick(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        campaigns_tick_task.delay()


def test_registration_confirmation_reminder_the_day_before_and_branch(
    post, clock, django_capture_on_commit_callbacks
):
    # given the campaign, built and published through the API
    campaign = post("/api/v1/campaigns/", WEBINAR)
    assert post(f"/api/v1/campaigns/{campaign['id']}/publish/", {})["version"] == 1

    # when three people register, one of them for another webinar
    post(TOUCHPOINTS, [touchpoint(f"{name}@example.org", "webinar_registration", n, webinar)
                       for n, (name, webinar) in enumerate([("anne", "w-42"), ("bert", "w-42"),
                                                            ("carl", "w-7")])])  # fmt: skip

    # then the two of w-42 have their confirmation at once, and wait for the day before
    assert sorted(message.to[0] for message in mail.outbox) == ["anne@example.org", "bert@example.org"]
    assert set(Enrollment.objects.values_list("status", "step_key", "next_run_at")) == {
        ("waiting", "day-before", EVENT_AT - timedelta(days=1))
    }

    # when the day before the event comes, they are reminded, once
    clock.move_to(EVENT_AT - timedelta(days=1, minutes=1))
    tick(django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 2  # not yet
    clock.move_to(EVENT_AT - timedelta(days=1))
    tick(django_capture_on_commit_callbacks)
    tick(django_capture_on_commit_callbacks)
    assert [message.subject for message in mail.outbox[2:]] == ["Tomorrow: the webinar"] * 2

    # when anne attends, and two hours after the event the journey goes on
    clock.move_to(EVENT_AT)
    post(TOUCHPOINTS, touchpoint("anne@example.org", "webinar_attended", 10))
    clock.move_to(EVENT_AT + timedelta(hours=2))
    tick(django_capture_on_commit_callbacks)

    # then each gets the follow-up of their branch, once, and the journey is over
    follow_ups = {message.to[0]: message.subject for message in mail.outbox[4:]}
    assert follow_ups == {"anne@example.org": "Thanks for coming", "bert@example.org": "Sorry we missed you"}
    assert set(Enrollment.objects.values_list("status", flat=True)) == {"completed"}
    assert OutboxMessage.objects.filter(status="sent").count() == 6
    tick(django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 6

    sent = Action.objects.filter(verb="email.sent", actor_type="campaign", actor_kind="algorithmic").count()
    assert sent == 6


def test_a_demo_request_takes_a_waiting_registrant_out(post, clock, django_capture_on_commit_callbacks):
    campaign = post("/api/v1/campaigns/", WEBINAR)
    post(f"/api/v1/campaigns/{campaign['id']}/publish/", {})
    post(TOUCHPOINTS, touchpoint("anne@example.org", "webinar_registration", 1))

    post(TOUCHPOINTS, touchpoint("anne@example.org", "demo_request", 2))

    assert Enrollment.objects.get().status == "exited"
    clock.shift(timedelta(days=2))
    tick(django_capture_on_commit_callbacks)
    assert [message.subject for message in mail.outbox] == ["You are registered,"]
