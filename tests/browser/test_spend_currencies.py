"""What an executive reads about money, in Chromium at 1440 and 390 px: the organisation's spend with the other
currencies' totals beside it (never added in) on the overview and in the board pack, and the board pack in words,
ending with its definitions."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Page, expect

from governance.models import Verdict
from tests.factories import DecisionFactory
from tests.support.browser import SLOW_MS, expect_board_charts_drawn, expect_charts_drawn, log_in

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots-money")  # noqa: S108 (screenshots to look at, kept out of the repository)
WIDTHS = [(1440, 900), (390, 844)]


@pytest.fixture(autouse=True)
def dollars(settings):
    settings.ORG_CURRENCY, settings.ORG_LOCALE = "USD", "en_US"


@pytest.fixture
def spent_in_two_currencies(finance_agent):
    """Today: 720 dollars and 360 euros of allowed payments, and one refused payment."""
    now = timezone.now()
    for amount, currency in (("500", "USD"), ("220", "USD"), ("360", "EUR")):
        DecisionFactory(
            agent=finance_agent, action="payment.execute", amount=Decimal(amount), currency=currency, created_at=now
        )
    DecisionFactory(agent=finance_agent, action="payment.refused", verdict=Verdict.DENY, risk_score=80, created_at=now)


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def shoot(page: Page, name: str, width: int) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}-{width}.png", full_page=True)


@pytest.mark.parametrize(("width", "height"), WIDTHS)
def test_the_overview_gives_dollars_with_the_euros_beside_them(
    page: Page, asgi_server, alice: User, spent_in_two_currencies, width: int, height: int
) -> None:
    page.set_viewport_size({"width": width, "height": height})
    page.set_default_timeout(SLOW_MS)
    log_in(page, "alice")
    expect_charts_drawn(page, ["rates", "decisions"])

    expect(page.get_by_test_id("tile-spend")).to_have_text("$720")
    expect(page.get_by_test_id("tile-also-spend")).to_be_visible()
    expect(page.get_by_test_id("tile-also-spend")).to_have_text("plus €360.00 in EUR")
    expect(page.get_by_test_id("headline-spend")).to_contain_text(
        "Actions in other currencies also committed €360.00 in EUR, kept apart and not counted against the budget."
    )
    expect(page.get_by_test_id("tile-card-spend")).not_to_contain_text("1,080")
    no_sideways_scroll(page)
    shoot(page, "overview", width)


@pytest.mark.parametrize(("width", "height"), WIDTHS)
def test_the_board_pack_reads_in_words_with_each_currency_apart(
    page: Page, asgi_server, alice: User, spent_in_two_currencies, width: int, height: int
) -> None:
    page.set_viewport_size({"width": width, "height": height})
    page.set_default_timeout(SLOW_MS)
    page.set_default_navigation_timeout(SLOW_MS)
    log_in(page, "alice")

    page.goto("/board/?period=7d")

    expect_board_charts_drawn(page, ["value"])
    expect(page.get_by_test_id("board-spend")).to_contain_text("$720")
    expect(page.get_by_test_id("board-spend-also")).to_have_text("plus €360.00 in EUR")
    expect(page.get_by_test_id("value-spend-also")).to_have_text("plus €360.00 in EUR")
    expect(page.get_by_test_id("pack-summary")).to_contain_text("actions in other currencies also committed €360.00")
    incidents = page.get_by_test_id("incidents")
    expect(incidents).to_contain_text("Payment: refused")
    expect(page.get_by_test_id("board-pack")).not_to_contain_text("payment.refused")
    definitions = page.get_by_test_id("pack-definitions")
    expect(definitions).to_contain_text("Amounts in other currencies are shown beside it as their own totals")
    expect(definitions).to_contain_text("Incident")
    no_sideways_scroll(page)
    shoot(page, "board", width)
