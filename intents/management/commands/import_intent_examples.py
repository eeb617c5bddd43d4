from pathlib import Path

from intents.learning.datasets import DatasetError
from intents.services import intent_examples_import
from ledger.management.base import CommandError, ManualCommand


class Command(ManualCommand):
    help = "Import labelled texts (CSV with the columns text,label; label an intent key, or oos for none)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file, **options):
        try:
            count = intent_examples_import(path=file)
        except DatasetError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"imported {count}")
