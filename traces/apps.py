from django.apps import AppConfig


class TracesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "traces"
    verbose_name = "Agent reasoning (traces)"

    def ready(self) -> None:
        from audit import retention
        from traces.models import Span

        # By when Regent received a span, not the start the agent reports: an agent's clock decides nothing here.
        retention.register(retention.RecordKind("spans", Span, "received_at"))
