import json

from playwright.sync_api import expect

from campaigns.models import Campaign, Enrollment
from tests.browser.conftest import ARTIFACTS, log_in
from tests.factories import ContactFactory

STEPS = [
    {"key": "welcome", "type": "send_email", "subject": "Welcome aboard",
     "body": "Hello {{ contact.first_name }}"},
    {"key": "pause", "type": "wait", "days": 2},
    {"key": "french", "type": "branch", "yes": "tag", "no": "",
     "conditions": {"field": "country", "op": "eq", "value": "FR"}},
    {"key": "tag", "type": "add_tag", "tags": ["onboarded"]},
]  # fmt: skip


def test_a_marketer_builds_a_campaign_publishes_it_and_enrolls_a_contact(page, marketer):
    ContactFactory(email="lea@example.fr", first_name="Léa", country="FR")

    # when she writes a journey in the admin and saves it
    log_in(page, "maya")
    page.goto("/admin/campaigns/campaign/add/")
    page.fill("#id_name", "Onboarding")
    page.fill("#id_description", "Welcome new sign-ups, then tag the French ones")
    page.fill("#id_entry_filter", "null")
    page.fill("#id_goal", "null")
    page.fill("#id_steps", json.dumps(STEPS, indent=2))
    page.click("input[name=_save]")
    expect(page.locator(".messagelist .success")).to_have_count(1)

    # and publishes it from the list
    page.locator("tr", has_text="Onboarding").locator("input.action-select").check()
    page.select_option("select[name=action]", "publish")
    page.click("button[name=index]")
    expect(page.locator(".messagelist")).to_contain_text("version 1 published")

    # and enrolls a contact by e-mail
    page.locator("#result_list").get_by_role("link", name="Onboarding").click()
    page.fill("#id_enroll_emails", "lea@example.fr")
    page.click("input[name=_continue]")

    # then the contact is in, and the journey reads as a flow with its counts
    expect(page.locator(".messagelist")).to_contain_text("1 enrolled")
    assert Campaign.objects.get().status == "active"
    assert Enrollment.objects.get().contact.email == "lea@example.fr"
    journey = page.locator(".journey")
    expect(journey.locator(".journey-step")).to_have_count(4)
    expect(journey).to_contain_text("published v1")
    ARTIFACTS.mkdir(exist_ok=True)
    journey.scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / "admin-campaign.png", full_page=True)
