from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        from messaging import receivers, tasks  # noqa: F401 - connects the receivers, registers the tasks
