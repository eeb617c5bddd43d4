import pytest

from bench import floor, rolled_back
from bench.floor import copy_back, floor_fields, last_ids, save_rows_since
from contacts.models import Account, Contact, Touchpoint
from tests.factories import AccountFactory, ContactFactory, TouchpointFactory

TABLES = ["contacts_account", "contacts_contact", "contacts_touchpoint"]


def _rows(model, ids):
    return list(model.objects.filter(pk__in=ids).order_by("pk").values())


def test_the_rows_written_after_the_marks_are_saved_and_written_again_as_they_were(db, tmp_path):
    earlier = ContactFactory(account=AccountFactory())
    marks = last_ids(TABLES)
    with rolled_back():
        account = AccountFactory(name="Acme", domain="acme.example")
        contacts = [ContactFactory(account=account, attributes={"plan": "pro", "n": i}) for i in range(3)]
        touchpoints = [TouchpointFactory(contact=contact) for contact in contacts]
        written = {
            Account: _rows(Account, [account.pk]),
            Contact: _rows(Contact, [c.pk for c in contacts]),
            Touchpoint: _rows(Touchpoint, [t.pk for t in touchpoints]),
        }
        saved = save_rows_since(marks, directory=tmp_path)
    assert [(rows.table, rows.rows) for rows in saved] == [
        ("contacts_account", 1),
        ("contacts_contact", 3),
        ("contacts_touchpoint", 3),
    ]
    assert not Contact.objects.exclude(pk=earlier.pk).exists()

    copy_back(saved)

    for model, rows in written.items():
        assert _rows(model, [row["id"] for row in rows]) == rows
    assert Contact.objects.count() == 4


def test_the_floor_is_timed_in_a_transaction_that_leaves_nothing(db, tmp_path, monkeypatch):
    marks = last_ids(TABLES)
    with rolled_back():
        TouchpointFactory.create_batch(5)
        saved = save_rows_since(marks, directory=tmp_path)
    seen_inside = []

    def copy_back_and_look(saved):
        copy_back(saved)
        seen_inside.append(Touchpoint.objects.count())

    monkeypatch.setattr(floor, "copy_back", copy_back_and_look)

    fields = floor_fields(saved, seconds=2.0)

    assert seen_inside == [5]
    assert fields["floor_rows"] == 5 + 5 + 0  # five contacts, their five touchpoints, no account
    assert fields["floor_seconds"] > 0
    assert fields["over_floor"] == pytest.approx(2.0 / fields["floor_seconds"], rel=0.01)
    assert not Contact.objects.exists() and not Touchpoint.objects.exists()
