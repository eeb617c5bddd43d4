"""Reads of segments: their dependency graph, members, and what a tree matches."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from contacts.models import Contact
from segments.models import Membership, Segment


def edges_load() -> dict[int, set[int]]:
    """segment id -> ids of the segments its conditions use."""
    edges: dict[int, set[int]] = {}
    for user_id, used_id in Segment.uses.through.objects.values_list("from_segment_id", "to_segment_id"):
        edges.setdefault(user_id, set()).add(used_id)
    return edges


def segments_using(*segments: Segment, edges: dict[int, set[int]] | None = None) -> list[Segment]:
    """Every segment that uses one of these, directly or through others."""
    edges = edges_load() if edges is None else edges
    users: dict[int, set[int]] = {}
    for user_id, used in edges.items():
        for used_id in used:
            users.setdefault(used_id, set()).add(user_id)
    found: set[int] = set()
    todo = [segment.pk for segment in segments]
    while todo:
        for user_id in users.get(todo.pop(), ()):
            if user_id not in found:
                found.add(user_id)
                todo.append(user_id)
    if not found:
        return []
    return list(Segment.objects.filter(pk__in=found))


def segment_paths_to(*, start: Segment, target: Segment) -> list[str] | None:
    """The slugs from start to target along "uses", or None when target is not reached:
    saving target to use start would close a circle."""
    edges = edges_load()
    slugs = dict(Segment.objects.values_list("pk", "slug"))
    path: list[int] = []
    seen: set[int] = set()

    def visit(node: int) -> bool:
        path.append(node)
        if node == target.pk:
            return True
        seen.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in seen and visit(nxt):
                return True
        path.pop()
        return False

    return [slugs.get(node, target.slug) for node in path] if visit(start.pk) else None


def dependency_order(
    segments: Iterable[Segment], *, edges: dict[int, set[int]] | None = None
) -> list[Segment]:
    """The segments, each after those it uses (no repeats)."""
    by_id = {segment.pk: segment for segment in segments}
    edges = edges_load() if edges is None else edges
    ordered: list[Segment] = []
    placed: set[int] = set()

    def place(pk: int, trail: frozenset[int]) -> None:
        if pk in placed or pk in trail:  # a circle cannot be saved; never loop on one anyway
            return
        for used in edges.get(pk, ()):
            if used in by_id:
                place(used, trail | {pk})
        placed.add(pk)
        ordered.append(by_id[pk])

    for pk in sorted(by_id):
        place(pk, frozenset())
    return ordered


def builder_catalog() -> dict:
    """What the rule builder offers: fields grouped by kind with their types, the choices
    of the fields that have them, and the attribute keys the data really holds."""
    from django.db import connection
    from django_countries import countries

    from contacts.models import ConsentStatus, LifecycleStage, Tag, TouchpointKind

    def keys(sql: str) -> list[str]:
        # A sample is enough to offer the keys people use; reading every row is not.
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return sorted(row[0] for row in cursor.fetchall())[:200]

    attribute_keys = keys(
        "SELECT DISTINCT jsonb_object_keys(attributes) FROM"
        " (SELECT attributes FROM contacts_contact ORDER BY id DESC LIMIT 5000) recent"
    )
    property_keys = keys(
        "SELECT DISTINCT jsonb_object_keys(properties) FROM"
        " (SELECT properties FROM contacts_touchpoint ORDER BY id DESC LIMIT 5000) recent"
    )
    country_choices = [[code, str(name)] for code, name in countries]
    return {
        "groups": [
            {
                "label": "Contact",
                "fields": [
                    ["email", "E-mail", "text"],
                    ["first_name", "First name", "text"],
                    ["last_name", "Last name", "text"],
                    ["job_title", "Job title", "text"],
                    ["city", "City", "text"],
                    ["country", "Country", "country"],
                    ["phone", "Phone", "text"],
                    ["timezone", "Time zone", "text"],
                    ["lifecycle_stage", "Lifecycle stage", "stage"],
                    ["source", "Source", "text"],
                    ["score", "Score", "number"],
                    ["owner", "Owner (username)", "text"],
                    ["created_at", "Created", "date"],
                    ["updated_at", "Updated", "date"],
                ],
            },
            {
                "label": "Account",
                "fields": [
                    ["account.name", "Company", "text"],
                    ["account.domain", "Company domain", "text"],
                    ["account.industry", "Industry", "text"],
                    ["account.employees", "Employees", "number"],
                    ["account.country", "Company country", "country"],
                ],
            },
            {
                "label": "Consent",
                "fields": [
                    ["consent.email", "E-mail consent", "consent"],
                    ["consent.sms", "SMS consent", "consent"],
                ],
            },
            {"label": "Attributes", "fields": [[f"attributes.{key}", key, "json"] for key in attribute_keys]},
        ],
        "touchpoint_fields": [
            ["channel", "Channel", "text"],
            ["source", "Source", "text"],
            ["text", "Text", "text"],
            ["intent", "Intent", "text"],
            ["occurred_at", "Time", "date"],
            *[[f"properties.{key}", key, "json"] for key in property_keys],
        ],
        "choices": {
            "country": country_choices,
            "stage": [[value, str(label)] for value, label in LifecycleStage.choices],
            "consent": [[value, str(label)] for value, label in ConsentStatus.choices],
        },
        "kinds": [[kind.key, kind.name] for kind in TouchpointKind.objects.order_by("name")],
        "tags": list(Tag.objects.order_by("name").values_list("name", flat=True)[:500]),
        "segments": [
            [slug, name] for slug, name in Segment.objects.order_by("name").values_list("slug", "name")
        ],
    }


def segments_with_sizes(*, limit: int = 12) -> QuerySet[Segment]:
    return Segment.objects.order_by("-size", "name")[:limit]


def contact_segment_answers(contact: Contact, *, now) -> list[dict]:
    """Each segment and this contact: in or not, and for a dynamic one, why, node by node."""
    from segments.evaluation import Known, parsed, why

    member_of = set(Membership.objects.filter(contact=contact).values_list("segment_id", flat=True))
    known = Known.load()
    answers = []
    for segment in Segment.objects.order_by("name"):
        answer = {"segment": segment, "member": segment.pk in member_of, "why": None}
        if segment.kind == Segment.Kind.DYNAMIC:
            answer["why"] = why(parsed(segment.conditions, known=known), contact_id=contact.pk, now=now)
        answers.append(answer)
    return answers


def segment_explanation(segment: Segment) -> str:
    """The segment in words; empty when its stored tree cannot be read."""
    from segments.conditions.explain import explain
    from segments.conditions.schema import LENIENT, ConditionError, parse

    if segment.kind == Segment.Kind.STATIC:
        return "Contacts put on this list"
    try:
        return explain(parse(segment.conditions, LENIENT))
    except ConditionError:
        return ""


def contact_segment_names(contact) -> dict:
    """The segments the person is in, for their export."""
    from segments.models import Membership

    return {
        "segments": sorted(Membership.objects.filter(contact=contact).values_list("segment__name", flat=True))
    }
