"""A parsed condition tree as ONE SQL predicate over contacts.

The predicate reads the contact as `c` (contacts_contact), its account as `a` and its
owner as `u` (both LEFT JOINed only when the tree needs them, see `from_sql`).

Two-valued logic: every leaf is wrapped so that it is true or false, never NULL (a
missing value makes the positive form false), and each negated operator is written as
NOT of its positive form. `NOT`, `AND` and `OR` over such leaves can then never let SQL's
unknown leak out, which is what makes `{"not": X}` the exact complement of X.

Two shapes for counting touchpoints, with one meaning:
- "set" (a whole segment): the contacts with enough touchpoints are found in one grouped
  pass over the touchpoints, which PostgreSQL hashes, instead of one count per contact;
- "one" (a few contacts): a count per contact through the timeline index, stopping as soon
  as the answer is known.
"""

# Every fragment below is assembled from this module's own constants; every value from a
# tree travels as a query parameter.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

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
    TouchpointFilter,
    TouchpointLeaf,
)

CONTACT_TEXT_COLUMNS = {
    "email": "c.email", "first_name": "c.first_name", "last_name": "c.last_name", "phone": "c.phone",
    "job_title": "c.job_title", "city": "c.city", "country": "c.country", "timezone": "c.timezone",
    "lifecycle_stage": "c.lifecycle_stage", "source": "c.source", "consent.email": "c.consent_email",
    "consent.sms": "c.consent_sms", "owner": "u.username", "account.name": "a.name",
    "account.domain": "a.domain", "account.industry": "a.industry", "account.country": "a.country",
}  # fmt: skip
CONTACT_OTHER_COLUMNS = {
    "score": "c.score",
    "account.employees": "a.employees",
    "created_at": "c.created_at",
    "updated_at": "c.updated_at",
}
TOUCHPOINT_COLUMNS = {
    "kind": "t.kind_id",
    "channel": "t.channel",
    "source": "t.source",
    "text": "t.text",
    "intent": "t.intent",
    "occurred_at": "t.occurred_at",
}
JSON_COLUMNS = {
    "attributes.": "c.attributes",
    "account.attributes.": "a.attributes",
    "properties.": "t.properties",
}
NEGATIONS = {"neq": "eq", "not_in": "in", "not_contains": "contains", "is_not_set": "is_set"}
# A JSON string that reads as a number compares as one; anything else never does.
NUMBER_PATTERN = r"^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$"
# The same test in SQL/JSON path, where a string literal escapes its backslashes.
JSON_NUMBER = (
    '(@.type() == "number" || (@.type() == "string" && @ like_regex "'
    + NUMBER_PATTERN.replace("\\", "\\\\")
    + '"))'
)


@dataclass
class Compiled:
    sql: str
    params: list[Any]
    joins: set[str] = field(default_factory=set)  # "account", "owner"

    def from_sql(self) -> str:
        return from_sql(self.joins)


def from_sql(joins: set[str]) -> str:
    sql = "contacts_contact c"
    if "account" in joins:
        sql += " LEFT JOIN contacts_account a ON a.id = c.account_id"
    if "owner" in joins:
        sql += " LEFT JOIN auth_user u ON u.id = c.owner_id"
    return sql


def compile_tree(
    node: Node,
    *,
    now: datetime,
    segment_ids: Mapping[str, int],
    mode: str = "set",
) -> Compiled:
    """The predicate for `node`. `segment_ids` maps the slugs the tree names to ids."""
    compiler = _Compiler(now=now, segment_ids=segment_ids, mode=mode)
    sql = compiler.node(node)
    return Compiled(sql=sql, params=compiler.params, joins=compiler.joins)


