from playwright.sync_api import expect

from contacts.models import ConsentChange, Touchpoint
from demo.email import demo_email_create
from ledger.context import Actor, acting_as
from messaging.email import links
from tests.browser.conftest import ARTIFACTS, log_in
from tests.factories import AccountFactory, ContactFactory


def test_a_marketer_previews_a_template_as_a_contact_and_sends_herself_a_test(page, marketer, mailoutbox):
    # given the demo templates and two contacts
    demo_email_create(marketer=marketer)
    ContactFactory(email="sam@example.org", first_name="Sam")
    ContactFactory(email="ines@globex.example", first_name="Inès", last_name="Duval",
                   account=AccountFactory(name="Globex", employees=800))  # fmt: skip

    # when she opens the follow-up template and previews it as Inès
    log_in(page, "maya")
    page.goto("/admin/messaging/emailtemplate/")
    page.get_by_role("link", name="Webinar: thank you and replay").click()
    page.get_by_role("link", name="Preview and send a test").click()
    page.fill("#contact-input", "ines@globex.example")
    page.get_by_role("button", name="Show").click()

    # then the inbox line, the HTML and the plain text are hers
    expect(page.locator("#preview-subject")).to_have_text("The slides and the replay, Inès")
    expect(page.locator("#preview-preheader")).to_have_text("Plus the three questions we had no time for")
    html = page.frame_locator("#preview-html")
    expect(html.locator("body")).to_contain_text("Hi Inès, here is everything")
    expect(html.locator("body")).to_contain_text("guided demo")  # Globex has 800 employees
    expect(page.locator("#preview-text")).to_contain_text("Watch the replay (https://northwind.example.com/")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "email-template-preview.png", full_page=True)

    # and a test lands in her own inbox
    page.get_by_role("button", name="Send a test to me").click()
    expect(page.locator(".messagelist .success")).to_contain_text("Test sent to maya@example.com")
    assert [(m.to, m.subject) for m in mailoutbox] == [
        (["maya@example.com"], "[Test] The slides and the replay, Inès")
    ]


def test_a_contact_unsubscribes_from_e_mail_on_the_preference_page_and_keeps_sms(page, db):
    contact = ContactFactory(email="noor@example.org", first_name="Noor", consent_email="subscribed",
                             consent_sms="subscribed")  # fmt: skip
    with acting_as(Actor.for_task("tests")):
        token = links.unsubscribe_token(contact_id=contact.pk, message_id=None)

    # when Noor follows the link of an e-mail (no login) and switches e-mail off
    page.set_viewport_size({"width": 900, "height": 760})
    page.goto(f"/email/preferences/{token}/")
    expect(page.get_by_role("heading")).to_have_text("Noor, choose what you receive")
    email, sms = page.locator("#channel-email"), page.locator("#channel-sms")
    expect(email).to_be_checked()
    expect(sms).to_be_checked()
    page.locator("label.channel", has_text="E-mail").click()
    expect(email).not_to_be_checked()
    page.get_by_role("button", name="Save my choices").click()

    # then the page confirms and her consent changed for e-mail only
    expect(page.get_by_role("status")).to_contain_text("Saved")
    expect(page.locator("#channel-email")).not_to_be_checked()
    expect(page.locator("#channel-sms")).to_be_checked()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "email-preferences.png", full_page=True)
    contact.refresh_from_db()
    assert (contact.consent_email, contact.consent_sms) == ("unsubscribed", "subscribed")
    assert ConsentChange.objects.get(contact=contact).actor_kind == "algorithmic"
    assert Touchpoint.objects.filter(contact=contact, kind_id="unsubscribe").count() == 1

    # and the unsubscribe link of the same e-mail now says so
    page.goto(f"/email/unsubscribe/{token}/")
    expect(page.get_by_role("heading")).to_have_text("You are already unsubscribed")
    page.screenshot(path=ARTIFACTS / "email-unsubscribe.png", full_page=True)
