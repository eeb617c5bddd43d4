import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from contacts import services
from contacts.models import ConsentChange, Contact, Tag, Touchpoint, TouchpointKind
from ledger.models import Action
from tests.factories import ContactFactory


def test_contact_create_normalises_and_records_data_capture(as_robot):
    contact = services.contact_create(
        email="  Jane.Doe@ACME.com ", phone="06 12 34 56 78", country="FR", timezone="Europe/Paris"
    )

    contact.refresh_from_db()
    assert contact.email == "jane.doe@acme.com"
    assert contact.phone == "+33612345678"
    action = Action.objects.get(contact_id=contact.pk)
    assert (action.category, action.verb, action.actor_kind) == (
        "data_capture",
        "contact.created",
        "algorithmic",
    )


def test_the_same_email_in_another_case_is_the_same_contact(as_robot):
    services.contact_create(email="jane@acme.com")

    with pytest.raises(ValidationError) as error:
        services.contact_create(email="JANE@Acme.COM")

    assert "email" in error.value.message_dict
    assert Contact.objects.count() == 1
    assert Action.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "jane@", "is not a valid e-mail address"),
        ("phone", "12", "is not a"),
        ("timezone", "Mars/Olympus", "is not a time zone"),
        ("attributes", ["not", "an", "object"], "attributes must be a JSON object"),
    ],
)
def test_contact_create_says_which_field_is_wrong(as_robot, field, value, message):
    data = {"email": "ok@example.com", field: value}

    with pytest.raises(ValidationError) as error:
        services.contact_create(**data)

    assert message in " ".join(error.value.message_dict[field])
    assert not Contact.objects.exists()
    assert not Action.objects.exists()


def test_contact_update_records_only_what_changed(as_robot):
    contact = ContactFactory(city="Lyon", job_title="")

    changes = services.contact_update(contact=contact, data={"city": "Lyon", "job_title": "CMO"})

    assert changes == {"job_title": ["", "CMO"]}
    action = Action.objects.get(verb="contact.updated")
    assert action.category == "field_update"
    assert action.details == {"changes": {"job_title": ["", "CMO"]}}


def test_contact_update_with_nothing_new_records_nothing(as_robot):
    contact = ContactFactory(city="Lyon")

    assert services.contact_update(contact=contact, data={"city": "Lyon"}) == {}
    assert not Action.objects.exists()


def test_a_score_change_is_a_scoring_action(as_robot):
    contact = ContactFactory(score=10)

    services.contact_update(contact=contact, data={"score": 55})

    assert Action.objects.get(verb="contact.updated").category == "scoring"


def test_contact_update_refuses_unknown_fields(as_robot):
    contact = ContactFactory()

    with pytest.raises(ValueError, match="unknown fields for Contact: shoe_size"):
        services.contact_update(contact=contact, data={"shoe_size": 42})


def test_upsert_updates_the_known_contact_and_keeps_what_the_input_leaves_empty(as_robot):
    contact = ContactFactory(email="jane@acme.com", city="Lyon", first_name="Jane")

    found, created = services.contact_upsert(email="JANE@acme.com", data={"city": "", "first_name": "Janet"})

    assert (found.pk, created) == (contact.pk, False)
    found.refresh_from_db()
    assert (found.city, found.first_name) == ("Lyon", "Janet")


def test_upsert_creates_an_unknown_contact(as_robot):
    contact, created = services.contact_upsert(email="new@acme.com", data={"first_name": "Nina"})

    assert created
    assert contact.first_name == "Nina"


def test_tags_compare_case_insensitively_and_are_recorded_once(as_robot):
    contact = ContactFactory()
    Tag.objects.create(name="VIP")

    services.contact_tags_add(contact=contact, names=["vip", " Webinar  2026 "])
    again = services.contact_tags_add(contact=contact, names=["VIP"])

    assert again == []
    assert sorted(contact.tags.values_list("name", flat=True)) == ["VIP", "Webinar 2026"]
    assert Tag.objects.count() == 2
    assert Action.objects.filter(verb="tag.added").count() == 2


