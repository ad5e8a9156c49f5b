from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from audit.hashing import canonical
from audit.models import AuditEvent
from governance import approvals
from governance.evaluation import ActionRequest
from governance.filtersets import MAX_ID
from governance.ingest import MAX_ITEMS
from governance.models import Approval, Decision, Mode, Outcome, Override, Policy, PolicyVersion, ReplayRun
from governance.overrides import MAX_REASON
from orchestration.models import Agent, Capability, Department, capability_code
from restapi.fields import SlugRelatedField

MAX_CONTEXT_BYTES = 16_384


def unstorable(value) -> str:
    """Why PostgreSQL could not store this text or JSON (NUL characters, unpaired surrogates); "" if it can."""
    if isinstance(value, str):
        if "\x00" in value:
            return "Text may not contain NUL (\\u0000) characters."
        try:
            value.encode()
        except UnicodeEncodeError:
            return "Text must be valid Unicode (no unpaired surrogates)."
    elif isinstance(value, dict):
        return next((p for p in map(unstorable, [*value.keys(), *value.values()]) if p), "")
    elif isinstance(value, list):
        return next((p for p in map(unstorable, value) if p), "")
    return ""


def storable_json(value):
    """Refuse what PostgreSQL cannot store in JSON: NUL characters and unpaired surrogates."""
    problem = unstorable(value)
    if problem:
        raise serializers.ValidationError(problem)
    return value


def amount_field(**options) -> serializers.DecimalField:
    """An amount as a decision records it: at least 0, in cents, up to 14 digits."""
    return serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0"), **options)


def currency_field(**options) -> serializers.RegexField:
    return serializers.RegexField(
        r"^[A-Z]{3}$", error_messages={"invalid": "Use an ISO 4217 code such as EUR."}, **options
    )


class EvaluateRequestSerializer(serializers.Serializer):
    action = serializers.CharField(max_length=80, validators=[capability_code])
    resource = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    amount = amount_field(required=False, allow_null=True, default=None)
    currency = currency_field(required=False, allow_blank=True, default="")
    data_classes = serializers.ListField(
        child=serializers.SlugField(max_length=40), required=False, default=list, max_length=20
    )
    context = serializers.DictField(required=False, default=dict)

    def validate_context(self, value: dict) -> dict:
        storable_json(value)
        if len(canonical(value).encode()) > MAX_CONTEXT_BYTES:
            raise serializers.ValidationError(f"Context is larger than {MAX_CONTEXT_BYTES} bytes.")
        return value

    def validate(self, attrs: dict) -> dict:
        if attrs.get("amount") is not None and not attrs.get("currency"):
            raise serializers.ValidationError({"currency": "Give the currency of the amount."})
        return attrs

    def to_request(self) -> ActionRequest:
        return self.request_from(self.validated_data)

    @staticmethod
    def request_from(data: dict) -> ActionRequest:
        return ActionRequest(
            action=data["action"],
            resource=data["resource"],
            amount=data["amount"],
            currency=data["currency"],
            data_classes=list(dict.fromkeys(data["data_classes"])),
            context=data["context"],
        )


class MatchedPolicySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField()
    name = serializers.CharField()
    effect = serializers.CharField()
    rationale = serializers.CharField()


class EvaluateResponseSerializer(serializers.Serializer):
    decision_id = serializers.IntegerField()
    verdict = serializers.CharField()
    risk_score = serializers.IntegerField()
    matched_policies = MatchedPolicySerializer(many=True)
    explanation = serializers.CharField()
    approval_id = serializers.IntegerField(allow_null=True)


class OutcomeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Outcome
        fields = ["result", "cost", "value", "csat", "reported_by", "reported_at"]
        read_only_fields = ["reported_by", "reported_at"]
        extra_kwargs = {"csat": {"min_value": 1, "max_value": 5}}


class ReportOutcomeSerializer(OutcomeSerializer):
    decision = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="The decision the outcome is for.")

    class Meta(OutcomeSerializer.Meta):
        fields = ["decision", *OutcomeSerializer.Meta.fields]
        extra_kwargs = {
            **OutcomeSerializer.Meta.extra_kwargs,
            "cost": {"min_value": Decimal("0")},
            "value": {"min_value": Decimal("-1000000000000")},
        }


class FiredPolicySerializer(MatchedPolicySerializer):
    mode = serializers.ChoiceField(
        choices=Mode.choices, help_text="Shadow policies fired without changing the verdict."
    )


class OverrideSerializer(serializers.ModelSerializer):
    by = serializers.CharField(source="by.get_username", read_only=True)

    class Meta:
        model = Override
        fields = ["id", "decision", "verdict_overridden", "reason", "by", "at"]


class OverrideRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=MAX_REASON, help_text="Why the engine's verdict was wrong; audited.")


class DecisionSerializer(serializers.ModelSerializer):
    agent_slug = serializers.CharField(source="agent.slug", read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True)
    matched_policies = FiredPolicySerializer(many=True, read_only=True)
    outcome = serializers.SerializerMethodField()
    override = serializers.SerializerMethodField()

    class Meta:
        model = Decision
        fields = [
            "id",
            "created_at",
            "agent",
            "agent_slug",
            "department",
            "department_name",
            "action",
            "resource",
            "amount",
            "currency",
            "data_classes",
            "verdict",
            "shadow_verdict",
            "risk_score",
            "explanation",
            "matched_policies",
            "latency_us",
            "outcome",
            "override",
        ]

    @extend_schema_field(OutcomeSerializer(allow_null=True))
    def get_outcome(self, decision: Decision) -> dict | None:
        outcome = getattr(decision, "outcome", None)
        return OutcomeSerializer(outcome).data if outcome else None

    @extend_schema_field(OverrideSerializer(allow_null=True))
    def get_override(self, decision: Decision) -> dict | None:
        override = getattr(decision, "override", None)
        return OverrideSerializer(override).data if override else None


