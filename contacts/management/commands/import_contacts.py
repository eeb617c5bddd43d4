import sys

from contacts.imports.contacts import contacts_import
from contacts.imports.reader import ImportFileError
from ledger.management.base import CommandError, ManualCommand


class Command(ManualCommand):
    help = (
        "Import contacts from a CSV (comma or semicolon, UTF-8) or JSON Lines (.jsonl) file: "
        "upsert by e-mail; empty cells keep what is known. Recorded in the ledger as manual work."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the CSV or .jsonl file")
        parser.add_argument("--rejects", metavar="OUT", help="write the rejected rows, with the reason, here")
        parser.add_argument("--dry-run", action="store_true", help="check and count, but write nothing")

    def handle(self, *args, file, rejects, dry_run, **options):
        try:
            result = contacts_import(
                path=file, rejects_path=rejects, dry_run=dry_run, progress=sys.stderr.isatty()
            )
        except ImportFileError as error:
            raise CommandError(f"{file}: {error}") from error
        if result.merged:
            self.stdout.write(f"merged {result.merged} duplicate rows (the same e-mail given more than once)")
        if result.accounts_created:
            self.stdout.write(f"accounts created {result.accounts_created}")
        if dry_run:
            self.stdout.write("dry run: nothing was written")
        self.stdout.write(result.summary)
