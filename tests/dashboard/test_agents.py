"""The agents' league table and agent page over HTTP: scope, sorting, periods, figures, and the controls.

alice is an Executive, bob supervises Finance, carol is a Policy Admin (pause and kill), dave an Auditor.
"""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db.models import Avg, Count, Q, Sum
from django.urls import reverse
from django.utils import timezone

from dashboard import league
from dashboard.kpis.violations import VIOLATION_DEFINITION
from dashboard.periods import period_for
from dashboard.rollups import fold_changes
from dashboard.views.agents import _decision_url as decision_url
from governance.models import Decision, Outcome, Verdict
from governance.outcomes import report_outcome
from orchestration.models import Agent, Status
from tests.factories import AgentFactory, DecisionFactory

pytestmark = pytest.mark.django_db

MAX_QUERIES = 25


def league_order(response) -> list[str]:
    return re.findall(r'data-testid="league-row" data-agent="(\d+)"', response.content.decode())


def agent_url(agent: Agent) -> str:
    return reverse("dashboard:agent", args=[agent.pk])


@pytest.fixture
def busy_day(finance_agent, support_agent):
    """Decisions and outcomes for both agents now, and older ones for Finance three days ago."""
    now, old = timezone.now(), timezone.now() - dt.timedelta(days=3)
    for verdict, risk, amount in (
        (Verdict.ALLOW, 10, "100"),
        (Verdict.ALLOW, 60, "50"),
        (Verdict.DENY, 80, "70"),
        (Verdict.FLAG, 40, "30"),
        (Verdict.REQUIRE_APPROVAL, 55, None),
    ):
        DecisionFactory(
            agent=finance_agent, verdict=verdict, risk_score=risk, amount=amount and Decimal(amount), currency="USD"
        )
    allowed = Decision.objects.filter(agent=finance_agent, verdict=Verdict.ALLOW).order_by("pk")
    report_outcome(allowed[0], "success", reported_by="agent:tests", value=Decimal("400"), csat=5)
    report_outcome(allowed[1], "failure", reported_by="agent:tests", value=Decimal("0"), csat=2)
    DecisionFactory.create_batch(2, agent=support_agent, verdict=Verdict.ALLOW, risk_score=5)
    DecisionFactory.create_batch(3, agent=finance_agent, verdict=Verdict.DENY, risk_score=90, created_at=old)
    fold_changes()
    DecisionFactory(agent=support_agent, verdict=Verdict.DENY, risk_score=30, created_at=now)  # still waiting
    return now


# --- the league -----------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["alice", "bob", "carol", "dave"])
def test_every_role_opens_the_league_and_the_graph(client, request, username, busy_day):
    client.force_login(request.getfixturevalue(username))

    for page in ("dashboard:agents", "dashboard:interactions"):
        assert client.get(reverse(page), {"period": "7d"}).status_code == 200


def test_a_person_without_a_role_is_refused_and_a_visitor_sent_to_log_in(client, erin, finance_agent):
    for page in (reverse("dashboard:agents"), reverse("dashboard:interactions"), agent_url(finance_agent)):
        assert client.get(page).status_code == 302
    client.force_login(erin)
    for page in (reverse("dashboard:agents"), reverse("dashboard:interactions"), agent_url(finance_agent)):
        assert client.get(page).status_code == 403


