"""Export and erasure of a person's data. The acceptance test searches every column of every
table for the person's values after erasure, then imports the same address again."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from psycopg import sql

from campaigns.models import Enrollment
from campaigns.services import campaign_enroll
from contacts import services as contact_services
from contacts.models import Contact, Suppression, Touchpoint
from contacts.selectors import address_hash
from intents.services import touchpoint_label
from ledger.context import Actor, acting_as
from ledger.models import Action
from messaging.feedback import sms_reply_receive
from messaging.models import OutboxMessage
from messaging.outbox import outbox_deliver
from privacy.services import contact_erase, contact_export
from tests.campaigns.conftest import published, run_due
from tests.factories import UserFactory
from tests.messaging.conftest import sms_message, webhook_message
from tests.messaging.httpserver import Reply

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
EMAIL = "zoelle.quinlanova@example.org"
PERSONAL = [
    "zoelle.quinlanova@example.org", "Zoelle", "Quinlanova", "+33612345699", "Chief Zebra Officer",
    "Vierzonville", "QX-77731", "xylophone", "203.0.113.77", "Zoellie",
]  # fmt: skip
JOURNEY = [
    {
        "key": "hello", "type": "send_email",
        "subject": "Hi {{ contact.first_name }}", "body": "Dear {{ contact.last_name }}",
    },
    {"key": "title", "type": "set_field", "field": "job_title", "value": "Attendee"},
    {"key": "pause", "type": "wait", "days": 3},
]  # fmt: skip


def columns_holding(values: list[str]) -> dict[str, list[str]]:
    """Every column of every table (as text, JSON included) that contains one of the values."""
    found: dict[str, list[str]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns c "
            "JOIN information_schema.tables t USING (table_schema, table_name) "
            "WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' "
            "AND c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY')"
        )
        columns = cursor.fetchall()
        assert len(columns) > 50  # the whole schema, not a handful of tables
        for table, column in columns:
            for value in values:
                cursor.execute(
                    sql.SQL("SELECT count(*) FROM {} WHERE {}::text ILIKE %s").format(
                        sql.Identifier(table), sql.Identifier(column)
                    ),
                    [f"%{value}%"],
                )
                if cursor.fetchone()[0]:
                    found.setdefault(f"{table}.{column}", []).append(value)
    return found


@pytest.fixture
def person(settings, local_server, mailoutbox):
    """Zoelle, after a life in the product: created by hand, renamed, consented with evidence,
    touchpoints with text and properties, a label on one, a campaign that e-mailed her and set
    a field, an SMS, a webhook whose endpoint echoed her address, a STOP reply, an admin edit."""
    settings.SMS_AUTH_TOKEN = "t"
    marketer = UserFactory(username="maya")
    with time_machine.travel(NOW, tick=False), acting_as(Actor.for_user(marketer)):
        contact = contact_services.contact_create(
            email=EMAIL, first_name="Zoellie", last_name="Quinlanova", phone="+33612345699",
            city="Vierzonville", job_title="Chief Zebra Officer", attributes={"loyalty_code": "QX-77731"},
        )  # fmt: skip
        contact_services.contact_update(contact=contact, data={"first_name": "Zoelle"})
        contact_services.contact_consent_set(
            contact=contact, channel="sms", status="subscribed", source="signup form",
            evidence={"ip": "203.0.113.77", "form": "/webinar"},
        )  # fmt: skip
        touchpoint = contact_services.touchpoint_create(
            contact=contact, kind="chat_message", text="I love the xylophone demo, call Zoelle back",
            properties={"page": "/pricing", "name": "Zoelle Quinlanova"}, external_id="chat-QX-77731",
        )  # fmt: skip
        contact_services.touchpoints_announce(touchpoint_ids=[touchpoint.pk])
        touchpoint_label(touchpoint=touchpoint, intent=None)
        LogEntry.objects.log_actions(
            user_id=marketer.pk, queryset=[contact], action_flag=CHANGE, change_message="Changed city."
        )
        campaign = published(name="Welcome", steps=JOURNEY)
        campaign_enroll(campaign=campaign, contact_ids=[contact.pk])
    with time_machine.travel(NOW, tick=False), acting_as(Actor.for_task("tests.worker")):
        run_due()
        local_server.replies = [Reply(status=500, body=f"unknown lead {EMAIL}".encode())]
        hook = webhook_message(contact, url=local_server.url, body={"email": EMAIL, "name": "Zoelle"})
        outbox_deliver(message_id=hook.pk, now=timezone.now())
        sms_message(Contact.objects.get(pk=contact.pk))
        sms_reply_receive(from_number="+33612345699", body="STOP please, Zoelle", source="sms inbound")
    assert len(mailoutbox) == 1 and "Zoelle" in mailoutbox[0].subject
    contact.refresh_from_db()
    return contact


def test_the_export_is_one_document_with_everything(person, as_marketer):
    document = contact_export(contact=person)

    assert document["contact"]["email"] == EMAIL
    assert document["contact"]["job_title"] == "Attendee"
    assert document["contact"]["attributes"] == {"loyalty_code": "QX-77731"}
    assert [c["status"] for c in document["consent_history"]] == ["subscribed", "unsubscribed"]
    assert document["consent_history"][0]["evidence"]["ip"] == "203.0.113.77"
    assert {t["kind"] for t in document["touchpoints"]} == {"chat_message", "sms_reply"}
    assert document["enrollments"][0]["campaign"] == "Welcome"
    assert {m["channel"] for m in document["messages"]} == {"email", "webhook", "sms"}
    assert any(m.get("subject") == "Hi Zoelle" for m in document["messages"])  # as it was sent
    action = Action.objects.get(verb="contact.exported")
    assert (action.contact_id, action.actor_kind) == (person.pk, "manual")


def test_after_erasure_no_personal_value_remains_anywhere_and_a_reimport_stays_suppressed(
    person, writer, tmp_path, mailoutbox
):
    # given the person's values are all over the database
    before = columns_holding(PERSONAL)
    assert {"contacts_contact.email", "ledger_action.details", "campaigns_outboxmessage.payload",
            "contacts_touchpoint.text", "django_admin_log.object_repr",
            "campaigns_deliveryattempt.error", "contacts_consentchange.evidence"} <= set(before)  # fmt: skip
    touchpoints, actions = Touchpoint.objects.count(), Action.objects.count()

    # when the person asks to be forgotten, through the API
    response = writer.post(f"/api/v1/contacts/{person.pk}/erase/", {"reason": "request #42"}, format="json")

    # then none of their values is left in any table
    assert response.status_code == 200, response.content
    assert columns_holding(PERSONAL) == {}
    # the counts survive: the rows, and the ledger's who, what and when
    assert Touchpoint.objects.count() == touchpoints
    assert Action.objects.count() > actions
    assert Enrollment.objects.get(contact_id=person.pk).status == "exited"
    assert set(Suppression.objects.values_list("channel", "address_hash", "reason")) == {
        ("email", address_hash(channel="email", address=EMAIL), "erased"),
        ("sms", address_hash(channel="sms", address="+33612345699"), "stop"),  # the first reason stays
    }
    erased = Action.objects.get(verb="contact.erased")
    assert (erased.actor_kind, erased.actor_type, erased.details["reason"]) == (
        "algorithmic",
        "integration",
        "request #42",
    )

    # when the same address comes back in an import, and a campaign wants to write to it
    csv_file = tmp_path / "webinar.csv"
    csv_file.write_text(f"email,first_name\n{EMAIL.upper()},Zoelle\n", encoding="utf-8")
    call_command("import_contacts", str(csv_file))
    again = Contact.objects.get(email=EMAIL)
    assert again.pk != person.pk
    with acting_as(Actor.for_task("tests.worker")):
        campaign = published(name="Second chance", steps=JOURNEY[:1])
        campaign_enroll(campaign=campaign, contact_ids=[again.pk])
        run_due()

    # then the send is refused
    message = OutboxMessage.objects.get(contact_id=again.pk)
    assert (message.status, message.error) == (
        "suppressed",
        "the address is on the suppression list (erased on request)",
    )
    assert len(mailoutbox) == 1  # only the e-mail sent before the erasure


def test_the_ledger_keeps_counts_but_no_details_of_the_person(person, as_marketer):
    kinds_before = sorted(
        Action.objects.filter(contact_id=person.pk).values_list(
            "id", "actor_kind", "category", "verb", "occurred_at"
        )
    )

    contact_erase(contact=person)

    kinds_after = sorted(
        Action.objects.filter(contact_id=person.pk, id__lte=kinds_before[-1][0]).values_list(
            "id", "actor_kind", "category", "verb", "occurred_at"
        )
    )
    assert kinds_after == kinds_before
    created = Action.objects.get(verb="contact.created", contact_id=person.pk)
    assert created.details == {"email": "[erased]"}


def test_erasing_twice_is_harmless(person, as_marketer):
    contact_erase(contact=person)
    assert contact_erase(contact=Contact.objects.get(pk=person.pk)) == {"already_erased": 1}
    assert Action.objects.filter(verb="contact.erased").count() == 1


def test_the_api_exports_and_its_permissions_hold(person, writer, reader):
    exported = reader.get(f"/api/v1/contacts/{person.pk}/export/")
    refused = reader.post(f"/api/v1/contacts/{person.pk}/erase/")
    missing = writer.post("/api/v1/contacts/999999999/erase/")

    assert exported.status_code == 200
    assert exported.json()["contact"]["email"] == EMAIL
    assert "attachment" in exported["Content-Disposition"]
    assert (refused.status_code, missing.status_code) == (403, 404)
    assert Contact.objects.get(pk=person.pk).email == EMAIL


def test_the_admin_exports_and_erases_after_confirmation(person, admin_client):
    changelist = "/admin/contacts/contact/"
    exported = admin_client.post(
        changelist, {"action": "export_personal_data", "_selected_action": [person.pk]}
    )
    assert exported["Content-Type"] == "application/json"
    assert b"Vierzonville" in exported.content

    confirm = admin_client.post(
        changelist, {"action": "erase_personal_data", "_selected_action": [person.pk]}
    )
    assert b"Yes, erase their data" in confirm.content
    assert Contact.objects.get(pk=person.pk).email == EMAIL  # nothing yet

    done = admin_client.post(
        changelist,
        {
            "action": "erase_personal_data",
            "_selected_action": [person.pk],
            "post": "yes",
            "reason": "asked by phone",
        },
        follow=True,
    )
    assert b"Erased the personal data of 1 contact" in done.content
    assert Contact.objects.get(pk=person.pk).email == f"erased-{person.pk}@erased.invalid"
    assert Action.objects.get(verb="contact.erased").actor_kind == "manual"
