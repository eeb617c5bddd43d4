"""A campaign run against contacts without effects: paths, times and messages."""

from datetime import time

import pytest

from campaigns.models import Enrollment
from campaigns.services import campaign_simulate
from contacts.models import Touchpoint
from ledger.models import Action
from messaging.models import OutboxMessage, SendingRule
from routing.models import LeadAssignment, Task, Team, TeamMember
from tests.campaigns.conftest import published
from tests.factories import ContactFactory, UserFactory

pytestmark = pytest.mark.django_db

JOURNEY = [
    {"key": "hello", "type": "send_email", "subject": "Hi {{ contact.first_name }}", "body": "."},
    {"key": "french", "type": "branch", "conditions": {"field": "country", "op": "eq", "value": "FR"},
     "yes": "route", "no": "wait-click"},
    {"key": "route", "type": "assign_owner", "next": "tag"},
    {"key": "wait-click", "type": "wait_for_event", "kinds": ["email_click"], "days": 3,
     "yes": "tag", "no": "sms"},
    {"key": "sms", "type": "send_sms", "body": "Still there?"},
    {"key": "tag", "type": "add_tag", "tags": ["simulated"]},
]  # fmt: skip


def test_each_contact_s_path_and_messages_and_no_effect_at_all(as_marketer, clock):
    # given a team that takes everyone, quiet SMS hours, and two contacts
    team = Team.objects.create(name="Sales", slug="sales")
    TeamMember.objects.create(team=team, user=UserFactory(username="sam"))
    team.rules.create(name="All", countries=[])
    SendingRule.objects.create(channel="sms", quiet_start=time(21), quiet_end=time(8))
    campaign = published(steps=JOURNEY)
    ana = ContactFactory(first_name="Ana", country="FR")
    ben = ContactFactory(first_name="Ben", country="US", phone="+12125550100", timezone="America/New_York")
    actions = Action.objects.count()

    # when simulated
    result = campaign_simulate(campaign=campaign, contact_ids=[ana.pk, ben.pk])

    # then Ana is routed to Sam; Ben, who clicks nothing in a simulation, gets the SMS after
    # three days, held by quiet hours until 08:00 in New York (13:00 UTC)
    ana_path, ben_path = result["paths"]
    assert [visit["step"] for visit in ana_path["steps"]] == ["hello", "french", "route", "tag"]
    assert ana_path["steps"][2]["detail"]["would_assign"] == UserFactory(username="sam").pk
    assert [visit["step"] for visit in ben_path["steps"]] == ["hello", "french", "wait-click", "sms", "tag"]
    sms = ben_path["messages"][1]
    assert (sms["channel"], sms["to"], sms["at"]) == ("sms", "+12125550100", "2026-11-26T13:00:00+00:00")
    assert ben_path["steps"][3]["held"] == "quiet hours 21:00 to 08:00"
    assert ana_path["messages"][0]["subject"] == "Hi Ana"
    assert result["ends"] == {"completed": 2}
    assert result["messages"] == {"email": 2, "sms": 1}
    assert {row["key"]: row["contacts"] for row in result["steps"]}["route"] == 1

    # and nothing happened
    assert Enrollment.objects.count() == OutboxMessage.objects.count() == Task.objects.count() == 0
    assert LeadAssignment.objects.count() == 0
    assert TeamMember.objects.get().last_assigned_at is None
    assert not ana.tags.exists()
    assert Action.objects.count() == actions


def test_the_draft_of_a_webinar_reminder_reads_the_registration_date(as_marketer, clock):
    campaign = published(
        steps=[{"key": "confirm", "type": "send_email", "subject": "Registered", "body": "."}],
        triggers=[{"kind": "touchpoint", "touchpoint_kinds": ["webinar_registration"]}],
        entry_filter={"field": "country", "op": "eq", "value": "FR"},
    )
    campaign.steps = [
        {"key": "remind", "type": "wait_until_date", "date": "touchpoint.properties.event_at", "days": -1},
        {"key": "reminder", "type": "send_email", "subject": "Tomorrow", "body": "."},
    ]
    campaign.save()
    registered, outsider = ContactFactory(country="FR"), ContactFactory(country="BE")
    Touchpoint.objects.create(
        contact=registered, kind_id="webinar_registration", channel="web",
        properties={"event_at": "2026-11-27T16:00:00Z"},
    )  # fmt: skip

    result = campaign_simulate(campaign=campaign, contact_ids=[registered.pk, outsider.pk], draft=True)

    inside, outside = result["paths"]
    assert inside["messages"] == [
        {"step": "reminder", "at": "2026-11-26T16:00:00+00:00", "channel": "email", "to": registered.email,
         "subject": "Tomorrow", "body": ".", "what": "Tomorrow"}
    ]  # fmt: skip
    assert outside["end"] == "kept out by the entry filter"
    assert result["version"] is None


def test_the_api_simulates_a_sample(writer, as_marketer, clock):
    campaign = published(steps=[{"key": "hello", "type": "send_email", "subject": "Hi", "body": "."}])
    ContactFactory.create_batch(3)
    url = f"/api/v1/campaigns/{campaign.pk}/simulate/"

    response = writer.post(url, {"sample": 2}, format="json")
    empty = writer.post(url, {}, format="json")

    assert response.status_code == 200, response.json()
    assert (response.json()["contacts"], response.json()["messages"]) == (2, {"email": 2})
    assert empty.status_code == 400
    assert OutboxMessage.objects.count() == 0


def test_the_frequency_cap_counts_the_messages_simulated_before(as_marketer, clock):
    SendingRule.objects.create(channel="email", cap_messages=1, cap_days=1)
    campaign = published(
        steps=[{"key": key, "type": "send_email", "subject": key, "body": "."} for key in ("one", "two")]
    )
    contact = ContactFactory()

    result = campaign_simulate(campaign=campaign, contact_ids=[contact.pk])

    assert [message["at"] for message in result["paths"][0]["messages"]] == [
        "2026-11-23T09:00:00+00:00", "2026-11-24T09:00:00+00:00",
    ]  # fmt: skip
    assert result["paths"][0]["steps"][1]["held"] == "frequency cap: 1 per 1 days"
    assert OutboxMessage.objects.count() == 0
