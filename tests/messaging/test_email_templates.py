"""E-mail templates from the API and the admin: saved when the sandbox accepts them, refused
at their field and line when not; previewed with a contact; a test sent to oneself."""

import pytest
from django.core import mail
from django.test import Client

from ledger.models import Action
from messaging.models import EmailTemplate
from tests.factories import AccountFactory, ContactFactory

URL = "/api/v1/email-templates/"
BODY = {
    "name": "Welcome",
    "subject": "Welcome, {{ contact.first_name|default:'friend' }}",
    "preheader": "Three things to try first",
    "html": "<h1>Hello {{ contact.first_name|default:'there' }}</h1>\n<p>{{ account.name }}</p>",
}


def test_the_api_creates_previews_and_updates_a_template(writer):
    # when
    created = writer.post(URL, BODY, format="json")

    # then
    assert created.status_code == 201, created.json()
    template = created.json()
    assert (template["slug"], template["text"]) == ("welcome", "")
    contact = ContactFactory(first_name="Noor", account=AccountFactory(name="Globex"))
    preview = writer.post(f"{URL}{template['id']}/preview/", {"contact_id": contact.pk}, format="json").json()
    assert preview["subject"] == "Welcome, Noor"
    assert "<h1>Hello Noor</h1>" in preview["html"] and "Globex" in preview["html"]
    assert preview["text"].startswith("Hello Noor\n\nGlobex")
    patched = writer.patch(f"{URL}{template['id']}/", {"subject": "Hi"}, format="json")
    assert patched.status_code == 200 and patched.json()["subject"] == "Hi"
    assert Action.objects.filter(verb__startswith="email_template.", actor_kind="algorithmic").count() == 2


def test_the_api_refuses_a_template_at_its_field_and_line(writer):
    response = writer.post(
        URL, {**BODY, "html": "<p>\n{% load i18n %}</p>", "subject": "{{ settings.DEBUG }}"}, format="json"
    )

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [error["path"] for error in errors] == ["subject", "html"]
    assert errors[0]["message"].startswith("line 1: {{ settings.DEBUG }}: “settings” cannot be read here")
    assert errors[1]["message"].startswith("line 2: {% load %} is not available in e-mail templates")
    assert not EmailTemplate.objects.exists()


def test_a_step_naming_an_unknown_template_is_refused_and_a_used_template_is_kept(writer):
    template = writer.post(URL, BODY, format="json").json()
    bad = writer.post(
        "/api/v1/campaigns/",
        {"name": "C", "steps": [{"key": "m", "type": "send_email", "template": "nope"}]},
        format="json",
    )
    assert bad.status_code == 400
    assert bad.json()["errors"] == [
        {"path": "steps[0].template", "message": "no e-mail template with the slug 'nope'"}
    ]

    good = writer.post(
        "/api/v1/campaigns/",
        {"name": "C", "steps": [{"key": "m", "type": "send_email", "template": "welcome"}]},
        format="json",
    )
    assert good.status_code == 201
    writer.post(f"/api/v1/campaigns/{good.json()['id']}/publish/", {}, format="json")
    renamed = writer.patch(f"{URL}{template['id']}/", {"slug": "hello"}, format="json")
    assert renamed.status_code == 400 and "keep the slug" in renamed.json()["errors"][0]["message"]
    refused = writer.delete(f"{URL}{template['id']}/")
    assert (
        refused.status_code == 400
        and "campaigns send this template: C" in refused.json()["errors"][0]["message"]
    )


@pytest.mark.django_db
def test_the_admin_refuses_a_broken_template_with_the_line_and_previews_a_good_one(marketer):
    client = Client()
    client.force_login(marketer)
    form = {"name": "Welcome", "slug": "welcome", "subject": BODY["subject"], "preheader": "", "layout": "",
            "text": "", "html": "<p>ok</p>\n<p>{{ contact.first_name|shout }}</p>"}  # fmt: skip

    refused = client.post("/admin/messaging/emailtemplate/add/", form)
    assert refused.status_code == 200
    assert "line 2: there is no filter “shout”" in refused.content.decode()

    created = client.post("/admin/messaging/emailtemplate/add/", {**form, "html": BODY["html"]})
    assert created.status_code == 302
    template = EmailTemplate.objects.get()
    contact = ContactFactory(first_name="Mia", email="mia@example.org")

    preview = client.get(f"/admin/messaging/emailtemplate/{template.pk}/preview/?contact=mia@example.org")
    assert preview.status_code == 200
    page = preview.content.decode()
    assert "Welcome, Mia" in page and "Hello Mia" in page

    sent = client.post(f"/admin/messaging/emailtemplate/{template.pk}/preview/", {"contact": contact.pk})
    assert sent.status_code == 302
    (test,) = mail.outbox
    assert (test.to, test.subject) == ([marketer.email], "[Test] Welcome, Mia")
    test_action = Action.objects.get(verb="email_template.test_sent")
    assert (test_action.actor_kind, test_action.contact_id) == ("manual", contact.pk)


@pytest.mark.django_db
def test_the_preview_page_shows_a_contact_s_markup_as_text(marketer, as_marketer):
    from messaging.services import email_template_create

    template = email_template_create(name="Hi", subject="Hi {{ contact.first_name }}", html="<p>Hi</p>")
    ContactFactory(email="x@example.org", first_name="<script>alert(1)</script>")
    client = Client()
    client.force_login(marketer)

    page = client.get(f"/admin/messaging/emailtemplate/{template.pk}/preview/?contact=x@example.org")

    assert "<script>alert(1)</script>" not in page.content.decode()
    assert "Hi &lt;script&gt;alert(1)&lt;/script&gt;" in page.content.decode()
