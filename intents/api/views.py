from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from common.api.errors import error_response
from contacts.models import Contact
from intents import selectors, services
from intents.api.serializers import (
    BehaviourRuleSerializer,
    DiscoveryQueuedOutput,
    IntentExampleInput,
    IntentExampleOutput,
    IntentModelOutput,
    IntentOutput,
    IntentSignalOutput,
    LeadScoreOutput,
    ScoringRuleSerializer,
    TextRuleSerializer,
    ThresholdInput,
    TopicNamedOutput,
    TopicNameInput,
    TopicOutput,
)
from intents.models import (
    BehaviourRule,
    DiscoveredTopic,
    Intent,
    IntentExample,
    IntentModel,
    ScoringRule,
    TextRule,
)
from intents.scoring import lead_score_explain


class IntentViewSet(viewsets.ReadOnlyModelViewSet):
    """The intent taxonomy; edited in the back-office."""

    queryset = Intent.objects.order_by("-id")
    serializer_class = IntentOutput
    lookup_field = "key"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"


class IntentExampleViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Labelled texts the model learns from. Posting one with a touchpoint labels it."""

    queryset = IntentExample.objects.select_related("intent").order_by("-id")
    serializer_class = IntentExampleOutput

    @extend_schema(request=IntentExampleInput, responses={201: IntentExampleOutput})
    def create(self, request, *args, **kwargs):
        serializer = IntentExampleInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data.get("touchpoint") is not None:
            try:
                example = services.touchpoint_label(
                    touchpoint=data["touchpoint"], intent=data["intent"], text=data.get("text", "")
                )
            except ValueError as error:
                return error_response([{"path": "text", "message": str(error)}])
        else:
            example = services.intent_example_add(text=data["text"], intent=data["intent"])
        return Response(IntentExampleOutput(example).data, status=status.HTTP_201_CREATED)


class IntentModelViewSet(viewsets.ReadOnlyModelViewSet):
    """Trained versions of the intent model, with their evaluation on held-out examples."""

    queryset = selectors.intent_model_list().order_by("-id")
    serializer_class = IntentModelOutput
    lookup_field = "version"
    lookup_value_regex = r"\d+"

    @extend_schema(request=None, responses={202: IntentModelOutput})
    @action(detail=False, methods=["post"])
    def train(self, request):
        """Queue the training of a new version; poll it until its status is ready or failed."""
        model = services.intent_model_request()
        return Response(IntentModelOutput(model).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses=IntentModelOutput)
    @action(detail=True, methods=["post"])
    def activate(self, request, version=None):
        model = get_object_or_404(IntentModel.objects.defer("artifact"), version=version)
        try:
            model = services.intent_model_activate(model=model)
        except ValueError as error:
            return error_response([{"path": "version", "message": str(error)}])
        return Response(IntentModelOutput(model).data)

    @extend_schema(request=None, responses=IntentModelOutput)
    @action(detail=False, methods=["post"])
    def rollback(self, request):
        try:
            model = services.intent_model_rollback()
        except ValueError as error:
            return error_response([{"path": "", "message": str(error)}])
        return Response(IntentModelOutput(model).data)

    @extend_schema(request=ThresholdInput, responses=IntentModelOutput)
    @action(detail=True, methods=["post"])
    def threshold(self, request, version=None):
        model = get_object_or_404(IntentModel.objects.defer("artifact"), version=version)
        serializer = ThresholdInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        threshold = serializer.validated_data["threshold"]
        model = services.intent_model_threshold_set(model=model, threshold=threshold)
        return Response(IntentModelOutput(model).data)


class ContactQuery(serializers.Serializer):
    contact = serializers.IntegerField(required=False, min_value=1)


class IntentSignalViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """How strongly each contact shows each intent, decayed to the moment of the request."""

    serializer_class = IntentSignalOutput

    def get_queryset(self):
        query = ContactQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.intent_signal_list(contact_id=query.validated_data.get("contact"))

    @extend_schema(parameters=[OpenApiParameter("contact", int, description="only this contact's signals")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)


class BehaviourRuleViewSet(viewsets.ModelViewSet):
    """What people do that means an intent (touchpoint kind and property conditions)."""

    queryset = BehaviourRule.objects.select_related("intent").order_by("-id")
    serializer_class = BehaviourRuleSerializer


class TextRuleViewSet(viewsets.ModelViewSet):
    """Words that mean an intent, with context words that confirm or veto them."""

    queryset = TextRule.objects.select_related("intent").order_by("-id")
    serializer_class = TextRuleSerializer


class ScoringRuleViewSet(viewsets.ModelViewSet):
    """Fit and engagement rules of the lead score."""

    queryset = ScoringRule.objects.order_by("-id")
    serializer_class = ScoringRuleSerializer


class LeadScoreViewSet(viewsets.GenericViewSet):
    """How a contact's lead score is built, rule by rule, as it stands now."""

    queryset = Contact.objects.order_by("-id")
    serializer_class = LeadScoreOutput

    @extend_schema(responses=LeadScoreOutput)
    def retrieve(self, request, pk=None):
        contact = self.get_object()
        lines = lead_score_explain(contact=contact)
        return Response(LeadScoreOutput({"contact": contact.pk, "score": contact.score, "lines": lines}).data)


class TopicQuery(serializers.Serializer):
    status = serializers.ChoiceField(choices=DiscoveredTopic.Status.choices, required=False)


class TopicViewSet(viewsets.ReadOnlyModelViewSet):
    """Topics discovered among the texts no intent was recognised in. A person names one
    (it becomes an intent, or part of one, with its texts as examples), dismisses it, or
    takes its contacts as a static list."""

    serializer_class = TopicOutput
    queryset = DiscoveredTopic.objects.none()

    def get_queryset(self):
        if self.action != "list":
            return selectors.topic_list()
        query = TopicQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.topic_list(status=query.validated_data.get("status")).order_by("-id")

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=DiscoveredTopic.Status.values, description="only these")
        ]
    )
    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        trends = selectors.topic_trends(topic_ids=[topic.pk for topic in page])
        return self.get_paginated_response(TopicOutput(page, many=True, context={"trends": trends}).data)

    @extend_schema(request=TopicNameInput, responses=TopicNamedOutput)
    @action(detail=True, methods=["post"], url_path="name", url_name="name")
    def name_topic(self, request, pk=None):  # `name` is taken: DRF names the view with it
        """Name the topic: a new intent (`name`) or merged into an existing one (`intent`)."""
        topic = self.get_object()
        serializer = TopicNameInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            named = services.topic_name(
                topic=topic, name=data.get("name", ""), intent=data.get("intent"), retrain=data["retrain"]
            )
        except ValueError as error:
            return error_response([{"path": "name", "message": str(error)}])
        return Response(TopicNamedOutput(named).data)

    @extend_schema(request=None, responses=TopicOutput)
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        try:
            topic = services.topic_dismiss(topic=self.get_object())
        except ValueError as error:
            return error_response([{"path": "", "message": str(error)}])
        return Response(TopicOutput(topic).data)

    @extend_schema(request=None, responses={202: DiscoveryQueuedOutput})
    @action(detail=False, methods=["post"])
    def discover(self, request):
        """Run discovery now, in a worker (as the schedule does)."""
        from intents.tasks import topics_discover_task

        transaction.on_commit(lambda: topics_discover_task.delay())
        return Response(DiscoveryQueuedOutput({"status": "queued"}).data, status=status.HTTP_202_ACCEPTED)
