from ledger.management.base import CommandError, ManualCommand
from messaging.audiences import audience_sync
from messaging.models import Audience


class Command(ManualCommand):
    help = "Send an audience's current members now (by id or name); prints the count and the file."

    def add_arguments(self, parser):
        parser.add_argument("audience", help="the audience's id or name")

    def handle(self, *args, audience, **options):
        found = Audience.objects.filter(pk=int(audience)) if audience.isdigit() else Audience.objects.none()
        found = found or Audience.objects.filter(name=audience)
        target = found.first()
        if target is None:
            known = ", ".join(Audience.objects.values_list("name", flat=True)[:20]) or "none yet"
            raise CommandError(f"no audience {audience!r}; audiences: {known}")
        try:
            sync = audience_sync(audience=target)
        except Exception as error:
            raise CommandError(f"{target}: the sync failed: {error}") from error
        where = f", file {sync.file.path}" if sync.file else ""
        self.stdout.write(f"sent {sync.members}, left out {sync.excluded}{where}")
