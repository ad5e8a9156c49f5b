"""The API's documentation pages render in a real browser from Regent's own files: nothing from a CDN,
which the Content-Security-Policy enforces (config/csp.py, integrations/api/docs.py)."""

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Route, expect

from tests.support.browser import log_in

pytestmark = pytest.mark.browser


def record_outside_requests(page: Page, server_url: str) -> list[str]:
    """Every request the page makes to another host, refused so that a test never waits on the network."""
    ours, outside = urlsplit(server_url).netloc, []

    def check(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc != ours:
            outside.append(url)
            route.abort()
        else:
            route.continue_()

    page.route("**/*", check)
    return outside


def test_swagger_ui_lists_the_operations_from_local_files(page: Page, asgi_server, carol, screenshots: Path):
    outside = record_outside_requests(page, asgi_server.url)
    log_in(page, "carol")

    page.goto("/api/v1/docs")

    expect(page.locator(".opblock").first).to_be_visible(timeout=15_000)
    assert page.locator(".opblock").count() > 40
    expect(page.get_by_text("/api/v1/events").first).to_be_visible()
    page.screenshot(path=screenshots / "api-docs-swagger.png")
    assert outside == []


# The one image Redoc's bundle names on its CDN (its logo): refused by the page's policy, never requested.
@pytest.mark.allow_console("cdn.redoc.ly/redoc/logo-mini.svg")
def test_redoc_renders_the_reference_from_local_files(page: Page, asgi_server, carol, screenshots: Path):
    outside = record_outside_requests(page, asgi_server.url)
    log_in(page, "carol")

    page.goto("/api/v1/redoc")

    expect(page.get_by_role("heading", name="Regent API").first).to_be_visible(timeout=15_000)
    expect(page.get_by_text("/api/v1/events").first).to_be_attached()
    page.screenshot(path=screenshots / "api-docs-redoc.png")
    assert outside == []
