"""Writes to contacts, accounts, tags, consent and touchpoints.

Each function is one use case: it validates, writes in one transaction and records
its action in the ledger in that same transaction, with the actor from the context.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model, Q
from django.db.models.functions import Lower
from django.utils import timezone

from contacts import dispatch
from contacts.models import (
    Account,
    ConsentChange,
    ConsentStatus,
    Contact,
    ContactTag,
    PendingTouchpoint,
    Suppression,
    SuppressionReason,
    Tag,
    Touchpoint,
    TouchpointKind,
)
from contacts.normalize import normalize_email, normalize_tag_name
from contacts.personal_data import ERASED_DOMAIN, PERSONAL_FIELDS, iso
from ledger.context import current_actor
from ledger.models import Category
from ledger.services import ActionEntry, action_record, action_record_many

logger = logging.getLogger(__name__)

CONTACT_FIELDS = (
    "email", "first_name", "last_name", "phone", "job_title", "city", "country", "timezone",
    "lifecycle_stage", "source", "score", "owner", "account", "attributes",
)  # fmt: skip
ACCOUNT_FIELDS = ("name", "domain", "industry", "employees", "country", "attributes", "owner")

# Fields whose change is an effect of its own kind in the ledger, not a plain field update.
_CATEGORY_BY_FIELD = {"score": Category.SCORING, "owner": Category.ROUTING, "account": Category.ENRICHMENT}


# Model fields as the condition language names them (shared/spec/conditions.md).
_CONDITION_PATHS = {"consent_email": "consent.email", "consent_sms": "consent.sms"}


def _changed(*, contact_ids: Iterable[int], fields: Iterable[str]) -> None:
    """After commit, have a worker announce that these contacts changed."""
    ids = sorted(set(contact_ids))
    paths = sorted({_CONDITION_PATHS.get(field, field) for field in fields})
    if not ids or not paths:
        return

    transaction.on_commit(lambda: dispatch.contacts_changed_announce_soon(contact_ids=ids, fields=paths))


def contacts_changed_announce(*, contact_ids: list[int], fields: list[str]) -> int:
    from contacts.signals import contacts_changed

    existing = sorted(Contact.objects.filter(pk__in=contact_ids).values_list("pk", flat=True))
    if existing:
        contacts_changed.send(sender=Contact, contact_ids=existing, fields=fields)
    return len(existing)


def _plain(value: Any) -> Any:
    """A value as it is written in the ledger's JSON details."""
    if isinstance(value, Model):
        return value.pk
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, (bool, int, float, str, list, dict)):
        return value
    return str(value)


def _apply(instance: Model, data: Mapping[str, Any], allowed: Iterable[str]) -> dict[str, list]:
    """Set the given fields; return {field: [old, new]} for those that really changed."""
    allowed = set(allowed)
    unknown = set(data) - allowed
    if unknown:
        raise ValueError(f"unknown fields for {type(instance).__name__}: {', '.join(sorted(unknown))}")
    before = {field: _plain(getattr(instance, field)) for field in data}
    for field, value in data.items():
        setattr(instance, field, value)
    untouched = [f.name for f in instance._meta.fields if f.name not in data]
    instance.full_clean(exclude=untouched, validate_unique=False, validate_constraints=False)
    changes = {}
    for field, old in before.items():
        new = _plain(getattr(instance, field))
        if new != old:
            changes[field] = [old, new]
    return changes


@transaction.atomic
def contact_create(
    *, email: str, tags: Iterable[str] = (), with_touchpoint: bool = False, **fields: Any
) -> Contact:
    """A new contact. `with_touchpoint`: it is made by a touchpoint being captured, which is
    the unit of work the ledger counts (ledger.counting), so its creation is not counted again."""
    contact = Contact(email=email)
    for field, value in fields.items():
        if field not in CONTACT_FIELDS:
            raise ValueError(f"unknown contact field: {field}")
        setattr(contact, field, value)
    contact.full_clean()
    contact.save(force_insert=True)
    action_record(
        category=Category.DATA_CAPTURE,
        verb="contact.created_with_touchpoint" if with_touchpoint else "contact.created",
        contact_id=contact.pk,
        obj=contact,
        details={"email": contact.email},
    )
    if tags:
        contact_tags_add(contact=contact, names=tags)
    _changed(contact_ids=[contact.pk], fields=["*"])  # new: any segment may want it
    return contact


