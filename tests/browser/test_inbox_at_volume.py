"""The approvals inbox at volume and under load, in Chromium at 1440 and 390 px: a filtered link opens the
list it names, 1,000 waiting requests are paged, a typed reason survives 20 live requests with a filter in
force, several requests are rejected with one reason, refusals appear at the control used, and the keyboard
shortcuts work without firing while the supervisor types."""

import datetime as dt
import re
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Page, expect

from governance.approvals import decide_approval
from governance.models import Approval, Decision, Verdict
from tests.factories import AgentFactory
from tests.support.browser import LIVE_UPDATE_TIMEOUT_MS, SLOW_MS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.allow_console("status of 400")]
WIDTHS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(autouse=True)
def patient(page: Page) -> None:
    page.set_default_timeout(SLOW_MS)
    page.set_default_navigation_timeout(SLOW_MS)


@pytest.fixture(params=list(WIDTHS))
def width(request, page: Page) -> str:
    page.set_viewport_size(WIDTHS[request.param])
    return request.param


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0


def many_waiting(agent, count: int) -> None:
    """`count` requests held for a Finance supervisor, written in bulk (the engine's path is tested elsewhere)."""
    now = timezone.now()
    decisions = Decision.objects.bulk_create(
        Decision(
            agent=agent,
            department=agent.department,
            action="invoice.approve",
            amount=Decimal(600 + n),
            currency="EUR",
            verdict=Verdict.REQUIRE_APPROVAL,
            risk_score=40,
            latency_us=150,
            created_at=now,
        )
        for n in range(count)
    )
    Approval.objects.bulk_create(
        Approval(
            decision=decision,
            department=agent.department,
            approver_role="Supervisor",
            requested_at=now - dt.timedelta(minutes=n),
            deadline=now + dt.timedelta(hours=4, minutes=n),
        )
        for n, decision in enumerate(decisions)
    )


def cards(page: Page):
    return page.locator("li[data-approval-id]")


def test_a_filtered_link_opens_the_list_it_names(
    page: Page, asgi_server, bob: User, finance_agent, hold, width: str, screenshots: Path
) -> None:
    payables = AgentFactory(name="Payables Bot", slug="payables-bot", department=finance_agent.department)
    for amount in ("700", "1900", "5200"):
        hold(finance_agent, amount)
    hold(payables, "800")
    log_in(page, "bob")

    page.goto(f"/approvals/?agent={finance_agent.pk}&sort=amount")

    expect(page.get_by_test_id("waiting-count")).to_have_text("3 waiting, 1–3 shown.")
    expect(cards(page)).to_have_count(3)
    expect(cards(page).first).to_contain_text("5,200.00")
    expect(page.get_by_label("Agent", exact=True)).to_have_value(str(finance_agent.pk))
    expect(page.get_by_label("Sort", exact=True)).to_have_value("amount")
    expect(page.get_by_test_id("rationale").first).to_contain_text("Large sums get a second pair of eyes.")
    no_sideways_scroll(page)
    page.screenshot(path=screenshots / f"inbox-filtered-{width}.png", full_page=True)

    # Choosing another agent applies at once, and says so in the URL
    page.get_by_label("Agent", exact=True).select_option(label="Payables Bot")

    expect(page.get_by_test_id("waiting-count")).to_have_text("1 waiting, 1–1 shown.")
    assert f"agent={payables.pk}" in page.url


def test_a_thousand_waiting_requests_are_paged_and_counted(
    page: Page, asgi_server, bob: User, finance_agent, hold, width: str, screenshots: Path
) -> None:
    many_waiting(finance_agent, 1000)
    log_in(page, "bob")
    page.goto("/approvals/")

    expect(page.get_by_test_id("waiting-count")).to_have_text("1,000 waiting, 1–25 shown.")
    expect(cards(page)).to_have_count(25)
    expect(page.get_by_test_id("pager")).to_contain_text("Page 1 of 40")
    no_sideways_scroll(page)
    page.screenshot(path=screenshots / f"inbox-1000-{width}.png")

    page.get_by_role("link", name="Next →").click()

    expect(page.get_by_test_id("waiting-count")).to_have_text("1,000 waiting, 26–50 shown.")
    assert page.url.endswith("page=2")
    page.goto("/approvals/?sort=oldest&page=40")
    expect(page.get_by_test_id("waiting-count")).to_have_text("1,000 waiting, 976–1,000 shown.")
    expect(cards(page)).to_have_count(25)
    expect(page.get_by_role("link", name="← Previous")).to_have_attribute("href", "?sort=oldest&page=39")


