"""SMS, webhooks, tasks, static lists and a campaign enrolling into another."""

from datetime import timedelta

import pytest

from campaigns.models import Enrollment
from campaigns.services import CampaignError, campaign_enroll
from ledger.models import Action
from messaging.models import OutboxMessage
from routing.models import Task
from routing.services import task_complete
from segments import services as segment_services
from segments.models import Membership
from tests.campaigns.conftest import NOW, published, run_due
from tests.factories import ContactFactory, UserFactory

pytestmark = pytest.mark.django_db


SMS = "Hi {{ contact.first_name }}, {{ campaign.name }}"


def test_send_sms_writes_one_outbox_message_and_skips_who_has_no_phone(as_marketer, clock):
    campaign = published(
        name="Spring sale",
        steps=[{"key": "text", "type": "send_sms", "body": SMS}],
    )
    anne, bert = ContactFactory(first_name="Anne", phone="+33612345678"), ContactFactory(phone="")
    campaign_enroll(campaign=campaign, contact_ids=[anne.pk, bert.pk])

    run_due()
    run_due()

    message = OutboxMessage.objects.get()
    assert (message.channel, message.contact_id) == ("sms", anne.pk)
    assert message.payload == {"to": "+33612345678", "body": "Hi Anne, Spring sale"}
    assert set(Enrollment.objects.values_list("status", flat=True)) == {"completed"}


def test_webhook_writes_its_url_and_body(as_marketer, clock):
    campaign = published(
        steps=[{"key": "crm", "type": "webhook", "url": "https://crm.example.com/hook",
                "body": {"event": "hot lead", "name": "{{ contact.first_name }}",
                         "via": "{{ campaign.name }}"}}],
        name="Hot leads",
    )  # fmt: skip
    contact = ContactFactory(first_name="Ada", email="ada@example.org")
    campaign_enroll(campaign=campaign, contact_ids=[contact.pk])

    run_due()

    message = OutboxMessage.objects.get()
    assert message.channel == "webhook"
    assert message.payload == {
        "url": "https://crm.example.com/hook",
        "body": {"contact": {"id": contact.pk, "email": "ada@example.org"}, "campaign": campaign.pk,
                 "step": "crm", "event": "hot lead", "name": "Ada", "via": "Hot leads"},
    }  # fmt: skip


def test_create_task_for_the_owner_and_completing_it_is_manual_work(as_marketer, marketer, clock):
    # given a contact with an owner, in a journey that creates a task
    owner = UserFactory(username="olga")
    contact = ContactFactory(owner=owner, first_name="Ada")
    campaign = published(
        steps=[
            {"key": "call", "type": "create_task", "title": "Call {{ contact.first_name }}", "due_hours": 4}
        ]
    )
    campaign_enroll(campaign=campaign, contact_ids=[contact.pk])

    # when it runs (twice, as a duplicated batch would)
    run_due()
    run_due()

    # then one task, the campaign's work
    task = Task.objects.get()
    assert (task.title, task.assignee, task.contact, task.due_at) == (
        "Call Ada",
        owner,
        contact,
        NOW + timedelta(hours=4),
    )
    created = Action.objects.get(verb="task.created")
    assert (created.actor_kind, created.category) == ("algorithmic", "task")

    # when the marketer completes it
    task_complete(task=task)

    task.refresh_from_db()
    assert task.status == "done"
    completed = Action.objects.get(verb="task.completed")
    assert (completed.actor_kind, completed.actor_name, completed.contact_id) == (
        "manual",
        "maya",
        contact.pk,
    )


def test_add_to_and_remove_from_a_static_list(as_marketer, clock):
    for slug in ("vip", "cold"):
        segment_services.segment_create(name=slug, slug=slug, kind="static")
    contact = ContactFactory()
    segment_services.static_members_add(
        segment=segment_services.Segment.objects.get(slug="cold"), contact_ids=[contact.pk]
    )
    campaign = published(
        steps=[{"key": "in", "type": "add_to_list", "list": "vip"},
               {"key": "out", "type": "remove_from_list", "list": "cold"}]
    )  # fmt: skip
    campaign_enroll(campaign=campaign, contact_ids=[contact.pk])

    run_due()

    assert list(Membership.objects.filter(contact=contact).values_list("segment__slug", flat=True)) == ["vip"]
    entered = Action.objects.get(verb="segment.entered", contact_id=contact.pk, details__segment="vip")
    assert (entered.actor_type, entered.actor_id) == ("campaign", campaign.pk)


def test_enroll_into_another_campaign(as_marketer, clock):
    nurture = published(name="Nurture", steps=[{"key": "t", "type": "add_tag", "tags": ["nurtured"]}])
    welcome = published(
        name="Welcome", steps=[{"key": "next", "type": "enroll_campaign", "campaign": nurture.pk}]
    )
    contact = ContactFactory()
    campaign_enroll(campaign=welcome, contact_ids=[contact.pk])

    run_due()
    run_due()

    inside = Enrollment.objects.get(campaign=nurture)
    assert (inside.contact_id, inside.status, inside.context["from_campaign"]) == (
        contact.pk,
        "completed",
        welcome.pk,
    )
    assert list(contact.tags.values_list("name", flat=True)) == ["nurtured"]


@pytest.mark.parametrize(
    ("step", "path", "message"),
    [
        ({"type": "send_sms", "body": ""}, "steps[0].body", "text of the message"),
        ({"type": "webhook", "url": "ftp://x"}, "steps[0].url", "http(s)"),
        ({"type": "webhook", "url": "https://x", "body": [1]}, "steps[0].body", "an object"),
        (
            {"type": "create_task", "title": "Call", "assignee": "nobody"},
            "steps[0].assignee",
            "no user 'nobody'",
        ),
        ({"type": "add_to_list", "list": "nope"}, "steps[0].list", "no static list with the slug 'nope'"),
        (
            {"type": "enroll_campaign", "campaign": 999999},
            "steps[0].campaign",
            "no campaign with the id 999999",
        ),
        ({"type": "assign_owner", "team": "ghosts"}, "steps[0].team", "no team with the slug 'ghosts'"),
        ({"type": "send_sms", "body": "x", "subject": "y"}, "steps[0].subject", "unknown field"),
    ],
)
def test_bad_action_steps_are_refused_with_their_paths(as_marketer, step, path, message):
    with pytest.raises(CampaignError) as caught:
        published(steps=[{"key": "s", **step}])
    assert any(where == path and message in text for where, text in caught.value.errors), caught.value.errors


def test_a_dynamic_segment_is_no_list_for_a_step(as_marketer):
    segment_services.segment_create(
        name="French", slug="french", conditions={"field": "country", "op": "eq", "value": "FR"}
    )
    with pytest.raises(CampaignError) as caught:
        published(steps=[{"key": "s", "type": "add_to_list", "list": "french"}])
    assert caught.value.errors == [
        ("steps[0].list", "french is defined by conditions; only static lists take members")
    ]
