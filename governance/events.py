"""Live events. Every audit event is also a live event: its chain `seq` is the event id.

Events are published only after their transaction commits, from whichever process made the change
(web, Celery worker, management command): to Redis pub/sub when REDIS_URL is set, and to in-process
listeners otherwise (the zero-configuration demo, where server and simulator share a process).
Subscribers re-read the audit table to fill any gap, so a lost message delays an event, never loses it.
"""

import datetime as dt
import json
import logging
import threading
from collections.abc import Callable
from functools import cache

import redis
from django.conf import settings
from django.db import transaction

from governance.models import AuditEvent

logger = logging.getLogger(__name__)
CHANNEL_PREFIX = "regent:events"
STREAMED_KINDS = {
    "decision.created", "approval.requested", "approval.escalated", "approval.resolved", "agent.status_changed",
    "department.status_changed", "policy.changed", "workflow.step_changed", "decision.overridden",
}  # fmt: skip

_local_listeners: list[Callable[[list[dict]], None]] = []
_listeners_lock = threading.Lock()


def as_stream_event(event: AuditEvent | dict) -> dict:
    """The documented JSON shape of a live event (see docs in README, 'Live stream'), from an audit event
    or from its row as `audit.append_rows` writes it."""
    fields = event if isinstance(event, dict) else event.__dict__
    data = fields["after"] or {}
    subject_type, subject_id = fields["subject_type"], fields["subject_id"]
    return {
        "id": fields["seq"],
        "type": fields["kind"],
        "at": fields["occurred_at"].astimezone(dt.UTC).isoformat(),
        "department_id": fields["department_id"],
        "agent_id": int(subject_id) if subject_type == "agent" else data.get("agent_id"),
        "subject": {"type": subject_type, "id": subject_id},
        "data": data,
    }


def channel() -> str:
    """The Redis pub/sub channel of this database's events.

    Pub/sub ignores Redis database numbers, so every Regent on one Redis would hear every other's events;
    event ids are positions in one audit chain, so a stranger's event would take the place of one's own.
    """
    database = settings.DATABASES["default"]
    return f"{CHANNEL_PREFIX}:{database['HOST']}:{database['PORT']}/{database['NAME']}"


def publish_on_commit(events: list[dict]) -> None:
    """Publish stream events (`as_stream_event`) once the transaction that made them commits."""
    transaction.on_commit(lambda: publish(events))


def publish(events: list[dict]) -> None:
    """Hand committed events to every stream server. Never raises: the audit table is the record."""
    if not events:
        return
    try:
        if settings.REDIS_URL:
            _redis().publish(channel(), json.dumps(events, separators=(",", ":")))
    except redis.RedisError:
        logger.warning("could not publish %d live event(s); stream servers will read them back", len(events))
    with _listeners_lock:
        listeners = list(_local_listeners)
    for listener in listeners:
        listener(events)


def add_local_listener(listener: Callable[[list[dict]], None]) -> None:
    with _listeners_lock:
        _local_listeners.append(listener)


def remove_local_listener(listener: Callable[[list[dict]], None]) -> None:
    with _listeners_lock:
        if listener in _local_listeners:
            _local_listeners.remove(listener)


@cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
