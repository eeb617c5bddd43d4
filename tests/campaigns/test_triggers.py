from django.utils import timezone

from campaigns.engine.tick import tick
from campaigns.models import Enrollment
from campaigns.services import campaigns_react_to_touchpoints
from contacts.models import Touchpoint
from segments import services as segment_services
from tests.campaigns.conftest import published
from tests.factories import ContactFactory

TAG = [{"key": "tag", "type": "add_tag", "tags": ["welcomed"]}]


def test_entering_a_segment_enrolls_only_those_who_enter_after_the_trigger(as_marketer, clock):
    # given a segment with a member from before the campaign existed
    ContactFactory(email="old@example.fr", country="FR")
    segment = segment_services.segment_create(
        name="French", slug="french", conditions={"field": "country", "op": "eq", "value": "FR"}
    )
    segment_services.segment_rebuild(segment=segment, now=timezone.now())
    published(steps=TAG, triggers=[{"kind": "segment_entered", "segment": "french"}])

    # when someone new enters the segment, and the tick runs
    ContactFactory(email="new@example.fr", country="FR")
    segment_services.segment_rebuild(segment=segment, now=timezone.now())
    first = tick(now=timezone.now())
    again = tick(now=timezone.now())

    # then only the newcomer is enrolled, once
    assert list(Enrollment.objects.values_list("contact__email", flat=True)) == ["new@example.fr"]
    assert (first.enrolled, again.enrolled) == (1, 0)


def test_leaving_a_segment_can_trigger_too(as_marketer, clock):
    contact = ContactFactory(country="FR")
    segment = segment_services.segment_create(
        name="French", slug="french", conditions={"field": "country", "op": "eq", "value": "FR"}
    )
    segment_services.segment_rebuild(segment=segment, now=timezone.now())
    published(steps=TAG, triggers=[{"kind": "segment_exited", "segment": "french"}])

    contact.country = "BE"
    contact.save()
    segment_services.segment_rebuild(segment=segment, now=timezone.now())
    tick(now=timezone.now())

    assert Enrollment.objects.get().contact_id == contact.pk


def test_a_touchpoint_trigger_checks_kind_and_properties(as_marketer, clock):
    published(
        steps=TAG,
        triggers=[
            {
                "kind": "touchpoint",
                "touchpoint_kinds": ["form_submit"],
                "touchpoint_filter": {"form": "trial"},
            }
        ],
    )
    anne, bert, carl = ContactFactory.create_batch(3)
    touchpoints = [
        Touchpoint.objects.create(
            contact=anne, kind_id="form_submit", channel="web", properties={"form": "trial"}
        ),
        Touchpoint.objects.create(
            contact=anne, kind_id="form_submit", channel="web", properties={"form": "trial"}
        ),
        Touchpoint.objects.create(
            contact=bert, kind_id="form_submit", channel="web", properties={"form": "news"}
        ),
        Touchpoint.objects.create(
            contact=carl, kind_id="page_view", channel="web", properties={"form": "trial"}
        ),
    ]

    created = campaigns_react_to_touchpoints(touchpoint_ids=[touchpoint.pk for touchpoint in touchpoints])

    assert created == 1
    enrollment = Enrollment.objects.get()
    assert (enrollment.contact_id, enrollment.context["touchpoint"]) == (anne.pk, touchpoints[0].pk)
