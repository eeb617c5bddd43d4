from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from contacts.models import Contact
from contacts.services import touchpoints_announce
from intents.models import EngagementPoints, ScoringRule
from intents.scoring import contacts_rescore, lead_score_crossed, lead_score_explain, lead_scores_refresh
from ledger.models import Action
from tests.factories import AccountFactory, ContactFactory, TouchpointFactory

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


@pytest.fixture
def rules(db, settings):
    settings.LEAD_SCORE_MQL_THRESHOLD = 60
    ScoringRule.objects.create(
        name="Big company",
        kind="fit",
        conditions=[{"property": "account.employees", "operator": "at_least", "value": 200}],
        points=30,
    )
    ScoringRule.objects.create(
        name="Marketing title",
        kind="fit",
        conditions=[{"property": "job_title", "operator": "contains", "value": "marketing"}],
        points=10,
    )
    ScoringRule.objects.create(
        name="Pricing visit",
        kind="engagement",
        touchpoint_kind_id="page_view",
        conditions=[{"property": "path", "operator": "starts_with", "value": "/pricing"}],
        points=20,
        half_life_hours=24,
    )


def visit(contact, path="/pricing"):
    return TouchpointFactory(contact=contact, kind_id="page_view", properties={"path": path})


def test_score_is_fit_plus_decayed_engagement_over_a_frozen_clock(as_robot, rules):
    contact = ContactFactory(job_title="Head of Marketing", account=AccountFactory(employees=500), score=0)
    with time_machine.travel(T0, tick=False):
        touchpoints_announce(touchpoint_ids=[visit(contact).pk, visit(contact, "/blog").pk])
    contact.refresh_from_db()
    assert contact.score == 30 + 10 + 20

    # a day later the visit counts half; the refresh lowers the score
    with time_machine.travel(T0 + timedelta(hours=24), tick=False):
        assert lead_scores_refresh() == 1
    contact.refresh_from_db()
    assert contact.score == 50

    # a new visit then adds to what is left: 10 + 20
    with time_machine.travel(T0 + timedelta(hours=24), tick=False):
        touchpoints_announce(touchpoint_ids=[visit(contact).pk])
    assert EngagementPoints.objects.get(contact=contact).points == pytest.approx(30)
    contact.refresh_from_db()
    assert contact.score == 70


def test_the_explanation_lists_each_rule_with_its_points_now(as_robot, rules):
    contact = ContactFactory(job_title="CMO", account=AccountFactory(employees=250))
    with time_machine.travel(T0, tick=False):
        touchpoints_announce(touchpoint_ids=[visit(contact).pk])

    lines = lead_score_explain(contact=contact, at=T0 + timedelta(hours=48))

    assert [(line["rule"], line["kind"], line["points"]) for line in lines] == [
        ("Big company", "fit", 30.0),
        ("Pricing visit", "engagement", 5.0),
    ]
    assert lines[0]["why"] == "account.employees is at least 200"


def test_reaching_the_threshold_is_recorded_and_announced_once(
    as_robot, rules, django_capture_on_commit_callbacks
):
    heard = []

    def listener(sender, contact_ids, **kwargs):
        heard.extend(contact_ids)

    lead_score_crossed.connect(listener)
    try:
        contact = ContactFactory(job_title="Marketing lead", account=AccountFactory(employees=900), score=0)
        with django_capture_on_commit_callbacks(execute=True):
            touchpoints_announce(touchpoint_ids=[visit(contact).pk])
        with django_capture_on_commit_callbacks(execute=True):
            touchpoints_announce(touchpoint_ids=[visit(contact).pk])
    finally:
        lead_score_crossed.disconnect(listener)

    assert heard == [contact.pk]
    assert Action.objects.filter(verb="contact.mql_reached", contact_id=contact.pk).count() == 1
    scored = Action.objects.filter(verb="contact.scored", contact_id=contact.pk).order_by("id")
    assert [a.details["to"] for a in scored] == [60, 80]
    assert {a.actor_kind for a in scored} == {"algorithmic"}


def test_without_scoring_rules_people_keep_their_scores(as_robot):
    contact = ContactFactory(score=42)
    touchpoints_announce(touchpoint_ids=[visit(contact).pk])
    assert Contact.objects.get(pk=contact.pk).score == 42
    assert contacts_rescore(contact_ids=[contact.pk]) == 0


def test_a_fit_rule_cannot_name_a_touchpoint_kind_and_conditions_are_checked(db):
    from django.core.exceptions import ValidationError

    rule = ScoringRule(name="x", kind="fit", touchpoint_kind_id="page_view", points=5, conditions={"a": 1})
    with pytest.raises(ValidationError) as error:
        rule.full_clean()
    assert set(error.value.message_dict) == {"touchpoint_kind", "conditions"}


def test_beat_refreshes_the_scores_every_hour(transactional_db):
    # the scheduler closes the connection it starts on, as a long-running process does
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import DatabaseScheduler

    from mops.celery import app

    DatabaseScheduler(app=app)

    refresh = PeriodicTask.objects.get(name="intents-lead-scores-refresh")
    assert refresh.task == "intents.tasks.lead_scores_refresh_task"
    assert refresh.enabled
    assert (refresh.interval.every, refresh.interval.period) == (3600, "seconds")
    assert refresh.task in app.tasks
