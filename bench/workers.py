"""Real Celery worker processes and the broker's queue, for the benchmarks that need them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from amqp.exceptions import ChannelError
from django.conf import settings

from common.db import database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def worker_start(
    *, name: str, pool: str = "solo", concurrency: int = 1, env: dict | None = None
) -> subprocess.Popen:
    environment = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_TASK_DEFAULT_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        **(env or {}),
    }
    environment.setdefault("SECRET_KEY", "bench-only")
    command = [
        sys.executable, "-m", "celery", "-A", "mops", "worker", "--pool", pool,
        "--concurrency", str(concurrency), "--loglevel", "WARNING",
        "--queues", settings.CELERY_TASK_DEFAULT_QUEUE, "--without-gossip", "--without-mingle",
        "--without-heartbeat", "--hostname", f"bench-{name}-{os.getpid()}@%h",
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=BASE_DIR, env=environment)


def worker_stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def queue_length() -> int:
    """Messages waiting in the default queue of the broker."""
    from mops.celery import app

    with app.connection_for_read() as connection:
        channel = connection.default_channel
        try:
            return channel.queue_declare(settings.CELERY_TASK_DEFAULT_QUEUE, passive=True).message_count
        except ChannelError:
            return 0  # Redis drops the key of an empty queue


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str, every: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(every)


def noop_seconds(n: int, *, workers: list[subprocess.Popen]) -> float:
    """N no-op tasks through the broker and the workers: from the first publish to an empty
    queue (each worker holds at most one more, a no-op)."""
    from mops.tasks import noop_task

    started = time.perf_counter()
    for number in range(n):
        noop_task.delay(n=number)
    wait_until(lambda: _alive(workers) and queue_length() == 0, timeout=600, what="the no-op tasks")
    return time.perf_counter() - started


def _alive(workers: list[subprocess.Popen]) -> bool:
    for process in workers:
        if process.poll() is not None:
            raise RuntimeError(f"a worker exited with {process.returncode}")
    return True
