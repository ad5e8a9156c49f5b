from django import forms
from django.contrib import admin

from accounts.grants import record_mapping_change
from accounts.models import GroupMapping, SignInIdentity


class GroupMappingForm(forms.ModelForm):
    class Meta:
        model = GroupMapping
        fields = ["idp_group", "role", "departments"]

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("role") and not cleaned.get("departments"):
            raise forms.ValidationError("Give the group a role, departments to oversee, or both.")
        return cleaned


@admin.register(GroupMapping)
class GroupMappingAdmin(admin.ModelAdmin):
    """Who gets what from single sign-on. Applied at each person's next sign-in, granting and taking away."""

    form = GroupMappingForm
    list_display = ["idp_group", "role", "department_names"]
    list_filter = ["role"]
    search_fields = ["idp_group"]
    filter_horizontal = ["departments"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("departments")

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)  # the departments are saved here, after the row
        record_mapping_change(form.instance, "changed" if change else "added")

    def delete_model(self, request, obj) -> None:
        record_mapping_change(obj, "deleted")
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        for mapping in queryset:
            self.delete_model(request, mapping)

    @admin.display(description="Departments overseen")
    def department_names(self, mapping: GroupMapping) -> str:
        return ", ".join(department.name for department in mapping.departments.all()) or "—"


@admin.register(SignInIdentity)
class SignInIdentityAdmin(admin.ModelAdmin):
    """Link a provider's subject to an existing person here (single sign-on never links by name or email)."""

    list_display = ["user", "subject", "group_names", "last_sign_in"]
    search_fields = ["user__username", "subject"]
    raw_id_fields = ["user"]
    readonly_fields = ["groups", "last_sign_in"]

    @admin.display(description="Groups at the last sign-in")
    def group_names(self, identity: SignInIdentity) -> str:
        return ", ".join(identity.groups) or "—"