class ApprovalSerializer(serializers.ModelSerializer):
    action = serializers.CharField(source="decision.action", read_only=True)
    resource = serializers.CharField(source="decision.resource", read_only=True)
    amount = serializers.DecimalField(source="decision.amount", max_digits=14, decimal_places=2, read_only=True)
    currency = serializers.CharField(source="decision.currency", read_only=True)
    agent = serializers.IntegerField(source="decision.agent_id", read_only=True)
    risk_score = serializers.IntegerField(source="decision.risk_score", read_only=True)

    class Meta:
        model = Approval
        fields = [
            "id",
            "decision",
            "department",
            "agent",
            "action",
            "resource",
            "amount",
            "currency",
            "risk_score",
            "approver_role",
            "status",
            "requested_at",
            "deadline",
            "escalation_level",
            "decided_by",
            "decided_at",
            "comment",
        ]


class ApprovalDecisionSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class RejectionSerializer(serializers.Serializer):
    """A rejection says why: the agent's owners read it (governance.approvals.reason_problem)."""

    comment = serializers.CharField(
        max_length=2000, error_messages={"required": approvals.REASON_REQUIRED, "blank": approvals.REASON_REQUIRED}
    )

    def validate_comment(self, comment: str) -> str:
        problem = approvals.reason_problem(approve=False, comment=comment)
        if problem:
            raise serializers.ValidationError(problem)
        return comment


class PolicySerializer(serializers.ModelSerializer):
    capabilities = SlugRelatedField(slug_field="code", many=True, required=False, queryset=Capability.objects.all())
    departments = serializers.PrimaryKeyRelatedField(many=True, required=False, queryset=Department.objects.all())
    agents = serializers.PrimaryKeyRelatedField(many=True, required=False, queryset=Agent.objects.all())

    class Meta:
        model = Policy
        fields = [
            "id",
            "name",
            "rationale",
            "departments",
            "agents",
            "capabilities",
            "actions",
            "condition",
            "effect",
            "approver_role",
            "approval_deadline_minutes",
            "mode",
            "priority",
            "risk_weight",
            "enabled",
            "valid_from",
            "valid_until",
            "version",
            "updated_at",
        ]
        read_only_fields = ["mode", "version", "updated_at"]


class PolicyVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = PolicyVersion
        fields = ["id", "number", "snapshot", "created_at", "created_by"]


class PolicyExampleResultSerializer(serializers.Serializer):
    example = serializers.IntegerField(source="example.pk")
    description = serializers.CharField(source="example.description")
    expected_verdict = serializers.CharField(source="example.expected_verdict")
    verdict = serializers.CharField()
    passed = serializers.BooleanField()
    explanation = serializers.CharField()


class PolicyModeSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=Mode.choices)


class ReplayRunSerializer(serializers.ModelSerializer):
    policy_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), min_length=1, max_length=100
    )
    days = serializers.IntegerField(min_value=1, max_value=366)

    class Meta:
        model = ReplayRun
        fields = [
            "id",
            "policy_ids",
            "days",
            "status",
            "processed",
            "total",
            "report",
            "error",
            "requested_at",
            "finished_at",
        ]
        read_only_fields = ["status", "processed", "total", "report", "error", "requested_at", "finished_at"]

    def validate_policy_ids(self, value: list[int]) -> list[int]:
        unknown = set(value) - set(Policy.objects.filter(pk__in=value).values_list("pk", flat=True))
        if unknown:
            raise serializers.ValidationError(f"No policy with id {', '.join(map(str, sorted(unknown)))}.")
        return sorted(set(value))


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "seq",
            "occurred_at",
            "actor",
            "actor_label",
            "kind",
            "subject_type",
            "subject_id",
            "department",
            "before",
            "after",
            "prev_hash",
            "hash",
        ]


class ChainReportSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    checked = serializers.IntegerField()
    broken_seq = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)


@extend_schema_field({"type": "object", "properties": {"type": {"enum": ["decision", "outcome"]}}})
class IngestItemField(serializers.Field):
    """One item, checked here only for being an object: governance.api.ingest_items validates its fields."""

    default_error_messages = {"invalid": "Each item is an object."}

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("invalid")
        return data


class IngestBatchSerializer(serializers.Serializer):
    items = serializers.ListField(
        child=IngestItemField(),
        min_length=1,
        max_length=MAX_ITEMS,
        help_text='Decisions ({"type": "decision", …}) and outcomes ({"type": "outcome", …}), each with an '
        "idempotency_key. A decision has the fields of an evaluate request plus verdict, and optionally "
        "risk_score, explanation and occurred_at; an outcome names its decision by decision (id) or "
        "decision_key, with result, cost, value and csat. Invalid items are reported by index; the valid "
        "ones are recorded.",
    )


class IngestItemResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["created", "duplicate", "invalid"])
    id = serializers.IntegerField(allow_null=True, help_text="The decision's id (for an outcome, its decision's).")
    errors = serializers.DictField(allow_null=True)


class IngestResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    invalid = serializers.IntegerField()
    results = IngestItemResultSerializer(many=True)
