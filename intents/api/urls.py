from rest_framework.routers import SimpleRouter

from intents.api.views import IntentExampleViewSet, IntentModelViewSet, IntentSignalViewSet, IntentViewSet

router = SimpleRouter()
router.register("intents", IntentViewSet, basename="intent")
router.register("intent-examples", IntentExampleViewSet, basename="intent-example")
router.register("intent-models", IntentModelViewSet, basename="intent-model")
router.register("intent-signals", IntentSignalViewSet, basename="intent-signal")

urlpatterns = router.urls
