"""Appending to the audit chain and proving it intact.

Hashing rules are in audit.hashing. Linking locks the one chain-head row until commit, so the chain is a
single line and commits in `seq` order. Where that happens depends on settings.AUDIT_SEQUENCING: "inline",
in the writer's transaction; "queued", in the sequencer's (`integrate`), the writer only queuing its events
(README, Architecture, "DESIGN: the audit chain is sequenced outside the decision's transaction").
"""

import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from audit import events as events_module
from audit.hashing import GENESIS_HASH, HASHED_FIELDS, canonical, hash_payload
from audit.models import AuditChainHead, AuditEvent, PendingEvent, RetentionArchive
from fastpath import reads, writes

INTEGRATE_BATCH = 1_000  # queued events linked per sequencer transaction


def plain(value):
    """JSON-ready copy of a before/after payload, so what is stored is exactly what was hashed."""
    return None if value is None else json.loads(canonical(value))


def event_payload(event: AuditEvent) -> dict:
    payload = {name: getattr(event, name) for name in HASHED_FIELDS}
    payload["occurred_at"] = event.occurred_at.astimezone(dt.UTC).isoformat()
    payload["subject_id"] = str(event.subject_id)
    return payload


def hash_event(event: AuditEvent) -> str:
    return hash_payload(event_payload(event))


def record(
    kind: str,
    *,
    subject_type: str,
    subject_id,
    actor=None,
    actor_label: str = "",
    department_id: int | None = None,
    before=None,
    after=None,
    at: dt.datetime | None = None,
) -> AuditEvent:
    """Append one event to the chain. Call it inside the transaction of the change it records.

    With neither actor nor label, the label of an enclosing `acting_as`, else the person making the current
    request (if any), is the actor.
    """
    if actor is None and not actor_label:
        actor_label = _acting_label.get()
    if actor is None and not actor_label:
        actor = _request_user()
    if actor is not None and not actor_label:
        actor_label = f"user:{actor.get_username()}"
    event = AuditEvent(
        occurred_at=at or timezone.now(),
        actor=actor,
        actor_label=actor_label or "system",
        kind=kind,
        subject_type=subject_type,
        subject_id=str(subject_id),
        department_id=department_id,
        before=plain(before),
        after=plain(after),
    )
    batched = _batch.get()
    if batched is not None:
        batched.append(event)
        return event
    return append([event])[0]


_batch: ContextVar[list[AuditEvent] | None] = ContextVar("audit_batch", default=None)


@contextmanager
def batch() -> Iterator[None]:
    """Events recorded in the block are appended together at its end, in the order recorded.

    Use it inside the transaction, around the whole change: the chain head is then locked once, as late
    as possible, so concurrent writers wait on it for less time, and the events go live in one message.
    Inside another batch, the outer one appends. Nothing is appended when the block raises.
    """
    if _batch.get() is not None:
        yield
        return
    events: list[AuditEvent] = []
    token = _batch.set(events)
    try:
        yield
    finally:
        _batch.reset(token)
    if events:
        append(events)


_acting_label: ContextVar[str] = ContextVar("audit_acting_label", default="")


@contextmanager
def acting_as(label: str) -> Iterator[None]:
    """Events recorded in the block without an actor name `label` as their actor ("sso:Okta").

    For changes a signal records without knowing why they happen, such as the roles a sign-in grants
    before anyone is signed in.
    """
    token = _acting_label.set(label)
    try:
        yield
    finally:
        _acting_label.reset(token)


# The user of the request being served, set by audit.middleware.AuditActorMiddleware.
acting_request: ContextVar = ContextVar("acting_request", default=None)  # set by AuditActorMiddleware


def _request_user():
    user = getattr(acting_request.get(), "user", None)
    return user if user is not None and user.is_authenticated else None


def append(events: list[AuditEvent]) -> list[AuditEvent]:
    """Link unsaved events onto the chain in the given order and insert them, under one head lock.

    Queued sequencing queues them instead: they are linked (and get their `seq`) when the sequencer
    integrates them, after this transaction commits.
    """
    if queued():
        _queue([{name: getattr(event, name) for name in _QUEUED_FIELDS} for event in events])
        return events
    for event, link in zip(events, _link([event_payload(event) for event in events]), strict=True):
        event.seq, event.prev_hash, event.hash = link["seq"], link["prev_hash"], link["hash"]
    writes.insert(events)
    events_module.record([events_module.as_stream_event(event) for event in events])
    return events


