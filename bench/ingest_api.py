"""Touchpoints posted to the running API (gunicorn, a real socket) in batches of 500,
end to end: HTTP, authentication, validation, contacts created on the fly, the ledger.

Target: at least 5,000 touchpoints per second. Baseline: a raw COPY of the same rows into
an unindexed table, the least any write path could cost. The rows are committed (another
process serves them) and deleted afterwards.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from django.db import connection, transaction

from bench import benchmark, result
from bench.api_load import run_contacts_delete
from common.db import database_url
from contacts.models import Touchpoint
from ledger.api_keys import api_key_create

logging.getLogger("httpx").setLevel(logging.WARNING)

BATCH = 500
CLIENTS = 4
BASE_DIR = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _batches(scale: int, run: str) -> list[list[dict]]:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    people = max(1, scale // 5)
    items = [
        {
            "email": f"person{n % people}@{run}.example.net",
            "kind": "page_view" if n % 3 else "email_click",
            "occurred_at": (start + timedelta(seconds=n)).isoformat(),
            "properties": {"path": f"/pricing/{n % 17}"},
            "external_id": f"{run}-{n}",
        }
        for n in range(scale)
    ]
    return [items[i : i + BATCH] for i in range(0, scale, BATCH)]


def _serve(port: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url(), "API_RATE_PER_KEY": "100000/min"}
    env.setdefault("SECRET_KEY", "bench-only")
    command = [
        sys.executable, "-m", "gunicorn", "mops.wsgi", "--bind", f"127.0.0.1:{port}",
        "--workers", "2", "--threads", "2", "--log-level", "warning",
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=BASE_DIR, env=env)


def _wait_until_up(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the API server exited before it answered")
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
            time.sleep(0.2)
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("the API server did not answer within 60 s")


def _raw_copy_seconds(batches: list[list[dict]]) -> float:
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_raw (email text, kind text, occurred_at timestamptz, properties jsonb, "
            "external_id text) ON COMMIT DROP"
        )
        with cursor.copy("COPY bench_raw FROM STDIN") as copy:
            for batch in batches:
                for item in batch:
                    copy.write_row(
                        (
                            item["email"],
                            item["kind"],
                            item["occurred_at"],
                            json.dumps(item["properties"]),
                            item["external_id"],
                        )
                    )
    return time.perf_counter() - started


@benchmark(
    "ingest_api", default_scale=100_000, description="touchpoints posted to the running API in batches of 500"
)
def ingest_api(scale: int) -> Iterator[dict]:
    run = f"b{uuid.uuid4().hex[:8]}"
    integration_name = f"Benchmark {run}"
    _, raw_key = api_key_create(integration_name=integration_name, scopes=["read", "write"])
    try:
        batches = _batches(scale, run)
        created, seconds = _post_all(batches, raw_key)
        baseline_seconds = _raw_copy_seconds(batches)
        stored = Touchpoint.objects.filter(external_id__startswith=f"{run}-").count()
    finally:
        # What the server committed is removed however the run ended.
        run_contacts_delete(run, integration_name)
    yield result(
        bench="ingest_api",
        n=scale,
        seconds=seconds,
        baseline="raw COPY of the same rows into an unindexed table",
        baseline_seconds=baseline_seconds,
        per="touchpoint",
        items=scale,
        batch_size=BATCH,
        target_per_second=5000,
        created=created,
        stored=stored,
    )


def _post_all(batches: list[list[dict]], raw_key: str) -> tuple[int, float]:
    """Post every batch to a freshly started server; (touchpoints created, seconds taken)."""
    port = _free_port()
    server = _serve(port)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(f"{base}/health/", server)
        headers = {"Authorization": f"Bearer {raw_key}"}
        clients = [httpx.Client(base_url=base, headers=headers, timeout=60) for _ in range(CLIENTS)]

        def post(index: int) -> int:
            response = clients[index % CLIENTS].post("/api/v1/touchpoints/", json=batches[index])
            if response.status_code != 201:
                raise RuntimeError(f"batch {index}: {response.status_code} {response.text[:300]}")
            return response.json()["created"]

        try:
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
                created = sum(pool.map(post, range(len(batches))))
            return created, time.perf_counter() - started
        finally:
            for client in clients:
                client.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
