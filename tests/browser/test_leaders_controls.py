"""Leaders' controls in Chromium at 1440 and 390 px: the confirmation dialog says what will happen, the
reason is required at the box, the change lands and is shown in the status history, a status changed
elsewhere reaches the open page live, and without JavaScript the button opens a confirm page instead.
The menu leads an Executive to the Departments and Policies pages inside the product.

alice is an Executive, bob supervises Finance. Screenshots go to /tmp/shots-leaders.
"""

import tempfile
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Browser, Page, expect

from audit.models import AuditEvent
from orchestration.kill_switch import change_agent_status, change_department_status
from orchestration.models import Agent, Department, Status
from tests.factories import PolicyFactory
from tests.support.browser import LIVE_UPDATE_TIMEOUT_MS, PASSWORD, SLOW_MS, log_in
from tests.support.workflows import run

pytestmark = pytest.mark.browser

SHOTS = Path(tempfile.gettempdir()) / "shots-leaders"  # never into the repository
SIZES = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(autouse=True)
def patient(page: Page) -> None:
    page.set_default_timeout(SLOW_MS)
    page.set_default_navigation_timeout(SLOW_MS)


def shot(page: Page, name: str, size: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}-{SIZES[size]['width']}.png", full_page=True)


def sideways_overflow(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


@pytest.mark.parametrize("size", SIZES)
def test_an_executive_pauses_an_agent_through_the_dialog_with_a_reason(
    page: Page, asgi_server, alice: User, finance_agent, size: str
) -> None:
    run(finance_agent)
    run(finance_agent)
    page.set_viewport_size(SIZES[size])
    log_in(page, "alice")
    page.goto(f"/agents/{finance_agent.pk}/")

    page.get_by_role("button", name="Pause…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Pause Invoice Bot?")
    expect(dialog).to_contain_text("It will stop acting now")
    expect(dialog).to_contain_text("2 unfinished workflow steps")
    expect(dialog.get_by_label("Reason")).to_be_focused()
    assert sideways_overflow(page) <= 0
    shot(page, "agent-confirm", size)

    dialog.get_by_role("button", name="Pause Invoice Bot").click()  # no reason yet
    expect(dialog.get_by_test_id("reason-error")).to_have_text(
        "Say why: the reason is kept in the audit log with your name."
    )
    expect(dialog.get_by_label("Reason")).to_have_attribute("aria-invalid", "true")
    expect(dialog).to_be_visible()
    assert Agent.objects.get(pk=finance_agent.pk).status == Status.ACTIVE
    shot(page, "agent-confirm-no-reason", size)

    dialog.get_by_label("Reason").fill("Paying the same invoice twice")
    dialog.get_by_role("button", name="Pause Invoice Bot").click()

    expect(page.get_by_test_id("agent-status")).to_have_text("Paused")
    expect(page.get_by_text("Invoice Bot is now paused.")).to_be_visible()
    history = page.get_by_test_id("status-history")
    expect(history).to_contain_text("Active → Paused")
    expect(history).to_contain_text("Paying the same invoice twice")
    assert sideways_overflow(page) <= 0
    shot(page, "agent-paused", size)
    event = AuditEvent.objects.get(kind="agent.status_changed", subject_id=str(finance_agent.pk))
    assert (event.actor, event.after) == (alice, {"status": "paused", "reason": "Paying the same invoice twice"})


@pytest.mark.parametrize("size", SIZES)
def test_cancel_closes_the_dialog_and_changes_nothing(
    page: Page, asgi_server, alice: User, finance_agent, size: str
) -> None:
    page.set_viewport_size(SIZES[size])
    log_in(page, "alice")
    page.goto(f"/agents/{finance_agent.pk}/")

    page.get_by_role("button", name="Kill…").click()
    expect(page.get_by_role("dialog")).to_contain_text("Kill Invoice Bot?")
    shot(page, "agent-kill-confirm", size)
    page.get_by_role("dialog").get_by_role("link", name="Cancel").click()

    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_test_id("agent-status")).to_have_text("Active")
    assert Agent.objects.get(pk=finance_agent.pk).status == Status.ACTIVE


@pytest.mark.parametrize("size", SIZES)
def test_a_status_changed_elsewhere_reaches_the_open_agent_page_live(
    page: Page, asgi_server, alice: User, bob: User, finance_agent, size: str
) -> None:
    page.set_viewport_size(SIZES[size])
    log_in(page, "alice")
    page.goto(f"/agents/{finance_agent.pk}/")
    expect(page.get_by_test_id("live-status")).to_have_text("live")
    page.evaluate("window.loadedOnce = true")

    change_agent_status(Agent.objects.get(pk=finance_agent.pk), Status.PAUSED, by=bob, reason="Odd refunds")

    expect(page.get_by_test_id("agent-status")).to_have_text("Paused", timeout=LIVE_UPDATE_TIMEOUT_MS)
    expect(page.get_by_role("button", name="Resume…")).to_be_visible()
    expect(page.get_by_test_id("status-history")).to_contain_text("Odd refunds")
    assert page.evaluate("window.loadedOnce") is True  # updated in place, not reloaded
    shot(page, "agent-live-paused", size)

    change_department_status(Department.objects.get(pk=finance_agent.department_id), Status.PAUSED, by=bob)

    expect(page.locator("#agent-facts")).to_contain_text("department paused", timeout=LIVE_UPDATE_TIMEOUT_MS)


