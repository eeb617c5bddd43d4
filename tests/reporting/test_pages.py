import csv
import io
from datetime import UTC, datetime

import pytest
from django.test import Client

from ledger.context import Actor
from tests.factories import UserFactory
from tests.reporting.helpers import record

REPORT = "/reports/automation/"
JUNE = {"start": "2026-06-01", "end": "2026-06-30"}


@pytest.fixture
def client_of(db):
    def make(user):
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def ledger(db):
    robot = Actor.for_integration(integration_id=4, name="Form service")
    person = Actor(kind="manual", type="user", name="maya", id=8)
    record(robot, 40, category="data_capture", verb="contact.created", channel="web",
           occurred_at=datetime(2026, 6, 2, 8, tzinfo=UTC))  # fmt: skip
    record(person, 4, category="tagging", verb="tag.added", details={"tag": "vip"},
           occurred_at=datetime(2026, 6, 3, 8, tzinfo=UTC))  # fmt: skip


def rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.parametrize("url", ["/home/", REPORT, "/reports/automation/actions/", "/reports/how-we-count/"])
def test_pages_need_a_sign_in(db, url):
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_a_user_without_a_role_is_refused(client_of):
    assert client_of(UserFactory(username="nobody")).get(REPORT).status_code == 403


def test_the_root_leads_to_the_home_page(client_of, viewer):
    assert client_of(viewer).get("/")["Location"] == "/home/"


@pytest.mark.parametrize("url", ["/home/", REPORT, "/reports/automation/actions/", "/reports/how-we-count/"])
def test_every_role_reads_the_pages(client_of, viewer, ledger, url):
    assert client_of(viewer).get(url).status_code == 200


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("category", [("tagging", "0", "4"), ("data_capture", "40", "0")]),
        ("channel", [("none:data", "0", "4"), ("web", "40", "0")]),
        ("integration", [("integration:4", "40", "0")]),
        ("person", [("user:8", "0", "4")]),
    ],
)
def test_every_table_exports_as_csv(client_of, viewer, ledger, table, expected):
    response = client_of(viewer).get(REPORT, {**JUNE, "export": table})
    assert response["Content-Type"].startswith("text/csv")
    assert [(row[table], row["algorithmic"], row["manual"]) for row in rows(response)] == expected


def test_the_trend_and_the_suggestions_export_as_csv(client_of, viewer, ledger):
    client = client_of(viewer)
    trend = rows(client.get(REPORT, {**JUNE, "unit": "week", "export": "trend"}))
    assert [(row["week"], row["algorithmic"], row["manual"]) for row in trend if row["total"] != "0"] == [
        ("2026-06-01", "40", "4")
    ]
    suggestions = rows(client.get(REPORT, {**JUNE, "export": "automate-next"}))
    assert [(row["what"], row["ratio_after"]) for row in suggestions] == [
        ("4 tags changed by hand, most often “vip” (4)", "no manual actions")
    ]


def test_the_actions_behind_a_figure_export_as_csv(client_of, viewer, ledger):
    params = {**JUNE, "category": "tagging", "actor_kind": "manual", "export": "csv"}
    response = client_of(viewer).get("/reports/automation/actions/", params)
    exported = rows(response)
    assert len(exported) == 4
    assert {(row["verb"], row["actor_name"], row["details"]) for row in exported} == {
        ("tag.added", "maya", '{"tag": "vip"}')
    }


def test_a_bad_period_says_what_is_wrong_and_shows_the_last_30_days(client_of, viewer):
    response = client_of(viewer).get(REPORT, {"start": "2026-06-30", "end": "2026-06-01"})
    assert response.status_code == 200
    assert "the end (2026-06-01) is before the start (2026-06-30)" in response.content.decode()


def test_an_unknown_table_is_not_found(client_of, viewer):
    assert client_of(viewer).get(REPORT, {"export": "secrets"}).status_code == 404


def test_the_admin_index_links_to_the_pages(client_of, viewer):
    page = client_of(viewer).get("/admin/").content.decode()
    assert 'href="/home/"' in page
    assert 'href="/reports/automation/"' in page


def test_the_contact_page_shows_touchpoints_and_actions_newest_first(client_of, viewer, as_robot):
    from contacts.services import contact_create, contact_update
    from ledger.context import acting_as
    from tests.factories import TouchpointFactory

    # given a contact created by software, a touchpoint, and a score changed by hand
    contact = contact_create(email="lea@example.com", first_name="Léa")
    TouchpointFactory(contact=contact, kind_id="webinar_registration", channel="events",
                      occurred_at=datetime(2000, 6, 2, tzinfo=UTC))  # fmt: skip
    with acting_as(Actor.for_user(viewer)):
        contact_update(contact=contact, data={"score": 70})

    # when a viewer opens the contact's page
    page = client_of(viewer).get(f"/contacts/{contact.pk}/").content.decode()

    # then the history is there, newest first, and who did what
    assert page.index("Scoring: contact.updated") < page.index("Data capture: contact.created")
    assert page.index("Data capture: contact.created") < page.index("Webinar registration")
    assert "1 : 1" in page
    assert "by hand" in page


def test_the_admin_contact_page_links_to_the_contact_page(client_of, admin_user):
    from tests.factories import ContactFactory

    contact = ContactFactory()
    page = client_of(admin_user).get(f"/admin/contacts/contact/{contact.pk}/change/").content.decode()
    assert f'href="/contacts/{contact.pk}/"' in page
