"""`segment_latency`: a touchpoint posted to the running API (gunicorn) reaches the
segment's members through a real Celery worker. Load: RATE touchpoints per second in
requests of BATCH for SECONDS; each touchpoint is the first click of a new contact, so each
one must enter the segment. The latency of a touchpoint runs from just before its request
was sent to the moment its contact entered (`Membership.entered_at`, the worker's clock,
the same machine's). Target: p95 under 1 s. Baseline: the API request alone (median).
Everything is committed (other processes serve it) and deleted afterwards.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from datetime import datetime

from django.utils import timezone

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
from ledger.context import Actor, acting_as
from ledger.models import Action
from segments.models import Membership, MembershipEvent, Segment
from segments.services import segment_create


@benchmark(
    "segment_latency",
    default_scale=RATE * SECONDS,
    description="API touchpoint to segment member, real worker",
)
def segment_latency(scale: int) -> Iterator[dict]:
    run, integration_name, raw_key = run_with_key("l")
    with acting_as(Actor.for_command("bench")):
        segment = segment_create(
            name=f"Bench latency {run}",
            conditions={"all": [{"field": "email", "op": "ends_with", "value": f"@{run}.example.net"},
                                {"touchpoint": {"kind": "email_click"}, "within": "1d"}]},
        )  # fmt: skip
    port = _free_port()
    server, worker = _serve(port), worker_start(name=run, pool="threads", concurrency=4)
    sent: dict[str, datetime] = {}
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(f"{base}/health/", server)
        request_seconds = post_paced(
            base=base,
            raw_key=raw_key,
            batches=first_clicks(run, scale, BATCH),
            rate=RATE,
            sent=sent,
            clock=timezone.now,
        )
        deadline = time.monotonic() + 60
        while Membership.objects.filter(segment=segment).count() < scale and time.monotonic() < deadline:
            time.sleep(0.2)
        entered = dict(Membership.objects.filter(segment=segment).values_list("contact__email", "entered_at"))
    finally:
        worker_stop(worker)
        worker_stop(server)
    latencies = sorted((entered[email] - sent[email]).total_seconds() for email in entered)
    try:
        yield result(
            bench="segment_latency",
            n=scale,
            seconds=p95_counting_missing(latencies, scale),
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
    MembershipEvent.objects.filter(segment=segment).delete()
    Membership.objects.filter(segment=segment).delete()
    Action.objects.filter(object_type="segments.segment", object_id=str(segment.pk)).delete()
    run_contacts_delete(run, integration_name)
    segment.delete()
