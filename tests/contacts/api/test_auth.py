import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from contacts.models import Contact
from ledger.models import Action, ApiKey
from tests.factories import ContactFactory


def test_without_credentials_the_api_answers_401_in_the_error_format(db):
    response = APIClient().get("/api/v1/contacts/")

    assert response.status_code in (401, 403)
    assert response.json()["errors"][0]["message"]


def test_an_unknown_key_is_refused(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer mops_not-a-real-key")

    response = client.get("/api/v1/contacts/")

    assert response.status_code == 401
    assert response.json() == {"errors": [{"path": "", "message": "unknown or revoked API key"}]}


def test_a_revoked_key_is_refused(revoked):
    assert revoked.get("/api/v1/contacts/").status_code == 401


def test_a_read_key_reads_but_cannot_write(reader):
    ContactFactory(email="a@example.com")

    assert reader.get("/api/v1/contacts/").status_code == 200
    response = reader.post("/api/v1/contacts/", {"email": "b@example.com"}, format="json")

    assert response.status_code == 403
    assert not Contact.objects.filter(email="b@example.com").exists()


def test_what_an_integration_does_is_algorithmic_and_named_after_it(writer):
    response = writer.post("/api/v1/contacts/", {"email": "new@example.com"}, format="json")

    assert response.status_code == 201
    action = Action.objects.get(verb="contact.created")
    assert (action.actor_kind, action.actor_type, action.actor_name) == (
        "algorithmic",
        "integration",
        "Webinar tool",
    )
    writer.api_key.refresh_from_db()
    assert writer.api_key.last_used_at is not None


def test_a_person_using_the_api_from_the_browser_acts_by_hand(client, marketer):
    client.force_login(marketer)

    response = client.post(
        "/api/v1/contacts/", {"email": "byhand@example.com"}, content_type="application/json"
    )

    assert response.status_code == 201
    assert Action.objects.get(verb="contact.created").actor_kind == "manual"


def test_a_viewer_in_the_browser_cannot_write_through_the_api(client, viewer):
    client.force_login(viewer)

    response = client.post("/api/v1/contacts/", {"email": "x@example.com"}, content_type="application/json")

    assert response.status_code == 403


def test_create_api_key_prints_the_key_once_on_the_last_line(db, capsys):
    call_command("create_api_key", "CRM sync", "--scope", "read")

    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert key.startswith("mops_")
    stored = ApiKey.objects.get()
    assert stored.scopes == ["read"]
    assert key not in (stored.key_hash, stored.prefix)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/contacts/").status_code == 200


def test_create_api_key_without_scopes_may_read_and_write(db, capsys):
    call_command("create_api_key", "Webinar tool")

    assert ApiKey.objects.get().scopes == ["read", "write"]


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer ключ"])
def test_malformed_authorization_headers_are_401_not_500(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    assert client.get("/api/v1/contacts/").status_code == 401


def test_an_admin_creates_a_key_in_the_admin_and_sees_it_once(client, admin_user):
    client.force_login(admin_user)

    response = client.post(
        "/admin/ledger/apikey/add/",
        {"integration_name": "Webinar tool", "scope_list": ["write"]},
        follow=True,
    )

    shown = [str(message) for message in response.context["messages"]]
    key = next(text.rsplit(" ", 1)[1] for text in shown if "shown only this once" in text)
    stored = ApiKey.objects.get()
    assert (stored.integration.name, stored.scopes) == ("Webinar tool", ["write"])
    assert key.startswith("mops_") and key not in (stored.key_hash, stored.prefix)
