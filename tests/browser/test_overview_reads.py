"""The overview an executive understands in ten seconds, and charts whose labels can be read, in Chromium at
1440 and 390 px: sentences from the figures, definitions on hover or tap, tiles that lead to the rows behind
them, the organisation's approvals backlog, live updates in business words, and labels that never overlap.
"""

import datetime as dt
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Page, expect

from governance.models import Approval, Verdict
from orchestration.models import Agent
from tests.factories import AgentFactory, DecisionFactory, DepartmentFactory
from tests.support.browser import LIVE_UPDATE_TIMEOUT_MS, SLOW_MS, decide, expect_charts_drawn, log_in
from tests.support.workflows import run
from workflows.models import StepRun, Strategy

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots-overview")  # noqa: S108 (screenshots to look at, kept out of the repository)
WIDTHS = [(1440, 900), (390, 844)]

OVERLAPS = """(selectors) => {
  const boxes = [];
  selectors.forEach((selector) => document.querySelectorAll(selector).forEach((element) => {
    const r = element.getBoundingClientRect();
    if (r.width && r.height) boxes.push({ text: element.textContent, l: r.left, r: r.right, t: r.top, b: r.bottom });
  }));
  const clashes = [];
  for (let i = 0; i < boxes.length; i += 1) {
    for (let j = i + 1; j < boxes.length; j += 1) {
      const a = boxes[i], b = boxes[j];
      if (a.l < b.r - 0.5 && b.l < a.r - 0.5 && a.t < b.b - 0.5 && b.t < a.b - 0.5) clashes.push([a.text, b.text]);
    }
  }
  return { count: boxes.length, clashes: clashes };
}"""


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def shoot(page: Page, name: str, width: int) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}-{width}.png", full_page=True)


@pytest.fixture
def busy_day(finance_agent, support_agent):
    """Decisions of every verdict now, and one request waiting for a supervisor for three hours."""
    now = timezone.now()
    for agent in (finance_agent, support_agent):
        for verdict in (Verdict.ALLOW, Verdict.ALLOW, Verdict.FLAG, Verdict.DENY):
            DecisionFactory(agent=agent, verdict=verdict, created_at=now, action="invoice.approve")
    held = DecisionFactory(agent=finance_agent, verdict=Verdict.REQUIRE_APPROVAL, created_at=now)
    Approval.objects.create(
        decision=held,
        department=finance_agent.department,
        approver_role="Supervisor",
        requested_at=now - dt.timedelta(hours=3, minutes=5),
        deadline=now + dt.timedelta(hours=4),
    )


@pytest.mark.parametrize(("width", "height"), WIDTHS)
def test_an_executive_reads_the_overview_and_follows_a_tile_to_the_rows_behind_it(
    page: Page, asgi_server, alice: User, busy_day, finance_agent, width: int, height: int
) -> None:
    page.set_viewport_size({"width": width, "height": height})
    page.set_default_timeout(SLOW_MS)  # the machine is shared: a click waits for the page to be still
    log_in(page, "alice")
    expect_charts_drawn(page, ["rates", "decisions"])

    # The headline, in sentences from the figures
    expect(page.get_by_test_id("headline-activity")).to_contain_text("agents asked for 9 decisions")
    expect(page.get_by_test_id("headline-violations")).to_have_text(
        "44.4% of decisions were violations (4 denied or flagged)."
    )
    expect(page.get_by_test_id("headline-approvals")).to_contain_text(
        "1 request waits for a decision across the organisation: 1 for a Department supervisor; "
        "the oldest has waited 3 h 5 min."
    )
    # The backlog explains why the executive's own inbox is empty
    expect(page.get_by_test_id("backlog-waiting")).to_have_text("1")
    expect(page.get_by_test_id("backlog")).to_contain_text("None is addressed to you")
    # A definition one hover (or tap) away, and it is the button's accessible description
    button = page.get_by_test_id("define-violation_rate")
    tip = page.locator("#define-violation_rate")
    expect(tip).to_be_hidden()
    if width > 800:
        button.hover()
    else:
        button.click()  # a tap: the button takes focus, and the definition shows
    expect(tip).to_be_visible()
    expect(tip).to_contain_text("denied or flagged")
    expect(button).to_have_attribute("aria-describedby", "define-violation_rate")
    # Money in the organisation's currency, codes nowhere
    expect(page.get_by_test_id("tile-spend")).to_contain_text("$")
    expect(page.get_by_test_id("recent-decisions")).not_to_contain_text("require_approval")
    expect(page.get_by_test_id("recent-decisions")).to_contain_text("Needs approval")
    no_sideways_scroll(page)
    shoot(page, "overview-executive", width)

    # The violations tile leads to the explorer listing exactly the decisions it counts
    page.get_by_test_id("tile-link-violation_rate").click()
    rows = page.get_by_test_id("decision-rows").locator("tr[data-decision-id]")
    expect(rows).to_have_count(4)
    for verdict in rows.locator(".verdict").all_inner_texts():
        assert verdict in ("Deny", "Flag", "Denied", "Flagged")


