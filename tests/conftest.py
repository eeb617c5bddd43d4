import os

import pytest
import time_machine
from rest_framework.test import APIClient

from ledger.api_keys import api_key_create, api_key_revoke
from ledger.context import Actor, acting_as
from mops.roles import ADMIN, MARKETER, VIEWER
from tests.clock import NOW
from tests.factories import UserFactory


@pytest.fixture
def clock():
    """The clock stands still at NOW until the test moves it."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def as_robot(db):
    """Run the test body as software (an algorithmic actor)."""
    with acting_as(Actor.for_task("tests.robot")) as actor:
        yield actor


@pytest.fixture
def marketer(db):
    return UserFactory(username="maya", role=MARKETER)


@pytest.fixture
def viewer(db):
    return UserFactory(username="victor", role=VIEWER)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="ada", role=ADMIN, is_superuser=True)


@pytest.fixture
def as_marketer(marketer):
    with acting_as(Actor.for_user(marketer)) as actor:
        yield actor


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path):
    """A real `celery worker` process (not eager mode) against the configured broker."""
    from tests.worker import WorkerProcess

    worker = WorkerProcess(tmp_path / "worker.log").start()
    try:
        yield worker
    finally:
        worker.stop()


@pytest.fixture(autouse=True)
def broker_kept():
    """No test leaves the Celery app (or the workers the next test starts) talking to
    another broker than the one the run was started with."""
    from mops.celery import app

    before = (os.environ.get("CELERY_BROKER_URL"), app.conf.broker_url)
    yield
    after = (os.environ.get("CELERY_BROKER_URL"), app.conf.broker_url)
    assert after == before, f"the test changed the broker (variable, setting) from {before} to {after}"


@pytest.fixture
def celery_eager():
    """Tasks run in the test's own process when sent (the worker tests use a real worker)."""
    from mops.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploaded files go to the test's own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


# --- API clients: each holds a key of its own integration ---------------------------


def _client_with(scopes, *, revoked=False, name="Webinar tool"):
    api_key, raw_key = api_key_create(integration_name=name, scopes=scopes)
    if revoked:
        api_key_revoke(api_key=api_key)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    client.api_key = api_key
    return client


@pytest.fixture
def writer(db):
    return _client_with(["read", "write"])


@pytest.fixture
def reader(db):
    return _client_with(["read"], name="BI dashboard")


@pytest.fixture
def revoked(db):
    return _client_with(["read", "write"], revoked=True)


@pytest.fixture
def writer_key(db):
    _, raw_key = api_key_create(integration_name="Fuzzer", scopes=["read", "write"])
    return raw_key
