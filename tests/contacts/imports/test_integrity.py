"""The touchpoint import checks its foreign keys by set: with the per-row triggers off it
must still lock what they would have locked, and put the triggers back when it is done."""

import uuid

import psycopg
import pytest
from django.db import connection, transaction

from common.db import database_url
from contacts.imports.contacts import contacts_import
from contacts.imports.integrity import row_triggers_off
from contacts.imports.touchpoints import touchpoints_import
from contacts.models import Contact, Tag, Touchpoint
from ledger.context import Actor, acting_as
from tests.factories import AccountFactory, ContactFactory, UserFactory


def write(tmp_path, rows):
    path = tmp_path / "touchpoints.csv"
    path.write_text("email,kind,occurred_at,external_id\n" + "".join(rows), encoding="utf-8")
    return path


def replication_role() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        return cursor.fetchone()[0]


def deleting_waits(sql: str, params: list) -> bool:
    """Whether another connection has to wait to run this delete."""
    with psycopg.connect(database_url()) as other:
        other.execute("SET lock_timeout = '200ms'")
        try:
            other.execute(sql, params)
        except psycopg.errors.LockNotAvailable:
            return True
        finally:
            other.rollback()
    return False


def test_the_tables_imports_write_have_no_triggers_but_their_foreign_keys(db):
    # given: turning triggers off for an import must leave out nothing but the key checks
    written = [
        "contacts_contact", "contacts_account", "contacts_tag", "contacts_contacttag",
        "contacts_consentchange", "contacts_touchpoint", "ledger_action",
    ]  # fmt: skip

    # when
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgrelid::regclass::text, tgname FROM pg_trigger"
            " WHERE tgrelid::regclass::text = ANY(%s) AND NOT tgisinternal",
            [written],
        )
        others = cursor.fetchall()

    # then
    assert others == []


def test_the_triggers_are_off_only_inside_the_block(db):
    # given
    assert replication_role() == "origin"

    # when
    with row_triggers_off() as off:
        inside = replication_role()
    after = replication_role()

    # then
    assert (off, inside, after) == (True, "replica", "origin")


def test_an_error_inside_the_block_leaves_the_rollback_to_put_the_triggers_back(db):
    # when
    with pytest.raises(ZeroDivisionError), transaction.atomic(), row_triggers_off():
        1 / 0  # noqa: B018

    # then
    assert replication_role() == "origin"


def test_a_role_that_may_not_turn_them_off_gets_the_triggers_and_the_same_import(db, tmp_path):
    # given: a role without the right to set session_replication_role (rolled back with the test)
    role = f"mops_import_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{role}" NOLOGIN')
        cursor.execute(f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{role}"')
        cursor.execute(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO "{role}"')
        cursor.execute(f'SET LOCAL ROLE "{role}"')
    ContactFactory(email="jane@acme.com")
    path = write(tmp_path, ["jane@acme.com,page_view,2026-01-05T10:00:00Z,a\n"])

    # when
    with row_triggers_off() as off:
        role_in_block = replication_role()
    with acting_as(Actor.for_command("test")):
        result = touchpoints_import(path=path)

    # then
    assert (off, role_in_block) == (False, "origin")
    assert result.created == 1
    assert Touchpoint.objects.get().contact.email == "jane@acme.com"


@pytest.mark.django_db(transaction=True)
def test_the_contacts_and_kinds_of_an_import_cannot_be_deleted_until_it_commits(tmp_path):
    # given
    jane = ContactFactory(email="jane@acme.com")
    bystander = ContactFactory(email="someone@acme.com")
    path = write(tmp_path, ["jane@acme.com,page_view,2026-01-05T10:00:00Z,a\n"])

    # when: the import has written but not committed
    with transaction.atomic(), acting_as(Actor.for_command("test")):
        result = touchpoints_import(path=path)
        jane_waits = deleting_waits("DELETE FROM contacts_contact WHERE id = %s", [jane.pk])
        kind_waits = deleting_waits("DELETE FROM contacts_touchpointkind WHERE key = %s", ["page_view"])
        bystander_waits = deleting_waits("DELETE FROM contacts_contact WHERE id = %s", [bystander.pk])
        role_after = replication_role()

    # then
    assert result.created == 1
    assert (jane_waits, kind_waits, bystander_waits) == (True, True, False)
    assert role_after == "origin"


@pytest.mark.django_db(transaction=True)
def test_what_a_contact_import_refers_to_cannot_be_deleted_until_it_commits(tmp_path):
    # given
    owner = UserFactory(username="alice")
    account = AccountFactory(name="Acme", domain="acme.com")
    tag = Tag.objects.create(name="vip")
    jane = ContactFactory(email="jane@acme.com")
    bystander = ContactFactory(email="someone@acme.com")
    path = tmp_path / "contacts.csv"
    rows = "jane@acme.com,alice,acme.com,vip\nnew@acme.com,,,\n"
    path.write_text("email,owner,account_domain,tags\n" + rows, encoding="utf-8")

    # when: the import has written but not committed
    with transaction.atomic(), acting_as(Actor.for_command("test")):
        result = contacts_import(path=path)
        new = Contact.objects.get(email="new@acme.com")
        waits = {
            name: deleting_waits(f"DELETE FROM {table} WHERE id = %s", [pk])
            for name, table, pk in [
                ("owner", "auth_user", owner.pk),
                ("account", "contacts_account", account.pk),
                ("tag", "contacts_tag", tag.pk),
                ("jane", "contacts_contact", jane.pk),
                ("bystander", "contacts_contact", bystander.pk),
            ]
        }
        role_after = replication_role()

    # then
    assert (result.created, result.updated) == (1, 1)
    assert new.pk
    assert waits == {"owner": True, "account": True, "tag": True, "jane": True, "bystander": False}
    assert role_after == "origin"
