from rest_framework import serializers

from alerting.models import EDITABLE_FIELDS, Alert, AlertRule
from alerting.rules import rule_errors
from orchestration.models import Department


class AlertRuleSerializer(serializers.ModelSerializer):
    departments = serializers.PrimaryKeyRelatedField(
        many=True,
        required=False,
        queryset=Department.objects.all(),
        help_text="Ids of the departments the rule watches; empty: the whole organisation.",
    )

    class Meta:
        model = AlertRule
        fields = ["id", "name", "departments", *EDITABLE_FIELDS, "enabled", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, data: dict) -> dict:
        """The admin's checks (alerting.rules), on the rule as it will be after this change."""
        current = {name: getattr(self.instance, name) for name in self.Meta.fields} if self.instance else {}
        merged = {**current, **data}
        departments = data.get("departments", list(self.instance.departments.all()) if self.instance else [])
        errors = rule_errors(merged, departments)
        if errors:
            raise serializers.ValidationError(errors)
        return data


class AlertSerializer(serializers.ModelSerializer):
    rule = serializers.CharField(source="rule.name", read_only=True)
    rule_id = serializers.IntegerField(read_only=True)
    rule_kind = serializers.CharField(source="rule.kind", read_only=True)
    department_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "rule",
            "rule_id",
            "rule_kind",
            "status",
            "subject_type",
            "subject_id",
            "subject_name",
            "department_id",
            "summary",
            "figures",
            "opened_at",
            "resolved_at",
            "resolution",
        ]
        read_only_fields = fields
