from rest_framework.routers import DefaultRouter

from campaigns.api.email_templates import EmailTemplateViewSet
from campaigns.api.views import CampaignViewSet

router = DefaultRouter()
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("email-templates", EmailTemplateViewSet, basename="email-template")

urlpatterns = router.urls
