"""Admission control (restapi.admission): past the bound a request is answered at once, 503 with Retry-After,
and never reaches Django; health probes and WebSockets are not held to the bound."""

import asyncio
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from restapi.admission import AdmissionControl, WsgiAdmissionControl


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


class HeldApp:
    """An ASGI app that answers 200 only once released, and records the paths it was given."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.served: list[str] = []

    async def __call__(self, scope, receive, send) -> None:
        self.served.append(scope["path"])
        await self.release.wait()
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})


def run(coroutine):
    """asyncio.run in a thread of its own: the browser tests leave Playwright's loop running in this one."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


async def call(app, path: str, kind: str = "http") -> Answer:
    sent = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    await app({"type": kind, "path": path, "root_path": ""}, receive, send)
    start, body = sent
    headers = {name.decode(): value.decode() for name, value in start["headers"]}
    return Answer(start["status"], headers, body["body"])


async def hold(app, *paths: str, kind: str = "http") -> list[asyncio.Task]:
    """Start a request for each path and let each reach the app (or be turned away)."""
    tasks = [asyncio.create_task(call(app, path, kind)) for path in paths]
    await asyncio.sleep(0)
    return tasks


def test_a_request_past_the_bound_is_turned_away_at_once_with_retry_after():
    async def scenario() -> tuple[Answer, list[str]]:
        # Given two requests in flight, the most one process takes here
        inner = HeldApp()
        app = AdmissionControl(inner, limit=2)
        held = await hold(app, "/api/v1/decisions", "/api/v1/agents")

        # When a third arrives
        answer = await asyncio.wait_for(call(app, "/api/v1/decisions/evaluate"), timeout=1)
        inner.release.set()
        await asyncio.gather(*held)
        return answer, inner.served

    answer, served = run(scenario())

    # Then it is answered 503 in the API's error format without reaching the app
    assert answer.status == 503
    assert answer.headers["retry-after"] == "1"
    assert answer.headers["content-type"] == "application/json"
    assert json.loads(answer.body) == {
        "status": 503,
        "code": "overloaded",
        "detail": "This server has as many requests in flight as it takes.",
    }
    assert served == ["/api/v1/decisions", "/api/v1/agents"]


def test_a_place_that_frees_up_admits_the_next_request():
    async def scenario() -> Answer:
        # Given one request in flight, the most one process takes here, which then finishes
        inner = HeldApp()
        app = AdmissionControl(inner, limit=1)
        (first,) = await hold(app, "/api/v1/decisions")
        inner.release.set()
        await first

        # When another arrives, it is admitted
        return await call(app, "/api/v1/decisions")

    assert run(scenario()).status == 200


def test_a_request_that_fails_gives_back_its_place():
    async def failing(scope, receive, send) -> None:
        raise RuntimeError("a bug")

    async def scenario() -> int:
        app = AdmissionControl(failing, limit=1)
        with pytest.raises(RuntimeError):
            await call(app, "/api/v1/decisions")
        return app.in_flight

    assert run(scenario()) == 0


def test_health_probes_are_answered_past_the_bound():
    async def scenario() -> list[int]:
        inner = HeldApp()
        app = AdmissionControl(inner, limit=1)
        held = await hold(app, "/api/v1/decisions", "/healthz", "/readyz")
        inner.release.set()
        return [answer.status for answer in await asyncio.gather(*held)]

    assert run(scenario()) == [200, 200, 200]


def test_a_pages_static_files_are_served_past_the_bound():
    async def scenario() -> list[int]:
        # Given a bound of one, taken by a page; its scripts and styles then load at once
        inner = HeldApp()
        app = AdmissionControl(inner, limit=1)
        held = await hold(app, "/admin/", "/static/admin/js/actions.js", "/static/css/regent.css", "/favicon.ico")
        inner.release.set()
        return [answer.status for answer in await asyncio.gather(*held)]

    assert run(scenario()) == [200, 200, 200, 200]


def test_websockets_do_not_count_against_the_bound():
    async def scenario() -> int:
        # Given a WebSocket open, and a bound of one request
        inner = HeldApp()
        app = AdmissionControl(inner, limit=1)
        await hold(app, "/ws/decisions/", kind="websocket")

        # When a request arrives, it is admitted
        (request,) = await hold(app, "/api/v1/decisions")
        inner.release.set()
        return (await request).status

    assert run(scenario()) == 200


def test_a_page_turned_away_is_a_plain_page():
    async def scenario() -> Answer:
        inner = HeldApp()
        app = AdmissionControl(inner, limit=1)
        held = await hold(app, "/")
        answer = await call(app, "/decisions/")
        inner.release.set()
        await asyncio.gather(*held)
        return answer

    answer = run(scenario())

    assert answer.status == 503
    assert answer.headers["retry-after"] == "1"
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert b"Regent is busy" in answer.body


class HeldWsgiApp:
    """A WSGI app that answers 200 only once released, and records the paths it was given."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Semaphore(0)
        self.served: list[str] = []

    def __call__(self, environ, start_response):
        self.served.append(environ["PATH_INFO"])
        self.entered.release()
        self.release.wait(timeout=10)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]


def wsgi_call(app, path: str) -> Answer:
    started = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info=None):
        started.update(status=int(status.split()[0]), headers={k.lower(): v for k, v in headers})

    body = b"".join(app({"PATH_INFO": path, "REQUEST_METHOD": "POST"}, start_response))
    return Answer(started["status"], started["headers"], body)


def test_wsgi_a_request_past_the_bound_is_turned_away_at_once_while_threads_hold_the_bound():
    # Given two requests in flight in two threads, the most this process takes here
    inner = HeldWsgiApp()
    app = WsgiAdmissionControl(inner, limit=2)
    with ThreadPoolExecutor(3) as threads:
        held = [threads.submit(wsgi_call, app, path) for path in ("/api/v1/decisions", "/api/v1/agents")]
        assert inner.entered.acquire(timeout=5) and inner.entered.acquire(timeout=5)

        # When a third arrives in another thread
        answer = threads.submit(wsgi_call, app, "/api/v1/decisions/evaluate").result(timeout=5)
        inner.release.set()
        finished = [future.result(timeout=5).status for future in held]

    # Then it is answered 503 in the API's error format without reaching the app, and the others are served
    assert answer.status == 503
    assert answer.headers["retry-after"] == "1"
    assert answer.headers["content-type"] == "application/json"
    assert json.loads(answer.body)["code"] == "overloaded"
    assert sorted(inner.served) == ["/api/v1/agents", "/api/v1/decisions"]
    assert finished == [200, 200]
    assert app.in_flight == 0


def test_wsgi_a_page_turned_away_is_a_plain_page_and_probes_pass():
    inner = HeldWsgiApp()
    app = WsgiAdmissionControl(inner, limit=1)
    with ThreadPoolExecutor(3) as threads:
        held = threads.submit(wsgi_call, app, "/")
        assert inner.entered.acquire(timeout=5)
        page = wsgi_call(app, "/decisions/")
        probe = threads.submit(wsgi_call, app, "/healthz")
        assert inner.entered.acquire(timeout=5)
        inner.release.set()
        assert held.result(timeout=5).status == probe.result(timeout=5).status == 200

    assert page.status == 503
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert b"Regent is busy" in page.body


def test_wsgi_a_request_that_fails_gives_back_its_place():
    def failing(environ, start_response):
        raise RuntimeError("a bug")

    app = WsgiAdmissionControl(failing, limit=1)
    with pytest.raises(RuntimeError):
        wsgi_call(app, "/api/v1/decisions")

    assert app.in_flight == 0
