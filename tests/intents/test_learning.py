from dataclasses import replace

import numpy as np
import pytest

from intents.learning import artifacts, embedding
from intents.learning.classifier import Calibration, top_scores, uses_embedding
from intents.learning.datasets import DatasetError, read_labelled_csv
from intents.learning.evaluation import evaluate
from intents.learning.training import (
    DEFAULT_THRESHOLD,
    FEWER_FOLDS_FROM,
    MAX_ACCURACY_LOSS,
    MAX_SILENCE_LOSS,
    TrainingError,
    _splits,
    choose_silent,
    choose_sure,
    choose_threshold,
    fit,
)
from tests.intents.data import labelled_rows, write_csv


@pytest.fixture(scope="module")
def trained():
    rows = labelled_rows(per_intent=30, oos=20, seed=1)
    return fit([text for text, _ in rows], [label for _, label in rows])


def test_a_trained_classifier_recognises_new_phrasings_of_its_intents(trained):
    # given texts it never saw, drawn from the same phrasings with another seed
    test = labelled_rows(per_intent=10, oos=10, seed=99)

    # when it is evaluated
    scores = evaluate(trained, [t for t, _ in test], [label for _, label in test])

    # then it gets most intents right and stays silent on most unrelated questions
    assert scores["accuracy"] >= 0.9
    assert scores["oos_recall"] >= 0.5
    assert set(scores["per_intent"]) == {"compare", "purchase", "support", "churn_risk"}
    assert scores["per_intent"]["support"]["support"] == 10
    assert 0 < scores["macro_f1"] <= 1


def test_out_of_scope_examples_are_kept_out_of_training_and_only_set_the_threshold(trained):
    assert "oos" not in trained.labels
    assert trained.threshold != DEFAULT_THRESHOLD
    unrelated = ["recipe for pancakes with blueberries", "who won the football match", "play some jazz music"]
    predictions = trained.predict(unrelated)
    silent = [p for p in predictions if p.label is None]
    assert silent, "at least one unrelated text is left unclaimed"
    for prediction in silent:
        assert prediction.confidence < trained.threshold
        assert prediction.best_guess in trained.labels


def test_without_out_of_scope_examples_the_threshold_is_one_half():
    rows = [row for row in labelled_rows(per_intent=12, oos=0)]
    classifier = fit([t for t, _ in rows], [label for _, label in rows])
    assert classifier.threshold == DEFAULT_THRESHOLD


def test_the_threshold_keeps_the_most_right_answers_while_catching_most_of_the_unknown():
    # given confidences of in-scope answers (right or wrong) and of out-of-scope texts
    confidence = np.array([0.9, 0.8, 0.7, 0.6, 0.3])
    correct = np.array([True, True, True, False, True])
    unknown = np.array([0.2, 0.35, 0.65, 0.75])

    # then the lowest threshold that leaves 60 % of the unknown unclaimed wins: 0.7 leaves
    # 0.2, 0.35 and 0.65 under it (0.65 would leave only half), and keeps three right answers
    assert choose_threshold(confidence, correct, unknown) == pytest.approx(0.7)


def test_training_needs_two_intents():
    with pytest.raises(TrainingError, match="at least two intents"):
        fit(["cancel my plan", "close my account", "weather?"], ["churn_risk", "churn_risk", "oos"])


def test_the_calibrated_confidence_grows_with_the_score():
    calibration = Calibration(slope=3.0, intercept=0.5)
    low, high = calibration(np.array([-1.0, 1.0]))
    assert 0 < low < 0.5 < high < 1


def test_an_artifact_round_trips_and_a_tampered_one_is_refused(trained, settings):
    data = artifacts.dumps(trained)
    assert artifacts.loads(data).predict(["please close our account"])[0].label == "churn_risk"

    tampered = data[:-10] + bytes(10)
    with pytest.raises(artifacts.ArtifactError, match="signature"):
        artifacts.loads(tampered)

    settings.SECRET_KEY = "another installation"
    with pytest.raises(artifacts.ArtifactError, match="not written by this installation"):
        artifacts.loads(data)


