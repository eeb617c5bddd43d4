"""Training: fit the classifier, then learn its confidence and threshold from
out-of-fold predictions on the training texts themselves. The data a model is
evaluated on is never looked at here."""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from intents.learning import OUT_OF_SCOPE
from intents.learning.classifier import DEFAULT_CALIBRATION, Calibration, IntentClassifier, build_pipeline

FOLDS = 5
# Without out-of-scope examples to learn from, claim an intent only when the model is
# more likely right than wrong.
DEFAULT_THRESHOLD = 0.5
MIN_OOS_RECALL = 0.5


class TrainingError(ValueError):
    pass


def check_training_data(texts: Sequence[str], labels: Sequence[str]) -> None:
    if len(texts) != len(labels):
        raise TrainingError(f"{len(texts)} texts but {len(labels)} labels")
    intents = {label for label in labels if label != OUT_OF_SCOPE}
    if len(intents) < 2:
        raise TrainingError(
            f"label examples of at least two intents first "
            f"(found {len(intents)}: {', '.join(sorted(intents)) or 'none'})"
        )
    empty = [i for i, text in enumerate(texts) if not text.strip()]
    if empty:
        raise TrainingError(f"{len(empty)} examples have no text, e.g. number {empty[0] + 1}")


def fit(texts: Sequence[str], labels: Sequence[str], *, seed: int = 0) -> IntentClassifier:
    """The model learns the intents; texts labelled out-of-scope are kept out of its
    training and only teach it where to stay silent: the threshold is set so that it
    would have claimed no intent for at least half of them, judged by models that never
    saw them, as it will meet new out-of-scope texts."""
    texts, labels = list(texts), np.asarray(labels, dtype=object)
    check_training_data(texts, labels)
    oos = labels == OUT_OF_SCOPE
    known_texts = [text for text, out in zip(texts, oos, strict=True) if not out]
    known, unknown_texts = labels[~oos], [text for text, out in zip(texts, oos, strict=True) if out]
    pipeline = build_pipeline(len(known_texts))
    calibration, threshold = DEFAULT_CALIBRATION, DEFAULT_THRESHOLD
    folds = min(FOLDS, min(Counter(known).values()))
    if folds >= 2:
        top = np.zeros(len(known_texts))
        correct = np.zeros(len(known_texts), dtype=bool)
        unknown_top = []
        for train, held_out in StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(
            known_texts, known
        ):
            model = IntentClassifier(
                pipeline=clone(pipeline).fit([known_texts[i] for i in train], known[train]),
                calibration=DEFAULT_CALIBRATION,
                threshold=0.0,
            )
            guessed, top[held_out] = model.top([known_texts[i] for i in held_out])
            correct[held_out] = guessed == known[held_out]
            if unknown_texts:
                unknown_top.append(model.top(unknown_texts)[1])
        calibration = calibrate(top, correct)
        threshold = choose_threshold(
            calibration(top), correct, calibration(np.concatenate(unknown_top)) if unknown_top else None
        )
    pipeline.fit(known_texts, known)
    return IntentClassifier(pipeline=pipeline, calibration=calibration, threshold=threshold)


def calibrate(top_scores: np.ndarray, correct: np.ndarray) -> Calibration:
    """Platt scaling: the probability that the top label is right, from its score."""
    if correct.all() or not correct.any():
        return DEFAULT_CALIBRATION
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LogisticRegression().fit(top_scores.reshape(-1, 1), correct)
    return Calibration(slope=float(model.coef_[0][0]), intercept=float(model.intercept_[0]))


def choose_threshold(confidence: np.ndarray, correct: np.ndarray, unknown: np.ndarray | None) -> float:
    """The threshold that keeps the most in-scope answers right while staying silent on at
    least MIN_OOS_RECALL of the out-of-scope texts; with none of those to learn from, 0.5."""
    if unknown is None or not len(unknown):
        return DEFAULT_THRESHOLD
    best = None
    for candidate in np.unique(np.round(np.concatenate([confidence, unknown]), 4)):
        accuracy = float((correct & (confidence >= candidate)).mean())
        oos_recall = float((unknown < candidate).mean())
        if oos_recall >= MIN_OOS_RECALL and (best is None or accuracy > best[0]):
            best = (accuracy, float(candidate))
    return best[1] if best else DEFAULT_THRESHOLD
