"""The executive pages in Chromium: every role, charts drawn with no console errors, live updates from the
API, filters that change the numbers (checked against the database), keyboard reading, the PDF download.

The `page` fixture fails a test on any console error or uncaught exception.
"""

import datetime as dt
import json
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Page, expect

from governance.models import Decision, Verdict
from orchestration.keys import issue_key
from tests.factories import DecisionFactory
from tests.support.browser import (
    LIVE_UPDATE_TIMEOUT_MS,
    SLOW_MS,
    decide,
    expect_board_charts_drawn,
    expect_charts_drawn,
    log_in,
)

pytestmark = pytest.mark.browser

PAGES = {"overview": "/", "risk": "/risk/", "strategy": "/strategy/", "board": "/board/"}
CHARTS = {
    "overview": ["rates", "decisions"],
    "risk": ["risk-heatmap", "appetite", "policies"],
    "strategy": ["cost-value-department", "cost-value-provider", "providers", "routing"],
}
BOARD_CHARTS = ["decisions", "rates", "appetite", "value", "providers"]


@pytest.fixture(autouse=True)
def patient(page: Page) -> None:
    page.set_default_timeout(SLOW_MS)
    page.set_default_navigation_timeout(SLOW_MS)


@pytest.mark.parametrize("username", ["alice", "bob", "carol", "dave"])
def test_every_role_sees_every_page_with_its_charts_drawn(
    page: Page,
    asgi_server,
    request: pytest.FixtureRequest,
    username: str,
    finance_agent,
    support_agent,
    screenshots: Path,
) -> None:
    request.getfixturevalue(username)
    decide(finance_agent, "120")
    decide(support_agent, "40")
    log_in(page, username)

    for name, path in PAGES.items():
        page.goto(path + "?period=7d")
        if name == "board":
            expect_board_charts_drawn(page, BOARD_CHARTS)
        else:
            expect_charts_drawn(page, CHARTS[name])
        if username == "alice":
            page.screenshot(path=screenshots / f"{name}.png", full_page=True)


def test_a_decision_created_through_the_api_appears_on_the_overview_without_a_reload(
    page: Page, asgi_server, alice: User, finance_agent
) -> None:
    key = issue_key(finance_agent)
    decide(finance_agent, "10")
    log_in(page, "alice")
    expect(page.get_by_test_id("tile-decisions")).to_have_text("1", timeout=SLOW_MS)
    page.evaluate("window.loadedOnce = true")

    body = json.dumps({"action": "invoice.approve", "resource": "invoice/9", "amount": "75.00", "currency": "EUR"})
    api = urllib.request.Request(  # noqa: S310 (the test server's URL)
        f"{asgi_server.url}/api/v1/decisions/evaluate",
        data=body.encode(),
        method="POST",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(api, timeout=10) as response:  # noqa: S310
        decision_id = json.load(response)["decision_id"]

    newest = page.get_by_test_id("recent-decisions").locator("tr").first
    expect(newest).to_contain_text("€75.00", timeout=LIVE_UPDATE_TIMEOUT_MS)
    expect(page.get_by_test_id("tile-decisions")).to_have_text("2", timeout=LIVE_UPDATE_TIMEOUT_MS)
    assert page.evaluate("window.loadedOnce") is True
    assert Decision.objects.filter(pk=decision_id).exists()


def test_a_department_filter_changes_the_numbers_to_what_the_database_holds(
    page: Page, asgi_server, alice: User, finance_agent, support_agent
) -> None:
    for verdict in (Verdict.ALLOW, Verdict.DENY, Verdict.DENY, Verdict.REQUIRE_APPROVAL):
        DecisionFactory(agent=support_agent, verdict=verdict)
    DecisionFactory.create_batch(6, agent=finance_agent, verdict=Verdict.ALLOW)
    log_in(page, "alice")
    expect(page.get_by_test_id("tile-decisions")).to_have_text("10", timeout=SLOW_MS)

    page.get_by_label("Customer Support").check()
    page.get_by_role("button", name="Apply").click()

    support = Decision.objects.filter(department=support_agent.department)
    total, violations = support.count(), support.filter(verdict__in=[Verdict.DENY, Verdict.FLAG]).count()
    automated = support.exclude(verdict=Verdict.REQUIRE_APPROVAL).count()
    query = f"period=24h&start=&end=&department={support_agent.department_id}"
    expect(page).to_have_url(f"{asgi_server.url}/?{query}", timeout=SLOW_MS)
    expect(page.get_by_test_id("tile-decisions")).to_have_text(str(total), timeout=SLOW_MS)
    expect(page.get_by_test_id("tile-violation_rate")).to_have_text(f"{100 * violations / total:.1f}%")
    expect(page.get_by_test_id("tile-automation_rate")).to_have_text(f"{100 * automated / total:.1f}%")


def test_a_period_filter_changes_the_numbers(page: Page, asgi_server, alice: User, finance_agent) -> None:
    DecisionFactory(agent=finance_agent)
    DecisionFactory.create_batch(3, agent=finance_agent, created_at=timezone.now() - dt.timedelta(days=3))
    log_in(page, "alice")
    expect(page.get_by_test_id("tile-decisions")).to_have_text("1", timeout=SLOW_MS)

    page.get_by_label("Period", exact=True).select_option("7d")
    page.get_by_role("button", name="Apply").click()

    expect(page.get_by_test_id("tile-decisions")).to_have_text("4", timeout=SLOW_MS)


def test_a_chart_can_be_read_with_the_keyboard(page: Page, asgi_server, alice: User, finance_agent) -> None:
    decide(finance_agent, "10")
    log_in(page, "alice")
    chart = page.get_by_test_id("chart-decisions")
    expect_charts_drawn(page, ["decisions"])

    chart.focus()
    page.keyboard.press("ArrowLeft")

    expect(chart.locator(".hoverlayer .hovertext")).to_contain_text("1 decisions", timeout=SLOW_MS)


def test_the_board_report_pdf_downloads(page: Page, asgi_server, alice: User, finance_agent) -> None:
    decide(finance_agent, "10")
    log_in(page, "alice")
    page.goto("/board/?period=30d")

    with page.expect_download() as download_info:
        page.get_by_test_id("download-pdf").click()

    download = download_info.value
    assert download.suggested_filename.startswith("regent-board-")
    assert download.suggested_filename.endswith(".pdf")
    assert Path(download.path()).read_bytes().startswith(b"%PDF")


def test_a_supervisor_sees_only_their_departments_on_the_risk_page(
    page: Page, asgi_server, bob: User, finance_agent, support_agent
) -> None:
    DecisionFactory(agent=finance_agent, risk_score=30)
    DecisionFactory(agent=support_agent, risk_score=90)
    log_in(page, "bob")

    page.goto("/risk/")

    table = page.get_by_test_id("appetite-table")
    expect(table).to_contain_text("Finance", timeout=SLOW_MS)
    expect(table).not_to_contain_text("Customer Support")
    assert Decimal(table.locator("tbody tr").first.locator("td").nth(2).inner_text()) == Decimal("30.0")
