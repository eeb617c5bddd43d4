from rest_framework.routers import DefaultRouter

from messaging.api.audiences import AudienceViewSet
from messaging.api.email_templates import EmailTemplateViewSet

router = DefaultRouter()
router.register("email-templates", EmailTemplateViewSet, basename="email-template")
router.register("audiences", AudienceViewSet, basename="audience")

urlpatterns = router.urls