@transaction.atomic
def contact_update(
    *, contact: Contact, data: Mapping[str, Any], with_touchpoint: bool = False
) -> dict[str, list]:
    """Change the given fields. Returns what changed; nothing changed records nothing.
    `with_touchpoint`: the change comes with a touchpoint captured, the unit that counts."""
    changes = _apply(contact, data, CONTACT_FIELDS)
    if not changes:
        return changes
    if "email" in changes:
        contact.validate_unique()
    contact.updated_at = timezone.now()
    contact.save(update_fields=[*changes, "updated_at"])
    categories = {_CATEGORY_BY_FIELD.get(field, Category.FIELD_UPDATE) for field in changes}
    category = categories.pop() if len(categories) == 1 else Category.FIELD_UPDATE
    action_record(
        category=category,
        verb="contact.updated_with_touchpoint" if with_touchpoint else "contact.updated",
        contact_id=contact.pk,
        obj=contact,
        details={"changes": changes},
    )
    _changed(contact_ids=[contact.pk], fields=changes)
    return changes


@transaction.atomic
def contact_upsert(
    *,
    email: str,
    data: Mapping[str, Any] | None = None,
    tags: Iterable[str] | None = None,
    consent: Mapping[str, str] | None = None,
    consent_source: str = "",
    with_touchpoint: bool = False,
) -> tuple[Contact, bool]:
    """Find the contact by normalised e-mail and update it, or create it. Empty values
    leave what is known unchanged: a form that does not ask for the city must not erase it."""
    data = {field: value for field, value in (data or {}).items() if value not in (None, "")}
    normalized = normalize_email(email)
    contact = Contact.objects.select_for_update().filter(email=normalized).first()
    saved = contact_save(
        contact=contact,
        data=data if contact else {"email": normalized, **data},
        tags=tags,
        consent=consent,
        consent_source=consent_source,
        with_touchpoint=with_touchpoint,
    )
    return saved, contact is None


@transaction.atomic
def contact_capture(
    *,
    email: str,
    data: Mapping[str, Any] | None = None,
    kind: str = "form_submit",
    properties: Mapping[str, Any] | None = None,
    source: str = "",
    occurred_at: datetime | None = None,
    external_id: str | None = None,
) -> Touchpoint:
    """A person told us who they are (a form, a registration): upsert the contact and
    record the touchpoint that says so."""
    contact, _ = contact_upsert(email=email, data=data, with_touchpoint=True)
    return touchpoint_create(
        contact=contact,
        kind=kind,
        properties=properties,
        source=source,
        occurred_at=occurred_at,
        external_id=external_id,
    )


@transaction.atomic
def contact_save(
    *,
    contact: Contact | None,
    data: Mapping[str, Any],
    tags: Iterable[str] | None = None,
    consent: Mapping[str, str] | None = None,
    consent_source: str = "",
    with_touchpoint: bool = False,
) -> Contact:
    """Create (contact=None) or change a contact with its tags and consent, as one change:
    what the API and the back-office forms submit."""
    if contact is None:
        contact = contact_create(**data, with_touchpoint=with_touchpoint)
    else:
        contact_update(contact=contact, data=data, with_touchpoint=with_touchpoint)
    if tags is not None:
        contact_tags_set(contact=contact, names=tags)
    for channel, status in (consent or {}).items():
        contact_consent_set(contact=contact, channel=channel, status=status, source=consent_source)
    return contact


def contact_delete(*, contact: Contact) -> None:
    contact_delete_many(contacts=[contact])


def tag_get_or_create_many(*, names: Iterable[str]) -> list[Tag]:
    """Tags by name, compared case-insensitively; the first spelling seen is kept."""
    wanted = {}
    for name in names:
        clean = normalize_tag_name(name)
        wanted.setdefault(clean.lower(), clean)
    if not wanted:
        return []
    Tag.objects.bulk_create([Tag(name=name) for name in wanted.values()], ignore_conflicts=True)
    return list(Tag.objects.annotate(key=Lower("name")).filter(key__in=list(wanted)))


