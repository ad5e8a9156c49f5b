"""The agents' league table and one agent's page, with its leaders' controls (dashboard.views.controls)."""

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone

from audit.chain import last_event_id
from dashboard import charts, league
from dashboard.controls import REASON_REQUIRED, controls_for
from dashboard.kpis.risk import policy_hits
from dashboard.kpis.violations import VIOLATION_DEFINITION
from dashboard.periods import FilterForm
from dashboard.views.access import executive_page
from governance.budgets import spent_this_month
from orchestration.kill_switch import status_history
from orchestration.models import Agent
from orchestration.scoping import visible_agents
from traces.usage import model_usage

COLUMNS = [  # (sort key, header, numeric: sorts largest first on the first click)
    ("agent", "Agent", False),
    ("department", "Department", False),
    ("status", "Status", False),
    ("decisions", "Decisions", True),
    ("spend", "Spend", True),
    ("value", "Value", True),
    ("csat", "CSAT (1–5)", True),
    ("violation_rate", "Violation rate", True),
    ("risk", "Average risk", True),
    ("high_risk", "High risk", True),
]


@dataclass(frozen=True)
class Header:
    label: str
    url: str
    aria_sort: str  # ascending, descending or none
    numeric: bool


def _headers(query: str, sort: str) -> list[Header]:
    """Each column's header links to the table sorted by it; a second click reverses the order."""
    current, descending = sort.lstrip("-"), sort.startswith("-")
    headers = []
    for key, label, numeric in COLUMNS:
        if key == current:
            aria, wanted = ("descending", key) if descending else ("ascending", f"-{key}")
        else:
            aria, wanted = "none", f"-{key}" if numeric else key
        headers.append(Header(label, f"?{query}&sort={wanted}" if query else f"?sort={wanted}", aria, numeric))
    return headers


@executive_page(form=league.LeagueFilterForm)
def agent_league(request: HttpRequest, filters: league.LeagueFilterForm) -> HttpResponse:
    sort = filters.cleaned_data.get("sort") or league.DEFAULT_SORT
    period, query = filters.get_period(), filters.query_string()
    context = {
        "filters": filters,
        "period": period,
        "rows": league.league(request.user, period, filters.department_ids(), sort),
        "headers": _headers(query, sort),
        "query": query,
        "violation_definition": VIOLATION_DEFINITION,
        "high_risk_definition": league.HIGH_RISK_DEFINITION,
        "currency": settings.ORG_CURRENCY,
    }
    return render(request, "dashboard/agents.html", context)


def _decision_url(pk: int) -> str:
    return reverse("dashboard:decision", args=[pk])


def _agent_decisions_url(agent: Agent) -> str:
    return f"{reverse('dashboard:decisions')}?agent={agent.pk}"


@executive_page
def agent_page(request: HttpRequest, filters: FilterForm, agent_id: int) -> HttpResponse:
    stream_start = last_event_id()  # read before the page: live status changes resume from here
    agent = get_object_or_404(visible_agents(request.user).select_related("department", "provider"), pk=agent_id)
    period = filters.get_period()
    figures, trend = league.agent_figures(request.user, agent, period)
    spent, budget = spent_this_month(agent, timezone.now()), agent.monthly_budget
    context = {
        "filters": filters,
        "period": period,
        "agent": agent,
        "figures": figures,
        "charts": [
            charts.agent_decisions_chart(trend, period),
            charts.agent_money_chart(trend, period, figures.spend_also),
            charts.agent_risk_chart(trend, period),
        ],
        "policy_chart": charts.policy_chart(policy_hits(request.user, period, agent_id=agent.pk)),
        "budget": {"spent": spent, "limit": budget, "share": round(100 * spent / budget, 1) if budget else None},
        "model_usage": model_usage(agent.pk, period.start, period.end),
        "currency": settings.ORG_CURRENCY,
        "recent": [(d, _decision_url(d.pk)) for d in league.recent_decisions(request.user, agent)],
        "decisions_url": _agent_decisions_url(agent),
        "controls": controls_for(request.user, agent),
        "holder": agent,
        "status_url": reverse("dashboard:agent-status", args=[agent.pk]),
        "reason_required": REASON_REQUIRED,
        "history": status_history(agent),
        "stream": {"start": stream_start, "department": agent.department_id},
        "violation_definition": VIOLATION_DEFINITION,
    }
    return render(request, "dashboard/agent.html", context)