def test_the_league_figures_equal_what_the_database_holds(busy_day, alice, finance_agent, support_agent):
    # Given the day's decisions (some folded, one waiting) and the 24 hours up to now
    period = period_for("24h", timezone.now())

    # When the league is read
    rows = {row.agent.pk: row.figures for row in league.league(alice, period)}

    # Then each agent's figures are the ORM's aggregates over the same decisions and outcomes
    for agent in (finance_agent, support_agent):
        decisions = Decision.objects.filter(agent=agent, created_at__gte=period.start, created_at__lt=period.end)
        facts = decisions.aggregate(
            n=Count("pk"),
            violations=Count("pk", filter=Q(verdict__in=["deny", "flag"])),
            risk=Avg("risk_score"),
            high=Count("pk", filter=Q(risk_score__gte=50)),
            allowed=Sum("amount", filter=Q(verdict__in=["allow", "flag"], currency="USD")),
            failed=Sum("amount", filter=Q(verdict__in=["allow", "flag"], currency="USD", outcome__result="failure")),
            euros=Sum("amount", filter=Q(verdict__in=["allow", "flag"], currency="EUR")),
        )
        outcomes = Outcome.objects.filter(decision__in=decisions).aggregate(value=Sum("value"), csat=Avg("csat"))
        figures = rows[agent.pk]
        assert figures.decisions == facts["n"]
        assert figures.violation_rate == round(100 * facts["violations"] / facts["n"], 1)
        assert figures.average_risk == round(facts["risk"], 1)
        assert figures.high_risk_rate == round(100 * facts["high"] / facts["n"], 1)
        assert figures.spend == (facts["allowed"] or 0) - (facts["failed"] or 0)  # the organisation's currency
        assert figures.spend_other_currencies == ({"EUR": facts["euros"]} if facts["euros"] else {})
        assert figures.value == (outcomes["value"] or 0)
        assert figures.csat == (round(outcomes["csat"], 2) if outcomes["csat"] is not None else None)
    assert rows[finance_agent.pk].csat == 3.5


def test_the_league_page_shows_the_figures_and_the_violation_rate_definition(client, busy_day, alice, finance_agent):
    client.force_login(alice)

    html = client.get(reverse("dashboard:agents"), {"period": "24h"}).content.decode()

    assert VIOLATION_DEFINITION in html.lower()
    finance_row = html[html.index(f'data-agent="{finance_agent.pk}"') :].split("</tr>")[0]
    cells = re.findall(r'<td class="num"[^>]*>([^<]*)</td>', finance_row)
    # decisions, spend (100 + 50 + 30 flagged, 50 given back on failure), value, CSAT, violation rate, risk, high risk
    assert cells == ["5", "$130.00", "$400.00", "3.5", "40.0%", "49.0", "60.0%"]


def test_the_period_filter_changes_the_league(client, busy_day, alice, finance_agent):
    client.force_login(alice)

    day = league_figure(client, finance_agent, "24h")
    week = league_figure(client, finance_agent, "7d")

    assert (day, week) == ("5", "8")


def league_figure(client, agent: Agent, period: str) -> str:
    html = client.get(reverse("dashboard:agents"), {"period": period}).content.decode()
    row = html[html.index(f'data-agent="{agent.pk}"') :].split("</tr>")[0]
    return re.findall(r'<td class="num">([^<]*)</td>', row)[0]


def test_the_league_sorts_by_any_column_in_both_directions(client, busy_day, alice, finance_agent, support_agent):
    client.force_login(alice)
    quiet = AgentFactory(name="Aardvark Bot", department=finance_agent.department)

    by_volume = league_order(client.get(reverse("dashboard:agents"), {"sort": "-decisions"}))
    by_name = league_order(client.get(reverse("dashboard:agents"), {"sort": "agent"}))
    by_risk = league_order(client.get(reverse("dashboard:agents"), {"sort": "risk"}))
    by_risk_desc = league_order(client.get(reverse("dashboard:agents"), {"sort": "-risk"}))

    finance, support, none = str(finance_agent.pk), str(support_agent.pk), str(quiet.pk)
    assert by_volume == [finance, support, none]
    assert by_name == [none, finance, support]  # Aardvark, Invoice Bot, Reply Bot
    assert by_risk == [support, finance, none]  # an agent with no decisions has no risk: always last
    assert by_risk_desc == [finance, support, none]


def test_the_sorted_column_says_so_and_its_link_reverses_the_order(client, alice, finance_agent):
    client.force_login(alice)

    html = client.get(reverse("dashboard:agents"), {"period": "7d", "sort": "-spend"}).content.decode()

    spend = re.search(r'<th scope="col" aria-sort="(\w+)" class="num"><a href="([^"]+)"[^>]*>Spend', html)
    assert spend.group(1) == "descending"
    assert spend.group(2) == "?period=7d&amp;sort=spend"
    assert html.count('aria-sort="none"') == len(league.SORT_KEYS) - 1


