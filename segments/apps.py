from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "segments"
    verbose_name = "Segments"

    def ready(self) -> None:
        from contacts.personal_data import PersonalDataPart, personal_data_register
        from segments import (
            receivers,  # noqa: F401 - connects the signal receivers
            tasks,  # noqa: F401 - registers the tasks its dispatch queues by name
        )
        from segments.selectors import contact_segment_names

        personal_data_register(PersonalDataPart("segments", export=contact_segment_names))
