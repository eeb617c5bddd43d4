"""Which e-mails a contact file gives only once, known before anything is written.

The contact importer applies rows while it is still reading the file, so that Python's
cleaning and PostgreSQL's writing overlap. That is right only for a row whose e-mail no
other row gives: rows of one person are merged first (later values win), which needs
the whole file. A first pass counts each normalised e-mail in a fixed table of small
counters indexed by its hash, so memory stays the same whatever the file's size. A
counter of one proves that no other row has the address; two addresses that share a
counter both look repeated, which only sends them the slower way, through the merge.
"""

from __future__ import annotations

from typing import Any

from contacts.imports import fields
from contacts.imports.reader import SourceFile

# 8 million one-byte counters (8 MB, within the import's memory budget): a file of a
# million addresses sends about 11% of its rows the slower way by chance.
SLOTS = 1 << 23


class EmailsGivenOnce:
    def __init__(self, source: SourceFile) -> None:
        counts = bytearray(SLOTS)
        mask = SLOTS - 1
        with source.reopened() as again:
            for record in again.records():
                address = None if record.error else _address(record.values)
                if address is not None:
                    slot = hash(address) & mask
                    if counts[slot] < 2:
                        counts[slot] += 1
        self._counts = counts
        self._mask = mask

    def __call__(self, address: str) -> bool:
        """Whether this normalised address is given by one row of the file only."""
        return self._counts[hash(address) & self._mask] == 1


def _address(values: dict[str, Any]) -> str | None:
    """The e-mail as the importer's cleaning will see it: the last column named e-mail
    in any case, normalised; None when it will be rejected."""
    given = None
    for column, value in values.items():
        if column.lower() == "email":
            given = value
    try:
        return fields.email(given)
    except fields.CellError:
        return None
