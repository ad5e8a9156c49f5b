from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """How other systems talk to Regent: the REST API's conventions, personal tokens and webhooks."""

    name = "integrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from audit import events
        from integrations import webhooks
        from integrations.api import schema  # noqa: F401 (registers the schema's security schemes)

        events.add_transaction_listener(webhooks.record_deliveries)
