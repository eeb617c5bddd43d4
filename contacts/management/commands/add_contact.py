from django.core.exceptions import ValidationError
from django.db import IntegrityError

from contacts.services import contact_create
from ledger.management.base import CommandError, ManualCommand


class Command(ManualCommand):
    help = "Add one contact by hand (recorded in the ledger as manual work)."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--country", default="", help="ISO 3166 alpha-2, e.g. FR")
        parser.add_argument("--tag", action="append", default=[], dest="tags", help="repeat for several tags")

    def handle(self, *args, email, first_name, last_name, country, tags, **options):
        try:
            contact = contact_create(
                email=email, first_name=first_name, last_name=last_name, country=country.upper(), tags=tags
            )
        except ValidationError as error:
            problems = "; ".join(
                f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items()
            )
            raise CommandError(problems) from error
        except IntegrityError as error:
            raise CommandError(f"a contact with e-mail {email!r} already exists") from error
        self.stdout.write(f"created contact {contact.pk} <{contact.email}>")
