from datetime import timedelta

import pytest
from django.core import mail

from campaigns.models import Campaign, Enrollment, StepRun
from campaigns.services import campaign_enroll
from campaigns.steps.random_split import split_bucket
from contacts.models import Contact
from ledger.models import Action
from messaging.models import OutboxMessage
from tests.campaigns.conftest import NOW, published, run_due
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def enroll_one(campaign: Campaign, contact: Contact) -> Enrollment:
    result = campaign_enroll(campaign=campaign, contact_ids=[contact.pk])
    assert result["enrolled"] == [contact.pk]
    return Enrollment.objects.get(campaign=campaign, contact=contact)


def test_contact_steps_change_the_contact_as_the_campaign(as_marketer, clock):
    # given
    campaign = published(
        name="Qualify",
        steps=[
            {"key": "tag", "type": "add_tag", "tags": ["webinar", "hot"]},
            {"key": "untag", "type": "remove_tag", "tags": ["hot"]},
            {"key": "city", "type": "set_field", "field": "city", "value": "Lyon"},
            {"key": "score", "type": "adjust_score", "by": 15},
            {"key": "stage", "type": "set_lifecycle_stage", "stage": "mql"},
        ],
    )
    contact = ContactFactory(score=5)

    # when
    enrollment = enroll_one(campaign, contact)
    run_due()

    # then
    contact.refresh_from_db()
    enrollment.refresh_from_db()
    assert sorted(contact.tags.values_list("name", flat=True)) == ["webinar"]
    assert (contact.city, contact.score, contact.lifecycle_stage) == ("Lyon", 20, "mql")
    assert enrollment.status == "completed"
    assert list(StepRun.objects.filter(enrollment=enrollment).values_list("step_key", flat=True)) == [
        "tag", "untag", "city", "score", "stage",
    ]  # fmt: skip
    actors = set(Action.objects.filter(contact_id=contact.pk, verb__in=["tag.added", "contact.updated"])
                 .values_list("actor_kind", "actor_type", "actor_id"))  # fmt: skip
    assert actors == {("algorithmic", "campaign", campaign.pk)}


def test_send_email_goes_through_the_outbox_once(as_marketer, clock):
    campaign = published(
        steps=[
            {
                "key": "hello",
                "type": "send_email",
                "subject": "Hi {{ contact.first_name }}",
                "body": "Welcome",
            }
        ]
    )
    contact = ContactFactory(first_name="Ada", email="ada@example.org")
    enroll_one(campaign, contact)

    run_due()
    run_due()

    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts) == ("sent", 1)
    assert [(m.to, m.subject) for m in mail.outbox] == [(["ada@example.org"], "Hi Ada")]
    assert Action.objects.filter(verb="email.sent", contact_id=contact.pk, actor_type="campaign").count() == 1


def test_an_unsubscribed_contact_is_not_mailed(as_marketer, clock):
    campaign = published(steps=[{"key": "hello", "type": "send_email", "subject": "Hi", "body": "."}])
    enroll_one(campaign, ContactFactory(consent_email="unsubscribed"))

    run_due()

    assert OutboxMessage.objects.get().status == "suppressed"
    assert mail.outbox == []


def test_wait_holds_the_contact_until_its_time(as_marketer, clock):
    campaign = published(
        steps=[
            {"key": "pause", "type": "wait", "days": 1, "hours": 2},
            {"key": "tag", "type": "add_tag", "tags": ["later"]},
        ]
    )
    contact = ContactFactory()
    enrollment = enroll_one(campaign, contact)

    run_due()
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.step_key) == ("waiting", "pause")
    assert enrollment.next_run_at == NOW + timedelta(days=1, hours=2)

    clock.shift(timedelta(days=1, hours=1))
    run_due()
    assert not contact.tags.exists()

    clock.shift(timedelta(hours=1))
    run_due()
    enrollment.refresh_from_db()
    assert enrollment.status == "completed"
    assert list(contact.tags.values_list("name", flat=True)) == ["later"]


def test_branch_follows_the_conditions(as_marketer, clock):
    campaign = published(
        steps=[
            {"key": "french", "type": "branch", "yes": "fr", "no": "other",
             "conditions": {"field": "country", "op": "eq", "value": "FR"}},
            {"key": "fr", "type": "add_tag", "tags": ["fr"], "next": ""},
            {"key": "other", "type": "add_tag", "tags": ["other"]},
        ]
    )  # fmt: skip
    anne, bert = ContactFactory(country="FR"), ContactFactory(country="BE")
    campaign_enroll(campaign=campaign, contact_ids=[anne.pk, bert.pk])

    run_due()

    assert list(anne.tags.values_list("name", flat=True)) == ["fr"]
    assert list(bert.tags.values_list("name", flat=True)) == ["other"]


def test_random_split_is_stable_per_contact_and_near_its_percentages(as_marketer, clock):
    campaign = published(
        steps=[
            {"key": "ab", "type": "random_split",
             "paths": [{"percent": 30, "next": "a"}, {"percent": 70, "next": "b"}]},
            {"key": "a", "type": "add_tag", "tags": ["a"], "next": ""},
            {"key": "b", "type": "add_tag", "tags": ["b"]},
        ]
    )  # fmt: skip
    contacts = ContactFactory.create_batch(200)
    campaign_enroll(campaign=campaign, contact_ids=[contact.pk for contact in contacts])

    run_due()

    in_a = set(Contact.objects.filter(tags__name="a").values_list("pk", flat=True))
    expected = {contact.pk for contact in contacts if split_bucket(contact_id=contact.pk, step_key="ab") < 30}
    assert in_a == expected
    assert 40 <= len(in_a) <= 80
    assert Contact.objects.filter(tags__name="b").count() == 200 - len(in_a)


def test_exit_step_ends_the_journey_there(as_marketer, clock):
    campaign = published(
        steps=[
            {"key": "leave", "type": "exit"},
            {"key": "never", "type": "add_tag", "tags": ["never"]},
        ]
    )
    contact = ContactFactory()
    enrollment = enroll_one(campaign, contact)

    run_due()

    enrollment.refresh_from_db()
    assert enrollment.status == "exited"
    assert not contact.tags.exists()


def test_a_failing_step_fails_the_enrollment_with_its_error(as_marketer, clock):
    bad_zone = {"key": "rename", "type": "set_field", "field": "timezone", "value": "Mars/Olympus"}
    campaign = published(steps=[bad_zone])
    enrollment = enroll_one(campaign, ContactFactory())

    run_due()

    enrollment.refresh_from_db()
    assert enrollment.status == "failed"
    assert enrollment.error.startswith("rename (set_field):")
    assert StepRun.objects.get(enrollment=enrollment).outcome == "failed"
