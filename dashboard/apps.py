from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DashboardConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "dashboard"

    def ready(self) -> None:
        from dashboard.compliance.library import library
        from dashboard.rollups import install_triggers

        library()  # the control library is checked at start: a control naming no query stops it here

        post_migrate.connect(install_triggers, sender=self, dispatch_uid="dashboard.install_rollup_triggers")
