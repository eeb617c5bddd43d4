# ruff: noqa: S608 - the SQL is this module's, every value a parameter
from __future__ import annotations

import json

from django.conf import settings
from django.db import connection
from django.utils import timezone

from campaigns.enrollment import enroll
from campaigns.steps.base import Field
from campaigns.triggers import trigger_kind_register
from campaigns.triggers.base import TriggerKind
from campaigns.triggers.touchpoints import filter_check, kinds_check
from common import clock

DATE_FIELDS = ("created_at", "updated_at")
TOUCHPOINT_DATE_FIELDS = ("occurred_at",)
# The contact's zone when PostgreSQL knows it (a joined pg_timezone_names), else the site's.
_ZONE = "COALESCE(zone.name, %s)"
_ZONE_JOIN = "LEFT JOIN pg_timezone_names zone ON zone.name = c.timezone"


def date_occurrences_sql(trigger) -> tuple[str, list]:
    """The contacts (and the touchpoint, if any) whose occurrence of the trigger's date
    falls in (since, until]: the date, moved by offset_days, at time_of_day in the
    contact's zone. Dates stored as text are read with mops_date(), which is NULL for
    anything that is not a date."""
    at = trigger.time_of_day or clock.time(9)
    params: list = []
    if trigger.touchpoint_kinds:
        source = "t"
        joins = (
            "JOIN contacts_touchpoint t"
            " ON t.contact_id = c.id AND t.kind_id = ANY(%s) AND t.properties @> %s::jsonb"
        )
        params += [list(trigger.touchpoint_kinds), json.dumps(trigger.touchpoint_filter or {})]
        field = trigger.field or "occurred_at"
    else:
        source, joins, field = "c", "", trigger.field
    if field.startswith(("attributes.", "properties.")):
        bag, _, name = field.partition(".")
        day = f"mops_date({source}.{bag} ->> %s)"
        day_params = [name]
    else:
        day = f"({source}.{field} AT TIME ZONE {_ZONE})::date"
        day_params = [settings.TIME_ZONE]
    touchpoint = "MIN(t.id)" if trigger.touchpoint_kinds else "NULL::bigint"
    sql = f"""
        SELECT c.id, {touchpoint}
          FROM contacts_contact c {_ZONE_JOIN} {joins}
         WHERE (({day} + %s) + %s::time) AT TIME ZONE {_ZONE} > %s
           AND (({day} + %s) + %s::time) AT TIME ZONE {_ZONE} <= %s
         GROUP BY c.id
    """
    window = [trigger.offset_days, at, settings.TIME_ZONE]
    return sql, [*params, *day_params, *window, "SINCE", *day_params, *window, "UNTIL"]


def _between(sql_and_params, since, until):
    sql, params = sql_and_params
    return sql, [since if value == "SINCE" else until if value == "UNTIL" else value for value in params]


@trigger_kind_register
class DateCameRound(TriggerKind):
    """N days before or after a date of the contact's (or of a touchpoint's: the event a
    registration is for), at a time of day in the contact's time zone. Beat reads each
    trigger, locked, up to the moment it last read it: every occurrence enrolls once."""

    kind = "date"
    label = "Days before or after a date"
    position = 80
    listens = "timed"
    fields = (
        Field("offset_days", "offset_days", label="days", aria="Days before or after", signed=True),
        Field("field", "date_field", label="the date", required=True),
        Field("touchpoint_kinds", "kinds", label="of the touchpoint", choices="kinds"),
        Field("touchpoint_filter", "where", label="with the properties"),
        Field("time_of_day", "time", label="at", aria="Time of day"),
    )

    def build(self, trigger, data, path, known):
        errors = []
        kinds = list(data.get("touchpoint_kinds") or [])
        field = data.get("field") or ""
        errors += kinds_check(kinds, path, known, required=False)
        bag, own = ("properties.", TOUCHPOINT_DATE_FIELDS) if kinds else ("attributes.", DATE_FIELDS)
        name = field.removeprefix(bag) if field.startswith(bag) else ""
        if field not in own and not (name and "." not in name):
            where = "the touchpoint's" if kinds else "the contact's"
            choices = ", ".join([*own, f"{bag}NAME"])
            errors.append((f"{path}.field", f"expected {where} date: {choices}"))
        offset = data.get("offset_days", 0)
        if not isinstance(offset, int) or isinstance(offset, bool):
            errors.append(
                (f"{path}.offset_days", "expected a whole number of days; negative for before the date")
            )
        at = clock.parse_time(data.get("time_of_day") or "09:00")
        if at is None:
            errors.append((f"{path}.time_of_day", "expected a time of day as HH:MM, e.g. 09:00"))
        filter_ = data.get("touchpoint_filter") or {}
        errors += filter_check(filter_, path)
        trigger.touchpoint_kinds, trigger.touchpoint_filter, trigger.field = kinds, filter_, field
        trigger.offset_days, trigger.time_of_day = offset, at
        trigger.last_run_at = timezone.now()  # from now on: past dates enroll nobody
        return errors

    def describe(self, trigger):
        return f"{trigger.offset_days:+d} days from {trigger.field}"

    def touchpoint_kinds(self, trigger):
        return list(trigger.touchpoint_kinds)

    def fire(self, triggers, *, now, **event):
        created: list[int] = []
        for trigger in triggers.select_for_update(skip_locked=True, of=("self",)):
            with connection.cursor() as cursor:
                cursor.execute(*_between(date_occurrences_sql(trigger), trigger.last_run_at or now, now))
                rows = cursor.fetchall()
            contexts = {
                contact_id: {"trigger": trigger.pk, "date": trigger.field}
                | ({"touchpoint": touchpoint_id} if touchpoint_id else {})
                for contact_id, touchpoint_id in rows
            }
            created += enroll(
                campaign=trigger.campaign, contact_ids=list(contexts), now=now, contexts=contexts
            )
            triggers.model.objects.filter(pk=trigger.pk).update(last_run_at=now)
        return created

    def backtest(self, trigger, since, until):
        sql, params = _between(date_occurrences_sql(trigger), since, until)
        return f"SELECT id, count(*) FROM ({sql}) fired (id, touchpoint) GROUP BY id", params
