from django.shortcuts import get_object_or_404
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orchestration import workflows
from orchestration.api.authentication import AgentKeyAuthentication, IsAgent
from orchestration.api.serializers import DelegateSerializer, StartRunSerializer
from orchestration.models import Agent, StepRun, WorkflowTemplate


class DelegateView(APIView):
    """The agent running a step hands a sub-task to another agent (routed by capability)."""

    authentication_classes = [AgentKeyAuthentication]
    permission_classes = [IsAgent]

    def post(self, request: Request, step_id: int) -> Response:
        step = get_object_or_404(StepRun, pk=step_id, agent=request.auth)
        serializer = DelegateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            child = workflows.delegate(
                step, request.auth, serializer.validated_data["capability"], serializer.to_request()
            )
        except workflows.DelegationRefused as refused:
            return Response(
                {"detail": str(refused), "decision_id": refused.decision.pk, "verdict": refused.decision.verdict},
                status=status.HTTP_403_FORBIDDEN,
            )
        except workflows.WorkflowError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        child.refresh_from_db()
        return Response(
            {"run_id": child.pk, "status": child.status, "parent_step_id": step.pk}, status=status.HTTP_201_CREATED
        )


class CanStartRuns(BasePermission):
    message = "Starting workflows needs an agent key or the permission to start runs."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, Agent) or request.user.has_perm("orchestration.start_workflowrun")


class StartRunView(APIView):
    """Start a run of a workflow template: by a person with the permission, or by an agent."""

    authentication_classes = [AgentKeyAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated, CanStartRuns]

    def post(self, request: Request, slug: str) -> Response:
        workflow = get_object_or_404(WorkflowTemplate, slug=slug)
        serializer = StartRunSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        started_by = f"agent:{request.auth.slug}" if isinstance(request.auth, Agent) else f"user:{request.user}"
        try:
            run = workflows.start_workflow(workflow, serializer.validated_data["input"], started_by=started_by)
        except workflows.WorkflowError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        run.refresh_from_db()
        return Response({"run_id": run.pk, "status": run.status}, status=status.HTTP_201_CREATED)
