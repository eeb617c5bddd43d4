"""The counting rule: which ledger verbs are units of marketing work, in one table.

The ratio counts one unit for each effect a person would otherwise have had to produce by
hand, once (Brinker's test): a registration captured, a message sent, a score, tag, field or
owner changed, a contact enriched, a segment entered or left, a campaign set up. The engine's
own bookkeeping (a contact enrolled, a journey completed, a retry, a model trained, a
provider's bounce report) stays in the ledger, where it explains what happened, but is
never counted.

Every verb the product records is in RULES; recording a verb that is not raises, so a new
kind of action cannot reach the ledger without someone deciding how it counts. A counted
unit either has a channel (the message or touchpoint went through one) or names, through
`no_channel`, why none applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class NoChannel(StrEnum):
    """Why a counted unit has no channel."""

    DATA = "data", "a change to marketing data: nothing is sent to anyone"
    SETUP = "setup", "setting the product up: campaigns, segments, templates, models"
    TEAM = "team", "work handed to people: owners and tasks"
    INSIGHT = "insight", "understanding what people write: intents and topics"

    def __new__(cls, value: str, meaning: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.meaning = meaning
        return member

    @property
    def label(self) -> str:
        return f"no channel: {self.value}"


@dataclass(frozen=True)
class Rule:
    """How one verb counts. `unit` says what one counted action is; an uncounted verb says
    in `why_not` why it is bookkeeping."""

    unit: str = ""
    no_channel: NoChannel | None = None
    why_not: str = ""

    @property
    def counts(self) -> bool:
        return not self.why_not


def _unit(unit: str, no_channel: NoChannel | None = None) -> Rule:
    return Rule(unit=unit, no_channel=no_channel)


def _bookkeeping(why: str) -> Rule:
    return Rule(why_not=why)


DATA, SETUP, TEAM, INSIGHT = NoChannel.DATA, NoChannel.SETUP, NoChannel.TEAM, NoChannel.INSIGHT
ENROLLMENT_ENDS = "the engine's bookkeeping: the unit is what the journey's steps did"

RULES: dict[str, Rule] = {
    # Capture: one registration, visit or reply is one unit, whether or not it made a contact.
    "touchpoint.captured": _unit("a touchpoint captured (a registration, a visit, a reply)", DATA),
    "touchpoint.imported": _unit("a touchpoint imported from a file", DATA),
    "contact.created": _unit("a contact created on its own (not with a touchpoint)", DATA),
    "contact.created_with_touchpoint": _bookkeeping("counted once, as the touchpoint that made the contact"),
    "contact.imported": _unit("a contact imported from a file", DATA),
    "account.created": _unit("an account created", DATA),
    "account.imported": _unit("an account imported from a file", DATA),
    # Changes to the data.
    "contact.updated": _unit("a contact's fields changed", DATA),
    "contact.updated_with_touchpoint": _bookkeeping(
        "counted once, as the touchpoint that brought the change"
    ),
    "account.updated": _unit("an account's fields changed", DATA),
    "contact.enriched": _unit("a contact enriched from an outside source", DATA),
    "contact.scored": _unit("a lead score changed", DATA),
    "contact.mql_reached": _bookkeeping("follows from the score change, which is counted"),
    "tag.added": _unit("a tag put on a contact", DATA),
    "tag.removed": _unit("a tag taken off a contact", DATA),
    "tag.renamed": _unit("a tag renamed", DATA),
    "consent.subscribed": _unit("a consent recorded"),
    "consent.unsubscribed": _unit("a withdrawal of consent recorded"),
    "consent.cleared": _unit("a consent cleared"),
    "suppression.added": _unit("an address suppressed", DATA),
    "suppression.removed": _unit("a suppression lifted", DATA),
    "contact.deleted": _unit("a contact deleted", DATA),
    "touchpoint.deleted": _unit("a touchpoint deleted", DATA),
    "account.deleted": _unit("an account deleted", DATA),
    "contact.exported": _unit("a person's data exported on request", DATA),
    "contact.erased": _unit("a person erased on request", DATA),
    # Segments and lists.
    "segment.entered": _unit("a contact entered a segment or list", DATA),
    "segment.exited": _unit("a contact left a segment or list", DATA),
    "segment.created": _unit("a segment or list set up", SETUP),
    "segment.updated": _unit("a segment or list changed", SETUP),
    "segment.deleted": _unit("a segment or list deleted", SETUP),
    # Messages: one unit when the provider accepted it.
    "email.sent": _unit("an e-mail sent"),
    "sms.sent": _unit("an SMS sent"),
    "webhook.sent": _unit("a webhook delivered"),
    "email.failed": _bookkeeping("nothing reached the person; the send that succeeds is the unit"),
    "sms.failed": _bookkeeping("nothing reached the person; the send that succeeds is the unit"),
    "webhook.failed": _bookkeeping("nothing was delivered; the delivery that succeeds is the unit"),
    "message.sent_again": _unit("a person decided to send again a message whose fate was unknown"),
    "message.marked_sent": _unit("a person confirmed a message whose fate was unknown"),
    "email.bounced_hard": _bookkeeping("the provider's report; the suppression it causes is the unit"),
    "email.bounced_soft": _bookkeeping("the provider's report of a passing failure"),
    "email.complained": _bookkeeping("the provider's report; the suppression it causes is the unit"),
    "audience.synced": _unit("an ad audience brought up to date"),
    # Campaigns: setting them up is work; running them is what their steps do.
    "campaign.created": _unit("a campaign set up", SETUP),
    "campaign.updated": _unit("a campaign changed", SETUP),
    "campaign.published": _unit("a campaign published", SETUP),
    "campaign.enroll_requested": _unit("contacts put into a campaign at once", SETUP),
    "campaign.contacts_moved": _unit("contacts moved from one version of a campaign to another", SETUP),
    "campaign.enrolled": _bookkeeping(ENROLLMENT_ENDS),
    "campaign.completed": _bookkeeping(ENROLLMENT_ENDS),
    "campaign.exited": _bookkeeping(ENROLLMENT_ENDS),
    "campaign.failed": _bookkeeping(ENROLLMENT_ENDS),
    "campaign.retried": _bookkeeping("a retry repeats work; the step that then succeeds is the unit"),
    "email_template.created": _unit("an e-mail template written", SETUP),
    "email_template.updated": _unit("an e-mail template changed", SETUP),
    "email_template.deleted": _unit("an e-mail template deleted", SETUP),
    "email_template.test_sent": _unit("a test of a template sent to its author", SETUP),
    "email_layout.created": _unit("an e-mail layout designed", SETUP),
    "email_layout.updated": _unit("an e-mail layout changed", SETUP),
    # Owners and tasks.
    "lead.routed": _unit("an owner given to a lead", TEAM),
    "lead.escalated": _unit("a lead handed on after its owner did not act", TEAM),
    "lead.unrouted": _bookkeeping("no rule found an owner; nothing changed"),
    "task.created": _unit("a task given to someone", TEAM),
    "task.completed": _unit("a task done", TEAM),
    # Intents and topics.
    "intent.detected": _unit("an intent recognised in what a person wrote", INSIGHT),
    "intent.created": _unit("an intent defined", INSIGHT),
    "intent.labelled": _unit("an example labelled", INSIGHT),
    "intent.relabelled": _unit("an example labelled again", INSIGHT),
    "intent.example_deleted": _unit("an example removed", INSIGHT),
    "intent.examples_imported": _unit("a file of examples imported", INSIGHT),
    "intent_model.requested": _unit("a new model asked for", INSIGHT),
    "intent_model.activated": _unit("a model put to work", INSIGHT),
    "intent_model.threshold_set": _unit("a model's threshold chosen", INSIGHT),
    "intent_model.trained": _bookkeeping("the worker answering a request for a model, which is counted"),
    "intent_model.failed": _bookkeeping("the worker's report that a model could not be trained"),
    "topic.proposed": _unit("a new topic found in what people wrote", INSIGHT),
    "topic.named": _unit("a topic named into an intent", INSIGHT),
    "topic.dismissed": _unit("a topic dismissed", INSIGHT),
}


class UnknownVerb(ValueError):
    pass


def verb_rule(verb: str) -> Rule:
    try:
        return RULES[verb]
    except KeyError:
        raise UnknownVerb(
            f"the ledger verb {verb!r} has no counting rule: add it to ledger.counting.RULES"
        ) from None


def verb_check(verb: str, *, channel: str) -> None:
    """Raises unless the verb has a rule and a counted unit says where it went: a channel,
    or the reason its rule gives for none."""
    rule = verb_rule(verb)
    if rule.counts and not channel and rule.no_channel is None:
        raise UnknownVerb(f"the ledger verb {verb!r} counts as a unit with a channel, and none was given")


def counted_verbs() -> list[str]:
    return sorted(verb for verb, rule in RULES.items() if rule.counts)


def no_channel_reason(verb: str) -> NoChannel | None:
    rule = RULES.get(verb)
    return rule.no_channel if rule else None
