"""E-mail through any Django back-end: a campaign e-mail through the outbox and a template's
"Send a test to me" reach Django's console, file, locmem and SMTP back-ends (and
django-anymail's), each getting a real `email.message` object, never our SMTP bytes."""

from __future__ import annotations

import email
import email.message
import socket
from dataclasses import dataclass
from email import policy
from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.test import Client

from bench.smtp_sink import SmtpSink
from campaigns.services import campaign_enroll
from ledger.models import Action
from messaging.email.mime import BulkEmail
from messaging.models import EmailLayout, OutboxMessage
from messaging.services import email_template_create
from tests.campaigns.conftest import published, run_due
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db

SEPARATOR = "-" * 79


@dataclass
class Received:
    subject: str
    to: str
    text: str
    html: str


def _parsed(message: email.message.EmailMessage) -> Received:
    html = message.get_body(preferencelist=("html",))
    return Received(
        subject=str(message["Subject"]),
        to=str(message["To"]),
        text=message.get_body(preferencelist=("plain",)).get_content(),
        html=html.get_content() if html is not None else "",
    )


def _written(stream: str) -> list[Received]:
    """The messages a console or file back-end wrote, one after the other."""
    chunks = [chunk.strip("\n") for chunk in stream.split(SEPARATOR)]
    return [_parsed(email.message_from_string(chunk, policy=policy.default)) for chunk in chunks if chunk]


class Inbox:
    def __init__(self, name: str, settings, tmp_path: Path, capsys):
        self.name, self.capsys, self.folder, self.sink = name, capsys, tmp_path / "mail", None
        settings.PUBLIC_URL = "https://mops.example.com"
        settings.DEFAULT_FROM_EMAIL = "news@brand.example.com"
        settings.EMAIL_BACKEND = {
            "console": "django.core.mail.backends.console.EmailBackend",
            "filebased": "django.core.mail.backends.filebased.EmailBackend",
            "locmem": "django.core.mail.backends.locmem.EmailBackend",
            "smtp": "django.core.mail.backends.smtp.EmailBackend",
            "anymail": "anymail.backends.test.EmailBackend",
        }[name]
        settings.EMAIL_FILE_PATH = str(self.folder)
        if name == "smtp":
            self.sink = SmtpSink().__enter__()
            settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", self.sink.port
            settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
            settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        mail.outbox = []

    def received(self) -> list[Received]:
        if self.name == "console":
            return _written(self.capsys.readouterr().out)
        if self.name == "filebased":
            files = sorted(self.folder.glob("*.log"))
            return [found for path in files for found in _written(path.read_bytes().decode("utf-8"))]
        if self.name == "locmem":
            messages = [sent.message() for sent in mail.outbox]
            assert all(isinstance(message, email.message.EmailMessage) for message in messages)
            return [_parsed(email.message_from_bytes(m.as_bytes(), policy=policy.default)) for m in messages]
        if self.name == "anymail":
            return [
                Received(
                    subject=sent.anymail_test_params["subject"],
                    to=", ".join(str(to) for to in sent.anymail_test_params["to"]),
                    text=sent.anymail_test_params.get("text_body", ""),
                    html=sent.anymail_test_params.get("html_body", ""),
                )
                for sent in mail.outbox
            ]
        return [_parsed(message) for message in self.sink.messages()]

    def close(self) -> None:
        if self.sink is not None:
            self.sink.__exit__(None, None, None)


@pytest.fixture(params=["console", "filebased", "locmem", "smtp", "anymail"])
def inbox(request, settings, tmp_path, capsys):
    inbox = Inbox(request.param, settings, tmp_path, capsys)
    try:
        yield inbox
    finally:
        inbox.close()


@pytest.fixture
def invitation(as_marketer):
    layout = EmailLayout.objects.create(
        name="Brand", html="<html><body><div>BRAND</div>{{ content }}"
        '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>',
    )  # fmt: skip
    return email_template_create(
        name="Webinar invitation", slug="webinar-invite", layout=layout,
        subject='{{ contact.first_name|default:"Hi" }}, join us',
        html='<p>Hello {{ contact.first_name }}, everyone at {{ account.name }} is invited.</p>'
        '<p><a href="https://example.com/webinar">Save your seat</a></p>',
    )  # fmt: skip


