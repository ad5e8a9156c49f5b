"""Real server processes for tests: uvicorn serving config.asgi with exactly the settings a test gives."""

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connections

PROJECT_ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_SECONDS = 30
# Settings the server must not inherit from the test process: each test says what its server gets.
# DJANGO_ALLOW_ASYNC_UNSAFE is the browser tests' (tests/browser/conftest.py); the app runs without it.
INHERITED_SETTINGS = (
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "SECURE_SSL_REDIRECT",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)
StartServer = Callable[..., str]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):  # noqa: S310
            return True
    except OSError:
        return False


def reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[StartServer]:
    """Start `uvicorn config.asgi:application` with the given settings; every server is stopped afterwards."""
    processes: list[subprocess.Popen] = []

    def start(**settings: str) -> str:
        env = {name: value for name, value in os.environ.items() if name not in INHERITED_SETTINGS}
        env.update(DJANGO_SETTINGS_MODULE="config.settings", **settings)
        port = free_port()
        log_path = tmp_path / f"uvicorn-{port}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(  # noqa: S603 (a fixed command line)
                [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", f"--port={port}"],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        processes.append(process)
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not answers(f"{base_url}/healthz"):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"uvicorn did not start (exit code {process.poll()}):\n{log_path.read_text()}")
            time.sleep(0.1)
        return base_url

    yield start
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'regent.sqlite3'}"


class ThreadedServer:
    """uvicorn serving config.asgi in a thread of the test process: HTTP and WebSockets on a real socket,
    sharing the test database (and, without Redis, the in-process event listeners) with the test."""

    def __init__(self) -> None:
        import uvicorn

        from config.asgi import application

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(
            uvicorn.Config(application, host="127.0.0.1", port=self.port, lifespan="off", log_level="warning")
        )
        self._thread = threading.Thread(target=self._server.run, name="asgi-test-server", daemon=True)

    def start(self) -> "ThreadedServer":
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the ASGI test server did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


@pytest.fixture
def asgi_server(transactional_db) -> Iterator[ThreadedServer]:
    server = ThreadedServer().start()
    yield server
    server.stop()
    # The server's worker threads end with their pooled connections still checked out: a fresh pool per
    # server keeps a long session of browser tests from running the shared pool dry.
    for connection in connections.all(initialized_only=True):
        if getattr(connection, "pool", None) is not None:
            connection.close_pool()
