"""The interaction graph: its edges are the delegation links and shared runs the database holds, scoped."""

import datetime as dt
import json
import re
from collections import Counter
from itertools import combinations

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard.interactions import DELEGATION, SHARED, interaction_graph, rows_by_department
from dashboard.periods import period_for
from orchestration.models import Agent
from tests.factories import AgentFactory
from tests.support.workflows import run
from workflows.models import WorkflowRun

pytestmark = pytest.mark.django_db


def delegation_links_in_db(since: dt.datetime) -> Counter:
    """The slow way: each delegated run's parent step agent → the agents working the run's steps."""
    links = Counter()
    for child in WorkflowRun.objects.filter(parent_step__isnull=False, started_at__gte=since):
        for agent_id in {s.agent_id for s in child.steps.all()}:
            links[(child.parent_step.agent_id, agent_id)] += 1
    return links


def shared_runs_in_db(since: dt.datetime) -> Counter:
    pairs = Counter()
    for started in WorkflowRun.objects.filter(started_at__gte=since):
        agents = sorted({s.agent_id for s in started.steps.all()})
        pairs.update(combinations(agents, 2))
    return pairs


def edges(graph, kind: str) -> Counter:
    return Counter({(e.source, e.target): e.count for e in graph.edges if e.kind == kind})


def test_the_graphs_edges_are_the_delegation_links_and_shared_runs_in_the_database(team, alice):
    week = period_for("7d", timezone.now())

    graph = interaction_graph(alice, week)

    assert edges(graph, DELEGATION) == delegation_links_in_db(week.start)
    assert edges(graph, SHARED) == shared_runs_in_db(week.start)
    assert sum(edges(graph, DELEGATION).values()) == 3  # the delegation ten days ago is outside the week


def test_the_period_decides_which_runs_count(team, alice, finance_agent, support_agent):
    graph = interaction_graph(alice, period_for("30d", timezone.now()))

    assert edges(graph, DELEGATION)[(support_agent.pk, finance_agent.pk)] == 1


def test_a_supervisor_sees_only_links_between_agents_of_their_departments(team, bob, finance_agent):
    graph = interaction_graph(bob, period_for("7d", timezone.now()))

    assert {n.agent.name for n in graph.nodes} == {"Invoice Bot", "Ledger Clerk"}
    assert edges(graph, DELEGATION) == Counter({(finance_agent.pk, team.pk): 2})


def test_the_department_filter_keeps_the_links_that_touch_its_agents(team, alice, finance_agent, support_agent):
    graph = interaction_graph(alice, period_for("7d", timezone.now()), [support_agent.department_id])

    assert edges(graph, DELEGATION) == Counter({(finance_agent.pk, support_agent.pk): 1})
    assert {frozenset(pair) for pair in edges(graph, SHARED)} == {
        frozenset((finance_agent.pk, support_agent.pk)),
        frozenset((team.pk, support_agent.pk)),
    }


def test_only_the_heaviest_links_are_drawn_and_the_page_says_so(client, alice, finance, monkeypatch):
    monkeypatch.setattr("dashboard.interactions.MAX_EDGES", 2)
    monkeypatch.setattr("dashboard.views.graph.MAX_EDGES", 2)
    boss, *helpers = (AgentFactory(department=finance) for _ in range(4))
    (step,) = run(boss)
    for times, helper in enumerate(helpers, start=1):
        for _ in range(times):
            run(helper, delegated_from=step)
    client.force_login(alice)

    graph = interaction_graph(alice, period_for("7d", timezone.now()))
    html = client.get(reverse("dashboard:interactions"), {"period": "7d"}).content.decode()

    assert graph.truncated
    assert edges(graph, DELEGATION) == Counter({(boss.pk, helpers[2].pk): 3, (boss.pk, helpers[1].pk): 2})
    assert 'data-testid="truncated"' in html and "only the 2 heaviest delegation links" in html


def test_agents_sit_one_per_row_grouped_by_department_in_a_fixed_order(finance, support):
    agents = [AgentFactory(name=name, department=d) for name, d in (("b", finance), ("a", support), ("a", finance))]

    placed = rows_by_department(agents)

    assert [(a.department.name, a.name) for a, _, _ in placed] == [
        ("Customer Support", "a"),
        ("Finance", "a"),
        ("Finance", "b"),
    ]
    # one row each, a blank row (for the department's name) between the two departments
    assert [(x, y) for _, x, y in placed] == [(0.0, 0.0), (0.0, -2.0), (0.0, -3.0)]
    assert placed == rows_by_department(list(reversed(agents)))


def test_the_page_draws_the_graph_with_links_to_each_agent_and_escaped_names(client, team, alice, finance):
    evil = AgentFactory(name="<script>alert(1)</script>", department=finance)
    (step,) = run(evil)
    run(team, delegated_from=step)
    client.force_login(alice)

    response = client.get(reverse("dashboard:interactions"), {"period": "7d"})

    html = response.content.decode()
    data = re.search(r'id="chart-data-interactions" type="application/json">(.*?)</script>', html).group(1)
    figure = json.loads(data)
    urls = {url for trace in figure["data"] for url in trace.get("customdata") or []}
    assert urls == {reverse("dashboard:agent", args=[a.pk]) for a in Agent.objects.all()}
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # in the table
    assert "&lt;script&gt;" in json.dumps(figure["layout"]["yaxis"]["ticktext"])  # the names on the axis, for Plotly


def test_the_graph_page_costs_the_same_queries_with_more_runs(
    client, team, alice, finance_agent, django_assert_max_num_queries
):
    for _ in range(10):
        (step,) = run(finance_agent)
        run(team, delegated_from=step)
    client.force_login(alice)

    with django_assert_max_num_queries(12):
        response = client.get(reverse("dashboard:interactions"), {"period": "7d"})

    assert response.status_code == 200
