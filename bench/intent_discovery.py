"""`bench intent_discovery [--data DIR]`: do the texts the classifier refuses gather into
topics that are the intents it was never taught?

On a labelled data set (CLINC150 by default: DIR/train.csv and DIR/test.csv, text,label,
`oos` for none), HELD_OUT intents drawn with a fixed seed are removed from training and
the classifier is trained on the rest. The test texts it refuses (out of scope, or under
its threshold) are the pool: the held-out intents' texts among the real out-of-scope ones
and the few known-intent texts it was unsure of. Discovery proposes topics in the pool.
An intent counts as recovered when one topic holds at least half of that intent's texts
in the pool, and that intent makes up at least 0.8 of the topic.

The classifier claims many of the unseen intents' texts for a known intent that sounds
alike (a question about `timer` for `alarm`), so few of them reach the pool, and an intent
with one or two texts there cannot make a topic. The line also reports, under
`all_held_out`, discovery on the pool it would get if the classifier refused every text of
the held-out intents: those texts among the real out-of-scope ones.

Goal: at least 12 of the 15 recovered, with no more than 50 topics proposed. Baseline,
same pool, same run: k-means on TF-IDF vectors with k equal to the number of topics
proposed. `--scale` caps the training texts (drawn with a fixed seed), for a quick run.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from django.core.management.base import CommandError
from sklearn.cluster import KMeans
from sklearn.feature_extraction.text import TfidfVectorizer

from bench import benchmark, result
from bench.intents import _load, default_data_dir
from intents.learning import OUT_OF_SCOPE, embedding
from intents.learning.discovery import discover, purity
from intents.learning.training import TrainingError, fit

HELD_OUT = 15
SEED = 21
MIN_SHARE, MIN_PURITY = 0.5, 0.8
GOAL_RECOVERED, GOAL_MAX_TOPICS = 12, 50


def recovered(topics: Sequence[np.ndarray], labels: Sequence[str], held_out: Sequence[str]) -> list[str]:
    """The held-out intents that one topic (an array of indices into labels) holds at
    least MIN_SHARE of, at a purity of at least MIN_PURITY."""
    labels = np.asarray(labels, dtype=object)
    found = []
    for intent in held_out:
        total = int((labels == intent).sum())
        if not total:
            continue
        for members in topics:
            held = int((labels[members] == intent).sum())
            # the intent itself makes up at least MIN_PURITY of the topic
            if held >= MIN_SHARE * total and held >= MIN_PURITY * len(members):
                found.append(intent)
                break
    return found


def _mean_purity(topics: Sequence[np.ndarray], labels: np.ndarray) -> float | None:
    if not topics:
        return None
    return round(float(np.mean([purity(labels[members]) for members in topics])), 4)


def _discover_and_baseline(pool: list[str], truth: np.ndarray, held_out: list[str]) -> dict:
    # Discovery's own cost: embedding the pool and clustering it.
    started = time.perf_counter()
    vectors = embedding.encoder().encode(pool)
    topics = [topic.members for topic in discover(pool, vectors)]
    seconds = time.perf_counter() - started

    started = time.perf_counter()
    tfidf = TfidfVectorizer(sublinear_tf=True, stop_words="english").fit_transform(pool)
    k = max(1, len(topics))
    assignment = KMeans(n_clusters=k, n_init=3, random_state=0).fit_predict(tfidf)
    baseline_topics = [np.flatnonzero(assignment == cluster) for cluster in range(k)]
    baseline_seconds = time.perf_counter() - started
    return {
        "topics": topics,
        "found": recovered(topics, truth, held_out),
        "purity": _mean_purity(topics, truth),
        "seconds": seconds,
        "baseline_found": recovered(baseline_topics, truth, held_out),
        "baseline_purity": _mean_purity(baseline_topics, truth),
        "baseline_seconds": baseline_seconds,
    }


def _known_accuracy(predictions, labels: list[str], hidden: set[str]) -> float:
    """In-scope accuracy of the classifier on the intents it was taught."""
    known = [i for i, label in enumerate(labels) if label != OUT_OF_SCOPE and label not in hidden]
    return round(sum(predictions[i].label == labels[i] for i in known) / max(1, len(known)), 4)


@benchmark(
    "intent_discovery",
    default_scale=1_000_000,
    description="topics among refused texts recover held-out intents (--data DIR), vs k-means on TF-IDF",
    reads_data=True,
)
def intent_discovery(scale: int, data: Path | None = None) -> Iterator[dict]:
    data = data or default_data_dir()
    texts, labels, test_texts, test_labels = _load(data, scale)
    intents = sorted({label for label in labels if label != OUT_OF_SCOPE})
    if len(intents) < HELD_OUT + 2:
        raise CommandError(f"--data {data}: {len(intents)} intents, at least {HELD_OUT + 2} are needed")
    held_out = sorted(random.Random(SEED).sample(intents, HELD_OUT))  # noqa: S311 - a draw, not a secret
    hidden = set(held_out)
    kept = [(text, label) for text, label in zip(texts, labels, strict=True) if label not in hidden]

    started = time.perf_counter()
    try:
        classifier = fit([text for text, _ in kept], [label for _, label in kept])
    except TrainingError as error:
        raise CommandError(f"--data {data}: {error}") from error
    training_seconds = time.perf_counter() - started
    predictions = classifier.predict(test_texts)
    refused = [i for i, prediction in enumerate(predictions) if prediction.label is None]
    pool = [test_texts[i] for i in refused]
    truth = np.asarray([test_labels[i] for i in refused], dtype=object)
    measured = _discover_and_baseline(pool, truth, held_out)
    everything = [i for i, label in enumerate(test_labels) if label in hidden or label == OUT_OF_SCOPE]
    all_held_out = _discover_and_baseline(
        [test_texts[i] for i in everything],
        np.asarray([test_labels[i] for i in everything], dtype=object),
        held_out,
    )
    topics, found = measured["topics"], measured["found"]

    yield result(
        bench="intent_discovery",
        n=len(pool),
        seconds=measured["seconds"],
        per="refused text",
        items=len(pool),
        baseline="k-means on TF-IDF vectors of the same pool, k = topics proposed",
        baseline_seconds=measured["baseline_seconds"],
        data=str(data),
        held_out=held_out,
        pool=len(pool),
        pool_held_out_texts=int(np.isin(truth, held_out).sum()),
        held_out_texts=sum(label in hidden for label in test_labels),
        pool_out_of_scope_texts=int((truth == OUT_OF_SCOPE).sum()),
        pool_texts_per_held_out_intent={intent: int((truth == intent).sum()) for intent in held_out},
        recovered=len(found),
        recovered_intents=found,
        topics_proposed=len(topics),
        purity=measured["purity"],
        texts_in_topics=int(sum(len(members) for members in topics)),
        baseline_recovered=len(measured["baseline_found"]),
        baseline_purity=measured["baseline_purity"],
        all_held_out={
            "pool": len(everything),
            "recovered": len(all_held_out["found"]),
            "recovered_intents": all_held_out["found"],
            "topics_proposed": len(all_held_out["topics"]),
            "purity": all_held_out["purity"],
            "seconds": round(all_held_out["seconds"], 3),
            "baseline_recovered": len(all_held_out["baseline_found"]),
            "baseline_purity": all_held_out["baseline_purity"],
            "met": len(all_held_out["found"]) >= GOAL_RECOVERED
            and len(all_held_out["topics"]) <= GOAL_MAX_TOPICS,
        },
        training_seconds=round(training_seconds, 2),
        classifier_accuracy_on_known=_known_accuracy(predictions, test_labels, hidden),
        goal={"recovered": f">= {GOAL_RECOVERED} of {HELD_OUT}", "topics_proposed": f"<= {GOAL_MAX_TOPICS}"},
        met=len(found) >= GOAL_RECOVERED and len(topics) <= GOAL_MAX_TOPICS,
    )
