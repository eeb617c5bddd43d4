from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _default_kinds_on_migrate(sender, **kwargs) -> None:
    # Also after a flush (which emits post_migrate), so the registry is never empty.
    from contacts.kinds import default_kinds_ensure
    from contacts.models import TouchpointKind

    default_kinds_ensure(TouchpointKind)


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = "Contacts"

    def ready(self) -> None:
        from contacts import tasks  # noqa: F401 - registers the tasks its dispatch queues by name

        post_migrate.connect(_default_kinds_on_migrate, sender=self)
        from contacts.enrichment.service import enrich_announced_contacts
        from contacts.signals import touchpoints_captured

        touchpoints_captured.connect(enrich_announced_contacts, dispatch_uid="contacts.enrich")

        from contacts.personal_data import PersonalDataPart, personal_data_register
        from contacts.services import contact_personal_data, contact_personal_data_erase

        personal_data_register(
            PersonalDataPart("contacts", export=contact_personal_data, erase=contact_personal_data_erase)
        )
