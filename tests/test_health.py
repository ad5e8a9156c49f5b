"""/healthz and /readyz as a probe sees them: a real uvicorn process, with its stores up, down or absent."""

import json
import socket
import time
import urllib.error
import urllib.request

import pytest

from tests.support.servers import StartServer

pytestmark = pytest.mark.processes
CLOSED_PORT = 1
CHECK_BOUND_SECONDS = 10


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=20) as response:  # noqa: S310
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_healthz_answers_while_the_database_is_down(start_server: StartServer) -> None:
    server = start_server(DATABASE_URL=f"postgres://postgres@127.0.0.1:{CLOSED_PORT}/regent")

    status, body = get(f"{server}/healthz")

    assert (status, body) == (200, {"status": "ok"})


@pytest.mark.postgres
@pytest.mark.redis
def test_readyz_is_ok_against_postgresql_and_redis(
    start_server: StartServer, postgres_url: str, redis_url: str
) -> None:
    server = start_server(DATABASE_URL=postgres_url, REDIS_URL=redis_url)

    status, body = get(f"{server}/readyz")

    assert status == 200, body
    assert body["status"] == "ok"
    assert body["failing"] == []
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "channel_layer": True,
        "broker": True,
        "audit_queue": True,
    }


def test_readyz_names_the_database_when_it_is_unreachable(start_server: StartServer) -> None:
    server = start_server(DATABASE_URL=f"postgres://postgres@127.0.0.1:{CLOSED_PORT}/regent")

    status, body = get(f"{server}/readyz")

    assert status == 503, body
    assert body["status"] == "unavailable"
    assert body["failing"] == ["database"]
    assert "refused" in body["checks"]["database"]["error"]


def test_readyz_names_the_channel_layer_and_broker_when_redis_is_unreachable(
    start_server: StartServer, sqlite_url: str
) -> None:
    server = start_server(DATABASE_URL=sqlite_url, REDIS_URL=f"redis://127.0.0.1:{CLOSED_PORT}/0")

    status, body = get(f"{server}/readyz")

    assert status == 503, body
    assert body["failing"] == ["broker", "channel_layer"]
    assert body["checks"]["database"]["ok"] is True


def test_readyz_gives_up_on_a_redis_that_never_replies(start_server: StartServer, sqlite_url: str) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        server = start_server(DATABASE_URL=sqlite_url, REDIS_URL=f"redis://127.0.0.1:{silent.getsockname()[1]}/0")
        started = time.monotonic()

        status, body = get(f"{server}/readyz")

    assert time.monotonic() - started < CHECK_BOUND_SECONDS
    assert status == 503, body
    assert body["failing"] == ["broker", "channel_layer"]


def test_readyz_is_ok_with_nothing_but_a_sqlite_file(start_server: StartServer, sqlite_url: str) -> None:
    server = start_server(DATABASE_URL=sqlite_url)

    status, body = get(f"{server}/readyz")

    assert status == 200, body
    assert body["failing"] == []
