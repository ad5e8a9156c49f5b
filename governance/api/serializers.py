from decimal import Decimal

from rest_framework import serializers

from governance.chain import canonical
from governance.services import ActionRequest
from orchestration.models import capability_code

MAX_CONTEXT_BYTES = 16_384


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
        if len(canonical(value).encode()) > MAX_CONTEXT_BYTES:
            raise serializers.ValidationError(f"Context is larger than {MAX_CONTEXT_BYTES} bytes.")
        return value

    def validate(self, attrs: dict) -> dict:
        if attrs.get("amount") is not None and not attrs.get("currency"):
            raise serializers.ValidationError({"currency": "Give the currency of the amount."})
        return attrs

    def to_request(self) -> ActionRequest:
        data = self.validated_data
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
