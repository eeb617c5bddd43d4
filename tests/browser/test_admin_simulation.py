from datetime import time, timedelta

import pytest
import time_machine
from playwright.sync_api import expect

from campaigns.models import Enrollment
from campaigns.services import campaign_enroll, campaign_publish, campaign_update
from ledger.context import Actor, acting_as
from messaging.models import OutboxMessage, SendingRule
from tests.browser.conftest import ARTIFACTS, log_in
from tests.campaigns.conftest import NOW, published, run_due
from tests.factories import ContactFactory, TouchpointFactory

STEPS = [
    {"key": "welcome", "type": "send_email", "subject": "Welcome, {{ contact.first_name }}", "body": "Hello"},
    {"key": "click", "type": "wait_for_event", "kinds": ["email_click"], "days": 2,
     "yes": "tag", "no": "nudge"},
    {"key": "nudge", "type": "send_sms", "body": "Did you see our e-mail?"},
    {"key": "tag", "type": "add_tag", "tags": ["onboarded"]},
]  # fmt: skip


@pytest.fixture
def morning():
    """09:00 UTC: 01:00 in Los Angeles, so an SMS sent two days later meets quiet hours."""
    with time_machine.travel(NOW, tick=True):
        yield


def test_a_marketer_simulates_a_journey_and_moves_contacts_to_a_new_version(page, marketer, morning):
    # given a published journey with two contacts waiting, quiet SMS hours, and a new version
    with acting_as(Actor.for_user(marketer)):
        SendingRule.objects.create(channel="sms", quiet_start=time(21), quiet_end=time(8))
        campaign = published(name="Onboarding", steps=STEPS)
        contacts = [
            ContactFactory(email="lea@example.fr", first_name="Léa", phone="+33612345678",
                           timezone="Europe/Paris"),
            ContactFactory(email="sam@example.com", first_name="Sam", phone="+12125550100",
                           timezone="America/Los_Angeles"),
        ]  # fmt: skip
        campaign_enroll(campaign=campaign, contact_ids=[contact.pk for contact in contacts])
        run_due()
        campaign_update(
            campaign=campaign, data={"steps": [*STEPS[:2], {**STEPS[2], "body": "Still with us?"}, STEPS[3]]}
        )
        campaign_publish(campaign=campaign)
    sent = OutboxMessage.objects.count()

    # when she opens the campaign, sees who is where, and moves them
    log_in(page, "maya")
    page.goto(f"/admin/campaigns/campaign/{campaign.pk}/change/")
    placement = page.locator(".placement")
    expect(placement).to_contain_text("can move: the published version has this step")
    placement.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "admin-campaign-placement.png", full_page=True)
    page.get_by_role("button", name="Move 2 contacts to v2").click()
    expect(page.locator(".messagelist")).to_contain_text("2 contacts moved to v2.")
    assert set(Enrollment.objects.values_list("version__number", flat=True)) == {2}

    # and simulates the journey for both
    page.get_by_role("link", name="Simulate").click()
    page.fill("#id_emails", "lea@example.fr, sam@example.com")
    page.get_by_role("button", name="Simulate").click()

    # then each one's path and messages show, and nothing was sent
    result = page.locator("#simulation-result")
    expect(result).to_contain_text("2 contacts through v2")
    expect(result.locator(".sim-path")).to_have_count(2)
    expect(result).to_contain_text("“Still with us?”")
    expect(result).to_contain_text("held: quiet hours 21:00 to 08:00")
    page.screenshot(path=ARTIFACTS / "admin-campaign-simulation.png", full_page=True)
    assert OutboxMessage.objects.count() == sent


def test_a_marketer_backtests_the_triggers_of_a_campaign(page, marketer, morning):
    # given a campaign started by webinar registrations, and three in the last week
    with acting_as(Actor.for_user(marketer)):
        campaign = published(
            name="Webinar follow-up", steps=STEPS[:1],
            triggers=[{"kind": "touchpoint", "touchpoint_kinds": ["webinar_registration"]}],
        )  # fmt: skip
        for days_ago in (1, 2, 10):
            TouchpointFactory(kind_id="webinar_registration", occurred_at=NOW - timedelta(days=days_ago))

    # when she asks for a backtest over the last 7 days
    log_in(page, "maya")
    page.goto(f"/admin/campaigns/campaign/{campaign.pk}/simulate/")
    page.fill("#id_days", "7")
    page.get_by_role("button", name="Backtest").click()

    # then the trigger's count and the enrollments it would have made show
    result = page.locator("#backtest")
    expect(result.locator("#backtest-result")).to_contain_text("touchpoint webinar_registration")
    expect(result).to_contain_text("2 enrollments in 7 days")
    page.screenshot(path=ARTIFACTS / "admin-campaign-backtest.png", full_page=True)
    assert not Enrollment.objects.exists()
