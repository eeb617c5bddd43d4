"""`segment_latency`: a touchpoint posted to the running API (gunicorn) reaches the
segment's members through a real Celery worker. Load: RATE touchpoints per second in
requests of BATCH for SECONDS; each touchpoint is the first click of a new contact, so each
one must enter the segment. The latency of a touchpoint runs from just before its request
was sent to the moment its contact entered (`Membership.entered_at`, the worker's clock,
the same machine's). Target: p95 under 1 s. Baseline: the API request alone (median).
Everything is committed (other processes serve it) and deleted afterwards.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import httpx
from django.conf import settings
from django.utils import timezone

from common.db import database_url
from contacts.models import Contact, PendingTouchpoint, Touchpoint
from ledger.api_keys import api_key_create
from ledger.context import Actor, acting_as
from ledger.models import Action, ApiKey, Integration
from mops.benchmarks import benchmark, result
from mops.benchmarks.ingest_api import BASE_DIR, _free_port, _serve, _wait_until_up
from segments.models import Membership, MembershipEvent, Segment
from segments.services import segment_create

RATE = 200
BATCH = 10
SECONDS = 10


def _worker() -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_TASK_DEFAULT_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
    }
    env.setdefault("SECRET_KEY", "bench-only")
    command = [
        sys.executable, "-m", "celery", "-A", "mops", "worker", "--pool", "threads", "--concurrency", "4",
        "--loglevel", "WARNING", "--queues", settings.CELERY_TASK_DEFAULT_QUEUE, "--without-gossip",
        "--without-mingle", "--without-heartbeat", "--hostname", f"bench-{os.getpid()}@%h",
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=BASE_DIR, env=env)


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@benchmark(
    "segment_latency",
    default_scale=RATE * SECONDS,
    description="API touchpoint to segment member, real worker",
)
def segment_latency(scale: int) -> Iterator[dict]:
    run = f"l{uuid.uuid4().hex[:8]}"
    integration_name = f"Benchmark {run}"
    _, raw_key = api_key_create(integration_name=integration_name, scopes=["read", "write"])
    with acting_as(Actor.for_command("bench")):
        segment = segment_create(
            name=f"Bench latency {run}",
            conditions={"all": [{"field": "email", "op": "ends_with", "value": f"@{run}.example.net"},
                                {"touchpoint": {"kind": "email_click"}, "within": "1d"}]},
        )  # fmt: skip
    port = _free_port()
    server, worker = _serve(port), _worker()
    sent: dict[str, datetime] = {}
    request_seconds: list[float] = []
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(f"{base}/health/", server)
        batches = [
            [{"email": f"p{n}@{run}.example.net", "kind": "email_click", "external_id": f"{run}-{n}"}
             for n in range(start, min(start + BATCH, scale))]
            for start in range(0, scale, BATCH)
        ]  # fmt: skip
        client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {raw_key}"}, timeout=30)

        def post(batch: list[dict]) -> None:
            now = timezone.now()
            for item in batch:
                sent[item["email"]] = now
            started = time.perf_counter()
            response = client.post("/api/v1/touchpoints/", json=batch)
            request_seconds.append(time.perf_counter() - started)
            if response.status_code != 201:
                raise RuntimeError(f"{response.status_code} {response.text[:300]}")

        interval = BATCH / RATE
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=8) as pool:
            futures = []
            for index, batch in enumerate(batches):
                # A steady rate: each request leaves at its own moment, however slow the last was.
                delay = started + index * interval - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                futures.append(pool.submit(post, batch))
            for future in futures:
                future.result()
        deadline = time.monotonic() + 60
        while Membership.objects.filter(segment=segment).count() < scale and time.monotonic() < deadline:
            time.sleep(0.2)
        entered = dict(Membership.objects.filter(segment=segment).values_list("contact__email", "entered_at"))
        client.close()
    finally:
        _stop(worker)
        _stop(server)
    latencies = sorted((entered[email] - sent[email]).total_seconds() for email in entered)
    try:
        yield result(
            bench="segment_latency",
            n=scale,
            seconds=latencies[int(len(latencies) * 0.95) - 1] if latencies else float("inf"),
            baseline="the API request alone (median)",
            baseline_seconds=statistics.median(request_seconds),
            per="touchpoint",
            measure="p95 from the request to the contact in the segment",
            median_seconds=round(statistics.median(latencies), 6) if latencies else None,
            max_seconds=round(latencies[-1], 6) if latencies else None,
            entered=len(latencies),
            rate_per_second=RATE,
            batch_size=BATCH,
            target_seconds=1.0,
        )
    finally:
        _clean_up(run, integration_name, segment)


def _clean_up(run: str, integration_name: str, segment: Segment) -> None:
    contacts = Contact.objects.filter(email__endswith=f"@{run}.example.net")
    contact_ids = list(contacts.values_list("pk", flat=True))
    MembershipEvent.objects.filter(segment=segment).delete()
    Membership.objects.filter(segment=segment).delete()
    Action.objects.filter(contact_id__in=contact_ids).delete()
    Action.objects.filter(object_type="segments.segment", object_id=str(segment.pk)).delete()
    PendingTouchpoint.objects.filter(
        touchpoint_id__in=Touchpoint.objects.filter(contact_id__in=contact_ids).values("pk")
    ).delete()
    Touchpoint.objects.filter(contact_id__in=contact_ids).delete()
    contacts.delete()
    segment.delete()
    ApiKey.objects.filter(integration__name=integration_name).delete()
    Integration.objects.filter(name=integration_name).delete()
