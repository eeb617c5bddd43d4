"""E-mails of a campaign through a real SMTP server on the loopback interface (aiosmtpd):
headers inbox providers ask for, both parts, personalisation, one-click unsubscribe."""

import re
import smtplib
from urllib.parse import urlparse

import pytest
from django.test import Client

from bench.smtp_sink import SmtpSink
from campaigns.services import campaign_enroll
from contacts.models import ConsentChange, Touchpoint
from ledger.models import Action
from messaging.models import EmailLayout, OutboxMessage
from messaging.outbox import outbox_deliver_batch, outbox_flush
from messaging.services import email_template_create
from tests.campaigns.conftest import NOW, published, run_due
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db

HTML = """<h1>Hello {{ contact.first_name|default:"there" }}</h1>
<p>{% if account.name %}Everyone at {{ account.name }} is invited.{% else %}You are invited.{% endif %}</p>
<p><a href="https://example.com/webinar?id=42&amp;src=mail">Save your seat</a></p>"""


@pytest.fixture
def smtp(settings):
    with SmtpSink() as sink:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.PUBLIC_URL = "https://mops.example.com"
        settings.DEFAULT_FROM_EMAIL = "news@brand.example.com"
        yield sink


@pytest.fixture
def invitation(as_marketer):
    layout = EmailLayout.objects.create(
        name="Brand", html="<html><body><div class=brand>BRAND</div>{{ content }}"
        '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>',
    )  # fmt: skip
    return email_template_create(
        name="Webinar invitation", slug="webinar-invite", layout=layout,
        subject='{{ contact.first_name|default:"Hi" }}, join us', preheader="Thursday, 4 pm", html=HTML,
    )  # fmt: skip


