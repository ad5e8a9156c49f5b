from django.apps import AppConfig


class GatewayConfig(AppConfig):
    name = "gateway"
    verbose_name = "MCP gateway"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from audit import retention
        from gateway.calls import withdraw_calls_of_stopped_agents
        from gateway.models import ToolCall
        from orchestration.signals import agents_stopped

        agents_stopped.connect(withdraw_calls_of_stopped_agents, dispatch_uid="regent.withdraw_waiting_tool_calls")

        # Kept as long as decisions are (settings.RETENTION_DAYS["tool_calls"]), archived and deleted on their own.
        retention.register(retention.RecordKind("tool_calls", ToolCall, "started_at"))
