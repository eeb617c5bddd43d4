import sys

from contacts.imports.reader import ImportFileError
from contacts.imports.touchpoints import touchpoints_import
from ledger.management.base import CommandError, ManualCommand


class Command(ManualCommand):
    help = (
        "Import touchpoints from a CSV (comma or semicolon, UTF-8) or JSON Lines (.jsonl) file; "
        "unknown e-mails become contacts, a known external_id is a duplicate. Recorded as manual work."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the CSV or .jsonl file")
        parser.add_argument("--rejects", metavar="OUT", help="write the rejected rows, with the reason, here")
        parser.add_argument("--dry-run", action="store_true", help="check and count, but write nothing")

    def handle(self, *args, file, rejects, dry_run, **options):
        try:
            result = touchpoints_import(
                path=file, rejects_path=rejects, dry_run=dry_run, progress=sys.stderr.isatty()
            )
        except ImportFileError as error:
            raise CommandError(f"{file}: {error}") from error
        if result.contacts_created:
            self.stdout.write(f"contacts created {result.contacts_created} (e-mails not known before)")
        if dry_run:
            self.stdout.write("dry run: nothing was written")
        self.stdout.write(result.summary)
