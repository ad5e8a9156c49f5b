"""One hub per server process: it receives the event stream once and fans it out to local sockets.

Fan-out per connection through the channel layer loses events past a few hundred clients; here each
process holds one subscription (PostgreSQL LISTEN, or in-process listeners on SQLite), keeps events in
`seq` order, fills any gap from the audit table, encodes each event once, and hands it to every
subscriber whose scope allows it. Subscribers batch whatever is pending into one frame, so a
slow client only grows its own queue; past a bound it is told to resync.
"""

import asyncio
import json
import logging
from collections.abc import Iterable

import psycopg
from asgiref.sync import sync_to_async
from django.db import close_old_connections, connections

from audit import events
from audit.chain import last_event_id
from audit.models import AuditEvent
from dashboard.stream.scope import StreamScope
from telemetry.instruments import forget_dead_processes, stream_clients, stream_dropped

logger = logging.getLogger(__name__)
POLL_SECONDS = 1.0
# How long an event waits for the one before it before the hub reads that one back. Notifications come in
# `seq` order, so a gap means one was missed (the listening connection dropped), or that in-process
# listeners heard two threads' commits out of order: the earlier event is committed already (appends hold
# the chain head until commit).
GAP_WAIT_SECONDS = 0.02
MAX_PENDING = 5_000
READ_BATCH = 2_000


def read_events(after: int, until: int | None = None, limit: int = READ_BATCH) -> list[dict]:
    """Committed events after `after` (up to `until`), from the audit table, in order."""
    close_old_connections()
    try:
        rows = AuditEvent.objects.filter(seq__gt=after).order_by("seq")
        if until is not None:
            rows = rows.filter(seq__lte=until)
        return [events.as_stream_event(e) for e in rows[:limit]]
    finally:
        close_old_connections()


def head_seq() -> int:
    close_old_connections()
    try:
        return last_event_id()
    finally:
        close_old_connections()


def encode(event: dict) -> str:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


class Subscriber:
    """One socket's view of the stream: events its scope allows, waiting to be sent."""

    def __init__(self, scope: StreamScope, after: int = 0):
        self.scope = scope
        self.after = after  # the client has seen up to here (perhaps from another, faster server process)
        self.pending: list[str] = []
        self.overflowed = False
        self.queued_id = 0  # the newest event waiting in `pending`
        self.sent_id = after  # the newest event handed to the socket: where a resync may resume
        self._wake = asyncio.Event()

    def offer(self, event: dict, text: str) -> None:
        if self.overflowed or event["id"] <= self.after or not self.scope.allows(event):
            return
        if len(self.pending) >= MAX_PENDING:
            self.overflowed, self.pending = True, []
            stream_dropped.inc()
        else:
            self.pending.append(text)
            self.queued_id = event["id"]
        self._wake.set()

    async def next_frame(self) -> list[str] | None:
        """Everything pending, as one batch; None once the client fell too far behind."""
        await self._wake.wait()
        self._wake.clear()
        if self.overflowed:
            return None
        batch, self.pending = self.pending, []
        if batch:
            self.sent_id = self.queued_id
        return batch


class Hub:
    def __init__(self) -> None:
        self.subscribers: set[Subscriber] = set()
        self.last_seq = 0
        self._buffer: dict[int, dict] = {}
        self._gap_timer: asyncio.TimerHandle | None = None
        self._tasks: list[asyncio.Task] = []
        self._started = False
        self._start_lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        async with self._start_lock:
            if self._started:
                return
            self._loop = asyncio.get_running_loop()
            forget_dead_processes()
            self.last_seq = await sync_to_async(head_seq, thread_sensitive=False)()
            if connections["default"].vendor == "postgresql":
                self._tasks.append(asyncio.create_task(self._listen_postgres()))
            else:
                events.add_local_listener(self._from_thread)
            self._tasks.append(asyncio.create_task(self._poll()))
            self._started = True

    def register(self, subscriber: Subscriber) -> int:
        """Add a subscriber; return the last event id already delivered, which it must not expect."""
        if subscriber not in self.subscribers:
            self.subscribers.add(subscriber)
            stream_clients.inc()
        return self.last_seq

    def unregister(self, subscriber: Subscriber) -> None:
        if subscriber in self.subscribers:
            self.subscribers.discard(subscriber)
            stream_clients.dec()

    def _from_thread(self, batch: list[dict]) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.accept, batch)

    def accept(self, batch: Iterable[dict]) -> None:
        """Take events in any order, with duplicates; deliver them once each, in `seq` order."""
        for event in batch:
            if event["id"] > self.last_seq:
                self._buffer[event["id"]] = event
        while self.last_seq + 1 in self._buffer:
            event = self._buffer.pop(self.last_seq + 1)
            self.last_seq = event["id"]
            self._deliver(event)
        if self._buffer and self._gap_timer is None:
            self._gap_timer = asyncio.get_running_loop().call_later(GAP_WAIT_SECONDS, self._fill_gap)
        elif not self._buffer and self._gap_timer is not None:
            self._gap_timer.cancel()  # the late event arrived: no need to read it back
            self._gap_timer = None

    def _deliver(self, event: dict) -> None:
        if event["type"] not in events.STREAMED_KINDS or not self.subscribers:
            return
        text = encode(event)
        for subscriber in tuple(self.subscribers):
            subscriber.offer(event, text)

    def _fill_gap(self) -> None:
        self._gap_timer = None
        self._tasks.append(asyncio.create_task(self._read_back()))

    async def _read_back(self) -> None:
        """Read committed events the messages did not bring (lost, or still on their way)."""
        try:
            while True:
                batch = await sync_to_async(read_events, thread_sensitive=False)(self.last_seq)
                self.accept(batch)
                if len(batch) < READ_BATCH:
                    break
        except Exception:
            logger.exception("reading live events back from the audit table failed")
        finally:
            self._tasks = [t for t in self._tasks if not t.done()]

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(POLL_SECONDS)
            await self._read_back()

    async def _listen_postgres(self) -> None:
        backoff = 0.5
        while True:
            try:
                parameters = events.session_parameters()
                async with await psycopg.AsyncConnection.connect(**parameters, autocommit=True) as listener:
                    await listener.execute(f"LISTEN {events.NOTIFY_CHANNEL}")
                    backoff = 0.5
                    await self._read_back()  # whatever committed before the hub was listening
                    async for notification in listener.notifies():
                        self._notified(notification.payload)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("live event subscription lost; reconnecting in %.1fs", backoff, exc_info=True)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10)

    def _notified(self, payload: str) -> None:
        try:
            carried = events.from_notification(payload)
        except (ValueError, KeyError, TypeError, AttributeError):
            logger.warning("unreadable live event notification; reading the audit table instead: %.200r", payload)
            carried = None
        if carried is None:  # too many events to carry (or unreadable): read them back
            self._tasks.append(asyncio.create_task(self._read_back()))
        else:
            self.accept(carried)


_hubs: dict[asyncio.AbstractEventLoop, Hub] = {}


async def get_hub() -> Hub:
    """The hub of this process's event loop, started on first use."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = Hub()
    await hub.start()
    return hub
