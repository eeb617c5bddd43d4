"""What a condition tree reads: the fields, touchpoint kinds, tags, segments and intents
whose change can change its answer for a contact. Segments keep this at save time, so
that a change re-evaluates only the segments it can affect."""

from __future__ import annotations

from dataclasses import dataclass, field

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

TIME_OPS = {"within_last", "older_than"}


@dataclass
class Reads:
    fields: set[str] = field(default_factory=set)  # contact paths: country, account.name, attributes.plan
    kinds: set[str] = field(default_factory=set)
    any_touchpoint: bool = False  # a touchpoint condition without a kind reads every kind
    account_touchpoints: bool = False
    tags: set[str] = field(default_factory=set)  # lower case
    segments: set[str] = field(default_factory=set)
    intents: set[str] = field(default_factory=set)
    uses_time: bool = False  # the answer changes with the clock alone


def reads_of(node: Node | None) -> Reads:
    reads = Reads()
    _walk(node, reads)
    return reads


def _walk(node: Node | None, reads: Reads) -> None:
    match node:
        case All(children=children) | Any_(children=children):
            for child in children:
                _walk(child, reads)
        case Not(child=child):
            _walk(child, reads)
        case FieldLeaf():
            reads.fields.add(node.path)
            reads.uses_time |= _timed(node)
        case TagLeaf(name=name):
            reads.tags.add(name.lower())
        case SegmentLeaf(slug=slug):
            reads.segments.add(slug)
        case IntentLeaf(name=name):
            reads.intents.add(name.lower())
            reads.uses_time = True  # scores decay with time
        case TouchpointLeaf():
            if node.filter.kinds:
                reads.kinds.update(node.filter.kinds)
            else:
                reads.any_touchpoint = True
            reads.account_touchpoints |= node.account_wide
            reads.uses_time |= node.within is not None or any(_timed(leaf) for leaf in node.filter.where)


def _timed(leaf: FieldLeaf) -> bool:
    if leaf.op in TIME_OPS:
        return True
    values = leaf.value if isinstance(leaf.value, tuple) else (leaf.value,)
    return any(isinstance(value, RelativeDate) for value in values)
