"""The rejects file: every row that was not imported, with its line number, its values
as they were, and the reason, so that it can be fixed and imported again."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO


class RejectsFile:
    """Counts rejected rows; writes them when a path is given."""

    def __init__(self, *, path: Path | str | None, columns: Sequence[str]) -> None:
        self.path = Path(path) if path else None
        self.count = 0
        self._width = len(columns)
        self._stream: TextIO | None = None
        if self.path is not None:
            self._stream = self.path.open("w", encoding="utf-8", newline="")
            self._writer = csv.writer(self._stream)
            self._writer.writerow(["line", *columns, "reason"])

    def add(self, *, line: int, original: Sequence[str], reason: str) -> None:
        self.count += 1
        if self._stream is None:
            return
        cells = list(original[: self._width])
        cells += [""] * (self._width - len(cells))
        # Cells beyond the header's width go after the reason rather than being lost.
        self._writer.writerow([line, *cells, reason, *original[self._width :]])

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def discard(self) -> None:
        """The import failed as a whole: a partial list of rejects would mislead."""
        self.close()
        if self.path is not None:
            self.path.unlink(missing_ok=True)
