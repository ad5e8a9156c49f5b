from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from orchestration import entries
from orchestration.admin import RegistryAdmin
from workflows import runtime, strategy, templates
from workflows.models import StepRun, StepTemplate, Strategy, WorkflowRun, WorkflowTemplate


@admin.register(Strategy)
class StrategyAdmin(admin.ModelAdmin):
    """Adding a strategy activates it; earlier ones stay as read-only history."""

    list_display = [
        "created_at",
        "cost",
        "risk",
        "customer_satisfaction",
        "resilience",
        "is_active",
        "created_by",
        "note",
    ]
    fields = ["cost", "risk", "customer_satisfaction", "resilience", "note"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        saved = strategy.set_strategy(
            cost=obj.cost,
            risk=obj.risk,
            customer_satisfaction=obj.customer_satisfaction,
            resilience=obj.resilience,
            note=obj.note,
            by=request.user,
        )
        obj.pk = saved.pk


class StepTemplateFormSet(BaseInlineFormSet):
    """The steps as workflows.templates takes them, checked by the service's own rules as form errors."""

    def steps(self) -> list[dict]:
        """The steps kept, in the order of their positions."""
        kept = [form.cleaned_data for form in self.forms if form.cleaned_data and not self._should_delete_form(form)]
        return [
            {
                "key": step["key"],
                "capability": step["capability"],
                "action": step["action"],
                "amount_field": step["amount_field"],
                "data_classes": step["data_classes"],
                "dependencies": [key.strip() for key in step["depends_on"].split(",") if key.strip()],
            }
            for step in sorted(kept, key=lambda step: step["position"])
        ]

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        try:
            templates.check_steps(self.instance, self.steps())
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc
        except entries.InUse as exc:
            raise ValidationError(str(exc)) from exc


class StepTemplateInline(admin.TabularInline):
    model = StepTemplate
    formset = StepTemplateFormSet
    extra = 0
    fields = ["position", "key", "capability", "action", "amount_field", "data_classes", "depends_on"]


@admin.register(WorkflowTemplate)
class WorkflowTemplateAdmin(RegistryAdmin):
    """A template and its steps are saved together by workflows.templates, in one audited change."""

    list_display = ["name", "slug", "enabled"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name", "slug"]
    inlines = [StepTemplateInline]
    actions = ["start_run"]

    def save_model(self, request, obj, form, change) -> None:
        """Saved with its steps in save_related, where the steps are at hand."""

    def save_related(self, request, form, formsets, change) -> None:
        (steps,) = formsets
        templates.save_workflow_template(form.instance, steps.steps(), by=request.user)
        # The steps were saved by the service: the admin's history gets no per-step lines (the audit log has them).
        steps.new_objects, steps.changed_objects, steps.deleted_objects = [], [], []

    @admin.action(description="Start a run with the sample input", permissions=["change"])
    def start_run(self, request, queryset):
        for workflow in queryset:
            try:
                run = runtime.start_workflow(workflow, workflow.sample_input, started_by=f"user:{request.user}")
            except runtime.WorkflowError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(request, f"Started {run}.", messages.SUCCESS)


class StepRunInline(admin.TabularInline):
    model = StepRun
    extra = 0
    can_delete = False
    fields = ["template", "status", "agent", "decision", "attempts", "error", "routed_at", "finished_at", "why"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Why this agent")
    def why(self, step: StepRun) -> str:
        if not step.routing:
            return "—"
        return " · ".join(f"{c['agent']} {c['total']:.2f}" for c in step.routing[:3])


@admin.register(WorkflowRun)
class WorkflowRunAdmin(admin.ModelAdmin):
    list_display = ["pk", "workflow", "status", "started_by", "started_at", "finished_at"]
    list_filter = ["status", "workflow"]
    readonly_fields = ["workflow", "input", "status", "started_by", "started_at", "finished_at", "parent_step"]
    inlines = [StepRunInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
