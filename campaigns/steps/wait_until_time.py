from __future__ import annotations

from campaigns.steps import step_type_register
from campaigns.steps.base import Field, Outcome, StepType, check_time, whole
from campaigns.steps.sending import contact_of
from common import clock

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@step_type_register
class WaitUntilTime(StepType):
    type = "wait_until_time"
    label = "Wait until a time"
    category = "wait"
    position = 20
    key_base = "wait-time"
    fields = (
        Field("time", "time", label="Until", aria="Time of day", required=True),
        Field("", "words", label="in the contact's time zone, on"),
        Field("weekdays", "weekdays", aria="Weekdays"),
    )

    def defaults(self, options):
        return {"time": "09:00"}

    def check(self, step, path, known):
        errors = check_time(step, path)
        weekdays = step.get("weekdays", [0, 1, 2, 3, 4, 5, 6])
        if (
            not isinstance(weekdays, list)
            or not weekdays
            or not all(whole(d) and 0 <= d <= 6 for d in weekdays)
        ):
            errors.append((f"{path}.weekdays", "expected a list of weekdays, 0 (Monday) to 6 (Sunday)"))
        return errors

    def describe(self, step, names):
        days = step.get("weekdays")
        on = f" on {', '.join(WEEKDAYS[day] for day in days)}" if days else ""
        return f"until {step['time']}{on}, in the contact's time zone"

    def run(self, step, run):
        tz = clock.zone(contact_of(run).timezone)
        until = clock.next_time_of_day(run.now, clock.parse_time(step["time"]), tz, step.get("weekdays"))
        return Outcome(wait_until=until, detail={"until": until.isoformat(), "time_zone": str(tz)})
