"""The link in an approval email, followed in Chromium: the login page first, then the request's decision page,
where the supervisor decides. The email comes from a real SMTP server in process; the request is chained by the
sequencer beside the test, whose transaction sends it."""

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from governance.models import Approval
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("tasks_run_in_process")]
LINK = re.compile(r"http://127\.0\.0\.1:\d+/notifications/approvals/[^\s]+/")


@pytest.mark.allow_console("status of 410")  # the used link's refusal page is answered 410 Gone
def test_a_supervisor_follows_the_emailed_link_logs_in_and_decides_on_the_request(
    page: Page, asgi_server, bob: User, hold, finance_agent, mailbox, settings, screenshots: Path
) -> None:
    # Given Bob's email about Invoice Bot's €900 invoice, held for a Finance supervisor
    settings.SITE_URL = asgi_server.url
    approval = hold(finance_agent).approval
    email = mailbox.wait_for("bob@example.com")
    link = LINK.search(email.get_content()).group(0)

    # When he follows the link, Regent asks him to log in first
    page.goto(link)
    expect(page.get_by_role("heading", name="Log in to Regent")).to_be_visible()
    page.get_by_label("Username").fill("bob")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # Then he lands on the request's decision page, still waiting: the link decided nothing
    expect(page).to_have_url(re.compile(rf"/decisions/{approval.decision_id}/#approval-heading$"))
    expect(page.get_by_test_id("approval-status")).to_contain_text("Pending")
    approval.refresh_from_db()
    assert approval.status == Approval.Status.PENDING
    page.screenshot(path=screenshots / "approval-link-landing.png", full_page=True)

    # When he approves there
    form = page.get_by_test_id("decide-form")
    form.get_by_label("Comment").fill("Matches the purchase order.")
    form.get_by_role("button", name="Approve").click()

    # Then the page says so and the request is approved by him
    expect(page.get_by_text(f"Request {approval.pk} approved.")).to_be_visible()
    expect(page.get_by_test_id("approval-status")).to_contain_text("Approved")
    approval.refresh_from_db()
    assert (approval.status, approval.decided_by) == (Approval.Status.APPROVED, bob)

    # And the same link, followed again, is refused with a page that says why
    page.goto(link)
    expect(page.get_by_test_id("link-refused")).to_contain_text("This link was already used")
