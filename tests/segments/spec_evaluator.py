"""A plain Python reading of shared/spec/conditions.md, written for the tests only: it
evaluates a parsed tree over contacts held in memory, one at a time, the slow and obvious
way. The compiled SQL must agree with it on every tree and every contact."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from segments.conditions.schema import (
    All,
    Any_,
    FieldLeaf,
    IntentLeaf,
    Node,
    Not,
    RelativeDate,
    SegmentLeaf,
    TagLeaf,
    TouchpointLeaf,
)

NUMBER = re.compile(r"^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$")
MISSING = object()


@dataclass
class Touch:
    kind: str
    channel: str
    source: str
    occurred_at: datetime
    text: str = ""
    intent: str = ""
    properties: dict = field(default_factory=dict)


@dataclass
class Person:
    pk: int
    fields: dict[str, Any]  # condition paths -> stored values ("" for an empty text)
    attributes: dict[str, Any]
    account: dict[str, Any] | None  # {"id", "name", "employees", "attributes"}
    tags: set[str]
    touches: list[Touch]


def evaluate(node: Node, person: Person, everyone: list[Person], now: datetime) -> bool:
    match node:
        case All(children=children):
            return all(evaluate(child, person, everyone, now) for child in children)
        case Any_(children=children):
            return any(evaluate(child, person, everyone, now) for child in children)
        case Not(child=child):
            return not evaluate(child, person, everyone, now)
        case TagLeaf(name=name):
            return name.lower() in {tag.lower() for tag in person.tags}
        case IntentLeaf():
            return False
        case SegmentLeaf():
            raise NotImplementedError
        case FieldLeaf():
            return leaf(node, _contact_value(node.path, person), now)
        case TouchpointLeaf():
            if node.account_wide:
                if person.account is None:
                    touches = []
                else:
                    touches = [
                        touch
                        for other in everyone
                        if other.account is not None and other.account["id"] == person.account["id"]
                        for touch in other.touches
                    ]
            else:
                touches = person.touches
            count = sum(1 for touch in touches if _touch_matches(node, touch, now))
            return _compare(count, node.count.op, node.count.value)
    raise TypeError(node)


def _compare(count: int, op: str, value: int) -> bool:
    return {
        "gte": count >= value,
        "gt": count > value,
        "eq": count == value,
        "lte": count <= value,
        "lt": count < value,
    }[op]


def _touch_matches(node: TouchpointLeaf, touch: Touch, now: datetime) -> bool:
    spec = node.filter
    if spec.kinds and touch.kind not in spec.kinds:
        return False
    for values, actual in (
        (spec.channels, touch.channel),
        (spec.sources, touch.source),
        (spec.intents, touch.intent),
    ):
        if values and actual.lower() not in {value.lower() for value in values}:
            return False
    if node.within is not None and touch.occurred_at < now - node.within.delta:
        return False
    for where in spec.where:
        if where.path.startswith("properties."):
            value = touch.properties.get(where.path[len("properties.") :], MISSING)
            value = ("json", value)
        else:
            value = getattr(touch, where.path)
        if not leaf(where, value, now):
            return False
    return True


def _contact_value(path: str, person: Person) -> Any:
    if path.startswith("attributes."):
        return ("json", person.attributes.get(path[len("attributes.") :], MISSING))
    if path.startswith("account."):
        if person.account is None:
            return ("json", MISSING) if path.startswith("account.attributes.") else None
        if path.startswith("account.attributes."):
            return ("json", person.account["attributes"].get(path[len("account.attributes.") :], MISSING))
        return person.account[path[len("account.") :]]
    return person.fields[path]


NEGATIONS = {"neq": "eq", "not_in": "in", "not_contains": "contains", "is_not_set": "is_set"}


def leaf(node: FieldLeaf, value: Any, now: datetime) -> bool:
    if node.op in NEGATIONS:
        positive = FieldLeaf(node.path, NEGATIONS[node.op], node.value, node.kind, node.scope)
        return not leaf(positive, value, now)
    if isinstance(value, tuple) and value and value[0] == "json":
        return _json_leaf(node, value[1], now)
    if value is None or value == "":
        return False
    return _plain(node.op, value, node.value, now)


def _resolve(value: Any, now: datetime) -> Any:
    return value.resolve(now) if isinstance(value, RelativeDate) else value


def _plain(op: str, value: Any, given: Any, now: datetime) -> bool:
    """value is present; text compares case-insensitively."""
    if isinstance(value, str):
        text = value.lower()
        match op:
            case "is_set":
                return True
            case "eq":
                return text == _text(given).lower()
            case "in":
                return any(text == _text(item).lower() for item in given)
            case "contains":
                return given.lower() in text
            case "starts_with":
                return text.startswith(given.lower())
            case "ends_with":
                return text.endswith(given.lower())
        raise AssertionError(op)
    match op:
        case "is_set":
            return True
        case "eq":
            return value == _resolve(given, now)
        case "in":
            return any(value == _resolve(item, now) for item in given)
        case "gt":
            return value > _resolve(given, now)
        case "gte":
            return value >= _resolve(given, now)
        case "lt":
            return value < _resolve(given, now)
        case "lte":
            return value <= _resolve(given, now)
        case "between":
            return _resolve(given[0], now) <= value <= _resolve(given[1], now)
        case "within_last":
            return now - given.delta <= value <= now
        case "older_than":
            return value < now - given.delta
        case "contains" | "starts_with" | "ends_with":
            return _plain(op, str(value), given, now)
    raise AssertionError(op)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _json_text(value: Any) -> str | None:
    if value is MISSING or value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return text or None


def _json_number(value: Any) -> float | None:
    if isinstance(value, bool) or value is MISSING or value is None:
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str) and NUMBER.match(value):
        return float(value)
    return None


def _json_date(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _json_equal(value: Any, given: Any, now: datetime) -> bool:
    if isinstance(given, bool):
        return isinstance(value, bool) and value == given
    if isinstance(given, (int, float)):
        number = _json_number(value)
        return number is not None and number == given
    if isinstance(given, (datetime, RelativeDate)):
        date = _json_date(value)
        return date is not None and date == _resolve(given, now)
    text = _json_text(value)
    return text is not None and text.lower() == str(given).lower()


def _json_leaf(node: FieldLeaf, value: Any, now: datetime) -> bool:
    op, given = node.op, node.value
    match op:
        case "is_set":
            return _json_text(value) is not None or isinstance(value, (dict, list))
        case "eq":
            return _json_equal(value, given, now)
        case "in":
            return any(_json_equal(value, item, now) for item in given)
        case "contains" | "starts_with" | "ends_with":
            text = _json_text(value)
            return text is not None and _plain(op, text, given, now)
        case "gt" | "gte" | "lt" | "lte" | "between":
            sample = given[0] if op == "between" else given
            found = _json_date(value) if isinstance(sample, (datetime, RelativeDate)) else _json_number(value)
            return found is not None and _plain(op, found, given, now)
        case "within_last" | "older_than":
            found = _json_date(value)
            return found is not None and _plain(op, found, given, now)
    raise AssertionError(op)
