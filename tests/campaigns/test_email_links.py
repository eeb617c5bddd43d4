"""Signed links of a sent e-mail: opens and clicks become touchpoints; an altered, expired or
foreign link is refused and never redirected; unsubscribe and preferences need no login."""

import re
from datetime import timedelta
from html import unescape
from urllib.parse import urlparse

import pytest
import time_machine
from django.core import mail, signing
from django.test import Client

from campaigns.services import campaign_enroll
from contacts.models import ConsentChange, Touchpoint
from ledger.models import Action
from messaging.email import links
from messaging.models import OutboxMessage
from messaging.services import email_template_create
from tests.campaigns.conftest import NOW, published, run_due
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

HTML = '<p>Hi {{ contact.first_name }}</p><p><a href="https://example.com/pricing">Pricing</a></p>'


@pytest.fixture
def sent(as_marketer, clock, settings):
    """One e-mail sent to Ada; its HTML, message and contact."""
    settings.PUBLIC_URL = "https://mops.example.com"
    email_template_create(name="News", slug="news", subject="News", html=HTML)
    campaign = published(steps=[{"key": "news", "type": "send_email", "template": "news"}])
    contact = ContactFactory(first_name="Ada", consent_email="subscribed", consent_sms="subscribed")
    campaign_enroll(campaign=campaign, contact_ids=[contact.pk])
    run_due()
    (message,) = mail.outbox
    html = message.alternatives[0][0]
    return html, OutboxMessage.objects.get(), contact


def _path(html: str, kind: str) -> str:
    url = re.search(rf'"(https://mops\.example\.com/email/{kind}/[^"]+)"', html).group(1)
    return urlparse(unescape(url)).path


def test_an_open_and_a_click_become_touchpoints_once(sent):
    html, message, contact = sent
    client = Client()

    assert client.get(_path(html, "o")).status_code == 200
    assert client.get(_path(html, "o"))["Content-Type"] == "image/gif"
    response = client.get(_path(html, "c"))
    client.get(_path(html, "c"))

    assert (response.status_code, response["Location"]) == (302, "https://example.com/pricing")
    touchpoints = Touchpoint.objects.filter(contact=contact).order_by("id")
    assert [t.kind_id for t in touchpoints] == ["email_open", "email_click"]
    assert touchpoints[1].properties["url"] == "https://example.com/pricing"
    assert touchpoints[1].properties["message"] == message.pk and touchpoints[1].channel == "email"
    captured = Action.objects.filter(verb="touchpoint.captured", contact_id=contact.pk)
    assert set(captured.values_list("actor_kind", flat=True)) == {"algorithmic"}


