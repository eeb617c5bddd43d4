import csv
import io

from django.urls import reverse

from contacts.services import contact_tags_add
from tests.factories import AccountFactory, ContactFactory, TouchpointFactory


def read_csv(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_the_api_exports_the_filtered_contacts_in_import_columns(writer, as_robot):
    acme = AccountFactory(name="Acme", domain="acme.com")
    jane = ContactFactory(email="jane@acme.com", country="FR", account=acme, attributes={"plan": "pro"})
    contact_tags_add(contact=jane, names=["vip", "beta"])
    ContactFactory(email="bob@other.com", country="DE")

    response = writer.get("/api/v1/contacts/export/", {"country": "FR"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = read_csv(response)
    assert [row["email"] for row in rows] == ["jane@acme.com"]
    assert (rows[0]["tags"], rows[0]["account_domain"], rows[0]["attributes"]) == (
        "beta;vip",
        "acme.com",
        '{"plan": "pro"}',
    )


def test_the_api_exports_touchpoints_and_answers_an_accept_csv(writer):
    TouchpointFactory(kind_id="page_view", properties={"path": "/pricing"}, text='says "hi",\nthen leaves')

    response = writer.get("/api/v1/touchpoints/export/", HTTP_ACCEPT="text/csv")

    rows = read_csv(response)
    assert (rows[0]["kind"], rows[0]["properties"], rows[0]["text"]) == (
        "page_view",
        '{"path": "/pricing"}',
        'says "hi",\nthen leaves',
    )


def test_a_read_key_may_export_and_an_anonymous_caller_may_not(reader, client, db):
    ContactFactory()

    assert reader.get("/api/v1/contacts/export/").status_code == 200
    assert client.get("/api/v1/contacts/export/").status_code in (401, 403)


def test_the_admin_exports_the_selected_contacts(client, marketer):
    chosen, _other = ContactFactory(), ContactFactory()
    client.force_login(marketer)

    response = client.post(
        reverse("admin:contacts_contact_changelist"),
        {"action": "export_csv", "_selected_action": [chosen.pk]},
    )

    assert [row["email"] for row in read_csv(response)] == [chosen.email]
