from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from contacts import services as contact_services
from contacts.models import Contact
from ledger.models import Action
from segments import services
from segments.evaluation import parsed, why
from segments.models import Membership, MembershipEvent, Segment, SegmentSize
from segments.services import SegmentError
from tests.factories import AccountFactory, ContactFactory, TouchpointFactory

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
FRENCH = {"field": "country", "op": "eq", "value": "FR"}


def members(segment: Segment) -> set[str]:
    return set(Membership.objects.filter(segment=segment).values_list("contact__email", flat=True))


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def segment(as_marketer, frozen, django_capture_on_commit_callbacks, celery_eager):
    ContactFactory(email="anne@example.net", country="FR")
    ContactFactory(email="bert@example.net", country="BE")
    with django_capture_on_commit_callbacks(execute=True):
        return services.segment_create(name="French contacts", conditions=FRENCH)


def test_saving_a_segment_builds_its_membership_as_the_engines_work(segment, marketer):
    # then
    segment.refresh_from_db()
    assert members(segment) == {"anne@example.net"}
    assert segment.size == 1
    assert SegmentSize.objects.get(segment=segment).size == 1
    entered = Action.objects.get(verb="segment.entered")
    assert (entered.actor_kind, entered.category, entered.object_id) == (
        "algorithmic",
        "segmentation",
        str(segment.pk),
    )
    created = Action.objects.get(verb="segment.created")
    assert (created.actor_kind, created.actor_name) == ("manual", marketer.username)
    assert list(MembershipEvent.objects.values_list("kind", flat=True)) == ["entered"]


def test_a_second_rebuild_changes_nothing_and_a_change_is_an_exit(segment):
    # when
    again = services.segment_rebuild(segment=segment)
    Contact.objects.filter(email="anne@example.net").update(country="DE")
    after = services.segment_rebuild(segment=segment)

    # then
    assert (again["french-contacts"].entered, again["french-contacts"].exited) == (0, 0)
    assert (after["french-contacts"].entered, after["french-contacts"].exited) == (0, 1)
    assert members(segment) == set()
    assert list(MembershipEvent.objects.order_by("id").values_list("kind", flat=True)) == [
        "entered",
        "exited",
    ]
    assert Action.objects.filter(verb="segment.exited", actor_kind="algorithmic").count() == 1


def test_a_contact_update_re_forms_the_segment_for_that_contact(segment, django_capture_on_commit_callbacks):
    # given
    bert = Contact.objects.get(email="bert@example.net")

    # when
    with django_capture_on_commit_callbacks(execute=True):
        contact_services.contact_update(contact=bert, data={"country": "FR"})

    # then
    assert members(segment) == {"anne@example.net", "bert@example.net"}
    segment.refresh_from_db()
    assert segment.size == 2


def test_a_touchpoint_re_evaluates_only_the_segments_that_read_its_kind(
    as_robot, frozen, django_capture_on_commit_callbacks, celery_eager
):
    # given
    anne = ContactFactory(email="anne@example.net")
    with django_capture_on_commit_callbacks(execute=True):
        clicked = services.segment_create(
            name="Clicked twice",
            conditions={
                "touchpoint": {"kind": "email_click"},
                "count": {"op": "gte", "value": 2},
                "within": "30d",
            },
        )
        viewed = services.segment_create(name="Viewed", conditions={"touchpoint": {"kind": "page_view"}})
    TouchpointFactory(contact=anne, kind_id="page_view")  # stored without announcing: not yet seen
    TouchpointFactory(contact=anne, kind_id="email_click", channel="email")

    # when
    with django_capture_on_commit_callbacks(execute=True):
        contact_services.touchpoint_create(contact=anne, kind="email_click", channel="email")

    # then
    assert members(clicked) == {"anne@example.net"}
    assert members(viewed) == set()  # an e-mail click does not touch a page-view segment
    services.segment_rebuild(segment=viewed)
    assert members(viewed) == {"anne@example.net"}


