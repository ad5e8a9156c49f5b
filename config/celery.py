"""The Celery app. Settings live in config.settings under the CELERY_ namespace."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("regent")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def release_database_connections(sender=None, **_kwargs) -> None:
    """Between tasks, connections go back as they do between requests: to the pool, or closed when
    unusable or older than DB_CONN_MAX_AGE. A new connection costs a task a few milliseconds."""
    if not getattr(sender.request, "is_eager", False):
        close_old_connections()
