"""What the apps hold about a person, for a copy of it (export) and its erasure (GDPR Art. 15
and 17).

contacts owns the person; each app above it that keeps something about one registers, when
it loads, its part: the sections it adds to the person's export, and how it erases what it
holds, with its own services on its own tables. The privacy app runs every part, so that no
app writes another's tables and none needs to know the others.

Erasure keeps the rows that counts are made of (who acted, in which category, when) and
removes what says who the person is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ledger.erasure import ERASED  # noqa: F401 - what an erased value reads, for every part

if TYPE_CHECKING:
    from contacts.models import Contact

# Erased contacts keep their row (aggregate counts survive) with an address in this
# reserved domain (RFC 2606), which no message may ever go to.
ERASED_DOMAIN = "erased.invalid"
PERSONAL_FIELDS = ("email", "first_name", "last_name", "phone", "job_title", "city")


def _nothing(contact: Contact) -> dict:
    return {}


def _no_values(contact: Contact) -> Iterable[str]:
    return ()


@dataclass(frozen=True)
class PersonalDataPart:
    name: str
    # The sections this app adds to the person's export: {"messages": [...]}.
    export: Callable[[Contact], dict[str, Any]] = _nothing
    # Erase what this app holds; how many rows of each kind: {"messages": 3}.
    erase: Callable[[Contact], dict[str, int]] = _nothing
    # Personal values this app holds that may have travelled elsewhere (a labelled text).
    values: Callable[[Contact], Iterable[str]] = field(default=_no_values)


_parts: dict[str, PersonalDataPart] = {}


def personal_data_register(part: PersonalDataPart) -> None:
    _parts[part.name] = part


def personal_data_parts() -> list[PersonalDataPart]:
    """Every app's part, in the order the apps were loaded (those below first)."""
    return list(_parts.values())


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
