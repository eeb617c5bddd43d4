from rest_framework.routers import DefaultRouter

from contacts.api.views import AccountViewSet, ContactViewSet, TouchpointViewSet

router = DefaultRouter()
router.register("contacts", ContactViewSet, basename="contact")
router.register("accounts", AccountViewSet, basename="account")
router.register("touchpoints", TouchpointViewSet, basename="touchpoint")

urlpatterns = router.urls
