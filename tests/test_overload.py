"""Overload as a client sees it, against a real server process, each way Regent's HTTP is served (granian, WSGI, and
uvicorn, ASGI): every answer is a success, a 429 or a 503 in the API's error format with Retry-After, within a
bounded time; never a 500, never a hang."""

import json
import socket
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from orchestration.keys import issue_key
from tests.support.servers import StartServer

pytestmark = pytest.mark.processes
CLOSED_PORT = 1
# Far above the second or so an answer should take under overload, far below a hang.
ANSWER_BOUND_SECONDS = 10
IN_FLIGHT = 4
CLIENTS = 10 * IN_FLIGHT
REQUESTS_PER_CLIENT = 5
# The Procfile serves HTTP with granian (WSGI) and the stream with uvicorn (ASGI, also what `make demo` runs).
SERVERS = ["granian", "uvicorn"]


@dataclass
class Reply:
    status: int
    retry_after: str | None
    content_type: str
    body: bytes
    seconds: float

    def json(self) -> dict:
        return json.loads(self.body)


def send(url: str, *, key: str = "", body: dict | None = None) -> Reply:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")  # noqa: S310
    request.add_header("Content-Type", "application/json")
    request.add_header("Accept", "application/json")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=2 * ANSWER_BOUND_SECONDS) as response:  # noqa: S310
            answer = response
            content = response.read()
    except urllib.error.HTTPError as error:
        answer, content = error, error.read()
    return Reply(
        answer.status,
        answer.headers.get("Retry-After"),
        answer.headers.get("Content-Type", ""),
        content,
        time.monotonic() - started,
    )


def assert_a_json_retry_after(reply: Reply, status: int) -> None:
    assert reply.status == status, reply.body
    assert reply.content_type == "application/json", reply.body
    assert reply.retry_after is not None and int(reply.retry_after) >= 1
    assert {"status", "code", "detail"} <= reply.json().keys()
    assert reply.json()["status"] == status


@pytest.mark.postgres
@pytest.mark.timeout(180)
@pytest.mark.parametrize("kind", SERVERS)
def test_ten_times_more_requests_than_admitted_get_answers_never_500s(
    kind: str, start_server: StartServer, postgres_url: str, finance_agent
) -> None:
    # Given a server with two database connections that admits four requests at once
    key = issue_key(finance_agent)
    server = start_server(
        kind,
        DATABASE_URL=postgres_url,
        DB_POOL_MIN="1",
        DB_POOL_MAX="2",
        DB_POOL_TIMEOUT="1",
        MAX_REQUESTS_IN_FLIGHT=str(IN_FLIGHT),
    )

    # When ten times as many agents ask for decisions at once, again and again
    def ask(_: int) -> Reply:
        return send(f"{server}/api/v1/decisions/evaluate", key=key, body={"action": "invoice.approve"})

    with ThreadPoolExecutor(max_workers=CLIENTS) as clients:
        replies = list(clients.map(ask, range(CLIENTS * REQUESTS_PER_CLIENT)))

    # Then each is a decision, or a 429 or 503 saying when to retry, and each came within the bound
    statuses = Counter(reply.status for reply in replies)
    assert set(statuses) <= {200, 429, 503}, statuses
    for reply in replies:
        if reply.status != 200:
            assert_a_json_retry_after(reply, reply.status)
    assert statuses[200] > 0 and statuses[503] > 0, statuses
    assert max(reply.seconds for reply in replies) < ANSWER_BOUND_SECONDS


@pytest.mark.parametrize("kind", SERVERS)
def test_an_unreachable_database_is_a_503_within_a_bound(kind: str, start_server: StartServer) -> None:
    # Given a server whose database refuses connections
    server = start_server(kind, DATABASE_URL=f"postgres://postgres@127.0.0.1:{CLOSED_PORT}/regent", DB_POOL_TIMEOUT="1")

    # When an agent calls the API
    reply = send(f"{server}/api/v1/departments", key="rgt_unknown")

    # Then it is told to retry, within a bound
    assert_a_json_retry_after(reply, 503)
    assert reply.seconds < ANSWER_BOUND_SECONDS


def test_a_redis_that_never_replies_is_a_503_within_a_bound(start_server: StartServer, sqlite_url: str) -> None:
    # Given a server whose Redis (the throttle's counters) accepts connections but never replies
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        redis_url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        server = start_server(DATABASE_URL=sqlite_url, REDIS_URL=redis_url, REDIS_SOCKET_TIMEOUT="1")

        # When a caller reads the API's schema, which anyone may
        reply = send(f"{server}/api/v1/schema")

    # Then it is told to retry, within a bound
    assert_a_json_retry_after(reply, 503)
    assert reply.json()["code"] == "unavailable"
    assert reply.seconds < ANSWER_BOUND_SECONDS