def test_an_altered_link_is_refused_and_redirects_nowhere(sent):
    html, _, contact = sent
    path = _path(html, "c")
    token = path.split("/")[-2]
    altered = path.replace(token, token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb"))

    response = Client().get(altered)

    assert response.status_code == 400 and "Location" not in response
    assert b"not valid" in response.content
    assert not Touchpoint.objects.filter(contact=contact).exists()


def test_a_link_to_a_target_the_e_mail_did_not_contain_is_refused(sent, settings):
    _, message, _ = sent
    # A token signed with another key (someone forging a redirect to their site) ...
    forged = signing.dumps(
        {"m": message.pk, "c": message.contact_id, "u": "https://evil.example.net/"},
        key="not-our-key", salt=links.CLICK, compress=True,
    )  # fmt: skip
    # ... or our own unsubscribe token passed off as a click
    other_kind = links.unsubscribe_token(contact_id=message.contact_id, message_id=message.pk)
    # ... or a genuine click token of a message of another contact
    stranger = ContactFactory()
    foreign = links.click_url(
        message_id=message.pk, contact_id=stranger.pk, url="https://example.com/pricing"
    )

    for path in (f"/email/c/{forged}/", f"/email/c/{other_kind}/", urlparse(foreign).path):
        response = Client().get(path)
        assert response.status_code in (400, 404) and "Location" not in response, path


def test_an_expired_link_is_refused(sent, settings):
    html, _, contact = sent
    settings.EMAIL_TRACKING_MAX_AGE_DAYS = 30
    with time_machine.travel(NOW + timedelta(days=31), tick=False):
        response = Client().get(_path(html, "c"))
        pixel = Client().get(_path(html, "o"))
    assert response.status_code == 400 and b"expired" in response.content
    assert pixel.status_code == 404
    assert not Touchpoint.objects.filter(contact=contact).exists()


def test_a_get_of_the_unsubscribe_link_only_asks_and_the_form_unsubscribes(sent):
    _, message, contact = sent
    token = links.unsubscribe_token(contact_id=contact.pk, message_id=message.pk)
    client = Client(enforce_csrf_checks=True)

    page = client.get(f"/email/unsubscribe/{token}/")
    contact.refresh_from_db()
    assert page.status_code == 200 and contact.consent_email == "subscribed"
    assert b"Unsubscribe from our e-mails?" in page.content

    done = client.post(f"/email/unsubscribe/{token}/")
    contact.refresh_from_db()
    assert done.status_code == 200 and contact.consent_email == "unsubscribed"
    assert ConsentChange.objects.get(contact=contact).evidence["method"] == "unsubscribe page"
    tp = Touchpoint.objects.get(contact=contact, kind_id="unsubscribe")
    assert tp.properties["message"] == message.pk


def test_the_preference_page_sets_consent_per_channel(sent):
    _, message, contact = sent
    token = links.unsubscribe_token(contact_id=contact.pk, message_id=message.pk)
    client = Client(enforce_csrf_checks=True)

    page = client.get(f"/email/preferences/{token}/")
    assert page.status_code == 200
    assert b'name="email" id="channel-email" checked' in page.content

    client.post(f"/email/preferences/{token}/", {"sms": "on"})

    contact.refresh_from_db()
    assert (contact.consent_email, contact.consent_sms) == ("unsubscribed", "subscribed")
    changes = ConsentChange.objects.filter(contact=contact)
    assert [(c.channel, c.status, c.actor_kind) for c in changes] == [
        ("email", "unsubscribed", "algorithmic")
    ]
    assert Touchpoint.objects.filter(contact=contact, kind_id="unsubscribe").count() == 1


def test_a_tampered_unsubscribe_link_changes_nobody(sent):
    _, _, contact = sent
    token = links.unsubscribe_token(contact_id=contact.pk, message_id=0)
    body = token.split(":")[0]
    tampered = signing.dumps({"c": contact.pk + 1, "m": 0}, salt="other", compress=True).split(":")[0]

    response = Client().post(f"/email/unsubscribe/{token.replace(body, tampered)}/")

    assert response.status_code == 404
    contact.refresh_from_db()
    assert contact.consent_email == "subscribed"


def test_a_token_is_the_one_django_signing_writes_and_reads_back(settings):
    # given a frozen clock, a key with a fallback, and a target with characters JSON escapes
    settings.SECRET_KEY = "the-current-key"
    data = {"m": 7, "c": 42, "u": 'https://example.com/é?a=1&b="2"'}

    with time_machine.travel(NOW, tick=False):
        # when
        token = links._sign(links.CLICK, data)

        # then
        assert token == signing.dumps(data, salt=links.CLICK)
        assert links.clicked(token) == links.Tracked(message_id=7, contact_id=42, url=data["u"])
        settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-key", ["the-current-key"]
        assert links.clicked(token).url == data["u"]  # still valid while the old key is a fallback
        assert links._sign(links.CLICK, data) != token  # and new links use the new key
        with pytest.raises(links.LinkRefused):
            links.opened(token)  # the salt of another kind of link


def test_the_plain_text_part_links_through_the_same_signed_redirects(as_marketer, clock, settings):
    # given a template with its own plain text: a link ending a sentence, and the unsubscribe link
    settings.PUBLIC_URL = "https://mops.example.com"
    email_template_create(
        name="Digest", slug="digest", subject="Digest", html=HTML,
        text="Hi {{ contact.first_name }}, read https://example.com/blog?p=1. Bye: {{ unsubscribe_url }}",
    )  # fmt: skip
    campaign = published(steps=[{"key": "d", "type": "send_email", "template": "digest"}])
    contact = ContactFactory(first_name="Ada")
    campaign_enroll(campaign=campaign, contact_ids=[contact.pk])

    # when
    run_due()

    # then the address is a click redirect, the full stop stays text, the unsubscribe link stays itself
    (message,) = mail.outbox
    click = re.search(r"read (https://mops\.example\.com/email/c/[^/\s]+/)\. Bye: (\S+)$", message.body)
    assert click, message.body
    assert "example.com/blog" not in message.body
    assert click.group(2).startswith("https://mops.example.com/email/unsubscribe/")
    response = Client().get(urlparse(click.group(1)).path)
    assert (response.status_code, response["Location"]) == (302, "https://example.com/blog?p=1")
    assert Touchpoint.objects.get(contact=contact, kind_id="email_click").properties["url"] == (
        "https://example.com/blog?p=1"
    )


def test_the_text_made_from_the_html_links_through_the_same_redirect_as_the_html(sent):
    html, _, _ = sent
    (message,) = mail.outbox

    text_click = re.search(r"Pricing \((https://mops\.example\.com/email/c/[^)]+)\)", message.body).group(1)

    assert (
        unescape(re.search(r'href="(https://mops\.example\.com/email/c/[^"]+)"', html).group(1)) == text_click
    )
    assert "/email/unsubscribe/" in message.body and "/email/preferences/" in message.body
