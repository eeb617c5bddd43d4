"""Generated requests from our own OpenAPI schema: no 5xx, and every response matches
the schema. Bounded: a fixed number of examples per operation, no deadline."""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import checks as st_checks

from mops.wsgi import application

# The schema view reads no table, so the schema can be loaded when the tests are collected.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.fixture
def wsgi_keeps_the_test_connection(db):
    # Called straight through WSGI, Django would close the test's connection at the end of
    # each request (as Django's own test client prevents), losing the test transaction.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_own_schema(case, writer_key, wsgi_keeps_the_test_connection):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {writer_key}"},
        checks=[st_checks.not_a_server_error, st_checks.response_schema_conformance],
    )