@transaction.atomic
def tag_rename(*, tag: Tag, name: str) -> Tag:
    """Rename a tag everywhere it is used; one action, since one decision was made."""
    new_name = normalize_tag_name(name)
    old_name = tag.name
    if new_name == old_name:
        return tag
    tag.name = new_name
    tag.validate_constraints()
    tag.save(update_fields=["name"])
    action_record(
        category=Category.TAGGING, verb="tag.renamed", obj=tag, details={"from": old_name, "to": new_name}
    )
    return tag


@transaction.atomic
def tag_delete(*, tag: Tag) -> None:
    """Delete a tag: it is taken off every contact that had it, and each removal is recorded."""
    contact_ids = list(ContactTag.objects.filter(tag=tag).values_list("contact_id", flat=True))
    name = tag.name
    tag.delete()
    action_record_many(
        entries=[
            ActionEntry(
                category=Category.TAGGING, verb="tag.removed", contact_id=contact_id, details={"tag": name}
            )
            for contact_id in contact_ids
        ]
    )


@transaction.atomic
def contact_tags_add(*, contact: Contact, names: Iterable[str]) -> list[Tag]:
    """Add tags; returns the ones the contact did not have before."""
    tags = tag_get_or_create_many(names=names)
    had = set(ContactTag.objects.filter(contact=contact, tag__in=tags).values_list("tag_id", flat=True))
    added = [tag for tag in tags if tag.pk not in had]
    ContactTag.objects.bulk_create(
        [ContactTag(contact=contact, tag=tag) for tag in added], ignore_conflicts=True
    )
    action_record_many(
        entries=[
            ActionEntry(
                category=Category.TAGGING,
                verb="tag.added",
                contact_id=contact.pk,
                obj=tag,
                details={"tag": tag.name},
            )
            for tag in added
        ]
    )
    if added:
        _changed(contact_ids=[contact.pk], fields=["tags"])
    return added


@transaction.atomic
def contact_tags_remove(*, contact: Contact, names: Iterable[str]) -> list[Tag]:
    keys = [normalize_tag_name(name).lower() for name in names]
    tags = list(Tag.objects.annotate(key=Lower("name")).filter(key__in=keys, contacts=contact))
    ContactTag.objects.filter(contact=contact, tag__in=tags).delete()
    action_record_many(
        entries=[
            ActionEntry(
                category=Category.TAGGING,
                verb="tag.removed",
                contact_id=contact.pk,
                obj=tag,
                details={"tag": tag.name},
            )
            for tag in tags
        ]
    )
    if tags:
        _changed(contact_ids=[contact.pk], fields=["tags"])
    return tags


@transaction.atomic
def contact_tags_set(*, contact: Contact, names: Iterable[str]) -> None:
    names = list(names)
    wanted = {normalize_tag_name(name).lower() for name in names}
    current = {tag.name.lower(): tag.name for tag in contact.tags.all()}
    contact_tags_remove(contact=contact, names=[name for key, name in current.items() if key not in wanted])
    contact_tags_add(
        contact=contact, names=[name for name in names if normalize_tag_name(name).lower() not in current]
    )


@transaction.atomic
def contact_consent_set(
    *,
    contact: Contact,
    channel: str,
    status: str,
    source: str = "",
    evidence: Mapping[str, Any] | None = None,
) -> ConsentChange | None:
    """Give or withdraw consent on one channel, keeping the evidence. No change, no record."""
    if channel not in ("email", "sms"):
        raise ValueError(f"consent channel must be 'email' or 'sms', not {channel!r}")
    if status not in (*ConsentStatus.values, ""):
        raise ValueError(f"consent status must be 'subscribed', 'unsubscribed' or empty, not {status!r}")
    field = f"consent_{channel}"
    previous = getattr(contact, field)
    if previous == status:
        return None
    setattr(contact, field, status)
    contact.updated_at = timezone.now()
    contact.save(update_fields=[field, "updated_at"])
    actor = current_actor()
    change = ConsentChange.objects.create(
        contact=contact,
        channel=channel,
        status=status,
        previous_status=previous,
        actor_kind=actor.kind,
        actor_name=actor.name,
        source=source,
        evidence=dict(evidence or {}),
    )
    action_record(
        category=Category.CONSENT,
        verb=f"consent.{status or 'cleared'}",
        contact_id=contact.pk,
        obj=change,
        channel=channel,
        details={"from": previous, "to": status, "source": source},
    )
    _changed(contact_ids=[contact.pk], fields=[field])
    return change


