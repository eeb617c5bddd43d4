"""Training: fit the classifier, then learn its confidence and threshold from
out-of-fold predictions on the training texts themselves. The data a model is
evaluated on is never looked at here."""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from intents.learning import OUT_OF_SCOPE, embedding
from intents.learning.classifier import (
    CANDIDATES,
    DEFAULT_CALIBRATION,
    FALLBACK,
    QUICK,
    Calibration,
    Candidate,
    IntentClassifier,
    QuickPath,
    build_pipeline,
    build_quick_pipeline,
    describe,
    top_scores,
)

FOLDS = 5
# From this many texts on, one held-out third of them (the first of three folds): the model
# that did not see it still learns from thousands of texts, and training stays within two
# minutes on two cores.
FEWER_FOLDS_FROM, HELD_OUT_FOLDS = 5000, 3
# The models fit side by side, one per core: liblinear lets go of the GIL while it trains.
PARALLEL_FITS = 2
# Without out-of-scope examples to learn from, claim an intent only when the model is
# more likely right than wrong.
DEFAULT_THRESHOLD = 0.5
# The threshold stays silent on this share of the out-of-scope texts the models that never
# saw them met; aiming past one half keeps new out-of-scope texts caught at least half the time.
MIN_OOS_RECALL = 0.6
# The share of in-scope answers the quick model may lose against the full one where it answers
# alone. Losing none kept nine texts in ten going to the sentence embedding; half a point
# lets TF-IDF answer most of them, the embedding costing fifty times more per text.
MAX_ACCURACY_LOSS = 0.005
# Of that half point, the share that texts left unclaimed on the quick model's word alone
# (it is far from sure of any intent) may cost.
MAX_SILENCE_LOSS = 0.001


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


def fit(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    seed: int = 0,
    candidates: Sequence[Candidate] = CANDIDATES,
) -> IntentClassifier:
    """The model learns the intents; texts labelled out-of-scope are kept out of its
    training and only teach it where to stay silent: the threshold is set so that it
    would have claimed no intent for at least 60 % of them, judged by models that never
    saw them, as it will meet new out-of-scope texts.

    Which features and regularisation it uses is chosen the same way, whatever the data:
    each candidate is trained on part of the training texts and judged on the rest, and
    the one that gets most in-scope texts right at its own threshold wins."""
    texts, labels = list(texts), np.asarray(labels, dtype=object)
    check_training_data(texts, labels)
    if not candidates:
        raise TrainingError("no candidate model to choose from")
    if not any(candidate.embedding_weight for candidate in candidates):
        return _fit(texts, labels, seed, list(candidates))
    with embedding.encoder().remembering():  # each text is embedded once, not once per fold
        return _fit(texts, labels, seed, list(candidates))


@dataclass
class Judged:
    """A candidate's out-of-fold results, calibrated, with the threshold they lead to."""

    candidate: Candidate
    out_of_fold: OutOfFold
    calibration: Calibration
    threshold: float
    accuracy: float  # in-scope texts right and claimed at the threshold, out of fold
    oos_recall: float | None

    @classmethod
    def of(cls, candidate: Candidate, out_of_fold: OutOfFold, has_unknown: bool) -> Judged:
        calibration = calibrate(out_of_fold.top, out_of_fold.correct)
        confidence = calibration(out_of_fold.top)
        unknown = calibration(out_of_fold.unknown_top) if has_unknown else None
        threshold = choose_threshold(confidence, out_of_fold.correct, unknown)
        return cls(
            candidate=candidate,
            out_of_fold=out_of_fold,
            calibration=calibration,
            threshold=threshold,
            accuracy=float((out_of_fold.correct & (confidence >= threshold)).mean()),
            oos_recall=float((unknown < threshold).mean()) if unknown is not None else None,
        )

    def summary(self) -> dict:
        return {
            "candidate": self.candidate.describe(),
            "embedding_weight": self.candidate.embedding_weight,
            "c": self.candidate.c,
            "accuracy": round(self.accuracy, 4),
            "oos_recall": None if self.oos_recall is None else round(self.oos_recall, 4),
        }


