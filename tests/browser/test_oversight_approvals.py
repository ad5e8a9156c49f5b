"""The approvals inbox in Chromium: a Supervisor approves and the parked workflow moves on; an Auditor reads
the same page without buttons and a forged POST in their session is refused; a new request appears live.

Workflow tasks run in the server's thread (the server runs in this process), as tests/orchestration does.
"""

import re
import threading
import time
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, WebSocketRoute, expect

from audit.models import AuditEvent
from governance.approvals import decide_approval
from governance.models import Approval, Effect
from tests.support.audit import wait_until_sequenced
from tests.support.browser import LIVE_UPDATE_TIMEOUT_MS, log_in
from tests.support.workflows import INVOICE, steps_of
from workflows import runtime
from workflows.models import StepRun, WorkflowRun

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("tasks_run_in_process")]
SLOW_MS = 30_000


@pytest.fixture(autouse=True)
def patient(page: Page) -> None:
    page.set_default_timeout(SLOW_MS)
    page.set_default_navigation_timeout(SLOW_MS)


@pytest.fixture
def parked_run(invoice_workflow, clerk, fake_provider, make_policy) -> WorkflowRun:
    """An invoice run read and approved by the clerk, its payment held for a Finance supervisor."""
    make_policy(
        name="Payments need a supervisor",
        effect=Effect.REQUIRE_APPROVAL,
        actions="payment.send",
        approver_role="Supervisor",
        rationale="Money leaves only with a person's yes.",
    )
    run = runtime.start_workflow(invoice_workflow, dict(INVOICE), started_by="user:alice")
    assert steps_of(run)["pay"].status == StepRun.Status.AWAITING_APPROVAL
    return run


def test_a_supervisor_approves_in_the_inbox_and_the_workflow_moves_on(
    page: Page,
    asgi_server,
    bob: User,
    parked_run: WorkflowRun,
    fake_provider,
    screenshots: Path,
) -> None:
    approval = steps_of(parked_run)["pay"].decision.approval
    log_in(page, "bob")
    page.get_by_role("link", name="Approvals", exact=True).click()
    request = page.get_by_test_id(f"approval-{approval.pk}")
    expect(request).to_contain_text("Payment: send")  # the action in words
    expect(request).to_contain_text("Payments need a supervisor")
    expect(request).to_contain_text("€1,200.00")
    page.screenshot(path=screenshots / "approvals-inbox.png", full_page=True)

    request.get_by_label("Comment").fill("Vendor known, invoice checked.")
    request.get_by_role("button", name="Approve").click()

    expect(request).to_contain_text(f"Request {approval.pk} approved.")  # by the card, without a reload
    approval.refresh_from_db()
    parked_run.refresh_from_db()
    assert (approval.status, approval.decided_by, approval.comment) == (
        Approval.Status.APPROVED,
        bob,
        "Vendor known, invoice checked.",
    )
    assert steps_of(parked_run)["pay"].status == StepRun.Status.SUCCEEDED
    assert fake_provider.actions_done == ["invoice.read", "invoice.approve", "payment.send"]
    assert parked_run.status == WorkflowRun.Status.SUCCEEDED


def test_an_auditor_reads_the_inbox_without_buttons_and_a_forged_post_is_refused(
    page: Page, asgi_server, dave: User, finance_agent, hold, screenshots: Path
) -> None:
    approval = hold(finance_agent).approval
    log_in(page, "dave")
    page.goto("/approvals/")

    request = page.get_by_test_id(f"approval-{approval.pk}")
    expect(request).to_contain_text("Invoice Bot")
    expect(page.get_by_test_id("read-only")).to_be_visible()
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    expect(page.get_by_role("button", name="Reject")).to_have_count(0)
    page.screenshot(path=screenshots / "approvals-inbox-auditor.png", full_page=True)

    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    forged = page.request.post(
        f"/approvals/{approval.pk}/decide/", form={"verdict": "approve"}, headers={"X-CSRFToken": token}
    )

    assert forged.ok  # refused with a message on the inbox, after the redirect
    assert "You may not decide this request." in forged.text()
    approval.refresh_from_db()
    assert approval.status == Approval.Status.PENDING
    wait_until_sequenced()
    assert not AuditEvent.objects.filter(kind="approval.resolved").exists()
    without_token = page.request.post(f"/approvals/{approval.pk}/decide/", form={"verdict": "approve"})
    assert without_token.status == 403


