"""The alerts page and the overview's panel in Chromium at 1440 and 390 px: open and resolved alerts in words,
a Supervisor's only their departments', the panel linking to the page."""

import datetime as dt
import tempfile
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from alerting.evaluation import evaluate_rules
from alerting.models import AlertRule
from orchestration.kill_switch import change_agent_status
from orchestration.models import Agent, Status
from tests.support.browser import LIVE_UPDATE_TIMEOUT_MS, SLOW_MS, log_in

pytestmark = pytest.mark.browser

SIZES = {"1440": {"width": 1440, "height": 900}, "390": {"width": 390, "height": 844}}
SHOTS = Path(tempfile.gettempdir()) / "shots-alerts"  # looked at by people, never kept in the repository


@pytest.fixture(autouse=True)
def patient(page: Page) -> None:
    page.set_default_timeout(SLOW_MS)
    page.set_default_navigation_timeout(SLOW_MS)


@pytest.fixture
def alerts(finance_agent, support_agent, alice) -> None:
    """Open: Invoice Bot over 80% of its budget, Reply Bot killed. Resolved: Invoice Bot killed, then revived."""
    AlertRule.objects.create(name="Agent budget at 80%", kind="budget", level="agent", threshold=80)
    AlertRule.objects.create(name="Kill switch used", kind="kill_switch", throttle_minutes=0)
    month = timezone.now().date().replace(day=1)
    Agent.objects.filter(pk=finance_agent.pk).update(monthly_budget=1000, month_spent=912, spend_month=month)
    change_agent_status(finance_agent, Status.KILLED, by=alice, reason="Paid a fake invoice")
    evaluate_rules(timezone.now() - dt.timedelta(minutes=30))
    change_agent_status(finance_agent, Status.ACTIVE, by=alice, reason="Fixed")
    change_agent_status(support_agent, Status.KILLED, by=alice, reason="Leaked a customer's address")
    evaluate_rules(timezone.now())


