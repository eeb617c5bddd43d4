"""Rule recognition, pure: behaviour rules read what a person did, text rules what they
wrote. Each match says which rule matched and why, in words a marketer reads."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

OPERATORS = ("equals", "starts_with", "contains", "in", "exists", "at_least", "at_most")
NUMERIC = ("at_least", "at_most")


@dataclass(frozen=True, slots=True)
class Condition:
    property: str
    operator: str
    value: Any = None

    def holds(self, properties: Mapping[str, Any]) -> bool:
        if self.property not in properties:
            return False
        actual = properties[self.property]
        if self.operator == "exists":
            return actual not in (None, "")
        if self.operator in NUMERIC:
            try:
                number = float(actual)
            except (TypeError, ValueError):
                return False
            return number >= self.value if self.operator == "at_least" else number <= self.value
        if self.operator == "in":
            return str(actual).casefold() in {str(v).casefold() for v in self.value}
        actual, wanted = str(actual).casefold(), str(self.value).casefold()
        if self.operator == "equals":
            return actual == wanted
        if self.operator == "starts_with":
            return actual.startswith(wanted)
        return wanted in actual  # contains

    def describe(self) -> str:
        if self.operator == "exists":
            return f"{self.property} is present"
        if self.operator in NUMERIC:
            return f"{self.property} is {self.operator.replace('_', ' ')} {self.value}"
        if self.operator == "in":
            return f"{self.property} is one of {', '.join(map(str, self.value))}"
        return f"{self.property} {self.operator.replace('_', ' ')} {self.value!r}"


def parse_conditions(raw: Any) -> list[Condition]:
    """A rule's conditions from JSON, with an error that names the bad item and key."""
    if not isinstance(raw, list):
        raise ValueError(
            "conditions must be a list, e.g. "
            '[{"property": "path", "operator": "starts_with", "value": "/pricing"}]'
        )
    conditions = []
    for index, item in enumerate(raw):
        where = f"conditions[{index}]"
        if not isinstance(item, dict):
            raise ValueError(f"{where}: must be an object with property, operator and value")
        unknown = set(item) - {"property", "operator", "value"}
        if unknown:
            raise ValueError(f"{where}: unknown key {sorted(unknown)[0]!r}")
        prop, operator = item.get("property"), item.get("operator", "equals")
        if not isinstance(prop, str) or not prop.strip():
            raise ValueError(f'{where}.property: give the name of a touchpoint property, e.g. "path"')
        if operator not in OPERATORS:
            raise ValueError(f"{where}.operator: {operator!r} is not one of {', '.join(OPERATORS)}")
        value = item.get("value")
        if operator == "in" and not isinstance(value, list):
            raise ValueError(f"{where}.value: the operator 'in' needs a list of values")
        if operator in NUMERIC and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ValueError(f"{where}.value: the operator {operator!r} needs a number")
        if operator not in ("in", "exists") and (value is None or isinstance(value, (list, dict))):
            raise ValueError(f"{where}.value: the operator {operator!r} needs a single value")
        conditions.append(Condition(prop.strip(), operator, value))
    return conditions


@dataclass(frozen=True, slots=True)
class BehaviourRuleSpec:
    rule_id: int
    name: str
    intent_key: str
    kind: str | None
    conditions: tuple[Condition, ...]
    confidence: float

    def match(self, *, kind: str, properties: Mapping[str, Any]) -> RuleMatch | None:
        if self.kind is not None and kind != self.kind:
            return None
        if not all(condition.holds(properties) for condition in self.conditions):
            return None
        why = [f"kind is {kind}"] if self.kind else []
        why += [condition.describe() for condition in self.conditions]
        return RuleMatch(
            rule_id=self.rule_id,
            intent_key=self.intent_key,
            confidence=self.confidence,
            explanation=f"behaviour rule “{self.name}”: {' and '.join(why) or 'any touchpoint'}",
        )


def fold(text: str) -> str:
    """Lower case without accents: "Café" and "cafe" are the same word to a rule."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


WORD = re.compile(r"\w+(?:['\u2019]\w+)?")  # an apostrophe, straight or curly, inside a word


def words(text: str) -> list[str]:
    return WORD.findall(fold(text))


def _lines(text: str) -> list[tuple[str, ...]]:
    return [tuple(words(line)) for line in text.splitlines() if words(line)]


@dataclass(frozen=True, slots=True)
class TextRuleSpec:
    rule_id: int
    name: str
    intent_key: str
    phrases: tuple[tuple[str, ...], ...]
    confirm: tuple[tuple[str, ...], ...]
    veto: tuple[tuple[str, ...], ...]
    window: int
    confidence: float

    @classmethod
    def build(cls, *, rule_id, name, intent_key, phrases, confirm_words, veto_words, window, confidence):
        return cls(
            rule_id=rule_id,
            name=name,
            intent_key=intent_key,
            phrases=tuple(_lines(phrases)),
            confirm=tuple(_lines(confirm_words)),
            veto=tuple(_lines(veto_words)),
            window=window,
            confidence=confidence,
        )

    def match(self, text: str) -> RuleMatch | None:
        tokens = words(text)
        for phrase in self.phrases:
            for start in _find(tokens, phrase):
                end = start + len(phrase)
                near = tokens[max(0, start - self.window) : start] + tokens[end : end + self.window]
                vetoed = next((" ".join(v) for v in self.veto if _find(near, v)), None)
                if vetoed:
                    continue
                confirmed = next((" ".join(c) for c in self.confirm if _find(near, c)), None)
                if self.confirm and not confirmed:
                    continue
                said = f"“{' '.join(phrase)}”" + (f", confirmed by “{confirmed}”" if confirmed else "")
                return RuleMatch(
                    rule_id=self.rule_id,
                    intent_key=self.intent_key,
                    confidence=self.confidence,
                    explanation=f"text rule “{self.name}”: {said}",
                )
        return None

    def vetoes(self, text: str) -> list[str]:
        """The veto words that cancelled a phrase in this text: explains a non-match."""
        tokens = words(text)
        found = []
        for phrase in self.phrases:
            for start in _find(tokens, phrase):
                end = start + len(phrase)
                near = tokens[max(0, start - self.window) : start] + tokens[end : end + self.window]
                found += [" ".join(v) for v in self.veto if _find(near, v)]
        return found


def _find(tokens: list[str], phrase: tuple[str, ...]) -> list[int]:
    """Where the phrase starts in the tokens; empty when it does not occur."""
    size = len(phrase)
    return [i for i in range(len(tokens) - size + 1) if tuple(tokens[i : i + size]) == phrase]


@dataclass(frozen=True, slots=True)
class RuleMatch:
    rule_id: int
    intent_key: str
    confidence: float
    explanation: str
