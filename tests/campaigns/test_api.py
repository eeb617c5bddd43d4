import pytest

from campaigns.models import Campaign
from tests.factories import ContactFactory

URL = "/api/v1/campaigns/"
STEPS = [
    {"key": "tag", "type": "add_tag", "tags": ["nurtured"]},
    {"key": "pause", "type": "wait", "hours": 4},
    {"key": "score", "type": "adjust_score", "by": 5},
]


@pytest.fixture
def campaign(writer):
    body = writer.post(
        URL, {"name": "Nurture", "steps": STEPS, "triggers": [{"kind": "manual"}]}, format="json"
    )
    assert body.status_code == 201, body.json()
    return body.json()


def test_create_read_update_and_list(writer, campaign):
    assert (campaign["status"], campaign["version"], campaign["triggers"][0]["kind"]) == (
        "draft",
        None,
        "manual",
    )

    response = writer.patch(
        f"{URL}{campaign['id']}/", {"priority": 5, "description": "Warm them up"}, format="json"
    )

    assert response.status_code == 200
    assert (response.json()["priority"], response.json()["description"]) == (5, "Warm them up")
    assert [row["name"] for row in writer.get(URL).json()["results"]] == ["Nurture"]


def test_errors_say_where(writer):
    response = writer.post(
        URL,
        {
            "name": "Broken",
            "goal": {"field": "nope", "op": "eq", "value": 1},
            "steps": [{"key": "a", "type": "wait", "days": 1, "next": "b"}],
            "triggers": [{"kind": "touchpoint", "touchpoint_kinds": ["wbinar"]}],
        },
        format="json",
    )

    assert response.status_code == 400
    paths = {error["path"] for error in response.json()["errors"]}
    assert {"goal.field", "steps[0].next"} <= paths
    assert not Campaign.objects.exists()


def test_unknown_trigger_kind_is_reported_at_its_path(writer):
    body = {"name": "x", "steps": STEPS, "triggers": [{"kind": "touchpoint", "touchpoint_kinds": ["wbinar"]}]}

    response = writer.post(URL, body, format="json")

    assert response.json()["errors"] == [
        {"path": "triggers[0].touchpoint_kinds", "message": "unknown touchpoint kinds: wbinar"}
    ]


def test_publish_enroll_and_stats(writer, campaign, clock, django_capture_on_commit_callbacks, celery_eager):
    anne = ContactFactory(email="anne@example.org")
    bert = ContactFactory()
    assert (
        writer.post(f"{URL}{campaign['id']}/enroll/", {"contact_ids": [anne.pk]}, format="json").status_code
        == 400
    )

    assert writer.post(f"{URL}{campaign['id']}/publish/").json() == {
        "version": 1,
        "status": "active",
        "inside": {"version": 1, "inside": [], "movable": 0, "would_stay": 0},
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = writer.post(
            f"{URL}{campaign['id']}/enroll/",
            {"emails": ["Anne@Example.org", "ghost@example.org"], "contact_ids": [bert.pk]},
            format="json",
        )

    assert response.json() == {
        "enrolled": sorted([anne.pk, bert.pk]), "not_enrolled": [], "unknown_contacts": [],
        "unknown_emails": ["ghost@example.org"],
    }  # fmt: skip
    stats = writer.get(f"{URL}{campaign['id']}/stats/").json()
    assert stats["enrollments"]["waiting"] == 2
    assert [(row["key"], row["entered"], row["waiting"], row["completed"]) for row in stats["steps"]] == [
        ("tag", 2, 0, 2), ("pause", 2, 2, 0), ("score", 0, 0, 0),
    ]  # fmt: skip


def test_enroll_needs_someone(writer, campaign):
    response = writer.post(f"{URL}{campaign['id']}/enroll/", {}, format="json")

    assert response.json()["errors"] == [{"path": "", "message": "give contact_ids or emails"}]


def test_readers_cannot_write(reader, campaign):
    assert reader.get(URL).status_code == 200
    assert reader.post(f"{URL}{campaign['id']}/publish/").status_code == 403
