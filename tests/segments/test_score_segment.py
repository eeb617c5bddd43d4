"""A segment on the lead score follows the scoring rules by itself: a scored touchpoint
brings a contact in, and the score's decay takes it out, with no rebuild by anyone."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from contacts import services as contact_services
from contacts.models import Contact
from intents.models import ScoringRule
from intents.tasks import lead_scores_refresh_task
from ledger.models import Action
from segments import services
from segments.models import Membership, MembershipEvent
from tests.factories import ContactFactory

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
HOT = {"field": "score", "op": "gte", "value": 30}


def members(segment) -> set[str]:
    return set(Membership.objects.filter(segment=segment).values_list("contact__email", flat=True))


def no_rebuild(**kwargs):
    raise AssertionError("the segment was rebuilt: it should have followed the score by itself")


@pytest.fixture
def demo_request_rule(db):
    # 40 points for asking for a demo, halving every day
    return ScoringRule.objects.create(
        name="Demo request",
        kind="engagement",
        touchpoint_kind_id="form_submit",
        conditions=[{"property": "form", "operator": "equals", "value": "demo"}],
        points=40,
        half_life_hours=24,
    )


def test_a_segment_on_the_score_gains_a_scored_contact_and_loses_it_as_the_score_fades(
    as_robot, demo_request_rule, django_capture_on_commit_callbacks, celery_eager, monkeypatch
):
    # given a segment of contacts scoring at least 30, and a contact at 0 outside it
    ContactFactory(email="anne@example.net", score=0)
    with time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks(execute=True):
        hot = services.segment_create(name="Hot leads", conditions=HOT)
    assert members(hot) == set()
    monkeypatch.setattr(services, "segment_rebuild", no_rebuild)

    # when she asks for a demo through the ingest service (queued, then reacted to by a worker)
    with time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks(execute=True):
        contact_services.contact_capture(
            email="anne@example.net", kind="form_submit", properties={"form": "demo"}
        )

    # then the rule scores her and the segment takes her in, without a rebuild
    assert Contact.objects.get(email="anne@example.net").score == 40
    assert members(hot) == {"anne@example.net"}

    # when a day later half the points are left (20), and the periodic refresh runs
    with (
        time_machine.travel(T0 + timedelta(hours=24), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert lead_scores_refresh_task.delay().get() == 1

    # then the score fell and the segment let her go, again without a rebuild
    assert Contact.objects.get(email="anne@example.net").score == 20
    assert members(hot) == set()
    anne = Contact.objects.get(email="anne@example.net")
    events = MembershipEvent.objects.filter(segment=hot, contact=anne).order_by("pk")
    assert list(events.values_list("kind", "occurred_at")) == [
        ("entered", T0),
        ("exited", T0 + timedelta(hours=24)),
    ]
    assert list(
        Action.objects.filter(contact_id=anne.pk, verb__startswith="segment.")
        .order_by("pk")
        .values_list("verb", "actor_kind")
    ) == [("segment.entered", "algorithmic"), ("segment.exited", "algorithmic")]
