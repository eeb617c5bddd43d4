"""Reads behind the automation report, its API and the marketer's home page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import QuerySet

from contacts.models import Channel
from ledger.counting import NoChannel, counted_verbs, no_channel_reason
from ledger.models import Action, ActorKind, Category
from reporting.counts import CountRow, action_counts
from reporting.periods import Period
from reporting.ratio import Tally

TREND_UNITS = ("day", "week", "month")
BREAKDOWNS = ("category", "channel", "campaign", "integration", "person", "actor", "verb")
GROUP_BY = TREND_UNITS + BREAKDOWNS
PEOPLE = ("user", "command")
_CATEGORY_LABELS = dict(Category.choices)
_CHANNEL_LABELS = dict(Channel.choices)


@dataclass(frozen=True)
class Group:
    key: str
    label: str
    tally: Tally
    actor_type: str = ""


@dataclass(frozen=True)
class RatioReport:
    period: Period
    totals: Tally
    previous_period: Period
    previous: Tally
    group_by: str
    groups: list[Group] = field(default_factory=list)

    @property
    def change(self) -> float | None:
        """How the share of algorithmic actions moved against the period before, in points."""
        now, before = self.totals.algorithmic_percent, self.previous.algorithmic_percent
        return round(now - before, 2) if now is not None and before is not None else None


def category_label(value: str) -> str:
    return _CATEGORY_LABELS.get(value, value)


def channel_label(value: str) -> str:
    return _CHANNEL_LABELS.get(value, value) if value else "no channel"


def _tally(row: CountRow) -> Tally:
    return Tally(algorithmic=row.algorithmic, manual=row.manual)


def _period_starts(period: Period, unit: str) -> list[date]:
    """Every day, week (from its Monday) or month (from its 1st) the period touches."""
    if unit == "day":
        return [period.start + timedelta(days=i) for i in range(period.days)]
    if unit == "week":
        current = period.start - timedelta(days=period.start.weekday())
        starts = []
        while current <= period.end:
            starts.append(current)
            current += timedelta(days=7)
        return starts
    current, starts = period.start.replace(day=1), []
    while current <= period.end:
        starts.append(current)
        current = (current + timedelta(days=32)).replace(day=1)
    return starts


def _trend_label(start: date, unit: str) -> str:
    if unit == "day":
        return f"{start:%a %-d %b}"
    if unit == "week":
        return f"week of {start:%-d %b}"
    return f"{start:%B %Y}"


def action_trend(*, period: Period, unit: str = "day") -> list[Group]:
    """One group per day, week or month of the period, empty ones included, oldest first."""
    counts = {row.key[0]: _tally(row) for row in action_counts(period=period, by=[unit])}
    return [
        Group(key=start.isoformat(), label=_trend_label(start, unit), tally=counts.get(start, Tally()))
        for start in _period_starts(period, unit)
    ]


def action_breakdown(*, period: Period, by: str, filters: dict | None = None) -> list[Group]:
    """Groups with their counts, those with the most manual actions first."""
    filters = dict(filters or {})
    if by in ("integration", "person", "actor"):
        if by == "integration":
            filters["actor_type"] = "integration"
        elif by == "person":
            filters["actor_type"] = PEOPLE
        rows = action_counts(period=period, by=["actor"], filters=filters)
        groups = [
            Group(
                key=f"{actor_type}:{actor_id if actor_id is not None else name}",
                label=name,
                tally=_tally(row),
                actor_type=actor_type,
            )
            for row in rows
            for actor_type, actor_id, name in [row.key]
        ]
    elif by == "channel":
        groups = _channel_groups(action_counts(period=period, by=["channel", "verb"], filters=filters))
    else:
        rows = action_counts(period=period, by=[by], filters=filters)
        label = {"category": category_label, "channel": channel_label}.get(by, str)
        groups = [Group(key=row.key[0], label=label(row.key[0]), tally=_tally(row)) for row in rows]
        if by == "campaign":  # actions that served no campaign are not a campaign of their own
            groups = [group for group in groups if group.key]
    return sorted(groups, key=lambda g: (-g.tally.manual, -g.tally.total, g.label))


def _channel_groups(rows: list[CountRow]) -> list[Group]:
    """Units by channel; a unit with none goes under the reason its verb gives (a change to
    data, setting up, work for the team, insight), never under a bare "no channel"."""
    tallies: dict[str, Tally] = {}
    labels: dict[str, str] = {}
    for row in rows:
        channel, verb = row.key
        if channel:
            key, label = channel, channel_label(channel)
        else:
            reason = no_channel_reason(verb) or NoChannel.DATA
            key, label = f"none:{reason.value}", reason.label
        tallies[key] = tallies.get(key, Tally()) + _tally(row)
        labels[key] = label
    return [Group(key=key, label=labels[key], tally=tally) for key, tally in tallies.items()]


def period_tally(*, period: Period, filters: dict | None = None) -> Tally:
    rows = action_counts(period=period, filters=filters)
    return _tally(rows[0]) if rows else Tally()


def automation_ratio(*, period: Period, group_by: str = "day") -> RatioReport:
    """The ratio of the period, the period before for comparison, and the groups asked for."""
    if group_by not in GROUP_BY:
        raise ValueError(f"cannot group by {group_by!r}; one of {', '.join(GROUP_BY)}")
    if group_by in TREND_UNITS:
        groups = action_trend(period=period, unit=group_by)
        totals = sum((group.tally for group in groups), Tally())
    else:
        groups = action_breakdown(period=period, by=group_by)
        totals = period_tally(period=period)
    previous_period = period.previous()
    return RatioReport(
        period=period,
        totals=totals,
        previous_period=previous_period,
        previous=period_tally(period=previous_period),
        group_by=group_by,
        groups=groups,
    )


def action_list(
    *,
    period: Period,
    category: str | None = None,
    actor_kind: str | None = None,
    verb: str | None = None,
) -> QuerySet[Action]:
    """The ledger's actions behind a figure, newest first."""
    queryset = Action.objects.filter(occurred_at__gte=period.start_at, occurred_at__lt=period.end_before)
    if category:
        queryset = queryset.filter(category=category)
    if actor_kind in ActorKind.values:
        queryset = queryset.filter(actor_kind=actor_kind)
    if verb:
        queryset = queryset.filter(verb=verb)
    return queryset.order_by("-occurred_at", "-id")


