"""The demo company as an executive first sees it, in Chromium at 1440 and 390 px: calm headlines (the history
runs up to now at the live pace, approvers work their requests, budgets fit the spend) and Regent's own 404."""

import re

import pytest
from playwright.sync_api import Page, expect

from demo import company
from demo.seed import seed_company
from tests.support.browser import SLOW_MS, log_in

pytestmark = pytest.mark.browser

WIDTHS = [pytest.param(1440, id="desktop"), pytest.param(390, id="phone")]


def percent_in(text: str) -> float:
    return float(re.search(r"(-?[\d.]+)\s*%", text.replace(",", "")).group(1))


def sideways_overflow(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_demo_overview_is_calm(page: Page, asgi_server, width: int) -> None:
    seed_company(history_days=2, peak_rate=0.02)
    page.set_viewport_size({"width": width, "height": 900})
    page.set_default_timeout(SLOW_MS)

    log_in(page, "executive", company.PASSWORD)
    page.goto("/")

    decisions_change = page.locator("[data-change=decisions]").inner_text()
    assert abs(percent_in(decisions_change)) < 40, decisions_change  # no seam between history and live agents
    spend_note = page.get_by_test_id("tile-spend").locator("xpath=..").inner_text()
    assert 0 < percent_in(spend_note.split("budget")[-1]) <= 100, spend_note
    waiting = int(page.get_by_test_id("tile-open_approvals").inner_text().replace(",", ""))
    assert waiting <= 10  # approvers answer within minutes; only a few wait
    assert sideways_overflow(page) <= 0


@pytest.mark.allow_console("status of 404 (Not Found)")
@pytest.mark.parametrize("width", WIDTHS)
def test_an_unknown_address_shows_regent_own_page(page: Page, asgi_server, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 844})

    response = page.goto("/no-such-page/")

    assert response.status == 404
    expect(page.get_by_role("heading", name="We could not find that page")).to_be_visible()
    page.get_by_role("link", name="Go to the overview").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    assert sideways_overflow(page) <= 0
