from django.conf import settings
from playwright.sync_api import expect

from ledger.models import Action
from tests.browser.conftest import ARTIFACTS, log_in
from tests.factories import AccountFactory, ContactFactory, TouchpointFactory


def test_a_marketer_logs_in_opens_a_contact_and_edits_it(page, marketer):
    # given a contact with a company and some history
    account = AccountFactory(name="Acme Robotics", domain="acme-robotics.com")
    contact = ContactFactory(
        email="lea.martin@acme-robotics.com", first_name="Léa", last_name="Martin", account=account
    )
    TouchpointFactory(contact=contact, kind_id="webinar_registration", channel="events")
    TouchpointFactory(contact=contact, kind_id="page_view", properties={"path": "/pricing"})

    # when she logs in, finds the contact and opens it
    log_in(page, "maya")
    page.click("tr.model-contact th a")
    page.fill("#searchbar", "acme")
    page.press("#searchbar", "Enter")
    page.click("text=lea.martin@acme-robotics.com")

    # then the contact page shows the contact and its timeline, newest first
    assert page.input_value("#id_email") == "lea.martin@acme-robotics.com"
    timeline = page.locator("#touchpoints-group")
    assert timeline.locator("td.field-kind").all_inner_texts() == ["Page view", "Webinar registration"]
    assert "path: /pricing" in timeline.locator("td.field-summary").first.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "admin-contact.png", full_page=True)

    # when she changes the job title and saves
    page.fill("#id_job_title", "VP Marketing")
    page.click("input[name=_save]")

    # then it is saved, and the ledger says a person did it
    expect(page.locator(".messagelist .success")).to_have_count(1)
    contact.refresh_from_db()
    assert contact.job_title == "VP Marketing"
    action = Action.objects.get(verb="contact.updated", contact_id=contact.pk)
    assert (action.actor_kind, action.actor_name) == ("manual", "maya")
    assert settings.DEBUG is False  # what was tested is what runs
