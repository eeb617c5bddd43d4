"""The demo's intent rules and lead-scoring rules, and its history replayed through them.

The demo's touchpoints are copied in bulk, as if they had arrived over 90 days. Replaying
them two days at a time through the real recognition and scoring, each step at its own time, gives
the signals, scores and ledger the worker would have written had it seen them live: the
contact pages' curves rise and fade as they would have.
"""

from __future__ import annotations

from datetime import datetime
from itertools import groupby

from contacts.models import Touchpoint
from intents.models import BehaviourRule, Intent, ScoringRule, TextRule
from intents.scoring import contacts_rescore, lead_scores_update
from intents.services import touchpoints_recognise
from ledger.context import Actor, acting_as


def _starts(prop: str, value: str) -> list[dict]:
    return [{"property": prop, "operator": "starts_with", "value": value}]


def _has(prop: str, operator: str, value) -> list[dict]:
    return [{"property": prop, "operator": operator, "value": value}]


BEHAVIOUR_RULES = [
    # name, intent, touchpoint kind, conditions, confidence
    ("Pricing pages", "compare", "page_view", _starts("path", "/pricing"), 0.7),
    ("Pricing links in e-mails", "compare", "email_click", _starts("url", "/pricing"), 0.5),
    ("Demo requests", "purchase", "demo_request", [], 0.9),
    ("Documentation", "help_me", "page_view", _starts("path", "/docs"), 0.6),
    ("Guides on the blog", "educate_me", "page_view", _starts("path", "/blog"), 0.4),
    ("Webinar registrations", "educate_me", "webinar_registration", [], 0.6),
    ("Reports downloaded", "research", "content_download", [], 0.6),
    ("Customer stories", "reassure_me", "page_view", _starts("path", "/customers"), 0.5),
    ("Cancellation searches", "churn_risk", "search", _has("query", "contains", "cancel"), 0.8),
]  # fmt: skip

TEXT_RULES = [
    # name, intent, phrases, confirm words, veto words, confidence
    ("Pricing questions", "compare", "pricing\ndiscount\nenterprise plan\ncompare", "", "", 0.7),
    ("Switching tools", "compare", "switching\nalternatives", "", "", 0.6),
    ("Asks for a demo", "purchase", "demo\ntrial", "", "recording", 0.8),
    ("Cannot log in", "support", "log in\nlogin", "", "", 0.7),
    ("Unhappy customer", "churn_risk", "cancel\nnot happy\nnot great", "", "", 0.75),
]

SCORING_RULES = [
    # name, kind, touchpoint kind, conditions, points, half-life in hours
    ("Works in marketing", "fit", None, _has("job_title", "contains", "marketing"), 10, 336),
    ("Decision maker", "fit", None, _has("job_title", "in", ["CMO", "CEO", "Founder"]), 15, 336),
    ("Company of 200 or more", "fit", None, _has("account.employees", "at_least", 200), 15, 336),
    ("Pricing page visit", "engagement", "page_view", _starts("path", "/pricing"), 15, 168),
    ("Clicked an e-mail", "engagement", "email_click", [], 5, 168),
    ("Attended a webinar", "engagement", "webinar_attended", [], 20, 336),
    ("Downloaded a report", "engagement", "content_download", [], 10, 336),
    ("Asked for a demo", "engagement", "demo_request", [], 40, 336),
]  # fmt: skip


def demo_intent_rules_create() -> int:
    """The rules a marketer would have written; returns how many."""
    intents = {intent.key: intent for intent in Intent.objects.all()}
    for name, intent, kind, conditions, confidence in BEHAVIOUR_RULES:
        BehaviourRule.objects.get_or_create(
            name=name,
            defaults={
                "intent": intents[intent],
                "kind_id": kind,
                "conditions": conditions,
                "confidence": confidence,
            },
        )
    for name, intent, phrases, confirm, veto, confidence in TEXT_RULES:
        TextRule.objects.get_or_create(
            name=name,
            defaults={
                "intent": intents[intent],
                "phrases": phrases,
                "confirm_words": confirm,
                "veto_words": veto,
                "confidence": confidence,
            },
        )
    for name, kind, touchpoint_kind, conditions, points, half_life in SCORING_RULES:
        ScoringRule.objects.get_or_create(
            name=name,
            defaults={
                "kind": kind,
                "touchpoint_kind_id": touchpoint_kind,
                "conditions": conditions,
                "points": points,
                "half_life_hours": half_life,
            },
        )
    return len(BEHAVIOUR_RULES) + len(TEXT_RULES) + len(SCORING_RULES)


REPLAY_DAYS = 2  # each step of the replay: fine enough for the curves, half the statements of one a day


def demo_history_replay(*, contact_ids: list[int], since: datetime, now: datetime) -> int:
    """Recognise and score these contacts' touchpoints since `since`, two days at a time in
    the order they happened; then bring every score to `now`. Returns how many touchpoints
    showed an intent."""
    rows = (
        Touchpoint.objects.filter(contact_id__in=contact_ids, occurred_at__gte=since, occurred_at__lte=now)
        .order_by("occurred_at", "pk")
        .values_list("pk", "occurred_at")
    )
    found = 0
    with acting_as(Actor.for_task("contacts.touchpoints_captured")):
        for _days, day_rows in groupby(rows.iterator(), key=lambda row: row[1].toordinal() // REPLAY_DAYS):
            day_rows = list(day_rows)
            ids, at = [pk for pk, _ in day_rows], day_rows[-1][1]
            found += touchpoints_recognise(touchpoint_ids=ids, at=at)
            lead_scores_update(touchpoint_ids=ids, at=at)
    with acting_as(Actor.for_task("intents.lead_scores_refresh")):
        contacts_rescore(contact_ids=contact_ids, at=now)
    return found
