"""Features and regularisation are chosen on the training data alone, the same way for any
data set; here a small synthetic one."""

import pytest

from intents.learning.classifier import CANDIDATES, QUICK, Candidate, uses_embedding
from intents.learning.evaluation import evaluate
from intents.learning.training import TrainingError, fit
from tests.intents.data import labelled_rows


@pytest.fixture(scope="module")
def rows():
    return labelled_rows(per_intent=25, oos=20, seed=5)


def test_every_candidate_is_judged_out_of_fold_and_the_best_is_trained(rows):
    # when a classifier is trained on a small synthetic data set
    classifier = fit([text for text, _ in rows], [label for _, label in rows])

    # then every candidate was judged on texts its model did not learn from
    judged = [(entry["embedding_weight"], entry["c"]) for entry in classifier.selection]
    assert sorted(judged) == sorted((c.embedding_weight, c.c) for c in CANDIDATES)
    # and the one trained is the first of those that did best
    best = max(entry["accuracy"] for entry in classifier.selection)
    chosen = classifier.selection[0]
    assert chosen["accuracy"] == best
    first_best = next(c for c in CANDIDATES if any(
        (e["embedding_weight"], e["c"]) == (c.embedding_weight, c.c) and e["accuracy"] == best
        for e in classifier.selection
    ))  # fmt: skip
    assert (chosen["embedding_weight"], chosen["c"]) == (first_best.embedding_weight, first_best.c)
    assert uses_embedding(classifier.pipeline) == bool(chosen["embedding_weight"])
    assert f"C={chosen['c']:g}" in classifier.algorithm
    assert chosen["c"] == classifier.pipeline.named_steps["svm"].C

    # and it recognises texts of the same intents it never saw
    test = labelled_rows(per_intent=10, oos=10, seed=77)
    assert evaluate(classifier, [t for t, _ in test], [label for _, label in test])["accuracy"] >= 0.9


def test_the_choice_follows_the_candidates_given(rows):
    texts, labels = [text for text, _ in rows], [label for _, label in rows]

    alone = fit(texts, labels, candidates=[QUICK])
    assert not uses_embedding(alone.pipeline)
    assert alone.quick is None
    assert [entry["candidate"] for entry in alone.selection] == [QUICK.describe()]

    strong = Candidate(embedding_weight=3.0, c=0.5)
    weighted = fit(texts, labels, candidates=[strong])
    assert weighted.pipeline.named_steps["features"].transformer_list[-1][1].weight == 3.0
    assert weighted.pipeline.named_steps["svm"].C == 0.5

    with pytest.raises(TrainingError, match="no candidate"):
        fit(texts, labels, candidates=[])


def test_too_few_texts_to_hold_any_out_train_the_fallback_without_selection():
    rows = [("cancel my plan", "churn_risk"), ("buy ten seats", "purchase"), ("quote for 5", "purchase")]
    classifier = fit([t for t, _ in rows], [label for _, label in rows])
    assert classifier.selection == ()
    assert uses_embedding(classifier.pipeline)
