"""Writes to campaigns: define, publish, enroll, and react to what contacts do.

Each function is one use case in one transaction, recording its action in the ledger with
the actor from the context (a person in the admin, an integration through the API). What
the journeys then do runs as the campaign itself: algorithmic.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Max, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from campaigns.dispatch import enrollments_publish
from campaigns.engine.advance import enrollment_finish
from campaigns.engine.journey import GraphError, validate
from campaigns.engine.triggers import events_wake, triggers_fire
from campaigns.enrollment import NotEnrollable, enroll
from campaigns.models import LIVE, Campaign, CampaignVersion, Enrollment, StepRun, Trigger
from campaigns.origins import campaign_actor
from campaigns.triggers import trigger_kinds
from contacts.models import Contact, Touchpoint
from contacts.normalize import normalize_email
from ledger.context import acting_as, current_actor
from ledger.models import Category
from ledger.services import action_record
from segments.conditions.schema import ConditionError
from segments.evaluation import Known, matching_ids_sql, parsed

CAMPAIGN_FIELDS = (
    "name", "description", "status", "priority", "reentry", "reentry_days", "entry_filter", "goal", "steps",
)  # fmt: skip


def live_filter() -> Q:
    """Enrollments still in their journey."""
    return Q(enrollments__status__in=LIVE)


class CampaignError(ValueError):
    """What is wrong, each problem with its path."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{path}: {message}" if path else message for path, message in errors))


def campaign_check(campaign: Campaign, *, known: Known | None = None) -> None:
    known = known or Known.load()
    errors: list[tuple[str, str]] = []
    for field in ("entry_filter", "goal"):
        tree = getattr(campaign, field)
        if tree:
            try:
                parsed(tree, known=known)
            except ConditionError as error:
                errors.extend(
                    (f"{field}.{path}" if path else field, message) for path, message in error.errors
                )
    try:
        validate(campaign.steps, known=known)
    except GraphError as error:
        errors.extend(error.errors)
    if campaign.reentry == Campaign.Reentry.AFTER_DAYS and not campaign.reentry_days:
        errors.append(("reentry_days", "say after how many days a contact may enter again"))
    if errors:
        raise CampaignError(errors)


def triggers_check(triggers: Sequence[Mapping[str, Any]]) -> list[Trigger]:
    """The triggers as rows, each built by its kind (campaigns.triggers); every problem with its path."""
    errors: list[tuple[str, str]] = []
    built = []
    known = Known.load()
    kinds = trigger_kinds()
    for index, data in enumerate(triggers):
        path = f"triggers[{index}]"
        kind = kinds.get(data.get("kind")) if isinstance(data.get("kind"), str) else None
        trigger = Trigger(kind=data.get("kind"))
        if kind is None:
            errors.append((f"{path}.kind", f"expected one of {', '.join(kinds)}"))
        else:
            errors.extend(kind.build(trigger, dict(data), path, known))
        built.append(trigger)
    if errors:
        raise CampaignError(errors)
    return built


@transaction.atomic
def campaign_create(*, name: str, triggers: Sequence[Mapping[str, Any]] = (), **fields: Any) -> Campaign:
    unknown = set(fields) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise ValueError(f"unknown campaign fields: {', '.join(sorted(unknown))}")
    campaign = Campaign(name=name, **fields)
    campaign_check(campaign)
    if campaign.status == Campaign.Status.ACTIVE:
        raise CampaignError([("status", "publish the campaign to activate it")])
    built = triggers_check(triggers)
    campaign.save(force_insert=True)
    for trigger in built:
        trigger.campaign = campaign
    Trigger.objects.bulk_create(built)
    action_record(category=Category.CAMPAIGN_MANAGEMENT, verb="campaign.created", obj=campaign)
    return campaign


