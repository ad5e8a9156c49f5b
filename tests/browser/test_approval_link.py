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
from tests.support.browser import log_in

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


def test_a_supervisor_chooses_slack_on_their_page_and_the_url_stays_secret(
    page: Page, asgi_server, bob: User, screenshots: Path
) -> None:
    # Given Bob, logged in, on his notifications page from the menu
    log_in(page, "bob")
    page.get_by_role("link", name="Notifications").click()

    # When he chooses Slack and pastes his channel's webhook
    page.get_by_label("Also post to").select_option("slack")
    page.get_by_label("Chat webhook URL").fill("https://hooks.slack.com/services/T000/B000/secret-part")
    page.get_by_role("button", name="Save").click()

    # Then the page says it is saved and where he will hear, without showing the URL
    expect(page.get_by_text("Your notification preferences are saved.")).to_be_visible()
    expect(page.get_by_test_id("channels-now")).to_contain_text("Slack")
    expect(page.get_by_label("Chat webhook URL")).to_have_value("")
    assert "secret-part" not in page.content()
    page.screenshot(path=screenshots / "notification-preferences.png", full_page=True)
