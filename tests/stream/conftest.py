"""The live stream as its clients see it: a real uvicorn server, real WebSocket clients, real events.

The clients and the helpers to read them are in tests/support/stream.py; the fixtures here open streams on the
in-process server, and start the server and worker processes that share this run's stores.
"""

import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from django.db import connection

from orchestration.keys import issue_key
from orchestration.models import Agent
from tests.support.audit import wait_until_sequenced
from tests.support.servers import INHERITED_SETTINGS, PROJECT_ROOT, START_TIMEOUT_SECONDS
from tests.support.stream import Connect, StreamClient, open_stream

if connection.vendor == "sqlite":
    # The server's threads read while the test's threads write. SQLite's default test database (in memory,
    # shared cache) fails such readers and writers at once ("database table is locked") instead of letting
    # them wait; a file in WAL mode, like the one Regent runs on, behaves as in production. Collecting these
    # tests switches the whole run to it: the test database is created once per run.
    connection.settings_dict["TEST"]["NAME"] = str(Path(tempfile.gettempdir()) / f"regent-test-{os.getpid()}.sqlite3")


@pytest.fixture
def connect(asgi_server) -> Iterator[Connect]:
    """Open a stream on the in-process server (nothing read yet); every stream is closed afterwards."""
    with ExitStack() as streams:
        yield lambda **options: streams.enter_context(open_stream(asgi_server.ws_url, **options))


@pytest.fixture
def watch(connect: Connect) -> Connect:
    """Open a stream and read its hello: what follows are events. Events queued before it (queued sequencing)
    are chained first, so they count as history, as they would for anyone connecting after they were made."""

    def watch_(**options) -> StreamClient:
        wait_until_sequenced()
        client = connect(**options)
        client.hello()
        return client

    return watch_


@pytest.fixture
def agent_key() -> Callable[[Agent], str]:
    return issue_key


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
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "--pool=solo",
                    "--concurrency=1",
                    "-Q",
                    queue,
                    "--without-heartbeat",
                    "--without-gossip",
                    "--without-mingle",
                    "--loglevel=INFO",
                    f"--hostname={queue}@%h",
                ],
                cwd=PROJECT_ROOT,
                env=process_env(**settings_),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
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
