from django.contrib import admin

from governance.models import Decision, Outcome
from orchestration.scoping import scope_to_departments


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
    readonly_fields = ["result", "cost", "value", "csat", "reported_at"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "agent", "department", "action", "amount", "currency", "verdict", "risk_score"]
    list_filter = ["verdict", "department", "created_at"]
    list_select_related = ["agent", "department"]
    search_fields = ["action", "resource", "agent__name", "agent__slug"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = [OutcomeInline]

    def get_queryset(self, request):
        return scope_to_departments(super().get_queryset(request), request.user)


@admin.register(Outcome)
class OutcomeAdmin(ReadOnlyAdmin):
    list_display = ["decision", "result", "cost", "value", "csat", "reported_at"]
    list_filter = ["result"]
    list_select_related = ["decision__agent"]

    def get_queryset(self, request):
        return scope_to_departments(super().get_queryset(request), request.user, "decision__department")
