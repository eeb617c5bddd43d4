from django.urls import path
from rest_framework.routers import DefaultRouter

from campaigns.api.channels import AudienceViewSet, ContactEraseView, ContactExportView
from campaigns.api.email_templates import EmailTemplateViewSet
from campaigns.api.views import CampaignViewSet

router = DefaultRouter()
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("email-templates", EmailTemplateViewSet, basename="email-template")
router.register("audiences", AudienceViewSet, basename="audience")

urlpatterns = [
    *router.urls,
    # A contact's personal data: answered here, where erasure can reach the messages too.
    path("contacts/<int:pk>/export/", ContactExportView.as_view(), name="contact-personal-export"),
    path("contacts/<int:pk>/erase/", ContactEraseView.as_view(), name="contact-erase"),
]
