import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from audit.models import AuditEvent
from governance.approvals import REASON_REQUIRED, ApprovalError, decide_approval
from governance.models import (
    Approval,
    Decision,
    Mode,
    Outcome,
    Override,
    Policy,
    PolicyExample,
    PolicyVersion,
    ReplayRun,
)
from governance.policies import changed_fields, record_policy_version, snapshot_of, version_diff
from governance.policy_examples import PolicyExamplesFailed, run_examples, set_policy_mode
from governance.replay import start_replay
from orchestration.roles import sees_whole_organisation
from orchestration.scoping import scope_to_departments, visible_departments


class ReadOnlyAdmin(admin.ModelAdmin):
    """Decisions are written only by the governance service; the admin shows them, never edits them."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class OutcomeInline(admin.StackedInline):
    model = Outcome
    can_delete = False
    readonly_fields = ["result", "cost", "value", "csat", "reported_by", "reported_at"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "agent", "department", "action", "amount", "currency", "verdict", "risk_score"]
    list_filter = ["verdict", ("department", admin.RelatedOnlyFieldListFilter), "created_at"]
    list_select_related = ["agent", "department"]
    search_fields = ["action", "resource", "agent__name", "agent__slug"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = [OutcomeInline]

    def get_queryset(self, request):
        return scope_to_departments(super().get_queryset(request), request.user)


@admin.register(Override)
class OverrideAdmin(ReadOnlyAdmin):
    """Made only on a decision's page (governance.overrides): read here, never added or changed."""

    list_display = ["decision", "verdict_overridden", "by", "at", "reason"]
    list_select_related = ["decision__agent", "by"]

    def get_queryset(self, request):
        return scope_to_departments(super().get_queryset(request), request.user, field="decision__department")


@admin.register(Outcome)
class OutcomeAdmin(ReadOnlyAdmin):
    list_display = ["decision", "result", "cost", "value", "csat", "reported_by", "reported_at"]
    list_filter = ["result"]
    list_select_related = ["decision__agent"]

    def get_queryset(self, request):
        return scope_to_departments(super().get_queryset(request), request.user, "decision__department")


class PolicyExampleInline(admin.TabularInline):
    model = PolicyExample
    extra = 0
    fields = ["description", "agent", "request", "expected_verdict"]