def _fit(texts: list[str], labels: np.ndarray, seed: int, candidates: list[Candidate]) -> IntentClassifier:
    oos = labels == OUT_OF_SCOPE
    known_texts = [text for text, out in zip(texts, oos, strict=True) if not out]
    known, unknown_texts = labels[~oos], [text for text, out in zip(texts, oos, strict=True) if out]
    count = len(known_texts)
    if any(candidate.embedding_weight for candidate in candidates):
        # Embedded up front, in batches across all texts, rather than fold by fold: the
        # models below then fit side by side and find every vector in the memo.
        embedding.encoder().encode(texts)
    splits = _splits(known_texts, known, seed)
    if not splits:
        chosen = FALLBACK if FALLBACK in candidates else candidates[0]
        pipeline = build_pipeline(count, chosen).fit(known_texts, known)
        return IntentClassifier(
            pipeline=pipeline,
            calibration=DEFAULT_CALIBRATION,
            threshold=DEFAULT_THRESHOLD,
            algorithm=describe(chosen, quick=False),
        )
    # The quick model is judged too, whether or not it is a candidate: it is what answers
    # first where it is sure.
    judged_models = [*candidates, *([] if QUICK in candidates else [QUICK])]
    with ThreadPoolExecutor(max_workers=PARALLEL_FITS) as pool:
        # Every model is a fresh copy made before it fits, as they fit in threads. The
        # final quick model is fitted before it is known to be needed: it is cheap, and
        # fitting it later would leave a core idle.
        final_quick = pool.submit(build_quick_pipeline(count).fit, known_texts, known)
        parts = {
            candidate: [
                pool.submit(
                    _held_out, build_pipeline(count, candidate), split, known_texts, known, unknown_texts
                )
                for split in splits
            ]
            for candidate in judged_models
        }
        results = {
            candidate: Judged.of(
                candidate, OutOfFold.join([part.result() for part in futures]), bool(unknown_texts)
            )
            for candidate, futures in parts.items()
        }
        # The first best wins: the candidates go from the simplest on.
        best = max((results[candidate] for candidate in candidates), key=lambda judged: judged.accuracy)
        quick = final_quick.result()
        pipeline = quick if best.candidate == QUICK else build_pipeline(count, best.candidate)
        if pipeline is not quick:
            pipeline.fit(known_texts, known)
    selection = tuple(
        judged.summary()
        for judged in sorted(results.values(), key=lambda judged: judged is not best)
        if judged.candidate in candidates
    )
    quick_path = None if best.candidate == QUICK else _quick_path(best, results[QUICK], quick, unknown_texts)
    return IntentClassifier(
        pipeline=pipeline,
        calibration=best.calibration,
        threshold=best.threshold,
        algorithm=describe(best.candidate, quick=quick_path is not None),
        quick=quick_path,
        selection=selection,
    )


def _quick_path(full: Judged, fast: Judged, quick, unknown_texts: list[str]) -> QuickPath | None:
    """Where TF-IDF alone may answer for the chosen model (see choose_silent and choose_sure)."""
    calibration, threshold = full.calibration, full.threshold
    full_oof, fast_oof = full.out_of_fold, fast.out_of_fold
    unknown = calibration(full_oof.unknown_top) if unknown_texts else None
    quick_calibration = fast.calibration
    silent = choose_silent(
        quick_calibration(fast_oof.top), calibration(full_oof.top), full_oof.correct, threshold
    )
    sure = choose_sure(
        quick_calibration(fast_oof.top),
        fast_oof.correct,
        calibration(full_oof.top),
        full_oof.correct,
        threshold,
        quick_calibration(fast_oof.unknown_top) if unknown_texts else None,
        unknown,
        silent=silent,
    )
    if sure is None:
        return None
    return QuickPath(pipeline=quick, calibration=quick_calibration, sure=sure, silent=silent)


