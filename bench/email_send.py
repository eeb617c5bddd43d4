"""E-mail delivery at scale.

`email_send`: N personalised e-mails of a campaign leave the outbox for a real SMTP server on
the loopback interface (aiosmtpd), in the worker's batches, in one process: claimed under
lock, consent checked, the template rendered in the sandbox for each contact (layout, plain
text made from the HTML, signed click, open and unsubscribe links), handed to Django's SMTP
back-end over one connection per batch, marked sent, and recorded in the ledger.
Baseline: the same server receiving the same number of pre-rendered messages from a plain
`smtplib` loop over one connection (no rendering, no database), rendered in chunks with the
clock stopped. Both sides report wall and CPU seconds of this process: the machine may be
shared, and the SMTP server runs in a process of its own.
"""

from __future__ import annotations

import smtplib
import time
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage

from django.db import connection, transaction
from django.test.utils import override_settings
from django.utils import timezone

from bench import benchmark, result
from bench.smtp_sink import SmtpSink
from campaigns.services import campaign_create
from common.columns import insert_columns
from contacts.models import Contact
from ledger.context import Actor, acting_as
from messaging.email import links
from messaging.models import EmailLayout, OutboxMessage
from messaging.outbox import BATCH_SIZE, outbox_deliver_batch
from messaging.services import email_template_create

HTML = """<h1>Hello {{ contact.first_name|default:"there" }},</h1>
<p>{% if account.name %}Your team at {{ account.name }} is{% else %}You are{% endif %} invited to our
spring webinar on {{ campaign.name }}.</p>
<p><a href="https://example.com/webinar/spring?utm_source=email">Save your seat</a> or
<a href="https://example.com/agenda">read the agenda</a>.</p>
<p>See you there,<br>The {{ campaign.name }} team</p>"""

LAYOUT = """<!doctype html><html><head><meta charset="utf-8"><title>{{ subject }}</title></head>
<body style="background:#f3f4f6"><div style="display:none">{{ preheader }}</div>
<table width="100%"><tr><td><table width="600" style="background:#fff"><tr><td>{{ content }}</td></tr></table>
<p><a href="{{ unsubscribe_url }}">Unsubscribe</a> · <a href="{{ preferences_url }}">Preferences</a></p>
</td></tr></table></body></html>"""


def _data(n: int, campaign_id: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO contacts_account (name, domain, industry, employees, country, attributes, owner_id,
                                          created_at, updated_at)
            SELECT 'Company ' || i, 'company' || i || '.bench.example.net', 'Software', 50, 'FR', '{}', NULL,
                   now(), now()
              FROM generate_series(1, %s) i
            RETURNING id
            """,
            [max(1, n // 20)],
        )
        accounts = [row[0] for row in cursor.fetchall()]
        columns, values = insert_columns(
            Contact,
            {
                "email": "'reader' || i || '@bench.example.net'",
                "first_name": "(ARRAY['Ada', 'Léa', '', 'Noor'])[1 + i %% 4]", "last_name": "'Reader'",
                "country": "'FR'", "lifecycle_stage": "'lead'",
                "account_id": "CASE WHEN i %% 2 = 0 THEN (%s::bigint[])[1 + i %% %s] END",
                "consent_email": "'subscribed'",
            },
        )  # fmt: skip
        cursor.execute(
            f"""
            INSERT INTO contacts_contact ({columns})
            SELECT {values} FROM generate_series(1, %s) i
            """,
            [accounts, len(accounts), n],
        )
        cursor.execute(
            """
            INSERT INTO campaigns_outboxmessage (key, channel, origin_type, origin_id, contact_id,
                                                 payload, status, attempts, error, created_at)
            SELECT md5('bench' || c.id), 'email', 'campaign', %s, c.id,
                   jsonb_build_object('to', c.email, 'template', 'bench-invitation'), 'pending', 0, '', now()
              FROM contacts_contact c
             WHERE c.email LIKE '%%@bench.example.net'
             ORDER BY c.id
            RETURNING id
            """,
            [campaign_id],
        )
        return [row[0] for row in cursor.fetchall()]


def _clean_up(*, campaign, template, layout) -> None:
    """What the benchmark wrote, gone: its messages with their log, its contacts and
    accounts, their actions in the ledger, the campaign and the template."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM ledger_action WHERE contact_id IN"
            " (SELECT id FROM contacts_contact WHERE email LIKE '%%@bench.example.net')"
            " OR (object_type = 'campaigns.campaign' AND object_id = %s)"
            " OR (object_type = 'messaging.emailtemplate' AND object_id = %s)",
            [str(campaign.pk), str(template.pk)],
        )
        cursor.execute(
            "DELETE FROM contacts_contact WHERE email LIKE '%%@bench.example.net'"
        )  # messages cascade
        cursor.execute("DELETE FROM contacts_account WHERE domain LIKE '%%.bench.example.net'")
        campaign.delete()
        template.delete()
        layout.delete()
    if connection.in_atomic_block:  # inside a test's transaction VACUUM cannot run, nor is it needed
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "VACUUM campaigns_outboxmessage, campaigns_deliveryattempt, ledger_action, contacts_contact"
        )


