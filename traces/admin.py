from django.conf import settings
from django.contrib import admin

from orchestration.scoping import scope_to_departments, visible_departments
from traces.configuration import delete_setting, save_setting
from traces.models import ContentSetting, RedactionPattern, TokenPrice


class AuditedAdmin(admin.ModelAdmin):
    """Saves and deletes through traces.configuration, so each is in the audit chain."""

    def save_model(self, request, obj, form, change) -> None:
        save_setting(obj, by=request.user)

    def delete_model(self, request, obj) -> None:
        delete_setting(obj, by=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for entry in queryset:
            delete_setting(entry, by=request.user)


@admin.register(TokenPrice)
class TokenPriceAdmin(AuditedAdmin):
    list_display = ["model", "input_per_1k", "output_per_1k"]
    search_fields = ["model"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        for name in ("input_per_1k", "output_per_1k"):
            form.base_fields[name].help_text = f"In {settings.ORG_CURRENCY}, the organisation's currency."
        return form


@admin.register(RedactionPattern)
class RedactionPatternAdmin(AuditedAdmin):
    list_display = ["name", "pattern", "active"]
    list_filter = ["active"]


@admin.register(ContentSetting)
class ContentSettingAdmin(AuditedAdmin):
    list_display = ["department", "keep_content"]

    def get_queryset(self, request):
        return scope_to_departments(super().get_queryset(request), request.user, "department")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "department":
            kwargs["queryset"] = visible_departments(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