def _splits(texts: list[str], labels: np.ndarray, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Which texts each held-out model learns from and which it is judged on. Few texts:
    every one is held out once (FOLDS folds). Many: a single third is held out, which
    gives thousands of scores to calibrate from at a third of the cost of three folds."""
    many = len(texts) >= FEWER_FOLDS_FROM
    folds = min(HELD_OUT_FOLDS if many else FOLDS, min(Counter(labels).values()))
    if folds < 2:
        return []
    splits = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(texts, labels)
    return [next(splits)] if many else list(splits)


@dataclass
class OutOfFold:
    top: np.ndarray  # each held-out text's top decision score, from the model that did not see it
    correct: np.ndarray  # whether that model's top label was right
    unknown_top: np.ndarray  # the out-of-scope texts' top scores, from every held-out model

    @classmethod
    def join(cls, parts: list[OutOfFold]) -> OutOfFold:
        """Parts in the order of the splits, so that two models' arrays line up text by text."""
        return cls(
            *(
                np.concatenate([getattr(part, name) for part in parts])
                for name in ("top", "correct", "unknown_top")
            )
        )


def _held_out(
    pipeline,
    split: tuple[np.ndarray, np.ndarray],
    texts: list[str],
    labels: np.ndarray,
    unknown_texts: list[str],
) -> OutOfFold:
    train, held_out = split
    model = pipeline.fit([texts[i] for i in train], labels[train])
    guessed, top = top_scores(model, [texts[i] for i in held_out])
    unknown_top = top_scores(model, unknown_texts)[1] if unknown_texts else np.zeros(0)
    return OutOfFold(top, guessed == labels[held_out], unknown_top)


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


def choose_silent(quick: np.ndarray, full: np.ndarray, full_correct: np.ndarray, threshold: float) -> float:
    """The confidence of the quick model under which a text is left unclaimed without
    asking the full model: the highest one under the threshold below which the full model
    would have got at most MAX_SILENCE_LOSS of the in-scope texts right (out of fold).
    Texts that far from every intent are mostly out of scope, and they were the bulk of
    what the embedding was still asked about. 0 when nothing may be left unasked."""
    full_right = full_correct & (full >= threshold)
    best = 0.0
    for candidate in np.unique(np.round(quick[quick < threshold], 3)):
        if (full_right & (quick < candidate)).mean() > MAX_SILENCE_LOSS:
            break
        best = float(candidate)
    return min(best, threshold)  # rounding must not lift it over the threshold


def choose_sure(
    quick: np.ndarray,
    quick_correct: np.ndarray,
    full: np.ndarray,
    full_correct: np.ndarray,
    threshold: float,
    quick_unknown: np.ndarray | None,
    full_unknown: np.ndarray | None,
    *,
    silent: float = 0.0,
) -> float | None:
    """The lowest confidence of the quick model from which its answer may stand alone: on
    the training texts (out of fold) it then gets at most MAX_ACCURACY_LOSS fewer in-scope
    texts right than the full model alone (counting those left unclaimed under `silent`),
    and stays silent on no fewer out-of-scope texts than MIN_OOS_RECALL (or the full
    model's share, if lower). None when no such confidence exists."""
    full_right = full_correct & (full >= threshold)
    accuracy = full_right.mean()
    asked_right = full_right & (quick >= silent)  # what the full model still gets right when asked
    knows_unknown = full_unknown is not None and len(full_unknown) > 0
    if knows_unknown:
        oos_recall = min(MIN_OOS_RECALL, float((full_unknown < threshold).mean()))
        unclaimed = (full_unknown < threshold) | (quick_unknown < silent)
    for candidate in np.unique(np.round(quick[quick >= threshold], 3)):
        sure = quick >= candidate
        if np.where(sure, quick_correct, asked_right).mean() < accuracy - MAX_ACCURACY_LOSS:
            continue
        if knows_unknown and ((quick_unknown < candidate) & unclaimed).mean() < oos_recall:
            continue
        return float(candidate)
    return None
