from django.apps import AppConfig


class AlertingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "alerting"
    verbose_name = "Alerts"
