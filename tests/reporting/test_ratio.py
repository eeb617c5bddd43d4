"""The ratio against hand-counted fixtures, Brinker's webinar among them."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.management import call_command

from contacts.models import Contact
from contacts.services import contact_update
from ledger.context import Actor, acting_as
from ledger.services import action_record
from reporting.periods import Period
from reporting.ratio import Tally
from reporting.selectors import action_breakdown, automation_ratio
from reporting.services import rollups_roll
from reporting.suggestions import automate_next
from tests.factories import AccountFactory

WEBINAR_DAY = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
JUNE = Period(start=date(2026, 6, 1), end=date(2026, 6, 30))


@pytest.mark.parametrize(
    ("algorithmic", "manual", "label", "passes"),
    [
        (312, 1, "312 : 1", True),
        (3120, 10, "312 : 1", True),
        (99, 1, "99 : 1", True),
        (9899, 100, "98 : 1", False),  # 98.99 : 1 is shown rounded down, and fails
        (12_345, 10, "1,234 : 1", True),
        (10, 3, "3.3 : 1", False),
        (1, 3, "0.3 : 1", False),
        (0, 4, "0 : 1", False),
        (250, 0, "no manual actions", True),
        (0, 0, "no actions", None),
    ],
)
def test_the_ratio_is_written_the_way_brinker_writes_it(algorithmic, manual, label, passes):
    tally = Tally(algorithmic=algorithmic, manual=manual)
    assert (tally.label, tally.passes) == (label, passes)


@pytest.fixture
def webinar(marketer, tmp_path):
    """Brinker's webinar, acted out through the product's own doors."""
    from tests.conftest import _client_with

    with time_machine.travel(WEBINAR_DAY, tick=False):
        # Registrations arrive through the API from the webinar tool: algorithmic.
        webinar_tool = _client_with(["read", "write"], name="Webinar tool")
        response = webinar_tool.post(
            "/api/v1/touchpoints/",
            [
                {"email": f"reg{i}@example.com", "kind": "webinar_registration", "channel": "events"}
                for i in range(3)
            ],
            format="json",
        )
        assert response.status_code == 201, response.content
        registered = list(Contact.objects.order_by("email"))
        # Someone exported the other registrations to a CSV file and imports it: manual.
        csv_file = tmp_path / "webinar-2026-06.csv"
        csv_file.write_text("email,first_name\nlate1@example.com,Ana\nlate2@example.com,Ben\n")
        call_command("import_contacts", str(csv_file), "--as", marketer.username)
        # The campaign sends the confirmation and a reminder: algorithmic.
        with acting_as(Actor.for_campaign(campaign_id=1, name="Spring webinar")):
            for contact in registered:
                for _confirmation_then_reminder in range(2):
                    action_record(category="email", verb="email.sent", contact_id=contact.pk, channel="email")
        # The system enriches and scores: algorithmic.
        account = AccountFactory(name="Example Inc", domain="example.com")
        with acting_as(Actor.for_task("contacts.enrich")):
            for contact in registered:
                contact_update(contact=contact, data={"account": account})
        with acting_as(Actor.for_rule(rule_id=1, name="Lead scoring")):
            for contact in Contact.objects.all():
                contact_update(contact=contact, data={"score": 40})
        # A marketer sends two e-mails by hand and assigns two owners by hand: manual.
        with acting_as(Actor.for_user(marketer)):
            for contact in registered[:2]:
                action_record(category="email", verb="email.sent", contact_id=contact.pk, channel="email")
                contact_update(contact=contact, data={"owner": marketer})


def test_brinkers_webinar_counts_by_hand(webinar):
    # Hand count, one unit per effect: algorithmic: 3 registrations by the API (the contacts
    # they made are not counted again), 6 campaign e-mails, 3 enrichments, 5 scores = 17.
    # Manual: 2 contacts imported, 2 e-mails sent by hand, 2 owners assigned by hand = 6.
    report = automation_ratio(period=JUNE, group_by="category")

    assert (report.totals.algorithmic, report.totals.manual) == (17, 6)
    assert report.totals.label == "2.8 : 1"
    assert report.totals.passes is False
    by_category = {group.key: (group.tally.algorithmic, group.tally.manual) for group in report.groups}
    assert by_category == {
        "data_capture": (3, 0),
        "email": (6, 2),
        "enrichment": (3, 0),
        "scoring": (5, 0),
        "import": (0, 2),
        "routing": (0, 2),
    }


def test_the_webinar_breaks_down_by_integration_person_campaign_and_channel(webinar):
    def counts(by):
        groups = action_breakdown(period=JUNE, by=by)
        return {group.label: (group.tally.algorithmic, group.tally.manual) for group in groups}

    assert counts("integration") == {"Webinar tool": (3, 0)}
    assert counts("person") == {"maya": (0, 6)}
    assert counts("campaign") == {"Spring webinar": (6, 0)}
    assert counts("channel") == {"Events and webinars": (3, 0), "E-mail": (6, 2), "no channel: data": (8, 4)}


def test_rolling_up_changes_no_figure(webinar):
    before = automation_ratio(period=JUNE, group_by="day")
    rollups_roll()
    after = automation_ratio(period=JUNE, group_by="day")
    assert after == before
    assert after.totals == Tally(17, 6)
    assert [group.tally for group in after.groups if group.tally.total] == [Tally(17, 6)]
    assert len(after.groups) == 30


def test_the_previous_period_is_compared(webinar):
    july = Period(start=date(2026, 7, 1), end=date(2026, 7, 30))
    report = automation_ratio(period=july)
    assert report.previous_period == Period(start=date(2026, 6, 1), end=date(2026, 6, 30))
    assert (report.totals.label, report.previous.label) == ("no actions", "2.8 : 1")


def test_what_to_automate_next_names_the_webinar_files_and_the_routing(webinar):
    suggestions = {item.category: item for item in automate_next(period=JUNE)}

    assert set(suggestions) == {"import", "email", "routing"}
    imported = suggestions["import"]
    assert imported.what == "2 contacts imported by hand, from files named webinar-*.csv"
    assert imported.advice == "connect the webinar tool to the API, so its records arrive by themselves"
    assert (imported.manual_share, imported.after.label) == (33.3, "4.7 : 1")
    assert suggestions["routing"].what == "2 owners assigned by hand"
    assert "routing rule" in suggestions["routing"].advice
    assert suggestions["email"].what == "2 e-mails sent by hand by maya"
