"""The registry, strategy and workflows over HTTP. Reads are scoped by department; every change calls
orchestration.services or orchestration.workflows."""

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations.api.errors import Conflict, error_response
from integrations.api.permissions import IsPerson, ModelPermissions, holds
from orchestration import services, workflows
from orchestration.api.authentication import IsAgent
from orchestration.api.serializers import (
    AgentKeySerializer,
    AgentSerializer,
    AgentStatusSerializer,
    CapabilitySerializer,
    DelegatedSerializer,
    DelegateSerializer,
    DepartmentSerializer,
    IssuedKeySerializer,
    ModelProviderSerializer,
    RevokedKeysSerializer,
    RunStartedSerializer,
    StartRunSerializer,
    StepRunSerializer,
    StrategySerializer,
    WorkflowRunDetailSerializer,
    WorkflowRunSerializer,
    WorkflowTemplateSerializer,
)
from orchestration.keys import PREFIX_LENGTH
from orchestration.models import (
    Agent,
    AgentKey,
    Capability,
    Department,
    ModelProvider,
    Status,
    StepRun,
    Strategy,
    WorkflowRun,
    WorkflowTemplate,
)
from orchestration.roles import sees_whole_organisation
from orchestration.scoping import visible_agents, visible_departments


class DepartmentViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = DepartmentSerializer
    permission_classes = [ModelPermissions]
    queryset = Department.objects.all()

    def get_queryset(self) -> QuerySet:
        return visible_departments(self.request.user).order_by("pk")


class RegistryViewSet(viewsets.ModelViewSet):
    """Read for every role; create, change and delete with the model's permissions (Policy Admins), each
    through orchestration.services, audited. Deleting what something depends on is a 409 saying what."""

    permission_classes = [ModelPermissions]

    def perform_create(self, serializer) -> None:
        serializer.instance = self._save(self.queryset.model(), dict(serializer.validated_data))

    def perform_update(self, serializer) -> None:
        saved = self._save(serializer.instance, dict(serializer.validated_data))
        serializer.instance = self.get_queryset().get(pk=saved.pk)  # fresh, not the prefetched rows of before

    def _save(self, entry, data: dict):
        for name, value in data.items():
            setattr(entry, name, value)
        return services.save_registry_entry(entry, by=self.request.user)

    @extend_schema(responses={204: None, 409: OpenApiResponse(description="In use: the message says by what.")})
    def destroy(self, request: Request, *args, **kwargs) -> Response:
        try:
            services.delete_registry_entry(self.get_object(), by=request.user)
        except services.InUse as exc:
            raise Conflict(str(exc)) from exc
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
        return _issued(services.issue_agent_key(self.get_object(), by=request.user))

    @extend_schema(request=None, responses={201: IssuedKeySerializer})
    @action(detail=True, methods=["post"], url_path="keys/rotate")
    def rotate_key(self, request: Request, pk: str) -> Response:
        return _issued(services.rotate_agent_key(self.get_object(), by=request.user))

    @extend_schema(request=None, responses=RevokedKeysSerializer)
    @action(detail=True, methods=["post"], url_path="keys/revoke")
    def revoke_keys(self, request: Request, pk: str) -> Response:
        return Response({"revoked": services.revoke_agent_keys(self.get_object(), by=request.user)})

    @extend_schema(request=AgentStatusSerializer, responses=AgentSerializer)
    @action(detail=True, methods=["post"], url_path="status")
    def change_status(self, request: Request, pk: str) -> Response:
        """Pause, resume or kill the agent; killing or reviving needs the kill permission."""
        agent = self.get_object()
        serializer = AgentStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        wanted = serializer.validated_data["status"]
        if Status.KILLED in (wanted, agent.status) and not request.user.has_perm("orchestration.kill_agent"):
            return error_response(403, "permission_denied", "Killing an agent, or reviving one, needs the kill role.")
        services.change_agent_status(agent, wanted, by=request.user)
        return Response(AgentSerializer(self.get_queryset().get(pk=agent.pk)).data)


class StrategyView(APIView):
    """The active strategy; posting a new one makes it active and keeps the old one as history."""

    def get_permissions(self) -> list[BasePermission]:
        if self.request.method == "POST":
            return [holds("orchestration.add_strategy")()]
        return [holds("orchestration.view_strategy")()]

    @extend_schema(responses=StrategySerializer)
    def get(self, request: Request) -> Response:
        strategy = Strategy.objects.filter(is_active=True).first()
        if strategy is None:
            return error_response(404, "not_found", "No strategy has been set yet.")
        return Response(StrategySerializer(strategy).data)

    @extend_schema(request=StrategySerializer, responses={201: StrategySerializer})
    def post(self, request: Request) -> Response:
        serializer = StrategySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        strategy = services.set_strategy(**serializer.validated_data, by=request.user)
        return Response(StrategySerializer(strategy).data, status=status.HTTP_201_CREATED)