def manual_action_latest(*, limit: int = 10) -> list[Action]:
    return list(Action.objects.filter(actor_kind=ActorKind.MANUAL).order_by("-occurred_at", "-id")[:limit])


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a contact's history: a touchpoint it made or an action done to it."""

    occurred_at: object
    kind: str  # "touchpoint" or "action"
    title: str
    detail: str
    channel: str = ""
    actor_kind: str = ""
    actor_name: str = ""


def contact_timeline(*, contact_id: int, limit: int = 100) -> list[TimelineEntry]:
    """The contact's touchpoints and ledger actions, newest first; each side read through its
    (contact, occurred_at) index, so a contact with years of history costs two short scans."""
    from contacts.models import Touchpoint

    touchpoints = Touchpoint.objects.filter(contact_id=contact_id).select_related("kind")
    touchpoints = touchpoints.order_by("-occurred_at")
    actions = Action.objects.filter(contact_id=contact_id).order_by("-occurred_at", "-id")
    entries = [
        TimelineEntry(
            occurred_at=touchpoint.occurred_at,
            kind="touchpoint",
            title=touchpoint.kind.name,
            detail=touchpoint.summary,
            channel=channel_label(touchpoint.channel),
        )
        for touchpoint in touchpoints[:limit]
    ] + [
        TimelineEntry(
            occurred_at=action.occurred_at,
            kind="action",
            title=f"{category_label(action.category)}: {action.verb}",
            detail=", ".join(f"{key}: {value}" for key, value in list(action.details.items())[:4]),
            channel=channel_label(action.channel) if action.channel else "",
            actor_kind=action.actor_kind,
            actor_name=action.actor_name,
        )
        for action in actions[:limit]
    ]
    return sorted(entries, key=lambda entry: entry.occurred_at, reverse=True)[:limit]


def contact_tally(*, contact_id: int) -> Tally:
    """The units of work done to one contact, by software and by hand (the counting rule)."""
    from django.db.models import Count, Q

    counts = Action.objects.filter(contact_id=contact_id, verb__in=counted_verbs()).aggregate(
        algorithmic=Count("id", filter=Q(actor_kind=ActorKind.ALGORITHMIC)),
        manual=Count("id", filter=Q(actor_kind=ActorKind.MANUAL)),
    )
    return Tally(algorithmic=counts["algorithmic"], manual=counts["manual"])