def test_campaign_e_mails_reach_the_smtp_server_personalised_with_their_headers(smtp, invitation, clock):
    # given
    campaign = published(steps=[{"key": "invite", "type": "send_email", "template": "webinar-invite"}])
    ada = ContactFactory(email="ada@example.org", first_name="Ada", account=AccountFactory(name="Acme"))
    anon = ContactFactory(email="anon@example.org", first_name="")

    # when
    campaign_enroll(campaign=campaign, contact_ids=[ada.pk, anon.pk])
    run_due()

    # then
    received = {message["To"]: message for message in smtp.messages()}
    assert sorted(received) == ["ada@example.org", "anon@example.org"]
    mail = received["ada@example.org"]
    assert mail["Subject"] == "Ada, join us"
    assert received["anon@example.org"]["Subject"] == "Hi, join us"
    assert re.fullmatch(r"<[0-9a-f]{40}@brand\.example\.com>", mail["Message-ID"])
    unsubscribe = re.fullmatch(
        r"<(https://mops\.example\.com/email/unsubscribe/[^>]+/)>", mail["List-Unsubscribe"]
    )
    assert unsubscribe
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "Hello Ada" in text and "Everyone at Acme is invited." in text
    assert "Save your seat (https://mops.example.com/email/c/" in text  # made from the HTML, tracked
    assert "https://example.com/webinar" not in text
    assert "BRAND" in html and "Everyone at Acme is invited." in html
    assert "https://example.com/webinar" not in html  # the link goes through a signed redirect
    assert "https://mops.example.com/email/c/" in html and "https://mops.example.com/email/o/" in html
    assert "You are invited." in received["anon@example.org"].get_body(("plain",)).get_content()
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"sent"}
    assert (
        Action.objects.filter(verb="email.sent", actor_kind="algorithmic", actor_id=campaign.pk).count() == 2
    )

    # and the one-click POST of RFC 8058, with no cookie and no CSRF token, unsubscribes Ada
    response = Client(enforce_csrf_checks=True).post(
        urlparse(unsubscribe.group(1)).path, {"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200
    ada.refresh_from_db()
    assert ada.consent_email == "unsubscribed"
    change = ConsentChange.objects.get(contact=ada)
    assert (change.actor_kind, change.evidence["method"]) == ("algorithmic", "one-click")
    assert Touchpoint.objects.filter(contact=ada, kind_id="unsubscribe").count() == 1
    assert Action.objects.filter(
        verb="consent.unsubscribed", contact_id=ada.pk, actor_kind="algorithmic"
    ).exists()


def test_an_inline_step_still_sends_a_plain_text_e_mail(smtp, as_marketer, clock):
    campaign = published(
        steps=[
            {"key": "hi", "type": "send_email", "subject": "Hi {{ contact.first_name }}", "body": "Plain."}
        ]
    )
    campaign_enroll(campaign=campaign, contact_ids=[ContactFactory(first_name="Bo").pk])

    run_due()

    (mail,) = smtp.messages()
    assert (mail["Subject"], mail.get_content_type()) == ("Hi Bo", "text/plain")
    assert mail.get_content().strip() == "Plain."
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_batch_goes_over_one_connection_and_never_twice(smtp, invitation, clock, monkeypatch):
    # given
    campaign = published(steps=[{"key": "invite", "type": "send_email", "template": "webinar-invite"}])
    contacts = [ContactFactory() for _ in range(5)]
    connections = []
    real_connect = smtplib.SMTP.connect

    def counting_connect(self, *args, **kwargs):
        connections.append(args)
        return real_connect(self, *args, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "connect", counting_connect)
    campaign_enroll(campaign=campaign, contact_ids=[c.pk for c in contacts])
    from campaigns.engine.advance import enrollments_advance
    from campaigns.models import Enrollment

    enrollments_advance(enrollment_ids=list(Enrollment.objects.values_list("pk", flat=True)), now=NOW)
    ids = list(OutboxMessage.objects.values_list("pk", flat=True))

    # when the batch is delivered, then delivered again, then flushed
    first = outbox_deliver_batch(message_ids=ids, now=NOW)
    second = outbox_deliver_batch(message_ids=ids, now=NOW)
    outbox_flush(now=NOW.replace(year=2027))

    # then
    assert set(first.values()) == {"sent"} and second == {}
    assert smtp.count == 5
    assert len(connections) == 1


def test_an_unsubscribed_contact_is_suppressed_at_send_time(smtp, invitation, clock):
    campaign = published(steps=[{"key": "invite", "type": "send_email", "template": "webinar-invite"}])
    contact = ContactFactory(consent_email="subscribed")
    campaign_enroll(campaign=campaign, contact_ids=[contact.pk])
    from campaigns.engine.advance import enrollments_advance
    from campaigns.models import Enrollment

    enrollments_advance(enrollment_ids=list(Enrollment.objects.values_list("pk", flat=True)), now=NOW)
    contact.consent_email = "unsubscribed"  # withdrawn between the step and the delivery
    contact.save()

    outbox_deliver_batch(message_ids=list(OutboxMessage.objects.values_list("pk", flat=True)), now=NOW)

    assert OutboxMessage.objects.get().status == "suppressed"
    assert smtp.count == 0


def test_a_server_that_cannot_be_reached_leaves_the_message_pending_for_a_retry(settings, invitation, clock):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    campaign = published(steps=[{"key": "invite", "type": "send_email", "template": "webinar-invite"}])
    campaign_enroll(campaign=campaign, contact_ids=[ContactFactory().pk])

    run_due()

    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts) == ("pending", 1)
    assert "ConnectionRefusedError" in message.error


def test_accents_survive_the_trip_in_the_subject_and_both_parts(smtp, invitation, clock):
    campaign = published(steps=[{"key": "invite", "type": "send_email", "template": "webinar-invite"}])
    lea = ContactFactory(
        email="lea@example.fr", first_name="Léa-Zoë", account=AccountFactory(name="Société Générale")
    )
    campaign_enroll(campaign=campaign, contact_ids=[lea.pk])

    run_due()

    (mail,) = smtp.messages()
    assert mail["Subject"] == "Léa-Zoë, join us"
    assert "Everyone at Société Générale is invited." in mail.get_body(("plain",)).get_content()
    assert "Hello Léa-Zoë" in mail.get_body(("html",)).get_content()
    assert not mail.defects and all(not part.defects for part in mail.walk())


def _queued(campaign, contacts) -> list[int]:
    from campaigns.engine.advance import enrollments_advance
    from campaigns.models import Enrollment

    campaign_enroll(campaign=campaign, contact_ids=[c.pk for c in contacts])
    enrollments_advance(enrollment_ids=list(Enrollment.objects.values_list("pk", flat=True)), now=NOW)
    return list(OutboxMessage.objects.order_by("contact_id").values_list("pk", flat=True))


def test_an_address_the_server_refuses_fails_alone_and_the_rest_of_the_batch_goes(smtp, invitation, clock):
    # given a server that refuses one recipient for good
    async def handle_RCPT(server, session, envelope, address, options):
        if address.startswith("gone@"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    smtp.handler.handle_RCPT = handle_RCPT
    campaign = published(steps=[{"key": "invite", "type": "send_email", "template": "webinar-invite"}])
    people = [ContactFactory(email=f"{name}@example.org") for name in ("ada", "gone", "noor")]
    ids = _queued(campaign, people)

    # when
    statuses = outbox_deliver_batch(message_ids=ids, now=NOW)

    # then
    assert [statuses[pk] for pk in ids] == ["sent", "failed", "sent"]
    assert sorted(message["To"] for message in smtp.messages()) == ["ada@example.org", "noor@example.org"]
    assert "no such mailbox" in OutboxMessage.objects.get(contact=people[1]).error


def test_a_server_that_says_later_takes_what_it_answered_and_the_rest_wait_for_a_retry(
    smtp, invitation, clock
):
    # given a server that accepts the first body and asks to come back later for the second
    answers = iter(["250 OK", "451 4.3.0 try again later"])

    async def handle_DATA(server, session, envelope):
        answer = next(answers, "250 OK")
        if answer.startswith("250"):
            smtp.handler.received.append(envelope.original_content)
        return answer

    smtp.handler.handle_DATA = handle_DATA
    campaign = published(steps=[{"key": "invite", "type": "send_email", "template": "webinar-invite"}])
    ids = _queued(campaign, [ContactFactory() for _ in range(3)])

    # when
    statuses = outbox_deliver_batch(message_ids=ids, now=NOW)

    # then the first is sent; the second (refused) and the third (never sent) are pending again
    assert [statuses[pk] for pk in ids] == ["sent", "pending", "pending"]
    assert len(smtp.messages()) == 1
    waiting = OutboxMessage.objects.filter(pk__in=ids[1:])
    assert {(m.status, m.attempts) for m in waiting} == {("pending", 1)}
    assert all("try again later" in m.error for m in waiting)


def test_bodies_go_8bit_when_the_server_takes_it_and_a_long_line_goes_quoted_printable(
    smtp, as_marketer, clock
):
    # given one template with short accented lines and one with a line longer than 998 octets
    captured = []

    async def handle_DATA(server, session, envelope):
        captured.append((b"Subject: Long" in envelope.original_content, envelope.mail_options))
        smtp.handler.received.append(envelope.original_content)
        return "250 OK"

    smtp.handler.handle_DATA = handle_DATA
    long_line = "<p>" + "Über lange Zeilen. " * 80 + "</p>"
    email_template_create(
        name="Short", slug="short", subject="Grüße, {{ contact.first_name }}", html="<p>Café</p>"
    )
    email_template_create(name="Long", slug="long", subject="Long", html=long_line)
    contact = ContactFactory(first_name="Zoë")
    for slug in ("short", "long"):
        campaign = published(name=slug, steps=[{"key": "m", "type": "send_email", "template": slug}])
        campaign_enroll(campaign=campaign, contact_ids=[contact.pk])

    # when
    run_due()

    # then
    short, long = sorted(smtp.messages(), key=lambda m: m["Subject"] == "Long")
    assert short["Subject"] == "Grüße, Zoë"
    assert {part["Content-Transfer-Encoding"] for part in short.walk() if not part.is_multipart()} == {"8bit"}
    assert "Café" in short.get_body(("html",)).get_content()
    assert [("BODY=8BITMIME" in options) for _, options in sorted(captured)] == [True, False]
    html = long.get_body(("html",))
    assert html["Content-Transfer-Encoding"] == "quoted-printable"
    assert "Über lange Zeilen. " * 80 in html.get_content()
    raw = b"\n".join(smtp.handler.received)
    assert max(len(line.rstrip(b"\r")) for line in raw.split(b"\n")) <= 998
    assert not any(part.defects for message in (short, long) for part in message.walk())


def test_an_e_mail_that_breaks_while_the_batch_is_sent_leaves_the_sent_ones_sent(
    smtp, invitation, clock, monkeypatch
):
    # given the second e-mail of a batch cannot be made, for a reason nobody foresaw
    from messaging.channels import email

    campaign = published(steps=[{"key": "invite", "type": "send_email", "template": "webinar-invite"}])
    people = [ContactFactory() for _ in range(3)]
    ids = _queued(campaign, people)
    real_build = email.email_build

    def build(**kwargs):
        if kwargs["contact_id"] == people[1].pk:
            raise RuntimeError("disk full")
        return real_build(**kwargs)

    monkeypatch.setattr(email, "email_build", build)

    # when
    statuses = outbox_deliver_batch(message_ids=ids, now=NOW)

    # then the first is sent once and recorded; the others wait for a retry, saying why
    assert [statuses[pk] for pk in ids] == ["sent", "pending", "pending"]
    assert smtp.count == 1
    assert all("disk full" in m.error for m in OutboxMessage.objects.filter(pk__in=ids[1:]))
    assert Action.objects.filter(verb="email.sent").count() == 1
