"""A condition tree as the sentence a marketer reads:
"Country is FR or BE, and clicked an e-mail at least twice in the last 30 days"."""

from __future__ import annotations

from datetime import datetime

from segments.conditions.schema import (
    All,
    Any_,
    Count,
    Duration,
    FieldLeaf,
    IntentLeaf,
    Node,
    Not,
    RelativeDate,
    SegmentLeaf,
    TagLeaf,
    TouchpointLeaf,
)

FIELD_NAMES = {
    "email": "e-mail", "consent.email": "e-mail consent", "consent.sms": "SMS consent",
    "account.name": "company", "account.domain": "company domain", "account.industry": "industry",
    "account.employees": "company size", "account.country": "company country", "created_at": "created",
    "updated_at": "updated", "occurred_at": "time",
}  # fmt: skip
OPERATOR_WORDS = {
    "eq": "is", "neq": "is not", "contains": "contains", "not_contains": "does not contain",
    "starts_with": "starts with", "ends_with": "ends with", "gt": "is more than", "gte": "is at least",
    "lt": "is less than", "lte": "is at most",
}  # fmt: skip
DATE_OPERATOR_WORDS = {"gt": "is after", "gte": "is on or after", "lt": "is before", "lte": "is on or before"}
UNIT_WORDS = {"m": "minute", "h": "hour", "d": "day", "w": "week"}
KIND_VERBS = {
    "page_view": "viewed a page", "form_submit": "submitted a form", "email_open": "opened an e-mail",
    "email_click": "clicked an e-mail", "email_bounce": "bounced an e-mail", "unsubscribe": "unsubscribed",
    "webinar_registration": "registered for a webinar", "webinar_attended": "attended a webinar",
    "event_registration": "registered for an event", "content_download": "downloaded content",
    "demo_request": "requested a demo", "chat_message": "wrote in the chat", "purchase": "made a purchase",
}  # fmt: skip
COUNT_WORDS = {"gte": "at least", "gt": "more than", "eq": "exactly", "lte": "at most", "lt": "fewer than"}


def explain(node: Node | None) -> str:
    sentence = _explain(node, top=True)
    return sentence[:1].upper() + sentence[1:]


def _explain(node: Node | None, *, top: bool = False) -> str:
    match node:
        case All(children=()):
            return "every contact"
        case Any_(children=()):
            return "no contact"
        case All(children=children):
            return _join([_explain(child) for child in children], "and", top)
        case Any_(children=children):
            return _join([_explain(child) for child in children], "or", top)
        case Not(child=child):
            return f"not ({_explain(child)})"
        case FieldLeaf():
            return _field(node)
        case TagLeaf(name=name):
            return f"tagged “{name}”"
        case SegmentLeaf(slug=slug):
            return f"in segment “{slug}”"
        case IntentLeaf(name=name, min_score=score):
            return f"shows {name} intent (score at least {score:g})"
        case TouchpointLeaf():
            return _touchpoint(node)
    return "(invalid condition)"


def _join(parts: list[str], word: str, top: bool) -> str:
    if len(parts) == 1:
        return parts[0]
    sentence = ", ".join(parts[:-1]) + f", {word} " + parts[-1] if len(parts) > 2 else f" {word} ".join(parts)
    return sentence if top else f"({sentence})"


def _field_name(path: str) -> str:
    if path in FIELD_NAMES:
        return FIELD_NAMES[path]
    for prefix in ("account.attributes.", "attributes.", "properties."):
        if path.startswith(prefix):
            return path[len(prefix) :].replace("_", " ")
    return path.replace("_", " ")


def _value(value) -> str:
    if isinstance(value, tuple):
        return " or ".join(_value(item) for item in value)
    if isinstance(value, RelativeDate):
        if not value.offset:
            return "now"
        days = abs(value.offset.total_seconds()) / 86400
        amount = f"{days:g} days" if days >= 1 else f"{abs(value.offset.total_seconds()) / 3600:g} hours"
        return f"{amount} ago" if value.offset.total_seconds() < 0 else f"in {amount}"
    if isinstance(value, datetime):
        return (
            value.strftime("%-d %b %Y")
            if value.hour == value.minute == 0
            else value.strftime("%-d %b %Y %H:%M")
        )
    if isinstance(value, Duration):
        return _duration(value)
    return str(value)


def _duration(duration: Duration) -> str:
    unit = UNIT_WORDS[duration.unit]
    return f"{duration.amount} {unit}{'s' if duration.amount != 1 else ''}"


def _field(leaf: FieldLeaf) -> str:
    return f"{_field_name(leaf.path)} {_predicate(leaf)}"


def _predicate(leaf: FieldLeaf) -> str:
    match leaf.op:
        case "is_set":
            return "is set"
        case "is_not_set":
            return "is not set"
        case "in":
            return f"is {_value(leaf.value)}"
        case "not_in":
            return f"is none of {', '.join(_value(item) for item in leaf.value)}"
        case "between":
            low, high = leaf.value
            return f"is between {_value(low)} and {_value(high)}"
        case "within_last":
            return f"in the last {_value(leaf.value)}"
        case "older_than":
            return f"more than {_value(leaf.value)} ago"
    words = OPERATOR_WORDS[leaf.op]
    if leaf.kind == "date" and leaf.op in DATE_OPERATOR_WORDS:
        words = DATE_OPERATOR_WORDS[leaf.op]
    return f"{words} {_value(leaf.value)}"


def _times(count: Count) -> str:
    if count == Count():
        return ""
    if count.op == "eq" and count.value == 0:
        return "no times"
    number = {1: "once", 2: "twice"}.get(count.value, f"{count.value} times")
    return f"{COUNT_WORDS[count.op]} {number}"


def _touchpoint(leaf: TouchpointLeaf) -> str:
    spec = leaf.filter
    if len(spec.kinds) == 1:
        action = KIND_VERBS.get(spec.kinds[0], f"had a {spec.kinds[0].replace('_', ' ')}")
    elif spec.kinds:
        action = "had a " + " or ".join(kind.replace("_", " ") for kind in spec.kinds)
    else:
        action = "had any touchpoint"
    details = [_field(where) for where in spec.where]
    if spec.channels:
        details.append(f"on {' or '.join(spec.channels)}")
    if spec.sources:
        details.append(f"from {' or '.join(spec.sources)}")
    if spec.intents:
        details.append(f"with {' or '.join(spec.intents)} intent")
    sentence = action + (f" ({', '.join(details)})" if details else "")
    if leaf.count.op == "eq" and leaf.count.value == 0:
        sentence = (
            "did not "
            + sentence.replace("viewed", "view")
            .replace("clicked", "click")
            .replace("opened", "open")
            .replace("registered", "register")
            .replace("had", "have")
            + " at all"
        )
    elif times := _times(leaf.count):
        sentence += f" {times}"
    if leaf.within is not None:
        sentence += f" in the last {_duration(leaf.within)}"
    subject = "someone at the same company " if leaf.account_wide else ""
    return subject + sentence