@pytest.mark.parametrize(("username", "shown"), [("carol", True), ("bob", False), ("alice", False)])
def test_only_people_who_edit_agents_get_the_admin_links(client, request, username, shown, finance_agent):
    client.force_login(request.getfixturevalue(username))

    league_html = client.get(reverse("dashboard:agents")).content.decode()
    agent_html = client.get(agent_url(finance_agent)).content.decode()

    assert (reverse("admin:orchestration_agent_changelist") in league_html) == shown
    assert (reverse("admin:orchestration_agent_change", args=[finance_agent.pk]) in agent_html) == shown


def test_an_unknown_sort_is_a_400_that_says_what_to_do(client, alice):
    client.force_login(alice)

    response = client.get(reverse("dashboard:agents"), {"sort": "salary"})

    assert response.status_code == 400
    assert "Sort by one of the table&#x27;s columns" in response.content.decode()


def test_a_supervisor_sees_only_the_agents_of_their_departments(client, busy_day, bob, finance_agent, support_agent):
    client.force_login(bob)

    order = league_order(client.get(reverse("dashboard:agents"), {"period": "7d"}))
    asked_for_support = client.get(reverse("dashboard:agents"), {"department": support_agent.department_id})

    assert order == [str(finance_agent.pk)]
    assert asked_for_support.status_code == 400  # not a department bob may choose


def test_the_department_filter_narrows_the_league(client, busy_day, alice, finance_agent, support_agent):
    client.force_login(alice)

    order = league_order(client.get(reverse("dashboard:agents"), {"department": support_agent.department_id}))

    assert order == [str(support_agent.pk)]


def test_the_league_costs_the_same_queries_with_more_agents_and_decisions(
    client, alice, finance, django_assert_max_num_queries
):
    for _ in range(8):
        DecisionFactory.create_batch(3, agent=AgentFactory(department=finance))
    client.force_login(alice)

    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(reverse("dashboard:agents"), {"period": "30d"})

    assert response.status_code == 200
    assert len(league_order(response)) == 8


# --- one agent ------------------------------------------------------------------------------------


def test_the_agent_page_shows_its_charts_budget_policies_and_latest_decisions(
    client, busy_day, alice, finance_agent, decide, make_policy
):
    make_policy(name="Flag invoices", effect="flag")
    decide(finance_agent, amount=25, now=timezone.now())
    Agent.objects.filter(pk=finance_agent.pk).update(
        month_spent=Decimal("2500"), spend_month=timezone.now().date().replace(day=1)
    )
    client.force_login(alice)

    response = client.get(agent_url(finance_agent), {"period": "7d"})

    html = response.content.decode()
    for key in ("agent-decisions", "agent-money", "agent-risk", "policies"):
        assert f'id="chart-data-{key}"' in html
    assert "<strong>$2,500.00</strong> of $10,000.00 spent (25.0%)" in html  # ORG_CURRENCY, USD by default
    assert "Flag invoices" in html
    latest = Decision.objects.filter(agent=finance_agent).order_by("-created_at", "-id")[:20]
    assert all(f'<a href="{decision_url(d.pk)}">' in html for d in latest)


def test_the_agent_page_costs_the_same_queries_with_more_decisions(
    client, alice, finance_agent, django_assert_max_num_queries
):
    DecisionFactory.create_batch(40, agent=finance_agent)
    client.force_login(alice)

    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(agent_url(finance_agent), {"period": "30d"})

    assert response.status_code == 200


def test_an_agent_with_no_policy_hits_says_so_instead_of_an_empty_chart(client, alice, finance_agent):
    DecisionFactory(agent=finance_agent)
    client.force_login(alice)

    html = client.get(agent_url(finance_agent)).content.decode()

    assert 'data-testid="no-policy-hits"' in html
    assert 'id="chart-data-policies"' not in html


def test_an_agent_outside_the_supervisors_departments_is_not_found(client, bob, support_agent):
    client.force_login(bob)

    assert client.get(agent_url(support_agent)).status_code == 404
    assert (
        client.post(reverse("dashboard:agent-status", args=[support_agent.pk]), {"status": "paused"}).status_code == 404
    )
    assert Agent.objects.get(pk=support_agent.pk).status == Status.ACTIVE


def test_an_agents_name_is_escaped_everywhere(client, alice, finance):
    evil = AgentFactory(name="<script>alert(1)</script>", department=finance)
    DecisionFactory(agent=evil)
    client.force_login(alice)

    for page in (reverse("dashboard:agents"), agent_url(evil)):
        html = client.get(page).content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
