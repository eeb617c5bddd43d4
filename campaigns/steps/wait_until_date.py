from __future__ import annotations

from campaigns.steps import step_type_register
from campaigns.steps.base import DATE_PATH, Field, Outcome, StepType, check_time, whole
from campaigns.steps.sending import contact_of
from common import clock
from contacts.models import Touchpoint


def date_of(path: str, *, enrollment, contact):
    """The value a date path names: a field of the contact, or of the touchpoint that
    brought the contact into the journey."""
    source, _, rest = path.partition(".")
    if source == "contact":
        record = contact
    else:
        touchpoint_id = enrollment.context.get("touchpoint")
        record = Touchpoint.objects.filter(pk=touchpoint_id).first() if touchpoint_id else None
        if record is None:
            return None
    if rest.startswith(("attributes.", "properties.")):
        bag, _, name = rest.partition(".")
        return (getattr(record, bag) or {}).get(name)
    return getattr(record, rest, None)


DATE_EXPECTED = (
    "expected the path of a date: contact.created_at, contact.attributes.NAME, touchpoint.occurred_at "
    "or touchpoint.properties.NAME (the touchpoint that brought the contact)"
)


@step_type_register
class WaitUntilDate(StepType):
    type = "wait_until_date"
    label = "Wait until a date"
    category = "wait"
    position = 30
    key_base = "wait-date"
    fields = (
        Field("date", "date_path", label="Until the date", aria="Date", required=True),
        Field("duration", "duration", units=("days", "hours"), signed=True),
        Field("time", "time", label="at", aria="At"),
        Field("", "words", label="(negative days: before the date)"),
    )
    extra_keys = ("minutes",)  # refused with its own message below

    def defaults(self, options):
        return {"date": "touchpoint.occurred_at", "days": -1}

    def check(self, step, path, known):
        errors = check_time(step, path)
        date = step["date"]
        if not isinstance(date, str) or not DATE_PATH.match(date):
            errors.append((f"{path}.date", DATE_EXPECTED))
        for unit in ("days", "hours"):
            if not whole(step.get(unit, 0)):
                errors.append((f"{path}.{unit}", "expected a whole number; negative for before the date"))
        if "minutes" in step:
            errors.append((f"{path}.minutes", "a date moves by days and hours"))
        return errors

    def describe(self, step, names):
        shifts = ((step.get("days", 0), "days"), (step.get("hours", 0), "hours"))
        moved = ", ".join(f"{value:+d} {unit}" for value, unit in shifts if value)
        at = f" at {step['time']}" if step.get("time") else ""
        return f"until {step['date']}{' ' + moved if moved else ''}{at}"

    def run(self, step, run):
        contact = contact_of(run)
        tz = clock.zone(contact.timezone)
        moment = clock.as_moment(date_of(step["date"], enrollment=run.enrollment, contact=contact), tz)
        following = run.following(step)
        if moment is None:
            return Outcome(next=following, detail={"skipped": f"{step['date']} has no date"})
        until = clock.shifted(
            moment,
            days=step.get("days", 0),
            hours=step.get("hours", 0),
            at=clock.parse_time(step.get("time")),
            tz=tz,
        )
        if until <= run.now:
            return Outcome(next=following, detail={"skipped": f"{until.isoformat()} has passed"})
        return Outcome(wait_until=until, detail={"until": until.isoformat()})