def test_a_new_request_appears_live_in_an_open_inbox_and_one_decided_elsewhere_is_marked(
    page: Page, asgi_server, alice: User, bob: User, finance_agent, support_agent, hold
) -> None:
    first = hold(finance_agent, "600").approval
    log_in(page, "bob")
    page.goto("/approvals/")
    expect(page.get_by_test_id(f"approval-{first.pk}")).to_be_visible()
    expect(page.get_by_test_id("live-status")).to_have_text("live")
    page.get_by_label("Comment").fill("half-typed")
    page.evaluate("window.loadedOnce = true")

    elsewhere = hold(support_agent, "700").approval
    arrived = hold(finance_agent, "950", resource="invoice/INV-99").approval

    request = page.get_by_test_id(f"approval-{arrived.pk}")
    expect(request).to_contain_text("€950.00", timeout=LIVE_UPDATE_TIMEOUT_MS)
    expect(request).to_contain_text("invoice/INV-99")
    expect(page.get_by_test_id(f"approval-{elsewhere.pk}")).to_have_count(0)
    expect(page.get_by_test_id("waiting-count")).to_have_text("2 waiting, 1–2 shown.")
    expect(page.get_by_test_id(f"approval-{first.pk}").get_by_label("Comment")).to_have_value("half-typed")

    decide_approval(first.pk, approve=True, by=alice, comment="Seen to.")

    gone = page.get_by_test_id(f"approval-{first.pk}")
    expect(gone).to_contain_text("No longer waiting for you", timeout=LIVE_UPDATE_TIMEOUT_MS)
    expect(gone.get_by_role("button", name="Approve")).to_be_disabled()
    expect(page.get_by_test_id("waiting-count")).to_have_text("1 waiting, 1–1 shown.")
    assert page.evaluate("window.loadedOnce") is True


def test_a_reason_being_typed_survives_twenty_live_requests_and_keeps_the_focus(
    page: Page, asgi_server, bob: User, finance_agent, hold, screenshots: Path
) -> None:
    first = hold(finance_agent, "600").approval
    log_in(page, "bob")
    page.goto("/approvals/")
    expect(page.get_by_test_id("live-status")).to_have_text("live")
    comment = page.get_by_test_id(f"approval-{first.pk}").get_by_label("Comment")
    comment.click()
    reason = "The amount is above the contract's ceiling; ask procurement for the signed addendum first."
    arriving = threading.Thread(
        target=lambda: [hold(finance_agent, str(700 + n)) or time.sleep(0.15) for n in range(20)]
    )

    # When twenty requests arrive while the supervisor types at a normal pace
    arriving.start()
    comment.press_sequentially(reason, delay=40)
    arriving.join(30)

    # Then every key reached the box, the focus never left it, and the page says how many are new
    expect(page.get_by_test_id("waiting-count")).to_have_text("21 waiting, 1–21 shown.", timeout=LIVE_UPDATE_TIMEOUT_MS)
    expect(comment).to_have_value(reason)
    expect(comment).to_be_focused()
    expect(page.get_by_test_id("inbox-news")).to_contain_text("new")
    expect(page.locator("li[data-approval-id]")).to_have_count(21)
    for width, height in ((1440, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=screenshots / f"inbox-typing-under-live-requests-{width}.png")


def test_the_inbox_reconnects_by_itself_and_catches_up(page: Page, asgi_server, bob: User, finance_agent, hold) -> None:
    sockets: list[WebSocketRoute] = []

    def relay(socket: WebSocketRoute) -> None:
        if sockets:  # the page is reconnecting: a request is made before the server hears from it again
            hold(finance_agent, "990", resource="invoice/while-away")
        socket.connect_to_server()
        sockets.append(socket)

    page.route_web_socket(re.compile(r"/ws/decisions/"), relay)
    log_in(page, "bob")
    page.goto("/approvals/")
    expect(page.get_by_test_id("live-status")).to_have_text("live")

    sockets[0].close()  # the connection drops under the page

    expect(page.get_by_test_id("approval-list")).to_contain_text("invoice/while-away", timeout=LIVE_UPDATE_TIMEOUT_MS)
    expect(page.get_by_test_id("live-status")).to_have_text("live")
    assert len(sockets) == 2
    assert sockets[1].url == sockets[0].url  # resumed after the last event it had seen, and was sent what it missed


def test_a_supervisor_rejecting_in_the_admin_is_asked_why_and_the_reason_is_recorded(
    page: Page, asgi_server, bob: User, finance_agent, hold, screenshots: Path
) -> None:
    approval = hold(finance_agent).approval
    log_in(page, "bob")
    page.goto("/admin/governance/approval/")
    page.get_by_role("row", name=str(approval.decision)).get_by_role("checkbox").check()
    page.get_by_label("Action:").select_option(label="Reject selected requests…")
    page.get_by_role("button", name="Go").click()

    expect(page.get_by_role("heading", name="Why do you reject these requests?")).to_be_visible()
    page.get_by_label("Reason").fill("   ")  # blanks get past the browser's own check, not the server's
    page.get_by_role("button", name="Reject").click()
    expect(page.locator(".errorlist")).to_have_text("Say why you reject the request: the agent's owners read it.")
    page.get_by_label("Reason").fill("Vendor not on the approved list.")
    page.screenshot(path=screenshots / "admin-reject-reason.png", full_page=True)
    page.get_by_role("button", name="Reject").click()

    expect(page.locator(".messagelist")).to_contain_text(f"Approval {approval.pk} rejected.")
    approval.refresh_from_db()
    assert (approval.status, approval.comment, approval.decided_by) == (
        Approval.Status.REJECTED,
        "Vendor not on the approved list.",
        bob,
    )