def append_rows(rows: list[dict]) -> list[dict]:
    """`append` for a batch given as plain rows ({AuditEvent attname: value}, `after` JSON-ready, `subject_id`
    a string), as bulk ingest builds them: a thousand model instances cost more than their links."""
    if queued():
        _queue([{name: row[name] for name in _QUEUED_FIELDS} for row in rows])
        return rows
    _link(rows)
    writes.insert_rows(AuditEvent, rows)
    events_module.record([events_module.as_stream_event(row) for row in rows])
    return rows


def queued() -> bool:
    return settings.AUDIT_SEQUENCING == "queued"


# The fields a queued entry shares with its chained event (not its queue id, nor when it was queued).
_QUEUED_FIELDS = tuple(
    f.attname for f in PendingEvent._meta.concrete_fields if f.attname in {g.attname for g in AuditEvent._meta.fields}
)


def _queue(rows: list[dict]) -> None:
    """Queue events for the sequencer, in the writer's transaction: no lock, no notification."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit events must be appended inside the transaction of the change they record")
    queued_at = timezone.now()
    writes.insert_rows(PendingEvent, [{**row, "queued_at": queued_at} for row in rows])


def integrate(limit: int = INTEGRATE_BATCH) -> int:
    """Link up to `limit` queued events onto the chain, oldest first, in one transaction; return how many.

    The head is locked first, so concurrent calls take turns, and each finds the queue as the last one
    left it: the queued rows are deleted and their chained events inserted in the same transaction, so an
    event is integrated exactly once, or (on any error before commit) stays queued. The events reach their
    transaction listeners (webhook deliveries) here, and the stream at commit, as inline appends do.
    """
    with transaction.atomic():
        head = _locked_head()
        rows = _dequeue(limit)
        if not rows:
            return 0
        _link_after(head, rows)
        writes.insert_rows(AuditEvent, rows)
        events_module.record([events_module.as_stream_event(row) for row in rows])
    return len(rows)


def integrate_all() -> int:
    """Integrate until the queue is empty (what a test, or a single process, waits for); return how many."""
    total = 0
    while (integrated := integrate()) == INTEGRATE_BATCH:
        total += integrated
    return total + integrated


def _dequeue(limit: int) -> list[dict]:
    """Delete up to `limit` of the oldest committed queued events; return them as AuditEvent rows, in order."""
    table = connection.ops.quote_name(PendingEvent._meta.db_table)
    key = connection.ops.quote_name(PendingEvent._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} ORDER BY {key} LIMIT %s) "  # noqa: S608
            f"RETURNING {reads.columns(PendingEvent, table)}",
            [limit],
        )
        queued_events = sorted((reads.instances(row, (PendingEvent,))[0][0] for row in cursor.fetchall()), key=_id)
    return [{name: getattr(event, name) for name in _QUEUED_FIELDS} for event in queued_events]


def _id(event: PendingEvent) -> int:
    return event.pk


def _link(payloads: list[dict]) -> list[dict]:
    """Set each payload's seq, prev_hash and hash after the chain's head; the head is locked and moved past them."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit events must be appended inside the transaction of the change they record")
    return _link_after(_locked_head(), payloads)


def _link_after(head: tuple[int, str], payloads: list[dict]) -> list[dict]:
    """`_link` onto a head the caller has locked."""
    seq, prev_hash = head
    for payload in payloads:
        seq += 1
        payload["seq"], payload["prev_hash"] = seq, prev_hash
        payload["hash"] = prev_hash = hash_payload(payload)
    with connection.cursor() as cursor:
        cursor.execute(_head_sql("UPDATE {table} SET {seq} = %s, {hash} = %s WHERE {id} = 1"), [seq, prev_hash])
    return payloads


def _locked_head() -> tuple[int, str]:
    """The chain head's (seq, hash), row-locked until commit: every append happens once, in one order."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(_head_sql("SELECT {seq}, {hash} FROM {table} WHERE {id} = 1") + lock)
        row = cursor.fetchone()
    if row is None:  # a database reset since migrate (test flushes); the genesis link is implied
        AuditChainHead.objects.get_or_create(pk=1, defaults={"seq": 0, "hash": GENESIS_HASH})
        return _locked_head()
    return row


def _head_sql(template: str) -> str:
    """Plain SQL for the head row: appends run for every decision, and the ORM's compiler cost more than them."""
    quote = connection.ops.quote_name
    table = AuditChainHead._meta
    return template.format(
        table=quote(table.db_table),
        seq=quote(table.get_field("seq").column),
        hash=quote(table.get_field("hash").column),
        id=quote(table.pk.column),
    )


def last_event_id() -> int:
    """The newest committed event's id: where a live stream should resume from."""
    head = AuditChainHead.objects.filter(pk=1).first()
    return head.seq if head else 0


