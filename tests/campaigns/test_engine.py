from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from campaigns.engine.advance import enrollment_advance
from campaigns.engine.tick import tick
from campaigns.models import Enrollment, StepRun
from campaigns.services import CampaignError, campaign_enroll, campaign_publish, campaign_update
from contacts import services as contact_services
from contacts.models import Touchpoint
from messaging.models import OutboxMessage
from tests.campaigns.conftest import published, run_due
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

MAIL = [{"key": "hello", "type": "send_email", "subject": "Hi", "body": "."}]


@pytest.mark.parametrize(
    ("reentry", "days", "after", "entries"),
    [("once", None, 30, 1), ("after_days", 7, 3, 1), ("after_days", 7, 8, 2), ("always", None, 0, 2)],
)
def test_reentry_policies(as_marketer, clock, reentry, days, after, entries):
    campaign = published(steps=MAIL, reentry=reentry, reentry_days=days)
    contact = ContactFactory()
    campaign_enroll(campaign=campaign, contact_ids=[contact.pk])
    run_due()

    clock.shift(timedelta(days=after))
    result = campaign_enroll(campaign=campaign, contact_ids=[contact.pk])
    run_due()

    assert Enrollment.objects.filter(contact=contact).count() == entries
    assert (result["enrolled"] == [contact.pk]) == (entries == 2)


def test_a_live_contact_never_enters_twice_even_every_time(as_marketer, clock):
    campaign = published(steps=[{"key": "pause", "type": "wait", "days": 3}], reentry="always")
    contact = ContactFactory()
    campaign_enroll(campaign=campaign, contact_ids=[contact.pk])

    result = campaign_enroll(campaign=campaign, contact_ids=[contact.pk])

    assert result["not_enrolled"] == [contact.pk]
    assert Enrollment.objects.filter(contact=contact).count() == 1


def test_the_entry_filter_keeps_others_out(as_marketer, clock):
    campaign = published(steps=MAIL, entry_filter={"field": "country", "op": "eq", "value": "FR"})
    anne, bert = ContactFactory(country="FR"), ContactFactory(country="BE")

    result = campaign_enroll(campaign=campaign, contact_ids=[anne.pk, bert.pk], emails=["nobody@example.org"])

    assert result == {
        "enrolled": [anne.pk], "not_enrolled": [bert.pk], "unknown_contacts": [],
        "unknown_emails": ["nobody@example.org"],
    }  # fmt: skip


def test_a_goal_takes_a_waiting_contact_out_at_once(as_marketer, as_robot, clock):
    campaign = published(
        steps=[{"key": "pause", "type": "wait", "days": 5}, *MAIL],
        goal={"touchpoint": {"kind": "demo_request"}},
    )
    contact = ContactFactory()
    campaign_enroll(campaign=campaign, contact_ids=[contact.pk])
    run_due()
    enrollment = Enrollment.objects.get()
    assert enrollment.status == "waiting"

    # when the contact requests a demo, announced as the worker would
    touchpoint = Touchpoint.objects.create(contact=contact, kind_id="demo_request", channel="web")
    contact_services.touchpoints_announce(touchpoint_ids=[touchpoint.pk])

    # then it is out before its wait ends, and nothing is sent later
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.next_run_at) == ("exited", None)
    clock.shift(timedelta(days=6))
    run_due()
    assert OutboxMessage.objects.count() == 0


def test_running_the_same_due_enrollment_twice_sends_once(as_marketer, clock):
    campaign = published(steps=[*MAIL, {"key": "pause", "type": "wait", "days": 1}])
    campaign_enroll(campaign=campaign, contact_ids=[ContactFactory().pk])
    enrollment_id = Enrollment.objects.get().pk

    # a duplicated batch: the second finds the enrollment no longer due
    assert enrollment_advance(enrollment_id=enrollment_id) == 2
    assert enrollment_advance(enrollment_id=enrollment_id) == 0

    # a stale copy that still believes it is at the e-mail step: the StepRun key stops it
    stale = {"status": "active", "step_key": "hello", "next_run_at": timezone.now()}
    Enrollment.objects.filter(pk=enrollment_id).update(**stale)
    enrollment_advance(enrollment_id=enrollment_id)
    run_due()

    assert OutboxMessage.objects.count() == 1
    assert len(mail.outbox) == 1
    assert StepRun.objects.filter(enrollment_id=enrollment_id, step_key="hello").count() == 1


