from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Telling people where they work: their channels (email, Slack, Teams) and approval requests sent to them."""

    name = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from audit import events
        from notifications import approval_messages

        events.add_transaction_listener(approval_messages.record_messages)
