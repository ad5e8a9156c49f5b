from django.contrib import admin, messages
from django.db import models
from django.db.models import Count
from django.http import HttpRequest, HttpResponseRedirect

from orchestration import entries, keys, kill_switch
from orchestration.models import Agent, AgentKey, Capability, Department, ModelProvider, Status
from orchestration.scoping import scope_to_departments, visible_departments


class DepartmentScopedAdmin(admin.ModelAdmin):
    """Admin whose rows and department choices are limited to what the user may see."""

    department_field = "department"

    def get_queryset(self, request: HttpRequest):
        return scope_to_departments(super().get_queryset(request), request.user, self.department_field)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "department":
            kwargs["queryset"] = visible_departments(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class AgentInline(admin.TabularInline):
    model = Agent
    fields = ["name", "slug", "provider", "risk_tier", "status", "monthly_budget"]
    readonly_fields = fields
    show_change_link = True
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Department)
class DepartmentAdmin(DepartmentScopedAdmin):
    department_field = "pk"
    list_display = ["name", "head", "monthly_budget", "risk_appetite", "status", "agent_count"]
    list_filter = ["status"]
    search_fields = ["name", "slug", "head__username"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["supervisors"]
    inlines = [AgentInline]
    actions = ["pause", "resume", "kill"]

    def has_pause_permission(self, request) -> bool:
        return request.user.has_perm("orchestration.pause_agent")

    def has_kill_permission(self, request) -> bool:
        return request.user.has_perm("orchestration.kill_agent")

    def _set_status(self, request, queryset, status: Status, verb: str) -> None:
        changed = sum(kill_switch.change_department_status(d, status, by=request.user) for d in queryset)
        self.message_user(request, f"{verb} {changed} department(s).", messages.SUCCESS)

    @admin.action(description="Pause selected departments (their agents may not act)", permissions=["pause"])
    def pause(self, request, queryset):
        self._set_status(request, queryset.exclude(status=Status.KILLED), Status.PAUSED, "Paused")

    @admin.action(description="Resume selected departments", permissions=["pause"])
    def resume(self, request, queryset):
        if not self.has_kill_permission(request):
            queryset = queryset.exclude(status=Status.KILLED)  # undoing a kill takes the right to kill
        self._set_status(request, queryset, Status.ACTIVE, "Resumed")

    @admin.action(description="Kill selected departments (kill switch for all their agents)", permissions=["kill"])
    def kill(self, request, queryset):
        self._set_status(request, queryset, Status.KILLED, "Killed")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("head").annotate(agent_count=Count("agents"))

    @admin.display(description="Agents", ordering="agent_count")
    def agent_count(self, department: Department) -> int:
        return department.agent_count


class RegistryAdmin(admin.ModelAdmin):
    """Saves and deletes through orchestration.entries, audited as the API's are. An entry something depends
    on is shown as protected on the delete page, as Django shows protected relations, and is not deleted."""

    def save_model(self, request, obj, form, change) -> None:
        entries.save_registry_entry(obj, by=request.user)

    def delete_model(self, request, obj) -> None:
        entries.delete_registry_entry(obj, by=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for entry in queryset:
            entries.delete_registry_entry(entry, by=request.user)

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        in_use = [reason for reason in map(entries.in_use, objs) if reason]
        return deleted, counts, perms_needed, protected or in_use

    def delete_view(self, request, object_id, extra_context=None):
        return self._unless_in_use(request, super().delete_view, object_id, extra_context)

    def changelist_view(self, request, extra_context=None):
        return self._unless_in_use(request, super().changelist_view, extra_context)

    def _unless_in_use(self, request, view, *args):
        """An entry that came into use after its delete page was shown: say so, as that page would now."""
        try:
            return view(request, *args)
        except entries.InUse as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


@admin.register(Capability)
class CapabilityAdmin(RegistryAdmin):
    list_display = ["code", "description", "agent_count"]
    search_fields = ["code", "description"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(agent_count=Count("agents"))

    @admin.display(description="Agents", ordering="agent_count")
    def agent_count(self, capability: Capability) -> int:
        return capability.agent_count


@admin.register(ModelProvider)
class ModelProviderAdmin(RegistryAdmin):
    list_display = ["name", "kind", "region", "cost_per_unit", "endpoint"]
    list_filter = ["kind", "region"]
    search_fields = ["name", "region", "endpoint"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


class AgentKeyInline(admin.TabularInline):
    model = AgentKey
    fields = ["prefix", "created_at", "created_by", "last_used_at", "revoked_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = "API key"
    verbose_name_plural = "API keys (issue, rotate and revoke with the actions on the agent list)"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("orchestration.view_agent")  # prefixes and dates; secrets are never stored


@admin.register(Agent)
class AgentAdmin(DepartmentScopedAdmin):
    list_display = [
        "name",
        "slug",
        "department",
        "provider",
        "model_name",
        "risk_tier",
        "status",
        "monthly_budget",
        "last_seen_at",
    ]
    # Offer only departments the user can see, not every department's name.
    list_filter = ["status", "risk_tier", ("department", admin.RelatedOnlyFieldListFilter), "provider", "capabilities"]
    list_select_related = ["department", "provider"]
    search_fields = ["name", "slug", "model_name", "owner__username", "supervisor__username"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["capabilities"]
    readonly_fields = ["created_at", "last_seen_at"]
    inlines = [AgentKeyInline]
    actions = ["pause", "resume", "kill", "rotate_key", "revoke_keys"]

    def has_pause_permission(self, request) -> bool:
        return request.user.has_perm("orchestration.pause_agent")

    def has_kill_permission(self, request) -> bool:
        return request.user.has_perm("orchestration.kill_agent")

    def has_keys_permission(self, request) -> bool:
        return request.user.has_perm("orchestration.manage_agent_keys")

    def _set_status(self, request, queryset, status: Status, verb: str) -> None:
        changed = sum(kill_switch.change_agent_status(agent, status, by=request.user) for agent in queryset)
        self.message_user(request, f"{verb} {changed} agent(s).", messages.SUCCESS)

    @admin.action(description="Pause selected agents", permissions=["pause"])
    def pause(self, request, queryset):
        self._set_status(request, queryset.exclude(status=Status.KILLED), Status.PAUSED, "Paused")

    @admin.action(description="Resume selected agents", permissions=["pause"])
    def resume(self, request, queryset):
        self._set_status(request, queryset.filter(status=Status.PAUSED), Status.ACTIVE, "Resumed")

    @admin.action(description="Kill selected agents (kill switch)", permissions=["kill"])
    def kill(self, request, queryset):
        self._set_status(request, queryset, Status.KILLED, "Killed")

    @admin.action(description="Issue a new API key (revokes the old ones)", permissions=["keys"])
    def rotate_key(self, request, queryset):
        for agent in queryset:
            raw_key = keys.rotate_agent_key(agent, by=request.user)
            self.message_user(
                request,
                f"New API key for {agent.slug}: {raw_key} — copy it now, it is not shown again.",
                messages.WARNING,
            )

    @admin.action(description="Revoke all API keys", permissions=["keys"])
    def revoke_keys(self, request, queryset):
        revoked = sum(keys.revoke_agent_keys(agent, by=request.user) for agent in queryset)
        self.message_user(request, f"Revoked {revoked} key(s).", messages.SUCCESS)
