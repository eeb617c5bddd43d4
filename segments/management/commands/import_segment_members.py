from contacts.imports.reader import ImportFileError
from ledger.management.base import CommandError, ManualCommand
from segments.models import Segment
from segments.services import SegmentError, static_members_import

UNKNOWN_SHOWN = 10


class Command(ManualCommand):
    help = (
        "Put the contacts named in a file (CSV with an email column, or .jsonl) on a static list. "
        "Recorded as manual work."
    )

    def add_arguments(self, parser):
        parser.add_argument("segment", help="the static list's slug")
        parser.add_argument("file", help="the CSV or .jsonl file")

    def handle(self, *args, segment, file, **options):
        found = Segment.objects.filter(slug=segment).first()
        if found is None:
            raise CommandError(f"no segment has the slug {segment!r}")
        try:
            result = static_members_import(segment=found, path=file)
        except (ImportFileError, SegmentError) as error:
            raise CommandError(f"{file}: {error}") from error
        for line, why in result.rejected[:UNKNOWN_SHOWN]:
            self.stderr.write(f"line {line}: {why}")
        if result.unknown:
            shown = ", ".join(result.unknown[:UNKNOWN_SHOWN])
            more = (
                f" and {len(result.unknown) - UNKNOWN_SHOWN} more"
                if len(result.unknown) > UNKNOWN_SHOWN
                else ""
            )
            self.stderr.write(f"no contact has these addresses: {shown}{more}")
        self.stdout.write(result.summary)
