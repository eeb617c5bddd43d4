"""Leads to owners: account owner first, territories, round-robin within capacity, and the
speed-to-lead clock that escalates an unanswered lead."""

from datetime import timedelta

import pytest

from campaigns.services import campaign_enroll
from ledger.models import Action
from routing.models import LeadAssignment, RoutingRule, Task, Team, TeamMember
from routing.services import leads_escalate, task_complete
from tests.campaigns.conftest import NOW, published, run_due
from tests.factories import AccountFactory, ContactFactory, UserFactory

pytestmark = pytest.mark.django_db

ASSIGN = [{"key": "route", "type": "assign_owner"}]


@pytest.fixture
def teams(db):
    """EMEA (France, Belgium) with three reps, lead Lea, 30 minutes to answer; the rest of
    the world with one rep."""
    lea = UserFactory(username="lea")
    emea = Team.objects.create(name="EMEA", slug="emea", lead=lea, response_minutes=30)
    reps = [UserFactory(username=name) for name in ("ann", "bob", "cat")]
    for rep in reps:
        TeamMember.objects.create(team=emea, user=rep)
    world = Team.objects.create(name="World", slug="world")
    TeamMember.objects.create(team=world, user=UserFactory(username="wes"))
    RoutingRule.objects.create(position=1, name="Europe", countries=["FR", "BE"], team=emea)
    RoutingRule.objects.create(position=2, name="Everyone else", countries=[], team=world)
    return {"emea": emea, "world": world, "reps": reps, "lea": lea}


def route(*contacts):
    campaign = published(steps=ASSIGN, reentry="always")
    campaign_enroll(campaign=campaign, contact_ids=[contact.pk for contact in contacts])
    run_due()
    return campaign


def owners(contacts) -> list[str]:
    for contact in contacts:
        contact.refresh_from_db()
    return [contact.owner.username if contact.owner else None for contact in contacts]


def test_the_account_owner_comes_first(as_marketer, clock, teams):
    olga = UserFactory(username="olga")
    contact = ContactFactory(country="FR", account=AccountFactory(owner=olga))

    route(contact)

    assert owners([contact]) == ["olga"]
    assert LeadAssignment.objects.get().rule == "account owner"


def test_territories_by_country_then_round_robin_in_turn(as_marketer, clock, teams):
    french = [ContactFactory(country="FR") for _ in range(6)]
    american = ContactFactory(country="US")

    route(*french, american)

    assert owners(french) == ["ann", "bob", "cat", "ann", "bob", "cat"]
    assert owners([american]) == ["wes"]
    routed = Action.objects.filter(verb="lead.routed")
    assert set(routed.values_list("category", "actor_kind")) == {("routing", "algorithmic")}
    assert Action.objects.filter(verb="contact.updated", category="routing").count() == 7


def test_capacity_skips_a_full_owner_and_nobody_free_routes_nobody(as_marketer, clock, teams):
    TeamMember.objects.filter(user__username="ann").update(capacity=1)
    TeamMember.objects.filter(user__username__in=["bob", "cat"]).update(capacity=0)
    first, second = ContactFactory(country="BE"), ContactFactory(country="BE")

    route(first, second)

    assert owners([first, second]) == ["ann", None]
    unrouted = Action.objects.get(verb="lead.unrouted")
    assert unrouted.details["reason"] == "rule “Europe”: every member is at capacity"


def test_a_step_can_name_the_team(as_marketer, clock, teams):
    contact = ContactFactory(country="FR")
    campaign = published(steps=[{"key": "route", "type": "assign_owner", "team": "world"}])
    campaign_enroll(campaign=campaign, contact_ids=[contact.pk])
    run_due()
    assert owners([contact]) == ["wes"]


def test_an_unanswered_lead_is_escalated_to_the_team_lead_once(as_marketer, clock, teams):
    # given two routed leads, with a first-response task each due in 30 minutes
    answered, forgotten = ContactFactory(country="FR"), ContactFactory(country="FR")
    route(answered, forgotten)
    first_response = Task.objects.get(contact=answered)
    assert first_response.due_at == NOW + timedelta(minutes=30)

    # when one is answered in time, and beat looks after the deadline, twice
    task_complete(task=first_response)
    clock.shift(timedelta(minutes=29))
    assert leads_escalate(now=NOW + timedelta(minutes=29)) == 0
    clock.shift(timedelta(minutes=1))
    assert leads_escalate(now=NOW + timedelta(minutes=30)) == 1
    assert leads_escalate(now=NOW + timedelta(minutes=31)) == 0

    # then the forgotten one is the team lead's task, and an algorithmic routing action
    statuses = dict(LeadAssignment.objects.values_list("contact_id", "status"))
    assert statuses == {answered.pk: "responded", forgotten.pk: "escalated"}
    escalation = Task.objects.get(contact=forgotten, assignee=teams["lea"])
    assert escalation.title.startswith("Unanswered lead")
    action = Action.objects.get(verb="lead.escalated")
    assert (action.contact_id, action.category, action.actor_kind) == (forgotten.pk, "routing", "algorithmic")


def test_escalation_runs_from_beat_as_a_task(as_marketer, clock, teams, celery_eager):
    from routing.tasks import leads_escalate_task

    route(ContactFactory(country="FR"))
    clock.shift(timedelta(hours=1))

    assert leads_escalate_task.delay().get() == 1


def test_deleting_a_contact_takes_its_leads_and_tasks_with_it(as_marketer, clock, teams):
    from contacts import services as contact_services

    gone, kept = ContactFactory(country="FR"), ContactFactory(country="FR")
    route(gone, kept)
    leads_escalate(now=NOW + timedelta(hours=1))  # each lead now has two tasks

    contact_services.contact_delete(contact=gone)

    assert list(LeadAssignment.objects.values_list("contact_id", flat=True)) == [kept.pk]
    assert set(Task.objects.values_list("contact_id", flat=True)) == {kept.pk}
