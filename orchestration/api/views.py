from django.shortcuts import get_object_or_404
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orchestration import workflows
from orchestration.api.authentication import AgentKeyAuthentication, IsAgent
from orchestration.api.serializers import DelegateSerializer
from orchestration.models import StepRun


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
