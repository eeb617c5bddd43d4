"""The journey graph, the campaign's stats (API and page) count a send step's failed messages
as failed and those of unknown fate as unknown, never as done; the page lists the unknown
ones with "send again" and "mark as sent", each the person's action in the ledger."""

import re

import pytest
from django.test import Client

from bench.smtp_sink import SmtpSink
from campaigns.selectors import campaign_stats
from campaigns.services import campaign_enroll
from ledger.models import Action
from messaging.models import OutboxMessage
from tests.campaigns.conftest import published, run_due
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

STEPS = [
    {
        "key": "invite",
        "type": "send_email",
        "subject": "Join us, {{ contact.first_name }}",
        "body": "Thursday.",
    },
    {"key": "tag", "type": "add_tag", "tags": ["invited"]},
]


@pytest.fixture
def smtp(settings):
    """A real SMTP server that refuses `gone@` for good and, the first time it is handed an
    e-mail for `lost…@`, takes it and drops the connection before answering (as a worker killed
    at that moment would never hear): the sender cannot know whether it went."""
    with SmtpSink() as sink:
        dropped = set()

        async def handle_RCPT(server, session, envelope, address, options):
            if address.startswith("gone@"):
                return "550 5.1.1 no such mailbox"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(server, session, envelope):
            (to,) = envelope.rcpt_tos
            sink.handler.received.append(envelope.original_content)
            if to.startswith("lost") and to not in dropped:
                dropped.add(to)
                server.transport.close()
            return "250 OK"

        sink.handler.handle_RCPT, sink.handler.handle_DATA = handle_RCPT, handle_DATA
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", sink.port, 5
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        yield sink


@pytest.fixture
def campaign(as_marketer, smtp, clock):
    """Five contacts through a one-e-mail journey: two e-mails taken, one refused for good,
    two whose connection dropped while the server's answer was awaited."""
    campaign = published(name="Webinar", steps=STEPS)
    people = [ContactFactory(email=f"{name}@example.org", first_name=name) for name in
              ("ada", "gone", "lost1", "lost2", "noor")]  # fmt: skip
    campaign_enroll(campaign=campaign, contact_ids=[person.pk for person in people])
    run_due()
    return campaign


def by_email() -> dict[str, str]:
    return dict(OutboxMessage.objects.values_list("contact__email", "status"))


def test_a_send_step_counts_its_failed_and_unknown_messages_apart_from_done(campaign):
    # given what the server did
    assert by_email() == {
        "ada@example.org": "sent", "gone@example.org": "failed", "lost1@example.org": "unknown",
        "lost2@example.org": "unknown", "noor@example.org": "sent",
    }  # fmt: skip

    # when
    stats = campaign_stats(campaign=campaign)

    # then
    invite, tag = stats["steps"]
    assert {name: invite[name] for name in ("entered", "waiting", "completed", "failed", "unknown")} == {
        "entered": 5, "waiting": 0, "completed": 2, "failed": 1, "unknown": 2,
    }  # fmt: skip
    assert invite["messages"] == {
        "pending": 0, "sending": 0, "sent": 2, "suppressed": 0, "failed": 1, "unknown": 2,
    }  # fmt: skip
    assert (tag["entered"], tag["completed"], tag["failed"], tag["unknown"]) == (5, 5, 0, 0)
    assert "messages" not in tag
    assert stats["messages"] == invite["messages"]


def test_the_stats_api_and_the_journey_graph_say_the_same(campaign, writer, marketer):
    # when
    api = writer.get(f"/api/v1/campaigns/{campaign.pk}/stats/").json()
    client = Client()
    client.force_login(marketer)
    page = client.get(f"/admin/campaigns/campaign/{campaign.pk}/change/").content.decode()

    # then
    (invite,) = [row for row in api["steps"] if row["key"] == "invite"]
    assert (invite["completed"], invite["failed"], invite["unknown"]) == (2, 1, 2)
    assert api["messages"]["unknown"] == 2
    node = re.search(r'<g class="jg-node jg-step jg-message"[^>]*data-step="invite".*?</g>', page, re.S)
    assert node
    drawn = dict(
        (label, int(value))
        for value, label in re.findall(
            r'jg-count-[a-z]+[^>]*>([\d,]+)</text><text class="jg-count-label"[^>]*>([a-z]+)</text>',
            node.group(0),
        )
    )
    assert drawn == {"entered": 5, "done": 2, "failed": 1, "unknown": 2}
    assert "5 entered, 0 waiting, 2 done, 1 failed, 2 unknown." in node.group(0)
    assert "Its messages: 2 sent, 1 failed, 2 of unknown fate." in node.group(0)
    assert "messages: 2 sent, 1 failed, 2 of unknown fate" in page  # the campaign's line


def test_the_campaign_page_lists_the_unknown_ones_to_send_again_or_mark_as_sent(campaign, smtp, marketer):
    # given
    client = Client()
    client.force_login(marketer)
    url = f"/admin/campaigns/campaign/{campaign.pk}/change/"
    page = client.get(url).content.decode()
    unknown = dict(OutboxMessage.objects.filter(status="unknown").values_list("contact__email", "pk"))
    assert "lost1@example.org" in page and "lost2@example.org" in page
    assert f"/admin/messaging/outboxmessage/?status__exact=unknown&amp;origin=campaign:{campaign.pk}" in page
    outbox = client.get(
        f"/admin/messaging/outboxmessage/?status__exact=unknown&origin=campaign:{campaign.pk}"
    )
    assert outbox.status_code == 200 and "lost1@example.org" in outbox.content.decode()

    # when the person finds lost1's e-mail in the server's log and not lost2's
    marked = client.post(
        f"/admin/campaigns/campaign/{campaign.pk}/unknown/mark-sent/",
        {"unknown_message": [unknown["lost1@example.org"]]},
        follow=True,
    )
    again = client.post(
        f"/admin/campaigns/campaign/{campaign.pk}/unknown/send-again/",
        {"unknown_message": [unknown["lost2@example.org"]]},
        follow=True,
    )
    run_due()

    # then
    assert "1 message(s) marked as sent." in marked.content.decode()
    assert "1 message(s) will be sent again." in again.content.decode()
    assert by_email()["lost1@example.org"] == "sent" and by_email()["lost2@example.org"] == "sent"
    (invite, _) = campaign_stats(campaign=campaign)["steps"]
    assert (invite["completed"], invite["failed"], invite["unknown"]) == (4, 1, 0)
    decisions = Action.objects.filter(verb__in=["message.marked_sent", "message.sent_again"])
    assert sorted(decisions.values_list("verb", "actor_kind", "actor_id")) == [
        ("message.marked_sent", "manual", marketer.pk), ("message.sent_again", "manual", marketer.pk),
    ]  # fmt: skip
    assert "the fate of every message is known" in client.get(url).content.decode()


def test_a_viewer_sees_the_unknown_ones_but_cannot_decide(campaign, viewer):
    client = Client()
    client.force_login(viewer)
    message = OutboxMessage.objects.filter(status="unknown").first()

    page = client.get(f"/admin/campaigns/campaign/{campaign.pk}/change/").content.decode()
    refused = client.post(
        f"/admin/campaigns/campaign/{campaign.pk}/unknown/mark-sent/", {"unknown_message": [message.pk]}
    )

    assert "lost1@example.org" in page and "Mark the checked ones as sent" not in page
    assert refused.status_code == 403
    assert OutboxMessage.objects.get(pk=message.pk).status == "unknown"
