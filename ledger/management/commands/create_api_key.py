from ledger.api_keys import api_key_create
from ledger.management.base import CommandError, ManualCommand
from ledger.models import ApiKey


class Command(ManualCommand):
    help = "Create an API key for an integration. The key is printed once, on the last line."

    def add_arguments(self, parser):
        parser.add_argument("name", help="the integration that will use the key, e.g. 'Webinar tool'")
        parser.add_argument(
            "--scope",
            action="append",
            choices=ApiKey.SCOPES,
            dest="scopes",
            help="read and/or write; repeat for both (default: both)",
        )

    def handle(self, *args, name, scopes, **options):
        try:
            api_key, raw_key = api_key_create(integration_name=name, scopes=scopes or ApiKey.SCOPES)
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"API key for {api_key.integration.name} ({', '.join(api_key.scopes)}); "
            "keep it now, it is shown only once:"
        )
        self.stdout.write(raw_key)
