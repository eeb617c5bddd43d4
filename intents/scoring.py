"""Lead scoring: score = fit points + engagement points decayed to now.

Engagement points are kept per contact and rule as a value and a timestamp, like intent
signals, so time passing rewrites nothing; new touchpoints add to them in one statement.
A contact's score is recomputed only for the contacts a batch touched (and by the
periodic refresh, as points fade). Crossing the MQL threshold upward is announced."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, FloatField, Sum, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Power
from django.dispatch import Signal
from django.utils import timezone

from contacts.models import Contact, Touchpoint
from contacts.services import contacts_scores_set
from intents.models import EngagementPoints, ScoringRule
from intents.rules import Condition, parse_conditions
from ledger.models import Category
from ledger.services import ActionEntry, action_record_many

# Sent after commit; kwargs: contact_ids (list[int]) whose score rose to the threshold or past it.
lead_score_crossed = Signal()

CONTACT_FIELDS = ("email", "job_title", "city", "country", "timezone", "lifecycle_stage", "source", "phone")
REFRESH_BATCH = 2000


def mql_threshold() -> int:
    return settings.LEAD_SCORE_MQL_THRESHOLD


def _rules() -> tuple[list[tuple[ScoringRule, list[Condition]]], list[tuple[ScoringRule, list[Condition]]]]:
    engagement, fit = [], []
    for rule in ScoringRule.objects.filter(is_active=True).order_by("pk"):
        entry = (rule, parse_conditions(rule.conditions))
        (engagement if rule.kind == ScoringRule.Kind.ENGAGEMENT else fit).append(entry)
    return engagement, fit


def fit_facts(row: Mapping[str, Any]) -> dict[str, Any]:
    """What fit conditions can ask about a contact, flattened: fields, account.*, attributes.*."""
    facts = {field: row[field] for field in CONTACT_FIELDS}
    for key in ("industry", "employees", "country"):
        facts[f"account.{key}"] = row[f"account__{key}"]
    facts.update({f"attributes.{key}": value for key, value in (row["attributes"] or {}).items()})
    return {key: value for key, value in facts.items() if value not in (None, "")}


ENGAGEMENT_UPSERT = """
INSERT INTO intents_engagementpoints (contact_id, rule_id, points, updated_at)
SELECT contact_id, rule_id, points, %(at)s
FROM unnest(%(contacts)s::bigint[], %(rules)s::bigint[], %(points)s::float8[])
     AS new (contact_id, rule_id, points)
ON CONFLICT (contact_id, rule_id) DO UPDATE SET
    -- what is left of the old points, plus the new ones
    points = intents_engagementpoints.points * power(
        0.5,
        GREATEST(0, extract(epoch FROM excluded.updated_at - intents_engagementpoints.updated_at)) / 3600.0
        / (SELECT half_life_hours FROM intents_scoringrule WHERE id = excluded.rule_id)
    ) + excluded.points,
    updated_at = excluded.updated_at
"""


@transaction.atomic
def lead_scores_update(*, touchpoint_ids: Sequence[int], at: datetime | None = None) -> int:
    """New touchpoints earn their engagement points; their contacts are rescored.
    Without any active scoring rule, scores are people's to set and nothing changes."""
    engagement, fit = _rules()
    if not engagement and not fit:
        return 0
    at = at or timezone.now()
    earned: dict[tuple[int, int], float] = defaultdict(float)
    contact_ids = set()
    for contact_id, kind, properties in Touchpoint.objects.filter(pk__in=touchpoint_ids).values_list(
        "contact_id", "kind_id", "properties"
    ):
        contact_ids.add(contact_id)
        for rule, conditions in engagement:
            if rule.touchpoint_kind_id not in (None, kind):
                continue
            if all(condition.holds(properties or {}) for condition in conditions):
                earned[(contact_id, rule.pk)] += rule.points
    if earned:
        keys = sorted(earned)
        with connection.cursor() as cursor:
            cursor.execute(
                ENGAGEMENT_UPSERT,
                {
                    "at": at,
                    "contacts": [c for c, _ in keys],
                    "rules": [r for _, r in keys],
                    "points": [earned[key] for key in keys],
                },
            )
    return contacts_rescore(contact_ids=sorted(contact_ids), at=at, fit=fit)


