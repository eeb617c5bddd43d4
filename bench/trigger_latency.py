"""`trigger_latency`: a touchpoint posted to the running API (gunicorn) enrolls its contact
in a campaign through a real Celery worker, and the journey's first step, an e-mail, is in
the outbox. Load: RATE touchpoints per second in requests of BATCH; each is the first
touchpoint of a new contact. The latency of a touchpoint runs from just before its request
was sent to the moment a poller (every 20 ms) first sees its message committed in the
outbox. Target: p95 under 1 s. Baseline: the API request alone (median). Everything is
committed (other processes serve it) and deleted afterwards.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator

from django.db import connection, connections

from bench import benchmark, result
from bench.api_load import (
    BATCH,
    RATE,
    SECONDS,
    first_clicks,
    p95_counting_missing,
    post_paced,
    run_contacts_delete,
    run_with_key,
)
from bench.ingest_api import _free_port, _serve, _wait_until_up
from bench.workers import worker_start, worker_stop
from campaigns.models import Campaign, Enrollment
from campaigns.services import campaign_create, campaign_publish
from contacts.models import Contact
from ledger.context import Actor, acting_as
from ledger.models import Action

POLL = 0.02
SWEEP = 1.0


@benchmark(
    "trigger_latency",
    default_scale=RATE * SECONDS,
    description="API touchpoint to the campaign's first e-mail in the outbox, real worker",
)
def trigger_latency(scale: int) -> Iterator[dict]:
    run, integration_name, raw_key = run_with_key("t")
    with acting_as(Actor.for_command("bench")):
        campaign = campaign_create(
            name=f"Bench trigger {run}",
            steps=[
                {
                    "key": "hello",
                    "type": "send_email",
                    "subject": "Thanks {{ contact.email }}",
                    "body": "Hi.",
                },
                {"key": "later", "type": "wait", "days": 3},
            ],
            triggers=[
                {"kind": "touchpoint", "touchpoint_kinds": ["email_click"], "touchpoint_filter": {"run": run}}
            ],
        )
        campaign_publish(campaign=campaign)
    port = _free_port()
    mail = tempfile.mkdtemp(prefix="mops-trigger-mail-")
    server = _serve(port)
    worker = worker_start(name=run, pool="threads", concurrency=4, env={"EMAIL_URL": f"filemail:///{mail}"})
    sent: dict[str, float] = {}
    seen: dict[int, float] = {}
    stop = threading.Event()

    def poll() -> None:
        # Every POLL the messages past the last id seen; every SWEEP all not seen yet, since
        # parallel commits can make a message visible after one with a higher id (those few
        # are then timed late, never early). Cheap enough not to slow what it measures.
        try:
            known: set[int] = set()
            last, swept = 0, time.monotonic()
            while not stop.is_set():
                sweep = time.monotonic() - swept > SWEEP
                with connection.cursor() as cursor:
                    if sweep:
                        cursor.execute(
                            "SELECT id, contact_id FROM campaigns_outboxmessage"
                            " WHERE origin_type = 'campaign' AND origin_id = %s",
                            [campaign.pk],
                        )
                        swept = time.monotonic()
                    else:
                        cursor.execute(
                            "SELECT id, contact_id FROM campaigns_outboxmessage"
                            " WHERE origin_type = 'campaign' AND origin_id = %s AND id > %s",
                            [campaign.pk, last],
                        )
                    now = time.time()
                    for message_id, contact_id in cursor.fetchall():
                        if message_id not in known:
                            known.add(message_id)
                            seen.setdefault(contact_id, now)
                            last = max(last, message_id)
                time.sleep(POLL)
        finally:
            connections.close_all()

    poller = threading.Thread(target=poll, daemon=True)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(f"{base}/health/", server)
        poller.start()
        request_seconds = post_paced(
            base=base, raw_key=raw_key, batches=first_clicks(run, scale, BATCH, {"run": run}), rate=RATE,
            sent=sent, clock=time.time,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while len(seen) < scale and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
        if poller.is_alive():
            poller.join(timeout=10)
        worker_stop(worker)
        worker_stop(server)
    emails = dict(Contact.objects.filter(email__endswith=f"@{run}.example.net").values_list("pk", "email"))
    latencies = sorted(at - sent[emails[contact_id]] for contact_id, at in seen.items())
    entered = dict(Enrollment.objects.filter(campaign=campaign).values_list("contact_id", "entered_at"))
    to_enrolled = [entered[c].timestamp() - sent[emails[c]] for c in seen if c in entered]
    try:
        yield result(
            bench="trigger_latency",
            n=scale,
            seconds=p95_counting_missing(latencies, scale),
            baseline="the API request alone (median)",
            baseline_seconds=statistics.median(request_seconds),
            per="touchpoint",
            measure="p95 from the request to the contact's first e-mail in the outbox",
            median_seconds=round(statistics.median(latencies), 6) if latencies else None,
            max_seconds=round(latencies[-1], 6) if latencies else None,
            in_outbox=len(latencies),
            median_to_enrolled_seconds=round(statistics.median(to_enrolled), 6) if to_enrolled else None,
            rate_per_second=RATE,
            batch_size=BATCH,
            target_seconds=1.0,
        )
    finally:
        _clean_up(run, integration_name, campaign)
        shutil.rmtree(mail, ignore_errors=True)


def _clean_up(run: str, integration_name: str, campaign: Campaign) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM campaigns_outboxmessage WHERE origin_type = 'campaign' AND origin_id = %s",
            [campaign.pk],
        )
        cursor.execute("DELETE FROM campaigns_steprun WHERE campaign_id = %s", [campaign.pk])
        cursor.execute("DELETE FROM campaigns_enrollment WHERE campaign_id = %s", [campaign.pk])
    Action.objects.filter(object_type="campaigns.campaign", object_id=str(campaign.pk)).delete()
    run_contacts_delete(run, integration_name)
    campaign.delete()