@transaction.atomic
def account_create(*, name: str, **fields: Any) -> Account:
    account = Account(name=name)
    for field, value in fields.items():
        if field not in ACCOUNT_FIELDS:
            raise ValueError(f"unknown account field: {field}")
        setattr(account, field, value)
    account.full_clean()
    account.save(force_insert=True)
    action_record(category=Category.DATA_CAPTURE, verb="account.created", obj=account, details={"name": name})
    return account


@transaction.atomic
def account_update(*, account: Account, data: Mapping[str, Any]) -> dict[str, list]:
    changes = _apply(account, data, ACCOUNT_FIELDS)
    if not changes:
        return changes
    if "domain" in changes:
        account.validate_constraints()
    account.updated_at = timezone.now()
    account.save(update_fields=[*changes, "updated_at"])
    action_record(
        category=Category.FIELD_UPDATE, verb="account.updated", obj=account, details={"changes": changes}
    )
    _changed(
        contact_ids=account.contacts.values_list("pk", flat=True),
        fields=[f"account.{field}" for field in changes],
    )
    return changes


@transaction.atomic
def account_delete(*, account: Account) -> None:
    account_id, name = account.pk, account.name
    account.delete()
    action_record(
        category=Category.DATA_HYGIENE,
        verb="account.deleted",
        details={"account_id": account_id, "name": name},
    )


@transaction.atomic
def touchpoint_create(
    *,
    contact: Contact,
    kind: str,
    occurred_at: datetime | None = None,
    channel: str = "",
    source: str = "",
    text: str = "",
    properties: Mapping[str, Any] | None = None,
    external_id: str | None = None,
) -> Touchpoint:
    kind_obj = TouchpointKind.objects.get(pk=kind)
    touchpoint = Touchpoint(
        contact=contact,
        kind=kind_obj,
        channel=channel or kind_obj.default_channel,
        occurred_at=occurred_at or timezone.now(),
        source=source,
        text=text,
        properties=dict(properties or {}),
        external_id=external_id or None,
    )
    touchpoint.full_clean(exclude=["contact", "kind"])
    touchpoint.save(force_insert=True)
    action_record(
        category=Category.DATA_CAPTURE,
        verb="touchpoint.captured",
        contact_id=contact.pk,
        obj=touchpoint,
        channel=touchpoint.channel,
        details={"kind": kind},
    )
    touchpoints_queue(touchpoint_ids=[touchpoint.pk])
    return touchpoint


@transaction.atomic
def contact_delete_many(*, contacts: Iterable[Contact]) -> int:
    """Delete contacts; one ledger INSERT for all of them."""
    gone = [(contact.pk, contact.email) for contact in contacts]
    Contact.objects.filter(pk__in=[pk for pk, _ in gone]).delete()
    action_record_many(
        entries=[
            ActionEntry(
                category=Category.DATA_HYGIENE,
                verb="contact.deleted",
                contact_id=pk,
                details={"email": email},
            )
            for pk, email in gone
        ]
    )
    return len(gone)


@transaction.atomic
def touchpoint_delete_many(*, touchpoints: Iterable[Touchpoint]) -> int:
    gone = [(tp.pk, tp.contact_id, tp.kind_id) for tp in touchpoints]
    Touchpoint.objects.filter(pk__in=[pk for pk, _, _ in gone]).delete()
    action_record_many(
        entries=[
            ActionEntry(
                category=Category.DATA_HYGIENE,
                verb="touchpoint.deleted",
                contact_id=contact_id,
                details={"touchpoint_id": pk, "kind": kind},
            )
            for pk, contact_id, kind in gone
        ]
    )
    return len(gone)


