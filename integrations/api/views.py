"""Personal tokens (each person manages their own) and webhook subscriptions (for those allowed)."""

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from integrations import tokens, webhooks
from integrations.api.serializers import (
    IssuedTokenSerializer,
    NewWebhookSubscriptionSerializer,
    PersonalTokenSerializer,
    WebhookDeliverySerializer,
    WebhookSubscriptionChangeSerializer,
    WebhookSubscriptionSerializer,
)
from integrations.models import PersonalToken, WebhookSubscription
from orchestration.scoping import scope_to_all_departments
from restapi.permissions import IsPerson, holds

RECENT_DELIVERIES = 100


class PersonalTokenViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The caller's own tokens. A token acts with its person's roles and department scope."""

    serializer_class = PersonalTokenSerializer
    permission_classes = [IsPerson]
    queryset = PersonalToken.objects.all()

    def get_queryset(self) -> QuerySet:
        return PersonalToken.objects.filter(user=self.request.user)

    @extend_schema(request=PersonalTokenSerializer, responses={201: IssuedTokenSerializer})
    def create(self, request: Request) -> Response:
        serializer = PersonalTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        token, raw = tokens.issue_token(request.user, data["name"], expires_at=data["expires_at"])
        token.token = raw
        return Response(IssuedTokenSerializer(token).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=PersonalTokenSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str) -> Response:
        token = self.get_object()
        tokens.revoke_token(token, by=request.user)
        token.refresh_from_db()
        return Response(PersonalTokenSerializer(token).data)


class WebhookSubscriptionViewSet(
    mixins.CreateModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet
):
    """Subscriptions the caller may manage: all of them for organisation-wide roles, a Supervisor's only
    those whose departments are all theirs (integrations.webhooks has the rule, for changes too)."""

    serializer_class = WebhookSubscriptionSerializer
    permission_classes = [holds("integrations.manage_webhooks")]
    queryset = WebhookSubscription.objects.all()

    def get_queryset(self) -> QuerySet:
        subscriptions = WebhookSubscription.objects.prefetch_related("departments").order_by("pk")
        return scope_to_all_departments(subscriptions, self.request.user)

    @extend_schema(request=WebhookSubscriptionSerializer, responses={201: NewWebhookSubscriptionSerializer})
    def create(self, request: Request) -> Response:
        serializer = WebhookSubscriptionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        subscription = webhooks.subscribe(
            data["url"], data["event_types"], by=request.user, departments=data.get("departments", [])
        )
        return Response(NewWebhookSubscriptionSerializer(subscription).data, status=status.HTTP_201_CREATED)

    def get_serializer_class(self) -> type[WebhookSubscriptionSerializer]:
        if self.action in ("update", "partial_update"):
            return WebhookSubscriptionChangeSerializer
        return WebhookSubscriptionSerializer

    def perform_update(self, serializer: WebhookSubscriptionChangeSerializer) -> None:
        serializer.instance = webhooks.change_subscription(
            serializer.instance, by=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance: WebhookSubscription) -> None:
        webhooks.unsubscribe(instance, by=self.request.user)

    @extend_schema(responses=WebhookDeliverySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def deliveries(self, request: Request, pk: str) -> Response:
        """The latest deliveries, newest first."""
        latest = self.get_object().deliveries.order_by("-pk")[:RECENT_DELIVERIES]
        return Response(WebhookDeliverySerializer(latest, many=True).data)
