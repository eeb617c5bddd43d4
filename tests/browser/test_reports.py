"""The marketer's home and the automation report in a real browser: charts that hold
data, a period selector that changes the figures, a drill-down to the actions."""

from datetime import UTC, datetime

import pytest
import time_machine
from playwright.sync_api import expect

from ledger.context import Actor, acting_as
from reporting.services import rollups_roll
from tests.browser.conftest import ARTIFACTS, log_in
from tests.factories import ContactFactory, TouchpointFactory
from tests.reporting.helpers import record

NOW = datetime(2026, 6, 20, 12, 0, tzinfo=UTC)
ROBOT = Actor.for_integration(integration_id=9, name="Webinar tool")
CAMPAIGN = Actor.for_campaign(campaign_id=3, name="Spring webinar")


@pytest.fixture
def ledger(marketer):
    """June (to the 20th): 150 by software and 2 by hand; in May a week with 30 and 3 more by hand."""
    person = Actor.for_user(marketer)
    record(ROBOT, 100, category="data_capture", verb="touchpoint.captured", channel="events",
           occurred_at=datetime(2026, 6, 18, 9, tzinfo=UTC))  # fmt: skip
    record(CAMPAIGN, 50, category="email", verb="email.sent", channel="email",
           occurred_at=datetime(2026, 6, 19, 9, tzinfo=UTC))  # fmt: skip
    record(person, 2, category="import", verb="contact.imported", details={"file": "webinar-june.csv"},
           occurred_at=datetime(2026, 6, 19, 15, tzinfo=UTC))  # fmt: skip
    rollups_roll()  # some figures come from the rollups, the later ones live from the ledger
    record(ROBOT, 30, category="data_capture", verb="touchpoint.captured", channel="web",
           occurred_at=datetime(2026, 5, 10, 9, tzinfo=UTC))  # fmt: skip
    record(person, 3, category="routing", verb="lead.routed",
           occurred_at=datetime(2026, 5, 11, 9, tzinfo=UTC))  # fmt: skip
    contact = ContactFactory(email="lea@example.com")
    for day in (15, 17, 19):
        at = datetime(2026, 6, day, 10, tzinfo=UTC)
        TouchpointFactory(contact=contact, kind_id="page_view", occurred_at=at)


@pytest.fixture
def at_now():
    with time_machine.travel(NOW, tick=True):
        yield


def chart_values(page, canvas_id: str, dataset: int = 0) -> list:
    return page.evaluate(f"Chart.getChart('{canvas_id}').data.datasets[{dataset}].data")


def painted_pixels(page, canvas_id: str) -> int:
    """How many pixels of the canvas are painted: an empty chart paints only its axes."""
    return page.evaluate(
        """(id) => {
            const canvas = document.getElementById(id);
            const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            let painted = 0;
            for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
            return painted;
        }""",
        canvas_id,
    )


def test_the_home_page_shows_the_ratio_its_trend_touchpoints_and_manual_work(page, ledger, at_now):
    # when the marketer logs in and follows the link from the admin to her home page
    log_in(page, "maya")
    page.click("#back-office-pages >> text=Home")

    # then the ratio of the last 30 days (21 May to 20 June) is there with its verdict
    expect(page.get_by_test_id("ratio").first).to_have_text("75 : 1")
    expect(page.locator(".verdict")).to_contain_text("below 99 : 1")
    # the trend chart holds one point per day, those with actions among them
    page.wait_for_function("window.Chart && Chart.getChart('home-trend')")
    shares = chart_values(page, "home-trend")
    assert len(shares) == 30
    assert [share for share in shares if share is not None] == [100.0, 96.15]
    assert painted_pixels(page, "home-trend") > 2000
    # the touchpoints of the last 14 days, and the latest manual actions
    assert sum(chart_values(page, "home-touchpoints")) == 3
    assert painted_pixels(page, "home-touchpoints") > 2000
    manual_rows = page.locator("section:has(#home-manual-title) tbody tr")
    expect(manual_rows).to_have_count(5)
    expect(manual_rows.first).to_contain_text("contact.imported")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "reports-home.png", full_page=True)


def test_the_period_selector_changes_the_figures(page, ledger, at_now):
    # given the report of June
    log_in(page, "maya")
    page.goto("/reports/automation/?start=2026-06-01&end=2026-06-20")
    expect(page.get_by_test_id("ratio")).to_have_text("75 : 1")
    expect(page.get_by_test_id("manual")).to_have_text("2")
    page.wait_for_function("window.Chart && Chart.getChart('category-chart')")
    assert painted_pixels(page, "trend-share") > 2000
    assert painted_pixels(page, "category-chart") > 2000
    assert sum(chart_values(page, "trend-manual")) == 2
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "reports-automation.png", full_page=True)

    # when she chooses May to June, per week
    page.fill("#id_start", "2026-05-01")
    page.select_option("#id_unit", "week")
    page.click("button:has-text('Show')")

    # then the figures are those of the longer period
    expect(page.get_by_test_id("ratio")).to_have_text("36 : 1")
    expect(page.get_by_test_id("manual")).to_have_text("5")
    expect(page.get_by_test_id("algorithmic")).to_have_text("180")
    page.wait_for_function("window.Chart && Chart.getChart('trend-manual')")
    manual_per_week = chart_values(page, "trend-manual")
    assert sum(manual_per_week) == 5
    assert len(manual_per_week) == 8  # the weeks from 27 April to 15 June
    categories = page.evaluate("Chart.getChart('category-chart').data.labels")
    assert categories[:2] == ["Routing", "Import"]  # most manual work first