def touchpoints_announce(*, touchpoint_ids: list[int]) -> int:
    """Tell the apps that react to touchpoints which ones are new. Ids of touchpoints
    deleted in the meantime are dropped; returns how many were announced."""
    from contacts.signals import touchpoints_captured

    existing = sorted(Touchpoint.objects.filter(pk__in=touchpoint_ids).values_list("pk", flat=True))
    if existing:
        touchpoints_captured.send(sender=Touchpoint, touchpoint_ids=existing)
    return len(existing)


REACT_BATCH = 500  # touchpoints a worker takes from the pending queue at a time
REACT_SECONDS = 60.0  # one task's share of a long queue
REACT_ATTEMPTS = 5  # after that many failures a pending touchpoint stays, with its error, for a person


def touchpoints_queue(*, touchpoint_ids: Iterable[int]) -> None:
    """Queue new touchpoints for the apps that react to them, in the caller's transaction,
    and wake a worker once it commits."""
    ids = sorted(set(touchpoint_ids))
    if not ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO contacts_pendingtouchpoint (touchpoint_id, queued_at, attempts, error)"
            " SELECT unnest(%s::bigint[]), %s, 0, '' ON CONFLICT DO NOTHING",
            [ids, timezone.now()],
        )
    transaction.on_commit(dispatch.touchpoints_react_soon)


def touchpoints_react(*, batch: int = REACT_BATCH, seconds: float = REACT_SECONDS) -> int:
    """Announce the pending touchpoints, a leased batch at a time, until none is due; returns
    how many were announced.

    At most TOUCHPOINTS_REACTORS workers react at once (1 by default); a woken task that
    finds them all busy leaves at once, since they take what it was woken for in their next
    batch. So whatever arrives while a batch is handled goes in the next one: a busy minute
    costs a few large batches, not one task per request competing with the others. A batch
    that fails waits (longer after each failure) and is then retried one touchpoint at a
    time, so one bad touchpoint never holds up the others. Under endless load the task hands
    over to a fresh one after `seconds`, well inside Celery's time limit."""
    announced = 0
    deadline = time.monotonic() + seconds
    while True:
        slot = _reactor_slot()
        if slot is None:
            return announced
        try:
            claimed, done, finished = _react_until_empty(batch=batch, deadline=deadline)
            announced += done
        finally:
            _reactor_release(slot)
        if not finished:
            dispatch.touchpoints_react_soon()
            return announced
        # A touchpoint queued just before the slot was freed had its task turned away; one
        # that this round could not claim is in another worker's hands.
        if not claimed or not _pending_claimable():
            return announced


def _react_until_empty(*, batch: int, deadline: float) -> tuple[int, int, bool]:
    """(touchpoints claimed, announced, whether the queue ran dry before the deadline)."""
    claimed = announced = 0
    while time.monotonic() <= deadline:
        ids = _pending_claim(fresh=True, limit=batch) or _pending_claim(fresh=False, limit=1)
        if not ids:
            return claimed, announced, True
        claimed += len(ids)
        try:
            announced += touchpoints_announce(touchpoint_ids=ids)
        except Exception as error:
            logger.exception("reacting to touchpoints %s failed", ids[:20])
            _pending_failed(ids, error)
        else:
            PendingTouchpoint.objects.filter(touchpoint_id__in=ids).delete()
    return claimed, announced, False


# The class of PostgreSQL advisory locks that count the workers reacting to touchpoints.
_REACTOR_LOCK = 0x746F7563


def _reactor_slot() -> int | None:
    with connection.cursor() as cursor:
        for slot in range(max(settings.TOUCHPOINTS_REACTORS, 1)):
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_REACTOR_LOCK, slot])
            if cursor.fetchone()[0]:
                return slot
    return None


def _reactor_release(slot: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_REACTOR_LOCK, slot])


