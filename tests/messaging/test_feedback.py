import base64
import json

import pytest
from django.urls import reverse

from contacts.models import Suppression, Touchpoint
from contacts.selectors import suppression_get
from ledger.models import Action
from messaging.models import OutboxMessage
from messaging.signing import signature_header
from tests.factories import ContactFactory
from tests.messaging.conftest import email_message, sms_message

pytestmark = pytest.mark.django_db

URL = "/hooks/email/feedback/"


def post_signed(client, document, *, secret="bounce-secret"):
    body = json.dumps(document).encode()
    return client.post(
        URL,
        body,
        content_type="application/json",
        HTTP_X_MOPS_SIGNATURE=signature_header(secret=secret, body=body),
    )


def post_bearer(client, document, *, secret="bounce-secret"):
    return client.post(URL, document, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}")


def test_a_hard_bounce_suppresses_the_address_and_what_waits_for_it(client, as_robot):
    # given a contact with e-mails waiting, and an SMS that has nothing to do with e-mail
    contact = ContactFactory(email="jane@example.org", phone="+33612345678", consent_sms="subscribed")
    waiting = [email_message(contact), email_message(contact)]
    sms = sms_message(contact)

    # when the provider reports a hard bounce
    response = post_signed(
        client,
        {
            "events": [
                {"type": "bounce", "email": "Jane@Example.org", "bounce_type": "hard", "message_id": "m-1"}
            ]
        },
    )

    # then
    assert response.status_code == 200, response.content
    assert response.json() == {
        "recorded": 1, "duplicates": 0, "suppressed_addresses": 1, "suppressed_messages": 2,
    }  # fmt: skip
    assert suppression_get(channel="email", address="jane@example.org").reason == "hard_bounce"
    assert set(
        OutboxMessage.objects.filter(pk__in=[m.pk for m in waiting]).values_list("status", flat=True)
    ) == {"suppressed"}
    assert OutboxMessage.objects.get(pk=sms.pk).status == "pending"
    touchpoint = Touchpoint.objects.get(contact=contact)
    assert (touchpoint.kind_id, touchpoint.properties["bounce_type"]) == ("email_bounce", "hard")
    action = Action.objects.get(verb="email.bounced_hard")
    assert (action.actor_kind, action.actor_name, action.contact_id) == (
        "algorithmic", "e-mail feedback webhook", contact.pk,
    )  # fmt: skip


def test_a_soft_bounce_is_recorded_but_suppresses_nothing(client):
    contact = ContactFactory()
    waiting = email_message(contact)

    response = post_bearer(
        client, {"events": [{"type": "bounce", "email": contact.email, "bounce_type": "soft"}]}
    )

    assert response.json()["suppressed_addresses"] == 0
    assert not Suppression.objects.exists()
    assert OutboxMessage.objects.get(pk=waiting.pk).status == "pending"
    assert Action.objects.filter(verb="email.bounced_soft", contact_id=contact.pk).count() == 1


def test_a_complaint_unsubscribes_and_suppresses(client):
    contact = ContactFactory(consent_email="subscribed")

    post_bearer(client, {"events": [{"type": "complaint", "email": contact.email, "message_id": "m-9"}]})

    contact.refresh_from_db()
    assert contact.consent_email == "unsubscribed"
    assert suppression_get(channel="email", address=contact.email).reason == "complaint"
    assert Touchpoint.objects.get(contact=contact).kind_id == "email_complaint"


def test_an_unknown_address_is_suppressed_all_the_same(client):
    post_bearer(client, {"events": [{"type": "bounce", "email": "ghost@example.org"}]})

    assert suppression_get(channel="email", address="ghost@example.org").reason == "hard_bounce"
    assert Action.objects.get(verb="email.bounced_hard").contact_id is None


def test_the_same_report_twice_changes_nothing(client):
    contact = ContactFactory()
    event = {"type": "bounce", "email": contact.email, "bounce_type": "hard", "message_id": "m-1"}

    post_bearer(client, {"events": [event]})
    again = post_bearer(client, {"events": [event]})

    assert again.json()["duplicates"] == 1
    assert Touchpoint.objects.filter(contact=contact).count() == 1


@pytest.mark.parametrize(
    ("headers", "secret_set"),
    [
        ({}, True),
        ({"HTTP_AUTHORIZATION": "Bearer wrong"}, True),
        ({"HTTP_X_MOPS_SIGNATURE": "t=1,v1=00"}, True),
        ({"HTTP_AUTHORIZATION": "Bearer "}, False),
    ],
)
def test_an_unauthenticated_report_is_refused(client, settings, headers, secret_set):
    if not secret_set:
        settings.BOUNCE_WEBHOOK_SECRET = ""
    contact = ContactFactory()
    body = {"events": [{"type": "bounce", "email": contact.email}]}

    response = client.post(URL, body, content_type="application/json", **headers)

    assert response.status_code == 403
    assert not Suppression.objects.exists()


def test_bad_events_are_reported_by_path_and_none_is_kept(client):
    contact = ContactFactory()
    response = post_bearer(
        client,
        {
            "events": [
                {"type": "bounce", "email": contact.email},
                {"type": "opened", "email": contact.email},
                {"type": "bounce", "email": "nobody"},
                {"type": "bounce", "email": contact.email, "bounce_type": "medium"},
            ]
        },
    )

    assert response.status_code == 400
    assert [error["path"] for error in response.json()["errors"]] == [
        "events[1].type", "events[2].email", "events[3].bounce_type",
    ]  # fmt: skip
    assert not Suppression.objects.exists()
    assert post_bearer(client, {"nope": 1}).json()["errors"][0]["path"] == "events"
    not_json = client.post(
        URL, b"\xff", content_type="application/json", HTTP_AUTHORIZATION="Bearer bounce-secret"
    )
    assert not_json.status_code == 400


def test_postmark_reports_through_anymail(client, settings):
    # given Postmark's own webhook format, posted to Anymail's URL with its basic auth
    settings.ANYMAIL = {"WEBHOOK_SECRET": "postmark:hook-pass"}
    contact = ContactFactory()
    waiting = email_message(contact)
    bounce = {
        "RecordType": "Bounce", "ID": 4323372036854775807, "Type": "HardBounce", "TypeCode": 1,
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483", "Email": contact.email.upper(),
        "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "BouncedAt": "2026-11-23T10:00:00Z", "Inactive": True, "Metadata": {},
    }  # fmt: skip
    auth = "Basic " + base64.b64encode(b"postmark:hook-pass").decode()

    # when
    response = client.post(
        reverse("hooks:anymail:postmark_tracking_webhook"),
        bounce,
        content_type="application/json",
        HTTP_AUTHORIZATION=auth,
    )

    # then
    assert response.status_code == 200
    suppression = suppression_get(channel="email", address=contact.email)
    assert suppression.reason == "hard_bounce"
    assert "550 5.1.1" in suppression.detail
    assert OutboxMessage.objects.get(pk=waiting.pk).status == "suppressed"
    action = Action.objects.get(verb="email.bounced_hard")
    assert action.actor_name == "Postmark (via Anymail)"


def test_anymail_hooks_stay_shut_without_their_secret(client):
    contact = ContactFactory()
    bounce = {"RecordType": "Bounce", "Type": "HardBounce", "Email": contact.email, "ID": 1}

    response = client.post(
        reverse("hooks:anymail:postmark_tracking_webhook"), bounce, content_type="application/json"
    )

    assert response.status_code in (400, 403)
    assert not Suppression.objects.exists()