def origin() -> tuple[int, str]:
    """Where the chain starts in the database: before any event (0 and the genesis hash) or, once retention has
    deleted the events up to a cut (audit.retention), that cut's seq and hash, vouched for by the checkpoint it
    signed; the events before it are in its archives."""
    cut = RetentionArchive.objects.filter(deleted_at__isnull=False).order_by("-seq").values_list("seq", "hash")
    return cut.first() or (0, GENESIS_HASH)


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_seq: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def iter_chain(start_seq: int = 1, chunk_size: int = 2000, until_seq: int | None = None) -> Iterator[AuditEvent]:
    events = AuditEvent.objects.filter(seq__gte=start_seq)
    if until_seq is not None:
        events = events.filter(seq__lte=until_seq)
    yield from events.order_by("seq").iterator(chunk_size=chunk_size)


def verify_chain(events: Iterator[AuditEvent] | None = None) -> ChainReport:
    """Walk the chain in order from where it starts (`origin`); name the first event whose link or content does
    not hold.

    The head and the events are read in one snapshot (`snapshot`), and the walk stops at that head: events
    written during the walk are left to the next check instead of being reported as a head that disagrees.
    """
    if events is not None:
        return walk(events=events)
    with snapshot():
        head = AuditChainHead.objects.filter(pk=1).first()
        after_seq, after_hash = origin()
        return walk(after_seq, after_hash, until_seq=head.seq if head else None)


PROGRESS_EVERY = 5_000  # events between two progress reports of a walk


def walk(
    after_seq: int = 0,
    after_hash: str = GENESIS_HASH,
    until_seq: int | None = None,
    on_progress: Callable[[int], None] | None = None,
    events: Iterator[AuditEvent] | None = None,
) -> ChainReport:
    """Check the events after `after_seq` (whose hash is `after_hash`) up to `until_seq`, in order.

    `checked` counts the events walked; `on_progress(checked)` is called every PROGRESS_EVERY of them.
    """
    expected_prev, expected_seq, checked = after_hash, after_seq + 1, 0
    for event in events if events is not None else iter_chain(start_seq=after_seq + 1, until_seq=until_seq):
        if event.seq != expected_seq:
            return ChainReport(checked, event.seq, f"sequence jumps from {expected_seq - 1} to {event.seq}")
        if event.prev_hash != expected_prev:
            return ChainReport(checked, event.seq, "its link to the previous event does not match")
        if hash_event(event) != event.hash:
            return ChainReport(checked, event.seq, "its content does not match its hash")
        expected_prev, expected_seq, checked = event.hash, event.seq + 1, checked + 1
        if on_progress is not None and checked % PROGRESS_EVERY == 0:
            on_progress(checked)
    if until_seq is not None and expected_seq - 1 != until_seq:
        return ChainReport(checked, expected_seq, f"the chain head says {until_seq} events, {expected_seq - 1} found")
    return ChainReport(checked)


@contextmanager
def snapshot() -> Iterator[bool]:
    """Read the chain and its head as of one moment for the whole block; yield whether the block is isolated.

    On PostgreSQL a REPEATABLE READ, READ ONLY transaction: every query sees the same committed state, however
    long the walk and however many writers append meanwhile. Inside a transaction already open (a test's), or on
    SQLite (one writer, and reads in WAL mode do not block it), the block runs as it is: the head read first
    still bounds the walk.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield False
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield True


@dataclass(frozen=True)
class LinkReport:
    """One event's place in the chain: its content matches its hash, and its hashes match its neighbours'."""

    event: AuditEvent
    content_ok: bool
    previous_ok: bool
    next_ok: bool | None  # None: the newest event, nothing links to it yet

    @property
    def ok(self) -> bool:
        return self.content_ok and self.previous_ok and self.next_ok is not False


def verify_links(events: list[AuditEvent]) -> list[LinkReport]:
    """Check the given events where they sit in the chain, without walking all of it (one query)."""
    around = {e.seq - 1 for e in events} | {e.seq + 1 for e in events}
    rows = AuditEvent.objects.filter(seq__in=around).values_list("seq", "hash", "prev_hash")
    neighbours = {seq: (hash_, prev_hash) for seq, hash_, prev_hash in rows}
    if any(event.seq - 1 not in neighbours for event in events):  # the chain may start after them: a retention cut
        start_seq, start_hash = origin()
        neighbours[start_seq] = (start_hash, None)
    reports = []
    for event in events:
        previous_hash = neighbours.get(event.seq - 1, (None, None))[0]
        following = neighbours.get(event.seq + 1)
        reports.append(
            LinkReport(
                event=event,
                content_ok=hash_event(event) == event.hash,
                previous_ok=event.prev_hash == previous_hash,
                next_ok=None if following is None else following[1] == event.hash,
            )
        )
    return reports
