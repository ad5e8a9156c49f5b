from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OrchestrationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "orchestration"

    def ready(self) -> None:
        from orchestration.roles import ensure_roles

        post_migrate.connect(ensure_roles, dispatch_uid="regent.ensure_roles")
