from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from governance.api.serializers import EvaluateRequestSerializer, amount_field, currency_field, storable_json
from governance.filtersets import MAX_ID
from orchestration.models import Capability, capability_code
from restapi.fields import SlugRelatedField
from workflows.models import StepRun, StepTemplate, Strategy, WorkflowRun, WorkflowTemplate


class DelegateSerializer(EvaluateRequestSerializer):
    """A sub-task: the capability it needs and the action, as an evaluate request."""

    capability = SlugRelatedField(slug_field="code", queryset=Capability.objects.all())


class StartRunSerializer(serializers.Serializer):
    """A run's input, checked against what the workflow's steps read from it (`runtime._request_for`): each
    step's `amount_field`, where given and not null, is the amount its decision records, and the currency
    of those amounts is `currency` (EUR if not given). Other keys are the providers' to read."""

    input = serializers.DictField(required=False, default=dict, validators=[storable_json])

    def validate_input(self, run_input: dict) -> dict:
        amounts = {step.amount_field for step in self.context["workflow"].steps.all() if step.amount_field}
        if not amounts:
            return run_input
        read = {name: amount_field(allow_null=True) for name in amounts} | {"currency": currency_field()}
        errors = {}
        for name in sorted(read.keys() & run_input.keys()):
            try:
                read[name].run_validation(run_input[name])
            except serializers.ValidationError as exc:
                errors[name] = exc.detail
        if errors:
            raise serializers.ValidationError(errors)
        return run_input


class StrategySerializer(serializers.ModelSerializer):
    class Meta:
        model = Strategy
        fields = ["id", "cost", "risk", "customer_satisfaction", "resilience", "note", "is_active", "created_at"]
        read_only_fields = ["is_active", "created_at"]

    def validate(self, attrs: dict) -> dict:
        if not any(attrs.get(axis) for axis in ("cost", "risk", "customer_satisfaction", "resilience")):
            raise serializers.ValidationError("Give at least one priority a weight above zero.")
        return attrs


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "integer"}], "description": "A capability's code or id."})
class CapabilityField(serializers.RelatedField):
    """A capability named by its code (as it is shown) or by its id."""

    default_error_messages = {
        "incorrect_type": "Give a capability's code, such as invoice.approve, or its id.",
        "unknown": "No capability has the code or id {value}.",
    }

    def to_internal_value(self, data) -> Capability:
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type")
        if isinstance(data, int):
            found = self.get_queryset().filter(pk=data).first() if 1 <= data <= MAX_ID else None
        else:
            found = self.get_queryset().filter(code=data).first() if capability_code.regex.match(data) else None
        if found is None:
            self.fail("unknown", value=data)
        return found

    def to_representation(self, value: Capability) -> str:
        return value.code


class StepTemplateSerializer(serializers.ModelSerializer):
    capability = CapabilityField(queryset=Capability.objects.all())
    data_classes = serializers.ListField(
        child=serializers.SlugField(max_length=40), required=False, default=list, max_length=20
    )
    dependencies = serializers.ListField(
        child=serializers.SlugField(max_length=40),
        required=False,
        default=list,
        max_length=20,
        help_text="Keys of the steps of this workflow that must succeed first.",
    )

    class Meta:
        model = StepTemplate
        fields = ["key", "capability", "action", "amount_field", "data_classes", "dependencies", "position"]
        read_only_fields = ["position"]

    def validate_dependencies(self, keys: list[str]) -> list[str]:
        limit = StepTemplate._meta.get_field("depends_on").max_length
        if len(", ".join(keys)) > limit:
            raise serializers.ValidationError(f"The keys together may take at most {limit} characters.")
        return keys


class WorkflowTemplateSerializer(serializers.ModelSerializer):
    """A template with its steps, written whole: steps are matched by key, in the order given
    (workflows.templates.save_workflow_template)."""

    steps = StepTemplateSerializer(many=True, allow_empty=False, max_length=50)
    sample_input = serializers.DictField(required=False, default=dict, validators=[storable_json])

    class Meta:
        model = WorkflowTemplate
        fields = ["id", "name", "slug", "description", "enabled", "sample_input", "steps"]

    def validate_steps(self, steps: list[dict]) -> list[dict]:
        """Steps are always given whole, even in a PATCH (which makes their fields optional to DRF)."""
        missing = {
            str(index): {
                name: ["This field is required."] for name in ("key", "capability", "action") if name not in step
            }
            for index, step in enumerate(steps)
        }
        if any(missing.values()):
            raise serializers.ValidationError({index: errors for index, errors in missing.items() if errors})
        return steps


class StepRunSerializer(serializers.ModelSerializer):
    key = serializers.CharField(source="template.key", read_only=True)

    class Meta:
        model = StepRun
        fields = [
            "id",
            "key",
            "status",
            "agent",
            "decision",
            "attempts",
            "error",
            "output",
            "routed_at",
            "started_at",
            "finished_at",
        ]


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
