"""The figures of the Departments pages: each department's status, agents, budget and this month's spend."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q

from governance.budgets import spent_this_month
from orchestration.models import Agent, Department, Status
from orchestration.scoping import visible_departments


@dataclass(frozen=True)
class BudgetUse:
    spent: Decimal
    limit: Decimal

    @property
    def share(self) -> float | None:
        """Percent of the monthly budget spent; None without a budget."""
        return round(float(100 * self.spent / self.limit), 1) if self.limit else None


@dataclass(frozen=True)
class DepartmentRow:
    department: Department
    agents: int
    agents_acting: int  # active agents, while the department itself is active
    budget: BudgetUse


def department_rows(user, now: dt.datetime) -> list[DepartmentRow]:
    """Every department the person may see, by name."""
    departments = visible_departments(user).annotate(
        agent_count=Count("agents", distinct=True),
        active_agents=Count("agents", filter=Q(agents__status=Status.ACTIVE), distinct=True),
    )
    return [
        DepartmentRow(
            department=d,
            agents=d.agent_count,
            agents_acting=d.active_agents if d.status == Status.ACTIVE else 0,
            budget=BudgetUse(spent_this_month(d, now), d.monthly_budget),
        )
        for d in departments.order_by("name")
    ]


@dataclass(frozen=True)
class AgentRow:
    agent: Agent
    budget: BudgetUse


def agent_rows(department: Department, now: dt.datetime) -> list[AgentRow]:
    """The department's agents with this month's spend against their budgets, by name."""
    agents = department.agents.select_related("provider").order_by("name")
    return [AgentRow(agent, BudgetUse(spent_this_month(agent, now), agent.monthly_budget)) for agent in agents]