def engagement_now(*, contact_ids: Sequence[int], at: datetime):
    """Engagement points decayed to `at`, per contact and rule."""
    hours = RawSQL(
        "GREATEST(0, extract(epoch FROM %s::timestamptz - intents_engagementpoints.updated_at)) / 3600.0",
        (at,),
    )
    return EngagementPoints.objects.filter(contact_id__in=contact_ids).annotate(
        now=F("points") * Power(Value(0.5), hours / F("rule__half_life_hours"), output_field=FloatField())
    )


@transaction.atomic
def contacts_rescore(*, contact_ids: Sequence[int], at: datetime | None = None, fit=None) -> int:
    """Recompute these contacts' scores; record and announce the ones that changed."""
    at = at or timezone.now()
    if fit is None:
        engagement_rules, fit = _rules()
        if not engagement_rules and not fit:
            return 0
    engagement = dict(
        engagement_now(contact_ids=contact_ids, at=at)
        .values("contact_id")
        .annotate(total=Sum("now"))
        .values_list("contact_id", "total")
    )
    rows = Contact.objects.filter(pk__in=contact_ids).values(
        "pk",
        "score",
        "attributes",
        "account__industry",
        "account__employees",
        "account__country",
        *CONTACT_FIELDS,
    )
    threshold = mql_threshold()
    changed, entries, crossed = [], [], []
    for row in rows:
        facts = fit_facts(row)
        fit_points = sum(rule.points for rule, conditions in fit if all(c.holds(facts) for c in conditions))
        engaged = engagement.get(row["pk"]) or 0.0
        score = round(fit_points + engaged)
        if score == row["score"]:
            continue
        changed.append(Contact(pk=row["pk"], score=score, updated_at=at))
        details = {"from": row["score"], "to": score, "fit": fit_points, "engagement": round(engaged, 2)}
        entries.append(
            ActionEntry(
                category=Category.SCORING,
                verb="contact.scored",
                contact_id=row["pk"],
                details=details,
                occurred_at=at,
            )
        )
        if row["score"] < threshold <= score:
            crossed.append(row["pk"])
            entries.append(
                ActionEntry(
                    category=Category.SCORING,
                    verb="contact.mql_reached",
                    contact_id=row["pk"],
                    details={"score": score, "threshold": threshold},
                    occurred_at=at,
                )
            )
    contacts_scores_set(scores={c.pk: c.score for c in changed}, at=at)
    action_record_many(entries=entries)
    if crossed:
        transaction.on_commit(lambda: lead_score_crossed.send(sender=ScoringRule, contact_ids=crossed))
    return len(changed)


def lead_scores_refresh(*, at: datetime | None = None) -> int:
    """Rescore every contact with engagement points: as points fade, scores fall. Run by
    a periodic task; batches keep each transaction short."""
    at = at or timezone.now()
    ids = EngagementPoints.objects.values_list("contact_id", flat=True).distinct().order_by("contact_id")
    changed, batch = 0, []
    for contact_id in ids.iterator(chunk_size=REFRESH_BATCH):
        batch.append(contact_id)
        if len(batch) == REFRESH_BATCH:
            changed += contacts_rescore(contact_ids=batch, at=at)
            batch = []
    if batch:
        changed += contacts_rescore(contact_ids=batch, at=at)
    return changed


def lead_score_explain(*, contact: Contact, at: datetime | None = None) -> list[dict]:
    """How a contact's score is built, rule by rule, as it stands at `at`."""
    at = at or timezone.now()
    lines = []
    row = (
        Contact.objects.filter(pk=contact.pk)
        .values(
            "pk", "attributes", "account__industry", "account__employees", "account__country", *CONTACT_FIELDS
        )
        .get()
    )
    facts = fit_facts(row)
    for rule in ScoringRule.objects.filter(is_active=True, kind=ScoringRule.Kind.FIT).order_by("name"):
        conditions = parse_conditions(rule.conditions)
        if all(c.holds(facts) for c in conditions):
            why = " and ".join(c.describe() for c in conditions) or "every contact"
            lines.append({"rule": rule.name, "kind": "fit", "points": float(rule.points), "why": why})
    for points in engagement_now(contact_ids=[contact.pk], at=at).select_related("rule").order_by("-now"):
        lines.append(
            {
                "rule": points.rule.name,
                "kind": "engagement",
                "points": round(points.now, 1),
                "why": f"{points.points:.1f} points on {points.updated_at:%Y-%m-%d}, "
                f"halving every {points.rule.half_life_hours:g} h",
            }
        )
    return lines
