"""Reads about campaigns: per-step counts and the enrollments' states."""

from __future__ import annotations

from django.db import connection
from django.db.models import Count

from campaigns.models import Campaign, Enrollment, StepRun
from contacts.models import Contact

STEP_COUNTS = ("entered", "waiting", "completed", "failed", "unknown")


def _step_counts(campaign: Campaign) -> dict[str, dict]:
    """Per step key, in one grouped query: the step runs joined to the messages they wrote (a
    send step's run names its outbox message in its detail). A run whose message failed counts
    as failed, and one whose message's fate is unknown as unknown, not as done; `messages`
    counts the step's messages by status."""
    from messaging.models import OutboxMessage

    statuses = OutboxMessage.Status.values
    by_status = ", ".join(f"COUNT(m.id) FILTER (WHERE m.status = %s) AS {status}" for status in statuses)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT r.step_key,
                   COUNT(*) AS entered,
                   COUNT(*) FILTER (WHERE r.outcome = %s) AS waiting,
                   COUNT(*) FILTER (WHERE r.outcome = %s AND m.status IS DISTINCT FROM %s
                                     AND m.status IS DISTINCT FROM %s) AS completed,
                   COUNT(*) FILTER (WHERE r.outcome = %s OR (r.outcome = %s AND m.status = %s)) AS failed,
                   COUNT(*) FILTER (WHERE r.outcome = %s AND m.status = %s) AS unknown,
                   {by_status}
              FROM {StepRun._meta.db_table} r
              LEFT JOIN {OutboxMessage._meta.db_table} m
                ON m.id = CASE WHEN jsonb_typeof(r.detail -> 'message') = 'number'
                               THEN (r.detail ->> 'message')::bigint END
             WHERE r.campaign_id = %s
             GROUP BY r.step_key
            """,  # noqa: S608 - table names from the models, statuses from their choices
            [
                StepRun.Outcome.WAITING,
                StepRun.Outcome.DONE, OutboxMessage.Status.FAILED, OutboxMessage.Status.UNKNOWN,
                StepRun.Outcome.FAILED, StepRun.Outcome.DONE, OutboxMessage.Status.FAILED,
                StepRun.Outcome.DONE, OutboxMessage.Status.UNKNOWN,
                *statuses,
                campaign.pk,
            ],
        )  # fmt: skip
        rows = cursor.fetchall()
    counts = {}
    for key, *numbers in rows:
        row = dict(zip(STEP_COUNTS, numbers[: len(STEP_COUNTS)], strict=True))
        row["messages"] = dict(zip(statuses, numbers[len(STEP_COUNTS) :], strict=True))
        counts[key] = row
    return counts


def campaign_messages(*, campaign: Campaign) -> dict[str, int]:
    """The campaign's outbox messages by status (pending, sending, sent, suppressed, failed,
    unknown), in one grouped query over its origin."""
    from campaigns.origins import ORIGIN_TYPE
    from messaging.models import OutboxMessage

    found = dict(
        OutboxMessage.objects.filter(origin_type=ORIGIN_TYPE, origin_id=campaign.pk)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {status: found.get(status, 0) for status in OutboxMessage.Status.values}


def campaign_unknown_messages(*, campaign: Campaign, limit: int = 50) -> list[dict]:
    """The campaign's messages whose fate is unknown (the provider may or may not have got
    them), oldest first, each with its contact and the step that wrote it: one query."""
    from campaigns.origins import ORIGIN_TYPE
    from messaging.models import OutboxMessage

    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT m.id, m.channel, m.created_at, m.attempts, c.id, c.email, r.step_key
              FROM {OutboxMessage._meta.db_table} m
              JOIN {Contact._meta.db_table} c ON c.id = m.contact_id
              LEFT JOIN {StepRun._meta.db_table} r
                ON r.campaign_id = m.origin_id AND jsonb_typeof(r.detail -> 'message') = 'number'
               AND (r.detail ->> 'message')::bigint = m.id
             WHERE m.origin_type = %s AND m.origin_id = %s AND m.status = %s
             ORDER BY m.created_at, m.id
             LIMIT %s
            """,  # noqa: S608 - table names from the models
            [ORIGIN_TYPE, campaign.pk, OutboxMessage.Status.UNKNOWN, limit],
        )
        rows = cursor.fetchall()
    names = ("id", "channel", "created_at", "attempts", "contact_id", "email", "step")
    return [dict(zip(names, row, strict=True)) for row in rows]