def _pending_claimable() -> bool:
    now = timezone.now()
    return (
        PendingTouchpoint.objects.filter(attempts__lt=REACT_ATTEMPTS)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .exists()
    )


def touchpoints_retry(*, touchpoint_ids: Iterable[int]) -> int:
    """A person asks for failed touchpoints to be tried again now, from the start."""
    with transaction.atomic():
        count = PendingTouchpoint.objects.filter(touchpoint_id__in=list(touchpoint_ids)).update(
            attempts=0, error="", claimed_until=None
        )
        transaction.on_commit(dispatch.touchpoints_react_soon)
    return count


def _pending_claim(*, fresh: bool, limit: int) -> list[int]:
    """Lease due pending touchpoints: never tried ones, or failed ones whose wait is over."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE contacts_pendingtouchpoint p
               SET claimed_until = %s
             WHERE p.touchpoint_id IN (
                   SELECT touchpoint_id FROM contacts_pendingtouchpoint
                    WHERE (claimed_until IS NULL OR claimed_until < %s)
                      AND (attempts = 0) = %s AND attempts < %s
                    ORDER BY touchpoint_id
                    LIMIT %s
                      FOR UPDATE SKIP LOCKED)
            RETURNING p.touchpoint_id
            """,
            [now + timedelta(seconds=settings.TOUCHPOINTS_LEASE_SECONDS), now, fresh, REACT_ATTEMPTS, limit],
        )
        return sorted(row[0] for row in cursor.fetchall())


def _pending_failed(ids: list[int], error: Exception) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE contacts_pendingtouchpoint
               SET attempts = attempts + 1, error = %s,
                   claimed_until = %s + make_interval(secs => 30 * power(2, attempts))
             WHERE touchpoint_id = ANY(%s)
            """,
            [f"{type(error).__name__}: {error}"[:2000], timezone.now(), ids],
        )


ANNOUNCE_BATCH = 5000


def touchpoints_import_announce(*, job_id: int) -> int:
    """Announce the touchpoints an import job created, in batches; the ledger knows which."""
    from ledger.models import Action

    ids = (
        Action.objects.filter(
            verb="touchpoint.imported", object_type="contacts.touchpoint", details__import_job=job_id
        )
        .values_list("object_id", flat=True)
        .iterator(chunk_size=ANNOUNCE_BATCH)
    )
    announced, batch = 0, []
    for object_id in ids:
        batch.append(int(object_id))
        if len(batch) == ANNOUNCE_BATCH:
            announced += touchpoints_announce(touchpoint_ids=batch)
            batch = []
    if batch:
        announced += touchpoints_announce(touchpoint_ids=batch)
    return announced


@transaction.atomic
def suppression_add(
    *,
    channel: str,
    address: str = "",
    hashed: str = "",
    reason: str,
    detail: str = "",
    contact_id: int | None = None,
) -> tuple[Suppression, bool]:
    """Put an address on the suppression list (given plain, or already hashed); an address
    already there keeps its first entry. Returns the entry and whether it is new. The
    ledger's row names the channel and the reason, never the address."""
    from contacts.selectors import address_hash

    if reason not in SuppressionReason.values:
        raise ValueError(
            f"suppression reason must be one of {', '.join(SuppressionReason.values)}, not {reason!r}"
        )
    hashed = hashed or address_hash(channel=channel, address=address)
    suppression, created = Suppression.objects.get_or_create(
        channel=channel, address_hash=hashed, defaults={"reason": reason, "detail": detail[:500]}
    )
    if created:
        action_record(
            category=Category.DATA_HYGIENE,
            verb="suppression.added",
            contact_id=contact_id,
            obj=suppression,
            channel=channel,
            details={"reason": reason},
        )
    return suppression, created


@transaction.atomic
def suppression_remove(*, suppression: Suppression) -> None:
    """Take an entry off the list (a person decides this, e.g. a bounce that was a mistake)."""
    suppression_id, channel, reason = suppression.pk, suppression.channel, suppression.reason
    suppression.delete()
    action_record(
        category=Category.DATA_HYGIENE,
        verb="suppression.removed",
        channel=channel,
        details={"suppression": suppression_id, "reason": reason},
    )


