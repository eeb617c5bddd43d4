"""A trained text classifier that knows when it does not know."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from intents.learning import embedding

ALGORITHM = (
    f"TF-IDF word 1-2-grams + character 2-5-grams + {embedding.MODEL_NAME} sentence embedding, "
    "linear SVM, Platt-scaled confidence; TF-IDF alone answers when it is sure or far from sure"
)


def describe(candidate: Candidate, *, quick: bool) -> str:
    """The algorithm of a trained classifier, in words, as a version shows it."""
    text = "TF-IDF words 1-2 + characters 2-5"
    if candidate.embedding_weight:
        text += f" + {embedding.model_name()} embedding x{candidate.embedding_weight:g}"
    text += f", linear SVM C={candidate.c:g} (chosen by cross-validation), Platt-scaled"
    if quick:
        text += "; TF-IDF alone where sure"
    return text


# Below this many texts, a character n-gram seen once is kept: a small team's first labels
# would otherwise leave almost no features.
MIN_DF_FROM = 1000


class SentenceEmbedding(TransformerMixin, BaseEstimator):
    """The sentence embedding of each text as features beside TF-IDF's, scaled by weight.
    Nothing is learned and nothing of the model is pickled: it is loaded from its package
    where the classifier runs, and must be the one the classifier was trained with."""

    def __init__(self, weight: float = 1.0):
        self.weight = weight

    def fit(self, texts, labels=None):
        self.model_ = embedding.model_name()
        return self

    def transform(self, texts):
        installed = embedding.model_name()
        if getattr(self, "model_", embedding.MODEL_NAME) != installed:
            raise embedding.EmbeddingUnavailable(
                f"this version was trained with the embedding model {self.model_}, "
                f"but {installed} is configured: train a new version"
            )
        return sparse.csr_matrix(embedding.encoder().encode(list(texts)) * self.weight)


def uses_embedding(pipeline: Pipeline) -> bool:
    return any(
        isinstance(step, SentenceEmbedding) for _, step in pipeline.named_steps["features"].transformer_list
    )


def _tfidf(example_count: int) -> list[tuple[str, TfidfVectorizer]]:
    min_df = 2 if example_count >= MIN_DF_FROM else 1
    return [
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


@dataclass(frozen=True)
class Candidate:
    """One choice of features and regularisation that training weighs against the others
    on out-of-fold results: the weight of the sentence embedding beside TF-IDF (0: TF-IDF
    alone) and the linear SVM's C (lower: stronger regularisation)."""

    embedding_weight: float
    c: float

    def describe(self) -> str:
        meaning = f" + sentence embedding x{self.embedding_weight:g}" if self.embedding_weight else " alone"
        return f"TF-IDF{meaning}, C={self.c:g}"


# TF-IDF alone is the quick model's candidate too; the rest add the embedding with more or
# less weight (a weight of 3 did worst of all on CLINC150's training data, at a fifth more
# training time). Scaling a block of features by w regularises it as a C of C*w^2 would, so
# the grid covers both the balance of the two readings and the overall regularisation.
QUICK = Candidate(embedding_weight=0.0, c=1.0)
# What a data set too small to hold any text out is trained with.
FALLBACK = Candidate(embedding_weight=1.0, c=1.0)
CANDIDATES = (QUICK, FALLBACK, Candidate(2.0, 0.5), Candidate(2.0, 1.0))


def build_pipeline(example_count: int, candidate: Candidate = FALLBACK) -> Pipeline:
    """The model: TF-IDF of words and characters, beside the sentence embedding unless
    the candidate gives it no weight."""
    features = _tfidf(example_count)
    if candidate.embedding_weight:
        features.append(("meaning", SentenceEmbedding(weight=candidate.embedding_weight)))
    return Pipeline([("features", FeatureUnion(features)), ("svm", LinearSVC(C=candidate.c))])


def build_quick_pipeline(example_count: int) -> Pipeline:
    """TF-IDF alone: a hundred times cheaper than the embedding, and sure of itself often
    enough that the model is asked only about the texts it is unsure of."""
    return build_pipeline(example_count, QUICK)


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


def top_scores(pipeline: Pipeline, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The top label and its raw decision score for each text."""
    decision = pipeline.decision_function(list(texts))
    if decision.ndim == 1:  # two classes: one column, positive means the second
        decision = np.column_stack([-decision, decision])
    return pipeline.classes_[decision.argmax(axis=1)], decision.max(axis=1)


@dataclass
class QuickPath:
    """A cheaper model whose answer stands, without asking the full one, when its calibrated
    confidence reaches `sure`, or falls under `silent`, where no intent is claimed (both
    chosen in training, so that few in-scope answers are lost)."""

    pipeline: Pipeline
    calibration: Calibration
    sure: float
    silent: float = 0.0  # versions trained before it was chosen ask the full model


@dataclass
class IntentClassifier:
    pipeline: Pipeline
    calibration: Calibration
    threshold: float
    algorithm: str = ALGORITHM
    quick: QuickPath | None = None
    # How each candidate did out of fold ({"candidate", "accuracy", "oos_recall"}), the
    # chosen one first; empty when the data was too small to hold any out.
    selection: tuple[dict, ...] = ()

    @property
    def labels(self) -> list[str]:
        return [str(label) for label in self.pipeline.classes_]

    def top(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The full model's top label and its raw decision score for each text."""
        return top_scores(self.pipeline, texts)

    def scores(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The top label and its calibrated confidence for each text: the quick path's when
        it is sure or far from sure, else the full model's."""
        quick = getattr(self, "quick", None)  # versions trained before the quick path have none
        if quick is None:
            labels, top = self.top(texts)
            return labels, self.calibration(top)
        labels, top = top_scores(quick.pipeline, texts)
        labels, confidences = labels.astype(object), quick.calibration(top)
        # Under `silent` the quick confidence stands too: it is under the threshold, so the
        # text is left unclaimed with the quick model's best guess.
        unsure = np.flatnonzero((confidences < quick.sure) & (confidences >= quick.silent))
        if len(unsure):
            full_labels, full_top = self.top([texts[i] for i in unsure])
            labels[unsure], confidences[unsure] = full_labels, self.calibration(full_top)
        return labels, confidences

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        if not texts:
            return []
        labels, confidences = self.scores(list(texts))
        return [
            Prediction(
                label=None if confidence < self.threshold else str(label),
                confidence=float(confidence),
                best_guess=str(label),
            )
            for label, confidence in zip(labels, confidences, strict=True)
        ]
