"""Condition trees against the database: parse with what exists, compile, run.

One semantics everywhere: a segment's rebuild, a preview, one contact's evaluation and
the per-node "why" all run the predicate of `segments.conditions.compiler`.
"""

# ruff: noqa: S608 - the SQL is the compiler's, every value a parameter

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection

from contacts.models import TouchpointKind
from segments.conditions.compiler import Compiled, compile_tree, from_sql
from segments.conditions.explain import explain
from segments.conditions.schema import (
    All,
    Any_,
    Node,
    Not,
    Vocabulary,
    parse,
)
from segments.models import Segment


@dataclass(frozen=True)
class Known:
    """What a tree is checked and compiled against: the kinds and segments that exist.
    Loaded once per batch of evaluations, not once per segment."""

    vocabulary: Vocabulary
    segment_ids: dict[str, int]

    @classmethod
    def load(cls) -> Known:
        segment_ids = dict(Segment.objects.values_list("slug", "id"))
        kinds = set(TouchpointKind.objects.values_list("key", flat=True))
        return cls(Vocabulary(kinds=kinds, segments=set(segment_ids)), segment_ids)


def parsed(tree: Any, *, exclude_slug: str | None = None, known: Known | None = None) -> Node:
    """The tree as nodes, or ConditionError with every problem and its path."""
    vocabulary = (known or Known.load()).vocabulary
    if exclude_slug:
        vocabulary = Vocabulary(kinds=vocabulary.kinds, segments=set(vocabulary.segments) - {exclude_slug})
    return parse(tree, vocabulary)


def compiled(node: Node, *, now: datetime, mode: str = "set", known: Known | None = None) -> Compiled:
    segment_ids = (known or Known.load()).segment_ids
    return compile_tree(node, now=now, segment_ids=segment_ids, mode=mode)


def matching_ids_sql(
    node: Node, *, now: datetime, contact_ids: bool = False, known: Known | None = None
) -> tuple[str, list[Any]]:
    """SELECT c.id of every matching contact (or, with contact_ids, of those among the
    list given as the last parameter)."""
    plan = compiled(node, now=now, mode="one" if contact_ids else "set", known=known)
    sql = f"SELECT c.id FROM {plan.from_sql()} WHERE {plan.sql}"
    if contact_ids:
        sql += " AND c.id = ANY(%s)"
    return sql, plan.params


@dataclass(frozen=True)
class Preview:
    count: int
    sample: list[dict]
    explanation: str


def preview(node: Node, *, now: datetime, sample_size: int = 10) -> Preview:
    sql, params = matching_ids_sql(node, now=now)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ({sql}) matching", params)
        count = cursor.fetchone()[0]
        cursor.execute(
            "SELECT c.id, c.email, c.first_name, c.last_name FROM contacts_contact c"
            f" WHERE c.id IN ({sql}) ORDER BY c.id DESC LIMIT %s",
            [*params, sample_size],
        )
        sample = [
            {"id": row[0], "email": row[1], "first_name": row[2], "last_name": row[3]}
            for row in cursor.fetchall()
        ]
    return Preview(count=count, sample=sample, explanation=explain(node))


def matches(node: Node, *, contact_id: int, now: datetime, known: Known | None = None) -> bool:
    """The tree for one contact: the same SQL as a whole segment, restricted to the contact."""
    sql, params = matching_ids_sql(node, now=now, contact_ids=True, known=known)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, [contact_id]])
        return cursor.fetchone() is not None


@dataclass(frozen=True)
class NodeResult:
    """One node of the tree, what it says in words, and whether it holds for the contact."""

    path: str
    text: str
    result: bool
    children: tuple[NodeResult, ...] = ()


def matching_contacts(tree: Any, *, contact_ids, now: datetime, known: Known | None = None) -> set[int]:
    """Those of the contacts for whom a condition tree holds: the segments' own SQL, one query."""
    if not contact_ids:
        return set()
    sql, params = matching_ids_sql(parsed(tree, known=known), now=now, contact_ids=True, known=known)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, list(contact_ids)])
        return {row[0] for row in cursor.fetchall()}


def holds_for(tree: Any, *, contact_id: int, now: datetime, known: Known | None = None) -> bool:
    """A condition tree for one contact: the segments' own evaluation."""
    return matches(parsed(tree, known=known), contact_id=contact_id, now=now, known=known)


def why(node: Node, *, contact_id: int, now: datetime) -> NodeResult:
    """Every node's answer for one contact, in one query: the contact page's "why"."""
    flat: list[tuple[str, Node]] = []
    _flatten(node, "", flat)
    columns, params, joins = [], [], set()
    known = Known.load()
    for _, part in flat:
        plan = compiled(part, now=now, mode="one", known=known)
        columns.append(plan.sql)
        params.extend(plan.params)
        joins |= plan.joins
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(columns)} FROM {from_sql(joins)} WHERE c.id = %s", [*params, contact_id]
        )
        row = cursor.fetchone()
    if row is None:
        raise LookupError(f"no contact {contact_id}")
    results = dict(zip((path for path, _ in flat), row, strict=True))
    return _assemble(node, "", results)


def _children(node: Node) -> Iterable[tuple[str, Node]]:
    match node:
        case All(children=children):
            return ((f"all[{index}]", child) for index, child in enumerate(children))
        case Any_(children=children):
            return ((f"any[{index}]", child) for index, child in enumerate(children))
        case Not(child=child):
            return (("not", child),)
    return ()


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _flatten(node: Node, path: str, out: list) -> None:
    out.append((path, node))
    for key, child in _children(node):
        _flatten(child, _join(path, key), out)


def _assemble(node: Node, path: str, results: dict[str, bool]) -> NodeResult:
    children = tuple(_assemble(child, _join(path, key), results) for key, child in _children(node))
    return NodeResult(path=path, text=explain(node), result=bool(results[path]), children=children)
