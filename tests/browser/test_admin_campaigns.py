import json
import re

from playwright.sync_api import expect

from campaigns.models import Campaign, Enrollment
from ledger.context import Actor, acting_as
from messaging.services import email_template_create
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
    goal = page.locator("#cf-goal")
    goal.get_by_label("Contacts matching these conditions have reached the goal and leave").check()
    goal.locator(".rb-add-rule").click()
    goal.locator("select[aria-label='what the rule looks at']").select_option("tag")
    goal.get_by_label("tag", exact=True).fill("customer")

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
    assert (campaign.entry_filter, campaign.goal) == (None, {"all": [{"tag": "customer"}]})
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
    expect(page.locator(".journey-goal")).to_contain_text("0 of the 1 who entered")
    assert graph.locator("script").count() == 0 and dialogs == []
    page.locator(".journey").scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / "admin-campaign.png", full_page=True)
    page.locator(".journey-canvas").screenshot(path=ARTIFACTS / "admin-campaign-graph.png")
    page.emulate_media(color_scheme="dark")
    page.screenshot(path=ARTIFACTS / "admin-campaign-dark.png", full_page=True)


def every_step_type(*, marketer) -> list[dict]:
    from routing.models import Team
    from segments import services as segment_services

    with acting_as(Actor.for_user(marketer)):
        email_template_create(name="Reminder", slug="reminder", subject="Tomorrow", html="<p>See you</p>")
        segment_services.segment_create(name="VIP", slug="vip", kind="static")
        other = Campaign.objects.create(name="Nurture")
    Team.objects.create(name="Sales", slug="sales")
    return [
        {"key": "confirm", "type": "send_email", "template": "reminder", "label": "Confirmation"},
        {"key": "day-before", "type": "wait_until_date", "date": "touchpoint.occurred_at", "days": -1,
         "time": "09:00"},
        {"key": "morning", "type": "wait_until_time", "time": "08:30", "weekdays": [0, 1, 2, 3, 4]},
        {"key": "came", "type": "wait_for_event", "kinds": ["email_click"], "days": 2, "hours": 6,
         "properties": {"campaign": "webinar"}, "yes": "hot", "no": "replay"},
        {"key": "replay", "type": "send_email", "subject": "The replay",
         "body": "Hi {{ contact.first_name }}"},
        {"key": "nudge", "type": "wait_for_event", "kinds": ["email_click"], "days": 3, "yes": "hot",
         "no": "replay"},
        {"key": "hot", "type": "branch", "yes": "split", "no": "sms",
         "conditions": {"any": [{"field": "score", "op": "gte", "value": 50}, {"tag": "vip"}]}},
        {"key": "sms", "type": "send_sms", "body": "Still interested?", "next": "pause"},
        {"key": "split", "type": "random_split", "paths": [{"percent": 60, "next": "route"},
                                                            {"percent": 40, "next": "hook"}]},
        {"key": "route", "type": "assign_owner", "team": "sales"},
        {"key": "call", "type": "create_task", "title": "Call them", "assignee": "owner", "due_hours": 4,
         "next": "pause"},
        {"key": "hook", "type": "webhook", "url": "https://crm.example.com/hooks", "body": {"list": "hot"}},
        {"key": "pause", "type": "wait", "hours": 12},
        {"key": "tag", "type": "add_tag", "tags": ["webinar", "engaged"]},
        {"key": "untag", "type": "remove_tag", "tags": ["cold"]},
        {"key": "city", "type": "set_field", "field": "city", "value": "Lyon"},
        {"key": "score", "type": "adjust_score", "by": -5},
        {"key": "stage", "type": "set_lifecycle_stage", "stage": "mql"},
        {"key": "in-vip", "type": "add_to_list", "list": "vip"},
        {"key": "out-vip", "type": "remove_from_list", "list": "vip"},
        {"key": "nurture", "type": "enroll_campaign", "campaign": other.pk},
        {"key": "bye", "type": "exit"},
    ]  # fmt: skip