class PolicyVersionInline(admin.TabularInline):
    model = PolicyVersion
    extra = 0
    fields = ["number", "created_at", "created_by", "changes"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True
    ordering = ["-number"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Changed fields")
    def changes(self, version: PolicyVersion) -> str:
        return changed_fields(version) or "—"


class PolicyAdminForm(forms.ModelForm):
    class Meta:
        model = Policy
        exclude: list[str] = []

    def _post_clean(self) -> None:
        """An enforced policy may not be changed so that its examples fail."""
        super()._post_clean()
        policy = self.instance
        if self.errors or not policy.pk or policy.mode != Mode.ENFORCE:
            return
        snapshot = snapshot_of(
            policy,
            departments=self.cleaned_data.get("departments", []),
            agents=self.cleaned_data.get("agents", []),
            capabilities=self.cleaned_data.get("capabilities", []),
        )
        failures = [r for r in run_examples(policy, snapshot) if not r.passed]
        if failures:
            self.add_error(None, str(PolicyExamplesFailed(policy, failures)))


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    form = PolicyAdminForm
    list_display = ["name", "effect", "mode", "priority", "risk_weight", "enabled", "version", "examples_status"]
    list_filter = ["effect", "mode", "enabled", "departments"]
    search_fields = ["name", "rationale", "condition", "actions"]
    filter_horizontal = ["departments", "agents", "capabilities"]
    readonly_fields = ["mode", "version", "updated_at", "example_results"]
    inlines = [PolicyExampleInline, PolicyVersionInline]
    actions = ["enforce", "shadow", "replay_30_days"]
    fieldsets = [
        (None, {"fields": ["name", "rationale", "enabled", "mode", "priority", "risk_weight"]}),
        ("Scope (empty means all)", {"fields": ["departments", "agents", "capabilities", "actions"]}),
        ("Rule", {"fields": ["condition", "effect", "approver_role", "approval_deadline_minutes"]}),
        ("Validity", {"fields": ["valid_from", "valid_until", "version", "updated_at"]}),
        ("Examples", {"fields": ["example_results"]}),
    ]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # versions and decisions refer to policies: disable one instead

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.mode = Mode.SHADOW  # new policies start in shadow; enforcing runs their examples first
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        record_policy_version(form.instance, by=request.user)

    @admin.display(description="Examples")
    def examples_status(self, policy: Policy) -> str:
        results = run_examples(policy)
        if not results:
            return "—"
        passed = sum(r.passed for r in results)
        return f"{passed}/{len(results)} pass" if passed == len(results) else f"✗ {passed}/{len(results)} pass"

    @admin.display(description="Example results")
    def example_results(self, policy: Policy) -> str:
        results = run_examples(policy) if policy.pk else []
        if not results:
            return "No examples yet: add some below, then save."
        return format_html_join(
            "",
            "<div class='example {}'>{} {} — expected {}, got {}</div>",
            (
                (
                    "pass" if r.passed else "fail",
                    "✓" if r.passed else "✗",
                    r.example.description,
                    r.example.expected_verdict,
                    r.verdict,
                )
                for r in results
            ),
        )

    @admin.action(description="Enforce selected policies (their examples must pass)", permissions=["change"])
    def enforce(self, request, queryset):
        for policy in queryset:
            try:
                set_policy_mode(policy, Mode.ENFORCE, by=request.user)
            except PolicyExamplesFailed as exc:
                self.message_user(request, f"Not enforced: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{policy.name} is enforced.", messages.SUCCESS)

    @admin.action(description="Replay the last 30 days as if these were enforced", permissions=["change"])
    def replay_30_days(self, request, queryset):
        run = start_replay(list(queryset.values_list("pk", flat=True)), 30, by=request.user)
        url = reverse("admin:governance_replayrun_change", args=[run.pk])
        self.message_user(request, format_html('Replay started: <a href="{}">follow its progress</a>.', url))

    @admin.action(description="Move selected policies to shadow mode", permissions=["change"])
    def shadow(self, request, queryset):
        for policy in queryset:
            set_policy_mode(policy, Mode.SHADOW, by=request.user)
        self.message_user(request, f"{queryset.count()} policy(ies) in shadow mode.", messages.SUCCESS)


@admin.register(PolicyVersion)
class PolicyVersionAdmin(ReadOnlyAdmin):
    list_display = ["policy", "number", "created_at", "created_by"]
    list_select_related = ["policy", "created_by"]
    list_filter = ["policy"]
    fields = ["policy", "number", "created_at", "created_by", "diff"]
    readonly_fields = fields

    @admin.display(description="Change against the previous version")
    def diff(self, version: PolicyVersion) -> str:
        return format_html("<pre class='diff'>{}</pre>", version_diff(version) or "(no change)")


class RejectionForm(forms.Form):
    comment = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
        error_messages={"required": REASON_REQUIRED},
        help_text="Recorded on each request; the agents' owners read it.",
    )


@admin.register(Approval)
class ApprovalAdmin(ReadOnlyAdmin):
    list_display = ["decision", "department", "approver_role", "status", "deadline", "decided_by"]
    actions = ["approve", "reject"]

    def has_decide_permission(self, request) -> bool:
        return request.user.is_authenticated  # decide_approval checks role and department per request

    def _decide(self, request, queryset, *, approve: bool, comment: str) -> None:
        for approval in queryset:
            try:
                decide_approval(approval.pk, approve=approve, by=request.user, comment=comment)
            except ApprovalError as exc:
                self.message_user(request, f"Approval {approval.pk}: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"Approval {approval.pk} {'approved' if approve else 'rejected'}.")

    @admin.action(description="Approve selected requests", permissions=["decide"])
    def approve(self, request, queryset):
        self._decide(request, queryset, approve=True, comment="Decided in the admin")

    @admin.action(description="Reject selected requests…", permissions=["decide"])
    def reject(self, request, queryset):
        """Ask for the reason first (a rejection needs one, as everywhere), then reject with it."""
        form = RejectionForm(request.POST if "reason_given" in request.POST else None)
        if form.is_valid():
            self._decide(request, queryset, approve=False, comment=form.cleaned_data["comment"])
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Why do you reject these requests?",
            "opts": self.model._meta,
            "approvals": queryset.select_related("decision__agent"),
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/governance/approval/reject.html", context)

    list_filter = ["status", "approver_role", ("department", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["decision", "department", "decided_by"]

    def get_queryset(self, request):
        return scope_to_departments(super().get_queryset(request), request.user)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["seq", "occurred_at", "kind", "actor_label", "subject_type", "subject_id", "short_hash"]
    list_filter = ["kind", "subject_type"]
    search_fields = ["=subject_id", "actor_label", "kind"]
    show_full_result_count = False

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if sees_whole_organisation(request.user):
            return queryset
        return queryset.filter(department__in=visible_departments(request.user))

    @admin.display(description="Hash")
    def short_hash(self, event: AuditEvent) -> str:
        return event.hash[:12]


@admin.register(ReplayRun)
class ReplayRunAdmin(ReadOnlyAdmin):
    list_display = ["pk", "requested_at", "requested_by", "policy_ids", "days", "status", "progress", "changed"]
    list_filter = ["status"]
    fields = [
        "requested_at",
        "requested_by",
        "policy_ids",
        "days",
        "status",
        "progress",
        "finished_at",
        "error",
        "summary",
    ]
    readonly_fields = fields

    @admin.display(description="Changed verdicts")
    def changed(self, run: ReplayRun) -> str:
        return f"{run.report['changed']:,} of {run.report['decisions']:,}" if run.report else "—"

    @admin.display(description="Report")
    def summary(self, run: ReplayRun) -> str:
        if not run.report:
            return "Not finished yet: reload to see progress."
        return format_html("<pre>{}</pre>", json.dumps(run.report, indent=2, ensure_ascii=False))
