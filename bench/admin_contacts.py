"""The admin's contact list at scale: the page a marketer opens most.

Target: under 500 ms with 1,000,000 contacts. Baseline: the hand-written SQL query that
fetches the same page of rows, i.e. the least any list page could cost.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse

from bench import benchmark, median_seconds, result, rolled_back
from demo.seed import demo_contacts_copy

PAGE_SQL = """
    SELECT c.id, c.email, c.first_name, c.last_name, a.name, c.country, c.lifecycle_stage,
           c.score, c.consent_email, c.updated_at
      FROM contacts_contact c LEFT JOIN contacts_account a ON a.id = c.account_id
     {where}
     ORDER BY c.id DESC LIMIT 50
"""
CASES = [
    # name, admin query string, the same page in SQL
    ("list", {}, "", []),
    ("filter", {"lifecycle_stage__exact": "customer"}, "WHERE c.lifecycle_stage = %s", ["customer"]),
    (
        "search",
        {"q": "robotics"},
        "WHERE upper(c.email) LIKE %s OR upper(c.first_name) LIKE %s OR upper(c.last_name) LIKE %s "
        "OR c.account_id = ANY(ARRAY(SELECT id FROM contacts_account WHERE upper(name) LIKE %s))",
        ["%ROBOTICS%"] * 4,
    ),
]


@benchmark(
    "admin_contacts", default_scale=1_000_000, description="the admin's contact list (list, filter, search)"
)
def admin_contacts(scale: int) -> Iterator[dict]:
    lines: list[dict] = []
    with rolled_back():
        started = time.perf_counter()
        demo_contacts_copy(count=scale)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE contacts_contact; ANALYZE contacts_account")
        load_seconds = time.perf_counter() - started
        user = get_user_model().objects.create_superuser("bench-admin", "bench@example.com", "bench-pass")
        client = Client()
        client.force_login(user)
        url = reverse("admin:contacts_contact_changelist")
        for name, params, where, sql_params in CASES:

            def page(params=params):
                response = client.get(url, params)
                if response.status_code != 200:
                    raise RuntimeError(f"the admin answered {response.status_code}")

            def baseline(where=where, sql_params=sql_params):
                with connection.cursor() as cursor:
                    cursor.execute(PAGE_SQL.format(where=where), sql_params)
                    cursor.fetchall()

            with override_settings(ALLOWED_HOSTS=["*"]):
                seconds = median_seconds(page)
            lines.append(
                result(
                    bench=f"admin_contacts.{name}",
                    n=scale,
                    seconds=seconds,
                    baseline="hand-written SQL for the same page of 50 rows",
                    baseline_seconds=median_seconds(baseline),
                    per="page",
                    target_seconds=0.5,
                    load_seconds=round(load_seconds, 1),
                )
            )
    with connection.cursor() as cursor:
        # ANALYZE's statistics are not transactional: bring them back to the real table.
        cursor.execute("ANALYZE contacts_contact; ANALYZE contacts_account")
    yield from lines
