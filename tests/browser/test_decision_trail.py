"""A decision's audit trail in Chromium while the sequencer has not chained a new entry yet (queued sequencing): a
supervisor's override shows at once as waiting to be chained, then as chained, without a reload, at 1440 and 390 px.

No sequencer runs beside these tests (`queued`): each chains the queue itself, when it has seen the waiting entry.
"""

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from audit import chain
from governance.evaluation import ActionRequest, evaluate_action
from governance.models import Effect
from tests.support.browser import SLOW_MS, log_in

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots-edges")  # noqa: S108 (where the brief asks the screenshots to be looked at)
WIDTHS = {"wide": (1440, 900), "phone": (390, 844)}


@pytest.mark.parametrize("width", WIDTHS)
def test_an_override_shows_as_waiting_then_as_chained_without_a_reload(
    page: Page, asgi_server, queued, bob: User, finance_agent, make_policy, screenshots: Path, width: str
) -> None:
    # Given a denied refund whose creation is chained, open on its page for bob, who supervises Finance
    make_policy(name="No refunds", effect=Effect.DENY, actions="refund.issue", rationale="Refunds go by hand.")
    denied = evaluate_action(finance_agent, ActionRequest(action="refund.issue", resource="order/77"))
    chain.integrate_all()
    page.set_default_timeout(SLOW_MS)
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    log_in(page, "bob")
    page.goto(f"/decisions/{denied.pk}/")
    expect(page.get_by_test_id("chained-entry")).to_have_count(1)

    # When he overrides the denial
    page.get_by_label("Reason (kept in the audit log)").fill("Refund agreed with the customer by phone.")
    page.get_by_role("button", name="Override").click()

    # Then the override's entry is in the trail at once, after the chained one, waiting to be chained
    waiting = page.get_by_test_id("queued-entry")
    expect(waiting).to_have_count(1)
    expect(waiting).to_contain_text("Decision overridden")
    expect(waiting).to_contain_text("Refund agreed with the customer by phone.")
    expect(waiting.get_by_test_id("waiting")).to_have_text("Waiting to be chained")
    rows = page.get_by_test_id("trail").locator("tbody tr")
    expect(rows.nth(0)).to_have_attribute("data-testid", "chained-entry")
    expect(rows.nth(1)).to_have_attribute("data-testid", "queued-entry")
    assert_no_sideways_scroll(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"decision-{width}-waiting.png", full_page=True)
    page.evaluate("window.notReloaded = true")

    # And when the sequencer chains it, the page shows it chained and verified, by itself
    chain.integrate_all()
    expect(page.get_by_test_id("queued-entry")).to_have_count(0)
    expect(page.get_by_test_id("chained-entry")).to_have_count(2)
    expect(rows.nth(1)).to_contain_text("Decision overridden")
    expect(rows.nth(1)).to_contain_text("verifies")
    expect(page.get_by_test_id("waiting-note")).to_have_count(0)
    assert page.evaluate("window.notReloaded") is True
    assert_no_sideways_scroll(page)
    page.screenshot(path=SHOTS / f"decision-{width}-chained.png", full_page=True)
    page.screenshot(path=screenshots / f"decision-trail-{width}.png", full_page=True)


def assert_no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow} px"
