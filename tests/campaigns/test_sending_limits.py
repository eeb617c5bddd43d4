"""A frequency cap across campaigns and quiet hours in the contact's zone: the step waits,
nothing is dropped."""

from datetime import UTC, datetime, time, timedelta

import pytest

from campaigns.models import Enrollment, StepRun
from campaigns.services import campaign_enroll
from messaging.models import OutboxMessage, SendingRule
from tests.campaigns.conftest import NOW, published, run_due
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def mail(key: str) -> dict:
    return {"key": key, "type": "send_email", "subject": key, "body": "."}


def test_the_frequency_cap_holds_a_message_until_the_period_lets_it_go(as_marketer, clock):
    # given at most 2 e-mails a day per contact, and two campaigns that send 3 between them
    SendingRule.objects.create(channel="email", cap_messages=2, cap_days=1)
    contact = ContactFactory()
    first = published(name="First", steps=[mail("one"), mail("two")])
    second = published(
        name="Second", steps=[mail("three"), {"key": "tag", "type": "add_tag", "tags": ["after"]}]
    )
    campaign_enroll(campaign=first, contact_ids=[contact.pk])
    run_due()
    clock.shift(timedelta(hours=2))
    campaign_enroll(campaign=second, contact_ids=[contact.pk])

    # when the second campaign reaches its e-mail
    run_due()

    # then it waits, not yet run, until a day after the first e-mail
    held = Enrollment.objects.get(campaign=second)
    assert (held.status, held.step_key, held.next_run_at) == ("waiting", "three", NOW + timedelta(days=1))
    assert "frequency cap: 2 per 1 days" in held.context["held"]["reason"]
    assert not StepRun.objects.filter(enrollment=held).exists()
    assert OutboxMessage.objects.count() == 2

    # when the day has passed, it is sent, and the journey goes on
    clock.move_to(NOW + timedelta(days=1))
    run_due()
    held.refresh_from_db()
    assert held.status == "completed"
    assert sorted(OutboxMessage.objects.values_list("payload__subject", flat=True)) == ["one", "three", "two"]
    assert list(contact.tags.values_list("name", flat=True)) == ["after"]


def test_in_a_batch_only_the_contacts_at_their_cap_wait(as_marketer, clock):
    # given a cap of one e-mail a week, and one of three contacts already mailed
    SendingRule.objects.create(channel="email", cap_messages=1, cap_days=7)
    mailed, fresh, other = ContactFactory(), ContactFactory(), ContactFactory()
    earlier = published(name="Earlier", steps=[mail("earlier")])
    campaign_enroll(campaign=earlier, contact_ids=[mailed.pk])
    run_due()
    clock.shift(timedelta(hours=1))

    # when all three reach an e-mail in the same batch
    later = published(name="Later", steps=[mail("later")])
    campaign_enroll(campaign=later, contact_ids=[mailed.pk, fresh.pk, other.pk])
    run_due()

    # then the two fresh ones are sent to, the mailed one waits for its week to pass
    statuses = dict(Enrollment.objects.filter(campaign=later).values_list("contact_id", "status"))
    assert statuses == {mailed.pk: "waiting", fresh.pk: "completed", other.pk: "completed"}
    assert Enrollment.objects.get(campaign=later, contact=mailed).next_run_at == NOW + timedelta(days=7)


def test_the_cap_is_per_channel(as_marketer, clock):
    SendingRule.objects.create(channel="sms", cap_messages=1, cap_days=7)
    contact = ContactFactory(phone="+33612345678")
    campaign = published(steps=[mail("one"), {"key": "sms", "type": "send_sms", "body": "Hi"}, mail("two")])
    campaign_enroll(campaign=campaign, contact_ids=[contact.pk])

    run_due()

    assert Enrollment.objects.get().status == "completed"
    assert OutboxMessage.objects.count() == 3


def test_quiet_hours_in_the_contact_s_zone_hold_the_message_until_morning(as_marketer, clock):
    # given no SMS between 21:00 and 08:00, and a contact in Tokyo, where it is 18:00 at 09:00 UTC
    SendingRule.objects.create(channel="sms", quiet_start=time(21), quiet_end=time(8))
    tokyo = ContactFactory(timezone="Asia/Tokyo", phone="+81312345678")
    paris = ContactFactory(timezone="Europe/Paris", phone="+33612345678")
    campaign = published(
        steps=[{"key": "pause", "type": "wait", "hours": 4}, {"key": "sms", "type": "send_sms", "body": "Hi"}]
    )
    campaign_enroll(campaign=campaign, contact_ids=[tokyo.pk, paris.pk])
    run_due()

    # when the wait ends at 13:00 UTC: 22:00 in Tokyo, 14:00 in Paris
    clock.shift(timedelta(hours=4))
    run_due()

    # then Paris has its message; Tokyo's waits for 08:00 Tokyo (23:00 UTC)
    assert list(OutboxMessage.objects.values_list("contact_id", flat=True)) == [paris.pk]
    held = Enrollment.objects.get(contact=tokyo)
    assert (held.status, held.next_run_at) == ("waiting", datetime(2026, 11, 23, 23, tzinfo=UTC))
    clock.move_to(datetime(2026, 11, 23, 23, tzinfo=UTC))
    run_due()
    assert OutboxMessage.objects.filter(contact=tokyo).count() == 1


def test_a_capped_message_that_would_land_in_quiet_hours_waits_for_the_morning(as_marketer, clock):
    # the cap frees the contact at 21:30 Paris time: quiet hours then hold it until 08:00
    SendingRule.objects.create(
        channel="email", cap_messages=1, cap_days=1, quiet_start=time(21), quiet_end=time(8)
    )
    contact = ContactFactory(timezone="Europe/Paris")
    clock.move_to(datetime(2026, 11, 23, 20, 30, tzinfo=UTC))  # 21:30 Paris: quiet already
    OutboxMessage.objects.create(key="earlier", channel="email", contact=contact, payload={}, status="sent")
    clock.move_to(datetime(2026, 11, 24, 7, 30, tzinfo=UTC))  # 08:30 Paris
    campaign = published(steps=[mail("one")])
    campaign_enroll(campaign=campaign, contact_ids=[contact.pk])

    run_due()

    held = Enrollment.objects.get()
    assert held.next_run_at == datetime(2026, 11, 25, 7, tzinfo=UTC)  # 08:00 Paris, the day after
    assert held.context["held"]["reason"] == "frequency cap: 1 per 1 days, quiet hours 21:00 to 08:00"