def test_a_live_change_waits_while_a_confirmation_is_open(
    page: Page, asgi_server, alice: User, bob: User, finance_agent
) -> None:
    log_in(page, "alice")
    page.goto(f"/agents/{finance_agent.pk}/")
    expect(page.get_by_test_id("live-status")).to_have_text("live")
    page.get_by_role("button", name="Kill…").click()
    page.get_by_role("dialog").get_by_label("Reason").fill("Half-typed reason")

    change_agent_status(Agent.objects.get(pk=finance_agent.pk), Status.PAUSED, by=bob, reason="Odd refunds")
    page.wait_for_timeout(2_000)  # time for the event to arrive; the open dialog must be left alone

    expect(page.get_by_role("dialog").get_by_label("Reason")).to_have_value("Half-typed reason")
    expect(page.get_by_test_id("agent-status")).to_have_text("Active")
    page.get_by_role("dialog").get_by_role("link", name="Cancel").click()
    expect(page.get_by_test_id("agent-status")).to_have_text("Paused", timeout=LIVE_UPDATE_TIMEOUT_MS)


@pytest.mark.parametrize("size", SIZES)
def test_a_supervisor_pauses_their_department_and_sees_it_in_the_history(
    page: Page, asgi_server, bob: User, finance, finance_agent, size: str
) -> None:
    page.set_viewport_size(SIZES[size])
    log_in(page, "bob")
    page.goto(f"/departments/{finance.pk}/")
    expect(page.get_by_test_id("department-agents")).to_contain_text("Invoice Bot")
    shot(page, "department", size)

    page.get_by_role("button", name="Pause…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Pause Finance?")
    expect(dialog).to_contain_text("Its 1 agent will stop acting now")
    shot(page, "department-confirm", size)
    dialog.get_by_label("Reason").fill("Month-end freeze")
    dialog.get_by_role("button", name="Pause Finance").click()

    expect(page.get_by_test_id("department-status")).to_have_text("Paused")
    expect(page.get_by_test_id("status-history")).to_contain_text("Month-end freeze")
    expect(page.get_by_role("button", name="Resume…")).to_be_visible()
    assert sideways_overflow(page) <= 0
    assert Department.objects.get(pk=finance.pk).status == Status.PAUSED


def test_without_javascript_the_button_opens_a_confirm_page(
    browser: Browser, asgi_server, alice: User, finance_agent
) -> None:
    context = browser.new_context(base_url=asgi_server.url, java_script_enabled=False, viewport=SIZES["phone"])
    page = context.new_page()
    page.set_default_timeout(SLOW_MS)
    try:
        log_in(page, "alice", PASSWORD)
        page.goto(f"/agents/{finance_agent.pk}/")

        page.get_by_role("button", name="Pause…").click()

        expect(page.get_by_role("heading", level=1)).to_have_text("Pause Invoice Bot?")
        expect(page.get_by_test_id("consequence")).to_contain_text("It will stop acting now")
        shot(page, "agent-confirm-page", "phone")
        page.get_by_label("Reason").fill("No script, still in control")
        page.get_by_role("button", name="Pause Invoice Bot").click()
        expect(page.get_by_test_id("agent-status")).to_have_text("Paused")
        assert Agent.objects.get(pk=finance_agent.pk).status == Status.PAUSED
    finally:
        context.close()


@pytest.mark.parametrize("size", SIZES)
def test_the_menu_leads_an_executive_to_departments_and_policies_inside_the_product(
    page: Page, asgi_server, alice: User, finance, finance_agent, size: str
) -> None:
    PolicyFactory(name="No payments over 10k", actions="payment.*", condition="amount > 10000")
    page.set_viewport_size(SIZES[size])
    log_in(page, "alice")

    for label, name in [("Departments", "departments"), ("Policies", "policies")]:
        if size == "phone":
            page.get_by_role("button", name="Menu").click()
        page.get_by_role("navigation", name="Main").get_by_role("link", name=label).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(label)
        assert "/admin/" not in page.url
        assert sideways_overflow(page) <= 0
        shot(page, name, size)
        if label == "Departments":
            expect(page.get_by_test_id("department-row")).to_contain_text(["Finance"])

    expect(page.get_by_test_id("rule")).to_have_text(
        "Refuses any payment action by any agent when the amount is more than 10,000 USD."
    )
    expect(page.get_by_test_id("condition-as-written")).to_have_count(0)  # the CEL is for Policy Admins
