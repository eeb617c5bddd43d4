"""Whatever happens to contacts, the membership kept up incrementally is the one a full
rebuild computes: the full rebuild afterwards finds nothing to change."""

import random
from datetime import UTC, datetime, timedelta

import time_machine

from contacts import services as contact_services
from segments import services
from segments.models import Membership
from tests.factories import AccountFactory, ContactFactory

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TREES = {
    "French": {"field": "country", "op": "eq", "value": "FR"},
    "Clicked twice": {"touchpoint": {"kind": "email_click"}, "count": {"op": "gte", "value": 2},
                      "within": "30d"},
    "Never viewed": {"touchpoint": {"kind": "page_view"}, "count": {"op": "eq", "value": 0}},
    "VIP not customer": {"all": [{"tag": "vip"},
                                 {"not": {"field": "lifecycle_stage", "op": "eq", "value": "customer"}}]},
    "Company on pricing": {"account_touchpoint": {"kind": "page_view", "where": [
        {"field": "properties.path", "op": "starts_with", "value": "/pricing"}]}},
    "Subscribed big company": {"all": [{"field": "consent.email", "op": "eq", "value": "subscribed"},
                                       {"field": "account.employees", "op": "gte", "value": 100}]},
}  # fmt: skip


def test_incremental_membership_equals_a_full_rebuild(
    as_robot, django_capture_on_commit_callbacks, celery_eager
):
    rng = random.Random(7)
    with time_machine.travel(NOW, tick=False):
        accounts = [AccountFactory(employees=rng.choice([5, 500])) for _ in range(3)]
        people = [ContactFactory(account=rng.choice([None, *accounts])) for _ in range(12)]
        with django_capture_on_commit_callbacks(execute=True):
            segments = [services.segment_create(name=name, conditions=tree) for name, tree in TREES.items()]
            used = services.segment_create(
                name="French VIP", conditions={"all": [{"segment": "french"}, {"tag": "vip"}]}
            )
        segments.append(used)

        # when 80 random things happen, each announced as it would be in production
        for _ in range(80):
            person = rng.choice(people)
            person.refresh_from_db()
            change = rng.randrange(5)
            with django_capture_on_commit_callbacks(execute=True):
                if change == 0:
                    contact_services.touchpoint_create(
                        contact=person, kind=rng.choice(["email_click", "page_view"]),
                        properties={"path": rng.choice(["/pricing", "/blog"])},
                        occurred_at=NOW - timedelta(days=rng.randrange(40)),
                    )  # fmt: skip
                elif change == 1:
                    contact_services.contact_update(
                        contact=person, data={"country": rng.choice(["FR", "DE"])}
                    )
                elif change == 2:
                    contact_services.contact_tags_add(contact=person, names=["VIP"])
                elif change == 3:
                    contact_services.contact_tags_remove(contact=person, names=["vip"])
                else:
                    contact_services.contact_consent_set(
                        contact=person, channel="email", status=rng.choice(["subscribed", "unsubscribed"])
                    )
        before = set(Membership.objects.values_list("segment_id", "contact_id"))

        # then a full rebuild of every segment changes nothing
        for segment in segments:
            for slug, diff in services.segment_rebuild(segment=segment).items():
                assert (slug, diff.entered, diff.exited) == (slug, 0, 0)
    assert set(Membership.objects.values_list("segment_id", "contact_id")) == before
    assert len(before) > 5  # the random changes did put people in segments
