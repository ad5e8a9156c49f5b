"""The decision explorer and a decision's page in Chromium: filters give what the database holds, pages
move by cursor, a row opens its decision, and a Supervisor overrides a denial from its page."""

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from dashboard.decisions import PAGE_SIZE
from governance.models import Decision, Effect, Override, Verdict
from tests.factories import DecisionFactory
from tests.support.audit import wait_until_sequenced
from tests.support.browser import log_in

pytestmark = pytest.mark.browser
SLOW_MS = 30_000


@pytest.fixture(autouse=True)
def patient(page: Page) -> None:
    page.set_default_timeout(SLOW_MS)
    page.set_default_navigation_timeout(SLOW_MS)


def listed(page: Page) -> list[int]:
    rows = page.get_by_test_id("decision-rows").locator("tr[data-decision-id]")
    return [int(pk) for pk in rows.evaluate_all("rows => rows.map(r => r.dataset.decisionId)")]


def newest_first(decisions) -> list[int]:
    return list(decisions.order_by("-created_at", "-id").values_list("pk", flat=True))


def test_the_explorers_filters_return_what_the_database_holds(
    page: Page, asgi_server, alice: User, finance_agent, support_agent, screenshots: Path
) -> None:
    for i, verdict in enumerate([Verdict.ALLOW, Verdict.DENY, Verdict.FLAG, Verdict.REQUIRE_APPROVAL] * 6):
        DecisionFactory(
            agent=(finance_agent, support_agent)[i % 2], verdict=verdict, risk_score=10 + 3 * i, resource=f"invoice/{i}"
        )
    log_in(page, "alice")
    page.get_by_role("link", name="Decisions", exact=True).click()
    expect(page.get_by_test_id("decision-rows").locator("tr")).to_have_count(24)

    page.get_by_label("Deny").check()
    page.get_by_label("Flag").check()
    page.locator("[data-picker=departments]").get_by_label("Customer Support").check()
    page.get_by_label("from", exact=True).first.fill("30")
    page.get_by_role("button", name="Apply").click()

    expect(page).to_have_url(re.compile(r"verdict=deny&verdict=flag"))
    held = Decision.objects.filter(
        verdict__in=["deny", "flag"], department=support_agent.department, risk_score__gte=30
    )
    expect(page.get_by_test_id("decision-rows").locator("tr")).to_have_count(held.count())
    assert held.exists() and listed(page) == newest_first(held)
    page.screenshot(path=screenshots / "decisions-explorer.png", full_page=True)


def test_older_and_newer_walk_the_pages(page: Page, asgi_server, alice: User, finance_agent) -> None:
    DecisionFactory.create_batch(PAGE_SIZE + 5, agent=finance_agent)
    log_in(page, "alice")
    page.goto("/decisions/")
    first = listed(page)

    page.get_by_test_id("older").click()
    expect(page.get_by_test_id("decision-rows").locator("tr")).to_have_count(5)
    second = listed(page)
    page.get_by_test_id("newer").click()
    expect(page.get_by_test_id("decision-rows").locator("tr")).to_have_count(PAGE_SIZE)

    assert first + second == newest_first(Decision.objects.all())
    assert listed(page) == first


def test_a_row_opens_its_decision_and_a_supervisor_overrides_the_denial(
    page: Page,
    asgi_server,
    bob: User,
    finance_agent,
    make_policy,
    screenshots: Path,
) -> None:
    from governance.evaluation import ActionRequest, evaluate_action

    make_policy(name="No refunds", effect=Effect.DENY, actions="refund.issue", rationale="Refunds go by hand.")
    make_policy(name="Watch refunds", effect=Effect.FLAG, actions="refund.*", rationale="Watched.", mode="shadow")
    denied = evaluate_action(
        finance_agent,
        ActionRequest(action="refund.issue", resource="order/77", context={"order": 77, "customer": "ACME"}),
    )
    log_in(page, "bob")
    page.goto("/decisions/")

    page.get_by_test_id("decision-rows").locator(f"tr[data-decision-id='{denied.pk}'] td:first-child a").click()

    expect(page.get_by_test_id("verdict")).to_have_text("Denied")
    expect(page.get_by_test_id("policies")).to_contain_text("No refunds")
    expect(page.get_by_test_id("policies")).to_contain_text("on trial (not enforced)")
    expect(page.get_by_test_id("trail")).to_contain_text("verifies")
    page.get_by_label("Reason (kept in the audit log)").fill("Refund agreed with the customer by phone.")
    page.get_by_role("button", name="Override").click()

    expect(page.get_by_test_id("override")).to_contain_text("Refund agreed with the customer by phone.")
    # The trail lists chained entries: the override's is there once the sequencer has linked it (well under 1 s)
    wait_until_sequenced()
    page.reload()
    expect(page.get_by_test_id("trail")).to_contain_text("Decision overridden")
    assert Override.objects.get(decision=denied).by == bob
    page.screenshot(path=screenshots / "decision.png", full_page=True)


def test_the_decision_page_says_who_decided_a_held_request_by_name(
    page: Page, asgi_server, alice: User, bob: User, finance_agent, hold, screenshots: Path
) -> None:
    from governance.approvals import decide_approval

    bob.first_name, bob.last_name = "Bob", "Baker"
    bob.save()
    held = hold(finance_agent, "900")
    decide_approval(held.approval.pk, approve=False, by=bob, comment="No purchase order on file.")
    log_in(page, "alice")

    page.goto(f"/decisions/{held.pk}/")

    expect(page.get_by_test_id("verdict")).to_have_text("Rejected by a person")
    state = page.get_by_test_id("approval-state")
    expect(state).to_contain_text("Rejected by Bob Baker on")
    expect(state).to_contain_text("No purchase order on file.")
    expect(page.get_by_text("µs")).to_have_count(0)
    for width, height in ((1440, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=screenshots / f"decision-decided-by-a-person-{width}.png", full_page=True)


@pytest.mark.parametrize("width", [1440, 390])
def test_an_agent_is_found_by_typing_and_the_filtered_list_downloads_as_csv(
    page: Page, asgi_server, alice: User, finance_agent, support_agent, width: int
) -> None:
    for i in range(6):
        DecisionFactory(agent=(finance_agent, support_agent)[i % 2], resource=f"invoice/{i}")
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, "alice")
    page.goto("/decisions/")
    if width == 390:  # on a phone the first screen shows the results; the filters open at a tap
        expect(page.get_by_test_id("match-count")).to_be_in_viewport()
        expect(page.get_by_test_id("decision-filters")).to_be_hidden()
        page.get_by_text("Filters", exact=True).click()
    picker = page.get_by_test_id("agent-picker")

    picker.get_by_role("searchbox").press_sequentially("reply", delay=30)
    expect(picker.locator("label:visible")).to_have_count(1)
    picker.get_by_role("searchbox").press("Enter")  # ticks the one match left, does not submit
    expect(picker.get_by_text("1 chosen")).to_be_visible()
    page.get_by_role("button", name="Apply").click()

    mine = Decision.objects.filter(agent=support_agent)
    expect(page.get_by_test_id("match-count")).to_contain_text(f"{mine.count()} decisions match")
    expect(page.get_by_test_id("filter-fold")).to_contain_text("1 in use")
    assert listed(page) == newest_first(mine)
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    with page.expect_download() as download:
        page.get_by_test_id("export-csv").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith("\ufeffDecision id,")
    assert [int(line.split(",")[0]) for line in text.splitlines()[1:]] == newest_first(mine)
