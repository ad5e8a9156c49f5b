"""The audit log page in Chromium at 1440 and 390 px: the menu leads to it, the filters narrow it, "Older events"
pages back by the chain's order, each event links to its decision, and the page never scrolls sideways."""

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from dashboard import audit_log
from tests.support.browser import SLOW_MS, decide, log_in

pytestmark = pytest.mark.browser

WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1440, "height": 900}}


@pytest.fixture(autouse=True)
def patient(page: Page) -> None:
    page.set_default_timeout(SLOW_MS)
    page.set_default_navigation_timeout(SLOW_MS)


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_an_auditor_reads_filters_and_pages_the_audit_log_from_the_menu(
    page: Page, asgi_server, dave: User, finance_agent, support_agent, monkeypatch, screenshots: Path, size: str
) -> None:
    # Given decisions of two agents, and pages of three events
    monkeypatch.setattr(audit_log, "PAGE_SIZE", 3)
    decisions = [decide(finance_agent, "10") for _ in range(3)] + [decide(support_agent, "20")]
    page.set_viewport_size(WIDTHS[size])
    log_in(page, "dave")

    # When the auditor opens "Audit log" from the menu's Evidence group
    if size == "phone":
        page.get_by_role("button", name="Menu").click()
    page.locator(".nav-group summary", has_text="Evidence").click()
    expect(page.get_by_role("link", name="Integrity")).to_be_in_viewport()
    page.screenshot(path=screenshots / f"menu-evidence-{size}.png")
    page.get_by_role("link", name="Audit log").click()

    # Then the product's page opens (not the admin), in words, newest first, without sideways scrolling
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    assert "/admin/" not in page.url
    events = page.get_by_test_id("audit-event")
    expect(events).to_have_count(3)
    expect(events.first).to_contain_text("Decision recorded")
    expect(events.first).to_contain_text("Reply Bot (agent)")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the audit log scrolls {overflow} px sideways at {size}"
    page.screenshot(path=screenshots / f"audit-log-{size}.png", full_page=True)

    # When they page back, then filter to one agent's decisions
    page.get_by_test_id("older-page").click()
    expect(page.get_by_test_id("newest-page")).to_be_visible()
    page.get_by_label("What happened").select_option("decision.created")
    page.get_by_label("Who acted").fill("agent:reply-bot")
    page.get_by_role("button", name="Apply").click()

    # Then only that decision is listed, and its link opens the decision's page
    expect(events).to_have_count(1)
    events.first.get_by_test_id("event-decision").click()
    expect(page).to_have_url(f"{asgi_server.url}/decisions/{decisions[-1].pk}/")
