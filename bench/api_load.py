"""What the latency benchmarks share: first touchpoints of new contacts posted to the running
API at a steady rate, the p95 that counts what never arrived, and the run's data removed."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from contacts.models import Contact, PendingTouchpoint, Touchpoint
from ledger.api_keys import api_key_create
from ledger.models import Action, ApiKey, Integration

# The load both latency benchmarks put on the API: RATE touchpoints a second, in requests of
# BATCH, for SECONDS by default.
RATE = 200
BATCH = 10
SECONDS = 10


def run_with_key(prefix: str) -> tuple[str, str, str]:
    """A run's name, its integration's name and a new API key of that integration."""
    run = f"{prefix}{uuid.uuid4().hex[:8]}"
    integration_name = f"Benchmark {run}"
    _, raw_key = api_key_create(integration_name=integration_name, scopes=["read", "write"])
    return run, integration_name, raw_key


def first_clicks(run: str, scale: int, batch: int, properties: dict | None = None) -> list[list[dict]]:
    """`scale` e-mail clicks, each the first touchpoint of a new contact of this run."""
    return [
        [
            {"email": f"p{n}@{run}.example.net", "kind": "email_click", "external_id": f"{run}-{n}",
             "properties": properties or {}}
            for n in range(start, min(start + batch, scale))
        ]
        for start in range(0, scale, batch)
    ]  # fmt: skip


def post_paced(
    *, base: str, raw_key: str, batches: list[list[dict]], rate: float, sent: dict, clock: Callable
) -> list[float]:
    """Post the batches at `rate` touchpoints per second, each request leaving at its own
    moment however slow the last one was; `sent[email]` is when its request left, by
    `clock`. Returns each request's duration."""
    request_seconds: list[float] = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {raw_key}"}, timeout=30) as client:

        def post(batch: list[dict]) -> None:
            now = clock()
            for item in batch:
                sent[item["email"]] = now
            started = time.perf_counter()
            response = client.post("/api/v1/touchpoints/", json=batch)
            request_seconds.append(time.perf_counter() - started)
            if response.status_code != 201:
                raise RuntimeError(f"{response.status_code} {response.text[:300]}")

        interval = len(batches[0]) / rate if batches else 0
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=8) as pool:
            futures = []
            for index, batch in enumerate(batches):
                delay = started + index * interval - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                futures.append(pool.submit(post, batch))
            for future in futures:
                future.result()
    return request_seconds


def p95_counting_missing(latencies: list[float], expected: int) -> float:
    """The 95th percentile of `expected` latencies, those that never came counting as
    infinitely late."""
    late = sorted(latencies) + [float("inf")] * max(expected - len(latencies), 0)
    return late[max(int(len(late) * 0.95) - 1, 0)] if late else float("inf")


def run_contacts_delete(run: str, integration_name: str) -> list[int]:
    """Remove the run's contacts, their touchpoints and actions, and its API key; returns
    the contacts' ids (gone by then) for whatever else the caller must remove first."""
    contact_ids = list(
        Contact.objects.filter(email__endswith=f"@{run}.example.net").values_list("pk", flat=True)
    )
    Action.objects.filter(contact_id__in=contact_ids).delete()
    PendingTouchpoint.objects.filter(
        touchpoint_id__in=Touchpoint.objects.filter(contact_id__in=contact_ids).values("pk")
    ).delete()
    Touchpoint.objects.filter(contact_id__in=contact_ids).delete()
    Contact.objects.filter(pk__in=contact_ids).delete()
    ApiKey.objects.filter(integration__name=integration_name).delete()
    Integration.objects.filter(name=integration_name).delete()
    return contact_ids
