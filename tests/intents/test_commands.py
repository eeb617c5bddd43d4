import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from intents.models import IntentExample, IntentModel
from ledger.models import Action
from tests.intents.data import labelled_rows, write_csv


def test_import_then_train_from_the_command_line(db, tmp_path, capsys):
    # given a file of labelled texts
    file = write_csv(tmp_path / "labels.csv", labelled_rows(per_intent=15, oos=10))

    # when a person imports it and trains
    call_command("import_intent_examples", str(file))
    call_command("train_intents", "--activate")

    # then the examples are there, and the new version is active and evaluated
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "imported 70"
    assert out[1].startswith("version 1: accuracy ")
    assert out[1].endswith(", active")
    assert IntentExample.objects.filter(intent__isnull=True).count() == 10
    model = IntentModel.objects.get()
    assert model.is_active and model.evaluation["examples"] == 14
    assert Action.objects.filter(verb="intent.examples_imported", actor_kind="manual").count() == 1


def test_an_unknown_label_rejects_the_whole_file_saying_where(db, tmp_path):
    file = write_csv(tmp_path / "labels.csv", [("cancel my plan", "churn_risk"), ("hi", "greeting")])

    with pytest.raises(CommandError, match=r"labels.csv, line 3: no intent with the key 'greeting'"):
        call_command("import_intent_examples", str(file))

    assert not IntentExample.objects.exists()


def test_training_without_labels_says_what_to_do(db):
    with pytest.raises(CommandError, match="version 1 failed: label examples of at least two intents"):
        call_command("train_intents")


def test_the_benchmark_runs_unchanged_on_another_data_set(db, tmp_path, capsys):
    # given a data set in the same format that is not CLINC150
    write_csv(tmp_path / "train.csv", labelled_rows(per_intent=30, oos=20, seed=3))
    write_csv(tmp_path / "test.csv", labelled_rows(per_intent=10, oos=10, seed=4))

    call_command("bench", "intents", "--data", str(tmp_path))

    (line,) = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    assert (line["bench"], line["n"], line["test_examples"]) == ("intents", 140, 50)
    assert line["accuracy"] >= 0.85
    assert line["oos_recall"] is not None
    assert line["baseline_oos_recall"] == 0.0
    assert line["classifications_per_second"] > 0
    assert line["ratio"] == pytest.approx(line["seconds"] / line["baseline_seconds"], rel=0.01)
    assert {"macro_f1", "training_seconds", "baseline_accuracy", "peak_rss_mb"} <= set(line)


def test_the_benchmark_says_which_file_is_missing(db, tmp_path):
    write_csv(tmp_path / "train.csv", labelled_rows(per_intent=5, oos=0))
    with pytest.raises(CommandError, match=r"--data: .*test.csv: cannot be read"):
        call_command("bench", "intents", "--data", str(tmp_path))


def test_data_is_refused_by_benchmarks_that_read_none(db, tmp_path):
    with pytest.raises(CommandError, match="reads no data set"):
        call_command("bench", "import_contacts", "--data", str(tmp_path))


def test_the_pipeline_benchmark_recognises_every_touchpoint_and_leaves_nothing(db, capsys):
    from contacts.models import Touchpoint
    from intents.models import IntentModel, TouchpointIntent

    call_command("bench", "intents_pipeline", "--scale", "300")

    (line,) = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    assert (line["bench"], line["n"], line["per"]) == ("intents_pipeline", 300, "touchpoint")
    assert 0 < line["with_intent"] < 300
    assert line["baseline_seconds"] > 0
    assert not Touchpoint.objects.exists()
    assert not TouchpointIntent.objects.exists()
    assert not IntentModel.objects.exists()
