from django.test import Client

from segments.models import Membership, Segment
from tests.factories import ContactFactory

ADD = "/admin/segments/segment/add/"


def form(**fields):
    return {"name": "", "slug": "", "description": "", "kind": "static", "conditions": "{}",
            "add_emails": "", "remove_emails": "", **fields}  # fmt: skip


def test_a_marketer_keeps_a_static_list_by_e_mail(marketer):
    # given
    ContactFactory(email="anne@example.net")
    ContactFactory(email="bert@example.net")
    client = Client()
    client.force_login(marketer)

    # when
    refused = client.post(ADD, form(name="Guests", add_emails="anne@example.net nobody@example.net"))
    created = client.post(ADD, form(name="Guests", add_emails="Anne@example.net,\nbert@example.net"))
    segment = Segment.objects.get(slug="guests")
    client.post(
        f"/admin/segments/segment/{segment.pk}/change/",
        form(name="Guests", slug="guests", remove_emails="bert@example.net"),
    )

    # then
    assert refused.status_code == 200
    assert "No contact has these addresses: nobody@example.net" in refused.content.decode()
    assert created.status_code == 302
    assert list(Membership.objects.values_list("contact__email", flat=True)) == ["anne@example.net"]
    segment.refresh_from_db()
    assert segment.size == 1


def test_a_dynamic_segment_takes_no_contacts_by_hand_and_shows_tree_errors(marketer):
    # given
    ContactFactory(email="anne@example.net")
    client = Client()
    client.force_login(marketer)

    # when
    response = client.post(
        ADD,
        form(
            name="French",
            kind="dynamic",
            conditions='{"all": [{"field": "contry", "op": "eq", "value": "FR"}]}',
            add_emails="anne@example.net",
        ),
    )

    # then
    page = response.content.decode()
    assert "Only a static list takes contacts by hand" in page
    assert "conditions.all[0].field: unknown field &#x27;contry&#x27;" in page
    assert not Segment.objects.exists()