class WorkflowTemplateViewSet(RegistryViewSet):
    """Workflow templates with their steps; a write gives the whole list of steps (PATCH may leave it out)."""

    serializer_class = WorkflowTemplateSerializer
    queryset = WorkflowTemplate.objects.prefetch_related("steps__capability").order_by("pk")
    lookup_field = "slug"

    def _save(self, template: WorkflowTemplate, data: dict) -> WorkflowTemplate:
        steps = data.pop("steps", None)
        for name, value in data.items():
            setattr(template, name, value)
        try:
            return services.save_workflow_template(template, steps, by=self.request.user)
        except services.InUse as exc:
            raise Conflict(str(exc)) from exc


def runs_visible_to(user) -> QuerySet[WorkflowRun]:
    """Every run for the organisation-wide roles; for a Supervisor, runs with a step by one of their agents."""
    runs = WorkflowRun.objects.all()
    if sees_whole_organisation(user):
        return runs
    return runs.filter(steps__agent__department__in=visible_departments(user)).distinct()


class WorkflowRunViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [ModelPermissions]
    queryset = WorkflowRun.objects.all()
    filterset_fields = ["status", "workflow"]

    def get_queryset(self) -> QuerySet:
        runs = runs_visible_to(self.request.user).select_related("workflow").order_by("pk")
        if self.action != "list":
            steps = StepRun.objects.select_related("template").order_by("template__position", "pk")
            runs = runs.prefetch_related(Prefetch("steps", queryset=steps))
        return runs

    def get_serializer_class(self):
        return WorkflowRunSerializer if self.action == "list" else WorkflowRunDetailSerializer

    def get_permissions(self) -> list[BasePermission]:
        if self.action == "cancel":
            return [holds("orchestration.start_workflowrun")()]
        return super().get_permissions()

    @extend_schema(request=None, responses=WorkflowRunDetailSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        run = self.get_object()
        try:
            workflows.cancel_workflow(run, by=f"user:{request.user.get_username()}")
        except workflows.WorkflowError as exc:
            return error_response(409, "conflict", str(exc))
        return Response(WorkflowRunDetailSerializer(self.get_queryset().get(pk=run.pk)).data)

    @extend_schema(responses=StepRunSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def steps(self, request: Request, pk: str) -> Response:
        return Response(StepRunSerializer(self.get_object().steps.all(), many=True).data)


class DelegateView(APIView):
    """The agent running a step hands a sub-task to another agent (routed by capability)."""

    permission_classes = [IsAgent]

    @extend_schema(request=DelegateSerializer, responses={201: DelegatedSerializer})
    def post(self, request: Request, step_id: int) -> Response:
        step = get_object_or_404(StepRun, pk=step_id, agent=request.auth)
        serializer = DelegateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            child = workflows.delegate(
                step, request.auth, serializer.validated_data["capability"], serializer.to_request()
            )
        except workflows.DelegationRefused as refused:
            return error_response(
                403, "refused", str(refused), decision_id=refused.decision.pk, verdict=refused.decision.verdict
            )
        except workflows.WorkflowError as exc:
            return error_response(409, "conflict", str(exc))
        child.refresh_from_db()
        return Response(
            {"run_id": child.pk, "status": child.status, "parent_step_id": step.pk}, status=status.HTTP_201_CREATED
        )


class CanStartRuns(BasePermission):
    message = "Starting workflows needs an agent key or the permission to start runs."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, Agent) or (
            IsPerson().has_permission(request, view) and request.user.has_perm("orchestration.start_workflowrun")
        )


class StartRunView(APIView):
    """Start a run of a workflow template: by a person with the permission, or by an agent."""

    permission_classes = [IsAuthenticated, CanStartRuns]

    @extend_schema(request=StartRunSerializer, responses={201: RunStartedSerializer})
    def post(self, request: Request, slug: str) -> Response:
        workflow = get_object_or_404(WorkflowTemplate, slug=slug)
        serializer = StartRunSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        started_by = f"agent:{request.auth.slug}" if isinstance(request.auth, Agent) else f"user:{request.user}"
        try:
            run = workflows.start_workflow(workflow, serializer.validated_data["input"], started_by=started_by)
        except workflows.WorkflowError as exc:
            return error_response(409, "conflict", str(exc))
        run.refresh_from_db()
        return Response({"run_id": run.pk, "status": run.status}, status=status.HTTP_201_CREATED)
