"""`journey`: N contacts enrolled at once into a five-step journey (tag, branch, send an
e-mail, adjust the score, exit) are moved through it by two real Celery worker processes
(solo pool each), the e-mails written by Django's file back-end. Measured: from the
enrollment to the last enrollment finished, as step executions per second; then, apart and
up to 10,000 contacts, until every message was delivered (each message's key is counted in
the files written). Baseline: the throughput of no-op Celery tasks (5,000 at most) through
the same broker and the same two workers, in the same run. Everything is committed (other processes do
the work) and deleted afterwards.
"""

from __future__ import annotations

import re
import resource
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from django.db import connection, transaction

from bench import benchmark, result
from bench.workers import noop_seconds, queue_length, wait_until, worker_start, worker_stop
from campaigns.enrollment import enroll
from campaigns.models import LIVE, Campaign, Enrollment, StepRun
from campaigns.services import campaign_create, campaign_publish
from common.columns import insert_columns
from contacts.models import Contact
from ledger.context import Actor, acting_as
from messaging.models import OutboxMessage
from mops.celery import app

WORKERS = 2
MESSAGE_KEY = re.compile(r"^X-Message-Key:\s+([0-9a-f]{64})", re.MULTILINE)  # the value may be folded
BASELINE_TASKS = 5_000  # no-op tasks timed for the baseline's throughput
DELIVERY_AWAITED = 10_000  # up to this scale the run also waits for every e-mail to be written
STEPS = [
    {"key": "tag", "type": "add_tag", "tags": ["journey-bench"]},
    {"key": "french", "type": "branch", "conditions": {"field": "country", "op": "eq", "value": "FR"},
     "yes": "mail", "no": "mail"},
    {"key": "mail", "type": "send_email", "subject": "Hello {{ contact.first_name }}",
     "body": "Dear {{ contact.first_name }} {{ contact.last_name }}, welcome."},
    {"key": "score", "type": "adjust_score", "by": 5},
    {"key": "done", "type": "exit"},
]  # fmt: skip


def _contacts(n: int, run: str) -> list[int]:
    columns, values = insert_columns(
        Contact,
        {
            "email": "'p' || i || '@' || %s || '.example.net'", "first_name": "'First' || i",
            "last_name": "'Last'", "country": "(ARRAY['FR', 'BE', 'DE', 'GB', 'US'])[1 + i %% 5]",
            "lifecycle_stage": "'lead'",
        },
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO contacts_contact ({columns})
            SELECT {values} FROM generate_series(1, %s) i
            RETURNING id
            """,
            [run, n],
        )
        return [row[0] for row in cursor.fetchall()]


@benchmark("journey", default_scale=100_000, description="N contacts through a 5-step journey, two workers")
def journey(scale: int) -> Iterator[dict]:
    run = f"j{uuid.uuid4().hex[:8]}"
    mail = Path(tempfile.mkdtemp(prefix="mops-journey-mail-"))
    with transaction.atomic(), acting_as(Actor.for_command("bench")):
        contact_ids = _contacts(scale, run)
        campaign = campaign_create(name=f"Bench journey {run}", steps=STEPS)
        campaign_publish(campaign=campaign)
        campaign.refresh_from_db()
    env = {"EMAIL_URL": f"filemail:///{mail}"}
    workers = [worker_start(name=f"{run}-{index}", env=env) for index in range(WORKERS)]
    try:
        noop_seconds(20, workers=workers)  # both workers up and listening
        baseline_n = min(scale, BASELINE_TASKS)
        baseline_seconds = noop_seconds(baseline_n, workers=workers)

        started = time.perf_counter()
        enrollment_ids = enroll(campaign=campaign, contact_ids=contact_ids, now=_now())
        enrolled = time.perf_counter()
        live = Enrollment.objects.filter(campaign=campaign, status__in=LIVE)
        wait_until(lambda: _running(workers) and not live.exists(), timeout=3600, what="every enrollment")
        seconds = time.perf_counter() - started
        delivered_seconds = None
        if scale <= DELIVERY_AWAITED:
            pending = OutboxMessage.objects.filter(
                origin_type="campaign", origin_id=campaign.pk, status__in=["pending", "sending"]
            )
            wait_until(lambda: _running(workers) and not pending.exists(), timeout=3600, what="every e-mail")
            delivered_seconds = round(time.perf_counter() - started, 3)
            wait_until(lambda: queue_length() == 0, timeout=600, what="an empty queue")
    finally:
        for process in workers:
            worker_stop(process)
        app.control.purge()  # deliveries not awaited: their messages are deleted below
    steps = StepRun.objects.filter(campaign=campaign).count()
    statuses = dict(
        Enrollment.objects.filter(campaign=campaign).values_list("status").annotate(n=_count()).order_by()
    )
    messages = OutboxMessage.objects.filter(origin_type="campaign", origin_id=campaign.pk)
    keys = [key for path in mail.iterdir() for key in MESSAGE_KEY.findall(path.read_text())]
    try:
        yield result(
            bench="journey", n=scale, seconds=seconds, per="step", items=steps,
            baseline=f"{baseline_n} no-op Celery tasks through the same broker and {WORKERS} workers",
            baseline_seconds=baseline_seconds, baseline_n=baseline_n,
            baseline_per_second=round(baseline_n / baseline_seconds, 2),
            workers=WORKERS, enrolled=len(enrollment_ids), enroll_seconds=round(enrolled - started, 3),
            steps=steps, statuses=statuses, messages=messages.count(),
            messages_sent=messages.filter(status="sent").count(), mails_written=len(keys),
            mails_distinct=len(set(keys)), delivered_seconds=delivered_seconds,
            workers_peak_rss_mb=round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
            target_per_second=2000,
        )  # fmt: skip
    finally:
        _clean_up(campaign, contact_ids, mail)


def _now():
    from django.utils import timezone

    return timezone.now()


def _count():
    from django.db.models import Count

    return Count("id")


def _running(workers) -> bool:
    for process in workers:
        if process.poll() is not None:
            raise RuntimeError(f"a worker exited with {process.returncode}")
    return True


def _clean_up(campaign: Campaign, contact_ids: list[int], mail: Path) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM campaigns_outboxmessage WHERE origin_type = 'campaign' AND origin_id = %s",
            [campaign.pk],
        )
        cursor.execute("DELETE FROM campaigns_steprun WHERE campaign_id = %s", [campaign.pk])
        cursor.execute("DELETE FROM campaigns_enrollment WHERE campaign_id = %s", [campaign.pk])
        cursor.execute("DELETE FROM ledger_action WHERE contact_id = ANY(%s)", [contact_ids])
        cursor.execute(
            "DELETE FROM ledger_action WHERE object_type = 'campaigns.campaign' AND object_id = %s",
            [str(campaign.pk)],
        )
        cursor.execute("DELETE FROM contacts_contacttag WHERE contact_id = ANY(%s)", [contact_ids])
        cursor.execute("DELETE FROM contacts_contact WHERE id = ANY(%s)", [contact_ids])
        campaign.delete()
        cursor.execute(
            "DELETE FROM contacts_tag t WHERE t.name = %s"
            " AND NOT EXISTS (SELECT 1 FROM contacts_contacttag ct WHERE ct.tag_id = t.id)",
            [STEPS[0]["tags"][0]],
        )
    for path in mail.iterdir():
        path.unlink()
    mail.rmdir()
