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


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "channel_layer": check_channel_layer,
    "broker": check_broker,
}


def run_checks() -> dict[str, dict]:
    results = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
        else:
            results[name] = {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}
    return results