def test_a_new_decision_arrives_live_in_business_words(
    page: Page, asgi_server, alice: User, finance_agent, busy_day
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.set_default_timeout(SLOW_MS)
    log_in(page, "alice")
    expect(page.get_by_test_id("tile-decisions")).to_have_text("9")
    expect_charts_drawn(page, ["rates", "decisions"])

    decide(finance_agent, "10")

    newest = page.get_by_test_id("recent-decisions").locator("tr").first
    expect(newest).to_contain_text("Allowed", timeout=LIVE_UPDATE_TIMEOUT_MS * 3)
    expect(newest).to_contain_text("$10.00")
    expect(page.get_by_test_id("tile-decisions")).to_have_text("10", timeout=LIVE_UPDATE_TIMEOUT_MS * 3)
    expect(page.get_by_test_id("headline")).to_be_visible()
    no_sideways_scroll(page)


@pytest.mark.parametrize(("width", "height"), WIDTHS)
def test_an_executive_follows_the_backlog_to_every_waiting_request_though_none_is_addressed_to_them(
    page: Page, asgi_server, alice: User, busy_day, width: int, height: int
) -> None:
    page.set_viewport_size({"width": width, "height": height})
    page.set_default_timeout(SLOW_MS)
    log_in(page, "alice")
    expect(page.get_by_test_id("backlog-waiting")).to_have_text("1")

    # The count of requests waiting for a supervisor opens the inbox listing exactly those
    page.get_by_test_id("backlog-role-link").first.click()
    expect(page.get_by_test_id("waiting-count")).to_have_text("1 waiting, 1–1 shown.")
    expect(page.get_by_test_id("inbox")).to_contain_text("Invoice Bot")
    no_sideways_scroll(page)

    # and "all of them" opens the inbox for any approver, with the overview's count
    page.go_back()
    page.get_by_test_id("backlog-all-link").click()
    expect(page).to_have_url(re.compile(r"/approvals/\?role=any$"))
    expect(page.get_by_test_id("waiting-count")).to_have_text("1 waiting, 1–1 shown.")
    shoot(page, "inbox-from-backlog", width)


@pytest.mark.parametrize(("width", "height"), WIDTHS)
def test_a_supervisor_sees_their_departments_backlog_and_their_own_share_of_it(
    page: Page, asgi_server, bob: User, busy_day, width: int, height: int
) -> None:
    page.set_viewport_size({"width": width, "height": height})
    page.set_default_timeout(SLOW_MS)
    log_in(page, "bob")
    expect_charts_drawn(page, ["rates", "decisions"])

    expect(page.get_by_test_id("headline-approvals")).to_contain_text("in your departments")
    expect(page.get_by_test_id("backlog-yours")).to_have_text("1")
    no_sideways_scroll(page)
    shoot(page, "overview-supervisor", width)
    page.get_by_test_id("backlog-inbox-link").click()
    expect(page.get_by_test_id("inbox")).to_contain_text("Invoice Bot")


@pytest.fixture
def routed_since_the_change(alice, finance):
    """A first routing strategy (nothing routed before it), and steps routed since to agents with long names."""
    Strategy.objects.create(cost=40, risk=30, customer_satisfaction=20, resilience=10, is_active=True, created_by=alice)
    names = [f"Accounts Payable Reconciliation Agent {n}" for n in range(1, 7)]
    agents = [AgentFactory(name=name, department=finance) for name in names]
    for i, agent in enumerate(agents):
        steps = run(*([agent] * (i + 1)))
        StepRun.objects.filter(pk__in=[s.pk for s in steps]).update(routed_at=timezone.now())
    return agents


@pytest.mark.parametrize(("width", "height"), WIDTHS)
def test_the_routing_shift_labels_do_not_overlap_and_an_empty_week_is_explained(
    page: Page, asgi_server, alice: User, routed_since_the_change, width: int, height: int
) -> None:
    page.set_viewport_size({"width": width, "height": height})
    page.set_default_timeout(SLOW_MS)
    log_in(page, "alice")
    page.goto("/strategy/")
    expect_charts_drawn(page, ["routing"])
    chart = page.get_by_test_id("chart-routing")

    expect(chart).to_contain_text("No bars for the week before the change")
    expect(chart.locator(".ytick text")).to_have_count(6)
    labels = (".ytick text", ".legendtext", ".annotation-text", ".gtitle")
    found = page.evaluate(OVERLAPS, [f"[data-testid=chart-routing] {part}" for part in labels])
    assert found["count"] >= 8 and found["clashes"] == []  # 6 names, the legend, the note (and the title)
    no_sideways_scroll(page)
    shoot(page, "strategy-routing", width)


@pytest.fixture
def many_collaborators(db):
    """Twenty-four agents in four departments, each delegating to the next and sharing runs with the one after."""
    departments = [DepartmentFactory(name=f"Operations Region {n}") for n in range(1, 5)]
    agents = [AgentFactory(name=f"Regional Fulfilment Agent {i:02d}", department=departments[i % 4]) for i in range(24)]
    for i, agent in enumerate(agents):
        (step,) = run(agent)
        run(agents[(i + 1) % 24], delegated_from=step)
        run(agent, agents[(i + 2) % 24])
    return agents


@pytest.mark.parametrize(("width", "height"), WIDTHS)
def test_the_interaction_graphs_names_do_not_overlap(
    page: Page, asgi_server, alice: User, many_collaborators: list[Agent], width: int, height: int
) -> None:
    page.set_viewport_size({"width": width, "height": height})
    page.set_default_timeout(SLOW_MS)
    log_in(page, "alice")
    page.goto("/interactions/?period=7d")
    expect_charts_drawn(page, ["interactions"])
    chart = page.get_by_test_id("chart-interactions")

    expect(chart.locator(".ytick text")).to_have_count(24 + 4, timeout=SLOW_MS)  # agents and department names
    found = page.evaluate(
        OVERLAPS, [f"[data-testid=chart-interactions] {part}" for part in (".ytick text", ".legendtext", ".gtitle")]
    )
    assert found["count"] >= 28 and found["clashes"] == []
    no_sideways_scroll(page)
    shoot(page, "interactions", width)