def test_a_reason_survives_twenty_live_requests_with_a_filter_in_force(
    page: Page, asgi_server, bob: User, finance_agent, hold, width: str, screenshots: Path
) -> None:
    payables = AgentFactory(name="Payables Bot", slug="payables-bot", department=finance_agent.department)
    first = hold(finance_agent, "600").approval
    log_in(page, "bob")
    page.goto(f"/approvals/?agent={finance_agent.pk}")
    expect(page.get_by_test_id("live-status")).to_have_text("live")
    comment = page.get_by_test_id(f"approval-{first.pk}").get_by_label("Comment")
    comment.click()
    reason = "Above the contract's ceiling; ask procurement for the signed addendum first."
    arriving = threading.Thread(  # ten for the filtered agent, ten for another that the filter leaves out
        target=lambda: [hold(finance_agent if n % 2 else payables, str(700 + n)) or time.sleep(0.15) for n in range(20)]
    )

    arriving.start()
    comment.press_sequentially(reason, delay=40)
    arriving.join(30)

    expect(page.get_by_test_id("waiting-count")).to_have_text("11 waiting, 1–11 shown.", timeout=LIVE_UPDATE_TIMEOUT_MS)
    expect(comment).to_have_value(reason)
    expect(comment).to_be_focused()
    expect(cards(page)).to_have_count(11)
    expect(page.locator("li[data-approval-id]", has_text="Payables Bot")).to_have_count(0)
    expect(page.get_by_test_id("inbox-news")).to_have_text("10 new requests since you opened the inbox.")
    no_sideways_scroll(page)
    page.screenshot(path=screenshots / f"inbox-live-filtered-{width}.png")


def test_rejecting_several_with_one_reason_reports_each_by_its_card(
    page: Page, asgi_server, alice: User, bob: User, finance_agent, hold, width: str, screenshots: Path
) -> None:
    held = [hold(finance_agent, str(600 + n)).approval for n in range(3)]
    log_in(page, "bob")
    page.goto("/approvals/")
    page.evaluate("window.stayed = true")
    for approval in held:
        page.get_by_test_id(f"pick-{approval.pk}").check()
    expect(page.get_by_test_id("selected-count")).to_have_text("3 requests selected.")
    # Meanwhile the CFO approves one elsewhere; the page's live re-read is held back, so that the refusal
    # comes from the server, as when the decision lands between the live event and the click.
    page.route("**/approvals/rows/**", lambda route: route.fulfill(status=200, body=""))
    decide_approval(held[1].pk, approve=True, by=alice, comment="Done by the CFO.")

    page.get_by_role("button", name="Reject selected").click()

    bulk_reason = page.get_by_label("Reason for the selected requests")
    expect(page.locator("#bulk-note-comment")).to_have_text(
        "Say why you reject the request: the agent's owners read it."
    )
    expect(bulk_reason).to_be_focused()
    bulk_reason.fill("Supplier is under review.")
    page.get_by_role("button", name="Reject selected").click()

    expect(page.get_by_test_id("bulk-note")).to_have_text(
        "2 of 3 rejected. The others were refused: the reason is by each request."
    )
    expect(page.get_by_test_id(f"note-verdict-{held[1].pk}")).to_have_text("This request was already approved.")
    for approval in (held[0], held[2]):
        expect(page.get_by_test_id(f"approval-{approval.pk}")).to_contain_text("Rejected.")
    assert page.evaluate("window.stayed") is True  # no reload: the messages are where the controls are
    no_sideways_scroll(page)
    page.screenshot(path=screenshots / f"inbox-bulk-reject-{width}.png", full_page=True)
    statuses = [Approval.objects.get(pk=a.pk).status for a in held]
    assert statuses == ["rejected", "approved", "rejected"]
    assert Approval.objects.get(pk=held[0].pk).comment == "Supplier is under review."