def test_a_campaign_e_mail_goes_through_the_outbox_to_each_back_end(inbox, invitation, clock):
    # given
    campaign = published(steps=[{"key": "invite", "type": "send_email", "template": "webinar-invite"}])
    lea = ContactFactory(email="lea@example.fr", first_name="Léa", account=AccountFactory(name="Société"))
    campaign_enroll(campaign=campaign, contact_ids=[lea.pk])
    inbox.received()  # whatever was printed before

    # when
    run_due()

    # then
    message = OutboxMessage.objects.get()
    assert (message.status, message.error) == ("sent", "")
    (received,) = inbox.received()
    assert (received.subject, received.to) == ("Léa, join us", "lea@example.fr")
    assert "Hello Léa, everyone at Société is invited." in received.text
    assert "Save your seat (https://mops.example.com/email/c/" in received.text
    assert "everyone at Société is invited." in received.html and "BRAND" in received.html
    assert Action.objects.filter(verb="email.sent", contact_id=lea.pk).count() == 1


def test_a_template_test_goes_to_each_back_end(inbox, invitation, marketer):
    # given
    client = Client()
    client.force_login(marketer)
    lea = ContactFactory(email="lea@example.fr", first_name="Léa", account=AccountFactory(name="Société"))
    inbox.received()

    # when
    answer = client.post(f"/admin/messaging/emailtemplate/{invitation.pk}/preview/", {"contact": lea.pk})

    # then
    assert answer.status_code == 302
    (said,) = [str(message) for message in get_messages(answer.wsgi_request)]
    assert said == f"Test sent to {marketer.email}, as lea@example.fr would get it."
    (received,) = inbox.received()
    assert (received.subject, received.to) == ("[Test] Léa, join us", marketer.email)
    assert "Hello Léa, everyone at Société is invited." in received.text
    assert "https://example.com/webinar" in received.html  # a test's links are not tracked
    assert Action.objects.filter(verb="email_template.test_sent").count() == 1


def test_a_test_the_back_end_cannot_take_is_a_clear_message_not_an_error_page(settings, invitation, marketer):
    # given an SMTP server nobody listens on
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    client = Client()
    client.force_login(marketer)
    contact = ContactFactory(first_name="Mia")

    # when
    answer = client.post(
        f"/admin/messaging/emailtemplate/{invitation.pk}/preview/", {"contact": contact.pk}, follow=True
    )

    # then
    assert answer.status_code == 200
    page = answer.content.decode()
    assert f"The test could not be sent to {marketer.email}" in page
    assert "ConnectionRefusedError" in page and "Check EMAIL_URL or EMAIL_BACKEND" in page
    assert not Action.objects.filter(verb="email_template.test_sent").exists()


def test_message_is_django_s_own_and_only_smtp_bytes_are_written_by_hand():
    # given
    bulk = BulkEmail(subject="Ça va ?", body="Hello\n", from_email="news@example.com", to=["a@example.org"])
    bulk.attach_alternative("<p>Hello</p>", "text/html")

    # when
    bulk.prepare()
    message = bulk.message()
    data, eight_bit = bulk.smtp_bytes(eight_bit=True)

    # then
    assert isinstance(message, email.message.EmailMessage)
    assert message.get_charset() is None and message["Subject"] == "Ça va ?"
    assert message.get_body(("plain",)).get_content() == "Hello\n"
    assert b"=_mops_" in data and b"=_mops_" not in message.as_bytes()
    parsed = email.message_from_bytes(data, policy=policy.default)
    assert parsed["Subject"] == "Ça va ?"
    assert parsed.get_body(("html",)).get_content().strip() == "<p>Hello</p>"
    assert eight_bit is False  # both parts are ASCII
