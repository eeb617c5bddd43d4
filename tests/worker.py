"""A real Celery worker process for tests: same broker as the settings, the test
database, and this run's own queue (see tests/environment.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings

from common.db import database_url

BASE_DIR = Path(__file__).resolve().parent.parent


class WorkerProcess:
    def __init__(self, log_path: Path):
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> WorkerProcess:
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "CELERY_TASK_DEFAULT_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        }
        command = [
            sys.executable, "-m", "celery", "-A", "mops", "worker", "--pool", "solo", "--loglevel", "INFO",
            "--queues", settings.CELERY_TASK_DEFAULT_QUEUE, "--without-gossip", "--without-mingle",
            "--without-heartbeat", "--hostname", f"test-{os.getpid()}@%h",
        ]  # fmt: skip
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command, cwd=BASE_DIR, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # warm shutdown: finishes the task at hand
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(
        self, condition: Callable[[], bool], *, timeout: float = 60, what: str = "the worker"
    ) -> None:
        """Poll the database until condition holds; fail with the worker's log otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            if self.process.poll() is not None:
                raise AssertionError(f"the worker exited with {self.process.returncode}:\n{self.output()}")
            time.sleep(0.2)
        raise AssertionError(f"{what} did not happen within {timeout:.0f} s; worker log:\n{self.output()}")
