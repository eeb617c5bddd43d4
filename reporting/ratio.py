"""The algorithmic-to-manual ratio of a set of actions, and how it is written."""

from __future__ import annotations

import math
from dataclasses import dataclass

# Brinker's line: digital when software executes 99 actions or more for each one by hand.
TARGET = 99


@dataclass(frozen=True)
class Tally:
    algorithmic: int = 0
    manual: int = 0

    @property
    def total(self) -> int:
        return self.algorithmic + self.manual

    @property
    def ratio(self) -> float | None:
        """Algorithmic actions per manual one; None when there is no manual action."""
        return self.algorithmic / self.manual if self.manual else None

    @property
    def label(self) -> str:
        """'312 : 1'. Rounded down, so a ratio shown as 99 : 1 always passes the test."""
        if not self.total:
            return "no actions"
        if not self.manual:
            return "no manual actions"
        ratio = self.algorithmic / self.manual
        if ratio >= 10:
            return f"{math.floor(ratio):,} : 1"
        return f"{math.floor(ratio * 10) / 10:g} : 1"

    @property
    def passes(self) -> bool | None:
        """Brinker's test; None when there is nothing to judge."""
        if not self.total:
            return None
        return self.algorithmic >= TARGET * self.manual

    @property
    def verdict(self) -> str:
        if self.passes is None:
            return "no actions to judge"
        return "passes the 99 : 1 test" if self.passes else "below 99 : 1"

    @property
    def algorithmic_percent(self) -> float | None:
        return round(100 * self.algorithmic / self.total, 2) if self.total else None

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.algorithmic + other.algorithmic, self.manual + other.manual)

    def automating(self, manual: int) -> Tally:
        """The tally if `manual` of its manual actions had been done by software."""
        return Tally(self.algorithmic + manual, self.manual - manual)