def test_tags_set_adds_and_removes(as_robot):
    contact = ContactFactory()
    services.contact_tags_add(contact=contact, names=["a", "b"])

    services.contact_tags_set(contact=contact, names=["B", "c"])

    assert sorted(contact.tags.values_list("name", flat=True)) == ["b", "c"]
    assert list(Action.objects.filter(verb="tag.removed").values_list("details__tag", flat=True)) == ["a"]


def test_consent_keeps_its_evidence_and_actor(as_marketer):
    contact = ContactFactory()

    change = services.contact_consent_set(
        contact=contact,
        channel="email",
        status="subscribed",
        source="webinar form",
        evidence={"ip": "203.0.113.9"},
    )
    same_again = services.contact_consent_set(contact=contact, channel="email", status="subscribed")
    services.contact_consent_set(
        contact=contact, channel="email", status="unsubscribed", source="preference page"
    )

    assert same_again is None
    contact.refresh_from_db()
    assert contact.consent_email == "unsubscribed"
    history = list(ConsentChange.objects.filter(contact=contact).order_by("changed_at", "id"))
    assert [(c.previous_status, c.status) for c in history] == [
        ("", "subscribed"),
        ("subscribed", "unsubscribed"),
    ]
    assert history[0] == change
    assert (change.actor_kind, change.actor_name, change.evidence) == (
        "manual",
        "maya",
        {"ip": "203.0.113.9"},
    )
    assert Action.objects.filter(category="consent").count() == 2


def test_consent_refuses_an_unknown_channel(as_robot):
    with pytest.raises(ValueError, match="consent channel must be"):
        services.contact_consent_set(contact=ContactFactory(), channel="fax", status="subscribed")


def test_touchpoint_takes_the_kinds_default_channel(as_robot):
    contact = ContactFactory()

    touchpoint = services.touchpoint_create(contact=contact, kind="webinar_registration")

    assert touchpoint.channel == "events"
    action = Action.objects.get(verb="touchpoint.captured")
    assert (action.contact_id, action.channel, action.details) == (
        contact.pk,
        "events",
        {"kind": "webinar_registration"},
    )


def test_touchpoint_of_an_unknown_kind_is_refused(as_robot):
    with pytest.raises(TouchpointKind.DoesNotExist):
        services.touchpoint_create(contact=ContactFactory(), kind="wbinar")
    assert not Touchpoint.objects.exists()


def test_the_same_external_id_is_stored_once(as_robot):
    contact = ContactFactory()
    services.touchpoint_create(contact=contact, kind="page_view", external_id="evt-1")

    with pytest.raises((ValidationError, IntegrityError)):
        services.touchpoint_create(contact=contact, kind="page_view", external_id="evt-1")
    assert Touchpoint.objects.count() == 1


def test_deleting_contacts_records_one_action_each_in_one_insert(as_robot, django_assert_max_num_queries):
    contacts = ContactFactory.create_batch(5)

    with django_assert_max_num_queries(12):
        deleted = services.contact_delete_many(contacts=contacts)

    assert deleted == 5
    assert not Contact.objects.exists()
    assert Action.objects.filter(verb="contact.deleted", category="data_hygiene").count() == 5


def test_renaming_a_tag_is_one_tagging_action(as_marketer):
    tag = Tag.objects.create(name="webnar")

    services.tag_rename(tag=tag, name=" webinar ")

    tag.refresh_from_db()
    assert tag.name == "webinar"
    action = Action.objects.get()
    assert (action.verb, action.details, action.actor_kind) == (
        "tag.renamed",
        {"from": "webnar", "to": "webinar"},
        "manual",
    )


def test_renaming_a_tag_onto_another_is_refused(as_marketer):
    Tag.objects.create(name="vip")
    tag = Tag.objects.create(name="v.i.p")

    with pytest.raises(ValidationError):
        services.tag_rename(tag=tag, name="VIP")
    assert not Action.objects.exists()


def test_deleting_a_tag_records_its_removal_from_each_contact(as_robot):
    first, second = ContactFactory(), ContactFactory()
    for contact in (first, second):
        services.contact_tags_add(contact=contact, names=["trial"])

    services.tag_delete(tag=Tag.objects.get(name="trial"))

    assert not Tag.objects.exists()
    removed = Action.objects.filter(verb="tag.removed")
    assert sorted(removed.values_list("contact_id", flat=True)) == sorted([first.pk, second.pk])
