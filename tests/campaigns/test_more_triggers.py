"""Triggers on a changed field, the MQL threshold, an intent, a date and a schedule."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from campaigns.engine.triggers import timed_triggers_poll
from campaigns.models import Enrollment
from campaigns.services import CampaignError
from contacts import services as contact_services
from contacts.models import Touchpoint
from intents.models import Intent
from intents.scoring import lead_score_crossed
from intents.signals import intents_detected
from segments import services as segment_services
from tests.campaigns.conftest import published
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

TAG = [{"key": "tag", "type": "add_tag", "tags": ["welcomed"]}]


def enrolled() -> list[int]:
    return sorted(Enrollment.objects.values_list("contact_id", flat=True))


def test_a_field_changed_to_a_value_enrolls_only_those_with_that_value(as_marketer, clock):
    published(
        steps=TAG, reentry="always",
        triggers=[{"kind": "field_changed", "field": "lifecycle_stage", "value": "customer"}],
    )  # fmt: skip
    customer, lead, untouched = ContactFactory(), ContactFactory(), ContactFactory(lifecycle_stage="customer")
    contact_services.contact_update(contact=customer, data={"lifecycle_stage": "customer"})
    contact_services.contact_update(contact=lead, data={"lifecycle_stage": "lead"})

    # when the contacts app announces the change (another field's change enrolls nobody)
    contact_services.contacts_changed_announce(contact_ids=[untouched.pk], fields=["city"])
    contact_services.contacts_changed_announce(contact_ids=[customer.pk, lead.pk], fields=["lifecycle_stage"])

    assert enrolled() == [customer.pk]


def test_a_field_changed_to_anything_and_attributes_announced_as_a_whole(as_marketer, clock):
    published(steps=TAG, triggers=[{"kind": "field_changed", "field": "attributes.plan"}])
    contact = ContactFactory(attributes={"plan": "pro"})

    contact_services.contacts_changed_announce(contact_ids=[contact.pk], fields=["attributes"])

    assert enrolled() == [contact.pk]


def test_a_new_contact_counts_as_a_change_when_it_comes_with_the_field(as_marketer, clock):
    published(steps=TAG, triggers=[{"kind": "field_changed", "field": "attributes.plan"}])
    with_plan, without = ContactFactory(attributes={"plan": "pro"}), ContactFactory()

    contact_services.contacts_changed_announce(contact_ids=[with_plan.pk, without.pk], fields=["*"])

    assert enrolled() == [with_plan.pk]


def test_reaching_the_mql_threshold_enrolls(as_marketer, clock):
    published(steps=TAG, triggers=[{"kind": "score_crossed"}])
    anne, bert = ContactFactory.create_batch(2)

    lead_score_crossed.send(sender=None, contact_ids=[anne.pk, bert.pk])

    assert enrolled() == [anne.pk, bert.pk]


def test_an_intent_detected_enrolls_with_its_touchpoint(as_marketer, clock):
    key = Intent.objects.values_list("key", flat=True).first()
    published(steps=TAG, triggers=[{"kind": "intent_detected", "intent": key, "min_confidence": 0.6}])
    sure, unsure = ContactFactory(), ContactFactory()
    touchpoint = Touchpoint.objects.create(contact=sure, kind_id="page_view", channel="web")

    intents_detected.send(
        sender=None,
        detections=[
            {"contact_id": sure.pk, "intent": key, "confidence": 0.9, "touchpoint_id": touchpoint.pk},
            {"contact_id": unsure.pk, "intent": key, "confidence": 0.3, "touchpoint_id": None},
            {"contact_id": unsure.pk, "intent": "another", "confidence": 0.99, "touchpoint_id": None},
        ],
    )

    enrollment = Enrollment.objects.get()
    assert (enrollment.contact_id, enrollment.context["touchpoint"]) == (sure.pk, touchpoint.pk)


def test_days_before_a_contact_date_at_a_time_in_its_zone_enrolls_once(as_marketer, clock):
    # given a trigger a week before the renewal, at 09:00 in each contact's zone
    published(
        steps=TAG,
        reentry="always",
        triggers=[
            {"kind": "date", "field": "attributes.renewal_on", "offset_days": -7, "time_of_day": "09:00"}
        ],
    )
    paris = ContactFactory(timezone="Europe/Paris", attributes={"renewal_on": "2026-12-01"})
    later = ContactFactory(timezone="Europe/Paris", attributes={"renewal_on": "2026-12-02"})
    ContactFactory(attributes={"renewal_on": "not a date"})
    ContactFactory(attributes={"renewal_on": "2026-02-30"})

    # when beat reads it just before, at, and after 09:00 Paris on 24 November
    clock.move_to(datetime(2026, 11, 24, 7, 59, tzinfo=UTC))
    assert timed_triggers_poll(now=timezone.now()) == 0
    clock.move_to(datetime(2026, 11, 24, 8, 0, tzinfo=UTC))
    first = timed_triggers_poll(now=timezone.now())
    Enrollment.objects.update(status="completed")  # done, and "every time" would let them in again
    clock.shift(timedelta(minutes=1))
    again = timed_triggers_poll(now=timezone.now())

    # then the contact enters once; the other one's day has not come
    assert (first, again) == (1, 0)
    assert enrolled() == [paris.pk]
    clock.move_to(datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
    timed_triggers_poll(now=timezone.now())
    assert enrolled() == sorted([paris.pk, later.pk])


def test_a_day_before_a_touchpoint_date(as_marketer, clock):
    published(
        steps=TAG,
        triggers=[{"kind": "date", "touchpoint_kinds": ["webinar_registration"],
                   "touchpoint_filter": {"w": "1"}, "field": "properties.event_at", "offset_days": -1,
                   "time_of_day": "10:00"}],
    )  # fmt: skip
    registered, other = ContactFactory(), ContactFactory()
    mine = Touchpoint.objects.create(
        contact=registered, kind_id="webinar_registration", channel="web",
        properties={"w": "1", "event_at": "2026-11-26T15:00:00Z"},
    )  # fmt: skip
    Touchpoint.objects.create(
        contact=other, kind_id="webinar_registration", channel="web",
        properties={"w": "2", "event_at": "2026-11-26T15:00:00Z"},
    )  # fmt: skip

    clock.move_to(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    timed_triggers_poll(now=timezone.now())

    enrollment = Enrollment.objects.get()
    assert (enrollment.contact_id, enrollment.context["touchpoint"]) == (registered.pk, mine.pk)


def test_a_schedule_enrolls_the_segment_s_members_each_time_it_comes(as_marketer, clock):
    # given the French, every Monday at 09:00 (the clock starts on a Monday at 09:00)
    anne, bert = ContactFactory(country="FR"), ContactFactory(country="FR")
    segment = segment_services.segment_create(
        name="French", slug="french", conditions={"field": "country", "op": "eq", "value": "FR"}
    )
    segment_services.segment_rebuild(segment=segment, now=timezone.now())
    published(
        steps=TAG, reentry="always",
        triggers=[{"kind": "schedule", "segment": "french", "weekdays": [0], "time_of_day": "09:00"}],
    )  # fmt: skip

    # when beat reads it during the week, then on the next Monday at 09:00, twice
    clock.shift(timedelta(days=3))
    assert timed_triggers_poll(now=timezone.now()) == 0
    clock.move_to(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    assert timed_triggers_poll(now=timezone.now()) == 2
    assert timed_triggers_poll(now=timezone.now()) == 0

    # then the members entered once for that Monday
    assert enrolled() == sorted([anne.pk, bert.pk])


@pytest.mark.parametrize(
    ("trigger", "path", "message"),
    [
        ({"kind": "field_changed", "field": "colour"}, "triggers[0].field", "colour"),
        ({"kind": "intent_detected", "intent": "nope"}, "triggers[0].intent", "no intent with the"),
        ({"kind": "date", "field": "birthday"}, "triggers[0].field", "expected the contact's date"),
        ({"kind": "date", "field": "created_at", "time_of_day": "25:00"}, "triggers[0].time_of_day", "HH:MM"),
        ({"kind": "date", "touchpoint_kinds": ["webinar_registration"], "field": "created_at"},
         "triggers[0].field", "expected the touchpoint's date"),
        ({"kind": "schedule", "segment": "nope", "time_of_day": "09:00"}, "triggers[0].segment", "no seg"),
        ({"kind": "schedule", "segment": "x", "weekdays": [9]}, "triggers[0].weekdays", "0 (Monday)"),
    ],
)  # fmt: skip
def test_bad_triggers_are_refused_with_their_paths(as_marketer, trigger, path, message):
    with pytest.raises(CampaignError) as caught:
        published(steps=TAG, triggers=[trigger])
    assert any(where == path and message in text for where, text in caught.value.errors), caught.value.errors
