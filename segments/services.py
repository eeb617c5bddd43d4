"""Writes to segments and their membership. One function per use case; each records its
action in the ledger with the actor from the context, except membership changes made by
the engine, which are the segment's own (algorithmic) work."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.text import slugify

from contacts.models import Contact, Touchpoint
from ledger.models import Category
from ledger.services import ActionEntry, action_record, action_record_many
from segments import dispatch
from segments.conditions.reads import reads_of
from segments.conditions.schema import ConditionError
from segments.evaluation import Known, parsed
from segments.membership import Diff, apply_diff
from segments.models import Membership, MembershipEvent, Segment
from segments.selectors import dependency_order, edges_load, segment_paths_to, segments_using

SEGMENT_FIELDS = ("name", "slug", "description", "kind", "conditions")
RESERVED_SLUGS = {"preview"}  # an address of the API under segments/


class SegmentError(ValueError):
    """What is wrong with a segment's definition, each problem with its path."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{path}: {message}" if path else message for path, message in errors))


def segment_check(segment: Segment) -> None:
    """Validate the definition (unsaved changes included) and note on it what its
    conditions read; raises SegmentError with every problem and its path."""
    errors: list[tuple[str, str]] = []
    if not segment.name.strip():
        errors.append(("name", "a segment needs a name"))
    if not segment.slug:
        segment.slug = slugify(segment.name)[:100]
    if segment.slug in RESERVED_SLUGS:
        errors.append(("slug", f"{segment.slug!r} is reserved; choose another slug"))
    elif segment.slug != slugify(segment.slug):
        errors.append(("slug", f"{segment.slug!r} is not a slug (letters, digits, hyphens)"))
    elif Segment.objects.filter(slug=segment.slug).exclude(pk=segment.pk).exists():
        errors.append(("slug", f"a segment with the slug {segment.slug!r} already exists"))
    if segment.kind not in Segment.Kind.values:
        errors.append(("kind", f"expected one of {', '.join(Segment.Kind.values)}"))
    if segment.kind == Segment.Kind.STATIC:
        segment.conditions = {}
        reads = reads_of(None)
        used: list[Segment] = []
    else:
        try:
            node = parsed(segment.conditions, exclude_slug=segment.slug if segment.pk is None else None)
        except ConditionError as error:
            errors.extend(
                (f"conditions.{path}" if path else "conditions", message) for path, message in error.errors
            )
            raise SegmentError(errors) from None
        reads = reads_of(node)
        used = list(Segment.objects.filter(slug__in=reads.segments))
        if segment.pk is not None:
            for other in used:
                cycle = segment_paths_to(start=other, target=segment)
                if cycle is not None:
                    names = " → ".join([segment.slug, *cycle])
                    errors.append(("conditions", f"segments cannot use each other in a circle: {names}"))
    if errors:
        raise SegmentError(errors)
    segment.reads_fields = sorted(reads.fields)
    segment.reads_kinds = sorted(reads.kinds)
    segment.reads_tags = sorted(reads.tags)
    segment.reads_intents = sorted(reads.intents)
    segment.reads_any_touchpoint = reads.any_touchpoint
    segment.reads_account_touchpoints = reads.account_touchpoints
    segment.uses_time = reads.uses_time
    segment._used = used


def _rebuild_after_commit(segment: Segment) -> None:

    transaction.on_commit(lambda: dispatch.segment_rebuild_soon(segment.pk))


@transaction.atomic
def segment_create(
    *, name: str, slug: str = "", description: str = "", kind: str = "dynamic", conditions: Any = None
) -> Segment:
    segment = Segment(
        name=name, slug=slug, description=description, kind=kind,
        conditions={"all": []} if conditions is None else conditions,
    )  # fmt: skip
    segment_check(segment)
    segment.save(force_insert=True)
    segment.uses.set(segment._used)
    action_record(
        category=Category.SEGMENTATION, verb="segment.created", obj=segment, details={"slug": segment.slug}
    )
    _rebuild_after_commit(segment)
    return segment


@transaction.atomic
def segment_update(*, segment: Segment, data: Mapping[str, Any]) -> Segment:
    unknown = set(data) - set(SEGMENT_FIELDS)
    if unknown:
        raise ValueError(f"unknown segment fields: {', '.join(sorted(unknown))}")
    before = {field: getattr(segment, field) for field in data}
    for field, value in data.items():
        setattr(segment, field, value)
    changed = {field: [before[field], data[field]] for field in data if before[field] != data[field]}
    if not changed:
        return segment
    if "slug" in changed and segment.used_by.exists():
        users = ", ".join(segment.used_by.values_list("slug", flat=True))
        raise SegmentError([("slug", f"segments {users} use this slug; change them first")])
    segment_check(segment)
    segment.updated_at = timezone.now()
    segment.save()
    segment.uses.set(segment._used)
    action_record(
        category=Category.SEGMENTATION, verb="segment.updated", obj=segment, details={"changes": changed}
    )
    if {"conditions", "kind"} & set(changed):
        _rebuild_after_commit(segment)
    return segment


