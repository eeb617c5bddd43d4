from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        from contacts.personal_data import PersonalDataPart, personal_data_register
        from messaging import receivers, tasks  # noqa: F401 - connects the receivers, registers the tasks
        from messaging.services import contact_messages, contact_messages_erase

        personal_data_register(
            PersonalDataPart("messaging", export=contact_messages, erase=contact_messages_erase)
        )
