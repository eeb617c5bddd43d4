from playwright.sync_api import expect

from contacts.models import Contact
from tests.browser.conftest import ARTIFACTS, log_in

CSV = (
    "E-mail;First Name;Company;Favourite colour\n"
    "jane@acme.com;Jane;Acme;blue\n"
    "not-an-email;Bob;Beta;red\n"
    '"tom@acme.com";"Tom";"Acme";"green, or ""teal"""\n'
)


def test_a_marketer_imports_a_csv_maps_its_columns_and_sees_the_summary(
    page, marketer, celery_eager, tmp_path
):
    # given a CSV exported from a webinar tool
    file = tmp_path / "webinar-w42.csv"
    file.write_text(CSV, encoding="utf-8")

    # when she uploads it in the admin
    log_in(page, "maya")
    page.goto("/admin/contacts/importjob/")
    page.click("text=Import a file")
    page.select_option("#id_kind", "contacts")
    page.set_input_files("#id_file", str(file))
    page.click("text=Upload and map the columns")

    # then she sees the columns with suggestions and the first rows
    expect(page.locator("#import-map")).to_contain_text("jane@acme.com")
    assert page.input_value("select[name=map-0]") == "email"
    assert page.input_value("select[name=map-2]") == "account_name"
    page.select_option("select[name=map-3]", "")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "admin-import-map.png", full_page=True)

    # when she starts the import
    page.click("text=Start the import")

    # then the summary says what happened, and the rejected row can be downloaded
    status = page.locator("#import-status")
    expect(status).to_have_attribute("data-status", "done", timeout=30_000)
    expect(page.locator("#import-counts")).to_contain_text("Created")
    expect(page.locator("#import-rejects")).to_be_visible()
    page.screenshot(path=ARTIFACTS / "admin-import-status.png", full_page=True)
    assert sorted(Contact.objects.values_list("email", flat=True)) == ["jane@acme.com", "tom@acme.com"]
    assert Contact.objects.get(email="tom@acme.com").attributes == {}
