from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_migrate


class OrchestrationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "orchestration"
    verbose_name = "Registry"

    def ready(self) -> None:
        from django.contrib.auth.models import User

        from orchestration.models import Department
        from orchestration.roles import audit_role_change, ensure_roles
        from orchestration.scoping import audit_supervision_change

        post_migrate.connect(ensure_roles, dispatch_uid="regent.ensure_roles")
        m2m_changed.connect(audit_role_change, sender=User.groups.through, dispatch_uid="regent.audit_role_change")
        m2m_changed.connect(
            audit_supervision_change,
            sender=Department.supervisors.through,
            dispatch_uid="regent.audit_supervision_change",
        )
