"""The overview as a person sees it in Chromium: logging in, the figures for their role, live updates.

The people (alice, bob, carol, dave) and agents are the fixtures of the tests' root; the factories give them PASSWORD.
"""

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from orchestration.roles import Role
from tests.support.browser import LIVE_UPDATE_TIMEOUT_MS, decide, log_in

TILES = (
    "decisions",
    "automation_rate",
    "escalation_rate",
    "violation_rate",
    "override_rate",
    "rejection_rate",
    "median_approval_seconds",
    "spend",
    "value",
    "active_agents",
    "open_approvals",
)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("username", "role"),
    [("alice", Role.EXECUTIVE), ("bob", Role.SUPERVISOR), ("carol", Role.POLICY_ADMIN), ("dave", Role.AUDITOR)],
)
def test_each_role_logs_in_and_sees_the_overview(
    page: Page, asgi_server, request: pytest.FixtureRequest, username: str, role: str
) -> None:
    request.getfixturevalue(username)

    log_in(page, username)

    expect(page).to_have_url(f"{asgi_server.url}/")
    expect(page.get_by_test_id("role")).to_have_text(role)
    for tile in TILES:
        expect(page.get_by_test_id(f"tile-{tile}")).to_be_visible()


def test_a_new_decision_appears_without_a_reload(
    page: Page, asgi_server, alice: User, finance_agent, support_agent, screenshots: Path
) -> None:
    decide(support_agent, "75")
    decide(support_agent, "1250")
    log_in(page, "alice")
    expect(page.get_by_test_id("tile-decisions")).to_have_text("2")
    page.evaluate("window.loadedOnce = true")

    decision = decide(finance_agent)

    newest = page.get_by_test_id("recent-decisions").locator("tr").first
    expect(newest).to_contain_text("Invoice Bot", timeout=LIVE_UPDATE_TIMEOUT_MS)
    expect(newest).to_contain_text("Invoice: approve")  # the action in words, not its code
    expect(page.get_by_test_id("tile-decisions")).to_have_text("3")
    assert page.evaluate("window.loadedOnce") is True
    # The live row links to the decision and to its agent, like the rows served with the page
    links = newest.get_by_role("link")
    expect(links.first).to_have_attribute("href", f"/decisions/{decision.pk}/")
    expect(links.nth(1)).to_have_attribute("href", f"/agents/{finance_agent.pk}/")
    page.screenshot(path=screenshots / "overview.png", full_page=True)


def test_a_supervisor_does_not_see_another_departments_decisions(
    page: Page, asgi_server, bob: User, finance_agent, support_agent
) -> None:
    decide(support_agent)
    log_in(page, "bob")
    expect(page.get_by_test_id("tile-decisions")).to_have_text("0")

    decide(support_agent)
    decide(finance_agent)

    recent = page.get_by_test_id("recent-decisions")
    expect(recent).to_contain_text("Invoice Bot", timeout=LIVE_UPDATE_TIMEOUT_MS)
    expect(recent).not_to_contain_text("Reply Bot")
    expect(recent).not_to_contain_text("Customer Support")
    expect(page.get_by_test_id("tile-decisions")).to_have_text("1")


def test_a_wrong_password_is_refused_with_a_message(page: Page, asgi_server, alice: User) -> None:
    log_in(page, "alice", password="wrong horse battery staple")

    expect(page.get_by_role("alert")).to_have_text("Your username and password did not match. Please try again.")
    expect(page).to_have_url(f"{asgi_server.url}/accounts/login/")
