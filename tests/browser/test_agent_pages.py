"""The agents' pages in Chromium: the league sorts, the agent page draws its charts and a Supervisor pauses
the agent from it, and the interaction graph opens an agent's page when its node is clicked.

The `page` fixture fails a test on any console error or uncaught exception.
"""

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from audit.models import AuditEvent
from governance.models import Verdict
from orchestration.models import Agent, Status
from tests.factories import AgentFactory, DecisionFactory, PolicyFactory
from tests.support.audit import wait_until_sequenced
from tests.support.browser import SLOW_MS, expect_charts_drawn, log_in
from tests.support.workflows import run

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def patient(page: Page) -> None:
    page.set_default_timeout(SLOW_MS)
    page.set_default_navigation_timeout(SLOW_MS)


def league_names(page: Page) -> list[str]:
    return page.get_by_test_id("league-row").locator("th").all_inner_texts()


def test_the_league_renders_and_sorting_by_a_column_changes_the_order(
    page: Page, asgi_server, alice: User, finance_agent, support_agent, screenshots: Path
) -> None:
    DecisionFactory.create_batch(3, agent=finance_agent, risk_score=10)
    DecisionFactory(agent=support_agent, risk_score=80, verdict=Verdict.DENY)
    AgentFactory(name="<script>alert(1)</script>", department=finance_agent.department)
    log_in(page, "alice")

    page.goto("/agents/?period=7d")
    expect(page.get_by_test_id("league-row")).to_have_count(3)
    assert league_names(page) == ["Invoice Bot", "Reply Bot", "<script>alert(1)</script>"]  # most decisions first
    page.screenshot(path=screenshots / "agents.png", full_page=True)

    page.get_by_role("link", name="Average risk").click()
    expect(page).to_have_url(f"{asgi_server.url}/agents/?period=7d&sort=-risk")
    expect(page.get_by_role("columnheader", name="Average risk")).to_have_attribute("aria-sort", "descending")
    assert league_names(page) == ["Reply Bot", "Invoice Bot", "<script>alert(1)</script>"]

    page.get_by_role("link", name="Average risk").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{asgi_server.url}/agents/?period=7d&sort=risk")
    assert league_names(page)[:2] == ["Invoice Bot", "Reply Bot"]


def test_a_supervisor_sees_the_agents_charts_and_pauses_it_from_its_page(
    page: Page, asgi_server, bob: User, finance_agent, screenshots: Path
) -> None:
    policy = PolicyFactory(name="Flag large invoices", effect="flag")
    for verdict in (Verdict.ALLOW, Verdict.ALLOW, Verdict.DENY, Verdict.FLAG, Verdict.REQUIRE_APPROVAL):
        hits = [] if verdict == Verdict.ALLOW else [{"id": policy.pk, "name": policy.name, "mode": "enforce"}]
        DecisionFactory(agent=finance_agent, verdict=verdict, risk_score=35 if hits else 10, matched_policies=hits)
    log_in(page, "bob")

    page.goto(f"/agents/{finance_agent.pk}/?period=7d")
    expect_charts_drawn(page, ["agent-decisions", "agent-money", "agent-risk", "policies"])
    expect(page.get_by_test_id("agent-decisions")).to_have_text("5")
    page.screenshot(path=screenshots / "agent.png", full_page=True)

    page.get_by_role("button", name="Pause…").click()
    page.get_by_role("dialog").get_by_label("Reason").fill("Duplicate invoices")
    page.get_by_role("button", name="Pause Invoice Bot").click()

    expect(page.get_by_test_id("agent-status")).to_have_text("Paused")
    expect(page.get_by_text("Invoice Bot is now paused.")).to_be_visible()
    expect(page.get_by_role("button", name="Resume…")).to_be_visible()
    assert Agent.objects.get(pk=finance_agent.pk).status == Status.PAUSED
    wait_until_sequenced()
    event = AuditEvent.objects.get(kind="agent.status_changed", subject_id=str(finance_agent.pk))
    assert (event.actor, event.after) == (bob, {"status": "paused", "reason": "Duplicate invoices"})


def test_the_graph_renders_and_clicking_an_agent_opens_its_page(
    page: Page, asgi_server, alice: User, finance_agent, support_agent, screenshots: Path
) -> None:
    clerk = AgentFactory(name="Ledger Clerk", department=finance_agent.department)
    (step,) = run(finance_agent)
    run(clerk, delegated_from=step)
    run(support_agent, delegated_from=step)
    run(finance_agent, clerk, support_agent)
    log_in(page, "alice")

    page.goto("/interactions/?period=7d")
    graph = page.get_by_test_id("chart-interactions")
    expect_charts_drawn(page, ["interactions"])
    nodes = graph.locator(".scatterlayer .trace .points path")
    expect(nodes.first).to_be_attached()
    page.screenshot(path=screenshots / "interactions.png", full_page=True)

    # names are on the axis; the node traces follow the arcs, counts, and go by department: Customer Support first
    expect(graph.locator(".ytick text", has_text="Reply Bot")).to_be_visible()
    node = graph.locator(".scatterlayer .trace").nth(3).locator(".points path").first
    box = node.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    expect(page).to_have_url(f"{asgi_server.url}/agents/{support_agent.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Reply Bot")


def test_the_graph_can_be_walked_agent_by_agent_with_the_keyboard(
    page: Page, asgi_server, alice: User, finance_agent, support_agent
) -> None:
    (step,) = run(finance_agent)
    run(support_agent, delegated_from=step)
    log_in(page, "alice")
    page.goto("/interactions/?period=7d")
    graph = page.get_by_test_id("chart-interactions")
    expect_charts_drawn(page, ["interactions"])

    graph.focus()
    page.keyboard.press("ArrowRight")  # agents go by department: Customer Support's Reply Bot first
    expect(graph.locator(".hoverlayer .hovertext")).to_contain_text("Reply Bot")
    page.keyboard.press("ArrowRight")
    expect(graph.locator(".hoverlayer .hovertext")).to_contain_text("Invoice Bot")
    page.keyboard.press("Enter")

    expect(page).to_have_url(f"{asgi_server.url}/agents/{finance_agent.pk}/")
