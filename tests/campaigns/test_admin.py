import json

from django.test import Client

from campaigns.models import Campaign, Enrollment
from tests.factories import ContactFactory

ADD = "/admin/campaigns/campaign/add/"
STEPS = [
    {"key": "welcome", "type": "send_email", "subject": "Welcome", "body": "Hello {{ contact.first_name }}"},
    {"key": "pause", "type": "wait", "days": 2},
    {"key": "tag", "type": "add_tag", "tags": ["onboarded"]},
]


def form(**fields):
    return {
        "name": "", "description": "", "status": "draft", "priority": "0", "reentry": "once",
        "reentry_days": "",
        "entry_filter": "null", "goal": "null", "steps": json.dumps(STEPS), "enroll_emails": "",
        "triggers-TOTAL_FORMS": "0", "triggers-INITIAL_FORMS": "0", "triggers-MIN_NUM_FORMS": "0",
        "triggers-MAX_NUM_FORMS": "1000", **fields,
    }  # fmt: skip


def test_a_marketer_builds_publishes_and_enrolls_from_the_admin(marketer, clock):
    ContactFactory(email="anne@example.net", first_name="Anne")
    client = Client()
    client.force_login(marketer)

    # a bad step is refused with its path, the rest of the form kept
    bad = [*STEPS[:2], {"key": "tag", "type": "add_tag"}]
    refused = client.post(ADD, form(name="Onboarding", steps=json.dumps(bad)))
    assert refused.status_code == 200
    assert "steps[2].tags: required" in refused.content.decode()

    created = client.post(ADD, form(name="Onboarding"))
    assert created.status_code == 302
    campaign = Campaign.objects.get(name="Onboarding")

    client.post(
        "/admin/campaigns/campaign/", {"action": "publish", "_selected_action": [campaign.pk]}, follow=True
    )
    campaign.refresh_from_db()
    assert (campaign.status, campaign.version.number) == ("active", 1)

    changed = client.post(
        f"/admin/campaigns/campaign/{campaign.pk}/change/",
        form(name="Onboarding", status="active", enroll_emails="anne@example.net"),
        follow=True,
    )
    assert "1 enrolled, 0 kept out" in changed.content.decode()
    assert Enrollment.objects.get().contact.email == "anne@example.net"

    page = client.get(f"/admin/campaigns/campaign/{campaign.pk}/change/").content.decode()
    assert "published v1" in page
    assert "“Welcome”" in page and "for 2 days" in page
    assert client.get("/admin/campaigns/enrollment/").status_code == 200
    assert client.get("/admin/messaging/outboxmessage/").status_code == 200
