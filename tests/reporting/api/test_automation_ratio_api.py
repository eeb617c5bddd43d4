import csv
import io
from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

from ledger.context import Actor
from tests.conftest import _client_with
from tests.reporting.helpers import record

URL = "/api/v1/reports/automation-ratio/"
ROBOT = Actor.for_integration(integration_id=5, name="Webinar tool")
PERSON = Actor(kind="manual", type="user", name="maya", id=1)


@pytest.fixture
def ledger(db):
    """June: 300 algorithmic and 2 manual actions; May: 10 and 1."""
    record(ROBOT, 200, category="data_capture", verb="touchpoint.captured", channel="events",
           occurred_at=datetime(2026, 6, 3, 10, tzinfo=UTC))  # fmt: skip
    record(ROBOT, 100, category="email", verb="email.sent", channel="email",
           occurred_at=datetime(2026, 6, 20, 10, tzinfo=UTC))  # fmt: skip
    record(PERSON, 2, category="import", verb="contact.imported", details={"file": "webinar-1.csv"},
           occurred_at=datetime(2026, 6, 20, 11, tzinfo=UTC))  # fmt: skip
    record(ROBOT, 10, category="email", verb="email.sent", channel="email",
           occurred_at=datetime(2026, 5, 20, 10, tzinfo=UTC))  # fmt: skip
    record(PERSON, 1, category="email", verb="email.sent", channel="email",
           occurred_at=datetime(2026, 5, 21, tzinfo=UTC))  # fmt: skip


@pytest.fixture
def reader(db):
    return _client_with(["read"], name="BI dashboard")


def test_the_ratio_of_a_period_with_its_previous_period(reader, ledger):
    response = reader.get(URL, {"start": "2026-06-01", "end": "2026-06-30", "group_by": "week"})

    assert response.status_code == 200
    body = response.json()
    figures = (body["algorithmic"], body["manual"], body["ratio_label"], body["passes_99_to_1"])
    assert figures == (300, 2, "150 : 1", True)
    assert body["ratio"] == 150.0
    previous = body["previous"]
    assert (previous["start"], previous["end"]) == ("2026-05-02", "2026-05-31")
    assert previous["ratio_label"] == "10 : 1"
    assert previous["passes_99_to_1"] is False
    weeks = {group["key"]: (group["algorithmic"], group["manual"]) for group in body["groups"]}
    assert weeks == {
        "2026-06-01": (200, 0),
        "2026-06-08": (0, 0),
        "2026-06-15": (100, 2),
        "2026-06-22": (0, 0),
        "2026-06-29": (0, 0),
    }


@pytest.mark.parametrize(
    ("group_by", "expected"),
    [
        ("category", {"import": (0, 2), "data_capture": (200, 0), "email": (100, 0)}),
        ("channel", {"none:data": (0, 2), "events": (200, 0), "email": (100, 0)}),
        ("actor", {"user:1": (0, 2), "integration:5": (300, 0)}),
        ("month", {"2026-06-01": (300, 2)}),
    ],
)
def test_the_groups_of_a_period(reader, ledger, group_by, expected):
    response = reader.get(URL, {"start": "2026-06-01", "end": "2026-06-30", "group_by": group_by})
    groups = response.json()["groups"]
    assert {group["key"]: (group["algorithmic"], group["manual"]) for group in groups} == expected
    assert groups[0]["manual"] == max(group["manual"] for group in groups)  # the manual work first


def test_a_period_without_actions_says_so(reader, db):
    body = reader.get(URL, {"start": "2020-01-01", "end": "2020-01-02"}).json()
    figures = (body["total"], body["ratio"], body["ratio_label"], body["passes_99_to_1"])
    assert figures == (0, None, "no actions", None)
    assert [group["ratio_label"] for group in body["groups"]] == ["no actions", "no actions"]


def test_the_groups_as_csv(reader, ledger):
    params = {"start": "2026-06-01", "end": "2026-06-30", "group_by": "category", "format": "csv"}
    response = reader.get(URL, params)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(row["category"], row["algorithmic"], row["manual"], row["ratio_label"]) for row in rows] == [
        ("import", "0", "2", "0 : 1"),
        ("data_capture", "200", "0", "no manual actions"),
        ("email", "100", "0", "no manual actions"),
    ]


@pytest.mark.parametrize(
    ("params", "path", "message"),
    [
        ({"start": "2026-02-30"}, "start", "Date has wrong format"),
        ({"start": "2026-06-02", "end": "2026-06-01"}, "end", "the end (2026-06-01) is before the start"),
        ({"group_by": "weekday"}, "group_by", "'weekday' is not a way to group; one of day, week, month"),
        ({"grup_by": "day"}, "grup_by", "unknown field"),
        ({"start": "1990-01-01", "end": "2026-01-01"}, "start", "a period is at most 3660 days"),
    ],
)
def test_bad_parameters_are_400s_that_say_where(reader, db, params, path, message):
    response = reader.get(URL, params)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [error["path"] for error in errors] == [path]
    assert message in errors[0]["message"]


def test_reading_needs_an_account_or_a_key(db):
    assert APIClient().get(URL).status_code in (401, 403)


def test_a_signed_in_viewer_reads_reports(viewer, ledger):
    client = APIClient()
    client.force_login(viewer)
    assert client.get(URL, {"start": "2026-06-01", "end": "2026-06-30"}).json()["ratio_label"] == "150 : 1"


def test_a_person_without_the_view_permission_reads_nothing(db):
    from tests.factories import UserFactory

    client = APIClient()
    client.force_login(UserFactory(username="nobody"))
    assert client.get(URL).status_code == 403


def test_what_to_automate_next_by_api(reader, ledger):
    response = reader.get("/api/v1/reports/automate-next/", {"start": "2026-06-01", "end": "2026-06-30"})
    assert response.json() == [
        {
            "category": "import",
            "verb": "contact.imported",
            "source": "files:webinar-*.csv",
            "manual_actions": 2,
            "what": "2 contacts imported by hand, from files named webinar-*.csv",
            "suggestion": "connect the webinar tool to the API, so its records arrive by themselves",
            "manual_share_percent": 100.0,
            "ratio_now": "150 : 1",
            "ratio_after": "no manual actions",
        }
    ]
    csv_response = reader.get(
        "/api/v1/reports/automate-next/", {"start": "2026-06-01", "end": "2026-06-30", "format": "csv"}
    )
    lines = b"".join(csv_response.streaming_content).decode().splitlines()
    assert lines[1].startswith("import,contact.imported,files:webinar-*.csv,2,")


def test_the_schema_describes_the_report(db):
    schema = APIClient().get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/reports/automation-ratio/"]["get"]
    assert {parameter["name"] for parameter in operation["parameters"]} >= {"start", "end", "group_by"}
