"""Discovery: the texts no intent was recognised in, gathered into topics before anyone
has named them. Pure computation on texts and their sentence embeddings; the service in
intents.services keeps the topics and their texts in the database.

The texts' sentence embeddings are clustered by density (scikit-learn's HDBSCAN): a topic
is a region where many texts say nearly the same thing, and the scattered rest (what
people write once and never again) is left out as noise rather than forced into a topic.
Two steps before it make the density visible: the embeddings are centred on the pool's
own mean, since every short message shares a large common direction that hides their
differences, and reduced to their main axes (PCA), since distances between 384 numbers
all look alike to a density estimate."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import HDBSCAN
from sklearn.decomposition import PCA
from sklearn.feature_extraction.text import TfidfVectorizer

# A topic needs at least this many texts; fewer is an anecdote, not a need.
MIN_TOPIC_SIZE = 5
# The smallest topic grows with the square root of the pool: a week of a small team's
# refused messages yields topics of five, a month of a busy site's topics of dozens.
TOPIC_SIZE_PER_SQRT_TEXT = 0.25
COMPONENTS = 30  # the main axes kept for the density estimate
# More than a person reviews in a sitting: the largest are kept.
MAX_TOPICS = 50
REPRESENTATIVES = 5  # texts shown for a topic: those nearest its centre
WORDS = 6  # distinctive words shown for a topic
LETTER_WORDS = r"(?u)\b[^\W\d_]{2,}\b"  # numbers and codes say little about a topic


@dataclass(frozen=True)
class Topic:
    members: np.ndarray  # indices into the texts, nearest the topic's centre first
    centroid: np.ndarray  # the mean of the members' embeddings, unit length
    similarity: np.ndarray  # each member's cosine similarity to the centroid, in members' order
    words: tuple[str, ...]  # what sets the topic's texts apart from the rest of the pool

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def representatives(self) -> np.ndarray:
        return self.members[:REPRESENTATIVES]


def min_topic_size(text_count: int) -> int:
    return max(MIN_TOPIC_SIZE, round(math.sqrt(text_count) * TOPIC_SIZE_PER_SQRT_TEXT))


def discover(texts: Sequence[str], vectors: np.ndarray, *, min_size: int | None = None) -> list[Topic]:
    """Topics among the texts (their sentence embeddings in `vectors`), largest first."""
    if len(texts) != len(vectors):
        raise ValueError(f"{len(texts)} texts but {len(vectors)} vectors")
    min_size = min_size or min_topic_size(len(texts))
    if len(texts) < 2 * min_size:
        return []
    vectors = _unit(np.asarray(vectors, dtype=np.float64))
    labels = _clusters(vectors, min_size)
    words = _distinctive_words(list(texts), labels)
    topics = []
    for label in sorted(set(labels) - {-1}):
        if not words.get(label):
            # No word sets these texts apart: in a small pool the scattered one-offs can
            # look dense to each other, and a topic nobody can be told about in words is
            # no need to name.
            continue
        members = np.flatnonzero(labels == label)
        centroid = _unit(vectors[members].mean(axis=0, keepdims=True))[0]
        similarity = vectors[members] @ centroid
        order = np.argsort(-similarity, kind="stable")
        topics.append(
            Topic(
                members=members[order],
                centroid=centroid.astype(np.float32),
                similarity=similarity[order],
                words=words.get(label, ()),
            )
        )
    return sorted(topics, key=lambda topic: (-topic.size, int(topic.members[0])))[:MAX_TOPICS]


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)


def _clusters(vectors: np.ndarray, min_size: int) -> np.ndarray:
    centred = _unit(vectors - vectors.mean(axis=0))
    components = min(COMPONENTS, len(vectors) - 1, vectors.shape[1])
    reduced = _unit(PCA(n_components=components, svd_solver="full").fit_transform(centred))
    # "leaf" keeps the finest dense regions instead of merging neighbours into one broad
    # topic: two needs that sit close ("refund" and "charged twice") stay two topics.
    clusterer = HDBSCAN(
        min_cluster_size=min_size,
        min_samples=max(3, min_size // 2),
        cluster_selection_method="leaf",
        copy=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return clusterer.fit_predict(reduced)


def _distinctive_words(texts: list[str], labels: np.ndarray) -> dict[int, tuple[str, ...]]:
    """Per topic, the words whose TF-IDF weight is highest in its texts compared with
    the rest of the pool, among those that at least a fifth of its texts use."""
    vectoriser = TfidfVectorizer(
        stop_words="english", sublinear_tf=True, strip_accents="unicode", token_pattern=LETTER_WORDS
    )
    try:
        weights = vectoriser.fit_transform(texts)
    except ValueError:  # nothing but stop words and numbers
        return {}
    vocabulary = vectoriser.get_feature_names_out()
    present = weights > 0
    words = {}
    for label in set(labels) - {-1}:
        inside = labels == label
        lift = np.asarray(weights[inside].mean(axis=0)).ravel()
        if (~inside).any():
            lift -= np.asarray(weights[~inside].mean(axis=0)).ravel()
        share = np.asarray(present[inside].mean(axis=0)).ravel()
        ranked = [i for i in np.argsort(-lift, kind="stable") if lift[i] > 0 and share[i] >= 0.2]
        words[label] = tuple(str(vocabulary[i]) for i in ranked[:WORDS])
    return words


def purity(labels: Sequence[str]) -> float:
    """The share of a topic's texts that carry its commonest label."""
    if not len(labels):
        return 0.0
    _, counts = np.unique(np.asarray(labels, dtype=object), return_counts=True)
    return float(counts.max() / counts.sum())