@transaction.atomic
def segment_delete(*, segment: Segment) -> None:
    users = list(segment.used_by.values_list("slug", flat=True))
    if users:
        raise SegmentError([("", f"segments {', '.join(users)} use this segment; change them first")])
    segment_id, slug = segment.pk, segment.slug
    segment.delete()
    action_record(
        category=Category.SEGMENTATION,
        verb="segment.deleted",
        details={"segment_id": segment_id, "slug": slug},
    )


def _apply_in_order(
    segments: list[Segment], *, now: datetime, contact_ids: list[int] | None = None
) -> dict[str, Diff]:
    """The segments and every segment that uses them, each after those it uses. A whole
    rebuild commits segment by segment; a re-evaluation of a few contacts is one commit."""
    edges = edges_load()
    known = Known.load()
    order = dependency_order([*segments, *segments_using(*segments, edges=edges)], edges=edges)
    results = {}
    for each in order:
        with transaction.atomic():
            ids = contact_ids
            if ids is not None and each.reads_account_touchpoints:
                ids = _with_account_mates(ids)
            results[each.slug] = apply_diff(each, now=now, contact_ids=ids, known=known)
    return results


def segment_rebuild(*, segment: Segment, now: datetime | None = None) -> dict[str, Diff]:
    """Rebuild the segment from its conditions, then every segment that uses it, in
    dependency order. Returns the diff per slug."""
    return _apply_in_order([segment], now=now or timezone.now())


def segments_rebuild_timed(*, now: datetime | None = None) -> dict[str, Diff]:
    """The segments whose answer moves with the clock ("in the last 30 days"), and those
    that use them: the periodic rebuild."""
    timed = list(Segment.objects.filter(kind=Segment.Kind.DYNAMIC, uses_time=True))
    return _apply_in_order(timed, now=now or timezone.now()) if timed else {}


@transaction.atomic
def segments_reevaluate(
    *, contact_ids: Iterable[int], affected: Iterable[Segment], now: datetime | None = None
) -> dict[str, Diff]:
    """Re-evaluate these segments (and those that use them) for these contacts only;
    returns the diffs of the segments that changed."""
    ids = sorted(set(contact_ids))
    affected = list(affected)
    if not ids or not affected:
        return {}
    results = _apply_in_order(affected, now=now or timezone.now(), contact_ids=ids)
    return {slug: diff for slug, diff in results.items() if diff.entered or diff.exited}


def _with_account_mates(contact_ids: list[int]) -> list[int]:
    """Touchpoints of one contact count for every contact of its account."""
    accounts = Contact.objects.filter(pk__in=contact_ids, account__isnull=False).values("account_id")
    mates = Contact.objects.filter(account_id__in=accounts).values_list("pk", flat=True)
    return sorted({*contact_ids, *mates})


def segments_react_to_touchpoints(
    *, touchpoint_ids: list[int], now: datetime | None = None
) -> dict[str, Diff]:
    rows = list(Touchpoint.objects.filter(pk__in=touchpoint_ids).values_list("contact_id", "kind_id"))
    if not rows:
        return {}
    kinds = sorted({kind for _, kind in rows})
    affected = Segment.objects.filter(kind=Segment.Kind.DYNAMIC).filter(
        Q(reads_any_touchpoint=True) | Q(reads_kinds__overlap=kinds)
    )
    return segments_reevaluate(contact_ids=[contact for contact, _ in rows], affected=affected, now=now)


def segments_react_to_intents(*, detections: list[dict], now: datetime | None = None) -> dict[str, Diff]:
    """Intents recognised in touchpoints: the segments that read those intents re-form
    for those contacts."""
    keys = sorted({detection["intent"] for detection in detections})
    affected = Segment.objects.filter(kind=Segment.Kind.DYNAMIC, reads_intents__overlap=keys)
    contact_ids = [detection["contact_id"] for detection in detections]
    return segments_reevaluate(contact_ids=contact_ids, affected=affected, now=now)


def segments_react_to_contacts(
    *, contact_ids: list[int], fields: list[str], now: datetime | None = None
) -> dict[str, Diff]:
    dynamic = Segment.objects.filter(kind=Segment.Kind.DYNAMIC)
    if "*" in fields:
        affected = list(dynamic)
    else:
        affected = [segment for segment in dynamic if _reads_any(segment, fields)]
    return segments_reevaluate(contact_ids=contact_ids, affected=affected, now=now)


def _reads_any(segment: Segment, fields: list[str]) -> bool:
    """A change of "account" or "attributes" touches every path under it."""
    if "tags" in fields and segment.reads_tags:
        return True
    for read in segment.reads_fields:
        for field in fields:
            if read == field or read.startswith(field + "."):
                return True
    return "account" in fields and segment.reads_account_touchpoints


# --- static lists ---------------------------------------------------------------------


