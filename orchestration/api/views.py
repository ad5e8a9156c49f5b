"""The registry over HTTP. Reads are scoped by department; every change calls
the registry's service modules (entries, keys, kill_switch)."""

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from orchestration import entries, keys, kill_switch
from orchestration.api.serializers import (
    AgentKeySerializer,
    AgentSerializer,
    AgentStatusSerializer,
    CapabilitySerializer,
    DepartmentSerializer,
    IssuedKeySerializer,
    ModelProviderSerializer,
    RevokedKeysSerializer,
)
from orchestration.keys import PREFIX_LENGTH
from orchestration.models import Agent, AgentKey, Capability, Department, ModelProvider, Status
from orchestration.scoping import visible_agents, visible_departments
from restapi.errors import error_response
from restapi.permissions import ModelPermissions, holds


class DepartmentViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = DepartmentSerializer
    permission_classes = [ModelPermissions]
    queryset = Department.objects.all()

    def get_queryset(self) -> QuerySet:
        return visible_departments(self.request.user).order_by("pk")


class RegistryViewSet(viewsets.ModelViewSet):
    """Read for every role; create, change and delete with the model's permissions (Policy Admins), each
    through orchestration.entries, audited. Deleting what something depends on is a 409 saying what."""

    permission_classes = [ModelPermissions]

    def perform_create(self, serializer) -> None:
        serializer.instance = self._save(self.queryset.model(), dict(serializer.validated_data))

    def perform_update(self, serializer) -> None:
        saved = self._save(serializer.instance, dict(serializer.validated_data))
        serializer.instance = self.get_queryset().get(pk=saved.pk)  # fresh, not the prefetched rows of before

    def _save(self, entry, data: dict):
        for name, value in data.items():
            setattr(entry, name, value)
        return entries.save_registry_entry(entry, by=self.request.user)

    @extend_schema(responses={204: None, 409: OpenApiResponse(description="In use: the message says by what.")})
    def destroy(self, request: Request, *args, **kwargs) -> Response:
        entries.delete_registry_entry(self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CapabilityViewSet(RegistryViewSet):
    serializer_class = CapabilitySerializer
    queryset = Capability.objects.order_by("pk")


class ModelProviderViewSet(RegistryViewSet):
    serializer_class = ModelProviderSerializer
    queryset = ModelProvider.objects.order_by("pk")


def _issued(raw_key: str, code: int = status.HTTP_201_CREATED) -> Response:
    return Response(IssuedKeySerializer({"key": raw_key, "prefix": raw_key[:PREFIX_LENGTH]}).data, status=code)


class AgentViewSet(viewsets.ReadOnlyModelViewSet):
    """Agents in the caller's departments; keys and status changes for those whose role allows them."""

    serializer_class = AgentSerializer
    permission_classes = [ModelPermissions]
    queryset = Agent.objects.all()
    filterset_fields = ["department", "status", "risk_tier"]

    def get_queryset(self) -> QuerySet:
        return visible_agents(self.request.user).prefetch_related("capabilities").order_by("pk")

    def get_permissions(self) -> list[BasePermission]:
        if self.action in ("keys", "issue_key", "rotate_key", "revoke_keys"):
            return [holds("orchestration.manage_agent_keys")()]
        if self.action == "change_status":
            return [holds("orchestration.pause_agent")()]
        return super().get_permissions()

    @extend_schema(responses=AgentKeySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def keys(self, request: Request, pk: str) -> Response:
        agent = self.get_object()
        return Response(AgentKeySerializer(AgentKey.objects.filter(agent=agent), many=True).data)

    @extend_schema(request=None, responses={201: IssuedKeySerializer})
    @action(detail=True, methods=["post"], url_path="keys/issue")
    def issue_key(self, request: Request, pk: str) -> Response:
        return _issued(keys.issue_agent_key(self.get_object(), by=request.user))

    @extend_schema(request=None, responses={201: IssuedKeySerializer})
    @action(detail=True, methods=["post"], url_path="keys/rotate")
    def rotate_key(self, request: Request, pk: str) -> Response:
        return _issued(keys.rotate_agent_key(self.get_object(), by=request.user))

    @extend_schema(request=None, responses=RevokedKeysSerializer)
    @action(detail=True, methods=["post"], url_path="keys/revoke")
    def revoke_keys(self, request: Request, pk: str) -> Response:
        return Response({"revoked": keys.revoke_agent_keys(self.get_object(), by=request.user)})

    @extend_schema(request=AgentStatusSerializer, responses=AgentSerializer)
    @action(detail=True, methods=["post"], url_path="status")
    def change_status(self, request: Request, pk: str) -> Response:
        """Pause, resume or kill the agent, saying why; killing or reviving needs the kill permission."""
        agent = self.get_object()
        asked = request.data.get("status") if hasattr(request.data, "get") else None
        if Status.KILLED in (asked, agent.status) and not request.user.has_perm("orchestration.kill_agent"):
            return error_response(403, "permission_denied", "Killing an agent, or reviving one, needs the kill role.")
        serializer = AgentStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        wanted, reason = serializer.validated_data["status"], serializer.validated_data["reason"]
        kill_switch.change_agent_status(agent, wanted, by=request.user, reason=reason)
        return Response(AgentSerializer(self.get_queryset().get(pk=agent.pk)).data)