class _Compiler:
    def __init__(self, *, now: datetime, segment_ids: Mapping[str, int], mode: str) -> None:
        assert mode in ("set", "one")
        self.now = now
        self.segment_ids = segment_ids
        self.mode = mode
        self.params: list[Any] = []
        self.joins: set[str] = set()

    def param(self, value: Any) -> str:
        if isinstance(value, RelativeDate):
            value = value.resolve(self.now)
        self.params.append(value)
        return "%s"

    # --- the tree ---------------------------------------------------------------------

    def node(self, node: Node) -> str:
        match node:
            case All(children=children):
                return self.combine(children, "AND")
            case Any_(children=children):
                return self.combine(children, "OR")
            case Not(child=child):
                inner = self.node(child)
                return {"TRUE": "FALSE", "FALSE": "TRUE"}.get(inner, f"(NOT {inner})")
            case FieldLeaf():
                return self.field(node)
            case TagLeaf(name=name):
                return (
                    "EXISTS (SELECT 1 FROM contacts_contacttag ct JOIN contacts_tag tg ON tg.id = ct.tag_id"
                    f" WHERE ct.contact_id = c.id AND lower(tg.name) = lower({self.param(name)}))"
                )
            case SegmentLeaf(slug=slug):
                return (
                    "EXISTS (SELECT 1 FROM segments_membership m"
                    f" WHERE m.segment_id = {self.param(self.segment_ids[slug])} AND m.contact_id = c.id)"
                )
            case IntentLeaf(name=name, min_score=min_score):
                # The stored score halves every half-life since it was stored (intents app).
                return (
                    "EXISTS (SELECT 1 FROM intents_intentsignal s JOIN intents_intent i ON i.id = s.intent_id"
                    f" WHERE s.contact_id = c.id AND lower(i.key) = lower({self.param(name)})"
                    " AND s.score * power(0.5, GREATEST(0, EXTRACT(EPOCH FROM"
                    f" ({self.param(self.now)}::timestamptz - s.updated_at))) / 3600.0 / i.half_life_hours)"
                    f" >= {self.param(min_score)})"
                )
            case TouchpointLeaf():
                return self.touchpoints(node)
        raise TypeError(f"not a condition node: {node!r}")

    def combine(self, children: tuple[Node, ...], operator: str) -> str:
        """AND / OR with the constants folded away (`{"any": []}`, "at least 0 times"):
        PostgreSQL turns `IN (subquery)` into a join only where it stands among ANDs, not
        under an `OR FALSE`. A dropped part takes its parameters with it."""
        start = len(self.params)
        pieces = []
        for child in children:
            before = len(self.params)
            sql = self.node(child)
            pieces.append((sql, self.params[before:]))
        del self.params[start:]
        neutral, absorbing = ("TRUE", "FALSE") if operator == "AND" else ("FALSE", "TRUE")
        if any(sql == absorbing for sql, _ in pieces):
            return absorbing
        kept = [(sql, params) for sql, params in pieces if sql != neutral]
        for _, params in kept:
            self.params.extend(params)
        if not kept:
            return neutral
        if len(kept) == 1:
            return kept[0][0]
        return "(" + f" {operator} ".join(sql for sql, _ in kept) + ")"

    # --- field leaves -----------------------------------------------------------------

    def field(self, leaf: FieldLeaf) -> str:
        positive = NEGATIONS.get(leaf.op)
        if positive is not None:
            return f"(NOT COALESCE({self.comparison(leaf, positive)}, FALSE))"
        return f"COALESCE({self.comparison(leaf, leaf.op)}, FALSE)"

    def comparison(self, leaf: FieldLeaf, op: str) -> str:
        """The positive comparison; NULL or false when the value is missing."""
        if leaf.kind == "json":
            return self.json_comparison(leaf, op)
        column = self.column(leaf)
        if leaf.kind == "text":
            value = f"NULLIF({column}, '')"
            return self.text_comparison(value, op, leaf.value)
        return self.ordered_comparison(column, op, leaf.value)

    def column(self, leaf: FieldLeaf) -> str:
        if leaf.scope == "touchpoint":
            return TOUCHPOINT_COLUMNS[leaf.path]
        column = CONTACT_TEXT_COLUMNS.get(leaf.path) or CONTACT_OTHER_COLUMNS[leaf.path]
        self.need(column)
        return column

    def need(self, column: str) -> None:
        if column.startswith("a."):
            self.joins.add("account")
        elif column.startswith("u."):
            self.joins.add("owner")

    def text_comparison(self, value: str, op: str, given: Any) -> str:
        match op:
            case "is_set":
                return f"({value} IS NOT NULL)"
            case "eq":
                return f"(lower({value}) = lower({self.param(_text(given))}))"
            case "in":
                items = ", ".join(f"lower({self.param(_text(item))})" for item in given)
                return f"(lower({value}) IN ({items}))"
            case "contains":
                return f"(strpos(lower({value}), lower({self.param(given)})) > 0)"
            case "starts_with":
                return f"starts_with(lower({value}), lower({self.param(given)}))"
            case "ends_with":
                return (
                    f"(right(lower({value}), char_length({self.param(given)})) = lower({self.param(given)}))"
                )
        raise ValueError(f"{op} does not apply to text")

    def ordered_comparison(self, value: str, op: str, given: Any) -> str:
        """Numbers and dates; also eq/in, which compare exactly."""
        match op:
            case "is_set":
                return f"({value} IS NOT NULL)"
            case "eq":
                return f"({value} = {self.param(given)})"
            case "in":
                return f"({value} IN ({', '.join(self.param(item) for item in given)}))"
            case "gt" | "gte" | "lt" | "lte":
                symbol = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[op]
                return f"({value} {symbol} {self.param(given)})"
            case "between":
                low, high = given
                return f"({value} BETWEEN {self.param(low)} AND {self.param(high)})"
            case "within_last":
                assert isinstance(given, Duration)
                return f"({value} BETWEEN {self.param(self.now - given.delta)} AND {self.param(self.now)})"
            case "older_than":
                assert isinstance(given, Duration)
                return f"({value} < {self.param(self.now - given.delta)})"
            case "contains" | "starts_with" | "ends_with":
                return self.text_comparison(f"NULLIF({value}::text, '')", op, given)
        raise ValueError(f"{op} does not apply here")

    # --- JSON values (attributes.*, account.attributes.*, properties.*) ------------------

    def json_comparison(self, leaf: FieldLeaf, op: str) -> str:
        for prefix, column in JSON_COLUMNS.items():
            if leaf.path.startswith(prefix):
                self.need(column)
                key = leaf.path[len(prefix) :]
                break
        else:  # pragma: no cover - the parser only lets these prefixes through
            raise ValueError(leaf.path)
        given = leaf.value

        def value() -> str:
            return f"({column} -> {self.param(key)})"

        # Each use of the value adds its own parameter: placeholders and parameters
        # must pair up one to one, in order.
        def as_text() -> str:
            return (
                f"(CASE WHEN jsonb_typeof({value()}) IN ('string', 'number', 'boolean')"
                f" THEN NULLIF({value()} #>> '{{}}', '') END)"
            )

        def number_test(condition: str, values: dict[str, Any]) -> str:
            """A numeric test in one pass over the JSON value: a number, or a string that
            reads as one, compared; anything else is false."""
            found = value()  # placeholders in the order they appear
            path = self.param(f"strict $ ? ({JSON_NUMBER} && {condition})")
            variables = ", ".join(f"'{name}', {self.param(number)}" for name, number in values.items())
            return f"jsonb_path_exists({found}, {path}::jsonpath, jsonb_build_object({variables}), true)"

        def as_date() -> str:
            return (
                f"(CASE WHEN jsonb_typeof({value()}) = 'string'"
                f" THEN segments_try_timestamptz({value()} #>> '{{}}') END)"
            )

        def typed(item: Any) -> str:
            """The value compared with `item` as the item's own kind."""
            if isinstance(item, bool):
                return f"({value()} = {self.param('true' if item else 'false')}::jsonb)"
            if isinstance(item, (int, float)):
                return number_test("@.double() == $v", {"v": item})
            if isinstance(item, (datetime, RelativeDate)):
                return f"({as_date()} = {self.param(item)})"
            return f"(lower({as_text()}) = lower({self.param(_text(item))}))"

        match op:
            case "is_set":
                return f"({as_text()} IS NOT NULL OR jsonb_typeof({value()}) IN ('object', 'array'))"
            case "eq":
                return typed(given)
            case "in":
                return "(" + " OR ".join(typed(item) for item in given) + ")"
            case "contains" | "starts_with" | "ends_with":
                return self.text_comparison(as_text(), op, given)
            case "gt" | "gte" | "lt" | "lte" | "between":
                sample = given[0] if op == "between" else given
                if isinstance(sample, (datetime, RelativeDate)):
                    return self.ordered_comparison(as_date(), op, given)
                if op == "between":
                    return number_test(
                        "@.double() >= $low && @.double() <= $high", {"low": given[0], "high": given[1]}
                    )
                symbol = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[op]
                return number_test(f"@.double() {symbol} $v", {"v": given})
            case "within_last" | "older_than":
                return self.ordered_comparison(as_date(), op, given)
        raise ValueError(f"{op} does not apply to {leaf.path}")

    # --- touchpoints ----------------------------------------------------------------------

    def touchpoint_filter(self, spec: TouchpointFilter, within: Duration | None) -> str:
        parts = []
        if spec.kinds:
            parts.append(f"t.kind_id IN ({', '.join(self.param(kind) for kind in spec.kinds)})")
        for column, values in (
            ("t.channel", spec.channels),
            ("t.source", spec.sources),
            ("t.intent", spec.intents),
        ):
            if values:
                items = ", ".join(f"lower({self.param(item)})" for item in values)
                parts.append(f"lower({column}) IN ({items})")
        parts.extend(self.field(leaf) for leaf in spec.where)
        if within is not None:
            parts.append(f"t.occurred_at >= {self.param(self.now - within.delta)}")
        return " AND ".join(parts) or "TRUE"

    def touchpoints(self, leaf: TouchpointLeaf) -> str:
        """The count compared, as `at least N` (or exactly N) and its negation."""
        exact, threshold, negate = _count_shape(leaf.count)
        if threshold is None:  # "at least 0": everyone; its negation ("fewer than 0"): no one
            return "FALSE" if negate else "TRUE"
        test = self.count_test(leaf, threshold, exact=exact)
        return f"(NOT {test})" if negate else test

    def count_test(self, leaf: TouchpointLeaf, threshold: int, *, exact: bool) -> str:
        if leaf.account_wide:
            scope = "JOIN contacts_contact c2 ON c2.id = t.contact_id"
            owner, key, match = "c2.account_id", "c.account_id", "c2.account_id = c.account_id"
        else:
            scope, owner, key, match = "", "t.contact_id", "c.id", "t.contact_id = c.id"
        condition = self.touchpoint_filter(leaf.filter, leaf.within)
        if threshold == 1 and not exact:
            return f"EXISTS (SELECT 1 FROM contacts_touchpoint t {scope} WHERE {match} AND {condition})"
        compare = "=" if exact else ">="
        if self.mode == "set":
            # Never NULL: the key is tested for NULL first and the list holds none, so the
            # IN can stay bare, which lets PostgreSQL plan it as a semi-join.
            return (
                f"({key} IS NOT NULL AND {key} IN (SELECT {owner} FROM contacts_touchpoint t {scope}"
                f" WHERE {owner} IS NOT NULL AND {condition}"
                f" GROUP BY {owner} HAVING count(*) {compare} {threshold}))"
            )
        # One contact: count no further than the answer needs.
        return (
            f"((SELECT count(*) FROM (SELECT 1 FROM contacts_touchpoint t {scope}"
            f" WHERE {match} AND {condition} LIMIT {threshold + 1}) counted) {compare} {threshold})"
        )


def _count_shape(count: Count) -> tuple[bool, int | None, bool]:
    """(exact, threshold, negate): the comparison as "count >= threshold" or "count =
    threshold", possibly negated. threshold None: "count >= 0", always true."""
    op, n = count.op, count.value
    match op:
        case "gte":
            return False, (n if n > 0 else None), False
        case "gt":
            return False, n + 1, False
        case "lt":
            return False, (n if n > 0 else None), True
        case "lte":
            return False, n + 1, True
        case "eq":
            return (False, 1, True) if n == 0 else (True, n, False)
    raise ValueError(op)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
