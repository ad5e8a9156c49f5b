"""Spend, cost and value delivered side by side read as separate measures, not a loss (Chromium, 1440 and 390 px):
cost is not drawn in vermilion (the colour of a limit passed), no money axis goes below zero, the series carry
the glossary's names, and the page says in the glossary's words that nothing is subtracted."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from dashboard.charts import PALETTE
from dashboard.glossary import TERMS
from governance.outcomes import report_outcome
from tests.support.browser import SLOW_MS, decide, expect_board_charts_drawn, expect_charts_drawn, log_in

pytestmark = pytest.mark.browser

WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1440, "height": 900}}
VERMILION = PALETTE[1]


@pytest.fixture(autouse=True)
def patient(page: Page) -> None:
    page.set_default_timeout(SLOW_MS)
    page.set_default_navigation_timeout(SLOW_MS)


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_cost_and_value_read_as_two_measures_not_a_loss(
    page: Page, asgi_server, alice: User, finance_agent, support_agent, size: str
) -> None:
    # Given one department whose work cost more than the value it delivered, and one that delivered nothing yet
    report_outcome(
        decide(finance_agent, "120"), "success", reported_by="agent:t", cost=Decimal("80"), value=Decimal("30")
    )
    decide(support_agent, "40")
    page.set_viewport_size(WIDTHS[size])
    log_in(page, "alice")

    # When the executive reads the strategy page
    page.goto("/strategy/?period=7d")
    expect_charts_drawn(page, ["cost-value-department"])
    chart = page.get_by_test_id("chart-cost-value-department")

    # Then the series are the glossary's terms, cost is not vermilion, and the money axis has no minus sign
    expect(chart.locator(".legendtext")).to_have_text([TERMS["cost"].label, TERMS["value"].label])
    fills = chart.locator(".barlayer .point path").evaluate_all("bars => bars.map(b => getComputedStyle(b).fill)")
    assert fills and "rgb(213, 94, 0)" not in fills, fills  # VERMILION
    ticks = chart.locator(".ytick text").evaluate_all("labels => labels.map(label => label.textContent)")
    assert ticks and not any("−" in t or "-" in t for t in ticks), ticks
    words = page.get_by_test_id("money-words")
    expect(words).to_contain_text("not a profit or a loss")
    # the definitions take the card's width, not a column beside their heading
    assert words.bounding_box()["width"] > 0.8 * page.locator("#words-heading").locator("..").bounding_box()["width"]

    # And the board pack draws the three side by side in the same colours, with the same words
    page.goto("/board/?period=7d")
    expect_board_charts_drawn(page, ["value"])
    shown = "phone" if size == "phone" else "wide"
    drawn = page.get_by_test_id("pack-chart-value").locator(f"svg.board-chart-{shown}")
    assert VERMILION not in drawn.inner_html()
    expect(drawn.locator("text", has_text=TERMS["value"].label)).to_have_count(1)
    expect(page.get_by_test_id("pack-chart-value")).to_contain_text("not a profit or a loss")