def test_a_refused_rejection_is_said_at_the_reason_box(
    page: Page, asgi_server, bob: User, finance_agent, hold, width: str
) -> None:
    approval = hold(finance_agent).approval
    log_in(page, "bob")
    page.goto("/approvals/")
    card = page.get_by_test_id(f"approval-{approval.pk}")

    card.get_by_role("button", name="Reject").click()

    expect(card.get_by_test_id(f"note-comment-{approval.pk}")).to_have_text(
        "Say why you reject the request: the agent's owners read it."
    )
    expect(card.get_by_label("Comment")).to_be_focused()
    expect(page.locator(".messages")).to_have_count(0)
    assert Approval.objects.get(pk=approval.pk).status == "pending"


def test_keyboard_shortcuts_move_approve_and_reject_but_not_while_typing(
    page: Page, asgi_server, bob: User, finance_agent, hold, width: str, screenshots: Path
) -> None:
    first, second, third = (hold(finance_agent, str(600 + n)).approval for n in range(3))
    log_in(page, "bob")
    page.goto("/approvals/")
    expect(page.get_by_test_id("live-status")).to_have_text("live")

    page.keyboard.press("?")
    expect(page.get_by_test_id("shortcuts")).to_be_visible()
    page.screenshot(path=screenshots / f"inbox-shortcuts-{width}.png")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("shortcuts")).to_be_hidden()

    page.keyboard.press("j")
    expect(page.get_by_test_id(f"approval-{first.pk}")).to_be_focused()
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    expect(page.get_by_test_id(f"approval-{second.pk}")).to_be_focused()
    page.keyboard.press("a")
    expect(page.get_by_test_id(f"approval-{second.pk}")).to_contain_text(f"Request {second.pk} approved.")

    page.keyboard.press("j")
    expect(page.get_by_test_id(f"approval-{third.pk}")).to_be_focused()
    page.keyboard.press("r")
    reason = page.get_by_test_id(f"approval-{third.pk}").get_by_label("Comment")
    expect(reason).to_be_focused()
    reason.press_sequentially("just a risk: key words like j, k, a, r and ? are text here")
    expect(reason).to_be_focused()
    expect(page.get_by_test_id("shortcuts")).to_be_hidden()
    page.keyboard.press("Control+Enter")

    expect(page.get_by_test_id(f"approval-{third.pk}")).to_contain_text(f"Request {third.pk} rejected.")
    assert [Approval.objects.get(pk=a.pk).status for a in (first, second, third)] == [
        "pending",
        "approved",
        "rejected",
    ]
    assert Approval.objects.get(pk=third.pk).comment == "just a risk: key words like j, k, a, r and ? are text here"


def test_deadlines_read_relative_with_the_exact_time_on_tap(
    page: Page, asgi_server, bob: User, finance_agent, hold, width: str
) -> None:
    approval = hold(finance_agent).approval
    log_in(page, "bob")
    page.goto("/approvals/")
    deadline = page.get_by_test_id(f"approval-{approval.pk}").get_by_test_id("deadline")

    expect(deadline).to_have_text(re.compile(r"^in \d+ (d|h|min)"))
    at = timezone.localtime(approval.deadline)
    exact = at.strftime("%H:%M")
    expect(deadline).to_have_attribute("title", f"{at:%a} {at.day} {at:%b %Y}, {exact} UTC")
    expect(page.get_by_test_id("deadline-exact")).to_be_hidden()
    deadline.click()
    expect(page.get_by_test_id("deadline-exact")).to_contain_text(f"{exact} UTC")
