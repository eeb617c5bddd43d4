from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Campaigns"

    def ready(self) -> None:
        from campaigns import receivers, tasks  # noqa: F401 - connects the receivers, registers the tasks
        from campaigns.origins import ORIGIN_TYPE, campaign_origins
        from campaigns.selectors import campaigns_sending_template
        from ledger.origins import origin_type_register
        from messaging.services import email_template_users_register

        origin_type_register(ORIGIN_TYPE, campaign_origins)
        email_template_users_register(campaigns_sending_template)

        from campaigns.services import contact_enrollments_erase, contact_enrollments_personal_data
        from contacts.personal_data import PersonalDataPart, personal_data_register

        personal_data_register(
            PersonalDataPart(
                "campaigns", export=contact_enrollments_personal_data, erase=contact_enrollments_erase
            )
        )
