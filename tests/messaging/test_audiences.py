import csv
import hashlib
import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from contacts.services import suppression_add
from ledger.models import Action
from messaging import audiences as audiences_module
from messaging.audiences import AudienceError, audience_sync, audiences_due_claim, audiences_sync_due
from messaging.models import Audience, AudienceSync
from messaging.signing import signature_valid
from segments.services import segment_create, static_members_add
from tests.factories import AccountFactory, ContactFactory
from tests.messaging.httpserver import Reply

pytestmark = pytest.mark.django_db


def sha(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()


@pytest.fixture
def people(as_robot):
    """A static list of five: two who may be targeted, one unsubscribed, one hard-bounced,
    one erased; and someone outside the list."""
    account = AccountFactory(name="Acme")
    ok1 = ContactFactory(
        email="ann@acme.com", first_name="Ann", last_name="Lee", city="Lyon", country="FR", account=account,
        attributes={"address": "1 rue de la Paix", "postal_code": "69001"},
    )  # fmt: skip
    ok2 = ContactFactory(email="bob@example.org", first_name="Bob", city="Gent", country="BE")
    unsubscribed = ContactFactory(
        email="uma@example.org", consent_email="unsubscribed", attributes={"address": "x"}
    )
    bounced = ContactFactory(email="bea@example.org", attributes={"address": "y"})
    suppression_add(channel="email", address="bea@example.org", reason="hard_bounce")
    erased = ContactFactory(email="erased-99@erased.invalid", attributes={"address": "z"})
    ContactFactory(email="outsider@example.org")
    segment = segment_create(name="Webinar attendees", slug="attendees", kind="static")
    static_members_add(segment=segment, contact_ids=[ok1.pk, ok2.pk, unsubscribed.pk, bounced.pk, erased.pk])
    return segment


def rows(sync: AudienceSync) -> list[dict]:
    with sync.file.open("rb") as file:
        return list(csv.DictReader(io.StringIO(file.read().decode())))


def test_an_ad_audience_is_hashed_emails_without_the_suppressed_or_unsubscribed(people):
    audience = Audience.objects.create(name="Retargeting", segment=people, kind="ads_csv")

    sync = audience_sync(audience=audience)

    assert rows(sync) == [{"email_sha256": sha("ann@acme.com")}, {"email_sha256": sha("bob@example.org")}]
    assert (sync.status, sync.members, sync.excluded) == ("done", 2, 3)
    action = Action.objects.get(verb="audience.synced")
    assert (action.category, action.channel, action.actor_kind) == ("ads", "ads", "algorithmic")
    assert action.details["members"] == 2
    audience.refresh_from_db()
    assert audience.last_synced_at is not None


def test_a_direct_mail_audience_is_postal_addresses_of_those_who_have_one(people):
    audience = Audience.objects.create(name="Christmas cards", segment=people, kind="postal_csv")

    sync = audience_sync(audience=audience)

    assert rows(sync) == [
        {
            "first_name": "Ann", "last_name": "Lee", "company": "Acme", "address": "1 rue de la Paix",
            "postal_code": "69001", "city": "Lyon", "country": "FR",
        }
    ]  # fmt: skip
    assert Action.objects.get(verb="audience.synced").category == "direct_mail"


def test_a_webhook_audience_posts_signed_chunks(people, local_server, monkeypatch):
    # given chunks of one member
    monkeypatch.setattr(audiences_module, "WEBHOOK_CHUNK", 1)
    audience = Audience.objects.create(
        name="CDP", segment=people, kind="webhook", url=f"{local_server.url}/audiences", secret="cdp-secret"
    )

    # when
    sync = audience_sync(audience=audience)

    # then
    bodies = [json.loads(request.body) for request in local_server.requests]
    assert [(b["part"], b["final"], b["members"]) for b in bodies] == [
        (1, False, [sha("ann@acme.com")]), (2, False, [sha("bob@example.org")]), (3, True, []),
    ]  # fmt: skip
    for request in local_server.requests:
        assert signature_valid(
            secret="cdp-secret", body=request.body, header=request.headers["x-mops-signature"]
        )
    assert sync.members == 2


def test_a_refused_webhook_sync_is_recorded_as_failed(people, local_server):
    local_server.replies = [Reply(status=500, body=b"down")]
    audience = Audience.objects.create(name="CDP", segment=people, kind="webhook", url=local_server.url)

    with pytest.raises(AudienceError, match="refused part 1"):
        audience_sync(audience=audience)

    sync = AudienceSync.objects.get()
    assert sync.status == "failed" and "HTTP 500" in sync.error
    assert not Action.objects.filter(verb="audience.synced").exists()


def test_scheduled_audiences_are_claimed_once_per_period(people, celery_eager):
    every_day = Audience.objects.create(name="Daily", segment=people, kind="ads_csv", every_hours=24)
    Audience.objects.create(name="On demand", segment=people, kind="ads_csv")
    now = timezone.now()

    assert audiences_due_claim(now=now) == [every_day.pk]
    assert audiences_due_claim(now=now + timedelta(hours=23)) == []
    # a day later, the beat task claims it and a worker syncs it
    assert audiences_sync_due(now=now + timedelta(hours=24)) == 1
    sync = AudienceSync.objects.get(audience=every_day)
    assert sync.status == "done"
    assert Action.objects.get(verb="audience.synced").actor_type == "task"


def test_the_command_syncs_by_name(people, capsys):
    Audience.objects.create(name="Retargeting", segment=people, kind="ads_csv")

    call_command("sync_audience", "Retargeting")

    assert capsys.readouterr().out.startswith("sent 2, left out 3, file ")
    assert Action.objects.get(verb="audience.synced").actor_kind == "manual"


def test_the_command_names_the_audiences_it_knows(people):
    Audience.objects.create(name="Retargeting", segment=people, kind="ads_csv")
    with pytest.raises(Exception, match="no audience 'Nope'; audiences: Retargeting"):
        call_command("sync_audience", "Nope")


def test_the_api_creates_and_syncs_an_audience(people, writer):
    created = writer.post(
        "/api/v1/audiences/",
        {"name": "Retargeting", "segment": "attendees", "kind": "ads_csv"},
        format="json",
    )
    assert created.status_code == 201, created.content

    synced = writer.post(f"/api/v1/audiences/{created.json()['id']}/sync/")

    assert synced.status_code == 200
    assert (synced.json()["members"], synced.json()["excluded"]) == (2, 3)
    action = Action.objects.get(verb="audience.synced")
    assert (action.actor_kind, action.actor_type) == ("algorithmic", "integration")


def test_the_api_refuses_a_webhook_audience_without_url(people, writer):
    response = writer.post(
        "/api/v1/audiences/", {"name": "CDP", "segment": "attendees", "kind": "webhook"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "url"


def test_the_admin_syncs_on_demand(people, admin_client):
    audience = Audience.objects.create(name="Retargeting", segment=people, kind="ads_csv")

    response = admin_client.post(
        "/admin/messaging/audience/", {"action": "sync_now", "_selected_action": [audience.pk]}, follow=True
    )

    assert "Retargeting: 2 sent, 3 left out" in response.content.decode()
    assert Action.objects.get(verb="audience.synced").actor_kind == "manual"
    page = admin_client.get(f"/admin/messaging/audience/{audience.pk}/change/")
    assert "download" in page.content.decode()
