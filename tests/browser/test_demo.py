"""The demo as `make run` leaves it: seeded, then a real Celery worker with the default
e-mail back-end (the console) takes the last hour's sign-ups and registrations through the
two campaigns. Their pages show people inside and e-mails sent; the home page shows nothing
dated after now."""

import re
from datetime import datetime, timedelta
from email.header import decode_header, make_header

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from campaigns.models import Campaign, Enrollment
from messaging.models import OutboxMessage
from tests.browser.conftest import ARTIFACTS, log_in
from tests.worker import WorkerProcess

pytestmark = [pytest.mark.worker, pytest.mark.timeout(240)]

CAMPAIGNS = {
    # name: the step its people wait in, the subject of the e-mail they got
    "Welcome new sign-ups": ("settle", re.compile(r".+, welcome to Northwind")),
    "Webinar: Dashboards that people read": ("after", re.compile(r"You are in, .+: Thursday, 4 pm CET")),
}
SUBJECT = re.compile(r"^Subject: (.+(?:\r?\n[ \t].+)*)", re.MULTILINE)  # folded lines included
SHOWN_AT = re.compile(r"^(\d{1,2}) (\w{3}), (\d\d):(\d\d)$")  # the home page's "j M, H:i"


@pytest.fixture
def demo_worker(live_server, tmp_path, monkeypatch):
    """make run's worker: the settings' broker, and no EMAIL_URL (consolemail://)."""
    monkeypatch.delenv("EMAIL_URL", raising=False)
    worker = WorkerProcess(tmp_path / "worker.log")
    yield worker
    if worker.process is not None:
        worker.stop()


def _subjects(printed: str) -> list[str]:
    """The subjects of the e-mails the console back-end printed, decoded."""
    return [str(make_header(decode_header(value))) for value in SUBJECT.findall(printed)]


def _shown_at(text: str, now: datetime) -> datetime:
    """A date the home page shows without its year: the latest such moment not after
    a year past now."""
    day, month, hour, minute = SHOWN_AT.match(text.strip()).groups()
    shown = datetime.strptime(f"{now.year} {day} {month} {hour}:{minute}", "%Y %d %b %H:%M")
    shown = shown.replace(tzinfo=now.tzinfo)
    return shown.replace(year=now.year - 1) if shown > now + timedelta(days=180) else shown


def test_the_demo_campaigns_have_people_inside_who_got_their_e_mails(page, demo_worker):
    # given the demo as make run loads it, and its worker started after
    call_command("seed_demo", "--contacts", "80")
    demo_worker.start()

    # when the worker has taken the waiting sign-ups and registrations through the campaigns
    campaigns = {campaign.name: campaign for campaign in Campaign.objects.filter(name__in=CAMPAIGNS)}
    assert len(campaigns) == 2

    def delivered() -> bool:
        for campaign in campaigns.values():
            inside = Enrollment.objects.filter(campaign=campaign, status="waiting").count()
            sent = OutboxMessage.objects.filter(origin_id=campaign.pk, status="sent").count()
            if not inside or sent < inside:
                return False
        return True

    demo_worker.wait_for(delivered, timeout=120, what="the demo campaigns' e-mails")

    # then the console back-end printed each e-mail in the worker's output
    subjects = _subjects(demo_worker.output())
    for name, (_, subject) in CAMPAIGNS.items():
        inside = Enrollment.objects.filter(campaign=campaigns[name], status="waiting").count()
        assert len([line for line in subjects if subject.fullmatch(line)]) == inside, (name, subjects)
    assert not OutboxMessage.objects.exclude(status="sent").exists()

    # and each campaign's page shows the people waiting inside, and its e-mails sent
    log_in(page, "admin", "mops-demo")
    for name, (step, _) in CAMPAIGNS.items():
        campaign = campaigns[name]
        inside = Enrollment.objects.filter(campaign=campaign, status="waiting").count()
        page.goto(f"/admin/campaigns/campaign/{campaign.pk}/change/")
        placement = page.locator(".field-inside")
        expect(placement.locator("tr", has_text=step)).to_contain_text(str(inside))
        expect(page.locator(".field-journey")).to_contain_text(f"{inside} waiting")
        message = OutboxMessage.objects.filter(origin_id=campaign.pk).first()
        page.goto(
            f"/admin/messaging/outboxmessage/?origin={message.origin_type}:{campaign.pk}&status__exact=sent"
        )
        expect(page.locator("#result_list tbody tr")).to_have_count(inside)
        expect(page.locator("#result_list tbody")).to_contain_text(name)

    # and the home page shows nothing dated after now
    page.goto("/home/")
    now = timezone.localtime()
    manual = page.get_by_role("region", name="Latest actions done by hand").locator("tbody tr td:first-child")
    expect(manual.first).to_be_visible()
    touchpoints = page.get_by_role("region", name=re.compile(r"^Touchpoints, last")).locator(
        ".latest li .nowrap"
    )
    expect(touchpoints.first).to_be_visible()
    shown = [_shown_at(text, now) for text in manual.all_inner_texts() + touchpoints.all_inner_texts()]
    assert shown and max(shown) <= now, shown
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "demo-home.png", full_page=True)
