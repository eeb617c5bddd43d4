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
        post_migrate.connect(_default_kinds_on_migrate, sender=self)
        from contacts.enrichment.service import enrich_announced_contacts
        from contacts.signals import touchpoints_captured

        touchpoints_captured.connect(enrich_announced_contacts, dispatch_uid="contacts.enrich")
