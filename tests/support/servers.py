"""Real servers for tests: uvicorn serving config.asgi, in a process of its own with exactly the settings a test
gives, or in a thread of the test process. The fixtures that start them are in tests/fixtures/servers.py."""

import socket
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 30
# Settings the server must not inherit from the test process: each test says what its server gets.
# DJANGO_ALLOW_ASYNC_UNSAFE is the browser tests' (set by their fixtures in tests/browser/); the app runs without it.
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
# The ways Regent's HTTP is served (the Procfile's `stream` and `web`): a command line for a free port.
SERVER_COMMANDS = {
    "uvicorn": lambda port: ["uvicorn", "config.asgi:application", "--host", "127.0.0.1", f"--port={port}"],
    "granian": lambda port: [
        *("granian", "--interface", "wsgi", "config.wsgi:application", "--host", "127.0.0.1", "--port", str(port)),
        *("--workers", "1", "--blocking-threads", "8", "--no-ws"),
    ],
}


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


class ThreadedServer:
    """uvicorn serving config.asgi in a thread of the test process: HTTP and WebSockets on a real socket,
    sharing the test database (and, without Redis, the in-process event listeners) with the test. Given another
    ASGI application (an upstream MCP server), it serves that, with its lifespan."""

    def __init__(self, application=None) -> None:
        import uvicorn

        lifespan = "on" if application is not None else "off"
        if application is None:
            from config.asgi import application

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(
            uvicorn.Config(
                application, host="127.0.0.1", port=self.port, lifespan=lifespan, log_level="warning", interface="asgi3"
            )
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
