"""The integrity page in Chromium at 1440 and 390 px: a verification's progress appears and its result replaces
it without a reload; an Auditor starts one with a button; a Supervisor sees their departments' view."""

import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from audit import checkpoints, verification
from audit.models import AuditEvent, VerificationRun
from tests.support.audit import wait_until_sequenced
from tests.support.browser import LIVE_UPDATE_TIMEOUT_MS, SLOW_MS, decide, log_in

pytestmark = pytest.mark.browser

SIZES = {"1440": {"width": 1440, "height": 900}, "390": {"width": 390, "height": 844}}
SHOTS = Path(tempfile.gettempdir()) / "shots-auditor"  # looked at by people, never kept in the repository


@pytest.fixture(autouse=True)
def patient(page: Page) -> None:
    page.set_default_timeout(SLOW_MS)
    page.set_default_navigation_timeout(SLOW_MS)


@pytest.fixture
def eager_tasks(monkeypatch):
    from config.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)


def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sideways_overflow(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


@pytest.mark.parametrize("size", SIZES)
def test_an_auditor_watches_a_verification_progress_then_its_result(
    page: Page, asgi_server, dave, finance_agent, size: str
) -> None:
    # Given a chain of decisions, a signed checkpoint, and a full verification a worker is part-way through
    for amount in ("10", "20", "30", "40"):
        decide(finance_agent, amount)
    wait_until_sequenced()
    checkpoints.take()
    total = AuditEvent.objects.count()
    run = VerificationRun.objects.create(mode=VerificationRun.Mode.FULL, started_by=dave)
    VerificationRun.objects.filter(pk=run.pk).update(status="running", until_seq=total, checked=total // 2)
    page.set_viewport_size(SIZES[size])
    log_in(page, "dave")

    # When the auditor opens the integrity page
    page.goto("/integrity/")

    # Then the progress shows in events and percent
    expect(page.get_by_test_id("verification-status")).to_have_text("Checking")
    expect(page.get_by_test_id("verification-progress-text")).to_have_text(
        f"{total // 2} of {total} events checked ({total // 2 * 100 // total}%)"
    )
    expect(page.get_by_test_id("checkpoint-size")).to_have_text(str(total))
    assert sideways_overflow(page) <= 0
    shoot(page, f"integrity-running-{size}")

    # When the worker finishes the run
    verification.execute(run.pk)

    # Then the result replaces the progress without a reload, in words
    expect(page.get_by_test_id("verification-status")).to_have_text("Intact", timeout=LIVE_UPDATE_TIMEOUT_MS)
    expect(page.get_by_test_id("verification-progress")).to_be_hidden()
    expect(page.get_by_test_id("verification-summary")).to_contain_text(f"all {total} events link to the one before")
    assert sideways_overflow(page) <= 0
    shoot(page, f"integrity-intact-{size}")


@pytest.mark.parametrize("size", SIZES)
def test_an_auditor_starts_a_check_with_a_button_and_sees_it_through(
    page: Page, asgi_server, dave, finance_agent, eager_tasks, size: str
) -> None:
    # Given a chain of decisions
    decide(finance_agent, "10")
    page.set_viewport_size(SIZES[size])
    log_in(page, "dave")
    page.goto("/integrity/")
    expect(page.get_by_test_id("verification-summary")).to_have_text(
        "The audit log has not been checked from this page yet."
    )

    # When the auditor asks for new events to be checked
    page.get_by_role("button", name="Check new events").click()

    # Then the page names the result and who started it
    expect(page.get_by_test_id("verification-status")).to_have_text("Intact", timeout=LIVE_UPDATE_TIMEOUT_MS)
    expect(page.get_by_test_id("verification-started")).to_contain_text("Started by")
    expect(page.get_by_test_id("checkpoint-witnesses")).to_have_text("Regent's database only")
    assert sideways_overflow(page) <= 0


@pytest.mark.parametrize("size", SIZES)
def test_a_supervisor_sees_the_result_and_their_departments_without_the_organisations_count(
    page: Page, asgi_server, bob, finance_agent, support_agent, size: str
) -> None:
    # Given decisions in Finance and Support, verified in full
    decide(finance_agent, "10")
    decide(support_agent, "20")
    wait_until_sequenced()
    verification.verify_now(VerificationRun.Mode.FULL)
    finance_events = AuditEvent.objects.filter(department=finance_agent.department).count()
    page.set_viewport_size(SIZES[size])
    log_in(page, "bob")

    # When the Finance supervisor opens the page
    page.goto("/integrity/")

    # Then they read the result and Finance's events, and no start button nor the organisation's count
    expect(page.get_by_test_id("verification-summary")).to_contain_text("The audit log was found intact on")
    expect(page.get_by_test_id("department-events")).to_have_text(
        f"Finance: {finance_events} event{'s' if finance_events != 1 else ''} in the audit log."
    )
    expect(page.get_by_role("button", name="Check new events")).to_have_count(0)
    expect(page.get_by_test_id("checkpoint-size")).to_have_count(0)
    assert sideways_overflow(page) <= 0
    shoot(page, f"integrity-supervisor-{size}")
