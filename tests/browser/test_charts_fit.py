"""Charts fit their card on a phone (390 px) and on a desktop (1440 px): every Plotly chart of the overview,
risk, strategy, agent and interaction pages, and the board page's charts, is no wider than its card, and no page
scrolls sideways."""

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page

from tests.factories import AgentFactory
from tests.support.browser import SLOW_MS, decide, expect_board_charts_drawn, expect_charts_drawn, log_in
from tests.support.workflows import run

pytestmark = pytest.mark.browser

WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1440, "height": 900}}

# Each chart's drawings (Plotly's SVG layers, the board's server-drawn SVG) and every word on them (titles, notes,
# legends, axis labels) against its card: what lies outside is cut off or spills over the page.
OUTSIDE_THEIR_CARD = """() => Array.from(document.querySelectorAll("figure.chart, figure.pack-chart")).flatMap(card => {
  const box = card.getBoundingClientRect();
  const name = card.querySelector("[data-testid]")?.dataset.testid || card.dataset.testid;
  return Array.from(card.querySelectorAll("svg, svg text"))
    .map(el => ({ el, r: el.getBoundingClientRect() }))
    .filter(({ r }) => r.width > 0 && (r.left < box.left - 1 || r.right > box.right + 1))
    .map(({ el, r }) => `${name}: ${el.tagName} "${(el.textContent || "").slice(0, 40)}" from ` +
      `${Math.round(r.left - box.left)} to ${Math.round(r.right - box.left)} of ${Math.round(box.width)} px`);
})"""


@pytest.fixture(autouse=True)
def patient(page: Page) -> None:
    page.set_default_timeout(SLOW_MS)
    page.set_default_navigation_timeout(SLOW_MS)


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_every_chart_fits_its_card_and_no_page_scrolls_sideways(
    page: Page, asgi_server, alice: User, finance_agent, support_agent, size: str, screenshots: Path
) -> None:
    # Given decisions and agents who work together, seen by an executive on a phone or a desktop
    clerk = AgentFactory(name="Ledger Clerk With A Long Name", department=finance_agent.department)
    (step,) = run(finance_agent)
    run(clerk, delegated_from=step)
    run(support_agent, delegated_from=step)
    decide(finance_agent, "120")
    decide(support_agent, "40")
    page.set_viewport_size(WIDTHS[size])
    log_in(page, "alice")
    pages = {
        "overview": ("/?period=7d", ["rates", "decisions"]),
        "risk": ("/risk/?period=7d", ["risk-heatmap", "appetite", "policies"]),
        "strategy": ("/strategy/?period=7d", ["cost-value-department", "cost-value-provider", "providers", "routing"]),
        "agent": (f"/agents/{finance_agent.pk}/?period=7d", []),
        "interactions": ("/interactions/?period=7d", ["interactions"]),
        "board": ("/board/?period=7d", None),
    }

    for name, (path, charts) in pages.items():
        # When the page has drawn its charts
        page.goto(path)
        if charts is None:
            expect_board_charts_drawn(page, ["decisions", "rates", "appetite", "value", "providers"])
        else:
            expect_charts_drawn(page, charts)
            page.locator("figure.chart svg.main-svg").first.wait_for(state="attached")
        page.screenshot(path=screenshots / f"charts-{name}-{size}.png", full_page=True)

        # Then no chart is wider than its card and the page does not scroll sideways
        assert page.evaluate(OUTSIDE_THEIR_CARD) == [], f"{name} at {size}"
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} scrolls {overflow} px sideways at {size}"