@transaction.atomic
def campaign_update(
    *, campaign: Campaign, data: Mapping[str, Any], triggers: Sequence[Mapping[str, Any]] | None = None
) -> Campaign:
    unknown = set(data) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise ValueError(f"unknown campaign fields: {', '.join(sorted(unknown))}")
    for field, value in data.items():
        setattr(campaign, field, value)
    campaign_check(campaign)
    if campaign.status == Campaign.Status.ACTIVE and campaign.version_id is None:
        raise CampaignError([("status", "publish the campaign before activating it")])
    campaign.updated_at = timezone.now()
    campaign.save()
    if triggers is not None:
        built = triggers_check(triggers)
        campaign.triggers.all().delete()
        for trigger in built:
            trigger.campaign = campaign
        Trigger.objects.bulk_create(built)
    action_record(
        category=Category.CAMPAIGN_MANAGEMENT, verb="campaign.updated", obj=campaign,
        details={"fields": sorted(data)},
    )  # fmt: skip
    return campaign


@transaction.atomic
def campaign_publish(*, campaign: Campaign, activate: bool = True) -> CampaignVersion:
    """Freeze the draft steps as a new version that new contacts enter. Contacts already
    inside stay on the version they entered."""
    given, campaign = campaign, Campaign.objects.select_for_update().get(pk=campaign.pk)
    campaign_check(campaign)
    if not campaign.steps:
        raise CampaignError([("steps", "a campaign needs at least one step to be published")])
    number = (campaign.versions.aggregate(last=Max("number"))["last"] or 0) + 1
    version = CampaignVersion.objects.create(
        campaign=campaign, number=number, steps=campaign.steps, entry_filter=campaign.entry_filter,
        goal=campaign.goal, published_by=current_actor().name,
    )  # fmt: skip
    campaign.version = version
    if activate and campaign.status in (Campaign.Status.DRAFT, Campaign.Status.PAUSED):
        campaign.status = Campaign.Status.ACTIVE
    campaign.updated_at = timezone.now()
    campaign.save(update_fields=["version", "status", "updated_at"])
    action_record(
        category=Category.CAMPAIGN_MANAGEMENT, verb="campaign.published", obj=campaign,
        details={"version": number},
    )  # fmt: skip
    given.refresh_from_db()
    return version


@transaction.atomic
def enrollments_migrate(*, campaign: Campaign, from_versions: Iterable[int] | None = None) -> dict:
    """Move the contacts inside older versions (all, or those numbered) to the published
    one, each onto the step with the same key, where it waits or runs as it would have.
    Contacts on a step the published version no longer has stay on their version; the
    answer says how many and where."""
    from campaigns.selectors import campaign_placement

    campaign = Campaign.objects.select_for_update(of=("self",)).select_related("version").get(pk=campaign.pk)
    if campaign.version is None:
        raise CampaignError([("", "publish the campaign before moving contacts to a version")])
    keys = [step["key"] for step in campaign.version.steps]
    older = Enrollment.objects.filter(campaign=campaign, status__in=LIVE).exclude(version=campaign.version)
    if from_versions is not None:
        older = older.filter(version__number__in=list(from_versions))
    moved = older.filter(step_key__in=keys).update(version=campaign.version)
    placement = campaign_placement(campaign=campaign)
    stayed = [row for row in placement["inside"] if not row["on_published"]]
    action_record(
        category=Category.CAMPAIGN_MANAGEMENT, verb="campaign.contacts_moved", obj=campaign,
        details={"to_version": campaign.version.number, "moved": moved, "stayed": stayed},
    )  # fmt: skip
    return {"version": campaign.version.number, "moved": moved, "stayed": stayed}


