"""Governance over HTTP: decisions, outcomes, approvals, policies, replays and the audit log.

Reads are narrowed to the caller's departments; every change calls a governance service function.
"""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit import chain
from audit.models import AuditEvent
from governance import approvals, ingest, overrides, policy_examples
from governance.api import ingest_items
from governance.api.serializers import (
    ApprovalDecisionSerializer,
    ApprovalSerializer,
    AuditEventSerializer,
    ChainReportSerializer,
    DecisionSerializer,
    EvaluateRequestSerializer,
    EvaluateResponseSerializer,
    IngestBatchSerializer,
    IngestResultSerializer,
    OutcomeSerializer,
    OverrideRequestSerializer,
    OverrideSerializer,
    PolicyExampleResultSerializer,
    PolicyModeSerializer,
    PolicySerializer,
    PolicyVersionSerializer,
    RejectionSerializer,
    ReplayRunSerializer,
    ReportOutcomeSerializer,
)
from governance.evaluation import evaluate_action
from governance.filtersets import DecisionFilterSet
from governance.models import Approval, Decision, Policy, ReplayRun
from governance.outcomes import report_claimed_outcome
from governance.policies import save_policy
from governance.replay import start_replay
from orchestration.api.authentication import IsAgent
from orchestration.models import Agent
from orchestration.roles import sees_whole_organisation
from orchestration.scoping import scope_to_departments, visible_departments
from restapi.pagination import ChainOrder
from restapi.permissions import IsPerson, ModelPermissions, holds, is_person
from telemetry.instruments import evaluate_seconds


class EvaluateView(APIView):
    """An agent asks whether it may perform an action; Regent decides and records it."""

    permission_classes = [IsAgent]

    @extend_schema(request=EvaluateRequestSerializer, responses=EvaluateResponseSerializer)
    def post(self, request: Request) -> Response:
        serializer = EvaluateRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with evaluate_seconds.time():
            decision = evaluate_action(
                request.auth, serializer.to_request(), traceparent=request.headers.get("traceparent")
            )
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


class ReportsOutcomes(BasePermission):
    """The decision's agent, or a person whose role reports outcomes (a ticketing or ERP system acting with
    that person's token), for decisions of the departments they see."""

    message = "Report outcomes with the agent's key, or as a person whose role reports outcomes."

    def has_permission(self, request: Request, view) -> bool:
        return isinstance(request.auth, Agent) or (
            is_person(request) and request.user.has_perm("governance.add_outcome")
        )


class OutcomeView(APIView):
    """What happened after a decision, from its agent or another system; a second report keeps the first.

    The reporter is recorded on the outcome and, for a first report, in the audit chain (`outcome.reported`)."""

    permission_classes = [ReportsOutcomes]

    @extend_schema(request=ReportOutcomeSerializer, responses=OutcomeSerializer)
    def post(self, request: Request) -> Response:
        serializer = ReportOutcomeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if isinstance(request.auth, Agent):
            decisions = Decision.objects.filter(agent=request.auth)
        else:
            decisions = scope_to_departments(Decision.objects.all(), request.user)
        decision = get_object_or_404(decisions, pk=data["decision"])
        reporter = request.auth if isinstance(request.auth, Agent) else request.user
        outcome = report_claimed_outcome(
            decision,
            data["result"],
            by=reporter,
            cost=data.get("cost", 0),
            value=data.get("value", 0),
            csat=data.get("csat"),
        )
        return Response(OutcomeSerializer(outcome).data)


class DecisionViewSet(viewsets.ReadOnlyModelViewSet):
    """Decisions in the caller's departments; `override` records a person's judgement that one was wrong."""

    serializer_class = DecisionSerializer
    permission_classes = [ModelPermissions]
    queryset = Decision.objects.all()
    filterset_class = DecisionFilterSet

    def get_queryset(self) -> QuerySet:
        decisions = Decision.objects.select_related("agent", "department", "outcome", "override__by")
        return scope_to_departments(decisions, self.request.user)

    def get_permissions(self) -> list[BasePermission]:
        if self.action == "override":
            return [IsPerson()]  # who may override is the domain's rule (overrides.may_override)
        return super().get_permissions()

    @extend_schema(request=OverrideRequestSerializer, responses={201: OverrideSerializer})
    @action(detail=True, methods=["post"])
    def override(self, request: Request, pk: str) -> Response:
        """Override a denied or flagged decision: executes nothing, and is audited (see governance.overrides)."""
        decision = self.get_object()
        serializer = OverrideRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        made = overrides.override_decision(decision.pk, by=request.user, reason=serializer.validated_data["reason"])
        return Response(OverrideSerializer(made).data, status=status.HTTP_201_CREATED)


