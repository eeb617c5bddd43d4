"""Segments synced to audiences outside: ad platforms (a CSV of SHA-256 hashes of the
normalised e-mails, the form Google Customer Match and Meta Custom Audiences take), mailing
houses (a CSV of postal addresses) or any endpoint (signed JSON posts of the hashes).

The members are the segment's materialised membership less everyone who may not be
targeted: e-mail on the suppression list (bounces, complaints, erasure, by hand), e-mail
consent withdrawn, erased contacts. The CSVs are written by PostgreSQL (COPY ... TO STDOUT)
straight into a file; the webhook reads the hashes through a server-side cursor in chunks:
memory stays flat whatever the segment's size. Every sync is an action in the ledger.
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta

from django.core.files import File
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from psycopg import sql

from contacts.models import ConsentStatus, Contact, Suppression
from contacts.personal_data import ERASED_DOMAIN
from contacts.selectors import Sha256Hex, suppressed_exists
from ledger.context import current_actor
from ledger.models import Category
from ledger.services import action_record
from messaging import dispatch
from messaging.channels.webhook import webhook_post
from messaging.models import Audience, AudienceSync
from segments.models import Membership

WEBHOOK_CHUNK = 5000


class AudienceError(Exception):
    pass


def audience_contacts(*, audience: Audience):
    """The contacts that go out: in the segment, and neither suppressed nor unsubscribed."""
    members = Membership.objects.filter(segment_id=audience.segment_id).values("contact_id")
    contacts = (
        Contact.objects.filter(pk__in=members)
        .exclude(consent_email=ConsentStatus.UNSUBSCRIBED)
        .exclude(email__endswith=f"@{ERASED_DOMAIN}")
        .exclude(suppressed_exists(channel="email"))
    )
    if audience.kind == Audience.Kind.POSTAL_CSV:
        # a letter needs somewhere to go
        contacts = contacts.exclude(Q(attributes__address__isnull=True) | Q(attributes__address=""))
    return contacts.order_by("pk")


_ADS_SQL = """
COPY (
  WITH members AS MATERIALIZED (  -- each address hashed once, then anti-joined on the hash
    SELECT c.id, encode(sha256(convert_to(c.email, 'UTF8')), 'hex') AS email_sha256
    FROM {contact} c
    WHERE c.id IN (SELECT contact_id FROM {membership} WHERE segment_id = {segment})
      AND c.consent_email IS DISTINCT FROM 'unsubscribed'
      AND c.email NOT LIKE {erased}
  )
  SELECT m.email_sha256 FROM members m
  WHERE NOT EXISTS (
    SELECT 1 FROM {suppression} s WHERE s.channel = 'email' AND s.address_hash = m.email_sha256)
  ORDER BY m.id
) TO STDOUT WITH (FORMAT csv, HEADER)
"""

_POSTAL_SQL = """
COPY (
  WITH members AS MATERIALIZED (
    SELECT c.id, c.first_name, c.last_name, c.account_id, c.attributes, c.city, c.country,
           encode(sha256(convert_to(c.email, 'UTF8')), 'hex') AS email_sha256
    FROM {contact} c
    WHERE c.id IN (SELECT contact_id FROM {membership} WHERE segment_id = {segment})
      AND c.consent_email IS DISTINCT FROM 'unsubscribed'
      AND c.email NOT LIKE {erased}
      AND COALESCE(c.attributes->>'address', '') <> ''
  )
  SELECT m.first_name, m.last_name, COALESCE(a.name, '') AS company,
         m.attributes->>'address' AS address, COALESCE(m.attributes->>'postal_code', '') AS postal_code,
         m.city, m.country
  FROM members m LEFT JOIN {account} a ON a.id = m.account_id
  WHERE NOT EXISTS (
    SELECT 1 FROM {suppression} s WHERE s.channel = 'email' AND s.address_hash = m.email_sha256)
  ORDER BY m.id
) TO STDOUT WITH (FORMAT csv, HEADER)
"""


def _copy_to_file(statement: str, *, audience: Audience, file) -> int:
    """Run a COPY ... TO STDOUT into the file; returns the rows written (the header aside)."""
    query = sql.SQL(statement).format(
        contact=sql.Identifier(Contact._meta.db_table),
        account=sql.Identifier("contacts_account"),
        membership=sql.Identifier(Membership._meta.db_table),
        suppression=sql.Identifier(Suppression._meta.db_table),
        segment=sql.Literal(audience.segment_id),
        erased=sql.Literal(f"%@{ERASED_DOMAIN}"),
    )
    lines = 0
    with connection.cursor() as cursor, cursor.copy(query) as copy:
        for chunk in copy:
            data = bytes(chunk)
            lines += data.count(b"\n")
            file.write(data)
    return max(lines - 1, 0)


def _post_hashes(*, audience: Audience, sync: AudienceSync) -> int:
    hashes = (
        audience_contacts(audience=audience)
        .annotate(email_sha256=Sha256Hex("email"))
        .values_list("email_sha256", flat=True)
    )
    sent, chunk, part = 0, [], 0

    def post(final: bool) -> None:
        nonlocal part
        part += 1
        body = {"audience": audience.name, "sync": sync.pk, "part": part, "final": final, "members": chunk}
        attempt = webhook_post(
            url=audience.url, body=body, key=f"audience-{sync.pk}-{part}", secret=audience.secret or None
        )
        if not attempt.ok:
            raise AudienceError(f"{audience.url} refused part {part}: {attempt.error}")

    # .iterator() reads through a server-side cursor, chunk by chunk.
    for value in hashes.iterator(chunk_size=WEBHOOK_CHUNK):
        chunk.append(value)
        if len(chunk) == WEBHOOK_CHUNK:
            post(final=False)
            sent += len(chunk)
            chunk = []
    post(final=True)
    return sent + len(chunk)


def audience_sync(*, audience: Audience) -> AudienceSync:
    """Send the audience's current members where it goes; records the sync and an action."""
    actor = current_actor()
    sync = AudienceSync.objects.create(audience=audience, actor_name=actor.name[:200])
    in_segment = Membership.objects.filter(segment_id=audience.segment_id).count()
    try:
        with transaction.atomic():  # one snapshot: the file and its counts agree
            if audience.kind == Audience.Kind.WEBHOOK:
                members = _post_hashes(audience=audience, sync=sync)
            else:
                statement = _ADS_SQL if audience.kind == Audience.Kind.ADS_CSV else _POSTAL_SQL
                with tempfile.TemporaryFile() as file:
                    members = _copy_to_file(statement, audience=audience, file=file)
                    file.seek(0)
                    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
                    sync.file.save(f"{audience.kind}-{audience.pk}-{stamp}.csv", File(file), save=False)
    except Exception as error:
        AudienceSync.objects.filter(pk=sync.pk).update(
            status=AudienceSync.Status.FAILED, error=str(error)[:2000], finished_at=timezone.now()
        )
        raise
    now = timezone.now()
    with transaction.atomic():
        sync.status, sync.members, sync.finished_at = AudienceSync.Status.DONE, members, now
        sync.excluded = max(in_segment - members, 0)
        sync.save(update_fields=["status", "members", "excluded", "finished_at", "file"])
        Audience.objects.filter(pk=audience.pk).update(last_synced_at=now)
        direct_mail = audience.kind == Audience.Kind.POSTAL_CSV
        action_record(
            category=Category.DIRECT_MAIL if direct_mail else Category.ADS,
            verb="audience.synced",
            obj=audience,
            channel="direct_mail" if direct_mail else "ads",
            details={
                "audience": audience.name, "kind": audience.kind, "segment": audience.segment_id,
                "members": members, "excluded": sync.excluded, "sync": sync.pk,
            },
        )  # fmt: skip
    audience.last_synced_at = now
    return sync


def audiences_due_claim(*, now: datetime) -> list[int]:
    """The scheduled audiences whose time has come; each one's next time is set at once, so a
    second tick does not take it again."""
    due = []
    with transaction.atomic():
        audiences = (
            Audience.objects.select_for_update(skip_locked=True)
            .filter(every_hours__isnull=False)
            .filter(Q(next_sync_at__isnull=True) | Q(next_sync_at__lte=now))
            .order_by("pk")
        )
        for audience in audiences:
            Audience.objects.filter(pk=audience.pk).update(
                next_sync_at=now + timedelta(hours=audience.every_hours)
            )
            due.append(audience.pk)
    return due


def audiences_sync_due(*, now: datetime) -> int:
    due = audiences_due_claim(now=now)
    for audience_id in due:
        dispatch.audience_sync_soon(audience_id)
    return len(due)
