"""The live stream as its clients see it: WebSocket clients read with bounded waits, and ways to make and find
the events they should receive. The fixtures that open streams are tests/stream's own.

Clients use the `websockets` synchronous client, which reads its socket in a thread of its own: the test's
thread runs no event loop, so the ORM stays usable there (see the fixtures of tests/browser/ for the other way).
Every wait is bounded, so a missing event fails a test instead of hanging it.
"""

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from audit import chain, events
from audit.models import AuditEvent
from governance.evaluation import ActionRequest, evaluate_action
from governance.models import Decision
from orchestration.models import Agent
from tests.support.audit import wait_until_sequenced

RECEIVE_SECONDS = 5.0
QUIET_SECONDS = 1.0
STREAM_PATH = "/ws/decisions/"


class StreamClient:
    """One WebSocket connection to the stream, read with bounded waits."""

    def __init__(self, socket: ClientConnection):
        self.socket = socket
        self.starts_after: int | None = None  # the hello's last_event_id

    def frame(self, timeout: float = RECEIVE_SECONDS) -> dict:
        try:
            return json.loads(self.socket.recv(timeout=timeout))
        except TimeoutError:
            pytest.fail(f"no frame arrived within {timeout}s")
        except ConnectionClosed as closed:
            pytest.fail(f"the stream closed while a frame was awaited: {closed}")

    def hello(self) -> int:
        """Read the greeting every accepted client gets first; return the event id the stream starts after."""
        frame = self.frame()
        assert frame["type"] == "hello", frame
        self.starts_after = frame["last_event_id"]
        return self.starts_after

    def send(self, message: dict) -> None:
        self.socket.send(json.dumps(message))

    def events_until(self, done: Callable[[list[dict]], bool], timeout: float = RECEIVE_SECONDS) -> list[dict]:
        """Events in arrival order, read until `done(received)` holds; any frame but events fails the test."""
        received: list[dict] = []
        deadline = time.monotonic() + timeout
        while not done(received):
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"gave up after {timeout}s with {len(received)} events: {summary(received)}")
            try:
                frame = json.loads(self.socket.recv(timeout=left))
            except TimeoutError:
                continue
            except ConnectionClosed as closed:
                pytest.fail(f"the stream closed after {len(received)} events: {closed}")
            assert frame["type"] == "events", frame
            received.extend(frame["events"])
        return received

    def events(self, count: int, timeout: float = RECEIVE_SECONDS) -> list[dict]:
        return self.events_until(lambda received: len(received) >= count, timeout)

    def events_through(self, event_id: int, timeout: float = RECEIVE_SECONDS) -> list[dict]:
        """Events up to and including the one with `event_id` (the stream is in id order)."""
        return self.events_until(lambda received: any(e["id"] >= event_id for e in received), timeout)

    def events_within(self, seconds: float = QUIET_SECONDS) -> list[dict]:
        """Whatever events arrive in the next `seconds`: for checking that nothing does."""
        received: list[dict] = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                frame = json.loads(self.socket.recv(timeout=left))
            except TimeoutError:
                break
            assert frame["type"] == "events", frame
            received.extend(frame["events"])
        return received

    def close_code(self, timeout: float = RECEIVE_SECONDS) -> int:
        """Read until the server closes the connection; return its close code."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                self.socket.recv(timeout=left)
            except TimeoutError:
                break
            except ConnectionClosed as closed:
                assert closed.rcvd is not None, "the connection dropped without a close frame"
                return closed.rcvd.code
        pytest.fail(f"the server did not close the connection within {timeout}s")

    def close(self) -> None:
        self.socket.close()


def summary(events: list[dict]) -> list[tuple[int, str]]:
    return [(e["id"], e["type"]) for e in events]


def session_cookie(user) -> str:
    """A real session for the user, stored in the database the server reads."""
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


@contextmanager
def open_stream(
    ws_url: str,
    *,
    user=None,
    key: str | None = None,
    key_in: str = "query",
    last_event_id: int | None = None,
    origin: str | None = None,
    max_queue: int | None = None,
) -> Iterator[StreamClient]:
    """Connect to the stream (nothing read yet), and close the connection afterwards.

    The client reads its socket all the time and queues what the test has not read yet (max_queue=None), so
    it answers the server's pings even while the test attends to something else; a bounded queue makes a
    client that stops reading.
    """
    query, headers = {}, {}
    if user is not None:
        headers["Cookie"] = session_cookie(user)
    if key is not None and key_in == "query":
        query["token"] = key
    elif key is not None:
        headers["Authorization"] = f"Bearer {key}"
    if last_event_id is not None:
        query["last_event_id"] = last_event_id
    url = f"{ws_url}{STREAM_PATH}" + (f"?{urlencode(query)}" if query else "")
    with ws_connect(
        url,
        additional_headers=headers,
        origin=origin,
        proxy=None,
        open_timeout=RECEIVE_SECONDS,
        close_timeout=2,
        max_queue=max_queue,
    ) as socket:
        yield StreamClient(socket)


Connect = Callable[..., StreamClient]


def decide(agent: Agent, action: str = "invoice.approve", **fields) -> Decision:
    """Ask the decision point about one action, now."""
    if fields.get("amount") is not None:
        fields["amount"] = Decimal(str(fields["amount"]))
    return evaluate_action(agent, ActionRequest(action=action, **fields))


@contextmanager
def unannounced(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Events committed in the block reach stream servers only when they read the audit table back.

    On PostgreSQL the block is one transaction with the audit table's notify trigger off (DDL is
    transactional: the trigger is back on when it commits); queued, the block's events are integrated in it
    (any running sequencer waits on the chain head meanwhile). On SQLite no in-process listener hears them.
    """
    if connection.vendor != "postgresql":
        with monkeypatch.context() as quiet:
            quiet.setattr(events, "publish", lambda batch: None)
            yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE governance_auditevent DISABLE TRIGGER governance_auditevent_notify")
        yield
        if chain.queued():
            chain.integrate_all()
        cursor.execute("ALTER TABLE governance_auditevent ENABLE TRIGGER governance_auditevent_notify")


def event_id_of(decision: Decision) -> int:
    wait_until_sequenced()
    return AuditEvent.objects.get(kind="decision.created", subject_id=str(decision.pk)).seq


def committed_decision_events(after: int, **scope) -> list[int]:
    """Ids of the decision.created events committed after `after`, narrowed like `department_id=…`."""
    wait_until_sequenced()
    rows = AuditEvent.objects.filter(kind="decision.created", seq__gt=after, **scope).order_by("seq")
    return list(rows.values_list("seq", flat=True))


class Producer(threading.Thread):
    """Makes decisions as fast as it can, round-robin over the agents, in a thread with its own connection."""

    def __init__(self, agents: list[Agent], count: int):
        super().__init__(name="decision-producer", daemon=True)
        self.agents, self.count = agents, count
        self.made = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for n in range(self.count):
                decide(self.agents[n % len(self.agents)])
                self.made += 1
        except BaseException as error:  # reported by finish(), in the test's thread
            self.error = error
        finally:
            connection.close()

    def finish(self, timeout: float = 120) -> None:
        self.join(timeout)
        assert not self.is_alive(), f"the producer was still running after {timeout}s ({self.made} made)"
        if self.error is not None:
            raise self.error
