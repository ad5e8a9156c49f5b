from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest

from gateway import upstream
from gateway.models import GatewayTool, ToolCall, UpstreamServer
from orchestration.admin import DepartmentScopedAdmin


class UpstreamServerForm(forms.ModelForm):
    """The credential is written, never read back: the field is always empty, and left empty it keeps the one
    stored."""

    credential = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Sent in the header above with every call (e.g. “Bearer …”). Leave empty to keep the one set.",
    )
    remove_credential = forms.BooleanField(required=False, help_text="Send no credential from now on.")

    class Meta:
        model = UpstreamServer
        fields = ["name", "url", "credential_header", "credential", "timeout_seconds", "enabled"]

    url = forms.URLField(assume_scheme="https", help_text=UpstreamServer._meta.get_field("url").help_text)

    def clean_credential(self) -> str:
        entered = self.cleaned_data["credential"]
        return entered or (self.instance.credential if self.instance.pk else "")

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("remove_credential"):
            cleaned["credential"] = ""
        return cleaned


class GatewayToolInline(admin.TabularInline):
    model = GatewayTool
    fields = [
        "name",
        "exposed",
        "capability",
        "action",
        "resource_path",
        "amount_path",
        "currency_path",
        "data_classes_path",
    ]
    extra = 0


@admin.register(UpstreamServer)
class UpstreamServerAdmin(admin.ModelAdmin):
    form = UpstreamServerForm
    list_display = ["name", "url", "credential_hint", "enabled", "exposed_tools"]
    readonly_fields = ["credential_hint"]
    fields = [
        "name",
        "url",
        "credential_header",
        "credential_hint",
        "credential",
        "remove_credential",
        "timeout_seconds",
        "enabled",
    ]
    inlines = [GatewayToolInline]
    actions = ["fetch_tools"]

    @admin.display(description="credential")
    def credential_hint(self, server: UpstreamServer) -> str:
        return server.credential_hint()

    @admin.display(description="exposed tools")
    def exposed_tools(self, server: UpstreamServer) -> int:
        return server.tools.filter(exposed=True).count()

    @admin.action(description="Fetch the tools of the selected servers (new ones arrive unexposed)")
    def fetch_tools(self, request: HttpRequest, queryset) -> None:
        for server in queryset:
            try:
                added, updated = upstream.sync_tools(server)
            except upstream.UpstreamUnavailable as exc:
                self.message_user(request, str(exc), messages.ERROR)
                continue
            self.message_user(request, f"{server.name}: {added} new tool(s), {updated} updated.", messages.SUCCESS)


@admin.register(ToolCall)
class ToolCallAdmin(DepartmentScopedAdmin):
    """What agents did through the gateway, in the viewer's departments; written by the gateway only."""

    department_field = "agent__department"
    list_display = ["started_at", "agent", "tool_name", "status", "decision", "upstream_ms"]
    list_filter = ["status", "tool_name"]
    search_fields = ["agent__slug", "tool_name", "traceparent"]
    list_select_related = ["agent", "decision"]
    date_hierarchy = "started_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
