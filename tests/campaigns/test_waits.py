"""Waits that read the contact's clock, a date, or an event."""

from datetime import UTC, datetime, timedelta

import pytest

from campaigns.models import Enrollment, StepRun
from campaigns.services import CampaignError, campaign_enroll, campaigns_react_to_touchpoints
from contacts.models import Touchpoint
from tests.campaigns.conftest import NOW, published, run_due
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

TAG = {"key": "done", "type": "add_tag", "tags": ["reached"]}


def tags(contact) -> list[str]:
    return sorted(contact.tags.values_list("name", flat=True))


def test_wait_until_a_time_of_day_in_the_contact_s_time_zone(as_marketer, clock):
    # given a contact in New York, where it is 04:00 (09:00 UTC, a Monday)
    campaign = published(steps=[{"key": "morning", "type": "wait_until_time", "time": "09:00"}, TAG])
    contact = ContactFactory(timezone="America/New_York")
    campaign_enroll(campaign=campaign, contact_ids=[contact.pk])

    # when the journey starts
    run_due()

    # then it waits until 09:00 in New York, 14:00 UTC
    enrollment = Enrollment.objects.get()
    assert (enrollment.status, enrollment.next_run_at) == ("waiting", datetime(2026, 11, 23, 14, tzinfo=UTC))
    clock.move_to(datetime(2026, 11, 23, 13, 59, tzinfo=UTC))
    run_due()
    assert tags(contact) == []
    clock.move_to(datetime(2026, 11, 23, 14, tzinfo=UTC))
    run_due()
    assert tags(contact) == ["reached"]


def test_wait_until_a_time_of_day_on_given_weekdays(as_marketer, clock):
    # a Monday at 09:00 UTC; only Wednesdays, 08:00 in Paris (07:00 UTC)
    campaign = published(
        steps=[{"key": "wed", "type": "wait_until_time", "time": "08:00", "weekdays": [2]}, TAG]
    )
    campaign_enroll(campaign=campaign, contact_ids=[ContactFactory(timezone="Europe/Paris").pk])
    run_due()
    assert Enrollment.objects.get().next_run_at == datetime(2026, 11, 25, 7, tzinfo=UTC)


def test_wait_until_a_contact_date_minus_a_day(as_marketer, clock):
    campaign = published(
        steps=[
            {"key": "before", "type": "wait_until_date", "date": "contact.attributes.renewal_on", "days": -1,
             "time": "10:00"},
            TAG,
        ]
    )  # fmt: skip
    paris = ContactFactory(timezone="Europe/Paris", attributes={"renewal_on": "2026-12-01"})
    passed = ContactFactory(attributes={"renewal_on": "2026-11-01"})
    missing = ContactFactory()
    campaign_enroll(campaign=campaign, contact_ids=[paris.pk, passed.pk, missing.pk])

    run_due()

    waiting = Enrollment.objects.get(contact=paris)
    assert (waiting.status, waiting.next_run_at) == ("waiting", datetime(2026, 11, 30, 9, tzinfo=UTC))
    # a date that has passed, or none at all, does not hold anyone: they go on at once
    assert tags(passed) == tags(missing) == ["reached"]
    skipped = StepRun.objects.get(enrollment__contact=missing, step_key="before").detail["skipped"]
    assert skipped == "contact.attributes.renewal_on has no date"


def test_wait_until_the_triggering_touchpoint_s_date(as_marketer, clock):
    campaign = published(
        steps=[
            {"key": "eve", "type": "wait_until_date", "date": "touchpoint.properties.event_at", "days": -1},
            TAG,
        ],
        triggers=[{"kind": "touchpoint", "touchpoint_kinds": ["webinar_registration"]}],
    )
    contact = ContactFactory()
    touchpoint = Touchpoint.objects.create(
        contact=contact, kind_id="webinar_registration", channel="web",
        properties={"event_at": "2026-11-26T15:00:00+00:00"},
    )  # fmt: skip
    campaigns_react_to_touchpoints(touchpoint_ids=[touchpoint.pk])

    run_due()

    assert Enrollment.objects.get(campaign=campaign).next_run_at == datetime(2026, 11, 25, 15, tzinfo=UTC)


