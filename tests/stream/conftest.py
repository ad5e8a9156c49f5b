"""The live stream as its clients see it: a real uvicorn server, real WebSocket clients, real events.

Clients use the `websockets` synchronous client, which reads its socket in a thread of its own: the test's
thread runs no event loop, so the ORM stays usable there (see tests/browser/conftest.py for the other way).
Every wait is bounded, so a missing event fails a test instead of hanging it.
"""

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from audit import events
from audit.models import AuditEvent
from governance.models import Decision
from governance.services import ActionRequest, evaluate_action
from orchestration.keys import issue_key
from orchestration.models import Agent
from tests.governance.conftest import fresh_policy_index, make_policy  # noqa: F401 (shared fixtures)
from tests.servers import INHERITED_SETTINGS, PROJECT_ROOT, START_TIMEOUT_SECONDS, reachable

if connection.vendor == "sqlite":
    # The server's threads read while the test's threads write. SQLite's default test database (in memory,
    # shared cache) fails such readers and writers at once ("database table is locked") instead of letting
    # them wait; a file in WAL mode, like the one Regent runs on, behaves as in production. Collecting these
    # tests switches the whole run to it: the test database is created once per run.
    connection.settings_dict["TEST"]["NAME"] = str(Path(tempfile.gettempdir()) / f"regent-test-{os.getpid()}.sqlite3")

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


@pytest.fixture
def connect(asgi_server) -> Iterator[Connect]:
    """Open a stream on the in-process server (nothing read yet); every stream is closed afterwards."""
    with ExitStack() as streams:
        yield lambda **options: streams.enter_context(open_stream(asgi_server.ws_url, **options))


@pytest.fixture
def watch(connect: Connect) -> Connect:
    """Open a stream and read its hello: what follows are events."""

    def watch_(**options) -> StreamClient:
        client = connect(**options)
        client.hello()
        return client

    return watch_


def decide(agent: Agent, action: str = "invoice.approve", **fields) -> Decision:
    """Ask the decision point about one action, now."""
    if fields.get("amount") is not None:
        fields["amount"] = Decimal(str(fields["amount"]))
    return evaluate_action(agent, ActionRequest(action=action, **fields))


@contextmanager
def unannounced(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Events committed in the block reach stream servers only when they read the audit table back.

    On PostgreSQL the block is one transaction with the audit table's notify trigger off (DDL is
    transactional: the trigger is back on when it commits); on SQLite no in-process listener hears them.
    """
    if connection.vendor != "postgresql":
        with monkeypatch.context() as quiet:
            quiet.setattr(events, "publish", lambda batch: None)
            yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE governance_auditevent DISABLE TRIGGER governance_auditevent_notify")
        yield
        cursor.execute("ALTER TABLE governance_auditevent ENABLE TRIGGER governance_auditevent_notify")


def event_id_of(decision: Decision) -> int:
    return AuditEvent.objects.get(kind="decision.created", subject_id=str(decision.pk)).seq


def committed_decision_events(after: int, **scope) -> list[int]:
    """Ids of the decision.created events committed after `after`, narrowed like `department_id=…`."""
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


@pytest.fixture
def agent_key() -> Callable[[Agent], str]:
    return issue_key


@pytest.fixture
def redis_url() -> str:
    """The Redis this test process already uses (REDIS_URL), as the broker of server and worker processes."""
    if not settings.REDIS_URL:
        pytest.skip("needs Redis: set REDIS_URL=redis://… for the whole test run")
    if not reachable(settings.REDIS_URL, 6379):
        pytest.skip(f"Redis at {urlsplit(settings.REDIS_URL).netloc} is unreachable")
    return settings.REDIS_URL


@pytest.fixture
def postgres_url(transactional_db) -> str:
    """The PostgreSQL test database of this run, for server and worker processes to share with the test."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL shared between processes: set DATABASE_URL=postgres://…")
    configured = os.environ["DATABASE_URL"]
    if not reachable(configured, 5432):
        pytest.skip(f"PostgreSQL at {urlsplit(configured).netloc} is unreachable")
    return urlsplit(configured)._replace(path=f"/{connection.settings_dict['NAME']}").geturl()


def process_env(**settings_: str) -> dict[str, str]:
    """This process's environment without its Regent settings, plus exactly the given ones."""
    env = {name: value for name, value in os.environ.items() if name not in INHERITED_SETTINGS}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", **settings_)
    return env


StartWorker = Callable[..., str]


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[StartWorker]:
    """Start a real Celery worker on a queue of its own; return the queue's name. Stopped afterwards."""
    workers: list[subprocess.Popen] = []

    def start(**settings_: str) -> str:
        queue = f"stream-test-{uuid.uuid4().hex[:12]}"
        log_path = tmp_path / f"{queue}.log"
        with log_path.open("wb") as log:
            worker = subprocess.Popen(  # noqa: S603 (a fixed command line)
                [
                    sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1",
                    "-Q", queue, "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=INFO",
                    f"--hostname={queue}@%h",
                ],
                cwd=PROJECT_ROOT,
                env=process_env(**settings_),
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        workers.append(worker)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while b" ready." not in log_path.read_bytes():
            if worker.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Celery worker did not start (exit code {worker.poll()}):\n{log_path.read_text()}")
            time.sleep(0.1)
        return queue

    try:
        yield start
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
