"""Parse a condition tree into frozen dataclasses, collecting every error with its path
inside the tree (`all[2].touchpoint.kind: unknown kind 'wbinar'`).

Parsing is pure: what exists in the database (touchpoint kinds, segment slugs, intents)
is passed in as a `Vocabulary`, so the same tree gets the same verdict everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

# --- the vocabulary the tree is checked against ------------------------------------

CONTACT_FIELDS = {
    "email": "text", "first_name": "text", "last_name": "text", "phone": "text", "job_title": "text",
    "city": "text", "country": "text", "timezone": "text", "lifecycle_stage": "text", "source": "text",
    "score": "number", "owner": "text", "created_at": "date", "updated_at": "date",
    "consent.email": "text", "consent.sms": "text",
    "account.name": "text", "account.domain": "text", "account.industry": "text",
    "account.employees": "number", "account.country": "text",
}  # fmt: skip
TOUCHPOINT_FIELDS = {
    "kind": "text",
    "channel": "text",
    "source": "text",
    "occurred_at": "date",
    "text": "text",
    "intent": "text",
}
JSON_PREFIXES = {"contact": ("attributes.", "account.attributes."), "touchpoint": ("properties.",)}

SCALAR_OPS = {"eq", "neq"}
LIST_OPS = {"in", "not_in"}
TEXT_OPS = {"contains", "not_contains", "starts_with", "ends_with"}
ORDER_OPS = {"gt", "gte", "lt", "lte"}
PRESENCE_OPS = {"is_set", "is_not_set"}
DURATION_OPS = {"within_last", "older_than"}
OPERATORS = SCALAR_OPS | LIST_OPS | TEXT_OPS | ORDER_OPS | PRESENCE_OPS | DURATION_OPS | {"between"}
COUNT_OPS = {"gte", "gt", "eq", "lte", "lt"}
FILTER_KEYS = ("kind", "channel", "source", "intent")
DEFAULT_MIN_SCORE = 0.5
MAX_DEPTH = 32  # deeper than any tree a person builds; bounds the recursion below

_DURATION = re.compile(r"^(\d{1,6})([mhdw])$")
_RELATIVE = re.compile(r"^now(?:([+-])(\d{1,6})([mhdw]))?$")
_UNIT = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True)
class Vocabulary:
    kinds: Collection[str] | None = ()  # None: any kind is accepted
    segments: Collection[str] | None = ()  # None: any slug is accepted
    intents: Collection[str] | None = None  # None: any intent name is accepted


# Reading a stored tree to explain it, without checking it against what exists now.
LENIENT = Vocabulary(kinds=None, segments=None, intents=None)


# --- the nodes ------------------------------------------------------------------------


@dataclass(frozen=True)
class Duration:
    amount: int
    unit: str  # m h d w

    @property
    def delta(self) -> timedelta:
        return timedelta(**{_UNIT[self.unit]: self.amount})


@dataclass(frozen=True)
class RelativeDate:
    """`now`, `now-30d`: resolved when the query runs, not when the tree is saved."""

    offset: timedelta

    def resolve(self, now: datetime) -> datetime:
        return now + self.offset


Value = str | int | float | bool | datetime | RelativeDate | Duration | tuple | None


@dataclass(frozen=True)
class FieldLeaf:
    path: str
    op: str
    value: Value = None
    kind: str = "text"  # text, number, date, json
    scope: str = "contact"  # contact or touchpoint


@dataclass(frozen=True)
class All:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Any_:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class TagLeaf:
    name: str


@dataclass(frozen=True)
class SegmentLeaf:
    slug: str


@dataclass(frozen=True)
class TouchpointFilter:
    kinds: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    intents: tuple[str, ...] = ()
    where: tuple[FieldLeaf, ...] = ()


@dataclass(frozen=True)
class Count:
    op: str = "gte"
    value: int = 1


@dataclass(frozen=True)
class TouchpointLeaf:
    filter: TouchpointFilter
    count: Count = field(default_factory=Count)
    within: Duration | None = None
    account_wide: bool = False


@dataclass(frozen=True)
class IntentLeaf:
    name: str
    min_score: float = DEFAULT_MIN_SCORE


Node = All | Any_ | Not | FieldLeaf | TagLeaf | SegmentLeaf | TouchpointLeaf | IntentLeaf


class ConditionError(ValueError):
    """Every problem found in a tree, each with its path."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{path}: {message}" if path else message for path, message in errors))


