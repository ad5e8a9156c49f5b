"""The Content-Security-Policy as Chromium enforces it (config/csp.py): a script slipped into a page does not
run, and the live stream still arrives when it is served on a port of its own (STREAM_PORT).

Every other browser test runs under the same policy, and the `page` fixture fails a test on any console error,
so a page that needed an inline script or an outside source would fail there."""

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from tests.support.browser import LIVE_UPDATE_TIMEOUT_MS, SLOW_MS, decide, log_in
from tests.support.servers import ThreadedServer

pytestmark = pytest.mark.browser

INJECT_INLINE_SCRIPT = """() => {
    const script = document.createElement("script");
    script.textContent = "window.injected = true";
    document.body.append(script);
}"""


@pytest.mark.allow_console("Content Security Policy")
def test_a_script_injected_into_a_page_does_not_run(page: Page, asgi_server, alice: User) -> None:
    # Given an executive's overview, as a cross-site scripting flaw would find it
    log_in(page, "alice")
    expect(page.get_by_test_id("tile-decisions")).to_be_visible(timeout=SLOW_MS)

    # When an inline script is added to it
    with page.expect_console_message(lambda message: "Content Security Policy" in message.text) as refusal:
        page.evaluate(INJECT_INLINE_SCRIPT)

    # Then the browser refuses to run it, naming the directive
    assert page.evaluate("window.injected") is None
    assert "script-src" in refusal.value.text


def test_the_live_stream_served_on_its_own_port_reaches_the_page(
    page: Page, asgi_server, alice: User, finance_agent, settings
) -> None:
    # Given the stream served apart from the pages, as the Procfile's stream process is (the pages' origin is
    # then trusted by the stream, as the README's deployment says)
    stream = ThreadedServer().start()
    settings.STREAM_PORT = str(stream.port)
    settings.CSRF_TRUSTED_ORIGINS = [asgi_server.url]
    try:
        log_in(page, "alice")
        expect(page.get_by_test_id("tile-decisions")).to_have_text("0", timeout=SLOW_MS)

        # When an agent is decided
        decide(finance_agent, "42")

        # Then the row arrives over the socket on the other port, which the policy allows
        newest = page.get_by_test_id("recent-decisions").locator("tr").first
        expect(newest).to_contain_text("Invoice Bot", timeout=LIVE_UPDATE_TIMEOUT_MS)
    finally:
        stream.stop()
