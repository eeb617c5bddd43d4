"""A trained text classifier that knows when it does not know."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

ALGORITHM = "TF-IDF word 1-2-grams + character 2-5-grams, linear SVM, Platt-scaled confidence"
# Below this many texts, a character n-gram seen once is kept: a small team's first labels
# would otherwise leave almost no features.
MIN_DF_FROM = 1000


def build_pipeline(example_count: int) -> Pipeline:
    min_df = 2 if example_count >= MIN_DF_FROM else 1
    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, strip_accents="unicode")),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(2, 5),
                    sublinear_tf=True,
                    min_df=min_df,
                    strip_accents="unicode",
                ),
            ),
        ]
    )
    return Pipeline([("features", features), ("svm", LinearSVC(C=1.0))])


@dataclass(frozen=True)
class Calibration:
    """Maps the SVM's top decision score to the probability that its answer is right."""

    slope: float
    intercept: float

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(self.slope * scores + self.intercept)))


DEFAULT_CALIBRATION = Calibration(slope=4.0, intercept=1.0)


@dataclass(frozen=True)
class Prediction:
    label: str | None  # None: no intent claimed (out of scope, or not confident enough)
    confidence: float
    best_guess: str  # the top label even when it is not claimed, for explanations


@dataclass
class IntentClassifier:
    pipeline: Pipeline
    calibration: Calibration
    threshold: float
    algorithm: str = ALGORITHM

    @property
    def labels(self) -> list[str]:
        return [str(label) for label in self.pipeline.classes_]

    def top(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The top label and its raw decision score for each text."""
        decision = self.pipeline.decision_function(list(texts))
        if decision.ndim == 1:  # two classes: one column, positive means the second
            decision = np.column_stack([-decision, decision])
        return self.pipeline.classes_[decision.argmax(axis=1)], decision.max(axis=1)

    def scores(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The top label and its calibrated confidence for each text."""
        labels, top = self.top(texts)
        return labels, self.calibration(top)

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        if not texts:
            return []
        labels, confidences = self.scores(texts)
        return [
            Prediction(
                label=None if confidence < self.threshold else str(label),
                confidence=float(confidence),
                best_guess=str(label),
            )
            for label, confidence in zip(labels, confidences, strict=True)
        ]
