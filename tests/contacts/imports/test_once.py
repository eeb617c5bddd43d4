"""Rows whose e-mail no other row gives are applied while the file is still read; the
others wait for the merge. Which way a row goes must not change what is imported."""

from django.db import transaction

from contacts.imports.contacts import contacts_import
from contacts.imports.once import EmailsGivenOnce
from contacts.imports.reader import open_source
from contacts.models import Contact
from ledger.context import Actor, acting_as
from ledger.models import Action
from tests.factories import ContactFactory

FILE = (
    "email,first_name,city,tags,consent_email,account_domain\n"
    "Jane@Acme.com,Jane,Lyon,a,subscribed,acme.com\n"
    "bob@acme.com,Bob,,,,\n"
    "known@acme.com,,Paris,,,\n"
    "ann@beta.io,Ann,,b,,beta.io\n"
    "not an address,,,,,\n"
    "carl@acme.com,Carl,Nice,,unsubscribed,\n"
    " jane@ACME.com ,Janet,,b,unsubscribed,\n"
    "dora@beta.io,Dora,,,,beta.io\n"
    "bob@acme.com,,Rome,c,,\n"
)


def test_an_address_given_by_one_row_only_is_told_apart_from_a_repeated_one(tmp_path):
    # given
    path = tmp_path / "contacts.csv"
    path.write_text(FILE, encoding="utf-8")

    # when
    with open_source(path) as source:
        given_once = EmailsGivenOnce(source)

    # then
    verdicts = {
        address: given_once(address)
        for address in ["jane@acme.com", "bob@acme.com", "ann@beta.io", "carl@acme.com", "nobody@acme.com"]
    }
    assert verdicts == {
        "jane@acme.com": False,
        "bob@acme.com": False,
        "ann@beta.io": True,
        "carl@acme.com": True,
        "nobody@acme.com": False,
    }


def test_json_lines_count_the_email_key_in_any_case(tmp_path):
    # given
    path = tmp_path / "contacts.jsonl"
    path.write_text('{"Email": "ann@beta.io"}\n{"EMAIL": "ANN@beta.io"}\n{"email": "bo@beta.io"}\n')

    # when
    with open_source(path) as source:
        given_once = EmailsGivenOnce(source)

    # then
    assert (given_once("ann@beta.io"), given_once("bo@beta.io")) == (False, True)


def imported(path) -> tuple:
    """Import, note what it made, and roll it back."""
    with transaction.atomic(), acting_as(Actor.for_command("test")):
        result = contacts_import(path=path)
        contacts = [
            (
                contact.email,
                contact.first_name,
                contact.city,
                contact.consent_email,
                contact.account.domain if contact.account else "",
                sorted(contact.tags.values_list("name", flat=True)),
                Action.objects.filter(contact_id=contact.pk, category="import").count(),
            )
            for contact in Contact.objects.order_by("email")
        ]
        transaction.set_rollback(True)
    return result.summary, result.merged, result.accounts_created, contacts


def test_what_is_imported_does_not_depend_on_which_rows_go_first(db, tmp_path, monkeypatch):
    # given: chunks of a few rows, so that rows are applied while later ones are read
    ContactFactory(email="known@acme.com", first_name="Kim", city="Berlin")
    path = tmp_path / "contacts.csv"
    path.write_text(FILE, encoding="utf-8")
    monkeypatch.setattr("contacts.imports.contacts.COPY_ROWS", 2)
    monkeypatch.setattr("contacts.imports.contacts.CHUNK_ROWS", 3)

    # when: once as it comes, once with every address sharing one counter (all wait)
    at_once = imported(path)
    monkeypatch.setattr("contacts.imports.once.SLOTS", 1)
    all_merged_first = imported(path)

    # then
    assert at_once == all_merged_first
    summary, merged, accounts_created, contacts = at_once
    assert (summary, merged, accounts_created) == ("created 5, updated 1, unchanged 0, rejected 1", 2, 2)
    assert contacts == [
        ("ann@beta.io", "Ann", "", "", "beta.io", ["b"], 1),
        ("bob@acme.com", "Bob", "Rome", "", "", ["c"], 1),
        ("carl@acme.com", "Carl", "Nice", "unsubscribed", "", [], 1),
        ("dora@beta.io", "Dora", "", "", "beta.io", [], 1),
        ("jane@acme.com", "Janet", "Lyon", "unsubscribed", "acme.com", ["a", "b"], 1),
        ("known@acme.com", "Kim", "Paris", "", "", [], 1),
    ]


def test_the_count_reads_the_columns_as_a_person_mapped_them(tmp_path):
    # given: the address is in a column the person mapped to email, the "email" column is not
    path = tmp_path / "contacts.csv"
    path.write_text("E-mail,email\nann@beta.io,x@y.io\nbo@beta.io,x@y.io\n", encoding="utf-8")
    source = open_source(path)
    source.rename({"E-mail": "email", "email": ""})

    # when
    with source:
        given_once = EmailsGivenOnce(source)

    # then
    assert (given_once("ann@beta.io"), given_once("bo@beta.io")) == (True, True)