@transaction.atomic
def static_members_add(*, segment: Segment, contact_ids: Iterable[int]) -> int:
    """Put contacts on a static list (by hand, import or API); returns how many were new."""
    if segment.kind != Segment.Kind.STATIC:
        raise SegmentError([("", f"{segment.slug} is defined by conditions; only static lists take members")])
    ids = set(Contact.objects.filter(pk__in=set(contact_ids)).values_list("pk", flat=True))
    had = set(
        Membership.objects.filter(segment=segment, contact_id__in=ids).values_list("contact_id", flat=True)
    )
    new = sorted(ids - had)
    now = timezone.now()
    Membership.objects.bulk_create(
        [Membership(segment=segment, contact_id=pk, entered_at=now) for pk in new], ignore_conflicts=True
    )
    _record(segment, entered=new, exited=[], now=now)
    return len(new)


@transaction.atomic
def static_members_remove(*, segment: Segment, contact_ids: Iterable[int]) -> int:
    if segment.kind != Segment.Kind.STATIC:
        raise SegmentError([("", f"{segment.slug} is defined by conditions; only static lists take members")])
    gone = sorted(
        Membership.objects.filter(segment=segment, contact_id__in=set(contact_ids)).values_list(
            "contact_id", flat=True
        )
    )
    Membership.objects.filter(segment=segment, contact_id__in=gone).delete()
    _record(segment, entered=[], exited=gone, now=timezone.now())
    return len(gone)


def _record(segment: Segment, *, entered: list[int], exited: list[int], now: datetime) -> None:
    changes = [(pk, "entered") for pk in entered] + [(pk, "exited") for pk in exited]
    if not changes:
        return
    MembershipEvent.objects.bulk_create(
        [MembershipEvent(segment=segment, contact_id=pk, kind=kind, occurred_at=now) for pk, kind in changes]
    )
    Segment.objects.filter(pk=segment.pk).update(size=F("size") + len(entered) - len(exited))
    action_record_many(
        entries=[
            ActionEntry(
                category=Category.SEGMENTATION,
                verb=f"segment.{kind}",
                contact_id=pk,
                obj=segment,
                details={"segment": segment.slug},
            )
            for pk, kind in changes
        ]
    )


@dataclass(frozen=True)
class ListImport:
    added: int
    already: int
    unknown: list[str]  # addresses no contact has
    rejected: list[tuple[int, str]]  # (line, why)

    @property
    def summary(self) -> str:
        return (
            f"added {self.added}, already on the list {self.already}, "
            f"unknown {len(self.unknown)}, rejected {len(self.rejected)}"
        )


def static_members_import(*, segment: Segment, path: Path | str) -> ListImport:
    """Put the contacts named in a file (CSV with an `email` column, or JSON Lines) on a
    static list. Addresses nobody has are reported, not created: a list names people we know."""
    from contacts.imports import fields
    from contacts.imports.jobs import open_for_import

    if segment.kind != Segment.Kind.STATIC:
        raise SegmentError([("", f"{segment.slug} is defined by conditions; only static lists take members")])
    emails: dict[str, int] = {}
    rejected = []
    with open_for_import(path=path, required=("email",), mapping=None, on_bytes=None) as source:
        for record in source.records():
            if record.error:
                rejected.append((record.line, record.error))
                continue
            try:
                emails.setdefault(fields.email(record.values.get("email")), record.line)
            except fields.CellError as error:
                rejected.append((record.line, f"email: {error}"))
    found: dict[str, int] = {}
    addresses = sorted(emails)
    for start in range(0, len(addresses), 10_000):
        batch = addresses[start : start + 10_000]
        found.update(Contact.objects.filter(email__in=batch).values_list("email", "pk"))
    added = static_members_add(segment=segment, contact_ids=found.values())
    unknown = sorted(set(addresses) - set(found), key=emails.__getitem__)
    return ListImport(added=added, already=len(found) - added, unknown=unknown, rejected=rejected)


@transaction.atomic
def segment_from_topic_create(*, topic_id: int) -> Segment:
    """The contacts who wrote a discovered topic's texts (intents), as a new static list."""
    from django.utils.text import slugify

    from intents.models import DiscoveredTopic
    from intents.selectors import topic_contact_ids

    topic = DiscoveredTopic.objects.get(pk=topic_id)
    base = slugify(f"topic-{topic.pk}-{topic.title}")[:90].strip("-") or f"topic-{topic.pk}"
    slug, suffix = base, 1
    while Segment.objects.filter(slug=slug).exists():
        suffix += 1
        slug = f"{base}-{suffix}"
    segment = segment_create(
        name=f"Topic: {topic.title}"[:200],
        slug=slug,
        description=f"The contacts who wrote the {topic.size} texts of the discovered topic “{topic.title}”.",
        kind=Segment.Kind.STATIC,
    )
    static_members_add(segment=segment, contact_ids=topic_contact_ids(topic_id=topic.pk))
    return segment