BASELINE_CHUNK = 2_000


def _baseline_messages(first: int, last: int) -> list[tuple[str, bytes]]:
    """Messages rendered before the clock starts: what a plain loop would have to send. Made
    a chunk at a time, so the baseline never holds all N messages (or their parsed headers)."""
    messages = []
    for i in range(first, last + 1):
        message = EmailMessage()
        to = f"reader{i}@bench.example.net"
        message["From"], message["To"] = "news@bench.example.net", to
        message["Subject"] = "Ada, you are invited"
        message.set_content(f"Hello reader {i}, you are invited to our spring webinar.\n" * 6)
        message.add_alternative(
            f"<p>Hello reader {i}, you are invited to our spring webinar.</p>" * 6, subtype="html"
        )
        messages.append((to, message.as_bytes(policy=policy.SMTP)))
    return messages


def _baseline(scale: int, port: int) -> tuple[float, float]:
    """Wall and CPU seconds of a plain smtplib loop over one connection, counting only the
    sending (each chunk is rendered with the clock stopped)."""
    seconds = cpu_seconds = 0.0
    with smtplib.SMTP("127.0.0.1", port) as client:
        for first in range(1, scale + 1, BASELINE_CHUNK):
            prepared = _baseline_messages(first, min(scale, first + BASELINE_CHUNK - 1))
            started, cpu_started = time.perf_counter(), time.process_time()
            for to, raw in prepared:  # one connection, as the product uses per batch
                client.sendmail("news@bench.example.net", [to], raw)
            seconds += time.perf_counter() - started
            cpu_seconds += time.process_time() - cpu_started
    return seconds, cpu_seconds


@benchmark("email_send", default_scale=50_000, description="personalised e-mails to a local SMTP server")
def email_send(scale: int) -> Iterator[dict]:
    with SmtpSink(keep=False, process=True) as sink, override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=sink.port, EMAIL_USE_TLS=False, EMAIL_USE_SSL=False, EMAIL_HOST_USER="",
        EMAIL_HOST_PASSWORD="", DEFAULT_FROM_EMAIL="news@bench.example.net",
    ):  # fmt: skip
        # Committed, as a worker sends: each answer is committed before the next e-mail is
        # handed over, and that commit is part of what is measured. Cleaned up afterwards.
        with acting_as(Actor.for_command("bench")):
            with transaction.atomic():
                layout = EmailLayout.objects.create(name="Bench layout", html=LAYOUT)
                template = email_template_create(
                    name="Bench invitation", slug="bench-invitation", layout=layout, html=HTML,
                    subject='{{ contact.first_name|default:"Hello" }}, you are invited',
                    preheader="Spring webinar, Thursday 4 pm",
                )  # fmt: skip
                campaign = campaign_create(name="Spring launch")
                ids = _data(scale, campaign.pk)
            try:
                now = timezone.now()
                links.open_url(message_id=0, contact_id=0)  # the URL resolver loads once, not in the timing
                started, cpu_started = time.perf_counter(), time.process_time()
                for start in range(0, len(ids), BATCH_SIZE):
                    outbox_deliver_batch(message_ids=ids[start : start + BATCH_SIZE], now=now)
                seconds = time.perf_counter() - started
                cpu_seconds = time.process_time() - cpu_started
                sent = OutboxMessage.objects.filter(pk__in=ids, status="sent").count()
                received = sink.count
            finally:
                _clean_up(campaign=campaign, template=template, layout=layout)
            del ids
        baseline_seconds, baseline_cpu_seconds = _baseline(scale, sink.port)
        assert sink.count == received + scale, "the baseline's messages did not all arrive"
    yield result(
        bench="email_send", n=scale, seconds=seconds, per="e-mail", items=sent,
        baseline="the same SMTP server receiving pre-rendered messages from a plain smtplib loop",
        baseline_seconds=baseline_seconds, sent=sent, received=received,
        baseline_per_second=round(scale / baseline_seconds, 2), batch_size=BATCH_SIZE,
        cpu_seconds=round(cpu_seconds, 3), baseline_cpu_seconds=round(baseline_cpu_seconds, 3),
    )  # fmt: skip