# --- parsing --------------------------------------------------------------------------


def parse(tree: Any, vocabulary: Vocabulary | None = None) -> Node:
    """The tree as typed nodes, or ConditionError listing every problem at once."""
    parser = _Parser(vocabulary or Vocabulary())
    node = parser.node(tree, "")
    if parser.errors:
        raise ConditionError(parser.errors)
    return node


def validate(tree: Any, vocabulary: Vocabulary | None = None) -> list[tuple[str, str]]:
    """[(path, message), ...]; empty when the tree is valid."""
    try:
        parse(tree, vocabulary)
    except ConditionError as error:
        return error.errors
    return []


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class _Parser:
    def __init__(self, vocabulary: Vocabulary):
        self.vocabulary = vocabulary
        self.errors: list[tuple[str, str]] = []

    def fail(self, path: str, message: str) -> None:
        self.errors.append((path, message))

    def node(self, tree: Any, path: str, depth: int = 0) -> Node | None:
        if depth > MAX_DEPTH:
            self.fail(path, f"the conditions are nested deeper than {MAX_DEPTH} levels")
            return None
        if not isinstance(tree, dict):
            self.fail(path, f"expected a condition object, not {_type(tree)}")
            return None
        if "all" in tree or "any" in tree:
            key = "all" if "all" in tree else "any"
            self.only(tree, {key}, path)
            children = tree[key]
            if not isinstance(children, list):
                self.fail(_join(path, key), f"expected a list of conditions, not {_type(children)}")
                return None
            parsed = tuple(
                self.node(child, f"{_join(path, key)}[{index}]") for index, child in enumerate(children)
            )
            return All(parsed) if key == "all" else Any_(parsed)
        if "not" in tree:
            self.only(tree, {"not"}, path)
            return Not(self.node(tree["not"], _join(path, "not"), depth + 1))
        if "field" in tree:
            self.only(tree, {"field", "op", "value"}, path)
            return self.field_leaf(tree, path, scope="contact")
        if "tag" in tree:
            self.only(tree, {"tag"}, path)
            name = tree["tag"]
            if not isinstance(name, str) or not name.strip():
                self.fail(_join(path, "tag"), "expected a tag name")
                return None
            return TagLeaf(name.strip())
        if "segment" in tree:
            self.only(tree, {"segment"}, path)
            slug = tree["segment"]
            if not isinstance(slug, str) or not slug:
                self.fail(_join(path, "segment"), "expected a segment slug")
                return None
            if self.vocabulary.segments is not None and slug not in self.vocabulary.segments:
                self.fail(_join(path, "segment"), f"unknown segment {slug!r}")
            return SegmentLeaf(slug)
        if "touchpoint" in tree or "account_touchpoint" in tree:
            key = "touchpoint" if "touchpoint" in tree else "account_touchpoint"
            self.only(tree, {key, "count", "within"}, path)
            return self.touchpoint_leaf(tree, key, path)
        if "intent" in tree:
            self.only(tree, {"intent", "min_score"}, path)
            return self.intent_leaf(tree, path)
        known = "all, any, not, field, tag, segment, touchpoint, account_touchpoint, intent"
        keys = ", ".join(repr(key) for key in tree) or "no key"
        self.fail(path, f"unknown condition ({keys}); expected one of: {known}")
        return None

    def only(self, tree: dict, allowed: set[str], path: str) -> None:
        for key in tree:
            if key not in allowed:
                self.fail(_join(path, key), "unknown key here")

    # leaves --------------------------------------------------------------------------

    def field_leaf(self, tree: dict, path: str, *, scope: str) -> FieldLeaf | None:
        name = tree.get("field")
        op = tree.get("op")
        field_path = _join(path, "field")
        if not isinstance(name, str):
            self.fail(field_path, "expected a field path")
            return None
        kind = self.field_kind(name, scope)
        if kind is None:
            self.fail(field_path, f"unknown field {name!r}")
            return None
        if op not in OPERATORS:
            self.fail(
                _join(path, "op"), f"unknown operator {op!r}; expected one of {', '.join(sorted(OPERATORS))}"
            )
            return None
        value = self.value(tree, op, kind, _join(path, "value"))
        return FieldLeaf(path=name, op=op, value=value, kind=kind, scope=scope)

    def field_kind(self, name: str, scope: str) -> str | None:
        fields = CONTACT_FIELDS if scope == "contact" else TOUCHPOINT_FIELDS
        if name in fields:
            return fields[name]
        for prefix in JSON_PREFIXES[scope]:
            if name.startswith(prefix) and len(name) > len(prefix):
                return "json"
        return None

    def value(self, tree: dict, op: str, kind: str, path: str) -> Value:
        has_value = "value" in tree
        value = tree.get("value")
        if op in PRESENCE_OPS:
            if has_value and value is not None:
                self.fail(path, f"{op} takes no value")
            return None
        if not has_value:
            self.fail(path, f"{op} needs a value")
            return None
        if op in DURATION_OPS:
            if kind not in ("date", "json"):
                self.fail(path, f"{op} compares dates; this field is not a date")
            return self.duration(value, path)
        if op in LIST_OPS:
            if not isinstance(value, list) or not value:
                self.fail(path, f"{op} needs a non-empty list of values")
                return None
            return tuple(self.scalar(item, kind, f"{path}[{index}]") for index, item in enumerate(value))
        if op == "between":
            if not isinstance(value, list) or len(value) != 2:
                self.fail(path, "between needs [low, high]")
                return None
            return (self.ordered(value[0], kind, f"{path}[0]"), self.ordered(value[1], kind, f"{path}[1]"))
        if op in TEXT_OPS:
            if not isinstance(value, str):
                self.fail(path, f"{op} needs a text value, not {_type(value)}")
                return None
            return value
        if op in ORDER_OPS:
            return self.ordered(value, kind, path)
        return self.scalar(value, kind, path)

    def scalar(self, value: Any, kind: str, path: str) -> Value:
        if isinstance(value, (dict, list)) or value is None:
            self.fail(path, f"expected a single value, not {_type(value)}")
            return None
        if kind == "number" and not _is_number(value):
            self.fail(path, f"expected a number, not {value!r}")
            return None
        if kind == "date":
            return self.date(value, path)
        return value

    def ordered(self, value: Any, kind: str, path: str) -> Value:
        if kind == "date" or (kind == "json" and isinstance(value, str) and not _is_number(value)):
            return self.date(value, path)
        if kind == "text":
            self.fail(path, "ordered comparisons need a number or a date field")
            return None
        if not _is_number(value):
            self.fail(path, f"expected a number or a date, not {value!r}")
            return None
        return value

    def date(self, value: Any, path: str) -> datetime | RelativeDate | None:
        if not isinstance(value, str):
            self.fail(
                path, f"expected a date (2026-11-23, 2026-11-23T10:00:00+01:00, now-30d), not {_type(value)}"
            )
            return None
        relative = _RELATIVE.match(value)
        if relative:
            sign, amount, unit = relative.groups()
            if not amount:
                return RelativeDate(timedelta(0))
            delta = timedelta(**{_UNIT[unit]: int(amount)})
            return RelativeDate(-delta if sign == "-" else delta)
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            self.fail(path, f"{value!r} is not a date (2026-11-23, 2026-11-23T10:00:00+01:00, now-30d)")
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

    def duration(self, value: Any, path: str) -> Duration | None:
        match = _DURATION.match(value) if isinstance(value, str) else None
        if not match:
            self.fail(path, f"expected a duration like '30d' (m, h, d or w), not {value!r}")
            return None
        return Duration(int(match.group(1)), match.group(2))

    def touchpoint_leaf(self, tree: dict, key: str, path: str) -> TouchpointLeaf | None:
        spec = tree[key]
        filter_path = _join(path, key)
        if not isinstance(spec, dict):
            self.fail(filter_path, f"expected a filter object, not {_type(spec)}")
            return None
        self.only(spec, {*FILTER_KEYS, "where"}, filter_path)
        lists = {}
        for name in FILTER_KEYS:
            raw = spec.get(name, [])
            values = [raw] if isinstance(raw, str) else raw
            if not isinstance(values, list) or not all(isinstance(item, str) and item for item in values):
                self.fail(_join(filter_path, name), "expected a text or a list of texts")
                values = []
            lists[name] = tuple(values)
        for kind in lists["kind"]:
            if self.vocabulary.kinds is not None and kind not in self.vocabulary.kinds:
                self.fail(_join(filter_path, "kind"), f"unknown kind {kind!r}")
        where = spec.get("where", [])
        leaves = []
        if not isinstance(where, list):
            self.fail(_join(filter_path, "where"), "expected a list of field conditions")
        else:
            for index, leaf in enumerate(where):
                leaf_path = f"{_join(filter_path, 'where')}[{index}]"
                if not isinstance(leaf, dict) or "field" not in leaf:
                    self.fail(leaf_path, "expected a field condition")
                    continue
                self.only(leaf, {"field", "op", "value"}, leaf_path)
                parsed = self.field_leaf(leaf, leaf_path, scope="touchpoint")
                if parsed is not None:
                    leaves.append(parsed)
        count = Count()
        if "count" in tree:
            raw = tree["count"]
            count_path = _join(path, "count")
            if not isinstance(raw, dict) or set(raw) - {"op", "value"}:
                self.fail(count_path, 'expected {"op": "gte", "value": N}')
            elif raw.get("op", "gte") not in COUNT_OPS:
                self.fail(_join(count_path, "op"), f"expected one of {', '.join(sorted(COUNT_OPS))}")
            elif (
                not isinstance(raw.get("value"), int)
                or isinstance(raw.get("value"), bool)
                or raw["value"] < 0
            ):
                self.fail(_join(count_path, "value"), "expected a whole number, 0 or more")
            else:
                count = Count(raw.get("op", "gte"), raw["value"])
        within = None
        if "within" in tree:
            within = self.duration(tree["within"], _join(path, "within"))
        touchpoint_filter = TouchpointFilter(
            kinds=lists["kind"], channels=lists["channel"], sources=lists["source"], intents=lists["intent"],
            where=tuple(leaves),
        )  # fmt: skip
        return TouchpointLeaf(touchpoint_filter, count, within, account_wide=key == "account_touchpoint")

    def intent_leaf(self, tree: dict, path: str) -> IntentLeaf | None:
        name = tree["intent"]
        if not isinstance(name, str) or not name:
            self.fail(_join(path, "intent"), "expected an intent name")
            return None
        if self.vocabulary.intents is not None and name not in self.vocabulary.intents:
            self.fail(_join(path, "intent"), f"unknown intent {name!r}")
        min_score = tree.get("min_score", DEFAULT_MIN_SCORE)
        if not _is_number(min_score) or not 0 <= min_score <= 1:
            self.fail(_join(path, "min_score"), "expected a number between 0 and 1")
            min_score = DEFAULT_MIN_SCORE
        return IntentLeaf(name, float(min_score))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _type(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a text", bool: "true/false", type(None): "null"}.get(
        type(value), "a number"
    )
