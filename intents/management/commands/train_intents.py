from intents.models import IntentModel
from intents.services import intent_model_train_now
from ledger.management.base import CommandError, ManualCommand


class Command(ManualCommand):
    help = "Train a new version of the intent model on the labelled examples and print its evaluation."

    def add_arguments(self, parser):
        parser.add_argument(
            "--activate", action="store_true", help="activate the new version when it is ready"
        )

    def handle(self, *args, activate, **options):
        model = intent_model_train_now(activate=activate)
        if model.status != IntentModel.Status.READY:
            raise CommandError(f"version {model.version} failed: {model.error}")
        evaluation = model.evaluation
        self.stdout.write(
            f"version {model.version}: accuracy {evaluation['accuracy']}, macro-F1 {evaluation['macro_f1']}, "
            f"threshold {model.threshold}, {model.example_count} examples, {model.training_seconds} s"
            + (", active" if model.is_active else "")
        )