def test_the_tick_claims_due_rows_once_and_leaves_leased_ones(
    as_marketer, clock, django_capture_on_commit_callbacks
):
    campaign = published(steps=MAIL)
    campaign_enroll(campaign=campaign, contact_ids=[contact.pk for contact in ContactFactory.create_batch(3)])

    with django_capture_on_commit_callbacks() as published_tasks:
        first = tick(now=timezone.now())
    second = tick(now=timezone.now())

    assert (first.claimed, second.claimed) == (3, 0)
    assert len(published_tasks) == 1


def test_contacts_inside_stay_on_their_version(as_marketer, clock):
    campaign = published(
        steps=[{"key": "pause", "type": "wait", "days": 1}, {"key": "a", "type": "add_tag", "tags": ["v1"]}]
    )
    early = ContactFactory()
    campaign_enroll(campaign=campaign, contact_ids=[early.pk])
    run_due()

    campaign_update(campaign=campaign, data={"steps": [{"key": "a", "type": "add_tag", "tags": ["v2"]}]})
    campaign_publish(campaign=campaign)
    late = ContactFactory()
    campaign_enroll(campaign=campaign, contact_ids=[late.pk])
    clock.shift(timedelta(days=1))
    run_due()

    assert list(early.tags.values_list("name", flat=True)) == ["v1"]
    assert list(late.tags.values_list("name", flat=True)) == ["v2"]


def test_bad_steps_are_refused_with_their_paths(as_marketer):
    with pytest.raises(CampaignError) as caught:
        published(
            steps=[
                {"key": "a", "type": "wait"},
                {
                    "key": "a",
                    "type": "branch",
                    "yes": "zz",
                    "conditions": {"field": "nope", "op": "eq", "value": 1},
                },
                {"key": "c", "type": "teleport"},
            ]
        )
    paths = [path for path, _ in caught.value.errors]
    assert {"steps[0]", "steps[1].key", "steps[1].yes", "steps[2].type"} <= set(paths)


def test_deleting_a_contact_takes_its_journeys_and_messages_with_it(as_marketer, clock):
    campaign = published(steps=[*MAIL, {"key": "pause", "type": "wait", "days": 1}])
    anne, bert = ContactFactory(), ContactFactory()
    campaign_enroll(campaign=campaign, contact_ids=[anne.pk, bert.pk])
    run_due()

    contact_services.contact_delete(contact=anne)

    assert list(Enrollment.objects.values_list("contact_id", flat=True)) == [bert.pk]
    assert list(OutboxMessage.objects.values_list("contact_id", flat=True)) == [bert.pk]
    assert set(StepRun.objects.values_list("enrollment__contact_id", flat=True)) == {bert.pk}


def test_a_field_change_that_reaches_the_goal_takes_the_contact_out(as_marketer, clock):
    campaign = published(
        steps=[{"key": "pause", "type": "wait", "days": 5}, *MAIL],
        goal={"field": "lifecycle_stage", "op": "eq", "value": "customer"},
    )
    contact = ContactFactory(lifecycle_stage="lead")
    campaign_enroll(campaign=campaign, contact_ids=[contact.pk])
    run_due()

    # when the contact becomes a customer, announced as the worker would
    contact_services.contact_update(contact=contact, data={"lifecycle_stage": "customer"})
    contact_services.contacts_changed_announce(contact_ids=[contact.pk], fields=["lifecycle_stage"])

    assert Enrollment.objects.get().status == "exited"
