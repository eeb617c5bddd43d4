"""The actor of an action comes from where the work started: a person in the admin or
at a terminal is manual, software in a Celery task is algorithmic."""

import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from contacts.models import Contact
from contacts.tasks import contact_capture_task
from ledger.models import Action
from tests.admin_forms import admin_form_data
from tests.factories import ContactFactory


def test_a_person_editing_a_contact_in_the_admin_is_a_manual_action(client, marketer):
    # given
    contact = ContactFactory(job_title="Analyst")
    client.force_login(marketer)
    url = reverse("admin:contacts_contact_change", args=[contact.pk])
    data = admin_form_data(client.get(url))

    # when
    data["job_title"] = "Head of Growth"
    response = client.post(url, data)

    # then
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    contact.refresh_from_db()
    assert contact.job_title == "Head of Growth"
    action = Action.objects.get(verb="contact.updated", contact_id=contact.pk)
    assert (action.actor_kind, action.actor_type, action.actor_name) == ("manual", "user", "maya")
    assert action.details["changes"] == {"job_title": ["Analyst", "Head of Growth"]}


def test_a_service_inside_a_celery_task_is_an_algorithmic_action(db, celery_eager):
    # given the task runs through Celery's own call path (the worker test runs it in a real worker)
    # when
    contact_capture_task.apply(kwargs={"email": "Robo@Example.com", "data": {"first_name": "Rob"}}).get()

    # then
    contact = Contact.objects.get(email="robo@example.com")
    actions = Action.objects.filter(contact_id=contact.pk)
    assert {a.verb for a in actions} == {"contact.created_with_touchpoint", "touchpoint.captured"}
    assert {(a.actor_kind, a.actor_type, a.actor_name) for a in actions} == {
        ("algorithmic", "task", "contacts.tasks.contact_capture_task")
    }


def test_a_person_running_a_command_is_a_manual_action(db, capsys):
    call_command("add_contact", "Cmd.Person@Example.com", "--first-name", "Cleo", "--tag", "vip")

    contact = Contact.objects.get(email="cmd.person@example.com")
    actions = Action.objects.filter(contact_id=contact.pk)
    assert {a.verb for a in actions} == {"contact.created", "tag.added"}
    assert {a.actor_kind for a in actions} == {"manual"}
    assert {a.actor_type for a in actions} == {"command"}
    assert all(re.fullmatch(r".+ \(add_contact\)", a.actor_name) for a in actions)
    assert "created contact" in capsys.readouterr().out


def test_a_command_run_as_a_named_user_is_that_persons_manual_action(marketer):
    call_command("add_contact", "named@example.com", "--as", "maya")

    action = Action.objects.get(verb="contact.created")
    assert (action.actor_kind, action.actor_type, action.actor_name, action.actor_id) == (
        "manual",
        "user",
        "maya",
        marketer.pk,
    )


def test_a_command_refuses_an_unknown_acting_user(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no user named 'nobody'"):
        call_command("add_contact", "x@example.com", "--as", "nobody")
    assert not Contact.objects.exists()


def test_a_bad_email_on_the_command_line_is_a_clear_error(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="email: 'not-an-email' is not a valid e-mail address"):
        call_command("add_contact", "not-an-email")
    assert not Action.objects.exists()
