"""Which intent a touchpoint shows: every rule and the active model propose one, the most
confident proposal wins (a rule on a tie, since a person wrote it), and the winner keeps
its explanation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from intents.learning.classifier import IntentClassifier
from intents.rules import BehaviourRuleSpec, TextRuleSpec


@dataclass(frozen=True, slots=True)
class TouchpointFacts:
    id: int
    contact_id: int
    kind: str
    text: str
    properties: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Recognition:
    touchpoint_id: int
    contact_id: int
    intent_key: str | None
    confidence: float | None
    method: str  # behaviour_rule, text_rule, model, none
    rule_id: int | None
    explanation: str


@dataclass(frozen=True)
class Recogniser:
    behaviour_rules: Sequence[BehaviourRuleSpec]
    text_rules: Sequence[TextRuleSpec]
    classifier: IntentClassifier | None = None
    model_version: int | None = None
    known_intents: frozenset[str] = frozenset()

    def recognise(self, touchpoints: Sequence[TouchpointFacts]) -> list[Recognition]:
        texts = [tp for tp in touchpoints if tp.text.strip()]
        predicted = {}
        if self.classifier is not None and texts:
            for tp, prediction in zip(texts, self.classifier.predict([tp.text for tp in texts]), strict=True):
                predicted[tp.id] = prediction
        return [self._one(tp, predicted.get(tp.id)) for tp in touchpoints]

    def _one(self, tp: TouchpointFacts, prediction) -> Recognition:
        # (confidence, rule first on a tie, Recognition)
        candidates: list[tuple[float, int, Recognition]] = []
        for rule in self.behaviour_rules:
            match = rule.match(kind=tp.kind, properties=tp.properties)
            if match:
                candidates.append((match.confidence, 1, self._made(tp, match, "behaviour_rule")))
        if tp.text.strip():
            for rule in self.text_rules:
                match = rule.match(tp.text)
                if match:
                    candidates.append((match.confidence, 1, self._made(tp, match, "text_rule")))
        if prediction is not None and prediction.label in self.known_intents:
            candidates.append(
                (
                    prediction.confidence,
                    0,
                    Recognition(
                        touchpoint_id=tp.id,
                        contact_id=tp.contact_id,
                        intent_key=prediction.label,
                        confidence=round(prediction.confidence, 4),
                        method="model",
                        rule_id=None,
                        explanation=f"model v{self.model_version}: {prediction.label} "
                        f"with confidence {prediction.confidence:.0%}",
                    ),
                )
            )
        if candidates:
            return max(candidates, key=lambda candidate: candidate[:2])[2]
        why = "no rule matched"
        if prediction is not None:
            why += (
                f"; model v{self.model_version} claims nothing (best guess {prediction.best_guess} "
                f"at {prediction.confidence:.0%}, under its threshold of {self.classifier.threshold:.0%})"
            )
        return Recognition(tp.id, tp.contact_id, None, None, "none", None, why)

    @staticmethod
    def _made(tp: TouchpointFacts, match, method: str) -> Recognition:
        return Recognition(
            touchpoint_id=tp.id,
            contact_id=tp.contact_id,
            intent_key=match.intent_key,
            confidence=match.confidence,
            method=method,
            rule_id=match.rule_id,
            explanation=match.explanation,
        )
