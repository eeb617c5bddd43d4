import pytest

from ledger.context import Actor, ActorMissingError, acting_as, current_actor, current_actor_or_none
from ledger.models import Action
from ledger.services import ActionEntry, action_record, action_record_many


def test_no_actor_means_no_action_can_be_recorded(db):
    # given no entry point set an actor
    assert current_actor_or_none() is None

    # when / then
    with pytest.raises(ActorMissingError, match="no actor is set"):
        action_record(category="tagging", verb="tag.added")
    assert not Action.objects.exists()


def test_acting_as_nests_and_restores():
    outer = Actor.for_task("outer")
    inner = Actor(kind="manual", type="user", name="maya", id=7)
    with acting_as(outer):
        with acting_as(inner):
            assert current_actor() == inner
        assert current_actor() == outer
    assert current_actor_or_none() is None


def test_an_actor_kind_other_than_the_two_is_refused():
    with pytest.raises(ValueError, match="actor kind"):
        Actor(kind="semi-automatic", type="user", name="x")


def test_action_record_takes_the_actor_from_context(db, as_robot):
    action = action_record(category="tagging", verb="tag.added", contact_id=42, details={"tag": "vip"})

    action.refresh_from_db()
    assert (action.actor_kind, action.actor_type, action.actor_name) == ("algorithmic", "task", "tests.robot")
    assert action.contact_id == 42
    assert action.details == {"tag": "vip"}


def test_action_record_many_writes_all_rows_in_one_insert(db, as_robot, django_assert_num_queries):
    entries = [ActionEntry(category="tagging", verb="tag.added", contact_id=n) for n in range(300)]

    with django_assert_num_queries(1):
        written = action_record_many(entries=entries)

    assert written == 300
    assert Action.objects.filter(actor_kind="algorithmic", verb="tag.added").count() == 300
