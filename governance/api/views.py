from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.api.serializers import EvaluateRequestSerializer, EvaluateResponseSerializer
from governance.services import evaluate_action
from orchestration.api.authentication import AgentKeyAuthentication, IsAgent


class EvaluateView(APIView):
    """An agent asks whether it may perform an action; Regent decides and records it."""

    authentication_classes = [AgentKeyAuthentication]
    permission_classes = [IsAgent]

    def post(self, request: Request) -> Response:
        serializer = EvaluateRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        decision = evaluate_action(request.auth, serializer.to_request())
        approval = getattr(decision, "approval", None)
        body = {
            "decision_id": decision.pk,
            "verdict": decision.verdict,
            "risk_score": decision.risk_score,
            "matched_policies": [p for p in decision.matched_policies if p["mode"] == "enforce"],
            "explanation": decision.explanation,
            "approval_id": approval.pk if approval else None,
        }
        return Response(EvaluateResponseSerializer(body).data, status=status.HTTP_200_OK)
