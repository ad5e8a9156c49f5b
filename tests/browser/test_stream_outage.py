"""A page whose live stream cannot reach its database, in Chromium: it says "reconnecting…" and keeps trying, backing
off, instead of giving up or hammering the server; no console error.

The pages come from the in-process server (its database up); the stream from a server process of its own whose
database is a port where nothing listens (settings.STREAM_PORT points the pages at it, as the Procfile's does).
"""

import time
from itertools import pairwise
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from tests.support.browser import SLOW_MS, log_in
from tests.support.servers import StartServer

pytestmark = [pytest.mark.browser, pytest.mark.processes]
CLOSED_PORT = 1
WATCH_SECONDS = 12
# Without backoff a page would try every ~0.7 s (0.5 s wait, ~0.2 s for the server to give up on the database):
# about 17 attempts in WATCH_SECONDS; backing off (0.5, 1, 2, 4, 8 s, each ±25%) it makes 5 or 6.
MAX_ATTEMPTS = 7


def test_the_overview_says_reconnecting_and_backs_off_while_the_stream_has_no_database(
    start_server: StartServer, page: Page, asgi_server, settings, alice: User
) -> None:
    # (start_server first: its server then outlives the page, which would log a refused connection otherwise)
    # Given a stream server that cannot reach its database, where the pages open their stream
    stream = start_server(DATABASE_URL=f"postgres://postgres@127.0.0.1:{CLOSED_PORT}/regent", DB_POOL_TIMEOUT="0.2")
    settings.STREAM_PORT = str(urlsplit(stream).port)
    attempts: list[float] = []
    page.on("websocket", lambda socket: attempts.append(time.monotonic()))

    # When alice opens the overview, and stays on it
    log_in(page, "alice")
    expect(page.get_by_test_id("live-status")).to_have_text("reconnecting…", timeout=SLOW_MS)
    first = attempts[0]
    page.wait_for_timeout(max(0.0, first + WATCH_SECONDS - time.monotonic()) * 1000)  # events arrive meanwhile

    # Then it kept trying, less and less often, and still says so
    within = [at for at in attempts if at - first <= WATCH_SECONDS]
    assert 3 <= len(within) <= MAX_ATTEMPTS, [round(at - first, 2) for at in attempts]
    gaps = [later - earlier for earlier, later in pairwise(within)]
    assert gaps[-1] > 2 * gaps[0], [round(gap, 2) for gap in gaps]
    expect(page.get_by_test_id("live-status")).to_have_text("reconnecting…")
