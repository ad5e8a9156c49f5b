from rest_framework import serializers

from governance.api.serializers import EvaluateRequestSerializer, storable_json
from orchestration.models import (
    Agent,
    AgentKey,
    Capability,
    Department,
    ModelProvider,
    Status,
    StepRun,
    StepTemplate,
    Strategy,
    WorkflowRun,
    WorkflowTemplate,
)


class DelegateSerializer(EvaluateRequestSerializer):
    """A sub-task: the capability it needs and the action, as an evaluate request."""

    capability = serializers.SlugRelatedField(slug_field="code", queryset=Capability.objects.all())


class StartRunSerializer(serializers.Serializer):
    input = serializers.DictField(required=False, default=dict, validators=[storable_json])


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
            "id", "name", "slug", "department", "status", "risk_tier", "provider", "model_name", "capabilities",
            "monthly_budget", "month_spent", "created_at", "last_seen_at",
        ]  # fmt: skip


class AgentKeySerializer(serializers.ModelSerializer):
    class Meta:
        model = AgentKey
        fields = ["id", "prefix", "created_at", "last_used_at", "revoked_at"]


class IssuedKeySerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The secret: shown this once, never again.")
    prefix = serializers.CharField()


class RevokedKeysSerializer(serializers.Serializer):
    revoked = serializers.IntegerField()


class AgentStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Status.choices)


class StrategySerializer(serializers.ModelSerializer):
    class Meta:
        model = Strategy
        fields = ["id", "cost", "risk", "customer_satisfaction", "resilience", "note", "is_active", "created_at"]
        read_only_fields = ["is_active", "created_at"]

    def validate(self, attrs: dict) -> dict:
        if not any(attrs.get(axis) for axis in ("cost", "risk", "customer_satisfaction", "resilience")):
            raise serializers.ValidationError("Give at least one priority a weight above zero.")
        return attrs


class StepTemplateSerializer(serializers.ModelSerializer):
    capability = serializers.SlugRelatedField(slug_field="code", read_only=True)
    dependencies = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = StepTemplate
        fields = ["key", "capability", "action", "amount_field", "data_classes", "dependencies", "position"]


class WorkflowTemplateSerializer(serializers.ModelSerializer):
    steps = StepTemplateSerializer(many=True, read_only=True)

    class Meta:
        model = WorkflowTemplate
        fields = ["id", "name", "slug", "description", "enabled", "sample_input", "steps"]


class StepRunSerializer(serializers.ModelSerializer):
    key = serializers.CharField(source="template.key", read_only=True)

    class Meta:
        model = StepRun
        fields = [
            "id", "key", "status", "agent", "decision", "attempts", "error", "output", "routed_at", "started_at",
            "finished_at",
        ]  # fmt: skip


class WorkflowRunSerializer(serializers.ModelSerializer):
    workflow = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = WorkflowRun
        fields = ["id", "workflow", "status", "input", "started_by", "started_at", "finished_at", "parent_step"]


class WorkflowRunDetailSerializer(WorkflowRunSerializer):
    steps = StepRunSerializer(many=True, read_only=True)

    class Meta(WorkflowRunSerializer.Meta):
        fields = [*WorkflowRunSerializer.Meta.fields, "steps"]


class RunStartedSerializer(serializers.Serializer):
    run_id = serializers.IntegerField()
    status = serializers.CharField()


class DelegatedSerializer(RunStartedSerializer):
    parent_step_id = serializers.IntegerField()
