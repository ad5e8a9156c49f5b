"""Headless Chromium, driven by Playwright, against the app served by uvicorn (tests.servers.asgi_server).

Playwright's sync API keeps an asyncio event loop running in the test's thread for as long as the browser
is open. Django's ORM sees that running loop and refuses to work (SynchronousOnlyOperation), although
nothing here is concurrent: the test and Playwright's loop take turns in one thread. Allowing "async
unsafe" calls lifts only that check. It is set at import, for the whole pytest process.

The browser is a module's, not the session's: closing it ends Playwright's loop, so the tests that come after
a browser module (in the same pytest-xdist worker) see no running loop, and asyncio.run() and async_to_sync still
work in them. Within a module, tests/conftest.py runs the browser tests after the others.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, expect, sync_playwright

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
# An assertion waits up to 15 s, not Playwright's 5: on a loaded 2-core runner a live event (the sequencer chaining an
# override, then the socket) took longer than 5 s once. Time is spent only while a page is not yet as expected.
expect.set_options(timeout=15_000)

CHROMIUM = "/usr/bin/chromium"
# Debian's Chromium, never a downloaded one; no calls home, which this machine's network refuses anyway.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run .ci/services, which installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, asgi_server, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser context on the live server; any console error or uncaught exception fails the test,
    but for messages a test names with @pytest.mark.allow_console("text in the message")."""
    allowed = [text for marker in request.node.iter_markers("allow_console") for text in marker.args]
    context = browser.new_context(base_url=asgi_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        source = message.location.get("url", "")
        if message.type == "error" and not any(text in message.text for text in allowed):
            problems.append(f"console error: {message.text} ({source})")

    def on_page_error(error: Error) -> None:
        problems.append(f"page error: {error.message}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    yield page
    context.close()
    if problems:
        pytest.fail("The page reported errors:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
