"""Readiness checks: can this process reach every store it depends on?"""

import asyncio
import time
from collections.abc import Callable

import psycopg
from asgiref.sync import async_to_sync
from celery import current_app as celery_app
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connections
from django.utils import timezone

from audit.models import PendingEvent

CHECK_TIMEOUT_SECONDS = 3


def check_database() -> None:
    """On PostgreSQL a fresh connection, not one from the pool: a pool would wait its whole timeout."""
    connection = connections["default"]
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return
    config = connection.settings_dict
    with psycopg.connect(
        host=config["HOST"] or None,
        port=config["PORT"] or None,
        dbname=config["NAME"],
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
        connect_timeout=CHECK_TIMEOUT_SECONDS,
    ) as raw:
        raw.execute("SELECT 1")


def check_channel_layer() -> None:
    """A message round trip through the layer, whichever backend it is."""
    layer = get_channel_layer()

    async def round_trip() -> None:
        channel = await layer.new_channel("health.")
        await layer.send(channel, {"type": "health.ping"})
        await layer.receive(channel)

    async def bounded() -> None:
        try:
            await asyncio.wait_for(round_trip(), CHECK_TIMEOUT_SECONDS)
        except TimeoutError:
            raise TimeoutError(f"no reply within {CHECK_TIMEOUT_SECONDS} s") from None

    async_to_sync(bounded)()


def check_broker() -> None:
    """One connection attempt, bounded: kombu's default socket has no timeout and waits forever on a silent peer."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return
    bounded = {"socket_timeout": CHECK_TIMEOUT_SECONDS, "socket_connect_timeout": CHECK_TIMEOUT_SECONDS}
    with celery_app.connection_for_write(transport_options=bounded) as connection:
        connection.ensure_connection(max_retries=0)


def check_audit_queue() -> None:
    """The oldest audit event still queued has waited at most AUDIT_QUEUE_MAX_AGE_SECONDS: a sequencer is running
    and keeping up. Past it, decisions are being made that auditors, the live stream and webhooks cannot see yet.

    The queue's key orders it, so the oldest entry is one index lookup however long the queue has grown.
    """
    oldest = PendingEvent.objects.order_by("pk").values_list("queued_at", flat=True).first()
    if oldest is None:
        return
    waited = (timezone.now() - oldest).total_seconds()
    if waited > settings.AUDIT_QUEUE_MAX_AGE_SECONDS:
        raise RuntimeError(
            f"the oldest queued audit event has waited {waited:.1f} s, more than "
            f"AUDIT_QUEUE_MAX_AGE_SECONDS={settings.AUDIT_QUEUE_MAX_AGE_SECONDS:g}: is the sequencer "
            "(manage.py sequence_audit) running?"
        )


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "channel_layer": check_channel_layer,
    "broker": check_broker,
    "audit_queue": check_audit_queue,
}


def run_checks() -> dict[str, dict]:
    """Each check's result. The audit queue is checked where a sequencer must run (queued sequencing) and the
    database it lives in answers."""
    results = {}
    for name, check in CHECKS.items():
        if name == "audit_queue" and (settings.AUDIT_SEQUENCING != "queued" or not results["database"]["ok"]):
            continue
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
        else:
            results[name] = {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}
    return results
