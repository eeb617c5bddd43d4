"""A database migrated before the outbox, routing and privacy left campaigns, full of rows,
migrates forward with every row where the new apps expect it: no row copied, none lost."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from messaging.models import DeliveryAttempt, EmailTemplate, OutboxMessage
from routing.models import LeadAssignment, Task, Team

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [
    ("campaigns", "0007_database_cascades_for_tasks_and_leads"),
    ("messaging", None),
    ("routing", None),
]
AT = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


def _leaves():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.fixture
def old_schema():
    """The schema of before the move, and the way back to today's whatever happens."""
    executor = _migrate(BEFORE)
    try:
        yield executor.loader.project_state(BEFORE[0]).apps
    finally:
        _migrate(_leaves())


def test_a_populated_database_migrates_forward_with_its_rows_in_the_new_apps(old_schema):
    # given rows written with the models as they were, in campaigns
    old = old_schema
    contact = old.get_model("contacts", "Contact").objects.create(
        email="ada@example.org", created_at=AT, updated_at=AT
    )
    user = old.get_model("auth", "User").objects.create(username="sam")
    campaign = old.get_model("campaigns", "Campaign").objects.create(name="Welcome", steps=[])
    version = old.get_model("campaigns", "CampaignVersion").objects.create(
        campaign=campaign, number=1, steps=[]
    )
    enrollment = old.get_model("campaigns", "Enrollment").objects.create(
        campaign=campaign, version=version, contact=contact, status="completed"
    )
    message = old.get_model("campaigns", "OutboxMessage").objects.create(
        key="k" * 64, channel="email", campaign=campaign, enrollment=enrollment, contact=contact,
        payload={"to": contact.email, "template": "hello"}, status="sent", attempts=1, sent_at=AT,
    )  # fmt: skip
    lost = old.get_model("campaigns", "OutboxMessage").objects.create(
        key="s" * 64, channel="sms", contact=contact, payload={"body": "Hi"}, status="sending", attempts=1
    )
    old.get_model("campaigns", "DeliveryAttempt").objects.create(
        message=message, number=1, ok=True, status_code=250
    )
    old.get_model("campaigns", "EmailTemplate").objects.create(
        name="Hello", slug="hello", subject="Hi", text="Hello"
    )
    team = old.get_model("campaigns", "Team").objects.create(name="Sales", slug="sales", lead=user)
    lead = old.get_model("campaigns", "LeadAssignment").objects.create(
        contact=contact, owner=user, team=team, rule="team sales", campaign=campaign, assigned_at=AT
    )
    old.get_model("campaigns", "Task").objects.create(
        title="Call Ada", contact=contact, assignee=user, campaign=campaign, assignment=lead
    )

    # when the database migrates forward
    _migrate(_leaves())

    # then every row is in its new app, pointing back to its campaign by an origin
    moved = OutboxMessage.objects.get(key="k" * 64)
    assert (moved.origin_type, moved.origin_id, moved.status, moved.payload["template"]) == (
        "campaign", campaign.pk, "sent", "hello",
    )  # fmt: skip
    assert DeliveryAttempt.objects.get(message=moved).status_code == 250
    # a message its worker left in `sending` before claims existed may have gone: a person decides
    assert OutboxMessage.objects.get(pk=lost.pk).status == "unknown"
    assert OutboxMessage.objects.get(pk=lost.pk).origin_type == ""
    assert EmailTemplate.objects.get().slug == "hello"
    assert Team.objects.get().lead_id == user.pk
    assert (LeadAssignment.objects.get().origin_type, LeadAssignment.objects.get().origin_id) == (
        "campaign", campaign.pk,
    )  # fmt: skip
    task = Task.objects.get()
    assert (task.origin_type, task.origin_id, task.assignment_id) == ("campaign", campaign.pk, lead.pk)
    # the tables kept their names: nothing was copied
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM campaigns_outboxmessage")
        assert cursor.fetchone()[0] == 2
