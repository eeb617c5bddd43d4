"""The admin for the new steps and triggers, moving contacts between versions, the
simulation page, teams and tasks."""

import json
from datetime import timedelta

import pytest
from django.test import Client

from campaigns.models import Enrollment, Trigger
from campaigns.services import campaign_enroll, campaign_publish, campaign_update
from ledger.models import Action
from routing.models import Task
from tests.campaigns.conftest import published, run_due
from tests.campaigns.test_admin import form
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

STEPS = [
    {"key": "morning", "type": "wait_until_time", "time": "09:00", "weekdays": [0, 1]},
    {"key": "click", "type": "wait_for_event", "kinds": ["email_click"], "days": 2,
     "yes": "route", "no": "sms"},
    {"key": "sms", "type": "send_sms", "body": "Still interested?"},
    {"key": "route", "type": "assign_owner"},
    {"key": "call", "type": "create_task", "title": "Call them", "due_hours": 4},
]  # fmt: skip


@pytest.fixture
def client(marketer):
    client = Client()
    client.force_login(marketer)
    return client


def test_the_flow_reads_the_new_steps(client, as_marketer, clock):
    campaign = published(steps=STEPS)

    page = client.get(f"/admin/campaigns/campaign/{campaign.pk}/change/").content.decode()

    assert "Wait until a time" in page and "until 09:00 on Mon, Tue, in the contact&#x27;s time zone" in page
    assert "email_click, at most 2 days" in page
    assert 'data-from="click" data-to="route"><rect' in page
    assert 'data-from="click" data-to="sms"><rect' in page
    assert ">event came</text>" in page and ">timed out</text>" in page
    assert "“Call them” for owner, due in 4 h" in page and "by the routing rules" in page


def test_a_date_trigger_in_the_admin_is_checked_like_the_api(client, as_marketer, clock):
    campaign = published(steps=STEPS)
    url = f"/admin/campaigns/campaign/{campaign.pk}/change/"
    trigger = {
        "triggers-TOTAL_FORMS": "1", "triggers-0-kind": "date", "triggers-0-touchpoint_kinds": "[]",
        "triggers-0-touchpoint_filter": "{}", "triggers-0-field": "birthday", "triggers-0-value": "null",
        "triggers-0-offset_days": "-1", "triggers-0-time_of_day": "10:00", "triggers-0-weekdays": "[]",
    }  # fmt: skip
    data = form(name="Journey", status="active", steps=json.dumps(STEPS)) | trigger

    refused = client.post(url, data)
    assert "expected the contact&#x27;s date" in refused.content.decode()

    accepted = client.post(url, data | {"triggers-0-field": "attributes.renewal_on"})
    assert accepted.status_code == 302
    saved = Trigger.objects.get()
    assert (saved.field, saved.offset_days, saved.last_run_at is not None) == (
        "attributes.renewal_on",
        -1,
        True,
    )


def test_the_marketer_sees_who_is_where_and_moves_them(client, as_marketer, clock):
    campaign = published(steps=[{"key": "pause", "type": "wait", "days": 3}, {"key": "a", "type": "exit"}])
    campaign_enroll(campaign=campaign, contact_ids=[contact.pk for contact in ContactFactory.create_batch(2)])
    run_due()
    campaign_update(campaign=campaign, data={"steps": [{"key": "pause", "type": "wait", "days": 1}]})
    campaign_publish(campaign=campaign)

    page = client.get(f"/admin/campaigns/campaign/{campaign.pk}/change/").content.decode()
    assert "can move: the published version has this step" in page
    assert "Move 2 contacts to v2" in page

    moved = client.post(f"/admin/campaigns/campaign/{campaign.pk}/migrate/", follow=True)
    assert "2 contacts moved to v2." in moved.content.decode()
    assert set(Enrollment.objects.values_list("version__number", flat=True)) == {2}


def test_the_simulation_page(client, as_marketer, clock):
    campaign = published(steps=STEPS)
    ContactFactory(email="ana@example.org", phone="+33612345678")
    url = f"/admin/campaigns/campaign/{campaign.pk}/simulate/"

    assert client.get(url).status_code == 200
    empty = client.post(url, {"emails": "", "sample": ""})
    result = client.post(url, {"emails": "ana@example.org", "sample": ""})

    assert "Name some contacts by e-mail, or ask for a sample." in empty.content.decode()
    page = result.content.decode()
    assert "1 contact through v1" in page
    assert "sms on 2026-11-25 at 09:00 UTC to +33612345678" in page
    assert Enrollment.objects.count() == 0


def test_completing_a_task_in_the_admin_is_manual_work(client, as_marketer, marketer, clock):
    campaign = published(steps=[{"key": "call", "type": "create_task", "title": "Call", "assignee": "maya"}])
    contact = ContactFactory()
    campaign_enroll(campaign=campaign, contact_ids=[contact.pk])
    run_due()
    task = Task.objects.get()
    clock.shift(timedelta(hours=25))
    listing = client.get("/admin/routing/task/").content.decode()
    assert "Call" in listing

    client.post("/admin/routing/task/", {"action": "complete", "_selected_action": [task.pk]})

    task.refresh_from_db()
    assert task.status == "done"
    action = Action.objects.get(verb="task.completed")
    assert (action.actor_kind, action.actor_name, action.category) == ("manual", "maya", "task")


@pytest.mark.parametrize(
    "url",
    ["/admin/routing/team/add/", "/admin/routing/routingrule/", "/admin/routing/leadassignment/",
     "/admin/messaging/sendingrule/add/", "/admin/routing/task/add/"],
)  # fmt: skip
def test_routing_and_limits_pages_open(client, url):
    assert client.get(url).status_code == 200


def test_the_graph_draws_the_published_steps_and_says_when_the_draft_differs(client, as_marketer, clock):
    campaign = published(steps=STEPS)
    url = f"/admin/campaigns/campaign/{campaign.pk}/change/"
    assert "changes not published yet" not in client.get(url).content.decode()

    campaign_update(campaign=campaign, data={"steps": [*STEPS, {"key": "bye", "type": "exit"}]})
    page = client.get(url).content.decode()

    assert "published v1; the steps below have changes not published yet" in page
    assert 'data-step="bye"' not in page and page.count('class="jg-node jg-step') == len(STEPS)
