from django.apps import AppConfig


class IntentsConfig(AppConfig):
    name = "intents"
    verbose_name = "Intents"

    def ready(self) -> None:
        # contacts announces new touchpoints and knows nothing of intents; we listen.
        from contacts.signals import touchpoints_captured
        from intents.tasks import touchpoints_captured_receiver

        touchpoints_captured.connect(touchpoints_captured_receiver, dispatch_uid="intents.recognise")