def test_every_step_type_reads_in_its_form_and_saves_back_unchanged(page, marketer):
    # given a long journey with every type of step and a loop back
    steps = every_step_type(marketer=marketer)
    with acting_as(Actor.for_user(marketer)):
        from campaigns import services

        campaign = services.campaign_create(name="Webinar", steps=steps)
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("dialog", lambda dialog: (problems.append(dialog.message), dialog.dismiss()))

    # when she opens it
    log_in(page, "maya")
    page.goto(f"/admin/campaigns/campaign/{campaign.pk}/change/")

    # then every step has its form, filled in, and the graph a node per step
    expect(page.locator(".se-step")).to_have_count(len(steps))
    expect(page.get_by_label("Type of step 13")).to_have_value("wait")
    expect(page.get_by_label("hours (step 13)")).to_have_value("12")
    expect(page.get_by_label("Percent of path 2 (step 9)")).to_have_value("40")
    expect(page.get_by_label("If the time runs out, go to (step 6)")).to_have_value("replay")
    expect(page.get_by_label("Team (step 10)")).to_have_value("sales")
    expect(page.locator(".se-step").nth(3).locator(".se-kind input[value=email_click]")).to_be_checked()
    expect(page.locator("svg.journey-graph .jg-step")).to_have_count(len(steps))
    expect(page.locator("svg.journey-graph .jg-back")).to_have_count(1)  # nudge times out back to replay
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator(".journey-canvas").screenshot(path=ARTIFACTS / "admin-campaign-long-graph.png")
    page.locator(".se").screenshot(path=ARTIFACTS / "admin-campaign-every-step.png")

    # and saving without a change keeps the steps as they were, every field and exit
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist .success")).to_have_count(1)
    campaign.refresh_from_db()
    assert campaign.steps == steps
    assert problems == []

    # when she renames a step to something hostile, the exits that named it follow, as text
    page.get_by_label("Key of step 13").fill('"><img src=x onerror=alert(1)>')
    page.get_by_label("Key of step 13").dispatch_event("change")
    expect(page.get_by_label("Then go to (step 8)")).to_have_value('"><img src=x onerror=alert(1)>')
    assert page.locator(".se img").count() == 0 and problems == []


def test_a_mistake_in_a_branch_written_as_json_shows_at_the_rule_at_fault(page, marketer):
    # given a campaign with a branch
    with acting_as(Actor.for_user(marketer)):
        from campaigns import services

        campaign = services.campaign_create(name="Nurture", steps=[
            {"key": "engaged", "type": "branch", "yes": "", "no": "",
             "conditions": {"all": [{"field": "country", "op": "eq", "value": "FR"}]}},
        ])  # fmt: skip
    log_in(page, "maya")
    page.goto(f"/admin/campaigns/campaign/{campaign.pk}/change/")

    # when she writes a window the language does not know in the JSON, back in the forms, and saves
    page.click(".se-json-toggle")
    page.fill("#id_steps", json.dumps([{
        "key": "engaged", "type": "branch", "yes": "", "no": "",
        "conditions": {"all": [{"field": "country", "op": "eq", "value": "FR"},
                               {"touchpoint": {"kind": "email_click"}, "within": "3x"}]},
    }]))  # fmt: skip
    page.click(".se-json-toggle")
    expect(page.locator(".se-step .rb-node")).to_have_count(2)
    page.click("input[name=_continue]")

    # then the error is in the rule builder, on the second rule, and the JSON kept what she wrote
    second = page.locator(".se-step .rb-node").nth(1)
    expect(second.locator(".rb-error")).to_contain_text("expected a duration like '30d'")
    expect(page.locator(".se-step .rb-node").nth(0).locator(".rb-error")).to_have_count(0)
    expect(page.locator("#id_steps")).to_have_value(re.compile('"within": "3x"'))
    campaign.refresh_from_db()
    assert "within" not in json.dumps(campaign.steps)