def campaign_enroll(
    *,
    campaign: Campaign,
    contact_ids: Iterable[int] = (),
    emails: Iterable[str] = (),
    now: datetime | None = None,
) -> dict:
    """Enroll by hand or through the API. Returns who entered, who was already in or kept
    out by the filter or re-entry policy, and which e-mails are unknown."""
    now = now or timezone.now()
    ids = set(contact_ids)
    wanted = {normalize_email(email): email for email in emails}
    found = dict(Contact.objects.filter(email__in=list(wanted)).values_list("email", "id"))
    ids |= set(found.values())
    existing = set(Contact.objects.filter(pk__in=ids).values_list("pk", flat=True))
    try:
        enrollment_ids = enroll(
            campaign=campaign, contact_ids=sorted(existing), now=now, context={"trigger": "manual"}
        )
    except NotEnrollable as error:
        raise CampaignError([("", str(error))]) from error
    entered = set(Enrollment.objects.filter(pk__in=enrollment_ids).values_list("contact_id", flat=True))
    if enrollment_ids:
        action_record(
            category=Category.CAMPAIGN_MANAGEMENT, verb="campaign.enroll_requested", obj=campaign,
            details={"contacts": len(enrollment_ids)},
        )  # fmt: skip
    return {
        "enrolled": sorted(entered),
        "not_enrolled": sorted(existing - entered),
        "unknown_contacts": sorted(ids - existing),
        "unknown_emails": sorted(original for email, original in wanted.items() if email not in found),
    }


def campaigns_react_to_touchpoints(*, touchpoint_ids: Sequence[int], now: datetime | None = None) -> int:
    """New touchpoints: goals reached take contacts out, then touchpoint triggers enroll.
    Returns how many enrollments were created."""
    now = now or timezone.now()
    touchpoints = list(
        Touchpoint.objects.filter(pk__in=touchpoint_ids).values("pk", "contact_id", "kind_id", "properties")
    )
    if not touchpoints:
        return 0
    goals_check(contact_ids={touchpoint["contact_id"] for touchpoint in touchpoints}, now=now)
    events_wake(touchpoints=touchpoints, now=now)
    return triggers_fire("touchpoints", touchpoints=touchpoints, now=now)


def goals_check(*, contact_ids: Iterable[int], now: datetime) -> int:
    """Take the contacts whose campaign goal now holds out of that campaign, at once, also
    while they wait. One query per campaign with a goal that holds any of them."""
    ids = sorted(set(contact_ids))
    live = (
        Enrollment.objects.filter(contact_id__in=ids, status__in=LIVE, version__goal__isnull=False)
        .values_list("version_id", flat=True)
        .distinct()
    )
    exited = 0
    for version in CampaignVersion.objects.filter(pk__in=list(live)).select_related("campaign"):
        sql, params = matching_ids_sql(parsed(version.goal), now=now, contact_ids=True)
        reached = Enrollment.objects.filter(version=version, status__in=LIVE, contact_id__in=ids).filter(
            contact_id__in=RawSQL(sql, [*params, ids])  # noqa: S611 - the compiler's SQL, values as parameters
        )
        with transaction.atomic(), acting_as(campaign_actor(version.campaign)):
            for enrollment in reached.select_for_update(skip_locked=True).select_related("campaign"):
                enrollment_finish(enrollment, status=Enrollment.Status.EXITED, now=now, reason="goal reached")
                exited += 1
    return exited


