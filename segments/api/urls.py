from rest_framework.routers import DefaultRouter

from segments.api.views import SegmentViewSet

router = DefaultRouter()
router.register("segments", SegmentViewSet, basename="segment")

urlpatterns = router.urls
