import re

from playwright.sync_api import expect

from campaigns.channels.services import email_template_create
from campaigns.models import Campaign, Enrollment
from ledger.context import Actor, acting_as
from tests.browser.conftest import ARTIFACTS, log_in
from tests.factories import ContactFactory

HOSTILE = '<script>alert("x")</script> & "quotes"'


def add_step(page, type_: str) -> None:
    page.select_option(".se-add-type", type_)
    page.click(".se-add-button")


def test_a_marketer_builds_a_campaign_with_the_step_forms_publishes_it_and_reads_the_graph(
    page, marketer, celery_eager
):
    # given a contact and an e-mail template whose name someone typed carelessly
    ContactFactory(email="lea@example.fr", first_name="Léa", country="FR")
    with acting_as(Actor.for_user(marketer)):
        email_template_create(name=f"Welcome {HOSTILE}", slug="welcome", subject="Welcome", html="<p>Hi</p>")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    # when she builds a journey with the step forms, never seeing JSON
    log_in(page, "maya")
    page.goto("/admin/campaigns/campaign/add/")
    expect(page.locator("#id_steps")).to_be_hidden()
    page.fill("#id_name", "Onboarding")
    page.fill("#id_entry_filter", "null")
    page.fill("#id_goal", '{"tag": "customer"}')

    add_step(page, "send_email")
    first = page.locator(".se-step").nth(0)
    template = first.get_by_label("E-mail template (step 1)")
    expect(template.locator("option", has_text="Welcome")).to_have_text(f"Welcome {HOSTILE}")
    template.select_option("welcome")
    first.get_by_label("Key of step 1").fill("welcome")
    first.get_by_label("Key of step 1").dispatch_event("change")
    first.get_by_label("Name of step 1").fill(HOSTILE)

    add_step(page, "branch")
    branch = page.locator(".se-step").nth(1)
    branch.get_by_label("Key of step 2").fill("french")
    branch.get_by_label("Key of step 2").dispatch_event("change")
    branch.locator(".rb-add-rule").click()
    branch.locator(".rb-node select[aria-label=value]").select_option("FR")

    add_step(page, "add_tag")
    tag = page.locator(".se-step").nth(2)
    tag.get_by_label("Key of step 3").fill("tag")
    tag.get_by_label("Key of step 3").dispatch_event("change")
    branch.get_by_label("If yes, go to (step 2)").select_option("tag")
    branch.get_by_label("If no, go to (step 2)").select_option("")

    # and saves it before naming the tag: the error shows at the step and the field at fault
    page.click("input[name=_continue]")
    tags_field = page.locator(".se-step").nth(2).locator("[data-field=tags]")
    expect(tags_field.locator(".se-error")).to_contain_text("expected a list of tag names")
    expect(page.locator(".se-step").nth(2)).to_have_class("se-step se-action se-invalid")
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator(".se").screenshot(path=ARTIFACTS / "admin-campaign-step-error.png")

    # and fixes it: the step forms came back with what she had built
    expect(page.get_by_label("Key of step 1")).to_have_value("welcome")
    page.get_by_label("Tags (step 3)").fill("onboarded")
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist .success")).to_have_count(1)
    campaign = Campaign.objects.get()
    assert campaign.steps == [
        {"key": "welcome", "type": "send_email", "template": "welcome", "label": HOSTILE},
        {"key": "french", "type": "branch", "yes": "tag", "no": "",
         "conditions": {"all": [{"field": "country", "op": "eq", "value": "FR"}]}},
        {"key": "tag", "type": "add_tag", "tags": ["onboarded"]},
    ]  # fmt: skip

    # and the JSON is there for those who want it
    page.click(".se-json-toggle")
    expect(page.locator("#id_steps")).to_be_visible()
    expect(page.locator("#id_steps")).to_have_value(re.compile('"onboarded"'))
    page.click(".se-json-toggle")
    expect(page.locator("#id_steps")).to_be_hidden()

    # when she publishes it from the list and enrolls a contact by e-mail
    page.goto("/admin/campaigns/campaign/")
    page.locator("tr", has_text="Onboarding").locator("input.action-select").check()
    page.select_option("select[name=action]", "publish")
    page.click("button[name=index]")
    expect(page.locator(".messagelist")).to_contain_text("version 1 published")
    page.locator("#result_list").get_by_role("link", name="Onboarding").click()
    page.fill("#id_enroll_emails", "lea@example.fr")
    page.click("input[name=_continue]")

    # then the contact is in, and the journey is drawn: the entry, a node per step, the exits
    expect(page.locator(".messagelist")).to_contain_text("1 enrolled")
    assert Enrollment.objects.get().contact.email == "lea@example.fr"
    graph = page.locator("svg.journey-graph")
    expect(graph.locator(".jg-step")).to_have_count(3)
    expect(graph.locator(".jg-entry")).to_have_count(1)
    expect(graph.locator(".jg-exit")).to_have_text(["yes", "no"])
    expect(graph.locator('.jg-step[data-step="tag"] .jg-count-entered')).to_have_text("1")
    expect(graph.locator('.jg-step[data-step="welcome"]')).to_contain_text("Welcome <script>")
    expect(page.locator(".journey-goal")).to_contain_text("0 of 1")
    assert graph.locator("script").count() == 0 and dialogs == []
    page.locator(".journey").scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / "admin-campaign.png", full_page=True)
    page.locator(".journey-canvas").screenshot(path=ARTIFACTS / "admin-campaign-graph.png")
    page.emulate_media(color_scheme="dark")
    page.screenshot(path=ARTIFACTS / "admin-campaign-dark.png", full_page=True)
