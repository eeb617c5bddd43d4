import hashlib

import pytest
from django.db import connection

from contacts.models import Contact, Suppression
from contacts.selectors import address_hash, contact_list_not_suppressed, suppression_get
from contacts.services import suppression_add, suppression_remove
from ledger.models import Action
from messaging.outbox import outbox_deliver
from tests.factories import ContactFactory
from tests.messaging.conftest import email_message, sms_message

pytestmark = pytest.mark.django_db


def test_only_the_hash_of_the_normalised_address_is_kept(as_robot):
    # when
    suppression, created = suppression_add(
        channel="email", address="  Jane.Doe@Example.ORG ", reason="manual"
    )

    # then
    assert created
    assert suppression.address_hash == hashlib.sha256(b"jane.doe@example.org").hexdigest()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM contacts_suppression WHERE row(contacts_suppression.*)::text ILIKE '%jane%'"
        )
        assert cursor.fetchone()[0] == 0
    action = Action.objects.get(verb="suppression.added")
    assert (action.category, action.channel, action.details) == (
        "data_hygiene",
        "email",
        {"reason": "manual"},
    )


def test_one_entry_per_channel_and_address(as_robot):
    first, _ = suppression_add(channel="email", address="a@example.org", reason="hard_bounce")

    again, created = suppression_add(channel="email", address="A@example.org", reason="complaint")
    phone, _ = suppression_add(channel="sms", address="+33 6 12 34 56 78", reason="stop")

    assert (again.pk, again.reason, created) == (first.pk, "hard_bounce", False)
    assert phone.address_hash == address_hash(channel="sms", address="+33612345678")
    assert Suppression.objects.count() == 2
    assert Action.objects.filter(verb="suppression.added").count() == 2


def test_an_unknown_reason_or_channel_is_refused(as_robot):
    with pytest.raises(ValueError, match="suppression reason must be one of"):
        suppression_add(channel="email", address="a@example.org", reason="bored")
    with pytest.raises(ValueError, match="channel must be 'email' or 'sms'"):
        suppression_add(channel="fax", address="a@example.org", reason="manual")


def test_the_sql_check_agrees_with_the_single_lookup(as_robot):
    # given
    contacts = [ContactFactory(phone=f"+3361234567{n}") for n in range(6)]
    for contact in contacts[::2]:
        suppression_add(channel="email", address=contact.email.upper(), reason="hard_bounce")
    suppression_add(channel="sms", address=contacts[1].phone, reason="stop")

    # when
    allowed = contact_list_not_suppressed(contacts=Contact.objects.all(), channel="email")
    sms_allowed = contact_list_not_suppressed(contacts=Contact.objects.all(), channel="sms")

    # then
    expected = {c.pk for c in contacts if suppression_get(channel="email", address=c.email) is None}
    assert set(allowed.values_list("pk", flat=True)) == expected == {c.pk for c in contacts[1::2]}
    assert contacts[1] not in sms_allowed and contacts[0] in sms_allowed


def test_a_suppressed_address_is_never_sent_to_whatever_the_channel(as_robot, mailoutbox):
    # given
    contact = ContactFactory(phone="+33612345678", consent_sms="subscribed")
    suppression_add(channel="email", address=contact.email, reason="complaint")
    suppression_add(channel="sms", address=contact.phone, reason="manual")
    mail, sms = email_message(contact), sms_message(contact)

    # when
    statuses = [outbox_deliver(message_id=m.pk, now=m.created_at) for m in (mail, sms)]

    # then
    assert statuses == ["suppressed", "suppressed"]
    mail.refresh_from_db()
    sms.refresh_from_db()
    assert mail.error == "the address is on the suppression list (spam complaint)"
    assert sms.error == "the address is on the suppression list (added by hand)"
    assert mailoutbox == []


def test_removing_an_entry_lets_the_address_be_sent_to_again(as_robot, mailoutbox):
    contact = ContactFactory()
    suppression, _ = suppression_add(channel="email", address=contact.email, reason="manual")

    suppression_remove(suppression=suppression)
    message = email_message(contact)

    assert outbox_deliver(message_id=message.pk, now=message.created_at) == "sent"
    assert len(mailoutbox) == 1
    assert Action.objects.filter(verb="suppression.removed").count() == 1


def test_a_batch_holds_back_a_listed_address_however_the_message_spells_it(as_robot, mailoutbox):
    # given two listed contacts, one written to at its stored address and one at another spelling
    from messaging.outbox import outbox_deliver_batch

    stored, respelled, free = (ContactFactory(email=f"{name}@example.org") for name in ("ada", "bo", "cy"))
    for contact in (stored, respelled):
        suppression_add(channel="email", address=contact.email, reason="hard_bounce")
    messages = [email_message(stored), email_message(respelled, to="  Bo@Example.ORG"), email_message(free)]

    # when
    statuses = outbox_deliver_batch(message_ids=[m.pk for m in messages], now=messages[0].created_at)

    # then
    assert [statuses[m.pk] for m in messages] == ["suppressed", "suppressed", "sent"]
    assert [message.to for message in mailoutbox] == [["cy@example.org"]]
