"""Who works with whom: delegations between agents and workflow runs they share, over a period.

Two grouped queries bounded by the period (workflow runs by `started_at`, which is indexed), counted
in the database; the graph holds at most MAX_EDGES edges of each kind, the heaviest first. A viewer
sees an edge only when both agents are theirs to see, and the department filter keeps the edges that
touch an agent of the departments asked for.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery

from dashboard.kpis.snapshot import departments_in_scope
from dashboard.periods import Period
from orchestration.models import Agent
from orchestration.scoping import visible_agents
from workflows.models import StepRun, WorkflowRun

DELEGATION, SHARED = "delegation", "shared"
MAX_EDGES = 60
DEPARTMENT_GAP = 1  # blank rows between two departments


@dataclass(frozen=True)
class Edge:
    kind: str  # DELEGATION: source handed work to target; SHARED: both worked steps of the same runs
    source: int
    target: int
    count: int  # delegated runs, or shared runs


@dataclass(frozen=True)
class Node:
    agent: Agent
    x: float
    y: float
    delegated: int  # runs this agent handed to others
    received: int  # runs others handed to it
    shared: int  # runs shared with the agents drawn


@dataclass(frozen=True)
class Graph:
    nodes: list[Node]
    edges: list[Edge]
    truncated: bool  # some lighter edges were left out


def _edges(rows: QuerySet, kind: str) -> tuple[list[Edge], bool]:
    """The heaviest MAX_EDGES edges (the query is ordered by count), and whether there were more."""
    edges = [Edge(kind, row["source"], row["target"], row["count"]) for row in rows[: MAX_EDGES + 1]]
    return edges[:MAX_EDGES], len(edges) > MAX_EDGES


def _touching(edges: QuerySet, wanted: QuerySet | None) -> QuerySet:
    return edges if wanted is None else edges.filter(Q(source__in=wanted) | Q(target__in=wanted))


def delegations(period: Period, allowed: QuerySet, wanted: QuerySet | None = None) -> QuerySet:
    """(source, target, count): runs started in the period that a step of `source` delegated to `target`."""
    # The delegating agent is looked up per delegated run (a subquery, by primary key): a join lets the
    # planner walk every step run ever made to match parent steps, whatever the period.
    delegating_agent = StepRun.objects.filter(pk=OuterRef("parent_step_id")).order_by().values("agent_id")
    runs = (
        WorkflowRun.objects.filter(started_at__gte=period.start, started_at__lt=period.end, parent_step__isnull=False)
        .annotate(source=Subquery(delegating_agent), target=F("steps__agent_id"))
        .filter(source__in=allowed, target__in=allowed)
        .exclude(source=F("target"))
    )
    return (
        _touching(runs, wanted)
        .values("source", "target")
        .annotate(count=Count("pk", distinct=True))
        .order_by("-count", "source", "target")
    )


def shared_runs(period: Period, allowed: QuerySet, wanted: QuerySet | None = None) -> QuerySet:
    """(source, target, count) with source < target: runs started in the period where both worked a step."""
    steps = (
        StepRun.objects.filter(run__started_at__gte=period.start, run__started_at__lt=period.end)
        .annotate(source=F("agent_id"), target=F("run__steps__agent_id"))
        .filter(source__in=allowed, target__in=allowed, source__lt=F("target"))
    )
    return (
        _touching(steps, wanted)
        .values("source", "target")
        .annotate(count=Count("run_id", distinct=True))
        .order_by("-count", "source", "target")
    )


def interaction_graph(viewer, period: Period, departments: Iterable[int] | None = None) -> Graph:
    """The agents that delegated to or worked with each other in the period, one per row by department."""
    scope = departments_in_scope(viewer, departments)
    allowed = visible_agents(viewer).values("pk")
    wanted = None if scope is None else Agent.objects.filter(department_id__in=scope).values("pk")
    delegated, cut_delegations = _edges(delegations(period, allowed, wanted), DELEGATION)
    shared, cut_shared = _edges(shared_runs(period, allowed, wanted), SHARED)
    edges = delegated + shared
    agents = Agent.objects.select_related("department").in_bulk({e.source for e in edges} | {e.target for e in edges})
    out, into, together = Counter(), Counter(), Counter()
    for edge in edges:
        if edge.kind == DELEGATION:
            out[edge.source] += edge.count
            into[edge.target] += edge.count
        else:
            together[edge.source] += edge.count
            together[edge.target] += edge.count
    placed = rows_by_department(list(agents.values()))
    nodes = [Node(agent, x, y, out[agent.pk], into[agent.pk], together[agent.pk]) for agent, x, y in placed]
    return Graph(nodes, edges, cut_delegations or cut_shared)


def rows_by_department(agents: list[Agent]) -> list[tuple[Agent, float, float]]:
    """Agents one per row, grouped by department (a blank row between groups), in name order: (agent, 0, -row).

    One name per row can never overlap another however many agents there are, and the same data always
    draws the same picture, so a person learns where to look.
    """
    ordered = sorted(agents, key=lambda a: (a.department.name, a.name, a.pk))
    placed, row, previous = [], 0, None
    for agent in ordered:
        if previous is not None and agent.department_id != previous:
            row += DEPARTMENT_GAP
        placed.append((agent, 0.0, float(-row)))
        row, previous = row + 1, agent.department_id
    return placed