def campaign_stats(*, campaign: Campaign) -> dict:
    """Per step of the published journey: how many entered it, wait in it, went through it,
    failed at it, and whose message's fate is unknown (a send step whose message failed is
    failed, not done), with its messages by status; the enrollments by status; the campaign's
    messages by status. Three grouped queries; with a goal, a fourth for the conversion to it
    (campaign_goal_conversion)."""
    from campaigns.steps import step_type
    from messaging.models import OutboxMessage

    counts = _step_counts(campaign)
    steps = campaign.version.steps if campaign.version_id else campaign.steps
    per_step = []
    for step in steps:
        row = counts.get(step["key"], {})
        kind = step_type(step["type"]) if isinstance(step.get("type"), str) else None
        per_step.append(
            {
                "key": step["key"],
                "type": step["type"],
                **{name: row.get(name, 0) for name in STEP_COUNTS},
            }
        )
        if kind is not None and kind.category == "message":  # what its messages became
            per_step[-1]["messages"] = row.get("messages") or dict.fromkeys(OutboxMessage.Status.values, 0)
    statuses = dict(
        Enrollment.objects.filter(campaign=campaign).values_list("status").annotate(n=Count("id")).order_by()
    )
    goal = campaign.version.goal if campaign.version_id else campaign.goal
    conversion = campaign_goal_conversion(campaign=campaign, goal=goal) if goal else None
    if conversion:
        for row in per_step:
            row["came"], row["goal"] = conversion["steps"].get(row["key"], (0, 0))
    return {
        "campaign": campaign.pk,
        "version": campaign.version.number if campaign.version_id else None,
        "enrollments": {status: statuses.get(status, 0) for status in Enrollment.Status.values},
        "messages": campaign_messages(campaign=campaign),
        "steps": per_step,
        "goal": conversion and {"entered": conversion["entered"], "reached": conversion["reached"]},
    }


def campaign_goal_conversion(*, campaign: Campaign, goal: dict, now=None) -> dict:
    """Of the enrollments in the campaign, and of those that came to each step, how many are
    of a contact the goal holds for now. The goal's own compiled query, run once and probed
    per row (a hashed subplan), in one query however many went through: counting distinct
    contacts would sort every step run."""
    from django.utils import timezone

    from segments.evaluation import matching_ids_sql, parsed

    sql, params = matching_ids_sql(parsed(goal), now=now or timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH goal AS ({sql})
            SELECT r.step_key, COUNT(*), COUNT(*) FILTER (WHERE e.contact_id IN (SELECT id FROM goal))
              FROM campaigns_steprun r
              JOIN campaigns_enrollment e ON e.id = r.enrollment_id
             WHERE r.campaign_id = %s AND r.visit = 1
             GROUP BY r.step_key
            UNION ALL
            SELECT NULL, COUNT(*), COUNT(*) FILTER (WHERE e.contact_id IN (SELECT id FROM goal))
              FROM campaigns_enrollment e
             WHERE e.campaign_id = %s
            """,  # noqa: S608 - the conditions compiler's SQL; every value is a parameter
            [*params, campaign.pk, campaign.pk],
        )
        rows = cursor.fetchall()
    entered, reached = next((row[1], row[2]) for row in rows if row[0] is None)
    steps = {key: (count, converted) for key, count, converted in rows if key is not None}
    return {"entered": entered, "reached": reached, "steps": steps}


def campaigns_running(*, limit: int = 8) -> list[dict]:
    """Active campaigns with their contacts inside now and those who finished."""
    from django.db.models import Count, Q

    from campaigns.models import LIVE, Campaign, EnrollmentStatus

    rows = (
        Campaign.objects.filter(status=Campaign.Status.ACTIVE)
        .annotate(
            inside=Count("enrollments", filter=Q(enrollments__status__in=LIVE)),
            completed=Count("enrollments", filter=Q(enrollments__status=EnrollmentStatus.COMPLETED)),
            failed=Count("enrollments", filter=Q(enrollments__status=EnrollmentStatus.FAILED)),
        )
        .order_by("-priority", "name")[:limit]
    )
    return [
        {"campaign": row, "inside": row.inside, "completed": row.completed, "failed": row.failed}
        for row in rows
    ]


def _enrollment_messages(status: str):
    """How many of an enrollment's messages are in this status: the messages its step runs
    wrote (a step run names its message in its detail)."""
    from django.db.models import BigIntegerField, OuterRef, Subquery
    from django.db.models.fields.json import KT
    from django.db.models.functions import Cast, Coalesce

    from messaging.models import OutboxMessage

    written = (
        StepRun.objects.filter(enrollment_id=OuterRef(OuterRef("pk")), detail__has_key="message")
        .annotate(message_id=Cast(KT("detail__message"), BigIntegerField()))
        .values("message_id")
    )
    counted = (
        OutboxMessage.objects.filter(pk__in=written, status=status)
        .order_by()
        .values("status")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted), 0)


def contact_enrollments(*, contact_id: int, limit: int = 20) -> list[dict]:
    """The contact's ways through campaigns, newest first: where each stands (the step by its
    label in the version it runs), when it waits until, and the messages it sent. One query
    through the enrollments' contact index."""
    from messaging.models import OutboxMessage

    rows = (
        Enrollment.objects.filter(contact_id=contact_id)
        .select_related("campaign", "version")
        .annotate(
            sent=_enrollment_messages(OutboxMessage.Status.SENT),
            queued=_enrollment_messages(OutboxMessage.Status.PENDING),
        )
        .order_by("-entered_at", "-id")[:limit]
    )
    enrollments = []
    for row in rows:
        step = next((s for s in row.version.steps if s.get("key") == row.step_key), None)
        where = ""
        if step:
            where = step.get("label") or f"{step['key']} ({step['type'].replace('_', ' ')})"
        enrollments.append(
            {
                "enrollment": row,
                "campaign": row.campaign,
                "version": row.version.number,
                "step": where,
                "live": row.status in (Enrollment.Status.ACTIVE, Enrollment.Status.WAITING),
                "sent": row.sent,
                "queued": row.queued,
            }
        )
    return enrollments


