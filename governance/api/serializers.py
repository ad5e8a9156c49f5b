import datetime as dt
from decimal import Decimal

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from governance.chain import canonical
from governance.filtersets import MAX_ID
from governance.ingest import MAX_ITEMS, ExternalDecision, ExternalOutcome
from governance.models import (
    Approval,
    AuditEvent,
    Decision,
    Mode,
    Outcome,
    Override,
    Policy,
    PolicyVersion,
    ReplayRun,
    Verdict,
)
from governance.overrides import MAX_REASON
from governance.services import ActionRequest
from orchestration.models import Agent, Capability, Department, capability_code

MAX_CONTEXT_BYTES = 16_384
CLOCK_SKEW = dt.timedelta(minutes=5)


def storable_json(value):
    """Refuse what PostgreSQL cannot store in JSON: NUL characters and unpaired surrogates."""
    if isinstance(value, str):
        if "\x00" in value:
            raise serializers.ValidationError("Text may not contain NUL (\\u0000) characters.")
        try:
            value.encode()
        except UnicodeEncodeError:
            raise serializers.ValidationError("Text must be valid Unicode (no unpaired surrogates).") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            storable_json(key)
            storable_json(item)
    elif isinstance(value, list):
        for item in value:
            storable_json(item)
    return value


class EvaluateRequestSerializer(serializers.Serializer):
    action = serializers.CharField(max_length=80, validators=[capability_code])
    resource = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal("0"), required=False, allow_null=True, default=None
    )
    currency = serializers.RegexField(
        r"^[A-Z]{3}$", required=False, allow_blank=True, default="",
        error_messages={"invalid": "Use an ISO 4217 code such as EUR."},
    )  # fmt: skip
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
            "id", "created_at", "agent", "agent_slug", "department", "department_name", "action", "resource",
            "amount", "currency", "data_classes", "verdict", "shadow_verdict", "risk_score", "explanation",
            "matched_policies", "latency_us", "outcome", "override",
        ]  # fmt: skip

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
            "id", "decision", "department", "agent", "action", "resource", "amount", "currency", "risk_score",
            "approver_role", "status", "requested_at", "deadline", "escalation_level", "decided_by", "decided_at",
            "comment",
        ]  # fmt: skip


class ApprovalDecisionSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class PolicySerializer(serializers.ModelSerializer):
    capabilities = serializers.SlugRelatedField(
        slug_field="code", many=True, required=False, queryset=Capability.objects.all()
    )
    departments = serializers.PrimaryKeyRelatedField(many=True, required=False, queryset=Department.objects.all())
    agents = serializers.PrimaryKeyRelatedField(many=True, required=False, queryset=Agent.objects.all())

    class Meta:
        model = Policy
        fields = [
            "id", "name", "rationale", "departments", "agents", "capabilities", "actions", "condition", "effect",
            "approver_role", "approval_deadline_minutes", "mode", "priority", "risk_weight", "enabled",
            "valid_from", "valid_until", "version", "updated_at",
        ]  # fmt: skip
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
        fields = ["id", "policy_ids", "days", "status", "processed", "total", "report", "error", "requested_at",
                  "finished_at"]  # fmt: skip
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
            "seq", "occurred_at", "actor", "actor_label", "kind", "subject_type", "subject_id", "department",
            "before", "after", "prev_hash", "hash",
        ]  # fmt: skip


class ChainReportSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    checked = serializers.IntegerField()
    broken_seq = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)


class IngestDecisionSerializer(EvaluateRequestSerializer):
    """A decision another platform took; Regent records it as told (and scores its risk if not given)."""

    type = serializers.ChoiceField(choices=["decision"])
    idempotency_key = serializers.CharField(max_length=100)
    verdict = serializers.ChoiceField(choices=Verdict.choices)
    risk_score = serializers.IntegerField(min_value=0, max_value=100, required=False, allow_null=True, default=None)
    explanation = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    occurred_at = serializers.DateTimeField(required=False, allow_null=True, default=None)

    def validate_occurred_at(self, value):
        if value is not None and value > timezone.now() + CLOCK_SKEW:
            raise serializers.ValidationError("This moment is in the future.")
        return value

    @classmethod
    def item_from(cls, data: dict) -> ExternalDecision:
        request = cls.request_from(data)
        return ExternalDecision(
            idempotency_key=data["idempotency_key"], action=request.action, verdict=data["verdict"],
            resource=request.resource, amount=request.amount, currency=request.currency,
            data_classes=request.data_classes, context=request.context, risk_score=data["risk_score"],
            explanation=data["explanation"], occurred_at=data["occurred_at"],
        )  # fmt: skip


class IngestOutcomeSerializer(serializers.Serializer):
    """What happened after a decision, named by its id or by the idempotency key it was ingested with."""

    type = serializers.ChoiceField(choices=["outcome"])
    idempotency_key = serializers.CharField(max_length=100)
    decision = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    decision_key = serializers.CharField(max_length=100, required=False)
    result = serializers.ChoiceField(choices=Outcome.Result.choices)
    cost = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0"), default=Decimal("0"))
    value = serializers.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    csat = serializers.IntegerField(min_value=1, max_value=5, required=False, allow_null=True, default=None)

    def validate(self, attrs: dict) -> dict:
        if ("decision" in attrs) == ("decision_key" in attrs):
            raise serializers.ValidationError("Name the decision by exactly one of decision and decision_key.")
        return attrs

    @staticmethod
    def item_from(data: dict) -> ExternalOutcome:
        return ExternalOutcome(
            idempotency_key=data["idempotency_key"], result=data["result"], decision_id=data.get("decision"),
            decision_key=data.get("decision_key", ""), cost=data["cost"], value=data["value"], csat=data["csat"],
        )  # fmt: skip


class IngestBatchSerializer(serializers.Serializer):
    items = serializers.ListField(
        child=serializers.DictField(),
        min_length=1,
        max_length=MAX_ITEMS,
        help_text='Decisions ({"type": "decision", …}) and outcomes ({"type": "outcome", …}), each with an '
        "idempotency_key. Invalid items are reported by index; the valid ones are recorded.",
    )

    ITEM_SERIALIZERS = {"decision": IngestDecisionSerializer, "outcome": IngestOutcomeSerializer}

    def parse_items(self) -> tuple[list, dict[int, dict]]:
        """The valid items as (index, item) and the errors of the others by index.

        One serializer per item type validates every item of that type, as a ListSerializer would:
        a serializer per item (deep-copying its fields) cost more than storing the batch.
        """
        valid, errors = [], {}
        validators = {kind: serializer_class() for kind, serializer_class in self.ITEM_SERIALIZERS.items()}
        for index, raw in enumerate(self.validated_data["items"]):
            validator = validators.get(raw.get("type"))
            if validator is None:
                errors[index] = {"type": ['Use "decision" or "outcome".']}
                continue
            try:
                valid.append((index, validator.item_from(validator.run_validation(raw))))
            except serializers.ValidationError as exc:
                errors[index] = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        return valid, errors


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
