"""Training: fit the classifier, then learn its confidence and threshold from
out-of-fold predictions on the training texts themselves. The data a model is
evaluated on is never looked at here."""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from intents.learning import OUT_OF_SCOPE, embedding
from intents.learning.classifier import (
    DEFAULT_CALIBRATION,
    Calibration,
    IntentClassifier,
    QuickPath,
    build_pipeline,
    build_quick_pipeline,
    top_scores,
)

FOLDS = 5
# From this many texts on, three folds: each fold still learns from thousands of texts, and
# training stays within minutes on two cores.
FEWER_FOLDS_FROM, FEWER_FOLDS = 5000, 3
# Without out-of-scope examples to learn from, claim an intent only when the model is
# more likely right than wrong.
DEFAULT_THRESHOLD = 0.5
# The threshold stays silent on this share of the out-of-scope texts the models that never
# saw them met; aiming past one half keeps new out-of-scope texts caught at least half the time.
MIN_OOS_RECALL = 0.6


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
    would have claimed no intent for at least 60 % of them, judged by models that never
    saw them, as it will meet new out-of-scope texts."""
    texts, labels = list(texts), np.asarray(labels, dtype=object)
    check_training_data(texts, labels)
    with embedding.encoder().remembering():  # each text is embedded once, not once per fold
        return _fit(texts, labels, seed)


def _fit(texts: list[str], labels: np.ndarray, seed: int) -> IntentClassifier:
    oos = labels == OUT_OF_SCOPE
    known_texts = [text for text, out in zip(texts, oos, strict=True) if not out]
    known, unknown_texts = labels[~oos], [text for text, out in zip(texts, oos, strict=True) if out]
    pipeline, quick = build_pipeline(len(known_texts)), build_quick_pipeline(len(known_texts))
    calibration, threshold, quick_path = DEFAULT_CALIBRATION, DEFAULT_THRESHOLD, None
    folds = min(FOLDS if len(known_texts) < FEWER_FOLDS_FROM else FEWER_FOLDS, min(Counter(known).values()))
    if folds >= 2:
        splits = list(
            StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(known_texts, known)
        )
        full = _out_of_fold(pipeline, splits, known_texts, known, unknown_texts)
        fast = _out_of_fold(quick, splits, known_texts, known, unknown_texts)
        calibration = calibrate(full.top, full.correct)
        unknown = calibration(full.unknown_top) if unknown_texts else None
        threshold = choose_threshold(calibration(full.top), full.correct, unknown)
        quick_calibration = calibrate(fast.top, fast.correct)
        sure = choose_sure(
            quick_calibration(fast.top),
            fast.correct,
            calibration(full.top),
            full.correct,
            threshold,
            quick_calibration(fast.unknown_top) if unknown_texts else None,
            unknown,
        )
        if sure is not None:
            quick_path = QuickPath(
                pipeline=quick.fit(known_texts, known), calibration=quick_calibration, sure=sure
            )
    pipeline.fit(known_texts, known)
    return IntentClassifier(pipeline=pipeline, calibration=calibration, threshold=threshold, quick=quick_path)


@dataclass
class OutOfFold:
    top: np.ndarray  # each training text's top decision score, from the model that did not see it
    correct: np.ndarray  # whether that model's top label was right
    unknown_top: np.ndarray  # the out-of-scope texts' top scores, from every fold's model


def _out_of_fold(
    pipeline, splits, texts: list[str], labels: np.ndarray, unknown_texts: list[str]
) -> OutOfFold:
    top, correct, unknown_top = np.zeros(len(texts)), np.zeros(len(texts), dtype=bool), []
    for train, held_out in splits:
        model = clone(pipeline).fit([texts[i] for i in train], labels[train])
        guessed, top[held_out] = top_scores(model, [texts[i] for i in held_out])
        correct[held_out] = guessed == labels[held_out]
        if unknown_texts:
            unknown_top.append(top_scores(model, unknown_texts)[1])
    return OutOfFold(top, correct, np.concatenate(unknown_top) if unknown_top else np.zeros(0))


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


def choose_sure(
    quick: np.ndarray,
    quick_correct: np.ndarray,
    full: np.ndarray,
    full_correct: np.ndarray,
    threshold: float,
    quick_unknown: np.ndarray | None,
    full_unknown: np.ndarray | None,
) -> float | None:
    """The lowest confidence of the quick model from which its answer may stand alone: on
    the training texts (out of fold) it then gets no fewer in-scope texts right than the
    full model, and stays silent on no fewer out-of-scope texts than MIN_OOS_RECALL (or the
    full model's share, if lower). None when no such confidence exists."""
    full_right = full_correct & (full >= threshold)
    accuracy = full_right.mean()
    if full_unknown is not None and len(full_unknown):
        oos_recall = min(MIN_OOS_RECALL, float((full_unknown < threshold).mean()))
    for candidate in np.unique(np.round(quick[quick >= threshold], 3)):
        sure = quick >= candidate
        if np.where(sure, quick_correct, full_right).mean() < accuracy:
            continue
        if full_unknown is not None and len(full_unknown):
            silent = (quick_unknown < candidate) & (full_unknown < threshold)
            if silent.mean() < oos_recall:
                continue
        return float(candidate)
    return None
