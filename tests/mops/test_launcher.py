"""`make run` on a machine with nothing configured: embedded PostgreSQL, filesystem
broker, demo data, and web + worker + beat under honcho; Ctrl-C stops it all."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from email.header import decode_header, make_header
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def printed(output: str) -> set[str]:
    """Which demo campaigns' first e-mails the worker's console back-end printed."""
    subjects = [
        str(make_header(decode_header(value)))
        for value in re.findall(r"^.*worker\.1 +\| Subject: (.+?)\r?$", output, re.MULTILINE)
    ]
    return {
        name
        for name, ending in (("welcome", ", welcome to Northwind"), ("webinar", ": Thursday, 4 pm CET"))
        if any(subject.endswith(ending) for subject in subjects)
    }


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.mark.worker
def test_make_run_serves_the_admin_with_demo_data_and_stops_cleanly(tmp_path):
    # given a machine with no database or broker configured
    port = free_port()
    env = {
        key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "CELERY_BROKER_URL")
    }
    env.update({"MOPS_VAR_DIR": str(tmp_path / "var"), "PORT": str(port), "SECRET_KEY": ""})
    log_path = tmp_path / "run.log"

    # when the launcher starts
    with log_path.open("wb") as log:
        launcher = subprocess.Popen(
            [sys.executable, "-m", "mops.launcher", "run"],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            # then the login page answers (the promise is: within 90 s)
            deadline = time.monotonic() + 90
            while not answers(f"http://127.0.0.1:{port}/admin/login/"):
                assert launcher.poll() is None, log_path.read_text(errors="replace")
                assert time.monotonic() < deadline, "no login page after 90 s:\n" + log_path.read_text(
                    errors="replace"
                )
                time.sleep(0.5)
            output = log_path.read_text(errors="replace")
            assert "Loaded" in output and "mops-demo" in output
            for process in ("web.1", "worker.1", "beat.1"):
                assert process in output

            # and the worker takes the demo's last hour through both campaigns, whose e-mails
            # the console back-end prints
            deadline = time.monotonic() + 60
            while not {"welcome", "webinar"} <= printed(log_path.read_text(errors="replace")):
                assert time.monotonic() < deadline, (
                    "no demo e-mail printed after 60 s:\n" + log_path.read_text(errors="replace")
                )
                time.sleep(0.5)
        finally:
            # when Ctrl-C reaches the whole process group, as from a terminal
            os.killpg(launcher.pid, signal.SIGINT)
            try:
                launcher.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(launcher.pid, signal.SIGKILL)
                raise

    # then everything stopped in order, the database last
    output = log_path.read_text(errors="replace")
    assert launcher.returncode == 0, output
    assert "SIGKILL" not in output
    assert not answers(f"http://127.0.0.1:{port}/admin/login/")
    assert not (tmp_path / "var" / "pgdata" / "postmaster.pid").exists()
