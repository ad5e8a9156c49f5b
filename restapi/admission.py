"""Admission control: at most MAX_REQUESTS_IN_FLIGHT HTTP requests in flight in each server process.

Past the bound a request is answered at once, 503 `overloaded` with Retry-After, before Django reads its body or
gives it a thread. Admitted requests then find a database connection free and share the process's one core with
a few others, not hundreds, so their latency stays bounded under overload instead of every request queueing for
the pool and timing out. Health probes are always admitted (a busy process is alive, and /readyz must still say
what is down); WebSockets are not counted, since a socket lasts for hours and holds no database connection while
it waits.

Two forms of the same bound: `AdmissionControl` for ASGI (the count is a plain integer: a server process runs one
event loop, and nothing is awaited between reading the count and changing it), and `WsgiAdmissionControl` for a
threaded WSGI server (the count is changed under a lock, since each request has a thread of its own).
"""

import threading
from functools import cache

from django.conf import settings

from restapi.errors import ServiceUnavailable
from restapi.unavailable import API_PREFIX, answer

HEALTH_PROBES = frozenset({"/healthz", "/readyz", "/favicon.ico"})


class AdmissionControl:
    """An ASGI application that admits at most `limit` HTTP requests into `app` at once."""

    def __init__(self, app, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.in_flight = 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or unbounded(path_in_app(scope)):
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            await turn_away(scope, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


class WsgiAdmissionControl:
    """A WSGI application that admits at most `limit` requests into `app` at once, across its threads.

    The server must run more threads than `limit` (config/wsgi.py says how many): a request past the bound then
    finds a thread at once and is turned away in microseconds, instead of waiting in the server's queue."""

    def __init__(self, app, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.in_flight = 0
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if unbounded(path):
            return self.app(environ, start_response)
        with self._lock:
            admitted = self.in_flight < self.limit
            if admitted:
                self.in_flight += 1
        if not admitted:
            status, retry_after, content_type, body = overloaded_answer(path.startswith(API_PREFIX))
            headers = [
                ("Content-Type", content_type),
                ("Content-Length", str(len(body))),
                ("Retry-After", str(retry_after)),
            ]
            start_response(f"{status} Service Unavailable", headers)
            return [body]
        try:
            return self.app(environ, start_response)
        finally:
            with self._lock:
                self.in_flight -= 1


def unbounded(path: str) -> bool:
    """Health probes, and static files: a page's scripts and styles load a dozen at once, and holding no
    database connection they are no part of the overload the bound prevents."""
    return path in HEALTH_PROBES or path.startswith("/" + settings.STATIC_URL.lstrip("/"))


def path_in_app(scope) -> str:
    return scope["path"].removeprefix(scope.get("root_path", ""))


async def turn_away(scope, send) -> None:
    status, retry_after, content_type, body = overloaded_answer(path_in_app(scope).startswith(API_PREFIX))
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(retry_after).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@cache
def overloaded_answer(for_api: bool) -> tuple[int, int, str, bytes]:
    """The same few bytes for every request turned away: building them must cost less than serving."""
    overloaded = ServiceUnavailable("This server has as many requests in flight as it takes.", "overloaded")
    content_type, body = answer(API_PREFIX if for_api else "/", overloaded)
    return overloaded.status_code, overloaded.wait, content_type, body
