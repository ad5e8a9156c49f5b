"""Live events. Every audit event is also a live event: its chain `seq` is the event id.

Events go out only once their transaction commits, from whichever process made the change (web, Celery
worker, management command). On PostgreSQL the audit table's insert trigger notifies `NOTIFY_CHANNEL`
(governance migration 0010), so stream servers hear them in commit order, which is `seq` order. In the
process that made them, transaction listeners get them inside the transaction (the webhook outbox), and
local listeners after commit (the stream on SQLite, the zero-configuration demo, where server and
simulator share a process). Subscribers re-read the audit table to fill any gap, so a missed
notification delays an event, never loses it.
"""

import datetime as dt
import json
import threading
from collections.abc import Callable

from django.db import connections, transaction

from audit.models import AuditEvent

NOTIFY_CHANNEL = "regent_events"  # PostgreSQL notifications are per database: no other Regent hears them
STREAMED_KINDS = {
    "decision.created",
    "approval.requested",
    "approval.escalated",
    "approval.resolved",
    "agent.status_changed",
    "department.status_changed",
    "policy.changed",
    "workflow.step_changed",
    "decision.overridden",
    "alert.fired",
    "alert.resolved",
}

KEEPALIVES = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}

_local_listeners: list[Callable[[list[dict]], None]] = []
_transaction_listeners: list[Callable[[list[dict]], None]] = []
_listeners_lock = threading.Lock()


def as_stream_event(event: AuditEvent | dict) -> dict:
    """The documented JSON shape of a live event (docs/live-stream.md), from an audit event
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


def from_notification(payload: str) -> list[dict] | None:
    """The stream events a `NOTIFY_CHANNEL` notification carries (the audit rows' columns, in `seq` order), or
    None when it names only the range of its events, too many to carry: they are in the table."""
    rows = json.loads(payload)
    if isinstance(rows, dict):
        return None
    for row in rows:
        row["occurred_at"] = dt.datetime.fromisoformat(row["occurred_at"])
    return [as_stream_event(row) for row in rows]


def record(events: list[dict]) -> None:
    """Hand stream events (`as_stream_event`) just appended to the chain to their listeners: transaction
    listeners at once, inside the transaction, so what they write commits or rolls back with the change
    (the webhook outbox); local listeners once it commits."""
    with _listeners_lock:
        listeners = list(_transaction_listeners)
    for listener in listeners:
        listener(events)
    transaction.on_commit(lambda: publish(events))


def publish(events: list[dict]) -> None:
    """Hand committed events to this process's listeners."""
    if not events:
        return
    with _listeners_lock:
        listeners = list(_local_listeners)
    for listener in listeners:
        listener(events)


def add_transaction_listener(listener: Callable[[list[dict]], None]) -> None:
    """`listener(events)` runs inside each transaction that appends events; what it raises undoes the change."""
    with _listeners_lock:
        _transaction_listeners.append(listener)


def add_local_listener(listener: Callable[[list[dict]], None]) -> None:
    with _listeners_lock:
        _local_listeners.append(listener)


def remove_local_listener(listener: Callable[[list[dict]], None]) -> None:
    with _listeners_lock:
        if listener in _local_listeners:
            _local_listeners.remove(listener)


def session_parameters() -> dict:
    """Connection parameters of the database the ORM uses, for a connection of one's own held for good (the
    stream hub's LISTEN, the sequencer's election lock), outside the ORM's pool.

    TCP keepalives make a peer that vanished (failover, a firewall's idle timeout) an error within about a
    minute instead of a silence; the holder then reconnects.
    """
    parameters = connections["default"].get_connection_params()
    for synchronous_only in ("context", "cursor_factory"):  # Django's adapters and cursors for its own connections
        parameters.pop(synchronous_only, None)
    return {**parameters, **KEEPALIVES}
