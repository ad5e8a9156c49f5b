from django import forms
from django.contrib import admin

from alerting.models import EDITABLE_FIELDS, AlertRule
from alerting.rules import record_rule_change, rule_errors
from orchestration.scoping import scope_to_all_departments


class AlertRuleForm(forms.ModelForm):
    class Meta:
        model = AlertRule
        fields = ["name", "enabled", "departments", *EDITABLE_FIELDS]

    def clean(self) -> dict:
        data = super().clean()
        if "departments" in data and data.get("kind") == AlertRule.Kind.AUDIT_CHAIN:
            error = rule_errors({"kind": data["kind"]}, list(data["departments"])).get("departments")
            if error:
                self.add_error("departments", error)
        return data


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    form = AlertRuleForm
    list_display = ["name", "kind", "enabled", "throttle_minutes", "updated_at"]
    list_filter = ["kind", "enabled", "departments"]
    search_fields = ["name"]
    filter_horizontal = ["departments"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "enabled", "departments"]}),
        (
            "When it fires (each kind uses some of these; the others stay empty)",
            {
                "fields": [
                    "level",
                    "threshold",
                    "pro_rata",
                    "minimum_volume",
                    "window_hours",
                    "baseline_days",
                    "minutes",
                ]
            },
        ),
        ("Repeats", {"fields": ["throttle_minutes"]}),
    ]

    def get_queryset(self, request):
        """A Supervisor reads the rules on their departments alone; the organisation's are for organisation-wide
        roles, as in the API."""
        return scope_to_all_departments(super().get_queryset(request), request.user)

    def save_model(self, request, obj: AlertRule, form, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        record_rule_change(form.instance, by=request.user, action="changed" if change else "created")

    def delete_model(self, request, obj: AlertRule) -> None:
        record_rule_change(obj, by=request.user, action="deleted")
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        for rule in queryset:
            self.delete_model(request, rule)
