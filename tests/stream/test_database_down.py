"""A database that cannot be reached is an answer, not a 500, for the stream's handshake and for pages: real server
processes whose DATABASE_URL names a port where nothing listens, reached by a person who logged in before (their
session cookie from this run's database) and by an agent.

A socket is accepted and closed at once with 1013 "try again later" (a close code a client can act on, where a
refused handshake is only a failed connection); the server logs it as one line, without a traceback.
"""

import urllib.error
import urllib.request
from pathlib import Path

import pytest
from websockets.exceptions import InvalidStatus

from tests.support.servers import StartServer
from tests.support.stream import open_stream, session_cookie

pytestmark = [pytest.mark.processes, pytest.mark.django_db]
CLOSED_PORT = 1
TRY_AGAIN_LATER = 1013
UNREACHABLE = {"DATABASE_URL": f"postgres://postgres@127.0.0.1:{CLOSED_PORT}/regent", "DB_POOL_TIMEOUT": "1"}
ANSWER_SECONDS = 10


def ws_url(server: str) -> str:
    return server.replace("http://", "ws://", 1)


def server_log(tmp_path: Path) -> str:
    return "\n".join(log.read_text() for log in sorted(tmp_path.glob("uvicorn-*.log")))


def test_a_person_opening_the_stream_while_the_database_is_down_is_told_to_try_again_later(
    start_server: StartServer, tmp_path: Path, alice
) -> None:
    # Given a stream server that cannot reach its database, and alice who logged in before it went down
    server = start_server(**UNREACHABLE)

    # When her page opens the stream
    try:
        with open_stream(ws_url(server), user=alice) as stream:
            code = stream.close_code(timeout=ANSWER_SECONDS)
    except InvalidStatus as refused:  # the handshake itself failed: what a browser sees as a dropped socket
        pytest.fail(f"the handshake was answered {refused.response.status_code}, not a close the page can act on")

    # Then the socket is closed with "try again later", and the server logged one line, no traceback
    assert code == TRY_AGAIN_LATER
    log = server_log(tmp_path)
    assert "Traceback" not in log, log
    assert [line for line in log.splitlines() if "live stream refused" in line] != [], log


def test_an_agent_opening_the_stream_while_the_database_is_down_is_told_to_try_again_later(
    start_server: StartServer, tmp_path: Path
) -> None:
    server = start_server(**UNREACHABLE)

    with open_stream(ws_url(server), key="rgt_not-checked-while-the-database-is-down") as stream:
        code = stream.close_code(timeout=ANSWER_SECONDS)

    assert code == TRY_AGAIN_LATER
    assert "Traceback" not in server_log(tmp_path)


@pytest.mark.parametrize("kind", ["granian", "uvicorn"])
def test_a_page_while_the_database_is_down_is_a_503_page(kind: str, start_server: StartServer, alice) -> None:
    # Given a server that cannot reach its database, and alice's session from before it went down
    server = start_server(kind, **UNREACHABLE)
    request = urllib.request.Request(f"{server}/", headers={"Cookie": session_cookie(alice)})  # noqa: S310

    # When she opens the overview
    with pytest.raises(urllib.error.HTTPError) as answered:
        urllib.request.urlopen(request, timeout=2 * ANSWER_SECONDS)  # noqa: S310

    # Then she is asked to come back shortly, on a page, not given a 500
    reply = answered.value
    assert reply.status == 503
    assert reply.headers["Retry-After"] == "1"
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "Regent is busy" in reply.read().decode()
