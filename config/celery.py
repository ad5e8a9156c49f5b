"""The Celery app. Settings live in config.settings under the CELERY_ namespace."""

import functools
import os

from celery import Celery
from celery.signals import task_postrun, task_prerun
from django.db import close_old_connections
from kombu import Connection

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("regent")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def forget_channel_when_collected(collect):
    """A worker whose broker restarts must reconnect, not exit. On losing Redis, Celery's consumer collects the
    broker connection (dropping its transport) and then closes it; the close reaches the default channel still
    held, which asks the dropped transport for Redis's address and raises AttributeError: "Unrecoverable error",
    the worker exits (bench/faults.py, restart Redis). A collected connection has no channel left to close."""

    @functools.wraps(collect)
    def collect_and_forget(self: Connection, *args, **kwargs) -> None:
        collect(self, *args, **kwargs)
        self._default_channel = None

    return collect_and_forget


Connection.collect = forget_channel_when_collected(Connection.collect)


@task_prerun.connect
@task_postrun.connect
def release_database_connections(sender=None, **_kwargs) -> None:
    """Between tasks, connections go back as they do between requests: to the pool, or closed when
    unusable or older than DB_CONN_MAX_AGE. A new connection costs a task a few milliseconds."""
    if not getattr(sender.request, "is_eager", False):
        close_old_connections()
