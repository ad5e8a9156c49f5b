"""The agents' league table and one agent's figures, read from the rollups (never from the decision table).

Like dashboard.kpis, every function takes the viewer and a `Period`; buckets and the changes not folded
yet are read in one snapshot. An agent's decisions are counted in the department it acted for, so a
viewer sees only the work done in departments they may see.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django import forms
from django.db.models import F, Q, QuerySet

from dashboard.kpis.snapshot import as_utc, departments_in_scope, merge, rate, snapshot
from dashboard.kpis.violations import VIOLATION_VERDICTS
from dashboard.models import DecisionRollup, RollupChange
from dashboard.money import Amounts, in_other_currencies
from dashboard.periods import FilterForm, Period
from governance.models import Decision, Verdict
from orchestration.models import Agent, Status
from orchestration.scoping import scope_to_departments, visible_agents

HIGH_RISK_DEFINITION = "decisions with a risk score of 50 or more (high and critical bands)"
LEAGUE_MEASURES = (
    "decisions",
    "spend",
    "value",
    "csat_total",
    "csat_count",
    "risk_total",
    "risk_high",
    "risk_critical",
)
RECENT_DECISIONS = 20


def _sources(period: Period, agent_id: int | None = None) -> tuple[QuerySet, QuerySet]:
    """Folded decision buckets and waiting decision changes of the period (of one agent, when given)."""
    folded = DecisionRollup.objects.filter(grain=period.grain, start__gte=period.start, start__lt=period.end)
    waiting = RollupChange.objects.filter(
        policy__isnull=True, **{f"{period.grain}__gte": period.start, f"{period.grain}__lt": period.end}
    ).annotate(start=F(period.grain))
    if agent_id is not None:
        folded, waiting = folded.filter(agent_id=agent_id), waiting.filter(agent_id=agent_id)
    return folded, waiting


@dataclass(frozen=True)
class Figures:
    """What an agent did in a period; rates and averages are None when there is nothing to divide by.

    `spend` is in the organisation's currency; spend in other currencies is beside it, never added in.
    """

    decisions: int = 0
    violations: int = 0
    spend: Decimal = Decimal("0")
    spend_other_currencies: dict[str, Decimal] = field(default_factory=dict)
    value: Decimal = Decimal("0")
    csat_total: int = 0
    csat_count: int = 0
    risk_total: int = 0
    high_risk: int = 0

    @property
    def spend_also(self) -> str:
        return in_other_currencies(self.spend_other_currencies)

    @property
    def csat(self) -> float | None:
        return round(self.csat_total / self.csat_count, 2) if self.csat_count else None

    @property
    def violation_rate(self) -> float | None:
        return rate(self.violations, self.decisions)

    @property
    def average_risk(self) -> float | None:
        return round(self.risk_total / self.decisions, 1) if self.decisions else None

    @property
    def high_risk_rate(self) -> float | None:
        return rate(self.high_risk, self.decisions)


def _figures(rows: Iterable[tuple[str, str, dict]]) -> Figures:
    """Add up (verdict, currency, sums) rows into one agent's figures."""
    totals: dict[str, Decimal | int] = defaultdict(int)
    spend = []
    for verdict, currency, sums in rows:
        for name, amount in sums.items():
            totals[name] += amount
        spend.append((currency, sums["spend"]))
        if verdict in VIOLATION_VERDICTS:
            totals["violations"] += sums["decisions"]
    amounts = Amounts.of(spend)
    return Figures(
        decisions=totals["decisions"],
        violations=totals["violations"],
        spend=amounts.main,
        spend_other_currencies=amounts.other_currencies,
        value=Decimal(totals["value"]),
        csat_total=totals["csat_total"],
        csat_count=totals["csat_count"],
        risk_total=totals["risk_total"],
        high_risk=totals["risk_high"] + totals["risk_critical"],
    )


# --- the league -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeagueRow:
    agent: Agent
    figures: Figures

    @property
    def status(self) -> str:
        """The agent's own status, or its department's when that stops it."""
        if self.agent.status == Status.ACTIVE and self.agent.department.status != Status.ACTIVE:
            return f"{self.agent.department.get_status_display()} (department)"
        return self.agent.get_status_display()


