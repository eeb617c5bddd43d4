"""Loaded by pytest before Django's settings (`-p tests.environment` in pyproject), so
that what it sets here reaches the settings and every subprocess the tests start."""

import os
import uuid

# Each run gets its own queue: a worker started by a test never takes a message left
# by another run, or by a `make run` sharing the same broker.
os.environ.setdefault("CELERY_TASK_DEFAULT_QUEUE", f"mops-test-{uuid.uuid4().hex[:10]}")
os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-production")
# Playwright's sync API keeps an event loop in the main thread; Django's guard against
# ORM calls from async code would otherwise refuse the live server's test fixtures.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