def test_a_category_of_the_chart_drills_down_to_its_actions(page, ledger, at_now):
    # given the report of June
    log_in(page, "maya")
    page.goto("/reports/automation/?start=2026-06-01&end=2026-06-20")
    page.wait_for_function("window.Chart && Chart.getChart('category-chart')")

    # when she clicks the hatched (manual) part of the Import bar
    labels = page.evaluate("Chart.getChart('category-chart').data.labels")
    point = page.evaluate(
        "(index) => { const bar = Chart.getChart('category-chart').getDatasetMeta(1).data[index];"
        " return {x: bar.x - 10, y: bar.y}; }",
        labels.index("Import"),
    )
    page.locator("#category-chart").click(position=point)

    # then the actions of that category in that period are listed
    page.wait_for_url("**/reports/automation/actions/?**")
    rows = page.locator(".actions-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("contact.imported")
    expect(rows.first).to_contain_text("webinar-june.csv")
    expect(page.locator("h1")).to_contain_text("Import")

    # and from the table, the manual routing work of May
    page.goto("/reports/automation/?start=2026-05-01&end=2026-05-31")
    page.click("table.report-table >> text=Routing")
    expect(page.locator(".actions-table tbody tr")).to_have_count(3)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "reports-actions.png", full_page=True)


def test_from_the_admin_a_contact_opens_in_its_360_view(page, marketer, at_now):
    from contacts.services import contact_create, contact_update

    # given a contact captured by software and given an owner by hand
    with acting_as(ROBOT):
        contact = contact_create(email="lea@example.com", first_name="Léa", last_name="Martin", tags=["vip"])
    at = datetime(2026, 6, 19, 9, tzinfo=UTC)
    TouchpointFactory(contact=contact, kind_id="webinar_registration", channel="events", occurred_at=at)
    with acting_as(Actor.for_user(marketer)):
        contact_update(contact=contact, data={"owner": marketer})

    # when the marketer opens the contact in the admin and follows the 360° link
    log_in(page, "maya")
    page.goto(f"/admin/contacts/contact/{contact.pk}/change/")
    page.click("text=360° view")

    # then its whole history is on one page
    expect(page.locator("h1")).to_contain_text("Léa Martin")
    entries = page.locator(".timeline-360 .entry")
    expect(entries).to_have_count(4)  # created, tagged, owner assigned, the registration
    expect(entries.first).to_contain_text("Routing: contact.updated")
    expect(entries.first).to_contain_text("by hand")
    expect(page.get_by_test_id("contact-ratio")).to_have_text("2 : 1")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "reports-contact.png", full_page=True)


def test_the_contact_page_draws_its_score_and_intents_over_time_and_its_campaigns(page, marketer, at_now):
    from datetime import timedelta

    from campaigns.services import campaign_create, campaign_enroll, campaign_publish
    from contacts.services import contact_update
    from intents.models import BehaviourRule, Intent
    from intents.services import touchpoints_recognise

    compare, support = Intent.objects.get(key="compare"), Intent.objects.get(key="support")
    for intent, path in ((compare, "/pricing"), (support, "/help")):
        BehaviourRule.objects.create(
            name=f"{path} pages", intent=intent, kind_id="page_view", confidence=0.6,
            conditions=[{"property": "path", "operator": "starts_with", "value": path}],
        )  # fmt: skip
    with time_machine.travel(NOW - timedelta(days=30), tick=False):
        contact = ContactFactory(email="noor@example.com", first_name="Noor", last_name="Haddad", score=0)
    with acting_as(ROBOT):
        for days_ago, path, score in ((20, "/pricing", 15), (12, "/help/sso", 25), (6, "/pricing/teams", 60)):
            with time_machine.travel(NOW - timedelta(days=days_ago), tick=False):
                visit = TouchpointFactory(contact=contact, kind_id="page_view", properties={"path": path})
                touchpoints_recognise(touchpoint_ids=[visit.pk])
                contact_update(contact=contact, data={"score": score})
        campaign = campaign_create(
            name="Pricing follow-up",
            steps=[{"key": "pause", "type": "wait", "days": 2, "label": "Two days to think"},
                   {"key": "done", "type": "exit"}],
        )  # fmt: skip
        campaign_publish(campaign=campaign)
        campaign_enroll(campaign=campaign, contact_ids=[contact.pk])

    log_in(page, "maya")
    page.goto(f"/contacts/{contact.pk}/")

    scores = chart_values(page, "score-history-chart")
    assert [point["y"] for point in scores] == [0, 15, 25, 60, 60]
    intents = page.evaluate("Chart.getChart('intent-history-chart').data.datasets.map(d => d.label)")
    assert sorted(intents) == ["Compare", "Support"]
    assert painted_pixels(page, "intent-history-chart") > 2000
    enrollments = page.locator("#contact-enrollments tbody tr")
    expect(enrollments).to_have_count(1)
    expect(enrollments.first).to_contain_text("Pricing follow-up")
    expect(enrollments.first).to_contain_text("Two days to think")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "reports-contact-history.png", full_page=True)
