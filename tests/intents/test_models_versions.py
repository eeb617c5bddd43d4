import pytest

from intents import services
from intents.models import Intent, IntentExample, IntentModel
from ledger.models import Action
from tests.factories import TouchpointFactory
from tests.intents.data import labelled_rows


@pytest.fixture
def examples(db):
    intents = {intent.key: intent for intent in Intent.objects.all()}
    IntentExample.objects.bulk_create(
        [
            IntentExample(text=text, intent=intents.get(label), source="import")
            for text, label in labelled_rows()
        ]
    )


def test_the_taxonomy_starts_with_the_six_needs_and_the_journey(db):
    keys = set(Intent.objects.values_list("key", flat=True))
    assert {"surprise_me", "help_me", "reassure_me", "educate_me", "thrill_me", "impress_me"} <= keys
    assert {"research", "compare", "purchase", "support", "churn_risk"} <= keys
    assert all(intent.half_life_hours > 0 and intent.description for intent in Intent.objects.all())


def test_labelling_a_touchpoint_keeps_its_text_and_relabelling_replaces_it(as_marketer):
    touchpoint = TouchpointFactory(kind_id="chat_message", text="How do I cancel my plan?")
    churn, support = Intent.objects.get(key="churn_risk"), Intent.objects.get(key="support")

    services.touchpoint_label(touchpoint=touchpoint, intent=support)
    example = services.touchpoint_label(touchpoint=touchpoint, intent=churn)

    assert IntentExample.objects.get() == example
    assert (example.text, example.intent, example.labelled_by) == ("How do I cancel my plan?", churn, "maya")
    actions = Action.objects.filter(verb="intent.labelled")
    assert actions.count() == 2
    assert {a.actor_kind for a in actions} == {"manual"}


def test_training_stores_a_version_with_its_held_out_evaluation(as_marketer, examples):
    model = services.intent_model_train_now()

    assert model.status == IntentModel.Status.READY
    assert model.version == 1
    assert model.example_count == 140
    evaluation = model.evaluation
    assert evaluation["examples"] == 28  # a fifth, held out
    assert evaluation["trained_on"] == 112
    assert evaluation["accuracy"] >= 0.8
    assert set(evaluation["per_intent"]) == {"compare", "purchase", "support", "churn_risk"}
    assert {"precision", "recall", "support"} <= set(evaluation["per_intent"]["support"])
    assert all({"true", "predicted", "count"} == set(pair) for pair in evaluation["confusions"])
    assert 0 < model.threshold < 1
    assert bytes(model.artifact).startswith(b"MOPS-INTENTS-1")
    assert Action.objects.filter(verb="intent_model.trained", actor_kind="manual").count() == 1


def test_training_without_two_labelled_intents_fails_with_the_reason(as_marketer):
    IntentExample.objects.create(text="cancel my account", intent=Intent.objects.get(key="churn_risk"))

    model = services.intent_model_train_now()

    assert model.status == IntentModel.Status.FAILED
    assert "at least two intents" in model.error
    assert not model.artifact


def test_activate_and_roll_back_versions(as_marketer, examples):
    first = services.intent_model_train_now(activate=True)
    second = services.intent_model_train_now(activate=True)
    first.refresh_from_db()
    assert (first.is_active, second.is_active) == (False, True)

    back = services.intent_model_rollback()

    assert back == first
    assert list(IntentModel.objects.filter(is_active=True)) == [first]
    assert Action.objects.filter(verb="intent_model.activated").count() == 3


def test_rollback_needs_an_earlier_version(as_marketer, examples):
    services.intent_model_train_now(activate=True)
    with pytest.raises(ValueError, match="only one ever activated"):
        services.intent_model_rollback()


def test_a_failed_version_cannot_be_activated(as_marketer):
    model = services.intent_model_train_now()
    with pytest.raises(ValueError, match="only a ready version"):
        services.intent_model_activate(model=model)


def test_the_threshold_can_be_moved_within_zero_and_one(as_marketer, examples):
    model = services.intent_model_train_now()
    services.intent_model_threshold_set(model=model, threshold=0.9)
    assert IntentModel.objects.get(pk=model.pk).threshold == 0.9
    with pytest.raises(ValueError, match="between 0 and 1"):
        services.intent_model_threshold_set(model=model, threshold=1.5)


def test_the_admin_button_trains_in_a_celery_job(
    as_marketer, examples, celery_eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        model = services.intent_model_request()
    model.refresh_from_db()
    assert model.status == IntentModel.Status.READY
    assert Action.objects.get(verb="intent_model.trained").actor_kind == "algorithmic"


def test_relabelling_and_deleting_examples_are_recorded(as_marketer):
    example = services.intent_example_add(text="send me a quote", intent=Intent.objects.get(key="compare"))

    services.intent_example_relabel(example=example, intent=Intent.objects.get(key="purchase"), text="")
    services.intent_example_delete_many(examples=[example])

    assert not IntentExample.objects.exists()
    verbs = list(Action.objects.order_by("id").values_list("verb", flat=True))
    assert verbs == ["intent.labelled", "intent.relabelled", "intent.example_deleted"]
    relabelled = Action.objects.get(verb="intent.relabelled").details
    assert (relabelled["from"]["intent"], relabelled["to"]["intent"]) == ("compare", "purchase")
    assert relabelled["to"]["text"] == "send me a quote"
