from playwright.sync_api import expect

from contacts.models import Contact, Suppression
from tests.browser.conftest import ARTIFACTS, log_in
from tests.factories import ContactFactory


def test_a_marketer_erases_a_contact_and_finds_the_address_on_the_suppression_list(page, marketer):
    contact = ContactFactory(email="noor@example.org", first_name="Noor", last_name="Haddad", city="Ghent")

    # when she selects the contact and asks for erasure
    log_in(page, "maya")
    page.goto("/admin/contacts/contact/")
    page.locator("tr", has_text="noor@example.org").locator("input.action-select").check()
    page.select_option("select[name=action]", "erase_personal_data")
    page.click("button[name=index]")

    # then she is asked first, and told what stays and what goes
    expect(page.get_by_role("heading", name="Erase the personal data of 1 contact?")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "privacy-erase-confirm.png", full_page=True)
    assert Contact.objects.get(pk=contact.pk).email == "noor@example.org"

    # when she confirms with a reason
    page.fill("input[name=reason]", "request by e-mail, ticket 118")
    page.click("input[type=submit]")
    expect(page.locator(".messagelist")).to_contain_text("Erased the personal data of 1 contact")
    assert Contact.objects.get(pk=contact.pk).first_name == ""

    # and the address, typed whole, is found on the suppression list though only its hash is kept
    page.goto("/admin/contacts/suppression/")
    page.fill("#searchbar", "Noor@Example.org")
    page.press("#searchbar", "Enter")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list")).to_contain_text("Erased on request")
    page.screenshot(path=ARTIFACTS / "privacy-suppression-search.png", full_page=True)
    assert Suppression.objects.count() == 1