# Sort key per column; None (no decisions, no CSAT) always sorts last.
SORT_KEYS = {
    "agent": lambda r: r.agent.name.casefold(),
    "department": lambda r: r.agent.department.name.casefold(),
    "status": lambda r: r.status,
    "decisions": lambda r: r.figures.decisions,
    "spend": lambda r: r.figures.spend,
    "value": lambda r: r.figures.value,
    "csat": lambda r: r.figures.csat,
    "violation_rate": lambda r: r.figures.violation_rate,
    "risk": lambda r: r.figures.average_risk,
    "high_risk": lambda r: r.figures.high_risk_rate,
}
DEFAULT_SORT = "-decisions"


class LeagueFilterForm(FilterForm):
    """The period and department filters, and the column to sort by: for the Agents page and the API."""

    sort = forms.ChoiceField(
        choices=[(f"{order}{key}", f"{order}{key}") for key in SORT_KEYS for order in ("", "-")],
        required=False,
        error_messages={"invalid_choice": "Sort by one of the table's columns, such as spend or -spend."},
    )


def sort_rows(rows: list[LeagueRow], sort: str) -> list[LeagueRow]:
    """`sort` is a column of SORT_KEYS, with a leading '-' for descending; ties go by agent name."""
    column = sort.lstrip("-")
    key = SORT_KEYS[column]
    by_name = sorted(rows, key=lambda r: (r.agent.name.casefold(), r.agent.pk))
    known = [r for r in by_name if key(r) is not None]
    unknown = [r for r in by_name if key(r) is None]
    return sorted(known, key=key, reverse=sort.startswith("-")) + unknown


def league(
    viewer, period: Period, departments: Iterable[int] | None = None, sort: str = DEFAULT_SORT
) -> list[LeagueRow]:
    """Every agent the viewer may see in the departments asked for, with its figures for the period."""
    scope = departments_in_scope(viewer, departments)
    with snapshot():
        sums = merge(_sources(period), scope, ("agent_id", "verdict", "currency"), LEAGUE_MEASURES)
        agents = visible_agents(viewer).select_related("department")
        if scope is not None:
            # An agent that moved keeps its work in its old department: it is listed wherever it worked.
            agents = agents.filter(Q(department_id__in=scope) | Q(pk__in={k[0] for k in sums}))
        listed = list(agents)
    per_agent: dict[int, list[tuple[str, str, dict]]] = defaultdict(list)
    for (agent_id, verdict, currency), values in sums.items():
        per_agent[agent_id].append((verdict, currency, values))
    rows = [LeagueRow(agent, _figures(per_agent.get(agent.pk, []))) for agent in listed]
    return sort_rows(rows, sort)


# --- one agent --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgentTrend:
    """Per bucket of the period: decisions by verdict, spend (the organisation's currency), value and risk."""

    buckets: list[dt.datetime]
    by_verdict: dict[str, list[int]]
    spend: list[float]
    value: list[float]
    average_risk: list[float | None]
    high_risk_rate: list[float | None]


def agent_figures(viewer, agent: Agent, period: Period) -> tuple[Figures, AgentTrend]:
    """The agent's figures for the whole period, and per hour or day of it."""
    scope = departments_in_scope(viewer)
    with snapshot():
        sums = merge(_sources(period, agent.pk), scope, ("start", "verdict", "currency"), LEAGUE_MEASURES)
    per_bucket: dict[dt.datetime, list[tuple[str, str, dict]]] = defaultdict(list)
    for (start, verdict, currency), values in sums.items():
        per_bucket[as_utc(start)].append((verdict, currency, values))
    buckets = period.buckets()
    figures = [_figures(per_bucket.get(b, [])) for b in buckets]
    counts = {v: [0] * len(buckets) for v in Verdict.values}
    for i, bucket in enumerate(buckets):
        for verdict, _, values in per_bucket.get(bucket, []):
            counts[verdict][i] += values["decisions"]
    trend = AgentTrend(
        buckets=buckets,
        by_verdict=counts,
        spend=[float(f.spend) for f in figures],
        value=[float(f.value) for f in figures],
        average_risk=[f.average_risk for f in figures],
        high_risk_rate=[f.high_risk_rate for f in figures],
    )
    return _figures(row for rows in per_bucket.values() for row in rows), trend


def recent_decisions(viewer, agent: Agent, limit: int = RECENT_DECISIONS) -> list[Decision]:
    """The agent's latest decisions the viewer may see (the (agent, created_at) index serves this)."""
    decisions = scope_to_departments(Decision.objects.filter(agent=agent).select_related("approval"), viewer)
    return list(decisions.order_by("-created_at", "-id")[:limit])