WAIT_FOR_ATTENDANCE = [
    {"key": "attend", "type": "wait_for_event", "kinds": ["webinar_attended"],
     "properties": {"webinar_id": "w-1"}, "days": 2, "yes": "thanks", "no": "replay"},
    {"key": "thanks", "type": "add_tag", "tags": ["came"], "next": ""},
    {"key": "replay", "type": "add_tag", "tags": ["missed"]},
]  # fmt: skip


def test_wait_for_an_event_wakes_at_once_when_it_comes(as_marketer, clock):
    # given a contact waiting for its attendance, for two days at most
    campaign = published(steps=WAIT_FOR_ATTENDANCE)
    contact = ContactFactory()
    campaign_enroll(campaign=campaign, contact_ids=[contact.pk])
    run_due()
    assert Enrollment.objects.get().next_run_at == NOW + timedelta(days=2)

    # when another webinar's attendance arrives, nothing; when this one's does, an hour later
    clock.shift(timedelta(hours=1))
    other = Touchpoint.objects.create(
        contact=contact, kind_id="webinar_attended", channel="web", properties={"webinar_id": "w-2"}
    )
    campaigns_react_to_touchpoints(touchpoint_ids=[other.pk])
    assert Enrollment.objects.get().next_run_at == NOW + timedelta(days=2)
    came = Touchpoint.objects.create(
        contact=contact, kind_id="webinar_attended", channel="web", properties={"webinar_id": "w-1"}
    )
    campaigns_react_to_touchpoints(touchpoint_ids=[came.pk])

    # then it is due now, and goes on by "yes"
    enrollment = Enrollment.objects.get()
    assert enrollment.next_run_at == NOW + timedelta(hours=1)
    assert enrollment.context["event"] == {"step": "attend", "visit": 1, "touchpoint": came.pk}
    run_due()
    assert (tags(contact), Enrollment.objects.get().status) == (["came"], "completed")


def test_wait_for_an_event_leaves_by_no_when_the_time_runs_out(as_marketer, clock):
    campaign = published(steps=WAIT_FOR_ATTENDANCE)
    contact = ContactFactory()
    campaign_enroll(campaign=campaign, contact_ids=[contact.pk])
    run_due()

    clock.shift(timedelta(days=2))
    run_due()

    assert tags(contact) == ["missed"]


@pytest.mark.parametrize(
    ("step", "path", "message"),
    [
        ({"type": "wait_until_time", "time": "9h"}, "steps[0].time", "expected a time of day as HH:MM"),
        ({"type": "wait_until_time", "time": "09:00", "weekdays": [7]}, "steps[0].weekdays", "0 (Monday)"),
        ({"type": "wait_until_date", "date": "contact.birthday"}, "steps[0].date", "path of a date"),
        ({"type": "wait_until_date", "date": "contact.created_at", "days": 1.5}, "steps[0].days", "whole"),
        ({"type": "wait_for_event", "kinds": ["webinar_attended"]}, "steps[0]", "time to wait for the event"),
        ({"type": "wait_for_event", "kinds": ["wbinar"], "days": 1}, "steps[0].kinds", "unknown touchpoint"),
        ({"type": "wait_for_event", "kinds": ["webinar_attended"], "days": 1, "yes": "nowhere"},
         "steps[0].yes", "no step with the key"),
    ],
)  # fmt: skip
def test_bad_waits_are_refused_with_their_paths(as_marketer, step, path, message):
    with pytest.raises(CampaignError) as caught:
        published(steps=[{"key": "w", **step}])
    assert any(where == path and message in text for where, text in caught.value.errors), caught.value.errors