def test_reading_a_data_set_says_what_is_wrong_and_where(tmp_path):
    good = write_csv(tmp_path / "good.csv", [("hello", "oos"), ("cancel it", "churn_risk")])
    assert read_labelled_csv(good) == (["hello", "cancel it"], ["oos", "churn_risk"])

    no_label = tmp_path / "no_label.csv"
    no_label.write_text("text,intent\nhello,x\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="no label column"):
        read_labelled_csv(no_label)

    empty = write_csv(tmp_path / "empty_label.csv", [("hello", "oos"), ("cancel", "")])
    with pytest.raises(DatasetError, match="line 3: label is empty"):
        read_labelled_csv(empty)

    with pytest.raises(DatasetError, match="cannot be read"):
        read_labelled_csv(tmp_path / "missing.csv")


def test_the_tokeniser_splits_words_into_the_models_pieces():
    tokeniser = embedding.WordPiece()
    ids = tokeniser.encode("Naïve QUESTION: unbelievably!")
    pieces = {i: piece for piece, i in tokeniser.ids.items()}
    assert [pieces[i] for i in ids] == [
        "[CLS]",
        "naive",
        "question",
        ":",
        "un",
        "##bel",
        "##ie",
        "##va",
        "##bly",
        "!",
        "[SEP]",
    ]
    assert len(tokeniser.encode("word " * 500)) == embedding.MAX_TOKENS


def test_sentences_that_mean_the_same_are_close_in_the_embedding():
    close, same, other = embedding.encoder().encode(
        ["please close our account", "we want to cancel the subscription", "what will the weather be in lima"]
    )
    assert close.shape == (embedding.DIMENSIONS,)
    assert np.linalg.norm(close) == pytest.approx(1, abs=1e-5)
    assert close @ same > close @ other + 0.2


def test_a_batch_gives_each_text_the_vector_it_gets_alone():
    texts = ["book a demo", "the dashboard is broken since this morning and nothing loads", "hi"]
    together = embedding.encoder().encode(texts)
    alone = np.vstack([embedding.encoder().encode([text]) for text in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_a_version_keeps_the_embedding_models_name_not_the_model(trained):
    # the artifact is the TF-IDF vocabularies and the SVM, far smaller than the 23 MB model
    data = artifacts.dumps(trained)
    assert len(data) < 2_000_000
    assert uses_embedding(trained.pipeline)

    # and a version trained with another embedding model refuses to guess
    classifier = artifacts.loads(data)
    classifier.quick = None  # every text goes to the full model
    features = dict(classifier.pipeline.named_steps["features"].transformer_list)
    features["meaning"].model_ = "some-other-model"
    with pytest.raises(
        embedding.EmbeddingUnavailable, match="trained with the embedding model some-other-model"
    ):
        classifier.predict(["please close our account"])


def test_the_quick_model_answers_alone_only_where_it_is_sure_or_far_from_it(trained, monkeypatch):
    # given texts of every kind, and a quick path that leaves the lower half of those it is
    # unsure of unclaimed on its own
    texts = [text for text, _ in labelled_rows(per_intent=10, oos=10, seed=42)]
    quick_labels, quick_top = top_scores(trained.quick.pipeline, texts)
    quick_confidence = trained.quick.calibration(quick_top)
    assert trained.quick.sure >= trained.threshold
    silent = min(float(np.median(quick_confidence[quick_confidence < trained.quick.sure])), trained.threshold)
    classifier = replace(trained, quick=replace(trained.quick, silent=silent))
    sure, far = quick_confidence >= classifier.quick.sure, quick_confidence < silent
    asked = ~sure & ~far
    assert sure.any() and far.any() and asked.any()
    full_labels, full_top = classifier.top(texts)
    asked_about = []
    monkeypatch.setattr(classifier, "top", lambda some: asked_about.extend(some) or trained.top(some))

    # when the classifier answers
    labels, confidences = classifier.scores(texts)

    # then the full model is asked only about the texts in between, and its answer stands there
    assert asked_about == [text for text, ask in zip(texts, asked, strict=True) if ask]
    assert list(labels[asked]) == list(full_labels[asked])
    np.testing.assert_allclose(confidences[asked], classifier.calibration(full_top[asked]))
    # where TF-IDF is sure, or far from sure, its answer and confidence stand
    assert list(labels[sure | far]) == list(quick_labels[sure | far])
    np.testing.assert_allclose(confidences[sure | far], quick_confidence[sure | far])
    # and far from sure, no intent is claimed, with the best guess kept for the explanation
    far_texts = [text for text, is_far in zip(texts, far, strict=True) if is_far]
    assert all(p.label is None and p.best_guess for p in classifier.predict(far_texts))


def test_texts_far_from_every_intent_are_left_to_the_quick_model_where_little_is_lost():
    # given out-of-fold confidences on 1,000 in-scope texts: the full model gets all right
    # but the two the quick model is least sure of, and claims them all (threshold 0.5)
    quick = np.linspace(0.05, 0.99, 1000)
    full, full_correct = np.full(1000, 0.9), np.ones(1000, dtype=bool)
    full_correct[:2] = False

    # then the quick model may leave unclaimed up to where the full model would have got a
    # single text right (0.1 %), the one at index 2
    assert MAX_SILENCE_LOSS == 0.001
    assert choose_silent(quick, full, full_correct, 0.5) == pytest.approx(quick[3], abs=1e-3)

    # and never from above the threshold
    assert choose_silent(quick, full, np.zeros(1000, dtype=bool), 0.5) <= 0.5


def test_what_is_left_unclaimed_counts_against_the_quick_models_half_point():
    # given 1,000 in-scope texts the full model gets right, and a quick model sure of 800
    # at 0.95, wrong on 4 at 0.9, and right on the rest at 0.6
    full, full_correct = np.full(1000, 0.9), np.ones(1000, dtype=bool)
    quick = np.concatenate([np.full(800, 0.95), np.full(4, 0.9), np.full(196, 0.6)])
    quick_correct = np.concatenate(
        [np.ones(800, dtype=bool), np.zeros(4, dtype=bool), np.ones(196, dtype=bool)]
    )
    assert choose_sure(quick, quick_correct, full, full_correct, 0.5, None, None) == 0.6

    # when 2 of the texts at 0.6 are left unclaimed (under `silent`), only 3 more may be lost
    quick[804:806] = 0.2
    assert choose_sure(quick, quick_correct, full, full_correct, 0.5, None, None, silent=0.3) == 0.95


def test_the_quick_model_may_answer_from_where_it_loses_nothing():
    # given out-of-fold confidences of both models on five in-scope and four unknown texts
    quick = np.array([0.95, 0.9, 0.8, 0.7, 0.4])
    quick_correct = np.array([True, True, False, True, True])
    full = np.array([0.9, 0.9, 0.9, 0.8, 0.3])
    full_correct = np.array([True, True, True, True, False])
    quick_unknown, full_unknown = np.array([0.1, 0.2, 0.6, 0.92]), np.array([0.1, 0.2, 0.3, 0.95])

    # then from 0.9 on the quick answers are as right as the full ones (below, 0.8 is wrong),
    # and the unknown texts stay as unclaimed as before
    assert choose_sure(quick, quick_correct, full, full_correct, 0.5, quick_unknown, full_unknown) == 0.9

    # and where the quick model is never as good, it never answers alone
    assert choose_sure(quick, ~quick_correct, full, full_correct, 0.5, None, None) is None


def test_the_quick_model_may_lose_half_a_point_of_accuracy_but_not_more():
    # given 1,000 in-scope texts the full model gets all right, and a quick model sure of
    # 800 at 0.95, wrong on 4 at 0.9 and on the rest, at 0.6
    full, full_correct = np.full(1000, 0.9), np.ones(1000, dtype=bool)
    quick = np.concatenate([np.full(800, 0.95), np.full(200, 0.6)])
    quick_correct = np.concatenate([np.ones(800, dtype=bool), np.zeros(200, dtype=bool)])
    quick[800:804] = 0.9

    # then it may answer from 0.9 on: 4 lost in 1,000 is within the half point allowed
    assert MAX_ACCURACY_LOSS == 0.005
    assert choose_sure(quick, quick_correct, full, full_correct, 0.5, None, None) == 0.9

    # and with 6 wrong at 0.9 it must stay above them
    quick[804:806] = 0.9
    assert choose_sure(quick, quick_correct, full, full_correct, 0.5, None, None) == 0.95


def test_many_texts_are_calibrated_on_one_held_out_third_few_on_every_fold():
    many = np.array([f"intent{i % 4}" for i in range(FEWER_FOLDS_FROM)], dtype=object)
    ((train, held_out),) = _splits([""] * len(many), many, seed=0)
    assert len(held_out) == pytest.approx(len(many) / 3, abs=4)
    assert not set(train) & set(held_out)

    few = np.array([f"intent{i % 4}" for i in range(40)], dtype=object)
    splits = _splits([""] * len(few), few, seed=0)
    assert len(splits) == 5
    assert sorted(np.concatenate([held for _, held in splits])) == list(range(40))


def test_batches_run_side_by_side_give_each_text_the_vector_it_gets_alone():
    # given more texts than one batch holds, of many lengths
    texts = [
        f"please {'really ' * (i % 9)}cancel subscription number {i}" for i in range(3 * embedding.BATCH)
    ]

    # when they are encoded together (their batches on several threads) and a few alone
    together = embedding.encoder().encode(texts)
    picked = [0, embedding.BATCH + 5, len(texts) - 1]
    alone = np.vstack([embedding.encoder().encode([texts[i]]) for i in picked])

    # then each text keeps its own vector, in its own row
    np.testing.assert_allclose(together[picked], alone, atol=1e-5)
