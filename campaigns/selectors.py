"""Reads about campaigns: per-step counts and the enrollments' states."""

from __future__ import annotations

from django.db.models import Count, Q

from campaigns.models import Campaign, Enrollment, StepRun


def campaign_stats(*, campaign: Campaign) -> dict:
    """Per step of the published journey: how many entered it, wait in it, went through it,
    failed at it; and the enrollments by status. Two grouped queries."""
    counts = {
        row["step_key"]: row
        for row in StepRun.objects.filter(campaign=campaign)
        .values("step_key")
        .annotate(
            entered=Count("id"),
            waiting=Count("id", filter=Q(outcome=StepRun.Outcome.WAITING)),
            completed=Count("id", filter=Q(outcome=StepRun.Outcome.DONE)),
            failed=Count("id", filter=Q(outcome=StepRun.Outcome.FAILED)),
        )
    }
    steps = campaign.version.steps if campaign.version_id else campaign.steps
    per_step = []
    for step in steps:
        row = counts.get(step["key"], {})
        per_step.append(
            {
                "key": step["key"],
                "type": step["type"],
                **{name: row.get(name, 0) for name in ("entered", "waiting", "completed", "failed")},
            }
        )
    statuses = dict(
        Enrollment.objects.filter(campaign=campaign).values_list("status").annotate(n=Count("id")).order_by()
    )
    goal = campaign.version.goal if campaign.version_id else campaign.goal
    conversion = campaign_goal_conversion(campaign=campaign, goal=goal) if goal else None
    if conversion:
        for row in per_step:
            row["entered_contacts"], row["goal"] = conversion["steps"].get(row["key"], (0, 0))
    return {
        "campaign": campaign.pk,
        "version": campaign.version.number if campaign.version_id else None,
        "enrollments": {status: statuses.get(status, 0) for status in Enrollment.Status.values},
        "steps": per_step,
        "goal": conversion and {"contacts": conversion["contacts"], "reached": conversion["reached"]},
    }


def campaign_goal_conversion(*, campaign: Campaign, goal: dict, now=None) -> dict:
    """How many of the contacts who entered the campaign, and each of its steps, the goal
    holds for now: the goal's own compiled query joined to the step runs, two queries
    however many contacts went through."""
    from django.db import connection
    from django.utils import timezone

    from segments.evaluation import matching_ids_sql, parsed

    sql, params = matching_ids_sql(parsed(goal), now=now or timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT r.step_key, COUNT(DISTINCT e.contact_id),
                   COUNT(DISTINCT e.contact_id) FILTER (WHERE g.id IS NOT NULL)
              FROM campaigns_steprun r
              JOIN campaigns_enrollment e ON e.id = r.enrollment_id
              LEFT JOIN ({sql}) g ON g.id = e.contact_id
             WHERE r.campaign_id = %s
             GROUP BY r.step_key
            """,  # noqa: S608 - the conditions compiler's SQL; every value is a parameter
            [*params, campaign.pk],
        )
        steps = {key: (contacts, reached) for key, contacts, reached in cursor.fetchall()}
        cursor.execute(
            f"""
            SELECT COUNT(DISTINCT e.contact_id), COUNT(DISTINCT e.contact_id) FILTER (WHERE g.id IS NOT NULL)
              FROM campaigns_enrollment e
              LEFT JOIN ({sql}) g ON g.id = e.contact_id
             WHERE e.campaign_id = %s
            """,  # noqa: S608 - as above
            [*params, campaign.pk],
        )
        contacts, reached = cursor.fetchone()
    return {"contacts": contacts, "reached": reached, "steps": steps}


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


def contact_enrollments(*, contact_id: int, limit: int = 20) -> list[dict]:
    """The contact's ways through campaigns, newest first: where each stands (the step by its
    label in the version it runs), when it waits until, and the messages it sent. One query
    through the enrollments' contact index."""
    from campaigns.models import OutboxMessage

    rows = (
        Enrollment.objects.filter(contact_id=contact_id)
        .select_related("campaign", "version")
        .annotate(
            sent=Count("messages", filter=Q(messages__status=OutboxMessage.Status.SENT)),
            queued=Count("messages", filter=Q(messages__status=OutboxMessage.Status.PENDING)),
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
