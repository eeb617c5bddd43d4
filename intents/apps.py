from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _default_intents_on_migrate(sender, **kwargs) -> None:
    # Also after a flush (which emits post_migrate), so the taxonomy is never empty.
    from intents.models import Intent
    from intents.taxonomy import default_intents_ensure

    default_intents_ensure(Intent)


class IntentsConfig(AppConfig):
    name = "intents"
    verbose_name = "Intents"

    def ready(self) -> None:
        post_migrate.connect(_default_intents_on_migrate, sender=self)
        # contacts announces new touchpoints and knows nothing of intents; we listen.
        from contacts.signals import touchpoints_captured
        from intents.tasks import touchpoints_captured_receiver

        touchpoints_captured.connect(touchpoints_captured_receiver, dispatch_uid="intents.recognise")

        from contacts.personal_data import PersonalDataPart, personal_data_register
        from intents.services import contact_intents_erase, contact_labelled_texts

        personal_data_register(
            PersonalDataPart("intents", erase=contact_intents_erase, values=contact_labelled_texts)
        )
