from rest_framework import serializers

from orchestration.models import Agent, AgentKey, Capability, Department, ModelProvider, Status


class DepartmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "name", "slug", "status", "monthly_budget", "month_spent", "risk_appetite", "default_verdict"]


class CapabilitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Capability
        fields = ["id", "code", "description"]


class ModelProviderSerializer(serializers.ModelSerializer):
    """A provider without its signing secret: that stays in the admin."""

    class Meta:
        model = ModelProvider
        fields = ["id", "name", "kind", "endpoint", "region", "cost_per_unit"]


class AgentSerializer(serializers.ModelSerializer):
    capabilities = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = Agent
        fields = [
            "id",
            "name",
            "slug",
            "department",
            "status",
            "risk_tier",
            "provider",
            "model_name",
            "capabilities",
            "monthly_budget",
            "month_spent",
            "created_at",
            "last_seen_at",
        ]


class AgentKeySerializer(serializers.ModelSerializer):
    class Meta:
        model = AgentKey
        fields = ["id", "prefix", "created_at", "last_used_at", "revoked_at"]


class IssuedKeySerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The secret: shown this once, never again.")
    prefix = serializers.CharField()


class RevokedKeysSerializer(serializers.Serializer):
    revoked = serializers.IntegerField()


REASON_REQUIRED = "Say why: the reason is kept in the audit log with your name."


class AgentStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Status.choices)
    reason = serializers.CharField(
        max_length=1000,
        help_text="Why: recorded in the audit chain with the change.",
        error_messages={"required": REASON_REQUIRED, "blank": REASON_REQUIRED},
    )