def campaign_placement(*, campaign: Campaign) -> dict:
    """Where the contacts inside the campaign are: per version and step, and whether the
    published version has that step (matched by its stable key), so they could move to it.
    One grouped query."""
    from campaigns.models import LIVE

    current = campaign.version
    keys = {step["key"] for step in current.steps} if current else set()
    rows = (
        Enrollment.objects.filter(campaign=campaign, status__in=LIVE)
        .values("version_id", "version__number", "step_key")
        .annotate(contacts=Count("id"))
        .order_by("-version__number", "step_key")
    )
    inside = [
        {
            "version": row["version__number"],
            "step": row["step_key"],
            "contacts": row["contacts"],
            "on_published": row["version_id"] == campaign.version_id,
            "step_in_published": row["step_key"] in keys,
        }
        for row in rows
    ]
    older = [row for row in inside if not row["on_published"]]
    return {
        "version": current.number if current else None,
        "inside": inside,
        "movable": sum(row["contacts"] for row in older if row["step_in_published"]),
        "would_stay": sum(row["contacts"] for row in older if not row["step_in_published"]),
    }


BACKTEST_MAX_DAYS = 365


def campaign_backtest(*, campaign: Campaign, days: int = 30, now=None) -> dict:
    """How many contacts the campaign's triggers would have enrolled over the last `days`
    days, had it been live: per trigger, and in all after the entry filter and the re-entry
    policy. Reads only."""
    from django.utils import timezone

    from campaigns.engine.backtest import backtest

    if not 1 <= days <= BACKTEST_MAX_DAYS:
        raise ValueError(f"days must be between 1 and {BACKTEST_MAX_DAYS}")
    return backtest(campaign=campaign, days=days, now=now or timezone.now())


def campaigns_sending_template(slug: str) -> list[str]:
    """Names of the campaigns whose draft or any published version sends this template."""
    step = [{"type": "send_email", "template": slug}]
    drafts = Campaign.objects.filter(steps__contains=step)
    published = Campaign.objects.filter(versions__steps__contains=step)
    return sorted(set(drafts.values_list("name", flat=True)) | set(published.values_list("name", flat=True)))
