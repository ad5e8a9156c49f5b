"""For the browser tests: logging in as one of the people of the tests' root fixtures (the factories give them
PASSWORD), a decision to watch arrive, how long a live update and a slow page may take, and charts drawn."""

from decimal import Decimal

from playwright.sync_api import Page, expect

from governance.evaluation import ActionRequest, evaluate_action
from tests.factories import PASSWORD

LIVE_UPDATE_TIMEOUT_MS = 10_000
# plotly.min.js is 4.8 MB of JavaScript to parse: on a busy two-core machine a page can take seconds to load.
SLOW_MS = 30_000


def log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def decide(agent, amount: str = "10"):
    return evaluate_action(agent, ActionRequest(action="invoice.approve", amount=Decimal(amount)))


def expect_charts_drawn(page: Page, keys: list[str]) -> None:
    for key in keys:
        expect(page.get_by_test_id(f"chart-{key}").locator("svg.main-svg").first).to_be_attached(timeout=SLOW_MS)


def expect_board_charts_drawn(page: Page, keys: list[str]) -> None:
    """The board pack's charts are SVG drawn on the server (the PDF prints the same page), each drawn twice: wide,
    and for a phone's width (only one of the two is displayed)."""
    for key in keys:
        for size in ("wide", "phone"):
            chart = page.get_by_test_id(f"pack-chart-{key}").locator(f"svg.board-chart-{size}")
            expect(chart).to_be_attached(timeout=SLOW_MS)