@transaction.atomic
def enrollments_retry(*, enrollment_ids: Iterable[int], now: datetime | None = None) -> dict:
    """Failed enrollments start again at the step that failed: its failed run goes, and they
    are due at once. One whose contact is in the campaign again (a newer live enrollment)
    stays failed, as does all but the newest of one contact's failed enrollments."""
    from django.db import connection

    from ledger.services import ActionEntry, action_record_many

    now = now or timezone.now()
    ids = sorted({int(pk) for pk in enrollment_ids})
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE campaigns_enrollment e
               SET status = 'active', next_run_at = %s, finished_at = NULL, error = '', attempts = 0,
                   lease_until = NULL
             WHERE e.id IN (SELECT DISTINCT ON (f.campaign_id, f.contact_id) f.id
                              FROM campaigns_enrollment f
                             WHERE f.id = ANY(%s) AND f.status = 'failed'
                             ORDER BY f.campaign_id, f.contact_id, f.entered_at DESC, f.id DESC)
               AND NOT EXISTS (SELECT 1 FROM campaigns_enrollment live
                                WHERE live.campaign_id = e.campaign_id AND live.contact_id = e.contact_id
                                  AND live.status IN ('active', 'waiting'))
            RETURNING e.id, e.campaign_id, e.contact_id, e.step_key, e.step_visit
            """,
            [now, ids],
        )
        rows = sorted(cursor.fetchall())
        cursor.execute(
            """
            DELETE FROM campaigns_steprun r
             USING jsonb_to_recordset(%s::jsonb) AS v (enrollment_id bigint, step_key varchar, visit integer)
             WHERE r.enrollment_id = v.enrollment_id AND r.step_key = v.step_key AND r.visit = v.visit
               AND r.outcome = 'failed'
            """,
            [json.dumps([{"enrollment_id": r[0], "step_key": r[3], "visit": r[4]} for r in rows])],
        )
    campaigns = Campaign.objects.in_bulk({row[1] for row in rows})
    action_record_many(
        entries=[
            ActionEntry(
                category=Category.CAMPAIGN_MANAGEMENT, verb="campaign.retried", contact_id=contact_id,
                obj=campaigns[campaign_id], details={"enrollment": enrollment_id, "step": step_key},
            )
            for enrollment_id, campaign_id, contact_id, step_key, _ in rows
        ]
    )  # fmt: skip
    retried = [row[0] for row in rows]
    if retried:
        transaction.on_commit(lambda: enrollments_publish(retried))
    return {"retried": retried, "not_retried": sorted(set(ids) - set(retried))}


def campaign_simulate(
    *,
    campaign: Campaign,
    contact_ids: Iterable[int] = (),
    emails: Iterable[str] = (),
    sample: int | None = None,
    draft: bool = False,
    now: datetime | None = None,
) -> dict:
    """The journey run for the contacts named, or a random sample of those who may enter,
    with no effect at all (engine/simulate.py). Reads only: no ledger action."""
    from campaigns.engine.simulate import sample_ids, simulate

    now = now or timezone.now()
    if not campaign.version_id and not draft and not campaign.steps:
        raise CampaignError([("steps", "the campaign has no steps to simulate")])
    ids = set(contact_ids)
    wanted = [normalize_email(email) for email in emails]
    ids |= set(Contact.objects.filter(email__in=wanted).values_list("pk", flat=True))
    if sample:
        ids |= set(sample_ids(campaign=campaign, size=sample, now=now, draft=draft))
    try:
        return simulate(campaign=campaign, contact_ids=sorted(ids), now=now, draft=draft)
    except GraphError as error:
        raise CampaignError(error.errors) from error


# --- a person's data, for export and erasure (contacts.personal_data) -------------------------


def contact_enrollments_personal_data(contact: Contact) -> dict:
    from contacts.personal_data import iso

    return {
        "enrollments": [
            {
                "campaign": enrollment.campaign.name,
                "status": enrollment.status,
                "step": enrollment.step_key,
                "entered_at": iso(enrollment.entered_at),
                "finished_at": iso(enrollment.finished_at),
            }
            for enrollment in Enrollment.objects.filter(contact=contact)
            .select_related("campaign")
            .order_by("entered_at", "pk")
        ]
    }


def contact_enrollments_erase(contact: Contact) -> dict[str, int]:
    """The person leaves every journey; what the journeys kept about them (the context of an
    enrollment, the details of its steps) is wiped."""
    enrollments = Enrollment.objects.filter(contact_id=contact.pk)
    enrollments.filter(status__in=LIVE).update(
        status=Enrollment.Status.EXITED, next_run_at=None, lease_until=None, finished_at=timezone.now()
    )
    erased = enrollments.update(context={}, error="")
    StepRun.objects.filter(enrollment__contact_id=contact.pk).update(detail={})
    return {"enrollments": erased}
