"""What made a row, named without importing the app that made it.

A message in the outbox, a task for a person and a lead assignment point back to what
made them by a type and an id, as an action in the ledger points to its object: a
campaign's message says ("campaign", 12). The apps below campaigns (messaging, routing)
must not import it, yet they show the campaign's name and credit the ledger to it. So the
app that owns a type registers, when it loads, how to describe its rows: their name, the
actor that works through them, and where a person reads about them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from ledger.context import Actor


@dataclass(frozen=True)
class Origin:
    type: str
    id: int
    name: str  # what a person calls it: the campaign's name
    actor: Actor  # who the ledger credits with what is done in its name
    object_type: str  # what the ledger names it as the object of an action ("campaigns.campaign")
    url: str = ""  # where a person reads about it (the admin page), when there is one


Describer = Callable[[Collection[int]], dict[int, Origin]]

_describers: dict[str, Describer] = {}


def origin_type_register(origin_type: str, describer: Describer) -> None:
    """The owning app says how its rows are described: `describer(ids) -> {id: Origin}`,
    leaving out the ids that no longer exist."""
    _describers[origin_type] = describer


def origins_describe(pairs: Iterable[tuple[str, int | None]]) -> dict[tuple[str, int], Origin]:
    """Each (type, id) that still exists, described; one query per type, whatever the count."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for origin_type, origin_id in pairs:
        if origin_type and origin_id is not None:
            wanted[origin_type].add(origin_id)
    found: dict[tuple[str, int], Origin] = {}
    for origin_type, ids in wanted.items():
        describer = _describers.get(origin_type)
        if describer is None:
            continue
        for origin_id, origin in describer(ids).items():
            found[origin_type, origin_id] = origin
    return found


def origin_describe(origin_type: str, origin_id: int | None) -> Origin | None:
    if not origin_type or origin_id is None:
        return None
    return origins_describe([(origin_type, origin_id)]).get((origin_type, origin_id))