def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sideways_overflow(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


@pytest.mark.parametrize("size", SIZES)
def test_an_executive_follows_the_overview_panel_to_the_alerts_page(page: Page, asgi_server, alerts, alice, size):
    # Given alice (Executive) on the overview
    page.set_viewport_size(SIZES[size])
    log_in(page, "alice")
    page.goto("/")

    # Then the panel counts the two open alerts and states them in words
    panel = page.get_by_test_id("alerts-panel")
    expect(panel.get_by_test_id("alerts-panel-count")).to_have_text("2")
    expect(panel.get_by_test_id("alerts-panel-item")).to_have_count(2)
    expect(panel).to_contain_text("Invoice Bot has spent $912.00 of its $1,000 monthly budget (91.2%)")
    assert sideways_overflow(page) <= 0
    panel.scroll_into_view_if_needed()
    shoot(page, f"overview-panel-{size}")

    # When she follows the panel's link
    panel.get_by_test_id("alerts-panel-link").click()

    # Then the alerts page lists the open alerts and the resolved one, with why it resolved
    expect(page.get_by_role("heading", name="Alerts", exact=True)).to_be_visible()
    expect(page.get_by_test_id("open-alert")).to_have_count(2)
    resolved = page.get_by_test_id("resolved-alert")
    expect(resolved).to_have_count(1)
    expect(resolved).to_contain_text("Invoice Bot (Finance) was stopped with the kill switch.")
    expect(resolved).to_contain_text("The condition no longer holds.")
    assert sideways_overflow(page) <= 0
    shoot(page, f"alerts-{size}")


@pytest.mark.parametrize("size", SIZES)
def test_a_supervisor_sees_only_their_departments_alerts(page: Page, asgi_server, alerts, bob, size):
    # Given bob, Finance's Supervisor
    page.set_viewport_size(SIZES[size])
    log_in(page, "bob")

    # When he opens the alerts page from the menu
    page.goto("/")
    if size == "390":
        page.get_by_role("button", name="Menu").click()
    page.get_by_role("link", name="Alerts", exact=True).click()

    # Then he reads Finance's budget alert and its resolved kill, never Customer Support's
    expect(page.get_by_test_id("open-alert")).to_have_count(1)
    expect(page.get_by_test_id("open-alert")).to_contain_text("Agent budget at 80%")
    expect(page.get_by_test_id("resolved-alert")).to_have_count(1)
    expect(page.locator("main")).not_to_contain_text("Reply Bot")
    assert sideways_overflow(page) <= 0
    shoot(page, f"alerts-supervisor-{size}")


@pytest.mark.parametrize("size", SIZES)
def test_alerts_fired_and_resolved_while_the_page_is_open_appear_in_scope_and_the_focus_stays(
    page: Page, asgi_server, finance_agent, support_agent, alice, bob, size
):
    # Given Invoice Bot over 80% of its budget (an open alert), and bob, Finance's Supervisor, on the alerts page
    # with the focus on that alert's link, every frame his socket receives recorded
    AlertRule.objects.create(name="Agent budget at 80%", kind="budget", level="agent", threshold=80)
    AlertRule.objects.create(name="Kill switch used", kind="kill_switch", throttle_minutes=0)
    month = timezone.now().date().replace(day=1)
    Agent.objects.filter(pk=finance_agent.pk).update(monthly_budget=1000, month_spent=912, spend_month=month)
    evaluate_rules()
    frames: list[str] = []
    page.on("websocket", lambda socket: socket.on("framereceived", lambda payload: frames.append(str(payload))))
    page.set_viewport_size(SIZES[size])
    log_in(page, "bob")
    page.goto("/alerts/")
    expect(page.get_by_test_id("live-status")).to_have_text("live")
    expect(page.get_by_test_id("open-alert")).to_have_count(1)
    page.get_by_test_id("open-alert").get_by_role("link", name="Invoice Bot").focus()
    page.evaluate("window.loadedOnce = true")

    # When Customer Support's Reply Bot is stopped with the kill switch, then Finance's Invoice Bot, and beat
    # evaluates the rules after each
    change_agent_status(support_agent, Status.KILLED, by=alice, reason="Leaked a customer's address")
    evaluate_rules()
    change_agent_status(finance_agent, Status.KILLED, by=alice, reason="Paid a fake invoice")
    evaluate_rules()

    # Then Finance's new alert appears above the one he reads, announced, without a reload and with his focus
    # where it was; Customer Support's never reached his page, nor his socket
    open_alerts = page.get_by_test_id("open-alert")
    expect(open_alerts).to_have_count(2, timeout=LIVE_UPDATE_TIMEOUT_MS)
    expect(open_alerts.first).to_contain_text("Invoice Bot (Finance) was stopped with the kill switch.")
    expect(page.get_by_test_id("alerts-news")).to_have_text("1 new alert since you opened the page.")
    expect(page.get_by_role("heading", name="Open now (2)")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("Reply Bot")
    assert page.evaluate("window.loadedOnce") is True
    assert page.evaluate("document.activeElement.closest('[data-testid=open-alert]').textContent").count("91.2%")
    assert any("alert.fired" in frame for frame in frames)
    assert not any("Reply Bot" in frame or "Customer Support" in frame for frame in frames)
    assert sideways_overflow(page) <= 0
    shoot(page, f"alerts-live-fired-{size}")

    # When Invoice Bot is revived and beat evaluates again
    change_agent_status(finance_agent, Status.ACTIVE, by=alice, reason="Fixed")
    evaluate_rules()

    # Then its kill-switch alert leaves the open list for the resolved one, and the focus still has not moved
    resolved = page.get_by_test_id("resolved-alert")
    expect(resolved).to_have_count(1, timeout=LIVE_UPDATE_TIMEOUT_MS)
    expect(resolved).to_contain_text("The condition no longer holds.")
    expect(open_alerts).to_have_count(1)
    expect(page.get_by_role("heading", name="Resolved in the last 7 days (1)")).to_be_visible()
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Invoice Bot"
    assert page.evaluate("window.loadedOnce") is True
    shoot(page, f"alerts-live-resolved-{size}")
