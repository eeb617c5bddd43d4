"""How well a classifier does on labelled texts it was not trained on."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sklearn.metrics import f1_score, precision_recall_fscore_support

from intents.learning import OUT_OF_SCOPE
from intents.learning.classifier import IntentClassifier, Prediction

TOP_CONFUSIONS = 10


def evaluate(classifier: IntentClassifier, texts: Sequence[str], labels: Sequence[str]) -> dict:
    predictions = classifier.predict(list(texts))
    return metrics(predictions, list(labels))


def metrics(predictions: Sequence[Prediction], labels: Sequence[str]) -> dict:
    """In-scope accuracy (an unclaimed in-scope text counts as wrong), macro-F1 over the
    intents, out-of-scope recall, per-intent precision and recall, the commonest mix-ups."""
    predicted = [p.label or OUT_OF_SCOPE for p in predictions]
    in_scope = [i for i, label in enumerate(labels) if label != OUT_OF_SCOPE]
    oos = [i for i, label in enumerate(labels) if label == OUT_OF_SCOPE]
    intents = sorted({labels[i] for i in in_scope})
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predicted, labels=intents, zero_division=0
    )
    confusions = Counter(
        (truth, guess) for truth, guess in zip(labels, predicted, strict=True) if truth != guess
    ).most_common(TOP_CONFUSIONS)
    return {
        "examples": len(labels),
        "in_scope": len(in_scope),
        "out_of_scope": len(oos),
        "accuracy": round(sum(predicted[i] == labels[i] for i in in_scope) / len(in_scope), 4)
        if in_scope
        else None,
        "macro_f1": round(
            float(f1_score(labels, predicted, labels=intents, average="macro", zero_division=0)), 4
        )
        if intents
        else None,
        "oos_recall": round(sum(predicted[i] == OUT_OF_SCOPE for i in oos) / len(oos), 4) if oos else None,
        "per_intent": {
            intent: {
                "precision": round(float(p), 4),
                "recall": round(float(r), 4),
                "f1": round(float(f), 4),
                "support": int(s),
            }
            for intent, p, r, f, s in zip(intents, precision, recall, f1, support, strict=True)
        },
        "confusions": [
            {"true": truth, "predicted": guess, "count": count} for (truth, guess), count in confusions
        ],
    }