def test_an_account_touchpoint_counts_for_every_contact_of_the_account(
    as_robot, frozen, django_capture_on_commit_callbacks, celery_eager
):
    # given
    acme = AccountFactory()
    anne, bert = ContactFactory(account=acme), ContactFactory(account=acme)
    loner = ContactFactory()
    with django_capture_on_commit_callbacks(execute=True):
        pricing = services.segment_create(
            name="Company looked at pricing",
            conditions={
                "account_touchpoint": {
                    "kind": "page_view",
                    "where": [{"field": "properties.path", "op": "starts_with", "value": "/pricing"}],
                },
                "within": "7d",
            },
        )

    # when
    with django_capture_on_commit_callbacks(execute=True):
        contact_services.touchpoint_create(
            contact=anne, kind="page_view", properties={"path": "/pricing/pro"}
        )
        contact_services.touchpoint_create(contact=loner, kind="page_view", properties={"path": "/blog"})

    # then
    assert members(pricing) == {anne.email, bert.email}


def test_segments_using_segments_follow_in_dependency_order(
    segment, django_capture_on_commit_callbacks, celery_eager
):
    # given
    with django_capture_on_commit_callbacks(execute=True):
        vip = services.segment_create(
            name="French VIPs", conditions={"all": [{"segment": segment.slug}, {"tag": "vip"}]}
        )
    bert = Contact.objects.get(email="bert@example.net")
    contact_services.contact_tags_add(contact=bert, names=["VIP"])
    assert members(vip) == set()

    # when: bert becomes French, so he enters the first segment and, through it, the second
    with django_capture_on_commit_callbacks(execute=True):
        contact_services.contact_update(contact=bert, data={"country": "FR"})

    # then
    assert members(vip) == {"bert@example.net"}


def test_circles_and_unknown_segments_are_refused_with_their_path(segment, as_marketer):
    # given
    with pytest.raises(SegmentError) as unknown:
        services.segment_create(name="B", conditions={"any": [{"segment": "nope"}]})
    b = services.segment_create(name="B", conditions={"segment": segment.slug})

    # when
    with pytest.raises(SegmentError) as circle:
        services.segment_update(segment=segment, data={"conditions": {"segment": b.slug}})
    with pytest.raises(SegmentError) as itself:
        services.segment_update(segment=b, data={"conditions": {"segment": b.slug}})

    # then
    assert unknown.value.errors == [("conditions.any[0].segment", "unknown segment 'nope'")]
    assert "french-contacts → b → french-contacts" in str(circle.value)
    assert "b → b" in str(itself.value)
    with pytest.raises(SegmentError, match="use this segment"):
        services.segment_delete(segment=segment)


def test_a_time_window_is_re_formed_by_the_periodic_rebuild(
    as_robot, django_capture_on_commit_callbacks, celery_eager
):
    # given: a click 29 days ago
    with time_machine.travel(NOW, tick=False):
        anne = ContactFactory()
        TouchpointFactory(contact=anne, kind_id="email_click", occurred_at=NOW - timedelta(days=29))
        with django_capture_on_commit_callbacks(execute=True):
            recent = services.segment_create(
                name="Clicked lately", conditions={"touchpoint": {"kind": "email_click"}, "within": "30d"}
            )
        assert members(recent) == {anne.email}
        assert recent.uses_time

    # when: two days later
    with time_machine.travel(NOW + timedelta(days=2), tick=False):
        services.segments_rebuild_timed()

    # then
    assert members(recent) == set()


def test_static_lists_take_members_by_hand(as_marketer):
    # given
    anne, bert = ContactFactory(), ContactFactory()
    webinar = services.segment_create(name="Webinar guests", kind="static")

    # when
    added = services.static_members_add(segment=webinar, contact_ids=[anne.pk, bert.pk, anne.pk])
    again = services.static_members_add(segment=webinar, contact_ids=[anne.pk])
    removed = services.static_members_remove(segment=webinar, contact_ids=[bert.pk])

    # then
    assert (added, again, removed) == (2, 0, 1)
    assert members(webinar) == {anne.email}
    webinar.refresh_from_db()
    assert webinar.size == 1
    assert Action.objects.filter(verb="segment.entered", actor_kind="manual").count() == 2


def test_why_answers_per_node_for_one_contact(as_robot, frozen):
    # given
    anne = ContactFactory(country="FR", score=10)
    tree = {"all": [FRENCH, {"not": {"field": "score", "op": "gte", "value": 50}}, {"tag": "vip"}]}

    # when
    answer = why(parsed(tree), contact_id=anne.pk, now=frozen)

    # then
    assert answer.result is False
    assert [(child.path, child.result) for child in answer.children] == [
        ("all[0]", True),
        ("all[1]", True),
        ("all[2]", False),
    ]
    assert answer.children[1].children[0].result is False
    assert answer.children[2].text == "Tagged “vip”"
