"""The counting rule: every verb the product records has a rule, the engine's bookkeeping is
never counted, and a counted unit says where it went."""

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from django.utils.html import escape

from campaigns.models import EnrollmentStatus
from contacts.models import ConsentStatus
from ledger.context import Actor, acting_as
from ledger.counting import RULES, UnknownVerb, counted_verbs
from ledger.models import Action
from ledger.services import action_record
from messaging.outbox import CHANNELS
from reporting.periods import Period
from reporting.selectors import action_breakdown, period_tally

ROOT = Path(__file__).resolve().parents[2]
APPS = ["contacts", "intents", "segments", "campaigns", "messaging", "routing", "privacy", "ledger", "demo"]
AT = datetime(2026, 6, 10, 9, tzinfo=UTC)
JUNE = Period(start=date(2026, 6, 1), end=date(2026, 6, 30))


def _written_verbs() -> set[str]:
    """Verbs written as literals: `verb="x.y"` in Python, `'x.y'` in the SQL of set-based inserts."""
    prefixes = {verb.split(".", 1)[0] for verb in RULES}
    found = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            text = path.read_text()
            found |= set(re.findall(r'verb="([a-z_]+\.[a-z_]+)"', text))
            if "ACTIONS_INSERT" in text:
                found |= {
                    literal
                    for literal in re.findall(r"'([a-z_]+\.[a-z_]+)'", text)
                    if literal.split(".", 1)[0] in prefixes
                }
    return found


def test_every_verb_the_product_writes_has_a_rule():
    written = _written_verbs()
    assert len(written) > 40  # the scan finds the product's verbs
    # and the verbs built from a name: journeys' ends, consent, channels' sends, segments
    built = {f"campaign.{status}" for status in ("completed", "exited", "failed")}
    assert set(EnrollmentStatus.values) >= {"completed", "exited", "failed"}
    built |= {f"consent.{status}" for status in [*ConsentStatus.values, "cleared"]}
    built |= {f"{name}.{outcome}" for name in CHANNELS for outcome in ("sent", "failed")}
    built |= {"segment.entered", "segment.exited", "email.bounced_hard", "email.bounced_soft"}
    assert (written | built) - set(RULES) == set()


def test_a_verb_without_a_rule_is_refused(db):
    with acting_as(Actor.for_task("test")), pytest.raises(UnknownVerb, match=r"email\.confirmation_sent"):
        action_record(category="email", verb="email.confirmation_sent", channel="email")
    assert not Action.objects.exists()


def test_a_counted_message_without_its_channel_is_refused(db):
    with acting_as(Actor.for_task("test")), pytest.raises(UnknownVerb, match="channel"):
        action_record(category="email", verb="email.sent")


def test_a_uncounted_verb_explains_itself_and_a_counted_one_says_what_one_unit_is():
    for verb, rule in RULES.items():
        assert bool(rule.unit) != bool(rule.why_not), verb
    assert "campaign.enrolled" not in counted_verbs()
    assert "email.sent" in counted_verbs()


def test_the_engines_bookkeeping_is_recorded_but_never_counted(db):
    # given one journey run: enrolled, an e-mail sent, completed
    with acting_as(Actor.for_campaign(campaign_id=1, name="Welcome")):
        action_record(category="campaign_management", verb="campaign.enrolled", contact_id=1, occurred_at=AT)
        action_record(category="email", verb="email.sent", contact_id=1, channel="email", occurred_at=AT)
        action_record(category="campaign_management", verb="campaign.completed", contact_id=1, occurred_at=AT)
    # and a person who tags the contact by hand
    with acting_as(Actor(kind="manual", type="user", name="maya", id=3)):
        action_record(
            category="tagging", verb="tag.added", contact_id=1, occurred_at=AT, details={"tag": "vip"}
        )

    # then the ledger keeps all four, and the ratio counts one unit on each side
    assert Action.objects.count() == 4
    tally = period_tally(period=JUNE)
    assert (tally.algorithmic, tally.manual) == (1, 1)
    # and the unit without a channel is shown under its reason
    channels = {
        group.label: (group.tally.algorithmic, group.tally.manual)
        for group in action_breakdown(period=JUNE, by="channel")
    }
    assert channels == {"E-mail": (1, 0), "no channel: data": (0, 1)}


def test_the_how_we_count_page_prints_the_table(admin_client):
    page = admin_client.get("/reports/how-we-count/").content.decode().lower()
    for verb, rule in RULES.items():
        assert f"<code>{verb}</code>" in page
        assert escape(rule.unit or rule.why_not)[:20].lower() in page
