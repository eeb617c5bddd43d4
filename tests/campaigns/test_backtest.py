"""The backtest counts, from what the database keeps, how many contacts the triggers would
have enrolled over the last N days, and writes nothing."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Enrollment
from campaigns.selectors import campaign_backtest
from contacts import services as contact_services
from intents.models import Intent
from ledger.models import Action
from segments import services as segment_services
from segments.models import MembershipEvent
from tests.campaigns.conftest import NOW, published
from tests.factories import ContactFactory, TouchpointFactory

pytestmark = pytest.mark.django_db

TAG = [{"key": "tag", "type": "add_tag", "tags": ["welcomed"]}]
REGISTERED = {"kind": "touchpoint", "touchpoint_kinds": ["webinar_registration"],
              "touchpoint_filter": {"webinar": "spring"}}  # fmt: skip


def registration(contact, *, days_ago: float, webinar: str = "spring"):
    return TouchpointFactory(
        contact=contact, kind_id="webinar_registration", properties={"webinar": webinar},
        occurred_at=NOW - timedelta(days=days_ago),
    )  # fmt: skip


def test_touchpoint_triggers_count_contacts_and_times_in_the_window(as_marketer, clock):
    campaign = published(steps=TAG, triggers=[REGISTERED])
    twice, once, too_early, other_webinar = ContactFactory.create_batch(4)
    registration(twice, days_ago=1)
    registration(twice, days_ago=3)
    registration(once, days_ago=29)
    registration(too_early, days_ago=31)
    registration(other_webinar, days_ago=2, webinar="autumn")

    result = campaign_backtest(campaign=campaign, days=30)

    (row,) = result["triggers"]
    assert (row["contacts"], row["occurrences"]) == (2, 3)
    assert (result["contacts"], result["would_enroll"]) == (2, 2)  # once each: the re-entry policy
    assert not Enrollment.objects.exists()


def test_every_time_counts_each_occurrence_and_the_entry_filter_applies(as_marketer, clock):
    campaign = published(
        steps=TAG, triggers=[REGISTERED], reentry="always",
        entry_filter={"field": "country", "op": "eq", "value": "FR"},
    )  # fmt: skip
    french, german = ContactFactory(country="FR"), ContactFactory(country="DE")
    for days_ago in (1, 2, 3):
        registration(french, days_ago=days_ago)
    registration(german, days_ago=1)

    result = campaign_backtest(campaign=campaign, days=7)

    assert (result["contacts"], result["entry_filter_keeps"], result["would_enroll"]) == (2, 1, 3)


def test_segment_intent_field_and_mql_triggers_read_their_history(as_marketer, clock):
    segment = segment_services.segment_create(
        name="French", slug="french", conditions={"field": "country", "op": "eq", "value": "FR"}
    )
    intent = Intent.objects.values_list("key", flat=True).first()
    campaign = published(
        steps=TAG,
        triggers=[
            {"kind": "segment_entered", "segment": "french"},
            {"kind": "intent_detected", "intent": intent, "min_confidence": 0.6},
            {"kind": "field_changed", "field": "lifecycle_stage", "value": "customer"},
            {"kind": "field_changed", "field": "attributes.plan"},
            {"kind": "score_crossed"},
            {"kind": "manual"},
        ],
    )
    entered, detected, unsure, customer, lead, upgraded, hot = ContactFactory.create_batch(7)
    MembershipEvent.objects.create(segment=segment, contact=entered, kind="entered", occurred_at=NOW)
    MembershipEvent.objects.create(segment=segment, contact=lead, kind="exited", occurred_at=NOW)
    for contact, confidence in ((detected, 0.9), (unsure, 0.3)):
        Action.objects.create(
            actor_kind="algorithmic", actor_type="task", actor_name="test", category="scoring",
            verb="intent.detected", contact_id=contact.pk, occurred_at=NOW,
            details={"intent": intent, "confidence": confidence},
        )  # fmt: skip
    contact_services.contact_update(contact=customer, data={"lifecycle_stage": "customer"})
    contact_services.contact_update(contact=lead, data={"lifecycle_stage": "lead"})
    contact_services.contact_update(contact=upgraded, data={"attributes": {"plan": "pro"}})
    Action.objects.create(
        actor_kind="algorithmic", actor_type="task", actor_name="test", category="scoring",
        verb="contact.mql_reached", contact_id=hot.pk, occurred_at=NOW,
    )  # fmt: skip

    result = campaign_backtest(campaign=campaign, days=1)

    counts = {row["description"]: row["contacts"] for row in result["triggers"]}
    assert list(counts.values()) == [1, 1, 1, 1, 1, 0]
    assert "history cannot say" in result["triggers"][-1]["note"]
    assert result["contacts"] == 5  # entered, detected, customer, upgraded, hot


def test_date_and_schedule_triggers_count_their_occurrences(as_marketer, clock):
    ContactFactory(attributes={"renewal_on": "2026-11-25"})
    ContactFactory(attributes={"renewal_on": "2026-12-25"})
    ContactFactory.create_batch(2, country="FR")
    segment = segment_services.segment_create(
        name="French", slug="french", conditions={"field": "country", "op": "eq", "value": "FR"}
    )
    segment_services.segment_rebuild(segment=segment, now=timezone.now())
    campaign = published(
        steps=TAG, reentry="always",
        triggers=[
            # a week before the renewal: 18 November, inside the last 14 days
            {"kind": "date", "field": "attributes.renewal_on", "offset_days": -7, "time_of_day": "09:00"},
            # every Monday at 08:00: two Mondays in the last 14 days
            {"kind": "schedule", "segment": "french", "weekdays": [0], "time_of_day": "08:00"},
        ],
    )  # fmt: skip

    result = campaign_backtest(campaign=campaign, days=14)

    dates, schedule = result["triggers"]
    assert (dates["contacts"], dates["occurrences"]) == (1, 1)
    assert (schedule["contacts"], schedule["occurrences"]) == (2, 4)
    assert result["would_enroll"] == 5


def test_the_api_backtests_and_refuses_a_bad_window(writer, as_marketer, clock):
    campaign = published(steps=TAG, triggers=[REGISTERED])
    registration(ContactFactory(), days_ago=1)
    url = f"/api/v1/campaigns/{campaign.pk}/backtest/"

    answer = writer.get(url, {"days": 7})
    refused = writer.get(url, {"days": 0})

    assert (answer.status_code, answer.json()["would_enroll"]) == (200, 1)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["path"] == "days"


def test_the_simulation_page_shows_the_backtest(client, marketer, as_marketer, clock):
    campaign = published(steps=TAG, triggers=[REGISTERED], name="<b>Spring</b>")
    registration(ContactFactory(), days_ago=1)
    client.force_login(marketer)

    page = client.get(reverse("admin:campaigns_campaign_simulate", args=[campaign.pk]), {"days": 30})

    assert page.status_code == 200
    assert page.context["backtest"]["would_enroll"] == 1
    assert 'id="backtest-result"' in page.content.decode()
    assert "<b>Spring</b>" not in page.content.decode()