# Many contacts at once: what journeys do to a whole batch of enrollments in one statement,
# with the same actions in the ledger as the one-contact functions above.


@transaction.atomic
def contacts_tags_add(*, contact_ids: Iterable[int], names: Iterable[str]) -> dict[int, list[Tag]]:
    """Add the tags to every contact; returns, per contact, the tags it did not have before."""
    ids = sorted(set(contact_ids))
    tags = {tag.pk: tag for tag in tag_get_or_create_many(names=names)}
    if not ids or not tags:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO contacts_contacttag (contact_id, tag_id, added_at)
            SELECT c.id, t.id, %s
              FROM contacts_contact c CROSS JOIN unnest(%s::bigint[]) AS t (id)
             WHERE c.id = ANY(%s)
             ORDER BY c.id, t.id
            ON CONFLICT DO NOTHING
            RETURNING contact_id, tag_id
            """,
            [timezone.now(), list(tags), ids],
        )
        rows = sorted(cursor.fetchall())
    return _tags_moved(rows, tags, verb="tag.added")


@transaction.atomic
def contacts_tags_remove(*, contact_ids: Iterable[int], names: Iterable[str]) -> dict[int, list[Tag]]:
    """Take the tags off every contact; returns, per contact, the tags it really lost."""
    ids = sorted(set(contact_ids))
    keys = [normalize_tag_name(name).lower() for name in names]
    tags = {tag.pk: tag for tag in Tag.objects.annotate(key=Lower("name")).filter(key__in=keys)}
    if not ids or not tags:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM contacts_contacttag WHERE contact_id = ANY(%s) AND tag_id = ANY(%s)"
            " RETURNING contact_id, tag_id",
            [ids, list(tags)],
        )
        rows = sorted(cursor.fetchall())
    return _tags_moved(rows, tags, verb="tag.removed")


def _tags_moved(rows: list[tuple[int, int]], tags: dict[int, Tag], *, verb: str) -> dict[int, list[Tag]]:
    """(contact, tag) pairs really added or removed: per contact its tags, one ledger action
    each, and the change announced once."""
    moved: dict[int, list[Tag]] = {}
    for contact_id, tag_id in rows:
        moved.setdefault(contact_id, []).append(tags[tag_id])
    action_record_many(
        entries=[
            ActionEntry(
                category=Category.TAGGING,
                verb=verb,
                contact_id=contact_id,
                obj=tags[tag_id],
                details={"tag": tags[tag_id].name},
            )
            for contact_id, tag_id in rows
        ]
    )
    _changed(contact_ids=moved, fields=["tags"])
    return moved


@transaction.atomic
def contacts_score_adjust(*, contact_ids: Iterable[int], by: int) -> dict[int, dict[str, list]]:
    """Add `by` to the score of every contact (rows locked in id order, so two batches
    never deadlock); returns each contact's changes as contact_update does."""
    ids = sorted(set(contact_ids))
    if not ids or not by:
        return {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM contacts_contact WHERE id = ANY(%s) ORDER BY id FOR UPDATE", [ids])
        cursor.execute(
            "UPDATE contacts_contact SET score = score + %s, updated_at = %s WHERE id = ANY(%s)"
            " RETURNING id, score - %s, score",
            [by, timezone.now(), ids, by],
        )
        changes = {row[0]: {"score": [row[1], row[2]]} for row in sorted(cursor.fetchall())}
    action_record_many(
        entries=[
            ActionEntry(
                category=_CATEGORY_BY_FIELD["score"],
                verb="contact.updated",
                contact_id=contact_id,
                obj=Contact(pk=contact_id),
                details={"changes": change},
            )
            for contact_id, change in changes.items()
        ]
    )
    _changed(contact_ids=changes, fields=["score"])
    return changes


# --- a person's own data, for export and erasure (contacts.personal_data) ---------------------


def contact_personal_data(contact: Contact) -> dict:
    """The person, their consent and its history, and their touchpoints."""
    touchpoints = [
        {
            "kind": row["kind_id"],
            "channel": row["channel"],
            "occurred_at": iso(row["occurred_at"]),
            "source": row["source"],
            "text": row["text"],
            "properties": row["properties"],
            "external_id": row["external_id"],
            "intent": row["intent"],
        }
        for row in Touchpoint.objects.filter(contact=contact)
        .order_by("occurred_at", "pk")
        .values("kind_id", "channel", "occurred_at", "source", "text", "properties", "external_id", "intent")
        .iterator(chunk_size=2000)
    ]
    return {
        "contact": {
            "id": contact.pk,
            **{field: getattr(contact, field) for field in PERSONAL_FIELDS},
            "country": str(contact.country or ""),
            "timezone": contact.timezone,
            "lifecycle_stage": contact.lifecycle_stage,
            "source": contact.source,
            "score": contact.score,
            "account": contact.account.name if contact.account_id else None,
            "tags": sorted(contact.tags.values_list("name", flat=True)),
            "attributes": contact.attributes,
            "created_at": iso(contact.created_at),
            "updated_at": iso(contact.updated_at),
        },
        "consent": {"email": contact.consent_email, "sms": contact.consent_sms},
        "consent_history": [
            {
                "channel": change.channel,
                "status": change.status,
                "previous_status": change.previous_status,
                "changed_at": iso(change.changed_at),
                "by": change.actor_name,
                "source": change.source,
                "evidence": change.evidence,
            }
            for change in ConsentChange.objects.filter(contact=contact).order_by("changed_at", "pk")
        ],
        "touchpoints": touchpoints,
    }


def contact_personal_data_erase(contact: Contact) -> dict[str, int]:
    """The person's addresses kept only as hashes on the suppression list (never sent to
    again, even if imported anew); their fields, touchpoint texts and properties and consent
    evidence wiped. The rows stay, so that counts do."""
    suppression_add(
        channel="email", address=contact.email, reason=SuppressionReason.ERASED, contact_id=contact.pk
    )
    if contact.phone:
        suppression_add(
            channel="sms", address=contact.phone, reason=SuppressionReason.ERASED, contact_id=contact.pk
        )
    touchpoints = Touchpoint.objects.filter(contact=contact).update(text="", properties={}, external_id=None)
    ConsentChange.objects.filter(contact=contact).update(evidence={}, source="")
    Contact.objects.filter(pk=contact.pk).update(
        email=f"erased-{contact.pk}@{ERASED_DOMAIN}",
        first_name="", last_name="", phone="", job_title="", city="",
        attributes={}, updated_at=timezone.now(),
    )  # fmt: skip
    _changed(contact_ids=[contact.pk], fields=[*PERSONAL_FIELDS, "attributes"])
    return {"touchpoints": touchpoints}


# --- fields other apps compute, written here (bulk, one statement each) -----------------------


def contacts_scores_set(*, scores: Mapping[int, int], at: datetime) -> None:
    """Lead scores computed by the scoring rules, in one UPDATE ... FROM unnest() (Django's
    bulk_update builds a CASE per row); announced after commit, so that segments and
    triggers on the score follow."""
    if not scores:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Contact._meta.db_table} AS c SET score = v.score, updated_at = %s "  # noqa: S608
            "FROM unnest(%s::bigint[], %s::int[]) AS v (id, score) WHERE c.id = v.id",
            [at, list(scores), list(scores.values())],
        )
    _changed(contact_ids=scores, fields=["score"])


def touchpoints_intents_set(*, intents: Sequence[tuple[int, str, float | None]]) -> None:
    """What was recognised in touchpoints, (touchpoint, intent key or "", confidence), in
    one UPDATE ... FROM unnest()."""
    if not intents:
        return
    ids, keys, confidences = (list(column) for column in zip(*intents, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Touchpoint._meta.db_table} AS t"  # noqa: S608 - the model's table, values bound
            " SET intent = v.intent, intent_confidence = v.confidence"
            " FROM unnest(%s::bigint[], %s::text[], %s::float8[]) AS v (id, intent, confidence)"
            " WHERE t.id = v.id",
            [ids, keys, confidences],
        )
