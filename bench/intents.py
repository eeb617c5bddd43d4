"""`bench intents [--data DIR]`: the learned intent classifier on a labelled data set.

Trains on DIR/train.csv and evaluates on DIR/test.csv (columns text,label; the label
`oos` marks a text that belongs to no intent). The confidence threshold is chosen on
the training data alone (intents.learning.training); the test file is read only to
score the result. Default data: CLINC150, beside the project in shared/data.

Targets on CLINC150: in-scope accuracy >= 94 %, out-of-scope recall >= 50 %, training
under 3 minutes, at least 500 classifications per second on 2 cores. Baseline, on the
same data in the same run: a plain bag of words (unigram counts) with multinomial naive
Bayes, which always claims an intent. CPU seconds are printed beside wall-clock ones: on a
machine whose cores others are using, they say what the work itself costs.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import make_pipeline

from bench import benchmark, result
from intents.learning import OUT_OF_SCOPE
from intents.learning.classifier import Prediction, top_scores
from intents.learning.datasets import DatasetError, read_labelled_csv
from intents.learning.evaluation import evaluate, metrics
from intents.learning.training import TrainingError, fit

SINGLE_TEXT_SAMPLE = 500


def _quick_share(classifier, texts: list[str]) -> float | None:
    """The share of texts the TF-IDF model answers alone, without the sentence embedding."""
    quick = classifier.quick
    if quick is None:
        return None
    confidence = quick.calibration(top_scores(quick.pipeline, texts)[1])
    return round(float(((confidence >= quick.sure) | (confidence < quick.silent)).mean()), 4)


def default_data_dir() -> Path:
    return settings.BASE_DIR.parent / "shared" / "data" / "intents" / "clinc150"


def _load(data: Path, scale: int):
    try:
        texts, labels = read_labelled_csv(data / "train.csv")
        test_texts, test_labels = read_labelled_csv(data / "test.csv")
    except DatasetError as error:
        raise CommandError(f"--data: {error}") from error
    if scale < len(texts):  # a smaller training set, drawn at random but the same every run
        rows = random.Random(7).sample(range(len(texts)), scale)  # noqa: S311 - sampling, not secrecy
        texts, labels = [texts[i] for i in rows], [labels[i] for i in rows]
    return texts, labels, test_texts, test_labels


@benchmark(
    "intents",
    default_scale=1_000_000,
    description="intent classifier, DIR/train.csv -> DIR/test.csv (--data DIR), vs bag of words + NB",
    reads_data=True,
)
def intents(scale: int, data: Path | None = None) -> Iterator[dict]:
    data = data or default_data_dir()
    texts, labels, test_texts, test_labels = _load(data, scale)

    in_scope = [(text, label) for text, label in zip(texts, labels, strict=True) if label != OUT_OF_SCOPE]
    started = time.perf_counter()
    baseline = make_pipeline(CountVectorizer(), MultinomialNB()).fit(
        [text for text, _ in in_scope], [label for _, label in in_scope]
    )
    baseline_seconds = time.perf_counter() - started
    started = time.perf_counter()
    guesses = baseline.predict(test_texts)
    baseline_classify = time.perf_counter() - started
    baseline_scores = metrics([Prediction(str(g), 1.0, str(g)) for g in guesses], test_labels)

    started, cpu = time.perf_counter(), time.process_time()
    try:
        classifier = fit(texts, labels)
    except TrainingError as error:
        raise CommandError(f"--data {data}: {error}") from error
    seconds, training_cpu = time.perf_counter() - started, time.process_time() - cpu
    started, cpu = time.perf_counter(), time.process_time()
    scores = evaluate(classifier, test_texts, test_labels)
    classify_seconds, classify_cpu = time.perf_counter() - started, time.process_time() - cpu
    sample = test_texts[:SINGLE_TEXT_SAMPLE]
    started = time.perf_counter()
    for text in sample:
        classifier.predict([text])
    single_seconds = time.perf_counter() - started

    yield result(
        bench="intents",
        n=len(texts),
        seconds=seconds,
        per="training example",
        items=len(texts),
        baseline="bag of words (unigram counts) + multinomial naive Bayes, always claims an intent",
        baseline_seconds=baseline_seconds,
        data=str(data),
        algorithm=classifier.algorithm,
        test_examples=len(test_texts),
        accuracy=scores["accuracy"],
        macro_f1=scores["macro_f1"],
        oos_recall=scores["oos_recall"],
        threshold=round(classifier.threshold, 4),
        training_seconds=round(seconds, 2),
        training_cpu_seconds=round(training_cpu, 2),
        classifications_per_second=round(len(test_texts) / classify_seconds, 1),
        classifications_per_cpu_second=round(len(test_texts) / max(classify_cpu, 1e-9), 1),
        quick_share=_quick_share(classifier, test_texts),
        selection=list(getattr(classifier, "selection", ())),
        single_text_classifications_per_second=round(len(sample) / single_seconds, 1),
        baseline_accuracy=baseline_scores["accuracy"],
        baseline_macro_f1=baseline_scores["macro_f1"],
        baseline_oos_recall=baseline_scores["oos_recall"],
        baseline_classifications_per_second=round(len(test_texts) / baseline_classify, 1),
        targets={
            "accuracy": 0.94,
            "oos_recall": 0.5,
            "training_seconds": 180,
            "classifications_per_second": 500,
        },
    )
