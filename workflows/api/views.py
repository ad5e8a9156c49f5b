"""Strategy and workflows over HTTP: templates, runs, starting a run, delegating a step. Reads are scoped by
department; every change calls workflows' service modules (strategy, templates, runtime)."""

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orchestration.api.authentication import IsAgent
from orchestration.api.views import RegistryViewSet
from orchestration.models import Agent
from orchestration.roles import sees_whole_organisation
from orchestration.scoping import visible_departments
from restapi.errors import error_response
from restapi.permissions import IsPerson, ModelPermissions, holds
from workflows import runtime, templates
from workflows.api.serializers import (
    DelegatedSerializer,
    DelegateSerializer,
    RunStartedSerializer,
    StartRunSerializer,
    StepRunSerializer,
    StrategySerializer,
    WorkflowRunDetailSerializer,
    WorkflowRunSerializer,
    WorkflowTemplateSerializer,
)
from workflows.models import StepRun, Strategy, WorkflowRun, WorkflowTemplate
from workflows.strategy import set_strategy


class StrategyView(APIView):
    """The active strategy; posting a new one makes it active and keeps the old one as history."""

    def get_permissions(self) -> list[BasePermission]:
        if self.request.method == "POST":
            return [holds("workflows.add_strategy")()]
        return [holds("workflows.view_strategy")()]

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
        strategy = set_strategy(**serializer.validated_data, by=request.user)
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
        return templates.save_workflow_template(template, steps, by=self.request.user)


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
            return [holds("workflows.start_workflowrun")()]
        return super().get_permissions()

    @extend_schema(request=None, responses=WorkflowRunDetailSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        run = self.get_object()
        runtime.cancel_workflow(run, by=f"user:{request.user.get_username()}")
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
        child = runtime.delegate(step, request.auth, serializer.validated_data["capability"], serializer.to_request())
        child.refresh_from_db()
        return Response(
            {"run_id": child.pk, "status": child.status, "parent_step_id": step.pk}, status=status.HTTP_201_CREATED
        )


class CanStartRuns(BasePermission):
    message = "Starting workflows needs an agent key or the permission to start runs."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, Agent) or (
            IsPerson().has_permission(request, view) and request.user.has_perm("workflows.start_workflowrun")
        )


class StartRunView(APIView):
    """Start a run of a workflow template: by a person with the permission, or by an agent."""

    permission_classes = [IsAuthenticated, CanStartRuns]

    @extend_schema(request=StartRunSerializer, responses={201: RunStartedSerializer})
    def post(self, request: Request, slug: str) -> Response:
        workflow = get_object_or_404(WorkflowTemplate, slug=slug)
        serializer = StartRunSerializer(data=request.data, context={"workflow": workflow})
        serializer.is_valid(raise_exception=True)
        started_by = f"agent:{request.auth.slug}" if isinstance(request.auth, Agent) else f"user:{request.user}"
        run = runtime.start_workflow(workflow, serializer.validated_data["input"], started_by=started_by)
        run.refresh_from_db()
        return Response({"run_id": run.pk, "status": run.status}, status=status.HTTP_201_CREATED)
