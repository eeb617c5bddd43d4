from rest_framework.routers import SimpleRouter

from intents.api.views import (
    BehaviourRuleViewSet,
    IntentExampleViewSet,
    IntentModelViewSet,
    IntentSignalViewSet,
    IntentViewSet,
    LeadScoreViewSet,
    ScoringRuleViewSet,
    TextRuleViewSet,
    TopicViewSet,
)

router = SimpleRouter()
router.register("intents", IntentViewSet, basename="intent")
router.register("intent-examples", IntentExampleViewSet, basename="intent-example")
router.register("intent-models", IntentModelViewSet, basename="intent-model")
router.register("intent-signals", IntentSignalViewSet, basename="intent-signal")
router.register("behaviour-rules", BehaviourRuleViewSet, basename="behaviour-rule")
router.register("text-rules", TextRuleViewSet, basename="text-rule")
router.register("scoring-rules", ScoringRuleViewSet, basename="scoring-rule")
router.register("lead-scores", LeadScoreViewSet, basename="lead-score")
router.register("discovered-topics", TopicViewSet, basename="discovered-topic")

urlpatterns = router.urls
