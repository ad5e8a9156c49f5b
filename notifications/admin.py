from django.contrib import admin

from notifications.forms import PreferenceForm
from notifications.models import Delivery, Preference


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    form = PreferenceForm
    list_display = ["user", "email", "chat", "approvals", "reminders", "updated_at"]
    list_filter = ["chat", "email"]
    search_fields = ["user__username", "user__email"]
    autocomplete_fields = ["user"]
    fields = ["user", "email", "chat", "chat_webhook_url", "forget_chat_webhook", "approvals", "reminders"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """The record of what was sent to whom: read-only, kept for the trail."""

    list_display = ["created_at", "recipient", "channel", "kind", "subject", "status", "attempts", "last_error"]
    list_filter = ["status", "channel", "kind"]
    search_fields = ["recipient__username", "subject", "key"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