class ApprovalViewSet(viewsets.ReadOnlyModelViewSet):
    """Approvals in the caller's departments; `mine` lists those waiting for the caller."""

    serializer_class = ApprovalSerializer
    permission_classes = [ModelPermissions]
    queryset = Approval.objects.all()
    filterset_fields = ["status", "approver_role", "department"]

    def get_queryset(self) -> QuerySet:
        return scope_to_departments(Approval.objects.select_related("decision"), self.request.user)

    def get_permissions(self) -> list[BasePermission]:
        if self.action in ("approve", "reject"):
            return [IsPerson()]
        return super().get_permissions()

    @extend_schema(responses=ApprovalSerializer(many=True))
    @action(detail=False, methods=["get"])
    def mine(self, request: Request) -> Response:
        mine = approvals.pending_for(request.user).select_related("decision")
        page = self.paginate_queryset(self.filter_queryset(mine))
        return self.get_paginated_response(ApprovalSerializer(page, many=True).data)

    @extend_schema(request=ApprovalDecisionSerializer, responses=ApprovalSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        return self._decide(request, approve=True)

    @extend_schema(request=RejectionSerializer, responses=ApprovalSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str) -> Response:
        """Reject the request; `comment` (why) is required."""
        return self._decide(request, approve=False)

    def _decide(self, request: Request, *, approve: bool) -> Response:
        approval = self.get_object()
        serializer = (ApprovalDecisionSerializer if approve else RejectionSerializer)(data=request.data)
        serializer.is_valid(raise_exception=True)
        approvals.decide_approval(
            approval.pk, approve=approve, by=request.user, comment=serializer.validated_data["comment"]
        )
        return Response(ApprovalSerializer(self.get_queryset().get(pk=approval.pk)).data)


class PolicyViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Policies; Policy Admins write them. Every save records a version; new policies start in shadow."""

    serializer_class = PolicySerializer
    permission_classes = [ModelPermissions]
    queryset = Policy.objects.prefetch_related("departments", "agents", "capabilities").order_by("pk")
    filterset_fields = ["effect", "mode", "enabled"]

    def get_permissions(self) -> list[BasePermission]:
        if self.action == "mode":
            return [holds("governance.change_policy")()]
        return super().get_permissions()

    def perform_create(self, serializer: PolicySerializer) -> None:
        serializer.instance = self._save(Policy(), serializer.validated_data)

    def perform_update(self, serializer: PolicySerializer) -> None:
        serializer.instance = self._save(serializer.instance, serializer.validated_data)

    def _save(self, policy: Policy, data: dict) -> Policy:
        scope = {name: data.pop(name, None) for name in ("departments", "agents", "capabilities")}
        for name, value in data.items():
            setattr(policy, name, value)
        for name, value in scope.items():
            if value is None:
                scope[name] = list(getattr(policy, name).all()) if policy.pk else []
        return save_policy(policy, **scope, by=self.request.user)

    @extend_schema(responses=PolicyVersionSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def versions(self, request: Request, pk: str) -> Response:
        return Response(PolicyVersionSerializer(self.get_object().versions.order_by("-number"), many=True).data)

    @extend_schema(responses=PolicyExampleResultSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def tests(self, request: Request, pk: str) -> Response:
        """Run the policy's examples against the policy set with this policy enforced."""
        results = policy_examples.run_examples(self.get_object())
        return Response(PolicyExampleResultSerializer(results, many=True).data)

    @extend_schema(request=PolicyModeSerializer, responses=PolicySerializer)
    @action(detail=True, methods=["post"])
    def mode(self, request: Request, pk: str) -> Response:
        """Enforce (every example must pass) or move to shadow."""
        policy = self.get_object()
        serializer = PolicyModeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        policy_examples.set_policy_mode(policy, serializer.validated_data["mode"], by=request.user)
        return Response(PolicySerializer(self.get_queryset().get(pk=policy.pk)).data)


class ReplayRunViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Replays of recorded decisions under proposed policies; they run in the background."""

    serializer_class = ReplayRunSerializer
    queryset = ReplayRun.objects.all()

    def get_permissions(self) -> list[BasePermission]:
        if self.request.method == "POST":
            return [holds("governance.view_replayrun", "governance.change_policy")()]
        return [holds("governance.view_replayrun")()]

    def perform_create(self, serializer: ReplayRunSerializer) -> None:
        data = serializer.validated_data
        serializer.instance = start_replay(data["policy_ids"], data["days"], by=self.request.user)


class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """The audit log in chain order; Supervisors read their departments' events only."""

    serializer_class = AuditEventSerializer
    permission_classes = [ModelPermissions]
    queryset = AuditEvent.objects.all()
    pagination_class = ChainOrder
    filterset_fields = ["kind", "subject_type", "subject_id", "department"]

    def get_queryset(self) -> QuerySet:
        events = AuditEvent.objects.all()
        if sees_whole_organisation(self.request.user):
            return events
        return events.filter(department__in=visible_departments(self.request.user))

    @extend_schema(responses=ChainReportSerializer, filters=False)
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def verify(self, request: Request) -> Response:
        """Walk the whole chain and name the first event whose link or content does not hold."""
        report = chain.verify_chain()
        body = {"ok": report.ok, "checked": report.checked, "broken_seq": report.broken_seq, "reason": report.reason}
        return Response(ChainReportSerializer(body).data)


class IngestView(APIView):
    """Bulk ingest for an agent orchestrated elsewhere: up to 1,000 decisions and outcomes per request."""

    permission_classes = [IsAgent]

    @extend_schema(request=IngestBatchSerializer, responses=IngestResultSerializer)
    def post(self, request: Request) -> Response:
        batch = IngestBatchSerializer(data=request.data)
        batch.is_valid(raise_exception=True)
        valid, errors = ingest_items.parse(batch.validated_data["items"])
        results = ingest.ingest(request.auth, valid) if valid else []
        results += [ingest.ItemResult(index, "invalid", errors=item_errors) for index, item_errors in errors.items()]
        results.sort(key=lambda r: r.index)
        body = {
            "created": sum(r.status == "created" for r in results),
            "duplicates": sum(r.status == "duplicate" for r in results),
            "invalid": sum(r.status == "invalid" for r in results),
            "results": [vars(r) for r in results],
        }
        return Response(body)  # already plain JSON: a serializer would cost more than the insert
